"""A received storage-queue message and what can be done with it, for every storage listener.

As the WebJobs storage extension's ``QueueProcessor`` and ``UpdateQueueMessageVisibility
Command`` (azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/):
a message is received invisible, kept invisible while its function runs (each update hands out
a new pop receipt, kept in its ``Lease``), then deleted, made visible again, or copied as stored
to a poison queue and deleted. A receipt that no longer matches, or a message or queue that is
gone, ends the work quietly: someone else owns the message now. The queue trigger and the blob
trigger queue both settle their messages with these.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from funchost.bindings.shared.failures import first_line, unreachable
from funchost.bindings.shared.queuewatch import notify

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("funchost.queue")
CATEGORY = "Host.Triggers.Queue"  # QueueProcessor's lines, whichever trigger owns the queue
_GONE = {"PopReceiptMismatch", "MessageNotFound", "QueueNotFound", "QueueBeingDeleted"}
_GONE.add("QueueDisabled")


@dataclass(slots=True)
class Lease:
    """A received message and its current pop receipt (renewals replace the receipt)."""

    message: QueueMessage
    pop_receipt: str

    @classmethod
    def of(cls, message: QueueMessage) -> Lease:
        """The lease a receive hands out with the message."""
        return cls(message, message.pop_receipt or "")


async def renew(queue: QueueClient, lease: Lease, visibility: float) -> bool:
    """Keep the message invisible for ``visibility`` more seconds; False once it is gone."""
    try:
        receipt = await queue.update_message(
            lease.message.id, lease.pop_receipt, visibility_timeout=int(visibility)
        )
    except Exception as exc:
        if gone(exc):
            return False
        raise
    lease.pop_receipt = receipt.pop_receipt or lease.pop_receipt
    return True


def renew_failed(lease: Lease, exc: Exception) -> None:
    """Log a failed renewal (UpdateQueueMessageVisibilityCommand's line); the next comes sooner."""
    log.debug(
        "Renewing message '%s' failed: %s",
        lease.message.id,
        first_line(exc),
        extra={"category": CATEGORY},
    )


async def release(queue: QueueClient, lease: Lease, visibility: float) -> None:
    """Visible again after ``visibility`` seconds (0: at once), for another attempt.

    The same visibility update as a renewal, with a shorter time; a message already gone is
    left alone.
    """
    await renew(queue, lease, visibility)


async def delete(queue: QueueClient, lease: Lease) -> None:
    """Delete; a receipt that no longer matches (or a message gone) is left alone."""
    try:
        await queue.delete_message(lease.message.id, lease.pop_receipt)
    except Exception as exc:
        if not gone(exc):
            raise
        log.debug(
            "Unable to delete queue message '%s' (%s): another receiver owns it or it is gone.",
            lease.message.id,
            error_code(exc),
            extra={"category": CATEGORY},
        )


async def move_to_poison(
    queue: QueueClient,
    lease: Lease,
    poison: QueueClient,
    max_dequeue_count: int,
    function: str | None = None,
) -> None:
    """Copy the message as it is stored to the poison queue, then delete it."""
    # The extension's line, then which function and message (it names neither).
    whose = f"Function '{function}', message" if function else "Message"
    log.warning(
        "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'. (%s '%s' "
        "of queue '%s')",
        max_dequeue_count,
        poison.queue_name,
        whose,
        lease.message.id,
        queue.queue_name,
        extra={"category": CATEGORY},
    )
    await send_creating_queue(poison, lease.message.content)
    notify(poison)
    await delete(queue, lease)


async def send_creating_queue(client: QueueClient, text: str) -> QueueMessage:
    """Send one message, creating the queue when it does not exist (AddMessageAndCreate...)."""
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    try:
        return await client.send_message(text)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) not in (None, "QueueNotFound"):
            raise
    with contextlib.suppress(ResourceExistsError):  # created meanwhile by another writer
        await client.create_queue()
    return await client.send_message(text)


def error_code(exc: BaseException) -> str:
    """The storage error code (x-ms-error-code), else the HTTP status, else empty."""
    return str(getattr(exc, "error_code", "") or getattr(exc, "status_code", "") or "")


def gone(exc: BaseException) -> bool:
    """The message, its receipt or the queue is gone: there is nothing left to settle."""
    return error_code(exc) in _GONE or getattr(exc, "status_code", None) == 404


def unreachable_hint(exc: BaseException) -> str:
    """A sentence to append when nothing answered, else nothing."""
    if not unreachable(exc):
        return ""
    return " Is the storage running? (UseDevelopmentStorage=true: Azurite, port 10001)"
