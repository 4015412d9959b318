"""Warmup trigger through the real ``funchost start``: once before ready, then on demand."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import READY, StartHost
from http_helpers import UUID, call, get, invocation_lines, mark

REASON = "This function was programmatically called via the host APIs."
MASTER = "warmup-master-key"


def test_warmup_runs_once_before_the_host_reports_ready(start_host: StartHost) -> None:
    host = start_host("warmup_basic")
    lines = host.lines
    ready = next(i for i, line in enumerate(lines) if READY in line)
    executed = [i for i, line in enumerate(lines) if "Executed 'Functions.warmup'" in line]
    assert len(executed) == 1 and executed[0] < ready, host.output
    assert re.search(
        rf"Executing 'Functions\.warmup' \(Reason='{re.escape(REASON)}', Id={UUID}\)",
        host.output,
    )
    assert "WARMUP run 1 with WarmUpContext" in host.output
    assert "\twarmup: warmupTrigger" in lines
    assert get(host, "/api/runs").text == "1"


def test_admin_warmup_runs_it_again_and_answers_after_it_finished(start_host: StartHost) -> None:
    host = start_host("warmup_basic")
    since = mark(host)
    reply = get(host, "/admin/warmup")
    assert (reply.status, reply.body) == (200, b"")
    # The function has finished when the answer arrives: its count is already 2.
    assert get(host, "/api/runs").text == "2"
    _, _, new = invocation_lines(host, since, "warmup")
    assert any("WARMUP run 2 with WarmUpContext" in line for line in new), new
    assert call(host, "POST", "/admin/warmup").status == 200
    assert get(host, "/api/runs").text == "3"
    assert call(host, "PUT", "/admin/warmup").status == 404


def test_a_failing_warmup_is_logged_but_not_fatal(start_host: StartHost) -> None:
    host = start_host("warmup_failing")
    assert "Executed 'Functions.warmup' (Failed" in host.output
    assert "ConnectionError: cache server unreachable" in host.output
    assert get(host, "/api/alive").text == "alive"
    since = mark(host)
    assert get(host, "/admin/warmup").status == 500
    _, executed, _ = invocation_lines(host, since, "warmup")
    assert "(Failed" in executed


def test_admin_warmup_needs_the_master_key_when_auth_is_enforced(
    start_host: StartHost, tmp_path: Path
) -> None:
    env = {"FUNCTIONS_SECRETS_PATH": str(tmp_path), "FUNCTIONS_MASTER_KEY": MASTER}
    host = start_host("warmup_basic", "--enable-auth", env=env)
    doc = json.loads((tmp_path / "host.json").read_text())
    function_key = doc["functionKeys"][0]["value"]
    assert get(host, "/admin/warmup").status == 401
    assert get(host, f"/admin/warmup?code={function_key}").status == 401
    assert get(host, "/admin/warmup", headers={"x-functions-key": MASTER}).status == 200
    assert get(host, f"/api/runs?code={MASTER}").text == "2"


def test_a_warmup_function_not_named_warmup_is_run_with_a_warning(start_host: StartHost) -> None:
    host = start_host("warmup_renamed")
    output = host.output
    assert (
        "Function 'prime_cache' has a warmup trigger but is not named 'warmup': the Functions "
        "host in Azure never runs it (funchost does); rename it to 'warmup'." in output
    )
    assert "Executed 'Functions.prime_cache' (Succeeded" in output
    # An app has one warmup function: the second cannot own /admin/warmup.
    assert "function 'warmup': path '/admin/warmup' is already served by 'prime_cache'" in output
    assert "Functions.warmup" not in output
