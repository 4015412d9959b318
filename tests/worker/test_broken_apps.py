"""``funchost start`` on broken apps: what a user sees, and that the host stays useful.

A whole-app failure is printed prominently and the host keeps serving nothing (404) with
/admin/host/status saying "Error", unless --strict makes it exit 3. A per-function problem
disables only that function. A configuration error stops start-up with exit code 3.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from broken_app_cases import (
    APP_ERRORS,
    BANNER,
    CONFIG_ERRORS,
    FUNCTION_ERRORS,
    NOT_LOADED,
    RULE,
    banner,
    config_error,
    disabled,
)
from conftest import BROKEN_APPS, READY, StartHost, free_port, run_funchost

START_TIMEOUT = 30.0
HELLO = "[GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS,TRACE]"


def request(url: str, method: str = "GET") -> tuple[int, str]:
    """Send a request; return status and text without raising on 4xx/5xx."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def status(base_url: str) -> dict[str, object]:
    """The parsed body of GET /admin/host/status."""
    code, body = request(f"{base_url}/admin/host/status")
    assert code == 200, body
    doc: dict[str, object] = json.loads(body)
    return doc


@pytest.mark.parametrize("case", sorted(APP_ERRORS))
def test_whole_app_error_keeps_the_host_up_serving_nothing(
    start_host: StartHost, case: str
) -> None:
    host = start_host(BROKEN_APPS / case)
    message, _ = banner(host.output)
    assert message == APP_ERRORS[case]
    lines = host.output.splitlines()
    # Prominent: the very first thing printed, between rules, before the readiness line.
    assert lines[:3] == [RULE, BANNER, APP_ERRORS[case]]
    assert NOT_LOADED in lines
    assert request(f"{host.base_url}/api/hello") == (404, "")
    doc = status(host.base_url)
    assert (doc["state"], doc["functions"], doc["errors"]) == ("Error", [], [APP_ERRORS[case]])


@pytest.mark.parametrize("case", ["import_raises", "syntax_error", "two_apps", "no_functions"])
def test_strict_start_exits_3_on_a_whole_app_error(case: str) -> None:
    args = ["start", "--strict", "--port", str(free_port())]
    result = run_funchost(args, BROKEN_APPS / case, timeout=START_TIMEOUT)
    assert result.returncode == 3, result.stdout + result.stderr
    message, _ = banner(result.stdout)
    assert message == APP_ERRORS[case]
    assert READY not in result.stdout


def test_strict_start_from_the_environment_exits_3() -> None:
    env = {"FUNCHOST_STRICT": "1"}
    args = ["start", "--port", str(free_port())]
    result = run_funchost(args, BROKEN_APPS / "no_app", env, timeout=START_TIMEOUT)
    assert result.returncode == 3, result.stdout + result.stderr
    assert banner(result.stdout)[0] == APP_ERRORS["no_app"]


@pytest.mark.parametrize("case", sorted(FUNCTION_ERRORS))
def test_per_function_problem_disables_only_that_function(start_host: StartHost, case: str) -> None:
    host = start_host(BROKEN_APPS / case)
    assert disabled(host.output) == FUNCTION_ERRORS[case]
    doc = status(host.base_url)
    assert doc["state"] == "Running"
    assert doc["errors"] == FUNCTION_ERRORS[case]
    if case != "route_conflict":
        assert doc["functions"] == ["hello"]
        assert f"\thello: {HELLO} http://localhost:{host.port}/api/hello" in host.output
        assert request(f"{host.base_url}/api/hello") == (200, "hello")


def test_disabled_functions_have_no_route(start_host: StartHost) -> None:
    host = start_host(BROKEN_APPS / "bad_signatures")
    for route in ("extra", "nope", "ctx", "outin", "str", "queue"):
        assert request(f"{host.base_url}/api/{route}")[0] == 404, route


def test_route_conflict_serves_the_first_function(start_host: StartHost) -> None:
    host = start_host(BROKEN_APPS / "route_conflict")
    assert status(host.base_url)["functions"] == ["get_item"]
    assert "\tget_item: [GET,POST] " in host.output
    assert request(f"{host.base_url}/api/items/7") == (200, "get_item 7")
    assert request(f"{host.base_url}/api/items/7", "POST") == (200, "get_item 7")


def test_missing_settings_load_once_the_settings_exist(start_host: StartHost) -> None:
    # The same app is fine when the settings the messages name are set.
    env = {"MissingConn": "UseDevelopmentStorage=true", "MissingRoute": "routed"}
    host = start_host(BROKEN_APPS / "missing_settings", env=env)
    assert "function(s) disabled" not in host.output
    assert request(f"{host.base_url}/api/routed") == (200, "route")
    assert request(f"{host.base_url}/api/conn") == (200, "conn")


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_configuration_error_stops_start_with_exit_code_3(case: str) -> None:
    env, message = config_error(case)
    args = ["start", "--port", str(free_port())]
    result = run_funchost(args, BROKEN_APPS / case, env, timeout=START_TIMEOUT)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == f"funchost: {message}\n"
    assert READY not in result.stdout


def test_returned_value_without_return_binding_fails_the_invocation(
    start_host: StartHost,
) -> None:
    host = start_host(BROKEN_APPS / "return_without_binding")
    assert request(f"{host.base_url}/api/gen") == (500, "")
    host.wait_for("Executed 'Functions.gen' (Failed, Id=")
    assert host.wait_for("Exception: BindingError:").endswith(
        "Exception: BindingError: the function returned a str but has no return binding "
        "($return); expected None, or declare an output binding for the value"
    )
    assert status(host.base_url)["state"] == "Running"


def test_one_app_under_two_names_serves(start_host: StartHost) -> None:
    host = start_host(BROKEN_APPS / "app_alias")
    assert request(f"{host.base_url}/api/hello") == (200, "hello")
    doc = status(host.base_url)
    assert (doc["state"], doc["functions"], doc["errors"]) == ("Running", ["hello"], [])


@pytest.mark.parametrize(("route", "line"), [("sync", 8), ("async", 13)])
def test_invocation_traceback_shows_only_the_users_frames(
    start_host: StartHost, route: str, line: int
) -> None:
    host = start_host(BROKEN_APPS / "invocation_raises")
    assert request(f"{host.base_url}/api/{route}") == (500, "")
    host.wait_for(f"Exception while executing function: Functions.{route}_raises")
    host.wait_for(f'raise ValueError("{route} boom")')
    lines = host.drain(0.5).splitlines()
    start = lines.index(f"Exception: ValueError: {route} boom")
    assert lines[start + 1 : start + 5] == [
        "Stack: Traceback (most recent call last):",
        f'  File "{BROKEN_APPS / "invocation_raises" / "function_app.py"}", '
        f"line {line}, in {route}_raises",
        f'    raise ValueError("{route} boom")',
        f"ValueError: {route} boom",
    ]
