"""Queue trigger listener: polls a storage queue as the WebJobs storage extension does.

The loop is the extension's ``QueueListener`` and ``QueueProcessor`` (azure-sdk-for-net,
Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/):

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
  ``<queue>-poison``. Settling runs under ``asyncio.shield``: a stop never cuts it short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funchost.backoff import ExponentialBackoff
from funchost.bindings.base import Description, Dispatch, TriggerEvent
from funchost.bindings.queue.config import MIN_POLLING_INTERVAL, QueuesOptions
from funchost.bindings.queue.messages import admin_event, decode_body, trigger_event, utf8_text
from funchost.bindings.queue.settle import (
    CATEGORY,
    Keeper,
    Lease,
    Settler,
    first_line,
    unwatch,
    watch,
)
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.storage import queue_service_client

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

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
        self._backoff = ExponentialBackoff(
            MIN_POLLING_INTERVAL, config.options.max_polling_interval
        )
        self._processing: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Future[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._queue: QueueClient | None = None
        self._settler: Settler | None = None
        self._account = ""
        self._found = False  # a message since the last backoff delay
        self._exists = False
        self._receiving = False
        self._stopping = False
        self._failing = False  # a storage error was logged; recovery is logged once
        self._missing_logged = False
        self._qualified = f"Functions.{config.function_name}"

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("queueTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now with the payload as the message body (nothing is read from the queue)."""
        return admin_event(payload, self.config.binary)

    def wake(self) -> None:
        """Poll now instead of finishing the backoff delay."""
        self._wake.set()

    async def start(self) -> None:
        """Start polling in the background."""
        config = self.config
        service = queue_service_client(config.connection)
        self._queue = service.get_queue_client(config.queue)
        poison = config.poison_queue
        self._settler = Settler(
            function_name=config.function_name,
            queue_name=config.queue,
            queue=self._queue,
            poison_name=poison,
            poison=None if poison is None else service.get_queue_client(poison),
            options=self._options,
            account_url=service.url,
        )
        self._account = service.url
        watch(self._account, config.queue, self.wake)
        self._log(
            logging.DEBUG,
            "Storage queue listener started (queue name='%s', storage account name='%s')",
            self.config.queue,
            service.account_name,
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop polling, let running functions finish by deadline, wait for their settling."""
        unwatch(self._account, self.config.queue, self.wake)
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            if not self._receiving:  # a receive in flight is let finish: its messages run
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await finish_by(self._processing, deadline, self._cancelling)
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    def _cancelling(self, count: int) -> None:
        self._log(
            logging.WARNING,
            "Cancelling %d invocation(s) of '%s' still running at the shutdown deadline; their "
            "messages become visible again when their visibility timeout ends.",
            count,
            self._qualified,
        )

    # --- polling ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            found = await self._poll()
            if self._stopping:
                return
            if found:
                await self._wait_for_threshold()
            else:
                await self._backoff_wait()

    async def _poll(self) -> bool:
        """One receive; True when it found messages (each now runs in its own task)."""
        try:
            if not self._exists:
                self._exists = await self._queue_exists()
                if not self._exists:
                    return False
            batch = await self._receive()
        except Exception as exc:
            self._exists = False  # any error: check the queue again (it may have been deleted)
            self._storage_error(exc)
            return False
        self._storage_ok()
        for message in batch:
            task = asyncio.get_running_loop().create_task(self._process(message))
            self._processing.add(task)
            task.add_done_callback(self._processing.discard)
        if batch:
            self._found = True
        return bool(batch)

    async def _queue_exists(self) -> bool:
        """Whether the queue is there, creating it when it is missing.

        The storage extension only waits for a missing queue; funchost creates it, so a
        fresh Azurite accepts the first message sent to it. Without the right to create it
        (a SAS, a data-only role) the listener waits for it as the extension does.
        """
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        assert self._queue is not None
        try:
            await self._queue.create_queue()
        except ResourceExistsError:
            pass  # the usual case: it exists (created here or by someone else meanwhile)
        except HttpResponseError as exc:
            return await self._cannot_create(exc)
        else:
            self._log(
                logging.INFO,
                "Function '%s': queue '%s' did not exist; created it.",
                self.config.function_name,
                self.config.queue,
            )
        self._missing_logged = False
        return True

    async def _cannot_create(self, exc: Exception) -> bool:
        """Wait for a queue funchost may not create; True when it turns out to exist."""
        from azure.core.exceptions import ResourceNotFoundError

        assert self._queue is not None
        try:
            await self._queue.get_queue_properties()
            return True
        except ResourceNotFoundError:
            pass
        if not self._missing_logged:
            self._missing_logged = True
            self._log(
                logging.WARNING,
                "Function '%s': queue '%s' does not exist and could not be created (%s); "
                "waiting for it (checked at most every %g s).",
                self.config.function_name,
                self.config.queue,
                first_line(exc),
                self._options.max_polling_interval,
            )
        return False

    async def _receive(self) -> list[QueueMessage]:
        assert self._queue is not None
        count = self._options.batch_size
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        self._receiving = True
        try:
            pages = self._queue.receive_messages(
                messages_per_page=count,
                max_messages=count,
                visibility_timeout=int(self._options.processing_visibility),
                client_request_id=request_id,
            ).by_page()
            batch: list[QueueMessage] = []
            async for page in pages:
                batch = [message async for message in page]
                break
        finally:
            self._receiving = False
        self._log(
            logging.DEBUG,
            "Poll for function '%s' on queue '%s' with ClientRequestId '%s' found %d messages "
            "in %d ms.",
            self._qualified,
            self.config.queue,
            request_id,
            len(batch),
            round((time.perf_counter() - started) * 1000),
        )
        return batch

    async def _wait_for_threshold(self) -> None:
        """Fetch again once newBatchThreshold or fewer messages are still running."""
        while len(self._processing) > self._options.new_batch_threshold:
            await asyncio.wait(set(self._processing), return_when=asyncio.FIRST_COMPLETED)

    async def _backoff_wait(self) -> None:
        delay = self._backoff.next_delay(succeeded=self._found)
        self._found = False
        self._log(
            logging.DEBUG,
            "Function '%s' will wait %g ms before polling queue '%s'.",
            self._qualified,
            round(delay * 1000, 3),
            self.config.queue,
        )
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    # --- one message -----------------------------------------------------------------------

    async def _process(self, message: QueueMessage) -> None:
        settler = self._settler
        assert settler is not None
        try:
            body = decode_body(message.content, self._options.message_encoding)
            if body is None:
                self._log(
                    logging.WARNING,
                    "Message decoding has failed! Check MessageEncoding settings. MessageId=%s.",
                    message.id,
                )
                await self._settle(settler.move_to_poison(message))
            elif (message.dequeue_count or 0) > self._options.max_dequeue_count:
                await self._settle(settler.move_to_poison(message))  # BeginProcessingMessage
            else:
                lease = Lease(message.id, message.pop_receipt or "")
                succeeded = await self._run_function(message, body, lease)
                await self._settle(settler.complete(message, lease, succeeded))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("processing a message of '%s' failed", self._qualified)

    async def _run_function(self, message: QueueMessage, body: bytes, lease: Lease) -> bool:
        text = utf8_text(body)
        if text is None and not self.config.binary:
            self._log(
                logging.ERROR,
                "Function '%s': message '%s' cannot be bound to a string: its body is not "
                "UTF-8; use data_type=func.DataType.BINARY to receive bytes.",
                self.config.function_name,
                message.id,
            )
            return False
        event = trigger_event(message, body, text, self.config.queue, self.config.binary)
        assert self._queue is not None
        keeper = Keeper(self._queue, lease, self._options.processing_visibility)
        try:
            await self._dispatch(event)
            return True
        except Exception:
            return False  # the worker has logged the failure
        finally:
            await keeper.stop()  # a renewal in flight finishes: the delete gets the new receipt

    async def _settle(self, work: Coroutine[Any, Any, None]) -> None:
        """Run delete/release/poison shielded: a cancelled caller never cuts it short."""
        future: asyncio.Future[None] = asyncio.ensure_future(work)
        self._settling.add(future)
        future.add_done_callback(self._settling.discard)
        await asyncio.shield(future)

    # --- logging ---------------------------------------------------------------------------

    def _log(self, level: int, message: str, *args: object) -> None:
        log.log(level, message, *args, extra={"category": CATEGORY})

    def _storage_error(self, exc: BaseException) -> None:
        hint = ""
        if type(exc).__name__ == "ServiceRequestError":
            hint = " Is the storage running? (UseDevelopmentStorage=true: Azurite, port 10001)"
        level = logging.DEBUG if self._failing else logging.ERROR
        self._failing = True
        self._log(
            level,
            "Function '%s' could not poll queue '%s': %s; trying again.%s",
            self.config.function_name,
            self.config.queue,
            first_line(exc),
            hint,
        )

    def _storage_ok(self) -> None:
        if self._failing:
            self._failing = False
            self._log(
                logging.INFO,
                "Function '%s' is polling queue '%s' again.",
                self.config.function_name,
                self.config.queue,
            )
