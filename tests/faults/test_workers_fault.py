"""A worker process killed under ``--workers 2``: the other serves on, a replacement appears."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from conftest import StartHost
from http_helpers import get
from supervisor_helpers import WAIT, app_copy, pid_answer, supervised

from faults.conftest import FaultRow

REQUESTS = 100


def test_a_killed_worker_is_replaced_while_the_other_serves(
    start_host: StartHost, tmp_path: Path, fault_report: Callable[[FaultRow], None]
) -> None:
    host = supervised(start_host, app_copy(tmp_path), "--workers", "2")
    before = {pid_answer(host) for _ in range(4)}
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    # Once every thread of the victim has exited (its sockets closed) the supervisor reaps it
    # and says so; a connection handed over in the instant before is lost with the worker,
    # so the row counts the requests sent from then on.
    host.wait_for(f"(pid {victim}) exited with code -9; starting a replacement", timeout=WAIT)
    statuses, pids = [], set()
    for _ in range(REQUESTS):
        reply = get(host, "/api/pid")
        statuses.append(reply.status)
        if reply.status == 200:
            pids.add(int(reply.text))
    host.wait_for("replaced (pid ", timeout=WAIT)
    recovered = time.monotonic() - killed
    after = {pid_answer(host) for _ in range(4)}

    assert statuses == [200] * REQUESTS
    assert victim not in pids | after
    assert len(after) == 2 and after - before  # two workers again, one of them new
    assert host.stop() == 0
    fault_report(
        FaultRow(
            fault="worker process SIGKILLed under --workers 2",
            action="requests from its death on go to the live worker; a replacement starts",
            sent=REQUESTS,
            processed=statuses.count(200),
            lost=REQUESTS - statuses.count(200),
            duplicates=0,
            recovery_s=round(recovered, 2),
        )
    )
