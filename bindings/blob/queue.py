"""The host's blob-trigger queue: how a found blob reaches its function, on every instance.

As in the WebJobs blob extension: whoever finds a blob (the container scan, or the Event Grid
webhook) adds a message ``{"Type":"BlobTrigger","FunctionId":...,"BlobType":...,
"ContainerName":...,"BlobName":...,"ETag":...}`` (base64, as the host's queue client encodes
it) to ``azure-webjobs-blobtrigger-<hostId>`` in host storage (BlobTriggerQueueWriter). Every
host instance polls that queue (SharedBlobQueueListener) and runs the function the message
names, so the work spreads across instances while each message runs once at a time. A message
whose blob is gone is dropped; one whose blob changed since (another ETag) is dropped and the
scan is told to look at the blob again; one that failed ``poisonBlobThreshold`` times is copied
to ``webjobs-blobtrigger-poison`` in the blob's account and deleted (QueueProcessor).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funchost.bindings.blob.paths import BlobPath
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.drain import finish_by

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("funchost.blob")
CATEGORY = "Host.Triggers.Blob"
QUEUE_CATEGORY = "Host.Triggers.Queue"  # QueueProcessor's own lines
QUEUE_PREFIX = "azure-webjobs-blobtrigger-"
POISON_QUEUE = "webjobs-blobtrigger-poison"
VISIBILITY_TIMEOUT = 600  # QueueListener: 10 minutes, renewed at half of it
MAX_BATCH = 32  # QueuesOptions.MaxBatchSize
MIN_POLL = 0.1  # QueuePollingIntervals.Minimum


@dataclass(frozen=True)
class BlobTriggerMessage:
    """BlobTriggerMessage: which function, which blob, which version of it."""

    function_id: str
    blob_type: str  # "BlockBlob", "PageBlob" or "AppendBlob"
    container: str
    blob: str
    etag: str  # with its quotes, as the ETag header carries it

    @property
    def path(self) -> BlobPath:
        """The blob as container and name."""
        return BlobPath(self.container, self.blob)

    def to_json(self) -> str:
        """Json.NET's serialization, property for property."""
        doc = {
            "Type": "BlobTrigger",
            "FunctionId": self.function_id,
            "BlobType": self.blob_type,
            "ContainerName": self.container,
            "BlobName": self.blob,
            "ETag": self.etag,
        }
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> BlobTriggerMessage:
        """Parse a message; ValueError when it is not one (the host throws too)."""
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("Invalid blob trigger message.")
        if not doc.get("FunctionId"):
            raise ValueError("Invalid function ID.")
        return cls(
            function_id=str(doc["FunctionId"]),
            blob_type=str(doc.get("BlobType") or "BlockBlob"),
            container=str(doc.get("ContainerName") or ""),
            blob=str(doc.get("BlobName") or ""),
            etag=str(doc.get("ETag") or ""),
        )


def encode(text: str) -> str:
    """Base64, as the host's queue client (QueueMessageEncoding.Base64) writes messages."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode(content: str) -> str:
    """The message text: base64-decoded, or as it is when it is not base64 (written by hand)."""
    try:
        return base64.b64decode(content, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return content


Run = Callable[["BlobTriggerMessage", "QueueMessage", "BlobProperties"], Awaitable[bool]]


@dataclass(frozen=True)
class Registration:
    """One blob-triggered function, as the queue listener dispatches to it."""

    function_id: str  # Host.Functions.<name>
    short_name: str  # <name>: Event Grid may name the function either way
    data: Connection  # the account of the blobs it watches
    scans: bool  # LogsAndContainerScan (checks the ETag) rather than EventGrid
    run: Run  # invokes the function; True when it succeeded


@dataclass(frozen=True)
class QueueOptions:
    """The shared queue's limits (BlobsOptionsToQueuesOptions)."""

    max_degree_of_parallelism: int
    poison_threshold: int
    max_polling_interval: float

    @property
    def batch_size(self) -> int:
        """Messages fetched at once: half the parallelism plus one, at most 32."""
        return min(MAX_BATCH, self.max_degree_of_parallelism // 2 + 1)

    @property
    def new_batch_threshold(self) -> int:
        """Fetch again once no more than this many are in flight."""
        return self.max_degree_of_parallelism - self.batch_size


class BlobQueueListener:
    """Polls the host's blob-trigger queue and runs the functions its messages name."""

    def __init__(
        self,
        queue: QueueClient,
        poison_queue: Callable[[Registration | None], QueueClient],
        options: QueueOptions,
        blob_changed: Callable[[Registration, BlobPath], None],
        blob_properties: Callable[[Registration, BlobPath], Awaitable[BlobProperties | None]],
    ) -> None:
        self.queue = queue
        self._poison_queue = poison_queue
        self.options = options
        self._blob_changed = blob_changed
        self._blob_properties = blob_properties
        self._registrations: dict[str, Registration] = {}
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._queue_exists = False

    def register(self, registration: Registration) -> None:
        """Dispatch messages for this function (by its id and its short name)."""
        self._registrations[registration.function_id] = registration
        self._registrations[registration.short_name] = registration

    async def enqueue(self, message: BlobTriggerMessage) -> str:
        """AddMessageAndCreateIfNotExistsAsync; wakes this instance's poller. Returns the id."""
        from azure.core.exceptions import ResourceNotFoundError

        content = encode(message.to_json())
        if not self._queue_exists:
            with contextlib.suppress(Exception):  # exists already, or the send says why
                await self.queue.create_queue()
            self._queue_exists = True
        try:
            sent = await self.queue.send_message(content)
        except ResourceNotFoundError:  # deleted meanwhile
            await self.queue.create_queue()
            sent = await self.queue.send_message(content)
        self._wake.set()  # SharedQueueWatcher.Notify: poll now rather than after a back-off
        return str(sent.id)

    def start(self) -> None:
        """Start polling in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self, deadline: float) -> None:
        """Stop polling; invocations in flight get until deadline, then are cancelled."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await finish_by(self._in_flight, deadline)

    # --- polling ----------------------------------------------------------------------

    async def _poll(self) -> None:
        delay = MIN_POLL
        while True:
            if len(self._in_flight) > self.options.new_batch_threshold:
                self._room.clear()
                await self._room.wait()
                continue
            messages = await self._receive()
            if messages:
                delay = MIN_POLL
                for message in messages:
                    self._spawn(message)
                continue
            await self._sleep(delay)
            # RandomizedExponentialBackoffStrategy: double, with jitter, up to the maximum.
            delay = min(self.options.max_polling_interval, delay * random.uniform(1.6, 2.4))

    async def _receive(self) -> list[QueueMessage]:
        from azure.core.exceptions import ResourceNotFoundError

        count = self.options.batch_size
        try:
            pages = self.queue.receive_messages(
                messages_per_page=count, max_messages=count, visibility_timeout=VISIBILITY_TIMEOUT
            )
            return [message async for message in pages]
        except ResourceNotFoundError:
            return []  # no blob was queued yet
        except Exception as exc:
            log.error(
                "The blob trigger queue '%s' could not be read: %s; trying again.",
                self.queue.queue_name,
                _first_line(exc),
                extra={"category": CATEGORY},
            )
            return []

    async def _sleep(self, delay: float) -> None:
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    def _spawn(self, message: QueueMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._process(message))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._room.set()

    # --- one message --------------------------------------------------------------------

    async def _process(self, message: QueueMessage) -> None:
        receipt = [message.pop_receipt]  # renewals hand out new pop receipts
        keeper = asyncio.get_running_loop().create_task(self._keep_invisible(message, receipt))
        try:
            if message.dequeue_count and message.dequeue_count > self.options.poison_threshold:
                succeeded = False  # BeginProcessingMessageAsync: straight to the poison queue
            else:
                succeeded = await self._execute(message)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        await asyncio.shield(self._complete(message, receipt[0], succeeded))

    async def _keep_invisible(self, message: QueueMessage, receipt: list[str | None]) -> None:
        while True:
            await asyncio.sleep(VISIBILITY_TIMEOUT / 2)
            with contextlib.suppress(Exception):  # the next try, or the timeout, tells
                updated = await self.queue.update_message(
                    message.id, receipt[0], visibility_timeout=VISIBILITY_TIMEOUT
                )
                receipt[0] = updated.pop_receipt

    async def _execute(self, message: QueueMessage) -> bool:
        """BlobQueueTriggerExecutor.ExecuteAsync; True also for messages that are dropped."""
        try:
            parsed = BlobTriggerMessage.from_json(decode(str(message.content)))
        except ValueError as exc:
            log.error(
                "Message '%s' in queue '%s' is not a blob trigger message: %s",
                message.id,
                self.queue.queue_name,
                exc,
                extra={"category": CATEGORY},
            )
            return False
        registration = self._registrations.get(parsed.function_id)
        if registration is None:
            _debug(
                "Function '%s' not found for blob '%s' (message '%s'); the message is deleted.",
                parsed.function_id,
                parsed.blob,
                message.id,
            )
            return True
        return await self._run(registration, parsed, message)

    async def _run(
        self, registration: Registration, parsed: BlobTriggerMessage, message: QueueMessage
    ) -> bool:
        try:
            properties = await self._blob_properties(registration, parsed.path)
        except Exception as exc:
            log.error(
                "Blob '%s' could not be read for function '%s': %s",
                parsed.path,
                registration.function_id,
                _first_line(exc),
                extra={"category": CATEGORY},
            )
            return False
        if properties is None:
            _debug("Blob '%s' not found (message '%s'); nothing to run.", parsed.blob, message.id)
            return True
        if registration.scans and properties.etag != parsed.etag:
            # Changed since it was queued: the scan looks again and queues the new version.
            self._blob_changed(registration, parsed.path)
            return True
        return await registration.run(parsed, message, properties)

    async def _complete(self, message: QueueMessage, receipt: str | None, succeeded: bool) -> None:
        """Delete, poison or release the message (QueueProcessor.CompleteProcessingMessage)."""
        try:
            if succeeded:
                await self._delete(message, receipt)
            elif (message.dequeue_count or 0) >= self.options.poison_threshold:
                await self._poison(message)
                await self._delete(message, receipt)
            else:
                await self.queue.update_message(message.id, receipt, visibility_timeout=0)
        except Exception as exc:
            # Someone else took it over, or it is gone: its visibility timeout decides.
            _debug("Completing message '%s' failed: %s", message.id, _first_line(exc))

    async def _delete(self, message: QueueMessage, receipt: str | None) -> None:
        await self.queue.delete_message(message.id, receipt)

    async def _poison(self, message: QueueMessage) -> None:
        registration = self._registration_of(message)
        poison = self._poison_queue(registration)
        log.warning(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self.options.poison_threshold,
            poison.queue_name,
            extra={"category": QUEUE_CATEGORY},
        )
        with contextlib.suppress(Exception):  # exists already, or the send says why
            await poison.create_queue()
        await poison.send_message(message.content)

    def _registration_of(self, message: QueueMessage) -> Registration | None:
        try:
            function_id = BlobTriggerMessage.from_json(decode(str(message.content))).function_id
        except ValueError:
            return None
        return self._registrations.get(function_id)


def _debug(message: str, *args: Any) -> None:
    log.debug(message, *args, extra={"category": CATEGORY})


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
