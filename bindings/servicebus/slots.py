"""How a Service Bus trigger's receivers share ``maxConcurrentCalls`` and ``prefetchCount``."""

from __future__ import annotations

import asyncio

# Receivers (each on its own AMQP connection) of a one-message trigger, see Slots.
LINKS = 2
SHORT_WAIT = 0.05  # a receive's first wait while functions run (their settlements wait for it)


class Slots:
    """One receiver's share of maxConcurrentCalls: its running invocations and their room.

    The SDK runs one read of a connection at a time, so a receiver waits for each settlement's
    answer (see the listener's ``_link``). With two receivers, each on its own connection, one
    settles while the other's messages run: the host's work overlaps the broker's answers, as
    the extension's processor overlaps them with its concurrent calls on one link.
    """

    __slots__ = ("idle_wait", "limit", "prefetch", "room", "running")

    def __init__(self, limit: int, prefetch: int) -> None:
        self.limit = limit
        self.prefetch = prefetch  # the receiver's share of prefetchCount
        self.running = 0
        self.room = asyncio.Event()
        self.idle_wait = SHORT_WAIT

    def done(self, _task: object) -> None:
        """An invocation of this share ended (a task's done callback): make room."""
        self.running -= 1
        self.room.set()


def shares(total: int, parts: int) -> list[int]:
    """total split into parts as evenly as whole numbers go, the larger shares first."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]
