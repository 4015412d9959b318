"""The admin API through the real ``funchost start``: status, functions, disable, drain."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from conftest import StartHost


def request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    """Status and body of one request, never raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_status_reports_state_functions_uptime_and_no_errors(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    status, body = request(f"{host.base_url}/admin/host/status")
    doc = json.loads(body)
    assert status == 200
    assert doc["state"] == "Running"
    assert doc["functions"] == ["adm", "anon", "func_level", "func_level_two"]
    assert doc["errors"] == []
    assert isinstance(doc["processUptime"], int) and doc["processUptime"] >= 0
    assert doc["version"]


def test_functions_list_and_one_function(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    status, body = request(f"{host.base_url}/admin/functions")
    assert status == 200
    assert [f["name"] for f in json.loads(body)] == ["adm", "anon", "func_level", "func_level_two"]
    status, body = request(f"{host.base_url}/admin/functions/anon")
    info = json.loads(body)
    assert status == 200
    assert info["invoke_url_template"] == f"http://localhost:{host.port}/api/anon"
    assert info["isDisabled"] is False
    trigger = info["config"]["bindings"][0]
    assert (trigger["type"], trigger["direction"], trigger["route"]) == (
        "httpTrigger",
        "in",
        "anon",
    )
    assert request(f"{host.base_url}/admin/functions/nope")[0] == 404


def test_admin_invoke_of_an_http_function_says_to_call_its_url(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    status, body = request(f"{host.base_url}/admin/functions/anon", "POST", b'{"input": "x"}')
    assert status == 400
    assert json.loads(body) == {"error": "'anon' is an HTTP function: call its URL instead"}
    status, body = request(f"{host.base_url}/admin/functions/anon", "POST", b"not json")
    assert (status, json.loads(body)) == (
        400,
        {"error": 'expected a JSON body like {"input": "..."}'},
    )
    assert request(f"{host.base_url}/admin/functions/nope", "POST", b"{}")[0] == 404


def test_disabled_app_setting_turns_a_function_off(start_host: StartHost) -> None:
    host = start_host("auth_levels", env={"AzureWebJobs.anon.Disabled": "true"})
    assert request(f"{host.base_url}/api/anon")[0] == 404
    assert request(f"{host.base_url}/api/func")[0] == 200
    assert "Function 'anon' is disabled (app setting AzureWebJobs.anon.Disabled)." in host.output
    info = json.loads(request(f"{host.base_url}/admin/functions/anon")[1])
    assert (info["name"], info["isDisabled"]) == ("anon", True)
    assert "anon" not in json.loads(request(f"{host.base_url}/admin/host/status")[1])["functions"]


def test_drain_completes_and_http_keeps_answering(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    assert json.loads(request(f"{host.base_url}/admin/host/drain/status")[1]) == {
        "state": "Disabled"
    }
    assert request(f"{host.base_url}/admin/host/drain", "POST")[0] == 202
    deadline = time.monotonic() + 10
    state = ""
    while time.monotonic() < deadline and state != "Completed":
        state = json.loads(request(f"{host.base_url}/admin/host/drain/status")[1])["state"]
        time.sleep(0.05)
    assert state == "Completed"
    assert request(f"{host.base_url}/api/anon") == (200, "anon")
    assert "Drain mode: completed, no invocations in flight." in host.drain()


def test_unknown_admin_path_is_404(start_host: StartHost) -> None:
    host = start_host("auth_levels")
    assert request(f"{host.base_url}/admin/nothing/here")[0] == 404
