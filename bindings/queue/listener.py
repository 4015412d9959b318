"""Queue trigger listener: polls a storage queue as the WebJobs storage extension does.

The loop is the shared poll loop (bindings/shared/poll.py) with the extension's
``QueueListener`` rules, the queue side is ``QueueSource`` (source.py):

- a missing queue is created (the extension only waits for it; a refused create waits);
- receive up to ``batchSize`` messages, invisible for 10 minutes; each runs in its own task;
  the next batch is fetched as soon as ``newBatchThreshold`` or fewer are still running, so at
  most ``batchSize + newBatchThreshold`` run at once;
- an empty (or missing) queue backs off with the randomized exponential delay from 100 ms to
  ``maxPollingInterval``; finding a message resets it; a message this host writes to the queue
  (an output binding, a poison move) ends the wait at once;
- while a function runs its message stays invisible: the visibility is renewed at half of it
  (``UpdateQueueMessageVisibilityCommand``), sooner after a server error;
- success deletes the message; failure makes it visible again after ``visibilityTimeout``; the
  attempt at ``maxDequeueCount`` (or a message that is not valid base64) moves it to
  ``<queue>-poison``. Settling runs under ``asyncio.shield``: a stop never cuts it short, and a
  function cancelled at the stop deadline has its message made visible again at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from funchost.bindings.base import Description, Dispatch, TriggerEvent
from funchost.bindings.queue.config import QueuesOptions
from funchost.bindings.queue.messages import admin_event, decode_body, trigger_event, utf8_text
from funchost.bindings.queue.source import QueueSource
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.poll import Outcome, PollLoop
from funchost.bindings.shared.queuewatch import unwatch, watch
from funchost.bindings.shared.storage import queue_service_client
from funchost.bindings.shared.storagequeue import CATEGORY, Lease

log = logging.getLogger("funchost.queue")


@dataclass(frozen=True)
class QueueTriggerConfig:
    """Everything a queue listener needs, checked when the function is loaded."""

    function_name: str
    queue: str
    poison_queue: str | None
    connection: Connection
    options: QueuesOptions
    binary: bool  # dataType binary: the body as bytes, not a string


class QueueTriggerListener:
    """Polls one queue for one function, with bounded concurrency."""

    def __init__(self, config: QueueTriggerConfig, dispatch: Dispatch) -> None:
        self.config = config
        self._dispatch = dispatch
        self._options = config.options
        self._source: QueueSource | None = None
        self._poll: PollLoop[Lease] | None = None

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("queueTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now with the payload as the message body (nothing is read from the queue)."""
        return admin_event(payload, self.config.binary)

    def wake(self) -> None:
        """Poll now instead of finishing the backoff delay."""
        if self._poll is not None:
            self._poll.wake()

    async def start(self) -> None:
        """Start polling in the background."""
        config = self.config
        service = queue_service_client(config.connection)
        poison = config.poison_queue
        self._source = QueueSource(
            config.function_name,
            service.get_queue_client(config.queue),
            None if poison is None else service.get_queue_client(poison),
            self._options,
        )
        name = f"Functions.{config.function_name} on queue '{config.queue}'"
        self._poll = PollLoop(self._source, self._handle, self._options, name=name)
        watch(self._source.queue, self.wake)
        log.debug(
            "Storage queue listener started (queue name='%s', storage account name='%s')",
            config.queue,
            service.account_name,
            extra={"category": CATEGORY},
        )
        self._poll.start()

    async def stop(self, deadline: float) -> None:
        """Stop polling, let running functions finish by deadline, wait for their settling."""
        if self._source is not None:
            unwatch(self._source.queue, self.wake)
        if self._poll is not None:
            await self._poll.stop(deadline)

    # --- one message -----------------------------------------------------------------------

    async def _handle(self, lease: Lease) -> Outcome:
        """QueueProcessor.BeginProcessingMessageAsync, then the function."""
        message = lease.message
        body = decode_body(message.content, self._options.message_encoding)
        if body is None:
            log.warning(
                "Message decoding has failed! Check MessageEncoding settings. MessageId=%s.",
                message.id,
                extra={"category": CATEGORY},
            )
            return Outcome.POISON
        if (message.dequeue_count or 0) > self._options.max_dequeue_count:
            return Outcome.POISON
        text = utf8_text(body)
        if text is None and not self.config.binary:
            log.error(
                "Function '%s': message '%s' cannot be bound to a string: its body is not "
                "UTF-8; use data_type=func.DataType.BINARY to receive bytes.",
                self.config.function_name,
                message.id,
                extra={"category": CATEGORY},
            )
            return Outcome.FAILED
        event = trigger_event(message, body, text, self.config.queue, self.config.binary)
        try:
            await self._dispatch(event)
        except Exception:
            return Outcome.FAILED  # the worker has logged the failure
        return Outcome.SUCCEEDED
