"""The Service Bus and Event Hubs peers unreachable for 10 s while their triggers run: the
listener logs one line for the outage and one when it is connected again, nothing is lost
(messages sent during the outage included) and the HTTP side answers 200 throughout.

The peers keep their messages in memory, so the outage is a loopback relay in front of the
peer that stops listening and resets every connection, then listens again on the same port
(tests/faults/outages.py): what a broker restart shows the host, minus the lost messages a
real broker would have kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from azurite import Azurite
from conftest import StartHost
from queue_helpers import wait_until

from faults.conftest import FaultRow
from faults.outages import OUTAGE_S, count, during_outage
from faults.triggers import APP, ids, trigger

ITEMS = 120  # a third before, a third during and a third after the outage


@pytest.mark.parametrize("kind", ["servicebus", "eventhub"])
def test_a_trigger_rides_out_its_broker_going_away(
    start_host: StartHost,
    azurite: Azurite,
    tmp_path: Path,
    fault_report: Callable[[FaultRow], None],
    kind: str,
) -> None:
    items = ids(ITEMS, kind[0])
    thirds = [items[i * ITEMS // 3 : (i + 1) * ITEMS // 3] for i in range(3)]
    with trigger(kind, azurite, tmp_path / "fault.log", 0.0, relayed=True) as feed:
        relay = feed.relay
        assert relay is not None
        feed.send(thirds[0])
        host = start_host(APP, "--functions", kind, "ping", env=feed.env)
        wait_until(lambda: not feed.missing(thirds[0]), 30, "the first third")

        def cut() -> None:
            relay.cut()
            feed.send(thirds[1])  # the broker takes them; the host cannot reach it

        statuses = during_outage(host, cut, relay.restore)
        back = time.monotonic()
        feed.send(thirds[2])
        wait_until(lambda: not feed.missing(items), 90, "every id after the outage")
        recovery = time.monotonic() - back
        wait_until(lambda: not feed.leftovers(items), 30, f"a settled {kind}")
        host.drain(1.0)
    assert statuses and set(statuses) == {200}, statuses
    assert len(statuses) >= OUTAGE_S  # one answer a second on average: not all at the end
    assert "Traceback" not in host.output
    if kind == "servicebus":
        assert count(host, "receiving failed") == 1, host.output
        assert count(host, "receiving again") == 1, host.output
    else:
        # The Event Hubs SDK reconnects on its own and tells nothing of it when it succeeds
        # within its retries (README); what it does report must be one line, not a flood.
        assert count(host, "(the SDK retries)") + count(host, "could not read") <= 1
    done = feed.done()
    assert set(done) == set(items)
    fault_report(
        feed.row(
            f"{kind} peer unreachable for 10 s (connections reset, port closed)",
            f"{ITEMS} items: a third before, during and after; HTTP polled",
            items,
            recovery,
        )
    )
