"""A real Azurite for the tests that need storage: the session-scoped ``azurite`` fixture.

Azurite (npm ``azurite@3.35.0``, the last release for Node 20) is started once per test
session on free loopback ports, in memory, and stopped at the end. Tests reach it through
``azurite.connection_string``. Without ``node_modules/.bin/azurite`` the tests that use it are
skipped with the command that installs it, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peer_process import terminate

from funchost.host.azurite import azurite_arguments
from funchost.host.testing.storage import free_ports

REPO = Path(__file__).resolve().parent.parent
AZURITE = REPO / "node_modules" / ".bin" / "azurite"
INSTALL = "npm install --no-save azurite@3.35.0"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, the same in every installation).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class Azurite:
    """A running Azurite: its ports and the connection string for them."""

    blob_port: int
    queue_port: int
    table_port: int

    @property
    def connection_string(self) -> str:
        """``UseDevelopmentStorage=true`` only works on the default ports; this names ours."""
        base = f"http://127.0.0.1:{{}}/{ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base.format(self.blob_port)};"
            f"QueueEndpoint={base.format(self.queue_port)};"
            f"TableEndpoint={base.format(self.table_port)};"
        )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_ready(proc: subprocess.Popen[bytes], ports: list[int], log: Path) -> None:
    """Poll with plain TCP connects (the SDK's own retries would sleep ~15 s)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AzuriteStartError(
                f"Azurite exited with code {proc.returncode}:\n{log.read_text()}"
            )
        if all(_listening(port) for port in ports):
            return
        time.sleep(0.05)
    proc.kill()
    raise AzuriteStartError(
        f"Azurite did not listen on {ports} within {READY_TIMEOUT} s:\n{log.read_text()}"
    )


class AzuriteStartError(RuntimeError):
    """Azurite exited or did not listen in time; the message holds its log."""


def launch(
    workdir: Path,
    wrap: Callable[[list[str]], list[str]] = list,
    *,
    on: Azurite | None = None,
    on_disk: bool = False,
) -> tuple[subprocess.Popen[bytes], Azurite]:
    """Azurite in memory on three free loopback ports, listening; its log in ``workdir``.

    ``wrap`` may prefix the command (the queue benchmark pins Azurite to a CPU). ``on`` reuses
    a stopped Azurite's ports and ``on_disk`` keeps the data in ``workdir``, so the fault suite
    can stop Azurite and start it again as the same service with the same messages.
    """
    ports = [on.blob_port, on.queue_port, on.table_port] if on else free_ports(3)
    blob, queue, table = ports
    storage = ["--location", str(workdir)] if on_disk else ["--inMemoryPersistence"]
    args = azurite_arguments({"blob": blob, "queue": queue, "table": table}.items(), storage)
    log = workdir / "azurite.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(wrap([str(AZURITE), *args]), cwd=workdir, stdout=out, stderr=out)
    _wait_ready(proc, ports, log)
    return proc, Azurite(blob, queue, table)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require_installed() -> None:
    """Skip the test when Azurite is not installed; in CI, where it must be, fail it."""
    if AZURITE.exists():
        return
    message = f"Azurite is not installed ({AZURITE} is missing): run `{INSTALL}` in {REPO}"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Start Azurite once for the session; skip (fail in CI) when it is not installed."""
    require_installed()
    try:
        proc, running = launch(tmp_path_factory.mktemp("azurite"))
    except AzuriteStartError as exc:
        pytest.fail(str(exc))
    try:
        yield running
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL when Azurite does not exit within STOP_TIMEOUT."""
    terminate(proc, STOP_TIMEOUT)
