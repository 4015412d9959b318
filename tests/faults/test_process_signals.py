"""The real ``funchost start`` killed (SIGKILL) or stopped (SIGTERM) mid-way through a few
hundred queue messages, Service Bus messages, Event Hubs events or blobs, then started again.

At least once, as the Functions host promises: every id is finished by one host or the other.
A kill leaves what the host held locked (queue visibility, SB lock, EH partition ownership,
blob trigger message), and it comes back once that lapses (shortened to a few seconds by the
app's settings); only what was in flight may run twice. A stop lets every running invocation
finish (each START has its DONE) and settles it, so nothing runs twice. Afterwards the service
holds what a clean run leaves: empty queues, nothing poisoned or dead-lettered, checkpoints at
each partition's end, a completed receipt per blob.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from azurite import Azurite
from conftest import StartHost
from queue_helpers import wait_until

from faults.conftest import FaultRow
from faults.triggers import APP, KINDS, Trigger, ids, trigger

ITEMS = 300
DELAY = 0.04  # seconds per item: the host is mid-way for a while


def _mid_way(feed: Trigger, at_least: int) -> bool:
    done = feed.done()
    return len(done) >= at_least and bool(set(feed.started()) - set(done))


def _run(
    start_host: StartHost, feed: Trigger, sig: int, items: list[str]
) -> tuple[set[str], float]:
    """Feed, start, interrupt mid-way with ``sig``, restart; (what was in flight, recovery s)."""
    feed.send(items)
    args = ("--functions", feed.function)
    first = start_host(APP, *args, env=feed.env)
    wait_until(lambda: _mid_way(feed, ITEMS // 5), 60, f"{ITEMS // 5} done and more running")
    code = first.stop(sig)
    in_flight = set(feed.started()) - set(feed.done())
    if sig == signal.SIGTERM:
        assert code == 0, first.output
        assert not in_flight, f"a stop must let running invocations finish: {in_flight}"
    assert len(set(feed.done())) < ITEMS, "the host finished before the signal: slow it down"
    restarted = time.monotonic()
    second = start_host(APP, *args, env={**feed.env, "FAULT_DELAY": "0"})
    wait_until(lambda: not feed.missing(items), 90, f"all {ITEMS} ids done")
    recovery = time.monotonic() - restarted
    wait_until(lambda: not feed.leftovers(items), 30, f"a settled {feed.kind}")
    assert second.proc.poll() is None
    return in_flight, recovery


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_nothing_is_lost_when_the_host_is_killed_or_stopped_mid_way(
    start_host: StartHost,
    azurite: Azurite,
    tmp_path: Path,
    fault_report: Callable[[FaultRow], None],
    kind: str,
    sig: int,
) -> None:
    items = ids(ITEMS, kind[0])
    with trigger(kind, azurite, tmp_path / "fault.log", DELAY) as feed:
        in_flight, recovery = _run(start_host, feed, sig, items)
        done = feed.done()
    assert set(done) == set(items)
    repeated = {item for item in set(done) if done.count(item) > 1}
    if sig == signal.SIGTERM:
        assert not repeated, repeated  # each settled once
    else:
        assert in_flight, "the kill came too late to catch anything in flight"
        # Only what the killed host had begun can run again (a batch for Event Hubs, whose
        # checkpoint covers its whole batch): never an id it had not yet taken.
        assert repeated <= set(feed.started()), repeated
    name = signal.Signals(sig).name
    fault_report(
        feed.row(
            f"{name} of funchost start mid-way through a {kind} trigger",
            f"{ITEMS} {kind} items, {name} after {ITEMS // 5} done, restart",
            items,
            recovery,
        )
    )
