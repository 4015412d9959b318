"""Nothing is lost: a queue-triggered host killed or stopped mid-batch, then started again.

A message is deleted only after its function succeeded, so a host that dies (SIGKILL) leaves
the messages it held invisible; they come back when their visibility timeout ends and run
again. The test shortens the host's 10-minute visibility with FUNCHOST_QUEUE_MESSAGE_VISIBILITY
(3 s) so the second host sees them soon. Only messages in flight at the kill may run twice,
and at most batchSize + newBatchThreshold are ever in flight. A function still running at the
stop deadline is cancelled and its message made visible again at once (the in-process test at
the end drives the listener itself, with the host's 10 minutes left as they are).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from azure.storage.queue import QueueMessage
from azurite import Azurite
from conftest import Host, StartHost
from queue_helpers import (
    APP,
    client,
    lines_with,
    message_count,
    queue_env,
    send,
    stored,
    unique,
    wait_lines,
    wait_until,
    words_after,
)

from funchost.bindings.base import InvocationResult, TriggerEvent
from funchost.bindings.queue.config import QueuesOptions
from funchost.bindings.queue.listener import QueueTriggerConfig, QueueTriggerListener
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.storage import close_clients

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


def test_a_message_cancelled_at_the_stop_deadline_is_visible_again_right_after_stop(
    azurite: Azurite,
) -> None:
    queue = unique("cut")
    [sent] = send(azurite, queue, "cut short")
    config = QueueTriggerConfig(
        function_name="cut",
        queue=queue,
        poison_queue=f"{queue}-poison",
        connection=Connection(
            "AzureWebJobsStorage", "AzureWebJobsStorage", azurite.connection_string
        ),
        options=QueuesOptions(),  # invisible for the host's 10 minutes while it runs
        binary=False,
    )

    async def scenario() -> tuple[list[str], list[QueueMessage]]:
        started = asyncio.Event()

        async def dispatch(event: TriggerEvent) -> InvocationResult:
            started.set()
            await asyncio.Event().wait()  # a function still running at the deadline
            raise AssertionError("never set")

        listener = QueueTriggerListener(config, dispatch)
        await listener.start()
        try:
            await asyncio.wait_for(started.wait(), 20)
            hidden = await asyncio.to_thread(stored, azurite, queue)
            await listener.stop(asyncio.get_running_loop().time())  # the deadline is now
            peek = client(azurite, queue).peek_messages
            return hidden, await asyncio.to_thread(peek, max_messages=32)
        finally:
            await listener.stop(asyncio.get_running_loop().time())
            await close_clients()

    hidden, visible = asyncio.run(scenario())
    assert hidden == []  # taken by the listener
    assert [(m.id, m.dequeue_count) for m in visible] == [(sent.id, 1)]  # back, not run again
    assert message_count(azurite, f"{queue}-poison") == 0
