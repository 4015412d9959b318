"""A bounded load test on loopback: ``wrk`` on sync and async HTTP functions while a queue
trigger drains its messages, all in the same ``funchost start``.

Scaled to a 2-core machine shared with Azurite and the load generator: 30 s of ``wrk -t2
-c128`` alternating ``/api/ping`` (def) and ``/api/aping`` (async def), while 3,000 queue
messages are sent and processed. Asserted: no answer other than 200 (so no 5xx),
no socket error or timeout, every message processed and the queue empty, and the host's
resident memory (VmRSS) not growing: the median of the last third of the samples is at most
10 % above the median of the first third. Throughput is not asserted (bench/ measures it).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from azurite import Azurite
from conftest import StartHost
from queue_helpers import wait_until

from faults.conftest import FaultRow
from faults.triggers import APP, ids, trigger

DURATION_S = 30
CONNECTIONS = 128
MESSAGES = 3000
RSS_TOLERANCE = 1.10  # last third's median RSS / first third's
SCRIPT = Path(__file__).with_name("wrk_mix.lua")

pytestmark = pytest.mark.load


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        message = "wrk is not installed (apt-get install wrk)"
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _rss_kib(pid: int) -> int:
    """VmRSS of the process, in KiB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _sample(pid: int, until: threading.Event, samples: list[int]) -> None:
    while not until.wait(0.5):
        samples.append(_rss_kib(pid))


def _figure(pattern: str, text: str) -> list[int]:
    match = re.search(pattern, text)
    return [int(n) for n in match.groups()] if match else []


def test_mixed_http_load_and_a_queue_drain_lose_nothing_and_hold_memory(
    start_host: StartHost,
    azurite: Azurite,
    tmp_path: Path,
    fault_report: Callable[[FaultRow], None],
) -> None:
    wrk = _wrk()
    items = ids(MESSAGES, "l")
    with trigger("queue", azurite, tmp_path / "fault.log", 0.0) as feed:
        host = start_host(APP, "--functions", "queue", "ping", "aping", env=feed.env)
        samples: list[int] = []
        done = threading.Event()
        sampler = threading.Thread(target=_sample, args=(host.proc.pid, done, samples))
        sampler.start()
        # Sent while wrk runs, four clients at once: the queue drains under the HTTP load.
        pool = ThreadPoolExecutor(4)
        sent = [pool.submit(feed.send, items[i::4]) for i in range(4)]
        try:
            load = [f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--timeout", "10s"]
            run = subprocess.run(
                [wrk, "-t2", *load, "-s", str(SCRIPT), host.base_url],
                capture_output=True,
                text=True,
                timeout=DURATION_S + 30,
            )
        finally:
            done.set()
            sampler.join(5)
            pool.shutdown()
        for sending in sent:
            sending.result()
        started = time.monotonic()
        wait_until(lambda: not feed.missing(items), 60, f"all {MESSAGES} messages")
        drained_after = time.monotonic() - started
        wait_until(lambda: not feed.leftovers(items), 30, "an empty queue")
        processed = feed.done()
    report = run.stdout
    assert run.returncode == 0, run.stderr
    [requests] = _figure(r"(\d+) requests in", report)
    assert requests > 0, report
    assert "Non-2xx or 3xx responses" not in report, report
    assert "Socket errors" not in report, report  # connect, read, write and timeout all 0
    assert set(processed) == set(items)
    assert host.proc.poll() is None
    third = len(samples) // 3
    assert third >= 5, samples
    first, last = statistics.median(samples[:third]), statistics.median(samples[-third:])
    assert last <= first * RSS_TOLERANCE, (first, last, samples)
    fault_report(
        feed.row(
            f"load: {DURATION_S} s of wrk -c{CONNECTIONS} on def + async def HTTP",
            f"{requests} requests, {MESSAGES} queue messages drained meanwhile; "
            f"RSS median {first / 1024:.0f} -> {last / 1024:.0f} MiB",
            items,
            drained_after,
        )
    )
