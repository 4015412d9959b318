"""The dashboard's data (/admin/ui/api/...) and switches, against a real ``funchost start``."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from azurite import Azurite
from conftest import APPS, BROKEN_APPS, StartHost, run_funchost
from dashboard_helpers import APP, FUNCTIONS, RETIRED_REASON, api, request, start_dashboard
from queue_helpers import client

from funchost.bindings.base import BindingSpec
from funchost.host.ui import capture, views
from funchost.worker.context import InvocationInfo, current_invocation
from funchost.worker.history import RING_SIZE


def by_name(state: dict[str, object]) -> dict[str, dict[str, object]]:
    functions = state["functions"]
    assert isinstance(functions, list)
    return {f["name"]: f for f in functions}


def test_state_lists_every_function_with_its_trigger_and_the_check_reason(
    start_host: StartHost, azurite: Azurite
) -> None:
    dash = start_dashboard(start_host, azurite)
    state = api(dash.host, "state")
    functions = by_name(state)
    assert sorted(functions) == list(FUNCTIONS)
    hello, standup, work, retired = (functions[n] for n in ("hello", "standup", "work", "retired"))
    assert hello["trigger"]["type"] == "httpTrigger"
    assert hello["trigger"]["details"]["methods"] == ["GET", "POST"]
    assert hello["url"] == f"http://localhost:{dash.host.port}/api/hello"
    assert work["trigger"]["details"] == {
        "queueName": dash.queue,
        "connection": "AzureWebJobsStorage",  # the setting's name, never its value
    }
    assert (hello["enabled"], standup["enabled"], work["enabled"]) == (True, True, True)
    # The same words as `funchost check`, which the page must not paraphrase.
    storage = {"AzureWebJobsStorage": azurite.connection_string, "DASH_QUEUE": dash.queue}
    checked = run_funchost(["check"], APPS / APP, env=storage)
    assert RETIRED_REASON in checked.stdout
    assert retired["enabled"] is False and retired["reasons"] == [RETIRED_REASON]
    assert retired["trigger"]["type"] == "httpTrigger"
    assert state["appError"] is None
    host = state["host"]
    assert host["state"] == "Running" and host["drain"] == "Disabled"
    assert host["auth"] == "keys bypassed (loopback)" and host["timeZone"] == "UTC"


def test_next_occurrences_are_the_timers_own(start_host: StartHost, azurite: Azurite) -> None:
    dash = start_dashboard(start_host, azurite, env={"WEBSITE_TIME_ZONE": "Europe/Amsterdam"})
    logged = dash.host.wait_for("The next 5 occurrences of the 'standup' schedule")
    assert logged
    dash.host.drain()
    lines = dash.host.output.split(logged, 1)[1].splitlines()[1:4]
    state = api(dash.host, "state")
    standup = by_name(state)["standup"]
    assert standup["nextOccurrences"] == lines  # the listener's schedule code, as it logs
    assert state["host"]["timeZone"] == "Europe/Amsterdam"
    assert all(re.search(r" 09:30:00\+0[12]:00 \(", when) for when in lines), lines
    assert standup["trigger"]["details"]["schedule"] == "0 30 9 * * Mon-Fri"


def test_invocations_keep_their_log_lines_filter_and_page(
    start_host: StartHost, azurite: Azurite
) -> None:
    dash = start_dashboard(start_host, azurite)
    base = dash.host.base_url
    first = api(dash.host, "invocations")  # a page is open from here on: lines are kept
    assert first == {"invocations": [], "complete": True, "kept": RING_SIZE}
    assert request(f"{base}/api/hello?name=one")[0] == 200
    assert request(f"{base}/api/hello?name=boom")[0] == 500
    newest = api(dash.host, "invocations")["invocations"]
    assert [(i["function"], i["outcome"]) for i in newest] == [
        ("hello", "Failed"),
        ("hello", "Succeeded"),
    ]
    failed, ok = newest
    assert "hello says hi to one" in [line["text"] for line in ok["logs"]]
    assert ok["logs"][-1]["text"].startswith("Executed 'Functions.hello' (Succeeded")
    assert failed["error"].startswith("Exception: ValueError: boom was asked for\nStack: ")
    assert ok["retryCount"] == 0 and ok["durationMs"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["start"])
    only_failed = api(dash.host, "invocations?outcome=failed")["invocations"]
    assert [i["id"] for i in only_failed] == [failed["id"]]
    assert api(dash.host, "invocations?function=work")["invocations"] == []
    after = api(dash.host, f"invocations?after={failed['id']}")
    assert after == {"invocations": [], "complete": False, "kept": RING_SIZE}
    after_ok = api(dash.host, f"invocations?after={ok['id']}")["invocations"]
    assert [i["id"] for i in after_ok] == [failed["id"]]


def test_queue_depths_count_the_queue_and_its_poison_queue(
    start_host: StartHost, azurite: Azurite
) -> None:
    dash = start_dashboard(start_host, azurite)
    poison = client(azurite, f"{dash.queue}-poison")
    poison.create_queue()
    poison.send_message("cXVlZXVlZA==")
    poison.send_message("cXVlZXVlZA==")
    (depths,) = api(dash.host, "queues")
    assert depths["function"] == "work"
    assert (depths["queue"], depths["poisonQueue"]) == (dash.queue, f"{dash.queue}-poison")
    assert depths["poisonDepth"] == 2
    assert isinstance(depths["depth"], int)  # the listener drains it: any count is right


def test_nothing_on_it_holds_the_connection_string_or_a_key(
    start_host: StartHost, azurite: Azurite
) -> None:
    key = "x" * 40
    dash = start_dashboard(start_host, azurite, "--enable-auth", env={"FUNCTIONS_MASTER_KEY": key})
    base = dash.host.base_url
    assert request(f"{base}/admin/ui/api/state")[0] == 401  # the admin API's rule
    assert request(f"{base}/admin/ui/api/state", headers={"x-functions-key": "no"})[0] == 401
    headers = {"x-functions-key": key}
    assert request(f"{base}/api/hello?name=k", headers=headers)[0] == 200
    pages = [request(f"{base}/admin/ui/{name}") for name in ("", "app.js", "style.css")]
    assert [status for status, _ in pages] == [200, 200, 200]  # files need no key, hold none
    documents = [json.dumps(api(dash.host, p, headers)) for p in ("state", "invocations", "queues")]
    account_key = azurite.connection_string.split("AccountKey=")[1].split(";")[0]
    for text in [*documents, *(t for _, t in pages)]:
        assert account_key not in text and key not in text
        assert "AccountKey" not in text and "DefaultEndpointsProtocol" not in text
    assert json.loads(documents[0])["host"]["auth"] == "keys checked"


def test_no_ui_turns_the_page_and_its_data_off(start_host: StartHost, azurite: Azurite) -> None:
    for args, env in ((("--no-ui",), {}), ((), {"FUNCHOST_NO_UI": "1"})):
        dash = start_dashboard(start_host, azurite, *args, env=env)
        base = dash.host.base_url
        for path in ("/admin/ui/", "/admin/ui/app.js", "/admin/ui/api/state"):
            assert request(base + path)[0] == 404, (args, env, path)
        assert request(f"{base}/admin/host/status")[0] == 200  # the admin API itself stays
        assert "Dashboard:" not in dash.host.output
        dash.host.stop()


def test_the_start_up_listing_names_the_page(start_host: StartHost, azurite: Azurite) -> None:
    dash = start_dashboard(start_host, azurite)
    line = dash.host.wait_for("Dashboard: ")
    assert line == f"Dashboard: http://localhost:{dash.host.port}/admin/ui/"
    status, text = request(f"{dash.host.base_url}/admin/ui/")
    assert status == 200 and '<script src="/admin/ui/app.js"' in text


def test_an_invocation_ends_in_the_ring_even_with_no_page_open(
    start_host: StartHost, azurite: Azurite
) -> None:
    dash = start_dashboard(start_host, azurite)
    status, _ = request(
        f"{dash.host.base_url}/admin/functions/work", "POST", b'{"input": "direct"}'
    )
    assert status == 202
    dash.host.wait_for("Executed 'Functions.work' (Succeeded")  # before any page asks
    (item,) = api(dash.host, "invocations?function=work")["invocations"]
    assert item["outcome"] == "Succeeded" and item["logs"] == []  # no page was open then


def test_log_lines_are_kept_only_while_a_page_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "IDLE", 0.05)
    lines = capture.InvocationLines()
    log = logging.getLogger("tests.dashboard")

    async def scenario() -> None:
        log.warning("before any page")  # not in an invocation, and no page: dropped
        lines.page_open()
        assert lines in logging.getLogger().handlers
        token = current_invocation.set(InvocationInfo("id-1", "hello"))
        try:
            log.warning("inside %s", "id-1")
        finally:
            current_invocation.reset(token)
        log.warning("outside any invocation")
        assert [text for _, _, text in lines.lines_of("id-1")] == ["inside id-1"]
        await asyncio.sleep(0.2)  # the page went away: the handler is off, the lines gone
        assert lines not in logging.getLogger().handlers
        assert lines.lines_of("id-1") == []

    asyncio.run(scenario())


def test_a_binding_value_that_looks_like_a_secret_is_hidden() -> None:
    spec = BindingSpec.from_json(
        {
            "name": "msg",
            "type": "queueTrigger",
            "direction": "in",
            "queueName": "work",
            "connection": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0",
            "path": "in/{name}?sv=2024&sig=abc",
            "anotherSetting": "never listed",
        }
    )
    assert views.binding(spec)["details"] == {
        "queueName": "work",
        "path": views.HIDDEN,
        "connection": views.HIDDEN,
    }


def test_an_app_that_cannot_load_shows_its_error(start_host: StartHost) -> None:
    host = start_host(BROKEN_APPS / "import_raises", "--no-azurite")
    state = api(host, "state")
    assert state["functions"] == [] and state["host"]["state"] == "Error"
    error = state["appError"]
    assert "RuntimeError: boom" in error["message"] + (error["detail"] or "")
