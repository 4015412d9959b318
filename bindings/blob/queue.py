"""The host's blob-trigger queue: how a found blob reaches its function, on every instance.

As in the WebJobs blob extension: whoever finds a blob (the container scan, or the Event Grid
webhook) adds a message ``{"Type":"BlobTrigger","FunctionId":...,"BlobType":...,
"ContainerName":...,"BlobName":...,"ETag":...}`` (base64, as the host's queue client encodes
it) to ``azure-webjobs-blobtrigger-<hostId>`` in host storage (BlobTriggerQueueWriter). Every
host instance polls that queue (SharedBlobQueueListener) and runs the function the message
names, so the work spreads across instances while each message runs once at a time. A message
whose blob is gone is dropped; one whose blob changed since (another ETag) is dropped and the
scan is told to look at the blob again; one that failed ``poisonBlobThreshold`` times is copied
to ``webjobs-blobtrigger-poison`` in the blob's account and deleted (QueueProcessor). The
polling is the shared poll loop's (bindings/shared/poll.py), as for a queue trigger: a message
stays invisible while its function runs, its settling is never cut short by a stop, and one
whose function is cancelled at the stop deadline is made visible again at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from funchost.bindings.blob.config import MESSAGE_VISIBILITY
from funchost.bindings.blob.paths import BlobPath
from funchost.bindings.shared import storagequeue
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.failures import first_line
from funchost.bindings.shared.poll import Outcome, PollLoop
from funchost.bindings.shared.queuewatch import notify, unwatch, watch
from funchost.bindings.shared.storagequeue import Lease

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("funchost.blob")
CATEGORY = "Host.Triggers.Blob"
QUEUE_PREFIX = "azure-webjobs-blobtrigger-"
POISON_QUEUE = "webjobs-blobtrigger-poison"
MAX_BATCH = 32  # QueuesOptions.MaxBatchSize


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
    visibility: float = MESSAGE_VISIBILITY  # renewed at half of it

    @property
    def batch_size(self) -> int:
        """Messages fetched at once: half the parallelism plus one, at most 32."""
        return min(MAX_BATCH, self.max_degree_of_parallelism // 2 + 1)

    @property
    def new_batch_threshold(self) -> int:
        """Fetch again once no more than this many are in flight."""
        return self.max_degree_of_parallelism - self.batch_size


class BlobQueueSource:
    """The host's blob-trigger queue as the poll loop's source (QueueProcessor's rules)."""

    def __init__(
        self,
        queue: QueueClient,
        options: QueueOptions,
        poison_queue: Callable[[QueueMessage], QueueClient],
    ) -> None:
        self.queue = queue
        self.options = options
        self._poison_queue = poison_queue

    @property
    def visibility(self) -> float:
        """QueueListener: a received message is invisible for 10 minutes, renewed at half."""
        return self.options.visibility

    async def receive(self, limit: int) -> list[Lease]:
        """Up to limit messages; none while the queue does not exist (no blob was queued yet)."""
        from azure.core.exceptions import ResourceNotFoundError

        pages = self.queue.receive_messages(
            messages_per_page=limit, max_messages=limit, visibility_timeout=int(self.visibility)
        )
        try:
            return [Lease.of(message) async for message in pages]
        except ResourceNotFoundError:
            return []

    async def renew(self, lease: Lease) -> bool:
        """Keep the message invisible while its function runs (False once it is gone)."""
        return await storagequeue.renew(self.queue, lease, self.visibility)

    async def settle(self, lease: Lease, outcome: Outcome) -> None:
        """Delete, poison or release the message (QueueProcessor.CompleteProcessingMessage)."""
        message = lease.message
        try:
            if outcome is Outcome.SUCCEEDED:
                await storagequeue.delete(self.queue, lease)
            elif (
                outcome is Outcome.POISON
                or (message.dequeue_count or 0) >= self.options.poison_threshold
            ):
                poison = self._poison_queue(message)
                await storagequeue.move_to_poison(
                    self.queue, lease, poison, self.options.poison_threshold
                )
            else:
                await storagequeue.release(self.queue, lease, 0)
        except Exception as exc:
            _log(
                logging.ERROR,
                "Completing message '%s' on the blob trigger queue '%s' failed: %s; it will be "
                "delivered again when its visibility timeout ends.",
                message.id,
                self.queue.queue_name,
                first_line(exc),
            )

    async def release(self, lease: Lease) -> None:
        """Its function was cancelled at a stop: visible again at once, for the next host."""
        await storagequeue.release(self.queue, lease, 0)

    def poll_failed(self, exc: Exception, level: int) -> None:
        """A receive failed; the hint says when nothing answered at all."""
        _log(
            level,
            "The blob trigger queue '%s' could not be read: %s; trying again.%s",
            self.queue.queue_name,
            first_line(exc),
            storagequeue.unreachable_hint(exc),
        )

    def poll_recovered(self) -> None:
        """Reading works again after a failure."""
        _log(logging.INFO, "The blob trigger queue '%s' is read again.", self.queue.queue_name)

    def backing_off(self, delay: float) -> None:
        """Nothing: the host logs no line per wait of its shared blob queue listener."""

    def renew_failed(self, lease: Lease, exc: Exception) -> None:
        """A renewal failed; the next one comes sooner, before the visibility ends."""
        storagequeue.renew_failed(lease, exc)

    def cancelling(self, count: int) -> None:
        """Invocations cut off at the shutdown deadline; their messages are released."""
        _log(
            logging.WARNING,
            "Cancelling %d blob trigger invocation(s) still running at the shutdown deadline; "
            "their messages are made visible again at once.",
            count,
        )


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
        self._source = BlobQueueSource(queue, options, self._poison_queue_of)
        self._poll: PollLoop[Lease] | None = None

    def register(self, registration: Registration) -> None:
        """Dispatch messages for this function (by its id and its short name)."""
        self._registrations[registration.function_id] = registration
        self._registrations[registration.short_name] = registration

    async def enqueue(self, message: BlobTriggerMessage) -> str:
        """AddMessageAndCreateIfNotExistsAsync; wakes this instance's poller. Returns the id."""
        sent = await storagequeue.send_creating_queue(self.queue, encode(message.to_json()))
        notify(self.queue)  # SharedQueueWatcher.Notify: poll now rather than after a back-off
        return str(sent.id)

    def start(self) -> None:
        """Start polling in the background."""
        if self._poll is None:
            name = f"The blob trigger queue '{self.queue.queue_name}'"
            self._poll = PollLoop(self._source, self._handle, self.options, name=name)
            watch(self.queue, self._poll.wake)
            self._poll.start()

    async def stop(self, deadline: float) -> None:
        """Stop polling; invocations in flight get until deadline, then are cancelled and
        their messages made visible again."""
        poll, self._poll = self._poll, None
        if poll is not None:
            unwatch(self.queue, poll.wake)
            await poll.stop(deadline)

    # --- one message --------------------------------------------------------------------

    async def _handle(self, lease: Lease) -> Outcome:
        message = lease.message
        if message.dequeue_count and message.dequeue_count > self.options.poison_threshold:
            return Outcome.POISON  # BeginProcessingMessageAsync: straight to the poison queue
        return Outcome.SUCCEEDED if await self._execute(message) else Outcome.FAILED

    async def _execute(self, message: QueueMessage) -> bool:
        """BlobQueueTriggerExecutor.ExecuteAsync; True also for messages that are dropped."""
        try:
            parsed = BlobTriggerMessage.from_json(decode(str(message.content)))
        except ValueError as exc:
            _log(
                logging.ERROR,
                "Message '%s' in queue '%s' is not a blob trigger message: %s",
                message.id,
                self.queue.queue_name,
                exc,
            )
            return False
        registration = self._registrations.get(parsed.function_id)
        if registration is None:
            _log(
                logging.DEBUG,
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
            _log(
                logging.ERROR,
                "Blob '%s' could not be read for function '%s': %s",
                parsed.path,
                registration.function_id,
                first_line(exc),
            )
            return False
        if properties is None:
            _log(
                logging.DEBUG,
                "Blob '%s' not found (message '%s'); nothing to run.",
                parsed.blob,
                message.id,
            )
            return True
        if registration.scans and properties.etag != parsed.etag:
            # Changed since it was queued: the scan looks again and queues the new version.
            self._blob_changed(registration, parsed.path)
            return True
        return await registration.run(parsed, message, properties)

    def _poison_queue_of(self, message: QueueMessage) -> QueueClient:
        """The poison queue of the function the message names (its blob's account)."""
        return self._poison_queue(self._registration_of(message))

    def _registration_of(self, message: QueueMessage) -> Registration | None:
        try:
            function_id = BlobTriggerMessage.from_json(decode(str(message.content))).function_id
        except ValueError:
            return None
        return self._registrations.get(function_id)


def _log(level: int, message: str, *args: object) -> None:
    log.log(level, message, *args, extra={"category": CATEGORY})
