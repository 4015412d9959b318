"""Event Grid trigger through the real ``funchost start``: the local webhook as Event Grid
calls it, the events as the function sees them, and the log lines."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import StartHost
from http_helpers import UUID, Host, Reply, call, get, lines_since, mark, serving

MASTER = "eventgrid-master-key"
# .NET's {0:o} of DateTime.Now, as the extension's GetTriggerReason prints it.
REASON = r"EventGrid trigger fired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d"


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    with serving("eventgrid_basic") as running:
        yield running


def webhook(
    host: Host,
    body: Any,
    event_type: str | None = "Notification",
    function: str = "eg_record",
    query: str = "",
) -> Reply:
    """POST to the function's webhook as Event Grid does (JSON unless ``body`` is bytes)."""
    headers = {"Content-Type": "application/json"}
    if event_type is not None:
        headers["aeg-event-type"] = event_type
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/runtime/webhooks/EventGrid?functionName={function}{query}"
    return call(host, "POST", path, body=raw, headers=headers)


def grid_event(event_id: str, data: Any, **extra: Any) -> dict[str, Any]:
    """An event in the Event Grid schema."""
    return {
        "id": event_id,
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "subject": f"/blobServices/default/containers/c/blobs/{event_id}.txt",
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": "2024-03-04T05:06:07.123Z",
        "data": data,
        "dataVersion": "2.0",
        "metadataVersion": "1",
        **extra,
    }


def cloud_event(event_id: str, data: Any) -> dict[str, Any]:
    """An event in the CloudEvents 1.0 schema."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/orders",
        "type": "Contoso.Order.Created",
        "time": "2024-03-04T05:06:07Z",
        "datacontenttype": "application/json",
        "data": data,
    }


def executed(host: Host, since: int, count: int, function: str = "eg_record") -> list[str]:
    """Wait for ``count`` Executed lines of ``function`` after ``since``; all new lines."""
    pattern = re.compile(rf"Executed 'Functions\.{function}'")
    deadline = time.monotonic() + 10
    while True:
        new = lines_since(host, since, pattern.pattern)
        if sum(bool(pattern.search(line)) for line in new) >= count:
            return new
        assert time.monotonic() < deadline, "\n".join(new)
        time.sleep(0.05)


def seen_events(lines: list[str]) -> dict[str, dict[str, Any]]:
    """What eg_record logged of each event, by id."""
    found = (re.search(r"EVENT (\{.*\})$", line) for line in lines)
    docs = [json.loads(m.group(1)) for m in found if m]
    return {doc["id"]: doc for doc in docs}


def no_invocation(host: Host, since: int) -> None:
    host.drain(0.3)
    new = host.lines[since:]
    assert not [line for line in new if "Executing 'Functions." in line], new


# --- report --------------------------------------------------------------------------


def test_startup_report_shows_the_webhook_url(host: Host) -> None:
    base = f"http://localhost:{host.port}"
    url = f"{base}/runtime/webhooks/EventGrid?functionName=eg_record"
    assert f"\teg_record: eventGridTrigger: {url}" in host.lines
    assert get(host, "/api/ping").text == "pong"
    # Its lines are read before the next test marks its place (the host is shared): on a
    # busy machine they could otherwise arrive after the mark and be taken for the next's.
    host.wait_for("Executed 'Functions.ping'")


# --- subscription validation ---------------------------------------------------------


def test_validation_handshake_echoes_the_code_without_invoking(host: Host) -> None:
    since = mark(host)
    validation = grid_event(
        "v1",
        {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", "validationUrl": "https://x"},
        eventType="Microsoft.EventGrid.SubscriptionValidationEvent",
    )
    reply = webhook(host, [validation], event_type="SubscriptionValidation")
    assert reply.status == 200
    assert reply.text == '{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}'
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    lines_since(host, since, "perform handshake with eventGrid for function: eg_record")
    no_invocation(host, since)


def test_cloud_event_validation_with_json_text_data(host: Host) -> None:
    # A CloudEvent's validation data arrives double-encoded: JSON text inside "data".
    event = cloud_event("v2", json.dumps({"validationCode": "ce-code"}))
    reply = webhook(host, event, event_type="subscriptionvalidation")
    assert (reply.status, reply.json()) == (200, {"validationResponse": "ce-code"})


# --- notifications -------------------------------------------------------------------


def test_each_event_of_a_batch_invokes_once_with_every_field(host: Host) -> None:
    since = mark(host)
    batch = [grid_event("a1", {"url": "https://a/1"}), grid_event("a2", ["x", 2])]
    reply = webhook(host, batch)
    assert (reply.status, reply.body) == (202, b"")
    new = executed(host, since, 2)
    seen = seen_events(new)
    assert set(seen) == {"a1", "a2"}
    assert seen["a1"] == {
        "class": "EventGridEvent",
        "id": "a1",
        "topic": batch[0]["topic"],
        "subject": "/blobServices/default/containers/c/blobs/a1.txt",
        "event_type": "Microsoft.Storage.BlobCreated",
        "event_time": "2024-03-04T05:06:07.123000+00:00",
        "data_version": "2.0",
        "data": {"url": "https://a/1"},
    }
    assert seen["a2"]["data"] == ["x", 2]


def test_executing_line_has_the_event_grid_reason(host: Host) -> None:
    since = mark(host)
    assert webhook(host, [grid_event("r1", {})]).status == 202
    new = executed(host, since, 1)
    executing = [line for line in new if "Executing 'Functions.eg_record'" in line]
    assert len(executing) == 1
    assert re.search(rf"\(Reason='{REASON}', Id={UUID}\)$", executing[0]), executing[0]
    assert any(re.search(rf"Executed 'Functions.eg_record' \(Succeeded, Id={UUID}", x) for x in new)


def test_cloud_event_single_object_and_array(host: Host) -> None:
    since = mark(host)
    assert webhook(host, cloud_event("c1", {"order": 7})).status == 202
    assert webhook(host, [cloud_event("c2", "text"), cloud_event("c3", None)]).status == 202
    seen = seen_events(executed(host, since, 3))
    assert seen["c1"] == {
        "class": "CloudEvent",
        "id": "c1",
        "source": "/orders",
        "type": "Contoso.Order.Created",
        "specversion": "1.0",
        "time": "2024-03-04T05:06:07+00:00",
        "data": {"order": 7},
    }
    assert seen["c2"]["data"] == "text"
    assert seen["c3"]["data"] is None


def test_a_failing_event_makes_the_request_500_after_all_ran(host: Host) -> None:
    since = mark(host)
    reply = webhook(host, [grid_event("ok1", {}), grid_event("bad1", {"fail": True})])
    assert reply.status == 500
    assert reply.text == "Exception while executing function: Functions.eg_record"
    new = executed(host, since, 2)
    assert set(seen_events(new)) == {"ok1", "bad1"}
    text = "\n".join(new)
    assert "Executed 'Functions.eg_record' (Failed" in text
    assert "Executed 'Functions.eg_record' (Succeeded" in text
    assert "RuntimeError: asked to fail: bad1" in text


def test_a_batch_larger_than_the_concurrency_bound_runs_every_event(host: Host) -> None:
    since = mark(host)
    batch = [grid_event(f"n{i}", {"i": i}) for i in range(40)]
    assert webhook(host, batch).status == 202
    assert set(seen_events(executed(host, since, 40))) == {f"n{i}" for i in range(40)}


def test_async_function_with_context(host: Host) -> None:
    since = mark(host)
    assert webhook(host, [grid_event("as1", {})], function="eg_async").status == 202
    new = executed(host, since, 1, function="eg_async")
    executing = next(line for line in new if "Executing 'Functions.eg_async'" in line)
    invocation = re.search(rf"Id=({UUID})\)", executing)
    assert invocation is not None
    assert any(line.endswith(f"ASYNC as1 {invocation.group(1)}") for line in new), new


def test_function_name_and_header_value_match_case_insensitively(host: Host) -> None:
    since = mark(host)
    reply = webhook(host, [grid_event("ci1", {})], event_type="notification", function="EG_Record")
    assert reply.status == 202
    assert "ci1" in seen_events(executed(host, since, 1))


# --- what the extension refuses ------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status"),
    [(None, 400), ("", 400), ("Nonsense", 400), ("Unsubscribe", 202), ("unsubscribe", 202)],
)
def test_other_event_types(host: Host, event_type: str | None, status: int) -> None:
    since = mark(host)
    reply = webhook(host, [grid_event("o1", {})], event_type=event_type)
    assert (reply.status, reply.body) == (status, b"")
    no_invocation(host, since)


@pytest.mark.parametrize("body", [b"{not json", b"42", b""])
def test_a_body_the_extension_cannot_read_is_500(host: Host, body: bytes) -> None:
    since = mark(host)
    assert webhook(host, body).status == 500
    assert webhook(host, body, event_type="SubscriptionValidation").status == 500
    new = lines_since(host, since, "expected a validation event with data.validationCode")
    assert any(
        "Event Grid webhook of function 'eg_record': cannot read the request body; expected a "
        "JSON array of events or one event object" in line
        for line in new
    ), new
    no_invocation(host, since)


def test_unknown_function_or_extension_is_404(host: Host) -> None:
    reply = webhook(host, [grid_event("u1", {})], function="nope")
    assert (reply.status, reply.text) == (404, "cannot find function: 'nope'")
    assert webhook(host, [grid_event("u1", {})], function="ping").status == 404
    path = "/runtime/webhooks/NotGrid?functionName=eg_record"
    assert (
        call(host, "POST", path, body=b"[]", headers={"aeg-event-type": "Notification"}).status
        == 404
    )


# --- admin API -----------------------------------------------------------------------


def test_admin_invoke_takes_the_json_of_one_event(host: Host) -> None:
    since = mark(host)
    payload = json.dumps({"input": json.dumps(grid_event("adm1", {"via": "admin"}))})
    reply = call(host, "POST", "/admin/functions/eg_record", body=payload)
    assert reply.status == 202
    new = executed(host, since, 1)
    assert seen_events(new)["adm1"]["data"] == {"via": "admin"}
    reason = "This function was programmatically called via the host APIs."
    assert any(f"Executing 'Functions.eg_record' (Reason='{reason}'" in x for x in new), new


# --- auth ----------------------------------------------------------------------------


def test_enforced_auth_needs_the_eventgrid_system_key_or_the_master_key(
    start_host: StartHost, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    host = start_host(
        "eventgrid_basic",
        "--enable-auth",
        env={"FUNCTIONS_SECRETS_PATH": str(secrets), "FUNCTIONS_MASTER_KEY": MASTER},
    )
    doc = json.loads((secrets / "host.json").read_text())
    system = {k["name"]: k["value"] for k in doc["systemKeys"]}
    assert set(system) == {"eventgrid_extension"}
    event = [grid_event("k1", {})]
    assert webhook(host, event).status == 401
    assert webhook(host, event, query="&code=wrong").status == 401
    since = mark(host)
    assert webhook(host, event, query=f"&code={system['eventgrid_extension']}").status == 202
    assert webhook(host, event, query=f"&code={MASTER}").status == 202
    new = executed(host, since, 2)
    assert sum("Executed 'Functions.eg_record' (Succeeded" in line for line in new) == 2
    host_key = doc["functionKeys"][0]["value"]
    assert webhook(host, event, query=f"&code={host_key}").status == 401  # not a system key
    unknown = webhook(host, event, function="nope")
    assert (unknown.status, unknown.text) == (401, "")  # the key is checked first
    unknown = webhook(host, event, function="nope", query=f"&code={MASTER}")
    assert (unknown.status, unknown.text) == (404, "cannot find function: 'nope'")


def test_the_function_name_query_key_is_case_insensitive(host: Host) -> None:
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/json"}
    body = json.dumps([grid_event("q1", {})]).encode()
    path = "/runtime/webhooks/eventgrid?FUNCTIONNAME=eg_record"
    assert call(host, "POST", path, body=body, headers=headers).status == 202
