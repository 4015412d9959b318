"""A queue trigger's queue as the poll loop's source: received, kept, deleted, released, poisoned.

As the WebJobs storage extension's ``QueueListener`` and ``QueueProcessor`` (azure-sdk-for-net,
Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/):

- a missing queue is created (the extension only waits for it; a refused create waits);
- a receive takes up to ``batchSize`` messages, invisible for 10 minutes, renewed at half;
- success deletes; failure releases the message for another attempt after
  ``visibilityTimeout``; the attempt at ``maxDequeueCount`` (or a message that is not valid
  base64) copies it, as stored, to ``<queue>-poison`` and deletes it. A queue without a poison
  queue leaves a failed message invisible, so it cannot loop fast;
- a message whose function was cancelled at a stop is made visible again at once;
- the log lines are the extension's, in its ``Host.Triggers.Queue`` category.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from funchost.bindings.queue.config import QueuesOptions
from funchost.bindings.shared import storagequeue
from funchost.bindings.shared.failures import first_line
from funchost.bindings.shared.poll import Outcome
from funchost.bindings.shared.storagequeue import CATEGORY, Lease

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("funchost.queue")


class QueueSource:
    """The messages of one trigger queue, for one function."""

    def __init__(
        self,
        function_name: str,
        queue: QueueClient,
        poison: QueueClient | None,
        options: QueuesOptions,
    ) -> None:
        self.function_name = function_name
        self.queue = queue
        self.poison = poison
        self.options = options
        self._qualified = f"Functions.{function_name}"
        self._exists = False
        self._missing_logged = False

    @property
    def visibility(self) -> float:
        """How long a received message stays invisible (10 minutes unless a test shortens it)."""
        return self.options.processing_visibility

    # --- receiving -------------------------------------------------------------------------

    async def receive(self, limit: int) -> list[Lease]:
        """Up to limit messages; none while the queue is missing and cannot be created."""
        if not self._exists:
            self._exists = await self._queue_exists()
            if not self._exists:
                return []
        try:
            return await self._receive(limit)
        except Exception:
            self._exists = False  # check the queue again (it may have been deleted)
            raise

    async def _queue_exists(self) -> bool:
        """Whether the queue is there, creating it when it is missing.

        The storage extension only waits for a missing queue; funchost creates it, so a
        fresh Azurite accepts the first message sent to it. Without the right to create it
        (a SAS, a data-only role) the listener waits for it as the extension does.
        """
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        try:
            await self.queue.create_queue()
        except ResourceExistsError:
            pass  # the usual case: it exists (created here or by someone else meanwhile)
        except HttpResponseError as exc:
            return await self._cannot_create(exc)
        else:
            _log(
                logging.INFO,
                "Function '%s': queue '%s' did not exist; created it.",
                self.function_name,
                self.queue.queue_name,
            )
        self._missing_logged = False
        return True

    async def _cannot_create(self, exc: Exception) -> bool:
        """Wait for a queue funchost may not create; True when it turns out to exist."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await self.queue.get_queue_properties()
            return True
        except ResourceNotFoundError:
            pass
        if not self._missing_logged:
            self._missing_logged = True
            _log(
                logging.WARNING,
                "Function '%s': queue '%s' does not exist and could not be created (%s); "
                "waiting for it (checked at most every %g s).",
                self.function_name,
                self.queue.queue_name,
                first_line(exc),
                self.options.max_polling_interval,
            )
        return False

    async def _receive(self, count: int) -> list[Lease]:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        pages = self.queue.receive_messages(
            messages_per_page=count,
            max_messages=count,
            visibility_timeout=int(self.options.processing_visibility),
            client_request_id=request_id,
        ).by_page()
        batch: list[Lease] = []
        async for page in pages:
            batch = [Lease.of(message) async for message in page]
            break
        _log(
            logging.DEBUG,
            "Poll for function '%s' on queue '%s' with ClientRequestId '%s' found %d messages "
            "in %d ms.",
            self._qualified,
            self.queue.queue_name,
            request_id,
            len(batch),
            round((time.perf_counter() - started) * 1000),
        )
        return batch

    # --- keeping and settling --------------------------------------------------------------

    async def renew(self, lease: Lease) -> bool:
        """Keep the message invisible while its function runs (False once it is gone)."""
        return await storagequeue.renew(self.queue, lease, self.options.processing_visibility)

    async def settle(self, lease: Lease, outcome: Outcome) -> None:
        """QueueProcessor.CompleteProcessingMessageAsync; a failure is logged, not raised."""
        try:
            if outcome is Outcome.SUCCEEDED:
                await storagequeue.delete(self.queue, lease)
            elif outcome is Outcome.POISON:
                await self._poison(lease)
            else:
                await self._failed(lease)
        except Exception as exc:
            _log(
                logging.ERROR,
                "Function '%s': settling message '%s' on queue '%s' failed: %s; it will be "
                "delivered again when its visibility timeout ends.",
                self.function_name,
                lease.message.id,
                self.queue.queue_name,
                first_line(exc),
            )

    async def _failed(self, lease: Lease) -> None:
        if self.poison is None:
            return  # no poison queue: left invisible, so it cannot loop fast
        if (lease.message.dequeue_count or 0) >= self.options.max_dequeue_count:
            await self._poison(lease)
        else:
            await storagequeue.release(self.queue, lease, self.options.visibility_timeout)

    async def _poison(self, lease: Lease) -> None:
        if self.poison is None:
            return  # HandlePoisonMessageAsync does nothing without a poison queue
        await storagequeue.move_to_poison(
            self.queue, lease, self.poison, self.options.max_dequeue_count, self.function_name
        )

    async def release(self, lease: Lease) -> None:
        """Its function was cancelled at a stop: visible again at once, for the next host."""
        await storagequeue.release(self.queue, lease, 0)

    # --- the loop's lines, in the extension's words ----------------------------------------

    def poll_failed(self, exc: Exception, level: int) -> None:
        """A receive failed; the hint says when nothing answered at all."""
        _log(
            level,
            "Function '%s' could not poll queue '%s': %s; trying again.%s",
            self.function_name,
            self.queue.queue_name,
            first_line(exc),
            storagequeue.unreachable_hint(exc),
        )

    def poll_recovered(self) -> None:
        """Polling works again after a failure."""
        _log(
            logging.INFO,
            "Function '%s' is polling queue '%s' again.",
            self.function_name,
            self.queue.queue_name,
        )

    def backing_off(self, delay: float) -> None:
        """QueueListener's line before each backoff wait."""
        _log(
            logging.DEBUG,
            "Function '%s' will wait %g ms before polling queue '%s'.",
            self._qualified,
            round(delay * 1000, 3),
            self.queue.queue_name,
        )

    def renew_failed(self, lease: Lease, exc: Exception) -> None:
        """A renewal failed; the next one comes sooner, before the visibility ends."""
        storagequeue.renew_failed(lease, exc)

    def cancelling(self, count: int) -> None:
        """Invocations cut off at the shutdown deadline; their messages are released."""
        _log(
            logging.WARNING,
            "Cancelling %d invocation(s) of '%s' still running at the shutdown deadline; their "
            "messages are made visible again at once.",
            count,
            self._qualified,
        )


def _log(level: int, message: str, *args: object) -> None:
    log.log(level, message, *args, extra={"category": CATEGORY})
