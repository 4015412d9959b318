"""What every benchmark group shares: options, ports, CPU pinning, process stats, readiness,
and the subjects of the throughput groups that drain a preloaded source."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from socket import socket
from typing import Any

from bench.table import GroupResult, Row, Target, against

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
    documents: int  # cosmosdb group: documents per run
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


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and all its descendants still running (a peer and the server it runs)."""
    total = cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += tree_cpu_seconds(int(child))
    return total


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


# --- throughput groups: a subject drains what was preloaded ----------------------------------


class Subject:
    """A started subject: its process, ready once it said so, finished at its last item."""

    def __init__(self, name: str, proc: subprocess.Popen[str]) -> None:
        self.name = name
        self.proc = proc
        self.ready = threading.Event()
        self.finished = threading.Event()
        self.done_at: float | None = None  # its own monotonic clock, from the done line


def watch(subject: Subject, ready_text: str, done: re.Pattern[str]) -> None:
    """Read every line (the subject must never block on a full pipe); note ready and done."""
    assert subject.proc.stdout is not None
    for line in subject.proc.stdout:
        if ready_text in line:
            subject.ready.set()
        match = done.search(line)
        if match and subject.done_at is None:
            subject.done_at = float(match.group(1))
            subject.finished.set()


def start_subject(
    name: str, cmd: list[str], env: dict[str, str], ready_text: str, done: re.Pattern[str]
) -> Subject:
    """The subject pinned to CPU 0, returned once it printed ready_text; ``done``'s group 1
    is the monotonic time of its last item."""
    proc = subprocess.Popen(
        pinned(cmd, 0), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    subject = Subject(name, proc)
    threading.Thread(target=watch, args=(subject, ready_text, done), daemon=True).start()
    if not subject.ready.wait(30):
        stop(proc, 5)
        raise BenchError(f"{name} did not print {ready_text!r} within 30 s")
    return subject


# The drain apps' and loops' conventions: funchost is ready once it says so, and the app logs
# BENCH-DONE with the monotonic time of its last item; a loop prints "ready", then "done <t>".
HOST_READY = "Host started in "
APP_DONE = re.compile(r"BENCH-DONE (\d+\.\d+)")
LOOP_DONE = re.compile(r"^done (\d+\.\d+)")


def start_drainer(name: str, app: Path, loop: list[str], env: dict[str, str]) -> Subject:
    """``funchost`` on the bench app, or else the hand-written loop: ready to be timed."""
    if name == "funchost":
        return start_subject(name, funchost_command(app, free_port()), env, HOST_READY, APP_DONE)
    return start_subject(name, [sys.executable, *loop], env, "ready", LOOP_DONE)


@dataclass
class Drained:
    """One subject draining one preloaded source."""

    subject: str
    items: int
    seconds: float
    cpu_us: float  # the subject's CPU per item
    peer_cpu_us: float  # the peer's (and its children's) CPU per item
    rss_mb: float

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.items / self.seconds


def drain(subject: Subject, peer: int, count: int, timeout: float) -> Drained:
    """Time a ready subject from now until its last item, with its and the peer's CPU; then
    stop it."""
    started = time.monotonic()
    cpu_before, peer_before = cpu_seconds(subject.proc.pid), tree_cpu_seconds(peer)
    try:
        if not subject.finished.wait(timeout):
            raise BenchError(f"{subject.name} did not handle {count} items in {timeout} s")
        cpu = cpu_seconds(subject.proc.pid) - cpu_before
        peer_cpu = tree_cpu_seconds(peer) - peer_before
        rss = rss_mb(subject.proc.pid)
    finally:
        stop(subject.proc, 30)
    assert subject.done_at is not None
    seconds = subject.done_at - started
    return Drained(subject.name, count, seconds, cpu / count * 1e6, peer_cpu / count * 1e6, rss)


def interleaved(
    group: str, subjects: Sequence[str], rounds: int, one_run: Callable[[str], Drained]
) -> dict[str, list[Drained]]:
    """Every subject once per round, in turn, so a slow spell of the machine hits both."""
    runs: dict[str, list[Drained]] = {subject: [] for subject in subjects}
    for number in range(1, rounds + 1):
        for subject in subjects:
            run = one_run(subject)
            runs[subject].append(run)
            progress(f"{group} round {number}/{rounds}: {subject} {run.rate:,.0f}/s")
    return runs


def drained_result(
    group: str, runs: dict[str, list[Drained]], anchor_name: str, unit: str, target: Target
) -> GroupResult:
    """Medians: the anchor's row, each other subject's against it; every run in the details."""

    def row(subject: str) -> Row:
        rs = runs[subject]
        return Row(
            group,
            subject,
            statistics.median(r.rate for r in rs),
            f"{unit}/s",
            cpu_us=statistics.median(r.cpu_us for r in rs),
            rss_mb=statistics.median(r.rss_mb for r in rs),
            note=f"peer {statistics.median(r.peer_cpu_us for r in rs):.0f} µs/{unit}",
        )

    anchor = row(anchor_name)
    others = [against(anchor, row(s), target) for s in runs if s != anchor_name]
    rows = [anchor, *others]
    doc = {s: [asdict(r) | {"rate": round(r.rate, 1)} for r in rs] for s, rs in runs.items()}
    return GroupResult(rows, {"runs": doc})
