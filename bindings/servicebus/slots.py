"""How a Service Bus trigger's receivers share ``maxConcurrentCalls`` and ``prefetchCount``, and
what each receiver's loop keeps: its running invocations and the outcomes waiting to be settled."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusReceivedMessage
    from azure.servicebus.aio import ServiceBusReceiver

# Receivers (each on its own AMQP connection) of a one-message trigger, see Slots.
LINKS = 2
SHORT_WAIT = 0.05  # a receive's first wait while functions run (their settlements wait for it)


class Slots:
    """One receiver's share of maxConcurrentCalls: its running invocations and their outcomes.

    The SDK runs one read of a connection at a time, so a receiver waits for each settlement's
    answer. With two receivers, each on its own connection, one settles while the other's
    messages run: the host's work overlaps the broker's answers, as the extension's processor
    overlaps them with its concurrent calls on one link.

    An invocation does not settle its own message: it leaves the outcome here and the
    receiver's loop, the only user of the link, settles every outcome waiting (one task for
    them all), then receives. A task and a lock per message cost more than the settlement's
    own Python work.
    """

    __slots__ = ("idle_wait", "limit", "outcomes", "prefetch", "receiver", "running", "wake")

    def __init__(self, limit: int, prefetch: int) -> None:
        self.limit = limit
        self.prefetch = prefetch  # the receiver's share of prefetchCount
        self.receiver: ServiceBusReceiver | None = None  # set by the loop that opens it
        self.running = 0
        # Messages whose invocation ended, with whether it succeeded, in the order they ended.
        self.outcomes: list[tuple[ServiceBusReceivedMessage, bool]] = []
        self.wake = asyncio.Event()  # an invocation ended: room, and an outcome to settle
        self.idle_wait = SHORT_WAIT

    def ended(self, message: ServiceBusReceivedMessage, succeeded: bool) -> None:
        """An invocation of this share ended: its message waits for the loop to settle it."""
        self.running -= 1
        self.outcomes.append((message, succeeded))
        self.wake.set()

    def take(self) -> list[tuple[ServiceBusReceivedMessage, bool]]:
        """The outcomes waiting, handed over once: later ones wait for the next take."""
        outcomes, self.outcomes = self.outcomes, []
        return outcomes


def shares(total: int, parts: int) -> list[int]:
    """total split into parts as evenly as whole numbers go, the larger shares first."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]
