"""The local Cosmos DB peer (tests/peers/cosmos) as a subprocess, for Cosmos DB tests.

API (kept small and stable; other test modules build on it):

- ``start_peer() -> CosmosPeer`` starts ``python -m tests.peers.cosmos --port 0`` (cwd =
  repository root; it starts cosmosdb-server on an inner port and prints its connection
  string), waits for the ready line (bounded by ``READY_TIMEOUT``) and returns the running peer.
- ``cosmos_peer()`` is the same as a context manager that stops the peer on exit.
- ``CosmosPeer.connection_string`` (``AccountEndpoint=http://127.0.0.1:P/;AccountKey=K;``,
  for ``CosmosClient.from_connection_string`` and for app settings), ``.endpoint``
  (``http://127.0.0.1:P/``), ``.key``, ``.port``; ``.stop()`` (SIGTERM, which stops the node
  child too, then SIGKILL after ``STOP_TIMEOUT``); ``.log()`` is the peer's stderr so far.
- ``peer_fixture(scope="function")`` makes a pytest fixture yielding a ``CosmosPeer``:
  ``cosmos = peer_fixture(scope="module")`` at module level.

The peer starts empty: create databases and containers through the SDK.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
READY_PREFIX = "AccountEndpoint=http://127.0.0.1:"


class CosmosPeerError(RuntimeError):
    """The peer did not start (its stderr is in the message)."""


@dataclass
class CosmosPeer:
    """A running peer process."""

    proc: subprocess.Popen[str]
    connection_string: str
    stderr_path: Path

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:P/``."""
        return self.connection_string.split(";", 1)[0].removeprefix("AccountEndpoint=")

    @property
    def key(self) -> str:
        """The account key (any base64 key works; this is the emulator's)."""
        return self.connection_string.split("AccountKey=", 1)[1].rstrip(";")

    @property
    def port(self) -> int:
        """The public port."""
        return int(self.endpoint.rstrip("/").rsplit(":", 1)[1])

    def log(self) -> str:
        """What the peer (and cosmosdb-server) wrote to stderr so far."""
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it does not exit within STOP_TIMEOUT."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr_path.unlink(missing_ok=True)


def start_peer() -> CosmosPeer:
    """Start a peer on a free loopback port and wait for its ready line."""
    fd, name = tempfile.mkstemp(prefix="cosmos-peer-", suffix=".log")
    stderr_path = Path(name)
    with os.fdopen(fd, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.peers.cosmos", "--port", "0"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return CosmosPeer(proc, _ready_line(proc, stderr_path), stderr_path)


def _ready_line(proc: subprocess.Popen[str], stderr_path: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().strip()
            if line.startswith(READY_PREFIX):
                return line
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    log = stderr_path.read_text(errors="replace")
    raise CosmosPeerError(
        f"the Cosmos DB peer did not become ready within {READY_TIMEOUT} s:\n{log}"
    )


@contextmanager
def cosmos_peer() -> Iterator[CosmosPeer]:
    """A peer for the duration of a ``with`` block."""
    peer = start_peer()
    try:
        yield peer
    finally:
        peer.stop()


Scope = Literal["session", "package", "module", "class", "function"]


def peer_fixture(scope: Scope = "function") -> Any:
    """A pytest fixture (assign it at module level) that yields a running ``CosmosPeer``."""

    def _peer() -> Iterator[CosmosPeer]:
        with cosmos_peer() as peer:
            yield peer

    return pytest.fixture(scope=scope)(_peer)
