"""``func.Context`` through the real ``funchost start``: the properties of the worker's own.

The worker's Context, TraceContext and RetryContext (azure_functions_worker/bindings/) are
read whole by a function that answers with them; a blueprint in a subfolder, threads a
function starts, and a retried timer show what depends on where and when it runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import APPS, StartHost
from http_helpers import (
    UUID,
    Host,
    get,
    invocation_id,
    invocation_lines,
    lines_since,
    mark,
    serving,
)

APP = "context_props"
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
EMPTY_EXCEPTION = {
    "source": "",
    "stack_trace": "",
    "message": "",
    "is_user_exception": False,
    "type": "",
}


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    http = ("props", "props_async", "threaded", "nested")
    with serving(APP, "--verbose", "--functions", *http) as running:
        yield running


def props(host: Host, path: str = "/api/props", **headers: str) -> dict[str, Any]:
    reply = get(host, path, headers=headers)
    assert reply.status == 200, reply.body
    doc: dict[str, Any] = reply.json()
    return doc


@pytest.mark.parametrize("path", ["/api/props", "/api/props_async"])
def test_every_property_answers(host: Host, path: str) -> None:
    since = mark(host)
    doc = props(host, path)
    name = path.rsplit("/", 1)[1]
    executing, _, _ = invocation_lines(host, since, name)
    assert doc["invocation_id"] == invocation_id(executing)
    assert doc["function_name"] == name
    assert Path(doc["function_directory"]).samefile(APPS / APP)
    assert TRACEPARENT.fullmatch(doc["trace_parent"])
    assert (doc["trace_state"], doc["attributes"]) == ("", {})
    # The worker's capitalised names (OpenTelemetry samples read them) say the same.
    assert doc["Traceparent"] == doc["trace_parent"]
    assert (doc["Tracestate"], doc["Attributes"]) == ("", {})
    # Without a retry policy the host sends an empty retry context.
    assert (doc["retry_count"], doc["max_retry_count"]) == (0, 0)
    assert doc["rpc_exception"] == EMPTY_EXCEPTION
    # The library's abstract class promises retry_context.exception; the worker has none.
    assert doc["retry_has_exception"] is False
    assert doc["storage_is_thread_local"] is True
    assert doc["storage_invocation_id"] == doc["invocation_id"]


def test_the_callers_trace_and_state_carry_on(host: Host) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    incoming = f"00-{trace_id}-00f067aa0ba902b7-01"
    doc = props(host, traceparent=incoming, tracestate="congo=t61rcWkgMzE")
    assert doc["trace_parent"].split("-")[1] == trace_id
    assert doc["trace_parent"] != incoming  # a span of its own
    assert doc["trace_state"] == doc["Tracestate"] == "congo=t61rcWkgMzE"
    # A tracestate without a traceparent is not a trace to continue.
    assert props(host, tracestate="congo=t61rcWkgMzE")["trace_state"] == ""


def test_thread_local_storage_is_one_object_per_thread(host: Host) -> None:
    # Values a function keeps there stay with the thread for the next invocation on it.
    calls: dict[int, list[int]] = {}
    for _ in range(6):
        doc = props(host)
        calls.setdefault(doc["thread"], []).append(doc["calls"])
    assert all(seen == list(range(seen[0], seen[0] + len(seen))) for seen in calls.values())
    assert any(len(seen) > 1 for seen in calls.values()), calls


def test_a_blueprint_function_runs_in_its_own_folder(host: Host) -> None:
    directory = get(host, "/api/nested").body.decode()
    assert Path(directory).samefile(APPS / APP / "blueprints")


def test_a_thread_that_sets_the_invocation_id_logs_as_the_invocation(host: Host) -> None:
    since = mark(host)
    invocation = get(host, "/api/threaded").body.decode()
    assert re.fullmatch(UUID, invocation)
    lines = lines_since(host, since, r"Executed 'Functions\.threaded'")
    [untold] = [line for line in lines if "THREAD untold" in line]
    [joined] = [line for line in lines if "THREAD joined" in line]
    assert "[Host.Function.Console]" in untold and "[Id=" not in untold
    assert f"[Function.threaded.User] [Id={invocation}] THREAD joined {invocation}" in joined


def test_a_retry_carries_the_failure_before_it(start_host: StartHost, tmp_path: Path) -> None:
    env = {"FUNCHOST_STATE_DIR": str(tmp_path), "AzureWebJobsStorage": ""}
    host = start_host(APP, "--functions", "retried", env=env)
    host.wait_for("Executed 'Functions.retried' (Succeeded", timeout=15)
    lines = host.drain(0.2).splitlines()
    first, second = (json.loads(line.split(" RETRY ", 1)[1]) for line in lines if " RETRY " in line)
    assert first == {"retry_count": 0, "max_retry_count": 2, **EMPTY_EXCEPTION}
    assert (second["retry_count"], second["max_retry_count"]) == (1, 2)
    message = second["message"]
    assert message.startswith("Exception while executing function: Functions.retried\n")
    assert "Exception: RuntimeError: the first attempt fails\nStack: " in message
    assert (second["source"], second["stack_trace"], second["type"]) == ("", "", "")
