"""``funchost start --reload``: a save is served by a fresh worker; a broken save is not."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
from conftest import StartHost
from http_helpers import get
from supervisor_helpers import (
    answer,
    app_copy,
    edit,
    eventually,
    pid_answer,
    supervised,
)
from watchfiles import Change

from funchost.errors import ConfigError
from funchost.host.supervisor.config import plan, worker_count
from funchost.host.supervisor.watchfilesreload import ReloadFilter

RELOADED = "Reloaded in "
FAILED = "Reload failed: the new code did not start"


def test_a_saved_change_is_served_by_the_new_code(start_host: StartHost, tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--reload")
    assert answer(host, "/api/version") == "v1"
    before = pid_answer(host)
    edit(root / "function_app.py", '"v1"', '"v2"')
    eventually("v2 served", lambda: answer(host, "/api/version") == "v2")
    host.wait_for(RELOADED)
    assert "Reloading (function_app.py changed)." in host.output
    assert pid_answer(host) != before  # a fresh process indexed it
    assert host.stop() == 0


def test_a_syntax_error_is_reported_the_old_code_serves_and_the_next_save_recovers(
    start_host: StartHost, tmp_path: Path
) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--reload")
    source = root / "function_app.py"
    edit(source, '"v1"', '"v2" +')  # a SyntaxError
    host.wait_for(FAILED)
    assert "SyntaxError" in host.output
    assert 'function_app.py", line' in host.output  # where: the file and line
    assert answer(host, "/api/version") == "v1"  # the previous version still serves
    edit(source, '"v2" +', '"v3"')
    eventually("v3 served", lambda: answer(host, "/api/version") == "v3")
    assert host.stop() == 0


def test_an_app_broken_at_start_serves_once_a_save_fixes_it(
    start_host: StartHost, tmp_path: Path
) -> None:
    root = app_copy(tmp_path)
    source = root / "function_app.py"
    edit(source, '"v1"', '"v1" +')
    host = supervised(start_host, root, "--reload")  # as one host: serves no function
    assert "importing the app raised SyntaxError" in host.output
    assert get(host, "/api/version").status == 404
    edit(source, '"v1" +', '"v1"')
    host.wait_for(RELOADED)
    assert answer(host, "/api/version") == "v1"
    assert host.stop() == 0


def test_a_changed_local_setting_is_read_afresh(start_host: StartHost, tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--reload")
    assert answer(host, "/api/greeting") == "hello"
    edit(root / "local.settings.json", '"hello"', '"hi"')
    eventually("the new value", lambda: answer(host, "/api/greeting") == "hi")
    host.wait_for("Reloading (local.settings.json changed).")
    assert host.stop() == 0


def test_requests_in_flight_finish_on_the_old_worker(start_host: StartHost, tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--reload")
    old = pid_answer(host)
    answers: list[str] = []
    slow = threading.Thread(target=lambda: answers.append(answer(host, "/api/sleep?s=2")))
    slow.start()
    host.wait_for("Executing 'Functions.sleep'")
    edit(root / "host.json", '"2.0"', '"2.0", "logging": {}')  # host.json reloads too
    host.wait_for(RELOADED)
    slow.join(10)
    assert answers == [str(old)]  # answered by the old worker, after the new one served
    assert pid_answer(host) != old
    assert "Reloading (host.json changed)." in host.output
    assert host.stop() == 0


def test_no_request_fails_across_reloads(start_host: StartHost, tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--reload")
    statuses: list[int] = []
    stop = threading.Event()

    def client() -> None:  # back to back, a fresh connection each: some land mid-handover
        while not stop.is_set():
            statuses.append(get(host, "/api/version").status)

    polling = threading.Thread(target=client)
    polling.start()
    try:
        for version in ("v2", "v3"):
            mark = host.output.count(RELOADED)
            edit(root / "function_app.py", f'"v{int(version[1]) - 1}"', f'"{version}"')
            eventually("the reload", lambda m=mark: host.drain(0).count(RELOADED) > m)
    finally:
        stop.set()
        polling.join(10)
    assert len(statuses) > 20 and set(statuses) == {200}, statuses
    assert answer(host, "/api/version") == "v3"
    assert host.stop() == 0


def test_sighup_reloads_every_worker(start_host: StartHost, tmp_path: Path) -> None:
    root = app_copy(tmp_path)
    host = supervised(start_host, root, "--no-reload", "--workers", "2")
    before = {pid_answer(host) for _ in range(4)}
    host.proc.send_signal(signal.SIGHUP)
    host.wait_for(RELOADED)
    after = {pid_answer(host) for _ in range(4)}
    assert len(before) == len(after) == 2
    assert not before & after
    assert "Reloading (SIGHUP)." in host.output
    assert host.stop() == 0


def test_watched_files_are_code_and_settings_outside_tools_folders(tmp_path: Path) -> None:
    watched = ReloadFilter()
    for name in ("function_app.py", "pkg/helpers.py", "host.json", "local.settings.json"):
        assert watched(Change.modified, str(tmp_path / name)), name
    for name in (
        "notes.txt",
        ".venv/lib/site.py",
        "__pycache__/function_app.cpython-311.pyc",
        ".git/hooks/pre-commit.py",
        "node_modules/x/host.json",
        ".funchost/azurite/__azurite_db_blob__.json",
        "__blobstorage__/host.json",
    ):
        assert not watched(Change.modified, str(tmp_path / name)), name


def test_worker_count_follows_the_functions_host() -> None:
    assert worker_count(None, {}) == 1
    assert worker_count(None, {"FUNCTIONS_WORKER_PROCESS_COUNT": "3"}) == 3
    assert worker_count(None, {"FUNCTIONS_WORKER_PROCESS_COUNT": "0"}) == 1  # as the host: 1
    assert worker_count(None, {"FUNCTIONS_WORKER_PROCESS_COUNT": "10"}) == 10
    assert worker_count(4, {"FUNCTIONS_WORKER_PROCESS_COUNT": "2"}) == 4  # the flag wins
    for bad in ("two", "11"):  # the Functions host does not start the worker either
        with pytest.raises(
            ConfigError, match=rf"FUNCTIONS_WORKER_PROCESS_COUNT.*'{bad}'.*up to 10"
        ):
            worker_count(None, {"FUNCTIONS_WORKER_PROCESS_COUNT": bad})


def test_reload_is_on_only_for_a_terminal_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert not plan(None, None, {}).reload
    assert plan(None, True, {}).reload
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert plan(None, None, {}).reload
    assert not plan(None, False, {}).supervised
