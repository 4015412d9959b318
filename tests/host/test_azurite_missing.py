"""Without Azurite, ``funchost start`` serves what does not need the development storage.

An app on ``UseDevelopmentStorage=true`` with HTTP, timer, queue and blob functions, on a
machine where nothing listens on 127.0.0.1:10000-10002 and no Azurite can be found: HTTP
functions answer, timers run on the local state folder (one warning says so and how to get
Azurite), and the functions that need the storage are disabled with the same hint. With
Azurite installed the same app gets it started, as before; ``--strict`` exits 3
(test_azurite_autostart.py). These tests skip when anything listens on Azurite's ports:
the point is that nothing does.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from azurite import AZURITE, require_installed
from broken_app_cases import disabled
from conftest import APPS, StartHost, run_funchost
from http_helpers import call

from funchost.host.azurite import find_azurite, ports_in_use

APP = APPS / "storage_missing"
HOST_ID = "storage-missing"
HINT = (
    "AzureWebJobsStorage uses the development storage (Azurite on 127.0.0.1:10000-10002), but "
    "nothing listens there and Azurite is not installed: install it with "
    "`npm install -g azurite@3.35.0` (later versions need Node 22) and funchost starts it (it "
    "looks on PATH and in node_modules/.bin of the app's folder, the current folder and their "
    "parents), or start your own storage emulator there"
)
DISABLED = [
    f"function_app.py:32: function 'on_message': binding 'msg' (queueTrigger): {HINT}",
    f"function_app.py:38: function 'enqueue': binding 'out' (queue): {HINT}",
    f"function_app.py:46: function 'on_blob': binding 'blob' (blobTrigger): {HINT}",
]
SERVED = ["hello", "yearly", "every_second"]
EVERY = [*SERVED, "on_message", "enqueue", "on_blob"]
STATUS_WAIT = 10.0


def warning(app: Path) -> str:
    """The one warning, for every timer of the app."""
    return (
        f"Warning: {HINT}. Until then timers keep their schedule status and lock in files under "
        f"{app / '.funchost' / 'state'}, as with AzureWebJobsStorage unset (restart funchost "
        "once the storage runs to use it)."
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """The app in a temp folder: no node_modules above it, its state out of the repo."""
    target = tmp_path / "app"
    shutil.copytree(APP, target)
    return target


@pytest.fixture
def no_azurite(app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a machine without Azurite; skip if one is reachable after all."""
    busy = ports_in_use()
    if busy:
        pytest.skip(f"127.0.0.1 port(s) {busy} are in use (a running Azurite?); they must be free")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # what funchost will see, in its cwd (the app)
    found = find_azurite(app, cwd=app)
    if found is not None:
        pytest.skip(f"funchost would find Azurite at {found}; this test needs none")
    return {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "AzureFunctionsWebHost__hostid": HOST_ID,
        "PATH": str(empty),
    }


def served(output: str) -> list[str]:
    """The functions the report lists as served (before the disabled list)."""
    head = output.split("function(s) disabled")[0]
    return [line[1:].split(":")[0] for line in head.splitlines() if line.startswith("\t")]


def test_http_and_timers_are_served_and_storage_functions_disabled(
    start_host: StartHost, app: Path, no_azurite: dict[str, str]
) -> None:
    host = start_host(app, env=no_azurite)
    assert served(host.output) == SERVED
    assert disabled(host.output) == DISABLED
    assert [line for line in host.lines if line.startswith("Warning:")] == [warning(app)]

    reply = call(host, "GET", "/api/hello")
    assert (reply.status, reply.text) == (200, "hello")
    assert call(host, "POST", "/api/enqueue", body="x").status == 404  # disabled: not routed
    host.wait_for("YEARLY RAN past_due=False")
    host.wait_for("EVERY SECOND RAN")
    status = app / ".funchost" / "state" / "timers" / HOST_ID / "Host.Functions.yearly" / "status"
    deadline = time.monotonic() + STATUS_WAIT
    while not status.exists():
        assert time.monotonic() < deadline, f"no {status}"
        time.sleep(0.05)

    assert host.stop() == 0
    assert "Started Azurite" not in host.output
    assert "could not use" not in host.output  # the timers never tried the storage
    assert not (app / ".funchost" / "azurite").exists()


def test_check_judges_the_app_not_the_machine(app: Path, no_azurite: dict[str, str]) -> None:
    result = run_funchost(["check"], app, no_azurite)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "disabled" not in result.stdout and "Warning" not in result.stdout
    assert result.stdout.endswith("funchost check: OK, 6 function(s).\n")


def test_no_azurite_keeps_every_function_for_the_storage_started_later(
    start_host: StartHost, app: Path, no_azurite: dict[str, str]
) -> None:
    host = start_host(app, "--no-azurite", env=no_azurite)
    assert served(host.output) == EVERY
    assert "disabled" not in host.output and "Warning" not in host.output
    assert host.stop() == 0


def test_with_azurite_installed_it_is_started_and_every_function_served(
    start_host: StartHost, app: Path
) -> None:
    if ports_in_use():
        pytest.skip(f"127.0.0.1 port(s) {ports_in_use()} are in use; Azurite needs them")
    require_installed()
    env = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "AzureFunctionsWebHost__hostid": HOST_ID,
        "PATH": f"{AZURITE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    host = start_host(app, env=env)
    host.wait_for("Started Azurite ")
    assert served(host.output) == EVERY
    assert "disabled" not in host.output and "Warning" not in host.output
    reply = call(host, "POST", "/api/enqueue", body="through azurite")
    assert (reply.status, reply.text) == (200, "queued")
    host.wait_for("MESSAGE through azurite")
    host.wait_for("YEARLY RAN past_due=False")
    assert host.stop() == 0
    assert ports_in_use() == []
    assert not (app / ".funchost" / "state").exists()  # the timers' state went to Azurite
