"""Group queue: funchost's queue trigger draining a queue beside a hand-written SDK loop.

Each run gets a fresh Azurite (in memory, started as tests/azurite.py starts it, pinned to
CPU 1) and the subject (pinned to CPU 0) consumes ``--messages`` messages from a queue of its
own while this module sends them, keeping at most ``--depth`` in the queue:

- ``funchost``: ``funchost start`` on bench/apps/queue_throughput (an empty ``async def``
  function), host.json defaults (batchSize 16, newBatchThreshold 16/2 x processors), the
  Executing/Executed lines printed as ``func start`` prints them;
- ``funchost batch 32``: the same with batchSize 32;
- ``sdk loop``: the anchor, bench/sdk_loop.py.

The depth is bounded because Azurite's in-memory queue scans every stored message on each
receive: with 10,000 queued it drains under 100 messages/s whatever the consumer. Messages per
second run from the first send until the queue is empty after the last; CPU is the subject
process's own over that span. Rounds are interleaved; the table shows medians.

    python -m bench.queue_throughput [--quick] [--messages 10000] [--depth 256] [--rounds 3]
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import (
    BENCH,
    REPO,
    BenchError,
    Options,
    Skip,
    cpu_seconds,
    free_port,
    funchost_command,
    pinned,
    progress,
    rss_mb,
    stop,
)
from bench.table import GroupResult, Row, Target, against

# tests/azurite.py is the one place that knows how Azurite is installed and started.
sys.path.insert(0, str(REPO / "tests"))
from azurite import AZURITE, INSTALL, Azurite, launch

APP = BENCH / "apps" / "queue_throughput"
READY = "Host started in "
SUBJECTS = ("funchost", "funchost batch 32", "sdk loop")
TARGET = Target(">=", 0.80)  # issue 7, for the host.json defaults


@dataclass
class Run:
    """One subject draining one queue."""

    subject: str
    messages: int
    seconds: float
    cpu_us_per_message: float
    azurite_cpu_us_per_message: float
    rss_mb: float

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds


# --- Azurite ---------------------------------------------------------------------------------


def require_azurite() -> None:
    """Skip the group, with the install command, when Azurite is not installed."""
    if not AZURITE.exists():
        raise Skip(f"Azurite is not installed ({AZURITE} is missing): run `{INSTALL}` in {REPO}")


def start_azurite(workdir: Path) -> tuple[subprocess.Popen[bytes], Azurite]:
    """Azurite in memory on free ports, as the tests start it, pinned to CPU 1."""
    return launch(workdir, lambda command: pinned(command, 1))


async def create(connection: str, queue: str) -> None:
    """An empty queue for one run."""
    from azure.storage.queue.aio import QueueClient

    async with QueueClient.from_connection_string(connection, queue) as client:
        await client.create_queue()


async def feed(connection: str, queue: str, count: int, depth: int) -> float:
    """Send count messages, never more than depth in the queue; seconds until it is empty."""
    from azure.storage.queue.aio import QueueClient

    async with QueueClient.from_connection_string(connection, queue) as client:
        started, sent = time.perf_counter(), 0
        while True:
            queued = (await client.get_queue_properties()).approximate_message_count or 0
            if sent == count and queued == 0:
                return time.perf_counter() - started
            room = min(depth - queued, count - sent)
            if room <= 0:
                await asyncio.sleep(0.01)
                continue
            bodies = [base64.b64encode(f"message {sent + i:06d}".encode()) for i in range(room)]
            for chunk in range(0, room, 64):
                await asyncio.gather(
                    *(client.send_message(b.decode()) for b in bodies[chunk : chunk + 64])
                )
            sent += room


# --- subjects --------------------------------------------------------------------------------


def start_funchost(connection: str, queue: str, batch: int | None) -> subprocess.Popen[str]:
    """funchost start on the bench app, returned once it reports it has started."""
    cmd = funchost_command(APP, free_port())
    env = {**os.environ, "AzureWebJobsStorage": connection, "BENCH_QUEUE": queue}
    if batch is not None:
        env["AzureFunctionsJobHost__extensions__queues__batchSize"] = str(batch)
    proc = subprocess.Popen(
        pinned(cmd, 0), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready = threading.Event()
    threading.Thread(target=_read, args=(proc, ready), daemon=True).start()
    if not ready.wait(30):
        proc.kill()
        raise BenchError(f"funchost did not print {READY!r} within 30 s")
    return proc


def _read(proc: subprocess.Popen[str], ready: threading.Event) -> None:
    """Watch for the ready line; keep reading so the host never blocks on a full pipe."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if READY in line:
            ready.set()


def start_sdk_loop(connection: str, queue: str, count: int) -> subprocess.Popen[str]:
    """bench/sdk_loop.py, pinned like funchost; it exits after count messages."""
    cmd = [sys.executable, str(BENCH / "sdk_loop.py"), queue, str(count)]
    env = {**os.environ, "BENCH_STORAGE": connection}
    proc = subprocess.Popen(pinned(cmd, 0), env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise BenchError("bench/sdk_loop.py did not print ready")
    return proc


# --- the benchmark ---------------------------------------------------------------------------


def one_run(subject: str, azurite: Azurite, pid: int, count: int, depth: int) -> Run:
    """Start the subject on an empty queue, feed it count messages, time the drain."""
    queue, connection = f"bench-{uuid.uuid4().hex[:12]}", azurite.connection_string
    asyncio.run(create(connection, queue))
    if subject == "sdk loop":
        proc = start_sdk_loop(connection, queue, count)
    else:
        proc = start_funchost(connection, queue, 32 if subject.endswith("32") else None)
    try:
        cpu_before, storage_before = cpu_seconds(proc.pid), cpu_seconds(pid)
        seconds = asyncio.run(feed(connection, queue, count, depth))
        cpu = cpu_seconds(proc.pid) - cpu_before
        storage = cpu_seconds(pid) - storage_before
        rss = rss_mb(proc.pid)
    finally:
        stop(proc, 30)
    return Run(subject, count, seconds, cpu / count * 1e6, storage / count * 1e6, rss)


def fresh_run(subject: str, count: int, depth: int) -> Run:
    """One run on an Azurite of its own.

    Azurite 3.35 stops answering any request for minutes once some 10,000 messages have gone
    through (its debug log ends at the start of its 60-second queue garbage collection). A
    run takes well under a minute, so a fresh Azurite per run never meets it.
    """
    workdir = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    proc, azurite = start_azurite(workdir)
    try:
        return one_run(subject, azurite, proc.pid, count, depth)
    finally:
        proc.kill()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _row(subject: str, runs: list[Run]) -> Row:
    """The medians of one subject's runs as a msg/s row."""
    storage = statistics.median(r.azurite_cpu_us_per_message for r in runs)
    return Row(
        "queue",
        subject,
        statistics.median(r.rate for r in runs),
        "msg/s",
        cpu_us=statistics.median(r.cpu_us_per_message for r in runs),
        rss_mb=statistics.median(r.rss_mb for r in runs),
        note=f"Azurite {storage:.0f} µs/msg",
    )


def queue_group(options: Options) -> GroupResult:
    """Interleaved rounds of every subject on fresh Azurites; rows against the SDK loop."""
    require_azurite()
    runs: dict[str, list[Run]] = {subject: [] for subject in SUBJECTS}
    for number in range(1, options.rounds + 1):
        for subject in SUBJECTS:
            run = fresh_run(subject, options.messages, options.depth)
            runs[subject].append(run)
            progress(f"queue round {number}/{options.rounds}: {subject} {run.rate:,.0f} msg/s")
    anchor = _row("sdk loop", runs["sdk loop"])
    rows = [
        anchor,
        against(anchor, _row("funchost", runs["funchost"]), TARGET),
        against(anchor, _row("funchost batch 32", runs["funchost batch 32"])),
    ]
    doc = {
        "messages": options.messages,
        "depth": options.depth,
        "runs": {s: [asdict(r) | {"rate": round(r.rate, 1)} for r in rs] for s, rs in runs.items()},
    }
    return GroupResult(rows, doc)


if __name__ == "__main__":
    from bench.suite import main

    main(("queue",), name="queue_throughput")
