"""Queue trigger throughput: funchost draining a queue beside a hand-written SDK loop.

One Azurite (in memory, started here as the tests start it, pinned to CPU 1) serves every
subject; each subject (pinned to CPU 0) consumes ``--messages`` messages from a queue of its
own while this script sends them, keeping at most ``--depth`` in the queue:

- ``funchost``: ``funchost start`` on bench/apps/queue_throughput (an empty ``async def``
  function), host.json defaults (batchSize 16, newBatchThreshold 16/2 x processors), the
  Executing/Executed lines printed as ``func start`` prints them;
- ``funchost batch 32``: the same with batchSize 32;
- ``sdk loop``: the floor, a Python process with the async storage SDK: receive 32, delete
  them concurrently, repeat (100 ms pause on an empty receive, the host's shortest).

The depth is bounded because Azurite's in-memory queue scans every stored message on each
receive: with 10,000 queued it drains under 100 messages/s whatever the consumer. Messages per
second run from the first send until the queue is empty after the last; CPU is the subject
process's own over that span. Rounds are interleaved; the table shows medians.

    python bench/queue_throughput.py [--messages 10000] [--depth 256] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
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

from http_hello import RESULTS, cpu_seconds, free_port, pinned, rss_mb

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = BENCH / "apps" / "queue_throughput"
sys.path.insert(0, str(REPO / "tests"))
from azurite import AZURITE, INSTALL, Azurite, _free_ports, _wait_ready  # noqa: E402

from funchost.host.azurite import azurite_arguments  # noqa: E402 (after the sys.path setup)

READY = "Host started in "
SUBJECTS = ("funchost", "funchost batch 32", "sdk loop")


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


def start_azurite(workdir: Path) -> tuple[subprocess.Popen[bytes], Azurite]:
    """Azurite in memory on free ports, as tests/azurite.py starts it, pinned to CPU 1."""
    if not AZURITE.exists():
        sys.exit(f"Azurite is not installed ({AZURITE} is missing): run `{INSTALL}` in {REPO}")
    ports = _free_ports(3)
    blob, queue, table = ports
    args = azurite_arguments(
        {"blob": blob, "queue": queue, "table": table}.items(), ["--inMemoryPersistence"]
    )
    log = workdir / "azurite.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(pinned([str(AZURITE), *args], 1), stdout=out, stderr=out)
    _wait_ready(proc, ports, log)
    return proc, Azurite(blob, queue, table)


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


def message_count(connection: str, queue: str) -> int:
    from azure.storage.queue import QueueClient

    client = QueueClient.from_connection_string(connection, queue, retry_total=0)
    return int(client.get_queue_properties().approximate_message_count or 0)


# --- subjects --------------------------------------------------------------------------------


def start_funchost(connection: str, queue: str, batch: int | None) -> subprocess.Popen[str]:
    """funchost start on the bench app, returned once it reports it has started."""
    script = Path(sys.executable).parent / "funchost"
    cmd = [str(script), "start", "--port", str(free_port()), "--script-root", str(APP)]
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
        raise RuntimeError("funchost did not start within 30 s")
    return proc


def _read(proc: subprocess.Popen[str], ready: threading.Event) -> None:
    """Watch for the ready line; keep reading so the host never blocks on a full pipe."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if READY in line:
            ready.set()


def start_sdk_loop(connection: str, queue: str, count: int) -> subprocess.Popen[str]:
    """This script in --sdk-loop mode, pinned like funchost; it exits after count messages."""
    cmd = [sys.executable, __file__, "--sdk-loop", queue, "--messages", str(count)]
    env = {**os.environ, "BENCH_STORAGE": connection}
    proc = subprocess.Popen(pinned(cmd, 0), env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the SDK loop did not start")
    return proc


async def sdk_loop(connection: str, queue: str, count: int) -> None:
    """Receive 32, delete them concurrently, until count messages are done."""
    from azure.storage.queue.aio import QueueClient

    done = 0
    async with QueueClient.from_connection_string(connection, queue) as client:
        await client.get_queue_properties()  # connected before the clock starts
        print("ready", flush=True)
        while done < count:
            pages = client.receive_messages(
                messages_per_page=32, max_messages=32, visibility_timeout=600
            ).by_page()
            batch = []
            async for page in pages:
                batch = [message async for message in page]
                break
            if not batch:
                await asyncio.sleep(0.1)
                continue
            await asyncio.gather(*(client.delete_message(m) for m in batch))
            done += len(batch)


# --- the benchmark ---------------------------------------------------------------------------


def one_run(subject: str, azurite: Azurite, pid: int, count: int, depth: int) -> Run:
    """Start the subject on an empty queue, feed it count messages, time the drain."""
    queue, connection = f"bench-{uuid.uuid4().hex[:12]}", azurite.connection_string
    asyncio.run(create(connection, queue))
    if subject == "sdk loop":
        proc: subprocess.Popen[str] = start_sdk_loop(connection, queue, count)
    else:
        proc = start_funchost(connection, queue, 32 if subject.endswith("32") else None)
    try:
        cpu_before, storage_before = cpu_seconds(proc.pid), cpu_seconds(pid)
        seconds = asyncio.run(feed(connection, queue, count, depth))
        cpu = cpu_seconds(proc.pid) - cpu_before
        storage = cpu_seconds(pid) - storage_before
        rss = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
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


def report(runs: dict[str, list[Run]]) -> list[dict[str, object]]:
    anchor = statistics.median(r.rate for r in runs["sdk loop"])
    rows = []
    header = f"{'subject':<20}{'msg/s':>10}{'vs sdk loop':>13}{'CPU µs/msg':>12}"
    print(f"{header}{'Azurite µs/msg':>16}{'RSS MB':>9}")
    for subject, subject_runs in runs.items():
        rate = statistics.median(r.rate for r in subject_runs)
        cpu = statistics.median(r.cpu_us_per_message for r in subject_runs)
        rss = statistics.median(r.rss_mb for r in subject_runs)
        storage = statistics.median(r.azurite_cpu_us_per_message for r in subject_runs)
        row = f"{subject:<20}{rate:>10.0f}{rate / anchor:>12.2f}x{cpu:>12.0f}"
        print(f"{row}{storage:>16.0f}{rss:>9.0f}")
        rows.append(
            {
                "subject": subject,
                "messages_per_second": round(rate, 1),
                "ratio_to_sdk_loop": round(rate / anchor, 3),
                "cpu_us_per_message": round(cpu, 1),
                "azurite_cpu_us_per_message": round(storage, 1),
                "rss_mb": round(rss, 1),
                "runs": [asdict(r) | {"rate": round(r.rate, 1)} for r in subject_runs],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sdk-loop", metavar="QUEUE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sdk_loop:
        asyncio.run(sdk_loop(os.environ["BENCH_STORAGE"], args.sdk_loop, args.messages))
        return
    runs: dict[str, list[Run]] = {subject: [] for subject in SUBJECTS}
    for round_number in range(1, args.rounds + 1):
        for subject in SUBJECTS:
            run = fresh_run(subject, args.messages, args.depth)
            runs[subject].append(run)
            print(f"round {round_number}: {subject}: {run.rate:.0f} msg/s", flush=True)
    rows = report(runs)
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "messages": args.messages,
        "depth": args.depth,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    (RESULTS / "queue_throughput.json").write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
