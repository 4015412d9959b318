"""Group timer: how late a one-second timer starts, idle and under HTTP load.

funchost serves bench/apps/timer_jitter (a ``*/1 * * * * *`` timer and an HTTP hello) pinned
to CPU 0. For each phase it collects ``--occurrences`` runs of the timer and reports how late
each started after its scheduled whole second: "wake" is when the host fired it (the Reason of
the Executing line), "start" is when the function's own code ran. The loaded phase runs wrk on
the hello function (CPU 1) for the whole collection; without wrk only the idle phase runs.

    python -m bench.timer_jitter [--quick] [--occurrences 60] [--connections 64]
"""

from __future__ import annotations

import math
import os
import queue
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime

from bench.common import (
    BENCH,
    BenchError,
    Options,
    Probe,
    free_port,
    funchost_command,
    pinned,
    progress,
    rss_mb,
    stop,
    wait_ok,
)
from bench.loadgen import MISSING, Load, wrk
from bench.table import GroupResult, Row

APP = BENCH / "apps" / "timer_jitter"
HELLO = Probe("/api/hello")
FIRED = re.compile(r"Reason='Timer fired at (\S+)', Id=")
STARTED = re.compile(r"\] JITTER ([\d.]+)$")
# A timer may wake a hair before its second (timer resolution): still that occurrence.
EARLY_TOLERANCE = 0.005


@dataclass
class Phase:
    """Lateness of one phase, in milliseconds."""

    occurrences: int
    missed: int  # scheduled seconds in the span that never ran
    wake_p50_ms: float
    wake_p99_ms: float
    start_p50_ms: float
    start_p99_ms: float
    start_max_ms: float
    http_rps: float


def scheduled(moment: float) -> int:
    """The whole second a run belongs to."""
    return math.floor(moment + EARLY_TOLERANCE)


def lateness_ms(moments: list[float]) -> list[float]:
    """Milliseconds after its scheduled second, for each instant."""
    return [(m - scheduled(m)) * 1000 for m in moments]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


class Host:
    """funchost on the bench app, its output read line by line in a thread."""

    def __init__(self) -> None:
        self.port = free_port()
        # Timer state (the lock file) goes to a temporary folder, not into the repository.
        self.state = tempfile.TemporaryDirectory(prefix="timer-jitter-")
        env = {**os.environ, "FUNCHOST_STATE_DIR": self.state.name, "AzureWebJobsStorage": ""}
        cmd = pinned(funchost_command(APP, self.port), 0)
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        wait_ok(self.url, HELLO, self.proc)

    @property
    def url(self) -> str:
        """The host's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def collect(self, count: int) -> tuple[list[float], list[float]]:
        """Wake and start instants of the next ``count`` runs."""
        self.drain()
        wakes: list[float] = []
        starts: list[float] = []
        deadline = time.monotonic() + count * 2 + 10
        while len(starts) < count and time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if fired := FIRED.search(line):
                text = fired.group(1)  # 2026-11-25T14:00:00.0001234+00:00
                wakes.append(datetime.fromisoformat(text[:26] + text[27:]).timestamp())
            elif started := STARTED.search(line):
                starts.append(float(started.group(1)))
        if not starts or not wakes:
            raise BenchError(f"the timer of {APP} did not run within {count * 2 + 10} s")
        return wakes[: len(starts)], starts

    def drain(self) -> None:
        """Forget the lines printed so far."""
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> float:
        """Stop the host; its RSS in MiB just before."""
        rss = rss_mb(self.proc.pid)
        stop(self.proc, 30)
        self.state.cleanup()
        return rss


def measure(host: Host, count: int, load: tuple[int, int] | None) -> Phase:
    """One phase; ``load`` = (seconds, connections) of wrk beside it."""
    with ThreadPoolExecutor(1) as pool:
        running: Future[Load] | None = None
        if load is not None:
            running = pool.submit(wrk, host.url, HELLO, *load)
            time.sleep(1)  # let the load settle before counting
        wakes, starts = host.collect(count)
        # result() re-raises here a wrong response wrk's thread found.
        rps = running.result().rps if running is not None else 0.0
    seconds = {scheduled(s) for s in starts}
    wake, start = lateness_ms(wakes), lateness_ms(starts)
    return Phase(
        occurrences=len(starts),
        missed=max(seconds) - min(seconds) + 1 - len(seconds),
        wake_p50_ms=statistics.median(wake),
        wake_p99_ms=percentile(wake, 99),
        start_p50_ms=statistics.median(start),
        start_p99_ms=percentile(start, 99),
        start_max_ms=max(start),
        http_rps=rps,
    )


def _row(name: str, phase: Phase, rss: float | None) -> Row:
    """Start lateness p99 as the value; wake, misses and the HTTP rate in the note."""
    note = f"{phase.missed} missed of {phase.occurrences}; wake p99 {phase.wake_p99_ms:.2f} ms"
    if phase.http_rps:
        note += f"; HTTP {phase.http_rps:,.0f} req/s beside"
    return Row(
        "timer",
        f"timer start late, {name}",
        phase.start_p99_ms,
        "ms",
        p50_ms=phase.start_p50_ms,
        p99_ms=phase.start_p99_ms,
        rss_mb=rss,
        note=note,
    )


def timer_group(options: Options) -> GroupResult:
    """Idle phase, then the loaded phase (when wrk is installed), on one host."""
    count = options.occurrences
    loaded = shutil.which("wrk") is not None
    if not loaded:
        progress(f"timer: {MISSING}; measuring the idle phase only")
    host = Host()
    try:
        host.collect(2)  # warm-up: the first runs import and start the thread pool
        phases = {"idle": measure(host, count, None)}
        if loaded:
            phases["under HTTP load"] = measure(host, count, (count + 3, options.connections))
    finally:
        rss = host.stop()
    last = list(phases)[-1]  # the host's RSS is taken once, after the last phase
    rows = [_row(name, phase, rss if name == last else None) for name, phase in phases.items()]
    return GroupResult(rows, {"phases": {k: asdict(v) for k, v in phases.items()}, "rss_mb": rss})


if __name__ == "__main__":
    from bench.suite import main

    main(("timer",), name="timer_jitter")
