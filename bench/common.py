"""What every benchmark group shares: options, ports, CPU pinning, process stats, readiness."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socket import socket
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
HELLO = b"Hello, world!"


class Skip(Exception):
    """A group cannot run here (a tool is missing); the message says how to get it."""


class BenchError(Exception):
    """A measurement is invalid (a wrong response, a server that never answered)."""


@dataclass(frozen=True)
class Options:
    """The benchmark's settings, built once from the command line."""

    duration: int  # seconds of wrk per measured run
    warmup: int  # seconds of wrk before each measured run
    rounds: int
    connections: int
    cold: int  # cold-start samples per server
    messages: int  # queue group
    depth: int  # queue group: most messages queued at once
    occurrences: int  # timer group: runs per phase
    quick: bool


@dataclass(frozen=True)
class Probe:
    """The request a load repeats and the body every response must carry."""

    path: str
    expect: bytes = HELLO
    method: str = "GET"
    body: bytes | None = field(default=None, repr=False)


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def can_pin() -> bool:
    """Server and load generator get a core each only when there are two."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pinned(cmd: list[str], cpu: int) -> list[str]:
    """Prefix with taskset when the machine has a second core to keep load apart."""
    return ["taskset", "-c", str(cpu), *cmd] if can_pin() else cmd


def funchost_command(app: Path, port: int) -> list[str]:
    """`funchost start` of the running interpreter's environment on ``app``."""
    script = Path(sys.executable).parent / "funchost"
    return [str(script), "start", "--port", str(port), "--script-root", str(app)]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(cmd: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server process for the duration of the block, its output discarded."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        stop(proc)


def answers(base_url: str, probe: Probe) -> bool:
    """One request: does it come back 200 with the expected body?"""
    request = urllib.request.Request(base_url + probe.path, probe.body, method=probe.method)
    try:
        with urllib.request.urlopen(request, timeout=1) as resp:
            return bool(resp.status == 200 and resp.read() == probe.expect)
    except OSError:
        return False


def wait_ok(
    base_url: str, probe: Probe, proc: subprocess.Popen[Any] | None = None, timeout: float = 20
) -> None:
    """Poll until the server answers the probe correctly; fail fast if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(base_url, probe):
            return
        if proc is not None and proc.poll() is not None:
            raise BenchError(
                f"the server exited with {proc.returncode}; to see why, run {proc.args!r}"
            )
        time.sleep(0.005)
    raise BenchError(
        f"{base_url}{probe.path} did not answer 200 {probe.expect[:20]!r}… in {timeout} s"
    )


def progress(message: str) -> None:
    """One line on stderr, so a long run shows where it is without touching the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
