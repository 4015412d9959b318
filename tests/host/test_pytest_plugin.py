"""The pytest plugin (funchost.host.testing) on the project's fixture apps.

The ``funchost_app`` fixture is the installed plugin's own (entry point ``pytest11``): each app
is served in-process on a free loopback port, once per session and options, and stopped at the
end of the session. No service is needed: trigger listeners are not started, and the output
tests record instead of writing. The sessions run with ``pytester`` in a subprocess test what
only a whole session shows: the plugin costs nothing unused, servers stop, Azurite end to end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from azurite import require_installed
from conftest import APPS, BROKEN_APPS

from funchost.host.testing.app import AppUsageError, FunchostApp
from funchost.host.testing.session import AppNotStarted

pytest_plugins = ["pytester"]

StartApp = Callable[..., FunchostApp]
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "testing"
QUEUES = ("FIELDS", "BINARY", "FAIL", "SLOW", "LOST", "OUT", "ROUTE", "IDLE")
# Connection strings of services that are never contacted: no listener is started and the
# outputs are recorded (port 9 is discard: nothing listens there on loopback).
QUEUE_SETTINGS = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    **{f"Q_{name}": f"plugin-{name.lower()}" for name in QUEUES},
}
COSMOS = "AccountEndpoint=http://127.0.0.1:9/;AccountKey=bm90LWEta2V5;"
AMQP = "Endpoint=sb://127.0.0.1:9;SharedAccessKeyName=k;SharedAccessKey=v"


# --- HTTP ------------------------------------------------------------------------------------


def test_http_routes_answer_through_the_real_router(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "http_routes")
    answer = app.http.get("/api/hello/world")
    assert answer.status == 200
    assert answer.headers.get("content-type") == "application/json"
    assert answer.json() == {"function": "hello", "params": {"name": "world"}}
    assert app.http.get("/api/items/42").json()["params"] == {"id": "42"}
    assert app.http.get("/api/items/abc").status == 404  # {id:int} does not match
    assert app.http.get("/api/Renamed").json()["function"] == "Renamed"


def test_the_same_options_give_the_same_running_app(funchost_app: StartApp) -> None:
    first = funchost_app(APPS / "http_routes")
    assert funchost_app(str(APPS / "http_routes")) is first
    assert funchost_app(APPS / "http_routes", record_outputs=True) is not first


def test_bodies_queries_and_headers_reach_the_function(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "http_requests")
    assert app.http.post("/api/echo", body=b"\x00raw").body == b"\x00raw"
    assert app.http.post("/api/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
    seen = app.http.get(
        "/api/inspect/thing?x=1", params={"y": "two words"}, headers={"X-Test": "yes"}
    ).json()
    assert seen["params"] == {"x": "1", "y": "two words"}
    assert seen["x_test_lower"] == "yes"


def test_a_connection_the_host_closed_is_replaced(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "http_routes")
    closing = app.http.get("/api/hello/a", headers={"Connection": "close"})
    assert closing.headers.get("connection") == "close"
    assert app.http.get("/api/hello/b").json()["params"] == {"name": "b"}


def test_url_is_for_any_other_client(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "http_routes")
    assert app.url("/api/hello/x") == f"http://127.0.0.1:{app.port}/api/hello/x"
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as sock:
        sock.sendall(b"GET /api/hello/raw HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


# --- invoke ----------------------------------------------------------------------------------


def logged(caplog: pytest.LogCaptureFixture, tag: str) -> list[dict[str, object]]:
    """The JSON documents the function logged after ``tag``."""
    prefix = f"{tag} "
    return [
        json.loads(r.getMessage().removeprefix(prefix))
        for r in caplog.records
        if r.getMessage().startswith(prefix)
    ]


def test_invoke_runs_a_queue_function_with_a_message(
    funchost_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = funchost_app(APPS / "queue_functions", settings=QUEUE_SETTINGS)
    app.invoke("fields", '{"k": 1}')
    app.invoke("FIELDS", "plain", DequeueCount=3)  # names compare as the host compares them
    first, second = logged(caplog, "FIELDS")
    assert first["body"] == '{"k": 1}' and first["json"] == {"k": 1}
    assert first["dequeue_count"] == 0  # the admin API's message, as the host makes it
    assert second["body"] == "plain" and second["dequeue_count"] == 3


def test_a_failing_function_raises_its_own_exception(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "queue_functions", settings=QUEUE_SETTINGS)
    with pytest.raises(RuntimeError, match="this function always fails"):
        app.invoke("failing", "x")


def test_recorded_outputs_are_returned_and_not_sent(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "queue_functions", settings=QUEUE_SETTINGS, record_outputs=True)
    result = app.invoke("outputs", "hi")
    assert result.outputs == {
        "text": "text hi",
        "many": ["one hi", "two hi"],
        "doc": '{"body": "hi", "n": 1}',
        "raw": b"\x00\xffraw hi",
        "$return": "return hi",
    }
    assert result.return_value == "return hi"
    assert app.recorded.take("many") == [["one hi", "two hi"]]
    assert [w.binding for w in app.recorded.written] == ["text", "doc", "raw", "$return"]
    app.recorded.clear()


def test_record_applies_to_one_invocation(funchost_app: StartApp) -> None:
    # The app writes its outputs for real (to a storage nobody runs here): only record=True
    # keeps this invocation from trying.
    app = funchost_app(APPS / "queue_functions", settings=QUEUE_SETTINGS)
    result = app.invoke("routed", "body", record=True)
    assert result.outputs["copy"] == "copy of body"
    assert app.recorded.take("copy", function="routed") == ["copy of body"]
    # by_id got the message id, None for the admin API's message: an output left None is
    # not written, so not recorded either.
    assert app.recorded.take() == []


def test_invoke_runs_a_timer_function(
    funchost_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = funchost_app(APPS / "timer_basic")
    app.invoke("yearly")
    (seen,) = logged(caplog, "YEARLY")
    assert seen["past_due"] is False and seen["schedule"] == {"AdjustForDST": True}


def test_invoke_runs_a_cosmos_trigger_with_documents(
    funchost_app: StartApp, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    settings = {"Cosmos": COSMOS, "DB": "plugin", "RECORD": str(record)}
    app = funchost_app(APPS / "cosmos_trigger", settings=settings)
    app.invoke("changes", [{"id": "a", "n": 1}, {"id": "b", "n": 2}])
    app.invoke("changes", {"id": "c"})
    assert record.read_text().splitlines() == ['[["a", 1], ["b", 2]]', '[["c", null]]']


def test_an_http_function_records_its_cosmos_output(funchost_app: StartApp) -> None:
    app = funchost_app(
        APPS / "cosmos_io", settings={"Cosmos": COSMOS, "DB": "plugin"}, record_outputs=True
    )
    answer = app.http.post("/api/write", json={"id": "1", "pk": "a", "n": 5})
    assert (answer.status, answer.text) == (200, "written")
    # The library's Cosmos DB converter encodes documents as a JSON array, even one.
    assert app.recorded.take("doc", function="write") == [[{"id": "1", "pk": "a", "n": 5}]]


def test_invoke_runs_event_grid_and_service_bus_functions(
    funchost_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    grid = funchost_app(APPS / "eventgrid_basic")
    event = {
        "id": "e1",
        "topic": "/t",
        "subject": "s",
        "eventType": "Kind.Happened",
        "eventTime": "2026-01-02T03:04:05Z",
        "data": {"n": 1},
        "dataVersion": "1.0",
    }
    grid.invoke("eg_record", event)
    (seen,) = logged(caplog, "EVENT")
    assert (seen["id"], seen["subject"], seen["data"]) == ("e1", "s", {"n": 1})
    bus = funchost_app(
        APPS / "sb_trigger",
        settings={
            "SB": AMQP,
            "SB_TEXT": "plugin-text",
        },
        args=["--functions", "text"],
    )
    assert bus.functions == ["text"]
    bus.invoke("text", "hello bus")
    assert "SBTEXT hello bus" in caplog.messages


def test_invoke_runs_an_event_hubs_function_with_one_event(
    funchost_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = {
        "EH": AMQP,
        "HUB_ONE": "plugin-one",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    }
    app = funchost_app(APPS / "eventhub_single", settings=settings, args=["--functions", "one"])
    app.invoke("one", "event body")
    (seen,) = logged(caplog, "ONE")
    # The admin API's event: the body, and the numbers of an EventData made from bytes.
    assert seen["body"] == "event body"
    assert seen["sequence_number"] == -(2**63) and seen["partition"] is None


def test_invoke_names_what_it_cannot_run(funchost_app: StartApp) -> None:
    app = funchost_app(APPS / "eventgrid_basic")
    with pytest.raises(AppUsageError) as http:
        app.invoke("ping")
    assert str(http.value) == (
        "app.invoke: function 'ping' has a trigger of type httpTrigger, which the admin API "
        "does not run: call it through app.http"
    )
    with pytest.raises(AppUsageError) as unknown:
        app.invoke("nope")
    assert str(unknown.value) == (
        f"app.invoke: no function named 'nope' is served from {APPS / 'eventgrid_basic'}; "
        "it serves: eg_async, eg_record, ping"
    )


def test_an_app_that_does_not_load_fails_with_its_report(funchost_app: StartApp) -> None:
    with pytest.raises(AppNotStarted) as failed:
        funchost_app(BROKEN_APPS / "import_raises")
    assert "function_app.py:11: importing the app raised RuntimeError: boom" in str(failed.value)


# --- whole sessions (pytester, in a subprocess) ---------------------------------------------


def write_app(folder: Path, source: str) -> None:
    folder.mkdir()
    (folder / "function_app.py").write_text(source)
    (folder / "host.json").write_text('{"version": "2.0"}')


HELLO = """
import azure.functions as func
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    return "hello"
"""


def test_a_session_that_does_not_use_the_fixtures_imports_no_host(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_heavy_was_imported():
            loaded = [m for m in sys.modules if m.startswith(("aiohttp", "azure", "funchost."))]
            assert loaded == ["funchost.host", "funchost.host.testing",
                              "funchost.host.testing.plugin"]
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_apps_stop_with_the_session(pytester: pytest.Pytester) -> None:
    write_app(pytester.path / "app", HELLO)
    pytester.makepyfile(
        test_port="""
        from pathlib import Path

        def test_serve(funchost_app):
            app = funchost_app(Path(__file__).parent / "app")
            assert app.http.get("/api/hello").text == "hello"
            (Path(__file__).parent / "port").write_text(str(app.port))
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    port = int((pytester.path / "port").read_text())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


QUEUE_RELAY = """
import azure.functions as func
app = func.FunctionApp()

@app.queue_trigger(arg_name="msg", queue_name="inbox", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="$return", queue_name="outbox", connection="AzureWebJobsStorage")
def relay(msg: func.QueueMessage) -> str:
    return msg.get_body().decode().upper()
"""


def test_azurite_fixture_end_to_end(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_installed()
    write_app(pytester.path / "app", QUEUE_RELAY)
    pytester.makepyfile(
        test_e2e="""
        import base64, time
        from pathlib import Path
        from azure.storage.queue import QueueClient

        def test_relay(funchost_app, azurite):
            settings = {"AzureWebJobsStorage": azurite.connection_string}
            funchost_app(Path(__file__).parent / "app", settings=settings, triggers=True)
            conn = azurite.connection_string
            inbox = QueueClient.from_connection_string(conn, "inbox")
            outbox = QueueClient.from_connection_string(conn, "outbox")
            for queue in (inbox, outbox):
                try:
                    queue.create_queue()
                except Exception:
                    pass  # the listener may have created it
            inbox.send_message(base64.b64encode(b"shout").decode())
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                got = outbox.receive_messages()
                bodies = [base64.b64decode(m.content) for m in got]
                if bodies:
                    assert bodies == [b"SHOUT"]
                    return
                time.sleep(0.05)
            raise AssertionError("nothing reached outbox in 30 s")
        """
    )
    # Azurite on PATH, as a user's machine has it (npm install -g).
    node = shutil.which("node")
    assert node, "Azurite is installed but node is not on PATH"
    path = os.pathsep.join(
        [
            str(REPO / "node_modules" / ".bin"),
            str(Path(node).parent),
            str(Path(sys.executable).parent),
        ]
    )
    monkeypatch.setenv("PATH", path)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1)


def test_the_azurite_fixture_skips_without_azurite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_skip="""
        def test_needs_storage(azurite):
            pass
        """
    )
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*the azurite fixture needs Azurite: install it with*"])


def test_the_example_project_passes_from_its_folder() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
