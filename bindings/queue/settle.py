"""What becomes of a received queue message: kept invisible, deleted, released or poisoned.

As the WebJobs storage extension's ``QueueProcessor`` and ``UpdateQueueMessageVisibilityCommand``
(azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/): success
deletes; failure releases the message for another attempt after ``visibilityTimeout``; the
attempt at ``maxDequeueCount`` copies it, as stored, to the poison queue and deletes it. A
receipt that no longer matches, or a message or queue that is gone, ends the work quietly:
someone else owns the message now. Also the in-process "a message was added to this queue"
notification (the extension's SharedQueueWatcher), which ends a listener's backoff wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from funchost.bindings.queue.config import QueuesOptions
from funchost.bindings.queue.messages import send_creating_queue

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage
    from azure.storage.queue.aio import QueueClient

log = logging.getLogger("funchost.queue")
CATEGORY = "Host.Triggers.Queue"
_RENEWAL_FLOOR = 60.0  # the extension's MinimumVisibilityRenewalInterval
_GONE = {"PopReceiptMismatch", "MessageNotFound", "QueueNotFound", "QueueBeingDeleted"}
_GONE.add("QueueDisabled")

# (account URL, queue) -> callbacks that wake the listeners of that queue.
_watchers: dict[tuple[str, str], set[Callable[[], None]]] = {}


def watch(account_url: str, queue: str, wake: Callable[[], None]) -> None:
    """Call wake whenever this process adds a message to the queue."""
    _watchers.setdefault((account_url, queue), set()).add(wake)


def unwatch(account_url: str, queue: str, wake: Callable[[], None]) -> None:
    """Stop calling wake for the queue."""
    _watchers.get((account_url, queue), set()).discard(wake)


def notify(account_url: str, queue: str) -> None:
    """A message was just added to the queue: wake its listeners."""
    for wake in list(_watchers.get((account_url, queue), ())):
        wake()


@dataclass
class Lease:
    """A received message's id and current pop receipt (renewals replace the receipt)."""

    message_id: str
    pop_receipt: str


class Keeper:
    """Keeps one message invisible while its function runs.

    Nothing runs until half the visibility has passed (most functions end long before); then
    a task renews it every half, sooner after a failure (LinearSpeedupStrategy), until stop.
    """

    def __init__(self, queue: QueueClient, lease: Lease, visibility: float) -> None:
        self._queue = queue
        self._lease = lease
        self._visibility = visibility
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(visibility / 2, self._begin)

    def _begin(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._renew())

    async def stop(self) -> None:
        """No more renewals; one in flight is let finish, so the lease has the latest receipt."""
        self._timer.cancel()
        self._stopped.set()
        if self._task is not None:
            await self._task

    async def _renew(self) -> None:
        normal = self._visibility / 2
        floor = min(_RENEWAL_FLOOR, normal)
        delay, lease = normal, self._lease
        while not self._stopped.is_set():
            try:
                receipt = await self._queue.update_message(
                    lease.message_id, lease.pop_receipt, visibility_timeout=int(self._visibility)
                )
            except Exception as exc:
                if gone(exc):
                    return  # the message is no longer ours: nothing to keep
                delay = max(delay / 2, floor)  # try again sooner, before the visibility ends
                log.debug("Renewing message '%s' failed: %s", lease.message_id, exc)
            else:
                lease.pop_receipt = receipt.pop_receipt or lease.pop_receipt
                delay = normal
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), delay)


@dataclass(frozen=True)
class Settler:
    """Deletes, releases or poisons the messages of one trigger queue."""

    function_name: str
    queue_name: str
    queue: QueueClient
    poison_name: str | None
    poison: QueueClient | None
    options: QueuesOptions
    account_url: str

    async def complete(self, message: QueueMessage, lease: Lease, succeeded: bool) -> None:
        """QueueProcessor.CompleteProcessingMessageAsync; a failure here is logged, not raised."""
        try:
            if succeeded:
                await self.delete(lease)
            elif self.poison is None:
                return  # no poison queue: left invisible, so it cannot loop fast
            elif (message.dequeue_count or 0) >= self.options.max_dequeue_count:
                await self.move_to_poison(message, lease)
            else:
                await self.release(lease)
        except Exception as exc:
            _log(
                logging.ERROR,
                "Function '%s': settling message '%s' on queue '%s' failed: %s; it will be "
                "delivered again when its visibility timeout ends.",
                self.function_name,
                message.id,
                self.queue_name,
                first_line(exc),
            )

    async def delete(self, lease: Lease) -> None:
        """Delete; a receipt that no longer matches (or a message gone) is left alone."""
        try:
            await self.queue.delete_message(lease.message_id, lease.pop_receipt)
        except Exception as exc:
            if not gone(exc):
                raise
            _log(
                logging.DEBUG,
                "Unable to delete queue message '%s' (%s): another receiver owns it or it is gone.",
                lease.message_id,
                error_code(exc),
            )

    async def release(self, lease: Lease) -> None:
        """Visible again after visibilityTimeout: another attempt may take it."""
        try:
            await self.queue.update_message(
                lease.message_id,
                lease.pop_receipt,
                visibility_timeout=int(self.options.visibility_timeout),
            )
        except Exception as exc:
            if not gone(exc):
                raise

    async def move_to_poison(self, message: QueueMessage, lease: Lease | None = None) -> None:
        """Copy the message as it is stored to the poison queue, then delete it."""
        if self.poison is None or self.poison_name is None:
            return  # HandlePoisonMessageAsync does nothing without a poison queue
        _log(
            logging.WARNING,
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self.options.max_dequeue_count,
            self.poison_name,
        )
        await send_creating_queue(self.poison, message.content)
        notify(self.account_url, self.poison_name)
        await self.delete(lease or Lease(message.id, message.pop_receipt or ""))


def _log(level: int, message: str, *args: object) -> None:
    log.log(level, message, *args, extra={"category": CATEGORY})


def error_code(exc: BaseException) -> str:
    """The storage error code (x-ms-error-code), else the HTTP status, else empty."""
    return str(getattr(exc, "error_code", "") or getattr(exc, "status_code", "") or "")


def gone(exc: BaseException) -> bool:
    """The message, its receipt or the queue is gone: there is nothing left to settle."""
    return error_code(exc) in _GONE or getattr(exc, "status_code", None) == 404


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (storage errors carry a whole XML body)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
