"""``funchost start --workers N``: N processes behind one port, stopped and started as one."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from azurite import Azurite
from conftest import (
    APPS,
    BROKEN_APPS,
    StartHost,
    free_port,
    funchost_command,
    host_env,
    run_funchost,
)
from http_helpers import get
from queue_helpers import (
    APP,
    lines_with,
    message_count,
    queue_env,
    send,
    unique,
    wait_lines,
    wait_until,
    words_after,
)
from supervisor_helpers import app_copy, concurrently, eventually, pid_answer, supervised

from funchost.host.ci import ready


def test_two_workers_answer_from_two_processes(start_host: StartHost, tmp_path: Path) -> None:
    host = supervised(start_host, app_copy(tmp_path), "--workers", "2")
    pids = {pid_answer(host) for _ in range(6)}
    assert len(pids) == 2
    assert host.output.count("Host started in ") == 1  # one report, from worker 0
    assert host.stop() == 0


def test_the_app_setting_sets_the_count_and_sync_requests_run_side_by_side(
    start_host: StartHost, tmp_path: Path
) -> None:
    # One thread each: in one process the second request would wait for the first.
    env = {"FUNCTIONS_WORKER_PROCESS_COUNT": "2", "PYTHON_THREADPOOL_THREAD_COUNT": "1"}
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    host = supervised(start_host, app_copy(tmp_path), MEET_DIR=str(meeting), **env)
    answers = concurrently(2, lambda: get(host, "/api/meet?n=2").text)
    assert "2 worker(s) serving" in host.output
    pids, outcomes = zip(*(str(answer).split() for answer in answers), strict=True)
    assert outcomes == ("met", "met"), answers  # both inside at once (one thread each)...
    assert len(set(pids)) == 2, answers  # ...in two processes
    assert host.stop() == 0


def test_sigterm_under_load_answers_every_accepted_request(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = supervised(start_host, app_copy(tmp_path), "--workers", "2")
    statuses: list[object] = []
    pending = threading.Thread(
        target=lambda: statuses.extend(concurrently(6, lambda: get(host, "/api/sleep?s=1").status))
    )
    pending.start()
    running = "Executing 'Functions.sleep'"
    eventually("6 requests running", lambda: host.drain(0).count(running) == 6)
    host.proc.send_signal(signal.SIGTERM)
    pending.join(15)
    assert host.proc.wait(20) == 0
    assert statuses == [200] * 6
    with pytest.raises(ConnectionRefusedError):  # and nothing listens once it is gone
        get(host, "/api/pid")


def test_ready_file_appears_only_once_every_worker_serves(
    start_host: StartHost, tmp_path: Path
) -> None:
    ready_file = tmp_path / "ready"
    host = start_host(
        APPS / "ci_mode",
        "--workers",
        "2",
        "--no-azurite",
        "--functions",
        "hello",
        "--ready-file",
        str(ready_file),
        env={"CI_MODE_IMPORT_DELAY": "1"},
        ready=False,
    )
    host.wait_for("ci_mode: importing")
    assert not ready_file.exists()  # the workers' imports sleep a second after that line
    eventually("the ready file", ready_file.exists)
    assert "worker(s) serving" in host.drain(0)  # written after every worker said it serves
    url = ready.read_ready(ready_file)
    assert url == f"http://127.0.0.1:{host.port}"
    assert get(host, "/api/hello").text == "hello nobody"
    assert host.stop() == 0
    assert not ready_file.exists()


def occurrences(output: str) -> list[int]:
    """The timer occurrences (whole seconds) that ran, in any worker."""
    return [int(line.rsplit(" ", 1)[1]) for line in output.splitlines() if " OCCURRENCE " in line]


def test_a_timer_runs_in_one_worker_and_once_across_a_reload(
    start_host: StartHost, tmp_path: Path
) -> None:
    root = app_copy(tmp_path, APPS / "timer_singleton")
    env = {"FUNCHOST_STATE_DIR": str(tmp_path / "state"), "AzureWebJobsStorage": ""}
    host = supervised(start_host, root, "--workers", "2", "--reload", **env)
    host.wait_for("Unable to acquire Singleton lock")  # the other worker waits for it
    eventually("3 runs", lambda: len(occurrences(host.drain(0))) >= 3)
    (root / "function_app.py").write_text((root / "function_app.py").read_text() + "\n")
    host.wait_for("Reloaded in ")
    count = len(occurrences(host.drain(0)))
    eventually("runs after the reload", lambda: len(occurrences(host.drain(0))) >= count + 2)
    assert host.stop() == 0
    ran = occurrences(host.output)
    assert len(ran) == len(set(ran)), sorted(ran)  # no occurrence ran twice


def test_strict_with_an_app_that_cannot_load_exits_3_with_the_error_once() -> None:
    result = run_funchost(
        ["start", "--workers", "2", "--strict", "--no-azurite", "--port", str(free_port())],
        BROKEN_APPS / "syntax_error",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.count("importing the app raised SyntaxError") == 1  # from worker 0
    assert "worker(s) serving" not in result.stdout


def test_the_supervisor_stops_when_its_output_is_gone(tmp_path: Path) -> None:
    # A closed terminal: SIGHUP (a reload) and then every write fails; nobody sees the host.
    port = free_port()
    proc = subprocess.Popen(
        [*funchost_command(), "start", "--workers", "2", "--no-azurite", "--port", str(port)],
        cwd=app_copy(tmp_path),
        env=host_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        while b"worker(s) serving" not in proc.stdout.readline():
            assert proc.poll() is None
        proc.stdout.close()
        reply = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        reply.request("GET", "/api/pid")  # its log lines find the pipe closed
        assert reply.getresponse().status == 200
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_workers_created_keys_once_and_all_accept_them(
    start_host: StartHost, tmp_path: Path
) -> None:
    # No secrets yet: four workers starting at once must not each make their own.
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--workers", "4", "--enable-auth")
    secrets = json.loads((root / ".funchost" / "secrets" / "host.json").read_text())
    master = {"x-functions-key": secrets["masterKey"]["value"]}
    statuses = [get(host, "/admin/host/status", master).status for _ in range(8)]
    assert statuses == [200] * 8  # every worker (two requests each) knows the key
    assert host.stop() == 0


def test_two_workers_competing_on_a_queue_run_each_message_once(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("workers")
    env = queue_env(azurite, binary=queue)
    host = start_host(APP, "--workers", "2", "--functions", "binary", env=env, ready=False)
    host.wait_for("worker(s) serving")
    sent = [f"m{number:02}".encode() for number in range(20)]
    send(azurite, queue, *sent)
    lines = wait_lines(host, " BINARY ", len(sent), timeout=30)
    wait_until(lambda: message_count(azurite, queue) == 0, 15, "the queue empty")
    assert sorted(bytes.fromhex(word) for word in words_after(lines, "BINARY")) == sent
    assert len(lines_with(host, " BINARY ")) == len(sent)  # none twice
    assert host.stop() == 0
