"""Group servicebus: funchost's Service Bus trigger draining a queue beside a hand-written loop.

One AMQP peer (tests/peers/amqp, pinned to CPU 1) serves the group; each run gets a queue of its
own, filled with ``--messages`` messages before the subject (pinned to CPU 0) starts:

- ``funchost``: ``funchost start`` on bench/apps/servicebus_throughput (an empty ``async def``
  function), host.json defaults (maxConcurrentCalls 16 x the processors it may run on: 16
  when pinned to one CPU, shared by its two receivers), the Executing/Executed lines printed
  as ``func start`` prints them;
- ``funchost distinct``: the same function on a queue whose messages were sent one at a time,
  a millisecond apart, so each has an enqueued time of its own: the worker keeps the library's
  parsed times by their text (worker/converters.py), and the other queues' messages, sent 100
  to a batch, share their enqueued millisecond with the rest of their batch;
- ``funchost str``: the same with the body as a ``str`` parameter (no func.ServiceBusMessage:
  the library's converter parses two dates of every message with up to 13 strptime formats);
- ``sdk loop``: the anchor, bench/sb_loop.py: the same SDK, one receiver, receive up to 16
  (funchost's concurrency) → complete them one after another, on the same peer, on asyncio's
  own loop as the SDK's samples run;
- ``sdk loop uvloop``: the same loop on uvloop, the event loop funchost runs on (the SDK's
  frame reads cost less there): a row to read the anchor by, not the anchor.

Messages per second run from the subject's ready line until its last message is done (the
Executed line of the last invocation; the loop's exit); CPU is the subject process's own over
that span. ``peer alone`` is the peer's own ceiling for this loop: the CPU it spent per message
in the SDK loop's runs (its core is busy that share of each second). Rounds are interleaved;
the table shows medians.

    python -m bench.servicebus_throughput [--quick] [--messages 10000] [--rounds 3]
"""

from __future__ import annotations

import asyncio
import os
import select
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass

from bench.common import (
    BENCH,
    REPO,
    BenchError,
    Options,
    cpu_seconds,
    free_port,
    funchost_command,
    pinned,
    progress,
    rss_mb,
    stop,
)
from bench.table import GroupResult, Row, Target, against

APP = BENCH / "apps" / "servicebus_throughput"
READY = "Host started in "
EXECUTED = "Executed 'Functions.consume"
UVLOOP = "sdk loop uvloop"
SUBJECTS = ("funchost", "funchost distinct", "funchost str", "sdk loop", UVLOOP)
# Each funchost subject runs one function of the bench app.
FUNCTIONS = {"funchost": "consume", "funchost distinct": "consume", "funchost str": "consume_str"}
DISTINCT = "funchost distinct"  # its queue is filled one message per millisecond
CONCURRENCY = 16  # maxConcurrentCalls' default on one processor
TARGET = Target(">=", 0.90)  # issue 15
PEER_READY = "Endpoint=sb://127.0.0.1:"


@dataclass
class Run:
    """One subject draining one queue."""

    subject: str
    messages: int
    seconds: float
    cpu_us_per_message: float
    peer_cpu_us_per_message: float
    rss_mb: float

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds


# --- the peer --------------------------------------------------------------------------------


def start_peer(queues: list[str]) -> tuple[subprocess.Popen[str], str]:
    """python -m tests.peers.amqp with every run's queue, pinned to CPU 1; its connection string."""
    args = [arg for queue in queues for arg in ("--queue", queue)]
    cmd = [sys.executable, "-m", "tests.peers.amqp", "--port", "0", *args]
    proc = subprocess.Popen(
        pinned(cmd, 1), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            line = proc.stdout.readline().strip()
            if line.startswith(PEER_READY):
                return proc, line
    proc.kill()
    raise BenchError("the AMQP peer (python -m tests.peers.amqp) did not start within 20 s")


async def fill(connection: str, queue: str, count: int) -> None:
    """count small messages in the queue, sent in batches."""
    from azure.servicebus import ServiceBusMessage
    from azure.servicebus.aio import ServiceBusClient

    client = ServiceBusClient.from_connection_string(connection)
    async with client, client.get_queue_sender(queue) as sender:
        for start in range(0, count, 100):
            batch = [
                ServiceBusMessage(f"message {i:06d}") for i in range(start, min(count, start + 100))
            ]
            await sender.send_messages(batch)


async def fill_distinct(connection: str, queue: str, count: int) -> None:
    """count small messages sent one at a time, at least a millisecond apart: the peer stamps
    each with the millisecond it arrived in, so no two share an enqueued time."""
    from azure.servicebus import ServiceBusMessage
    from azure.servicebus.aio import ServiceBusClient

    client = ServiceBusClient.from_connection_string(connection)
    async with client, client.get_queue_sender(queue) as sender:
        loop = asyncio.get_running_loop()
        sent = 0.0
        for i in range(count):
            while loop.time() - sent < 0.0011:
                await asyncio.sleep(0.0002)
            sent = loop.time()
            await sender.send_messages(ServiceBusMessage(f"message {i:06d}"))


# --- subjects --------------------------------------------------------------------------------


def start_funchost(
    connection: str, queue: str, function: str
) -> tuple[subprocess.Popen[str], list[int]]:
    """funchost start on one function of the bench app, returned once it has started."""
    cmd = [*funchost_command(APP, free_port()), "--functions", function]
    env = {**os.environ, "BENCH_SB": connection, "BENCH_QUEUE": queue}
    proc = subprocess.Popen(
        pinned(cmd, 0), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready, done = threading.Event(), [0]
    threading.Thread(target=_read, args=(proc, ready, done), daemon=True).start()
    if not ready.wait(30):
        proc.kill()
        raise BenchError(f"funchost did not print {READY!r} within 30 s")
    return proc, done


def _read(proc: subprocess.Popen[str], ready: threading.Event, done: list[int]) -> None:
    """Watch for the ready line and count Executed lines; keep reading so the pipe never fills."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if EXECUTED in line:
            done[0] += 1
        elif READY in line:
            ready.set()


def run_funchost(
    connection: str, queue: str, count: int, function: str
) -> tuple[float, float, float]:
    """Seconds, CPU seconds and RSS of funchost draining count messages."""
    proc, done = start_funchost(connection, queue, function)
    try:
        started, cpu_before = time.perf_counter(), cpu_seconds(proc.pid)
        deadline = started + 600
        while done[0] < count:
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise BenchError(f"funchost ran {done[0]} of {count} messages")
            time.sleep(0.002)
        seconds = time.perf_counter() - started
        return seconds, cpu_seconds(proc.pid) - cpu_before, rss_mb(proc.pid)
    finally:
        stop(proc, 30)


def run_sdk_loop(
    connection: str, queue: str, count: int, uvloop: bool = False
) -> tuple[float, float, float]:
    """Seconds, CPU seconds and RSS of bench/sb_loop.py draining count messages."""
    cmd = [sys.executable, str(BENCH / "sb_loop.py"), queue, str(count), str(CONCURRENCY)]
    cmd += ["uvloop"] if uvloop else []
    env = {**os.environ, "BENCH_SB": connection}
    proc = subprocess.Popen(pinned(cmd, 0), env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise BenchError("bench/sb_loop.py did not print ready")
    started, cpu_before = time.perf_counter(), cpu_seconds(proc.pid)
    line = proc.stdout.readline().strip()
    seconds = time.perf_counter() - started
    cpu, rss = cpu_seconds(proc.pid), rss_mb(proc.pid)
    if line != "done":
        raise BenchError(f"bench/sb_loop.py stopped early (exit code {proc.wait(30)})")
    proc.wait(30)
    return seconds, cpu - cpu_before, rss


# --- the benchmark ---------------------------------------------------------------------------


def one_run(
    subject: str, peer: subprocess.Popen[str], connection: str, queue: str, count: int
) -> Run:
    """Fill the run's queue, let the subject drain it, measure."""
    asyncio.run((fill_distinct if subject == DISTINCT else fill)(connection, queue, count))
    peer_before = cpu_seconds(peer.pid)
    if subject in ("sdk loop", UVLOOP):
        seconds, cpu, rss = run_sdk_loop(connection, queue, count, uvloop=subject == UVLOOP)
    else:
        seconds, cpu, rss = run_funchost(connection, queue, count, FUNCTIONS[subject])
    peer_cpu = cpu_seconds(peer.pid) - peer_before
    return Run(subject, count, seconds, cpu / count * 1e6, peer_cpu / count * 1e6, rss)


def _row(subject: str, runs: list[Run]) -> Row:
    """The medians of one subject's runs as a msg/s row."""
    peer = statistics.median(r.peer_cpu_us_per_message for r in runs)
    return Row(
        "servicebus",
        subject,
        statistics.median(r.rate for r in runs),
        "msg/s",
        cpu_us=statistics.median(r.cpu_us_per_message for r in runs),
        rss_mb=statistics.median(r.rss_mb for r in runs),
        note=f"peer {peer:.0f} µs/msg",
    )


def servicebus_group(options: Options) -> GroupResult:
    """Interleaved rounds of both subjects on one peer; rows against the SDK loop."""
    queues = {(n, s): f"bench{n}{i}" for n in range(options.rounds) for i, s in enumerate(SUBJECTS)}
    peer, connection = start_peer(list(queues.values()))
    runs: dict[str, list[Run]] = {subject: [] for subject in SUBJECTS}
    try:
        for number in range(options.rounds):
            for subject in SUBJECTS:
                run = one_run(subject, peer, connection, queues[number, subject], options.messages)
                runs[subject].append(run)
                rate = f"{run.rate:,.0f} msg/s"
                progress(f"servicebus round {number + 1}/{options.rounds}: {subject} {rate}")
    finally:
        stop(peer, 10)
    anchor = _row("sdk loop", runs["sdk loop"])
    peer_us = statistics.median(r.peer_cpu_us_per_message for r in runs["sdk loop"])
    ceiling = Row(
        "servicebus", "peer alone (ceiling)", 1e6 / peer_us, "msg/s", note="1 / its CPU per message"
    )
    rows = [
        anchor,
        against(anchor, _row("funchost", runs["funchost"]), TARGET),
        against(anchor, _row(DISTINCT, runs[DISTINCT]), TARGET),
        against(anchor, _row("funchost str", runs["funchost str"])),
        against(anchor, _row(UVLOOP, runs[UVLOOP])),
        ceiling,
    ]
    doc = {
        "messages": options.messages,
        "concurrency": CONCURRENCY,
        "runs": {s: [asdict(r) | {"rate": round(r.rate, 1)} for r in rs] for s, rs in runs.items()},
    }
    return GroupResult(rows, doc)


if __name__ == "__main__":
    from bench.suite import main

    main(("servicebus",), name="servicebus_throughput")
