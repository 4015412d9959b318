"""In-process "a message was added to this queue": the WebJobs extension's SharedQueueWatcher.

A listener polling an empty storage queue backs off for up to ``maxPollingInterval``. When
this process itself adds a message to that queue (a queue output binding, a poison move, a
blob handed to the blob trigger queue), the writer notifies the queue's watchers and their
backoff wait ends at once. Queues are told apart by account endpoint and name, as the
clients of one connection or of two (a key, a SAS) reach the same queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient

# (scheme, account host and path, queue) -> callbacks that wake the listeners of that queue.
_watchers: dict[tuple[str, str, str], set[Callable[[], None]]] = {}


def _key(queue: QueueClient) -> tuple[str, str, str]:
    # Not queue.url: it carries a SAS token when the connection has one.
    return (queue.scheme, queue.primary_hostname, queue.queue_name)


def watch(queue: QueueClient, wake: Callable[[], None]) -> None:
    """Call wake whenever this process adds a message to the queue."""
    _watchers.setdefault(_key(queue), set()).add(wake)


def unwatch(queue: QueueClient, wake: Callable[[], None]) -> None:
    """Stop calling wake for the queue."""
    key = _key(queue)
    wakes = _watchers.get(key)
    if wakes is not None:
        wakes.discard(wake)
        if not wakes:
            del _watchers[key]


def notify(queue: QueueClient) -> None:
    """A message was just added to the queue: wake its listeners."""
    wakes = _watchers.get(_key(queue))
    if wakes:
        for wake in list(wakes):
            wake()
