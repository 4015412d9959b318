"""Azurite stopped for 10 s and started again on the same ports (its data on disk) while a
queue trigger and a blob trigger run: each listener logs one line for the outage and one when
it works again (no traceback, not a line per retry), nothing is lost, and the HTTP side
answers 200 throughout."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from azurite import launch, stop
from conftest import StartHost
from queue_helpers import wait_until

from faults.conftest import FaultRow
from faults.outages import OUTAGE_S, count, during_outage
from faults.triggers import APP, ids, trigger

ITEMS = 100  # per trigger: half before the outage, half after


def test_listeners_ride_out_an_azurite_restart(
    start_host: StartHost, tmp_path: Path, fault_report: Callable[[FaultRow], None]
) -> None:
    proc, azurite = launch(tmp_path, on_disk=True)
    running: list[subprocess.Popen[bytes]] = [proc]
    log = tmp_path / "fault.log"
    try:
        with (
            trigger("queue", azurite, log, 0.0) as queue,
            trigger("blob", azurite, log, 0.0) as blob,
        ):
            items = {"queue": ids(ITEMS, "q"), "blob": ids(ITEMS, "b")}
            for feed in (queue, blob):
                feed.send(items[feed.kind][: ITEMS // 2])
            env = {**queue.env, **blob.env}
            host = start_host(APP, "--functions", "queue", "blob", "ping", env=env)
            first = items["queue"][: ITEMS // 2] + items["blob"][: ITEMS // 2]
            wait_until(lambda: not queue.missing(first), 30, "the first halves")

            def restart() -> None:
                running.append(launch(tmp_path, on=azurite, on_disk=True)[0])

            statuses = during_outage(host, lambda: stop(running[-1]), restart)
            back = time.monotonic()
            for feed in (queue, blob):
                feed.send(items[feed.kind][ITEMS // 2 :])
            every = items["queue"] + items["blob"]
            wait_until(lambda: not queue.missing(every), 60, "every id after the restart")
            recovery = time.monotonic() - back
            wait_until(lambda: not queue.leftovers(items["queue"]), 30, "an empty queue")
            wait_until(lambda: not blob.leftovers(items["blob"]), 30, "a receipt per blob")
            host.drain(1.0)
    finally:
        for started in running:
            if started.poll() is None:
                stop(started)
    assert statuses and set(statuses) == {200}, statuses
    assert len(statuses) >= OUTAGE_S  # one answer a second on average: not all at the end
    # One line for the outage and one for the end of it, per listener that noticed it.
    for down, up in (
        ("could not poll queue", "is polling queue"),
        ("could not be read", "is read again"),
    ):
        assert count(host, down) == 1, host.output
        assert count(host, up) == 1, host.output
    assert count(host, "The blob scan failed") <= 1, host.output
    assert count(host, "Singleton lock renewal failed") <= 1, host.output
    assert count(host, "The blob scan failed") == count(host, "The blob scan works again")
    assert "Traceback" not in host.output
    done = queue.done()
    assert set(done) == set(every)
    fault_report(
        queue.row(
            "Azurite stopped for 10 s, restarted on the same ports",
            f"queue + blob triggers, {2 * ITEMS} items (half after), HTTP polled",
            every,
            recovery,
        )
    )
