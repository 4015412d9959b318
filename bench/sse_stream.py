"""Group stream: server-sent events per second through funchost and through uvicorn.

The same ``bench/apps/fastapi_hello`` app's ``/events?n=N`` (a StreamingResponse of N events,
as fast as they are taken): uvicorn serves its FastAPI ``api``, funchost its ``app``
(AsgiFunctionApp, served directly and streamed). Each run reads one stream of N events on
one connection from this process (pinned to CPU 1 when it can be), the server on CPU 0,
and checks every event arrived.

    python -m bench.sse_stream [--quick] [--messages N] [--rounds 3]
"""

from __future__ import annotations

import os
import socket
import statistics
import time
from dataclasses import asdict, dataclass

from bench.common import (
    BenchError,
    Options,
    can_pin,
    cpu_seconds,
    free_port,
    pinned,
    progress,
    running,
    wait_ok,
)
from bench.fastapi_vs_uvicorn import FUNCHOST, UVICORN
from bench.servers import Server
from bench.table import GroupResult, Row, against

EVENTS_PER_RUN = 20  # × --messages events per stream (200,000 with the defaults)
_READ = 1 << 16


@dataclass(frozen=True)
class StreamRun:
    """One stream read whole: events/s and the server's CPU per event."""

    events_per_s: float
    cpu_us_per_event: float


def read_stream(port: int, path: str, events: int) -> float:
    """Seconds from sending the request to the stream's end; checks the event count."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        started = time.perf_counter()
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        received = bytearray()
        while not received.endswith(b"0\r\n\r\n"):
            piece = sock.recv(_READ)
            if not piece:
                break
            received += piece
        elapsed = time.perf_counter() - started
    count = received.count(b"data: ")
    if count != events:
        raise BenchError(f"{path}: {count} events arrived, {events} were sent")
    return elapsed


def measure(server: Server, events: int) -> StreamRun:
    """Start the server on CPU 0, read one warm-up stream, then the measured one."""
    port = free_port()
    with running(pinned(server.command(port), 0)) as proc:
        wait_ok(f"http://127.0.0.1:{port}", server.probe, proc)
        read_stream(port, "/events?n=1000", 1000)
        before = cpu_seconds(proc.pid)
        elapsed = read_stream(port, f"/events?n={events}", events)
        cpu = cpu_seconds(proc.pid) - before
    return StreamRun(events / elapsed, cpu / events * 1e6)


def stream_group(options: Options) -> GroupResult:
    """events/s of funchost against uvicorn, interleaved rounds, medians."""
    events = options.messages * EVENTS_PER_RUN
    runs: dict[str, list[StreamRun]] = {UVICORN.name: [], FUNCHOST.name: []}
    affinity = os.sched_getaffinity(0)
    if can_pin():
        os.sched_setaffinity(0, {1})  # the reader stays off the server's core
    try:
        for number in range(1, options.rounds + 1):
            for server in (UVICORN, FUNCHOST):
                run = measure(server, events)
                runs[server.name].append(run)
                rate = f"{run.events_per_s:,.0f} events/s"
                progress(f"stream round {number}/{options.rounds}: {server.name} {rate}")
    finally:
        os.sched_setaffinity(0, affinity)  # later groups spawn unpinned processes
    rows = [_row(name, server_runs) for name, server_runs in runs.items()]
    details = {
        "method": f"{options.rounds} rounds, one stream of {events} events per run",
        "runs": {name: [asdict(r) for r in server_runs] for name, server_runs in runs.items()},
    }
    return GroupResult([rows[0], against(rows[0], rows[1])], details)


def _row(name: str, runs: list[StreamRun]) -> Row:
    value = statistics.median(r.events_per_s for r in runs)
    cpu = statistics.median(r.cpu_us_per_event for r in runs)
    return Row("stream", name, value, "events/s", cpu_us=cpu)


if __name__ == "__main__":
    from bench.suite import main

    main(("stream",), name="sse_stream")
