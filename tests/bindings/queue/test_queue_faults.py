"""Nothing is lost: a queue-triggered host killed or stopped mid-batch, then started again.

A message is deleted only after its function succeeded, so a host that dies (SIGKILL) leaves
the messages it held invisible; they come back when their visibility timeout ends and run
again. The test shortens the host's 10-minute visibility with FUNCHOST_QUEUE_MESSAGE_VISIBILITY
(3 s) so the second host sees them soon. Only messages in flight at the kill may run twice,
and at most batchSize + newBatchThreshold are ever in flight.
"""

from __future__ import annotations

import signal
from collections import Counter

from azurite import Azurite
from conftest import Host, StartHost
from queue_helpers import (
    APP,
    lines_with,
    message_count,
    queue_env,
    send,
    unique,
    wait_lines,
    wait_until,
    words_after,
)

OPTION = "AzureFunctionsJobHost__extensions__queues__"
BATCH, THRESHOLD = 16, 8
MESSAGES = 500


def _env(azurite: Azurite, queue: str) -> dict[str, str]:
    return {
        **queue_env(azurite, lost=queue),
        f"{OPTION}batchSize": str(BATCH),
        f"{OPTION}newBatchThreshold": str(THRESHOLD),
        f"{OPTION}maxPollingInterval": "00:00:01",
        "FUNCHOST_QUEUE_MESSAGE_VISIBILITY": "00:00:03",
    }


def _seen(host: Host, tag: str) -> list[str]:
    return words_after(lines_with(host, f" {tag} "), tag)


def _mid_batch(host: Host, at_least: int) -> bool:
    """At least this many messages are done, and some that started are not yet."""
    done = set(_seen(host, "DONE"))
    return len(done) >= at_least and bool(set(_seen(host, "START")) - done)


def _run_until_empty(start_host: StartHost, azurite: Azurite, queue: str) -> Host:
    host = start_host(APP, "--functions", "steady", env=_env(azurite, queue))
    wait_until(lambda: message_count(azurite, queue) == 0, 60, "the queue to be empty")
    host.drain(0.5)
    return host


def test_a_killed_host_loses_nothing_and_repeats_only_what_was_in_flight(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("lost")
    names = [f"m{i:03d}" for i in range(MESSAGES)]
    send(azurite, queue, *names)
    first = start_host(APP, "--functions", "steady", env=_env(azurite, queue))
    wait_until(lambda: _mid_batch(first, 100), 30, "100 messages done and more running")
    first.stop(signal.SIGKILL)
    started, done = _seen(first, "START"), _seen(first, "DONE")
    assert len(done) < MESSAGES, "the kill came too late to catch messages in flight"
    in_flight = set(started) - set(done)
    assert 0 < len(in_flight) <= BATCH + THRESHOLD, in_flight

    second = _run_until_empty(start_host, azurite, queue)
    processed = done + _seen(second, "DONE")
    assert set(processed) == set(names)  # every message ran to the end at least once
    repeated = {name for name, count in Counter(processed).items() if count > 1}
    # Only a message the first host held can run again: it finished but was not yet deleted.
    assert repeated <= set(started), repeated
    assert len(repeated) <= BATCH + THRESHOLD, repeated
    # The ones cut off by the kill came back (dequeued a second time) and finished.
    assert in_flight <= set(_seen(second, "DONE"))
    assert message_count(azurite, f"{queue}-poison") == 0


def test_a_stopped_host_finishes_what_it_holds_and_repeats_nothing(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("stop")
    names = [f"s{i:03d}" for i in range(200)]
    send(azurite, queue, *names)
    first = start_host(APP, "--functions", "steady", env=_env(azurite, queue))
    wait_lines(first, " DONE ", 50, timeout=30)
    assert first.stop(signal.SIGTERM) == 0
    started, done = _seen(first, "START"), _seen(first, "DONE")
    assert sorted(started) == sorted(done), "stop must let running functions finish"

    second = _run_until_empty(start_host, azurite, queue)
    processed = done + _seen(second, "DONE")
    assert sorted(processed) == sorted(names)  # each exactly once
    assert message_count(azurite, f"{queue}-poison") == 0
