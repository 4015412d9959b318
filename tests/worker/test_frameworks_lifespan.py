"""The ASGI lifespan of a func.AsgiFunctionApp, through the real ``funchost start``.

The library starts the lifespan lazily, in the first request, and never really shuts it
down (its ``__del__`` runs ``asyncio.run`` at exit, when the lifespan task is gone). funchost
runs the startup before it is ready, the shutdown once after the server stopped, and reports
a failing startup like an app that cannot be loaded.
"""

from __future__ import annotations

import pytest
from conftest import APPS, READY, StartHost, free_port, run_funchost
from http_helpers import get

# What an unclean exit of the library's lifespan looks like (before funchost drove it).
NOISE = (
    "Traceback",
    "Exception ignored",
    "Event loop is closed",
    "asyncio.run() cannot be called",
    "Task exception was never retrieved",
    "Failed ASGI",
    "CancelledError",
)


def _index(lines: list[str], text: str) -> int:
    found = [i for i, line in enumerate(lines) if text in line]
    assert len(found) == 1, f"{text!r} appears {len(found)} times in:\n" + "\n".join(lines)
    return found[0]


def test_startup_before_ready_and_shutdown_once_at_exit(start_host: StartHost) -> None:
    host = start_host("fastapi_app")
    startup = _index(host.lines, "fastapi_app: lifespan startup")
    assert startup < _index(host.lines, READY)
    for _ in range(3):  # the library's function must not start it again
        assert get(host, "/state").json() == {"greeting": "set by the lifespan startup"}
    assert host.stop() == 0
    lines = host.lines
    assert _index(lines, "fastapi_app: lifespan startup") == startup
    shutdown = _index(lines, "fastapi_app: lifespan shutdown")
    # After the server stopped taking requests, before the host reports it stopped.
    assert _index(lines, "Stopping host...") < shutdown < _index(lines, "Host stopped.")
    assert not [n for n in NOISE if n in host.output], host.output


def test_startup_failure_is_reported_like_an_app_load_error(start_host: StartHost) -> None:
    host = start_host("fastapi_lifespan_fails")
    message = (
        "function_app.py: the ASGI app 'api' (FastAPI) of AsgiFunctionApp 'app': the lifespan "
        "startup failed: ConnectionError: database unreachable at db.invalid:5432; expected it "
        "to complete, as it runs before the host serves any request"
    )
    lines = host.lines
    assert _index(lines, message) < _index(lines, READY)
    assert _index(lines, "ERROR: the app could not be loaded") < _index(lines, message)
    # The detail is the user's traceback, down to the raising line of the lifespan.
    assert 'fastapi_lifespan_fails/function_app.py", line' in host.output
    assert "No functions loaded (the app could not be loaded: see the error above)." in lines
    assert "Failed ASGI startup" not in host.output  # the library's own line is replaced
    # No function of the app is served, not even the plain one beside the ASGI function:
    # the 404s are the host's (empty), not FastAPI's ({"detail": "Not Found"}).
    assert (get(host, "/api/hello").status, get(host, "/api/hello").body) == (404, b"")
    assert (get(host, "/api/plain").status, get(host, "/api/plain").body) == (404, b"")
    status = get(host, "/admin/host/status").json()
    assert (status["state"], status["functions"], status["errors"]) == ("Error", [], [message])
    assert host.stop() == 0
    assert "lifespan shutdown" not in host.output  # nothing started, nothing to shut down


def test_startup_failure_with_strict_stops_the_host() -> None:
    port = str(free_port())
    done = run_funchost(
        ["start", "--port", port, "--strict"], APPS / "fastapi_lifespan_fails", timeout=30
    )
    output = done.stdout + done.stderr
    assert "the lifespan startup failed: ConnectionError: database unreachable" in output
    assert READY not in output
    assert done.returncode == 3  # "app could not be loaded", as for an import error
    assert "The host crashed." not in output


def test_shutdown_failure_is_one_error_line(start_host: StartHost) -> None:
    host = start_host("fastapi_lifespan_fails", env={"FAIL_AT": "shutdown"})
    assert get(host, "/api/hello").json() == {"hello": "world"}
    assert host.stop() == 0
    failed = [line for line in host.lines if "lifespan shutdown failed" in line]
    assert len(failed) == 1, host.output
    assert failed[0].endswith(
        "function_app.py: the ASGI app 'api' (FastAPI) of AsgiFunctionApp 'app': the lifespan "
        "shutdown failed: RuntimeError: could not flush the cache"
    )
    assert _index(host.lines, "fastapi_lifespan_fails: lifespan shutdown") < _index(
        host.lines, "Host stopped."
    )
    assert not [n for n in NOISE if n in host.output], host.output


def test_app_without_lifespan_support_is_an_error_that_says_so(start_host: StartHost) -> None:
    host = start_host("fastapi_lifespan_unsupported")
    assert (
        "function_app.py: the ASGI app 'http_only' (function) of AsgiFunctionApp 'app' does "
        "not support the ASGI lifespan protocol (given the 'lifespan' scope, it raised "
        "ValueError: this app can only handle HTTP connections, not lifespan)"
    ) in host.output
    assert "ASGI middleware startup failed." in host.output  # what Azure would answer
    assert (get(host, "/api/hello").status, get(host, "/api/hello").body) == (404, b"")
    assert get(host, "/admin/host/status").json()["state"] == "Error"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"AzureWebJobs.http_app_func.Disabled": "true"}),
        (("--functions", "plain"), {}),
    ],
    ids=["disabled", "not-selected"],
)
def test_no_lifespan_when_the_asgi_function_is_not_served(
    start_host: StartHost, args: tuple[str, ...], env: dict[str, str]
) -> None:
    host = start_host("fastapi_lifespan_fails", *args, env=env)
    assert "lifespan startup" not in host.output
    assert "ERROR" not in host.output
    assert get(host, "/api/plain").text == "a plain function on the same app"
    assert (get(host, "/api/hello").status, get(host, "/api/hello").body) == (404, b"")
