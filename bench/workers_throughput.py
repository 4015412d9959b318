"""Group workers: req/s of a CPU-bound `def` function with --workers 2 against --workers 1.

Each request spends a few ms of pure Python (bench/apps/cpu_bound) holding the GIL, so one
process answers one at a time whatever its thread count, and wrk (a few % of a core at these
rates) is not the limit. The servers are not pinned: --workers 2 needs both cores; wrk stays
on CPU 1 as in every group. The CPU per request counts the supervisor and its workers; the
note says how many cores other processes took meanwhile (this machine is shared), i.e. how
far from "two cores free" a run was.

    python -m bench.workers_throughput [--quick] [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BENCH,
    Options,
    Probe,
    free_port,
    funchost_command,
    progress,
    running,
    tree_cpu_seconds,
    wait_ok,
)
from bench.loadgen import Load, require_wrk, wrk
from bench.table import GroupResult, Row, Target, against

APP = BENCH / "apps" / "cpu_bound"
PROBE = Probe("/api/cpu")
TARGET = Target(">=", 1.7)  # issue 18, where two cores are free for the host
# Enough to keep two single-request-at-a-time workers busy; more only queues.
CONNECTIONS = 8
COUNTS = (1, 2)


@dataclass(frozen=True)
class WorkersRun:
    """One load run of one worker count."""

    load: Load
    cpu_us: float  # supervisor and workers, per request
    others_cores: float  # CPU the rest of the machine used meanwhile: what was not free


def busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (/proc/stat), in seconds."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(workers: int, options: Options) -> WorkersRun:
    """Start ``--workers N``, warm it up, load it, stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*funchost_command(APP, port), "--workers", str(workers), "--no-azurite"]
    with running(command) as proc:
        wait_ok(base, PROBE, proc)
        wrk(base, PROBE, options.warmup, CONNECTIONS)
        before, machine = tree_cpu_seconds(proc.pid), busy_seconds()
        load = wrk(base, PROBE, options.duration, CONNECTIONS)
        cpu = tree_cpu_seconds(proc.pid) - before
        busy = busy_seconds() - machine
    seconds = load.requests / load.rps
    others = (busy - cpu - load.wrk_cpu_pct / 100 * seconds) / seconds
    return WorkersRun(load, cpu / load.requests * 1e6, max(0.0, others))


def workers_group(options: Options) -> GroupResult:
    """--workers 2 against --workers 1, interleaved rounds, medians."""
    require_wrk()
    runs: dict[int, list[WorkersRun]] = {count: [] for count in COUNTS}
    for number in range(1, options.rounds + 1):
        for count in COUNTS:
            run = measure(count, options)
            runs[count].append(run)
            progress(f"workers round {number}/{options.rounds}: {count} {run.load.rps:,.0f} req/s")
    anchor = _row(1, runs[1])
    rows = [anchor, against(anchor, _row(2, runs[2]), TARGET)]
    details = {
        "method": f"{options.rounds} rounds of {options.duration} s, {CONNECTIONS} conns",
        "rps": {count: [run.load.rps for run in count_runs] for count, count_runs in runs.items()},
        "others_cores": {
            count: [run.others_cores for run in count_runs] for count, count_runs in runs.items()
        },
    }
    return GroupResult(rows, details)


def _row(count: int, runs: list[WorkersRun]) -> Row:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    return Row(
        "workers",
        f"funchost --workers {count} (cpu-bound def)",
        median([run.load.rps for run in runs]),
        "req/s",
        p50_ms=median([run.load.p50_ms for run in runs]),
        p99_ms=median([run.load.p99_ms for run in runs]),
        cpu_us=median([run.cpu_us for run in runs]),
        note=f"wrk {median([run.load.wrk_cpu_pct for run in runs]):.0f}% CPU; other "
        f"processes {median([run.others_cores for run in runs]):.1f} cores",
    )


if __name__ == "__main__":
    from bench.suite import main

    main(("workers",), name="workers_throughput")
