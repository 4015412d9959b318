"""HTTP hello benchmark: funchost (async and sync functions) beside a raw aiohttp + uvloop anchor.

Each subject runs pinned to CPU 0 while wrk runs on CPU 1 (when there are two cores), in
interleaved rounds; the table shows medians. Also measures cold start (spawn → first 200).

    python bench/http_hello.py [--duration 10] [--rounds 3] [--connections 64] [--cold 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

BENCH = Path(__file__).resolve().parent
APP = BENCH / "apps" / "hello"
RESULTS = BENCH / "results"
BODY = b"Hello, world!"


@dataclass(frozen=True)
class Subject:
    """One server to measure and the path it answers on."""

    name: str
    path: str
    funchost: bool  # False = the raw anchor

    def command(self, port: int) -> list[str]:
        """The command that starts this server on ``port``."""
        if self.funchost:
            script = Path(sys.executable).parent / "funchost"
            return [str(script), "start", "--port", str(port), "--script-root", str(APP)]
        return [sys.executable, str(BENCH / "raw_aiohttp.py"), str(port)]


SUBJECTS = (
    Subject("raw aiohttp+uvloop", "/api/async", funchost=False),
    Subject("funchost async def", "/api/async", funchost=True),
    Subject("funchost def", "/api/sync", funchost=True),
)


@dataclass
class Run:
    """One load run of one subject."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_req: float
    rss_mb: float


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cmd: list[str], cpu: int) -> list[str]:
    """Prefix with taskset when the machine has a second core to keep load apart."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *cmd]
    return cmd


def wait_ok(url: str, timeout: float = 20.0) -> None:
    """Poll until the URL answers 200 with the expected body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200 and resp.read() == BODY:
                    return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


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


def wrk(url: str, duration: int, connections: int) -> tuple[float, float, float, int]:
    """Run wrk; return req/s, p50 ms, p99 ms and the request count. Fails on non-2xx."""
    cmd = pinned(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url], 1)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, _latency(out, "50%"), _latency(out, "99%"), count


def _latency(out: str, pct: str) -> float:
    match = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out)
    assert match, f"no {pct} latency in wrk output"
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


def measure(subject: Measurable, duration: int, connections: int) -> Run:
    """Start the subject, warm it up, load it, and stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{subject.path}"
    proc = subprocess.Popen(
        pinned(subject.command(port), 0), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ok(url)
        wrk(url, 2, connections)  # warm-up
        before = cpu_seconds(proc.pid)
        rps, p50, p99, count = wrk(url, duration, connections)
        cpu = cpu_seconds(proc.pid) - before
        return Run(rps, p50, p99, cpu / count * 1e6, rss_mb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(20)


def cold_start(subject: Measurable, runs: int) -> float:
    """Median milliseconds from spawn to the first 200."""
    samples = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            subject.command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_ok(f"http://127.0.0.1:{port}{subject.path}")
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            proc.terminate()
            proc.wait(20)
    return statistics.median(samples)


def median_run(runs: list[Run]) -> Run:
    """Field-wise median of several runs."""
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in asdict(runs[0])))


class Measurable(Protocol):
    """A server a benchmark can start: the anchor or a subject."""

    name: str
    path: str

    def command(self, port: int) -> list[str]: ...


def run_benchmark(
    name: str, subjects: Sequence[Measurable], cold: Sequence[Measurable], default_cold: int
) -> None:
    """Parse the common options, measure in interleaved rounds, print and save the table.

    The first subject is the anchor every ratio is taken against.
    """
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--cold", type=int, default=default_cold, help="cold-start samples")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk); no load can be generated")
    runs: dict[str, list[Run]] = {s.name: [] for s in subjects}
    for _ in range(args.rounds):
        for subject in subjects:
            runs[subject.name].append(measure(subject, args.duration, args.connections))
    results = {key: median_run(r) for key, r in runs.items()}
    colds = {s.name: cold_start(s, args.cold) for s in cold}
    report(name, results, colds, args)


def report(
    name: str, results: dict[str, Run], colds: dict[str, float], args: argparse.Namespace
) -> None:
    """Print the table and write bench/results/<name>.json."""
    anchor = next(iter(results.values()))
    print(
        f"{'subject':26} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU µs/req':>10} {'RSS MB':>7} {'cold ms':>8}"
    )
    for key, run in results.items():
        cold = f"{colds[key]:8.0f}" if key in colds else f"{'-':>8}"
        print(
            f"{key:26} {run.rps:9.0f} {run.rps / anchor.rps:6.2f} {run.p50_ms:7.2f} "
            f"{run.p99_ms:7.2f} {run.cpu_us_per_req:10.1f} {run.rss_mb:7.1f} {cold}"
        )
    print(
        f"(cold: spawn → first 200, median of {args.cold}; other columns: medians of "
        f"{args.rounds} rounds of {args.duration} s, {args.connections} connections)"
    )
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "args": vars(args),
        "runs": {k: asdict(v) for k, v in results.items()},
        "cold_start_ms": colds,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2))


def main() -> None:
    """Measure every subject in interleaved rounds and print the table."""
    cold = [s for s in SUBJECTS if s.path == "/api/async"]
    run_benchmark("http_hello", SUBJECTS, cold, default_cold=10)


if __name__ == "__main__":
    main()
