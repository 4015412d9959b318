"""What the test peers' launchers share: a peer is ``python -m <module> --port 0 ...`` run
from the repository root, ready once it prints one line (its connection string) on stdout,
with its stderr kept in a temporary file for assertion messages."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 5.0


class PeerError(RuntimeError):
    """A peer did not start (its stderr is in the message)."""


@dataclass
class PeerProcess:
    """A running peer process."""

    proc: subprocess.Popen[str]
    stderr_path: Path

    def log(self) -> str:
        """What the peer wrote to stderr so far."""
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it does not exit within STOP_TIMEOUT."""
        terminate(self.proc, STOP_TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr_path.unlink(missing_ok=True)


def terminate(proc: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL when the process does not exit within ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def spawn(
    module: str, args: list[str], ready_prefix: str, what: str, timeout: float
) -> tuple[subprocess.Popen[str], Path, str]:
    """Start the peer on a free port; (process, stderr file, ready line) once it is ready."""
    fd, name = tempfile.mkstemp(prefix=f"{module.rsplit('.', 1)[-1]}-peer-", suffix=".log")
    stderr_path = Path(name)
    with os.fdopen(fd, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return proc, stderr_path, _ready_line(proc, stderr_path, ready_prefix, what, timeout)


def _ready_line(
    proc: subprocess.Popen[str], stderr_path: Path, prefix: str, what: str, timeout: float
) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline().strip()
            if line.startswith(prefix):
                return line
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    log = stderr_path.read_text(errors="replace")
    stderr_path.unlink(missing_ok=True)
    raise PeerError(f"the {what} did not become ready within {timeout} s:\n{log}")
