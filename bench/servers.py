"""HTTP servers under wrk: start one pinned to CPU 0, load it, stop it; rounds, medians, rows.

Every HTTP group (http, rss, echo, fastapi, cold) measures servers this way, so subjects and
anchors always go through the same code in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from bench.common import (
    BENCH,
    Options,
    Probe,
    cpu_seconds,
    free_port,
    pinned,
    progress,
    rss_mb,
    running,
    wait_ok,
)
from bench.loadgen import require_wrk, wrk
from bench.table import GroupResult, Row, Target, against


@dataclass(frozen=True)
class Server:
    """One server to measure: the command that starts it on a port, and its request."""

    name: str
    command: Callable[[int], list[str]]
    probe: Probe


@dataclass(frozen=True)
class Run:
    """One load run of one server (or the field-wise median of several)."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_req: float
    rss_idle_mb: float  # after the first correct answer, before any load
    rss_mb: float  # after the load
    wrk_cpu_pct: float


def raw_command(port: int) -> list[str]:
    """The raw aiohttp + uvloop anchor (hello and echo routes)."""
    return [sys.executable, str(BENCH / "raw_aiohttp.py"), str(port)]


def measure(server: Server, options: Options) -> Run:
    """Start the server on CPU 0, warm it up, load it from CPU 1, and stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(pinned(server.command(port), 0)) as proc:
        wait_ok(base, server.probe, proc)
        idle = rss_mb(proc.pid)
        wrk(base, server.probe, options.warmup, options.connections)
        before = cpu_seconds(proc.pid)
        load = wrk(base, server.probe, options.duration, options.connections)
        cpu = cpu_seconds(proc.pid) - before
        loaded = rss_mb(proc.pid)
    per_request = cpu / load.requests * 1e6
    return Run(load.rps, load.p50_ms, load.p99_ms, per_request, idle, loaded, load.wrk_cpu_pct)


def interleaved(group: str, servers: Sequence[Server], options: Options) -> dict[str, list[Run]]:
    """``options.rounds`` rounds, each measuring every server once, so drift hits all alike."""
    runs: dict[str, list[Run]] = {server.name: [] for server in servers}
    for number in range(1, options.rounds + 1):
        for server in servers:
            run = measure(server, options)
            runs[server.name].append(run)
            progress(f"{group} round {number}/{options.rounds}: {server.name} {run.rps:,.0f} req/s")
    return runs


def median_run(runs: Sequence[Run]) -> Run:
    """Field-wise median of several runs."""
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in asdict(runs[0])))


def cold_samples(servers: Sequence[Server], samples: int) -> dict[str, list[float]]:
    """Milliseconds from spawn to the first correct answer, servers interleaved per sample.

    Not pinned, as a user starts it: start-up is single-threaded work either way.
    """
    times: dict[str, list[float]] = {server.name: [] for server in servers}
    for _ in range(samples):
        for server in servers:
            port = free_port()
            started = time.perf_counter()
            with running(server.command(port)) as proc:
                wait_ok(f"http://127.0.0.1:{port}", server.probe, proc)
                times[server.name].append((time.perf_counter() - started) * 1000)
    return times


def load_row(group: str, name: str, run: Run) -> Row:
    """A req/s row of a median run, with wrk's own CPU in the note."""
    return Row(
        group,
        name,
        run.rps,
        "req/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        cpu_us=run.cpu_us_per_req,
        rss_mb=run.rss_mb,
        note=f"wrk {run.wrk_cpu_pct:.0f}% CPU",
    )


def details(runs: dict[str, list[Run]], options: Options) -> dict[str, object]:
    """Every run and the medians, for the JSON file."""
    return {
        "method": f"{options.rounds} rounds of {options.duration} s, {options.connections} conns",
        "runs": {name: [asdict(run) for run in server_runs] for name, server_runs in runs.items()},
        "medians": {name: asdict(median_run(server_runs)) for name, server_runs in runs.items()},
    }


def pair_group(
    group: str, anchor: Server, subject: Server, options: Options, target: Target | None = None
) -> GroupResult:
    """One subject against its anchor under wrk: their rows and the per-run details."""
    require_wrk()
    runs = interleaved(group, (anchor, subject), options)
    anchor_row = load_row(group, anchor.name, median_run(runs[anchor.name]))
    subject_row = load_row(group, subject.name, median_run(runs[subject.name]))
    return GroupResult(
        [anchor_row, against(anchor_row, subject_row, target)], details(runs, options)
    )
