"""``funchost start`` starts Azurite itself for ``UseDevelopmentStorage=true``, and stops it.

These tests use Azurite's default ports 10000-10002 (that is the point of
UseDevelopmentStorage), so they skip when something already listens there, such as a
developer's own Azurite; in CI the ports are free.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from azurite import AZURITE, REPO, require_installed
from conftest import APPS, StartHost, free_port, run_funchost

from funchost.host.azurite import missing_message, ports_in_use

APP = APPS / "azurite_timer"
DEV = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
HOST_ID = "azurite-autostart"
STATUS_BLOB = f"timers/{HOST_ID}/Host.Functions.yearly/status"


@pytest.fixture
def free_dev_ports() -> None:
    """Skip when anything listens on 10000-10002: never touch someone else's emulator."""
    busy = ports_in_use()
    if busy:
        pytest.skip(
            f"127.0.0.1 port(s) {busy} are in use (a running Azurite?); these tests need them free"
        )


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    """The app in a temp folder: no node_modules above it, Azurite's data out of the repo."""
    target = tmp_path / "app"
    shutil.copytree(APP, target)
    return target


def _azurite_version() -> str:
    manifest = REPO / "node_modules" / "azurite" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains text (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(entry.name))
    return pids


def _status_blobs() -> list[str]:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(DEV["AzureWebJobsStorage"], retry_total=0)
    container = service.get_container_client("azure-webjobs-hosts")
    if not container.exists():
        return []
    return [blob.name for blob in container.list_blobs(name_starts_with="timers/")]


def _dev_env() -> dict[str, str]:
    """The development storage, with the repository's Azurite first on PATH."""
    return {
        **DEV,
        "AzureFunctionsWebHost__hostid": HOST_ID,
        "PATH": f"{AZURITE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.mark.usefixtures("free_dev_ports")
def test_azurite_is_started_for_the_development_storage_and_stopped_on_exit(
    start_host: StartHost, app_copy: Path
) -> None:
    require_installed()
    env = _dev_env()
    host = start_host(app_copy, env=env)
    data = app_copy / ".funchost" / "azurite"
    assert host.wait_for("Started Azurite") == (
        f"Started Azurite {_azurite_version()} for AzureWebJobsStorage (UseDevelopmentStorage): "
        "blob 127.0.0.1:10000, queue 127.0.0.1:10001, table 127.0.0.1:10002; "
        f"data in {data}; it stops with funchost (--no-azurite to run your own)."
    )
    host.wait_for("YEARLY RAN past_due=False")
    deadline = time.monotonic() + 10
    while STATUS_BLOB not in _status_blobs():
        assert time.monotonic() < deadline, f"no {STATUS_BLOB}; blobs: {_status_blobs()}"
        time.sleep(0.1)
    assert _processes_mentioning(str(data)), "the Azurite process should be running"

    assert host.stop() == 0
    assert _processes_mentioning(str(data)) == []
    assert ports_in_use() == []
    assert "could not use" not in host.output  # the lease was released while Azurite was up


@pytest.mark.usefixtures("free_dev_ports")
def test_missing_azurite_with_strict_says_how_to_install_it_and_exits_3(
    app_copy: Path, tmp_path: Path
) -> None:
    # Without --strict the host serves what does not need the storage: test_azurite_missing.py.
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**DEV, "PATH": str(empty)}
    result = run_funchost(["start", "--strict", "--port", str(free_port())], app_copy, env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Host started" not in result.stdout
    assert result.stderr == f"funchost: {missing_message(['AzureWebJobsStorage'])}\n"
    assert result.stderr == (
        "funchost: AzureWebJobsStorage uses the development storage (Azurite on "
        "127.0.0.1:10000-10002), but nothing listens there and Azurite is not installed: "
        "install it with `npm install -g azurite@3.35.0` (later versions need Node 22) and "
        "funchost starts it (it looks on PATH and in node_modules/.bin of the app's folder, the "
        "current folder and their parents), or start your own storage emulator there\n"
    )


@pytest.mark.parametrize("switch", [["--no-azurite"], []])
def test_no_azurite_starts_the_host_without_it(
    start_host: StartHost, app_copy: Path, tmp_path: Path, switch: list[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**DEV, "PATH": str(empty)}
    if not switch:
        env["FUNCHOST_NO_AZURITE"] = "1"
    host = start_host(app_copy, *switch, env=env)
    assert "Azurite" not in host.drain()
    assert not (app_copy / ".funchost" / "azurite").exists()


def test_an_app_without_development_storage_does_not_start_azurite(
    start_host: StartHost, app_copy: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    host = start_host(app_copy, env={"PATH": str(empty)})  # no AzureWebJobsStorage: files
    assert "Azurite" not in host.drain()


@pytest.mark.usefixtures("free_dev_ports")
def test_under_reload_azurite_is_started_once_by_the_supervisor(
    start_host: StartHost, app_copy: Path
) -> None:
    require_installed()
    env = _dev_env()
    host = start_host(app_copy, "--reload", env=env, ready=False)
    host.wait_for("worker(s) serving")
    data = str(app_copy / ".funchost" / "azurite")
    emulator = _processes_mentioning(data)
    assert emulator, host.output
    source = app_copy / "function_app.py"
    source.write_text(source.read_text() + "\n")
    host.wait_for("Reloaded in ")
    assert host.output.count("Started Azurite") == 1  # not again for the new worker
    assert _processes_mentioning(data) == emulator  # the same process serves on
    assert host.stop() == 0
    assert _processes_mentioning(data) == []
    assert ports_in_use() == []
