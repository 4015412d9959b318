"""Messages a function can never process take each trigger's poison path, named in the log.

- Storage queue: a body that is not base64 goes to ``<queue>-poison`` at once, unread; a JSON
  document the function cannot read fails ``maxDequeueCount`` times, then goes there too.
- Service Bus: a failing message is abandoned, delivered again, and dead-lettered by the
  broker once its delivery count reaches the entity's MaxDeliveryCount.
- Event Hubs has no poison path: the WebJobs extension checkpoints a batch "regardless of
  function success/failure" (EventHubListener.ProcessEventsAsync), so the failure is logged
  and the checkpoint moves past it; the event is never read again.

In Python the trigger parameter is always the library's message type, so "invalid JSON for a
typed parameter" is the function's own JSON read failing (tests/apps/fault_triggers).
"""

from __future__ import annotations

import base64
from pathlib import Path

from azurite import Azurite
from conftest import StartHost
from queue_helpers import create, lines_with, message_count, stored, wait_lines, wait_until
from queue_helpers import send as queue_send
from servicebus_helpers import peek, send

from faults.triggers import APP, trigger

BROKEN = "{broken json"


def test_queue_messages_that_cannot_be_read_go_to_the_poison_queue(
    start_host: StartHost, azurite: Azurite, tmp_path: Path
) -> None:
    with trigger("queue", azurite, tmp_path / "fault.log", 0.0) as feed:
        name = feed.env["F_QUEUE"]
        raw = create(azurite, name).send_message("not base64!")
        [bad] = queue_send(azurite, name, BROKEN)
        feed.send(["q-ok"])
        env = {**feed.env, "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": "2"}
        host = start_host(APP, "--functions", "queue", env=env)
        wait_until(lambda: message_count(azurite, f"{name}-poison") == 2, 30, "two poisoned")
        wait_until(lambda: feed.done() == ["q-ok"], 10, "the good message")
        assert message_count(azurite, name) == 0
        poisoned = sorted(stored(azurite, f"{name}-poison"))
        assert poisoned == sorted(["not base64!", base64.b64encode(BROKEN.encode()).decode()])
        assert feed.started().count(BROKEN) == 2  # maxDequeueCount attempts, then poison
        for message in (raw, bad):
            [line] = lines_with(host, f"Function 'queue', message '{message.id}'")
            assert f"Moving message to queue '{name}-poison'." in line


def test_a_failing_service_bus_message_is_dead_lettered_after_max_delivery_count(
    start_host: StartHost, azurite: Azurite, tmp_path: Path
) -> None:
    with trigger("servicebus", azurite, tmp_path / "fault.log", 0.0, deliveries=2) as feed:
        assert feed.peer is not None
        connection = feed.peer.connection_string
        send(connection, "faults", BROKEN, message_id="bad-1")
        feed.send(["s-ok"])
        host = start_host(APP, "--functions", "servicebus", env=feed.env)
        [dead] = wait_until(lambda: peek(connection, "faults", dead_letter=True), 30, "a DLQ")
        wait_until(lambda: feed.done() == ["s-ok"], 10, "the good message")
        assert dead.message_id == "bad-1"
        assert not peek(connection, "faults")
        assert feed.started().count(BROKEN) == 2  # MaxDeliveryCount attempts
        failed = "Function 'servicebus' on Service Bus entity 'faults': message 'bad-1' failed"
        lines = wait_lines(host, failed, 2, timeout=10)
        # The SDK's delivery_count: the AMQP header's count of earlier deliveries.
        assert [line.split(failed, 1)[1][:19] for line in lines] == [
            " (delivery count 0)",
            " (delivery count 1)",
        ]


def test_a_failing_event_hubs_batch_is_logged_and_checkpointed_past(
    start_host: StartHost, azurite: Azurite, tmp_path: Path
) -> None:
    with trigger("eventhub", azurite, tmp_path / "fault.log", 0.0) as feed:
        feed.send([BROKEN])  # partition 0, sequence number 0
        host = start_host(APP, "--functions", "eventhub", env=feed.env)
        [line] = wait_lines(host, "Function 'eventhub' failed for the events of", 1, timeout=30)
        assert "partition '0', sequence numbers 0-0" in line
        assert "checkpointed past" in line
        feed.send(["e-ok"])  # partition 0, sequence number 1
        wait_until(lambda: feed.done() == ["e-ok"], 30, "the next event")
        wait_until(lambda: not feed.leftovers([]), 10, "a checkpoint past both")
        assert feed.started() == [BROKEN, "e-ok"]  # never read again
