"""CI mode through the real CLI: --ready-file, wait-ready, invoke and check --json."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from broken_app_cases import FUNCTION_ERRORS
from conftest import APPS, BROKEN_APPS, READY, StartHost, run_funchost

APP = APPS / "ci_mode"
SERVED = ("--functions", "hello", "broken", "tick", "--no-azurite")
WAIT = 20.0  # bounds every poll below; the host is normally ready in about a second


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return int(resp.status), resp.read().decode()


def appeared(path: Path) -> str:
    """Poll until the ready file exists; its text."""
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert time.monotonic() < deadline, f"no ready file at {path}"
        time.sleep(0.02)
    return path.read_text()


def test_ready_file_appears_only_once_the_port_accepts(
    start_host: StartHost, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    ready.write_text("http://127.0.0.1:1\n")  # a previous run's: must not say ready
    env = {"CI_MODE_IMPORT_DELAY": "1"}
    host = start_host(APP, *SERVED, "--ready-file", str(ready), env=env, ready=False)
    host.wait_for("ci_mode: importing")
    assert not ready.exists()  # the import sleeps a second after that line
    url = appeared(ready).strip()
    assert url == f"http://127.0.0.1:{host.port}"
    assert get(f"{url}/api/hello") == (200, "hello nobody")  # accepted at once
    assert not list(tmp_path.glob(".ready*"))  # the temporary file was renamed, not left
    assert host.stop() == 0
    assert not ready.exists()


def test_wait_ready_prints_the_url_of_a_host_on_a_system_chosen_port(
    start_host: StartHost, tmp_path: Path
) -> None:
    ready = tmp_path / "sub" / "ready"
    host = start_host(APP, *SERVED, "--port", "0", "--ready-file", str(ready), ready=False)
    waited = run_funchost(["wait-ready", "--ready-file", str(ready), "--timeout", "30"], APP)
    assert waited.returncode == 0, waited.stderr
    url = waited.stdout.strip()
    assert get(f"{url}/api/hello") == (200, "hello nobody")
    host.wait_for(READY)
    assert url.rsplit(":", 1)[1] in host.output  # the port the report names


def test_wait_ready_times_out_with_the_not_started_exit_code(tmp_path: Path) -> None:
    ready = tmp_path / "never"
    result = run_funchost(["wait-ready", "--ready-file", str(ready), "--timeout", "0.3"], APP)
    assert result.returncode == 3
    assert result.stderr == (
        f"funchost: no host answered /admin/host/ping at the URL in {ready} within 0.3 s; "
        "expected `funchost start --ready-file` (or the URL) to be serving\n"
    )


def test_invoke_calls_http_functions_and_starts_the_others(start_host: StartHost) -> None:
    host = start_host(APP, *SERVED)
    url = ["--url", host.base_url]
    said = run_funchost(["invoke", "hello", *url, "--data", "ci"], APP)
    assert (said.returncode, said.stdout) == (0, "hello ci\n")
    assert said.stderr == "funchost invoke: POST /api/hello: 200\n"
    failed = run_funchost(["invoke", "broken", *url], APP)
    assert failed.returncode == 1
    assert failed.stderr == "funchost invoke: GET /api/broken: 500\n"
    started = run_funchost(["invoke", "TICK", *url], APP)  # names match case-insensitively
    assert started.returncode == 0
    assert (
        started.stderr
        == "funchost invoke: tick: accepted (202); its outcome is in the host's log\n"
    )
    host.wait_for("TICK ran")
    missing = run_funchost(["invoke", "nope", *url], APP)
    assert missing.returncode == 1
    assert missing.stderr == (
        f"funchost invoke: the host at {host.base_url} has no function named 'nope'\n"
    )


def test_invoke_sends_the_master_key_when_the_host_checks_keys(
    start_host: StartHost, tmp_path: Path
) -> None:
    key = "ci-master-key-for-the-test"
    env = {"FUNCTIONS_MASTER_KEY": key, "FUNCTIONS_SECRETS_PATH": str(tmp_path / "secrets")}
    ready = tmp_path / "ready"
    start_host(APP, *SERVED, "--enable-auth", "--ready-file", str(ready), env=env)
    args = ["invoke", "tick", "--ready-file", str(ready)]
    refused = run_funchost(args, APP, env={"FUNCTIONS_MASTER_KEY": ""})
    assert refused.returncode == 1
    assert "checks keys: pass --key (or FUNCTIONS_MASTER_KEY)" in refused.stderr
    assert key not in refused.stderr
    accepted = run_funchost(args, APP, env={"FUNCTIONS_MASTER_KEY": key})
    assert accepted.returncode == 0, accepted.stderr


def test_invoke_without_a_host_exits_not_started(tmp_path: Path) -> None:
    result = run_funchost(["invoke", "tick", "--ready-file", str(tmp_path / "none")], APP)
    assert result.returncode == 3
    assert "is the host started?" in result.stderr


def test_invoke_local_prints_the_outputs_without_a_host() -> None:
    result = run_funchost(["invoke", "shout", "--local", "--data", "quiet please"], APP)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # the app's import-time print went to stderr
    assert doc["outputs"] == {"out": "QUIET PLEASE"}
    assert "ci_mode: importing" in result.stderr


def test_check_json_lists_functions_and_is_the_only_stdout() -> None:
    result = run_funchost(["check", "--json"], APP)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    names = {f["name"]: f["trigger"] for f in doc["functions"]}
    assert names == {
        "hello": "httpTrigger",
        "broken": "httpTrigger",
        "tick": "timerTrigger",
        "shout": "queueTrigger",
    }
    shout = next(f for f in doc["functions"] if f["name"] == "shout")
    assert {"name": "out", "type": "queue", "direction": "out"} in shout["bindings"]


def test_check_json_of_a_broken_app_lists_every_problem() -> None:
    result = run_funchost(["check", "--json"], BROKEN_APPS / "bad_signatures")
    assert result.returncode == 3
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert doc["problems"] == FUNCTION_ERRORS["bad_signatures"]


def test_a_ready_file_is_written_through_a_rename(tmp_path: Path) -> None:
    """Readers see the whole URL or nothing: the file is renamed into place."""
    from funchost.host.ci.ready import read_ready, write_ready

    target = tmp_path / "ready"
    write_ready(target, "http://127.0.0.1:7071")
    assert read_ready(target) == "http://127.0.0.1:7071"
    assert [p.name for p in tmp_path.iterdir()] == ["ready"]


def test_a_wait_timeout_that_is_no_number_is_a_usage_error() -> None:
    result = run_funchost(["wait-ready"], APP, env={"FUNCHOST_WAIT_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert result.stderr == (
        "funchost: environment: 'FUNCHOST_WAIT_TIMEOUT' is 'soon'; expected a number of "
        "seconds, 0 or more\n"
    )
