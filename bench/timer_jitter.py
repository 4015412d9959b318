"""Timer jitter benchmark: how late a one-second timer starts, idle and under HTTP load.

funchost serves bench/apps/timer_jitter (a ``*/1 * * * * *`` timer and an HTTP hello) pinned
to CPU 0. For each phase the script collects ``--occurrences`` runs of the timer and reports
how late each started after its scheduled whole second: "wake" is when the host fired it
(the Reason of the Executing line), "start" is when the function's own code ran. The loaded
phase runs wrk on the hello function (CPU 1) for the whole collection.

    python bench/timer_jitter.py [--occurrences 60] [--connections 64]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from http_hello import RESULTS, free_port, pinned, rss_mb, wait_ok, wrk

BENCH = Path(__file__).resolve().parent
APP = BENCH / "apps" / "timer_jitter"
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
    return [(m - scheduled(m)) * 1000 for m in moments]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


class Host:
    """funchost on the bench app, its output read line by line in a thread."""

    def __init__(self) -> None:
        self.port = free_port()
        script = Path(sys.executable).parent / "funchost"
        cmd = [str(script), "start", "--port", str(self.port), "--script-root", str(APP)]
        # Timer state (the lock file) goes to a temporary folder, not into the repository.
        self.state = tempfile.TemporaryDirectory(prefix="timer-jitter-")
        env = {**os.environ, "FUNCHOST_STATE_DIR": self.state.name, "AzureWebJobsStorage": ""}
        self.proc = subprocess.Popen(
            pinned(cmd, 0), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        wait_ok(f"http://127.0.0.1:{self.port}/api/hello")

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
        return wakes[: len(starts)], starts

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> float:
        """Stop the host; its RSS in MiB just before."""
        rss = rss_mb(self.proc.pid)
        self.proc.terminate()
        self.proc.wait(30)
        self.state.cleanup()
        return rss


def measure(host: Host, count: int, load: tuple[int, int] | None) -> Phase:
    """One phase; ``load`` = (seconds, connections) of wrk beside it."""
    rps: list[float] = []
    runner = None
    if load is not None:
        url = f"http://127.0.0.1:{host.port}/api/hello"
        runner = threading.Thread(target=lambda: rps.append(wrk(url, load[0], load[1])[0]))
        runner.start()
        time.sleep(1)  # let the load settle before counting
    wakes, starts = host.collect(count)
    if runner is not None:
        runner.join()
    seconds = {scheduled(s) for s in starts}
    wake, start = lateness_ms(wakes), lateness_ms(starts)
    return Phase(
        occurrences=len(starts),
        missed=(max(seconds) - min(seconds) + 1 - len(seconds)) if seconds else count,
        wake_p50_ms=statistics.median(wake),
        wake_p99_ms=percentile(wake, 99),
        start_p50_ms=statistics.median(start),
        start_p99_ms=percentile(start, 99),
        start_max_ms=max(start),
        http_rps=rps[0] if rps else 0.0,
    )


def main() -> None:
    """Idle phase, then the loaded phase, on one host; print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occurrences", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk); no load can be generated")
    host = Host()
    try:
        host.collect(2)  # warm-up: the first runs import and start the thread pool
        phases = {
            "idle": measure(host, args.occurrences, None),
            "HTTP load": measure(host, args.occurrences, (args.occurrences + 3, args.connections)),
        }
    finally:
        rss = host.stop()
    report(phases, rss, args)


def report(phases: dict[str, Phase], rss: float, args: argparse.Namespace) -> None:
    """Print the table and write bench/results/timer_jitter.json."""
    print(
        f"{'phase':10} {'runs':>5} {'missed':>6} {'wake p50':>9} {'wake p99':>9} "
        f"{'start p50':>9} {'start p99':>9} {'start max':>9} {'HTTP req/s':>10}"
    )
    for name, p in phases.items():
        print(
            f"{name:10} {p.occurrences:5d} {p.missed:6d} {p.wake_p50_ms:7.2f}ms "
            f"{p.wake_p99_ms:7.2f}ms {p.start_p50_ms:7.2f}ms {p.start_p99_ms:7.2f}ms "
            f"{p.start_max_ms:7.2f}ms {p.http_rps:10.0f}"
        )
    print(f"host RSS after both phases: {rss:.1f} MB")
    RESULTS.mkdir(exist_ok=True)
    doc = {"args": vars(args), "phases": {k: asdict(v) for k, v in phases.items()}, "rss_mb": rss}
    (RESULTS / "timer_jitter.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
