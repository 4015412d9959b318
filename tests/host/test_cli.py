"""The command line as a user meets it: options, environment variables, exit codes, log formats."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

from conftest import APPS, READY, RunningHost, StartHost, free_port, host_env, run_funchost

from funchost import __version__

ISO_STAMP = r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]"


def get(url: str) -> tuple[int, str]:
    """GET a URL and return status and text, without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_version_prints_the_package_version() -> None:
    result = run_funchost(["--version"], APPS)
    assert result.returncode == 0
    assert result.stdout.strip() == f"funchost {__version__}"


def test_help_names_an_environment_variable_for_every_option() -> None:
    result = run_funchost(["start", "--help"], APPS)
    assert result.returncode == 0
    options = set(re.findall(r"^\s+(--[a-z-]+)", result.stdout, re.MULTILINE)) - {"--help"}
    assert options == {
        "--script-root",
        "--functions",
        "--verbose",
        "--port",
        "--address",
        "--cors",
        "--cors-credentials",
        "--json-logs",
        "--strict",
        "--shutdown-timeout",
        "--enable-auth",
        "--no-azurite",
        "--no-ui",
        "--ready-file",
        "--reload",
        "--workers",
    }
    flat = " ".join(result.stdout.split())
    for option in options:
        env = "FUNCHOST_" + option[2:].upper().replace("-", "_")
        assert f"[env: {env}" in flat, env


def test_bad_boolean_in_environment_is_a_usage_error() -> None:
    result = run_funchost(["start"], APPS / "cli_basic", env={"FUNCHOST_VERBOSE": "maybe"})
    assert result.returncode == 2
    assert "environment: 'FUNCHOST_VERBOSE' is 'maybe'; expected one of 1, true" in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    result = run_funchost(["start", "--no-such-option"], APPS / "cli_basic")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-option" in result.stderr


def test_port_in_use_says_so_and_exits_not_started() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_funchost(["start", "--port", str(port)], APPS / "cli_basic")
    assert result.returncode == 3
    assert f"funchost: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pass --port (or FUNCHOST_PORT)" in result.stderr


def test_local_settings_values_reach_the_function_and_environment_wins(
    start_host: StartHost,
) -> None:
    host = start_host("cli_basic")
    assert get(f"{host.base_url}/api/hello") == (200, "from local.settings.json")
    host2 = start_host("cli_basic", env={"GREETING": "from the environment"})
    assert get(f"{host2.base_url}/api/hello") == (200, "from the environment")


def test_local_http_port_is_used_without_port_option(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name in ("function_app.py", "host.json"):
        (app / name).write_text((APPS / "cli_basic" / name).read_text())
    port = free_port()
    (app / "local.settings.json").write_text(json.dumps({"Host": {"LocalHttpPort": port}}))
    host = RunningHost(["start"], app, host_env())
    try:
        assert f"localhost:{port}" in host.wait_for(READY)
        assert get(f"http://127.0.0.1:{port}/api/other") == (200, "other")
    finally:
        assert host.stop() == 0


def test_port_from_environment_variable() -> None:
    port = free_port()
    host = RunningHost(["start"], APPS / "cli_basic", host_env({"FUNCHOST_PORT": str(port)}))
    try:
        host.wait_for(READY)
        assert get(f"http://127.0.0.1:{port}/api/other") == (200, "other")
    finally:
        assert host.stop() == 0


def test_port_zero_listens_on_a_free_port_and_reports_it() -> None:
    host = RunningHost(["start", "--port", "0"], APPS / "cli_basic", host_env())
    try:
        ready = host.wait_for(READY)
        found = re.search(r"listening on http://localhost:(\d+)", ready)
        assert found, ready
        port = int(found.group(1))
        assert port not in (0, 7071)
        assert get(f"http://127.0.0.1:{port}/api/other") == (200, "other")
        # The report's function URLs name the same port.
        assert any(f"localhost:{port}/api/" in line for line in host.lines)
    finally:
        assert host.stop() == 0


def test_port_out_of_range_is_a_usage_error_with_the_option_named() -> None:
    # Usage (2), not "never started" (3): nothing was loaded; tests/host/test_option_ranges.py
    # covers the other options and variables.
    done = run_funchost(["start", "--port", "70000"], APPS / "cli_basic")
    assert done.returncode == 2
    assert "argument --port: 70000 is out of range; expected 0 (any free port) or 1-65535" in (
        done.stderr
    )


def test_functions_option_loads_only_the_named_functions(start_host: StartHost) -> None:
    host = start_host("cli_basic", "--functions", "other", "missing")
    assert get(f"{host.base_url}/api/other") == (200, "other")
    assert get(f"{host.base_url}/api/hello")[0] == 404
    assert "\thello:" not in host.output
    assert "Warning: --functions: no function named 'missing'; the app has: hello, other" in (
        host.output
    )


def test_json_logs_carry_invocation_id_and_function(start_host: StartHost) -> None:
    host = start_host("cli_basic", "--json-logs")
    assert get(f"{host.base_url}/api/hello")[0] == 200
    line = host.wait_for('"hello was called"')
    doc = json.loads(line)
    assert doc["functionName"] == "hello"
    assert doc["category"] == "Function.hello.User"
    assert doc["level"] == "INFO"
    executing = json.loads(host.wait_for("Executing 'Functions.hello'"))
    assert f"Id={doc['invocationId']}" in executing["message"]


def test_verbose_shows_level_category_and_invocation_id(start_host: StartHost) -> None:
    host = start_host("cli_basic", "--verbose")
    assert get(f"{host.base_url}/api/hello")[0] == 200
    line = host.wait_for("hello was called")
    assert re.fullmatch(
        ISO_STAMP + r" \[INFO\] \[Function\.hello\.User\] \[Id=[0-9a-f-]{36}\] hello was called",
        line,
    ), line


def test_plain_logs_are_timestamp_and_message(start_host: StartHost) -> None:
    host = start_host("cli_basic")
    assert get(f"{host.base_url}/api/hello")[0] == 200
    assert re.fullmatch(ISO_STAMP + " hello was called", host.wait_for("hello was called"))


def test_script_file_name_setting_picks_the_entry_file(start_host: StartHost) -> None:
    host = start_host("cli_script_name", env={"PYTHON_SCRIPT_FILE_NAME": "main_app.py"})
    assert get(f"{host.base_url}/api/named") == (200, "main_app.py")


def test_host_json_override_from_environment(start_host: StartHost) -> None:
    host = start_host(
        "cli_basic", env={"AzureFunctionsJobHost__extensions__http__routePrefix": "custom"}
    )
    assert get(f"{host.base_url}/custom/other") == (200, "other")
    assert get(f"{host.base_url}/api/other")[0] == 404


def test_sigterm_exits_zero_and_says_so(start_host: StartHost) -> None:
    host = start_host("cli_basic")
    assert host.stop() == 0
    assert "Host stopped." in host.output


def test_sigint_exits_zero(start_host: StartHost) -> None:
    import signal

    host = start_host("cli_basic")
    assert host.stop(signal.SIGINT) == 0


def test_print_in_a_function_becomes_a_timestamped_line(start_host: StartHost) -> None:
    host = start_host("cli_basic")
    assert get(f"{host.base_url}/api/hello")[0] == 200
    assert re.fullmatch(ISO_STAMP + " hello printed this", host.wait_for("hello printed this"))


def test_malformed_requests_leave_no_traceback_in_the_log(start_host: StartHost) -> None:
    host = start_host("cli_basic")
    with socket.create_connection(("127.0.0.1", host.port), timeout=10) as sock:
        sock.sendall(b"POST /api/other HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        assert b" 400 Bad Request" in sock.recv(1024)
    assert get(f"{host.base_url}/api/other") == (200, "other")
    output = host.drain()
    assert "Error handling request" not in output
    assert "Traceback" not in output
