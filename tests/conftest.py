"""Fixtures that start the real ``funchost start`` as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azurite import azurite as azurite  # the session-scoped Azurite fixture, for every test

TESTS = Path(__file__).resolve().parent
APPS = TESTS / "apps"
BROKEN_APPS = TESTS / "broken_apps"
READY = "Host started in "
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


def funchost_command() -> list[str]:
    """The installed console script, next to the interpreter running the tests."""
    script = Path(sys.executable).parent / "funchost"
    if script.exists():
        return [str(script)]
    found = shutil.which("funchost")
    assert found, "funchost is not installed in this environment (pip install .)"
    return [found]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningHost:
    """A ``funchost`` process whose output is read line by line in a thread."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            funchost_command() + args,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> str:
        """Block until a line containing ``text`` appears; fail with the output so far."""
        for line in self.lines:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line containing {text!r}; output was:\n{self.output}")

    def drain(self, settle: float = 0.2) -> str:
        """Collect the lines printed so far (waiting ``settle`` seconds for stragglers)."""
        deadline = time.monotonic() + settle
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return self.output

    @property
    def output(self) -> str:
        """Everything read so far."""
        return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process, wait for it, and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(5)
        self.drain(0)
        return code


class Host(RunningHost):
    """A started host serving on ``base_url``."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], port: int) -> None:
        super().__init__(args, cwd, env)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"


def host_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without FUNCHOST_* leaking in, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FUNCHOST_", "AzureFunctionsJobHost"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


StartHost = Callable[..., Host]


@pytest.fixture
def start_host() -> Iterator[StartHost]:
    """Factory: ``start_host(app_dir, *args, env=...)`` → a ready Host; all are stopped after."""
    started: list[Host] = []

    def start(
        app: str | Path, *args: str, env: dict[str, str] | None = None, ready: bool = True
    ) -> Host:
        cwd = app if isinstance(app, Path) else APPS / app
        port = free_port()
        host = Host(["start", "--port", str(port), *args], cwd, host_env(env), port)
        started.append(host)
        if ready:
            host.wait_for(READY)
        return host

    yield start
    for host in started:
        host.stop()


def run_funchost(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a funchost command to completion (for ``check`` and start-up failures)."""
    return subprocess.run(
        funchost_command() + args,
        cwd=cwd,
        env=host_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
