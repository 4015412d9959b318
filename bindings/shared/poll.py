"""One poll-and-settle loop for every trigger that takes items from a service and settles them.

The shape is arq's worker (``_poll_iteration``, bounded concurrency, ``shield(finish_job)``,
burst mode) with the rules of the WebJobs storage extension's ``QueueListener``:

- receive up to ``batch_size`` items; each runs in its own task; the next receive happens once
  ``new_batch_threshold`` or fewer are still in flight, so at most ``batch_size +
  new_batch_threshold`` run at once;
- an empty (or failed) poll backs off with the randomized exponential delay from 100 ms to
  ``max_polling_interval``; finding an item resets it; ``wake()`` ends the wait at once;
- while an item's function runs, a keeper renews its visibility (or lock) at half of it,
  sooner after a failed renewal;
- the item is then settled (completed, released or poisoned) under ``asyncio.shield``, so a
  stop never cuts a settle short;
- ``stop(deadline)`` stops intake, lets items in flight finish until the deadline, cancels the
  rest and hands each cancelled item back at once (shielded too), then waits for every settle.

What the items are and how they are settled is the ``Source``'s: the storage queue implements
it now; Service Bus and Event Hubs triggers are meant to. ``run_until_empty()`` is burst mode:
it polls until the source is empty and every item settled, so tests need not sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, Protocol, TypeVar

from funchost.backoff import ExponentialBackoff
from funchost.bindings.shared.drain import finish_by

log = logging.getLogger("funchost.poll")
MIN_POLLING_INTERVAL = 0.1  # QueuePollingIntervals.Minimum
RENEWAL_FLOOR = 60.0  # the extension's MinimumVisibilityRenewalInterval

Item = TypeVar("Item")


class Outcome(enum.Enum):
    """What became of an item's function, for its source to settle."""

    SUCCEEDED = "succeeded"  # delete, complete, checkpoint
    FAILED = "failed"  # another attempt later (the source may poison it at its limit)
    POISON = "poison"  # not run and never will be: straight to the poison queue or dead letter


class PollOptions(Protocol):
    """The limits a loop polls by (QueuesOptions and the blob queue's options have them)."""

    @property
    def batch_size(self) -> int: ...

    @property
    def new_batch_threshold(self) -> int: ...

    @property
    def max_polling_interval(self) -> float: ...


class Source(Protocol[Item]):
    """Where a loop takes its items from and how it settles them: the SDK side of the loop."""

    @property
    def visibility(self) -> float:
        """Seconds a received item stays this receiver's without a renewal."""
        ...

    async def receive(self, limit: int) -> Sequence[Item]:
        """Up to ``limit`` items, hidden from other receivers; raises when it cannot read."""
        ...

    async def renew(self, item: Item) -> bool:
        """Extend the item's visibility; False once it is no longer ours. Raises on a failure."""
        ...

    async def settle(self, item: Item, outcome: Outcome) -> None:
        """Complete, release or poison the item; logs its own failures rather than raising."""
        ...

    async def release(self, item: Item) -> None:
        """Hand the item back at once: its function was cancelled before it ended."""
        ...

    # The source's own words for what the loop does, in its log category.

    def poll_failed(self, exc: Exception, level: int) -> None:
        """A receive failed (ERROR the first time, DEBUG while it keeps failing)."""
        ...

    def poll_recovered(self) -> None:
        """A receive worked again after failing."""
        ...

    def backing_off(self, delay: float) -> None:
        """The loop waits ``delay`` seconds before its next poll."""
        ...

    def renew_failed(self, item: Item, exc: Exception) -> None:
        """A renewal failed; the keeper tries again sooner."""
        ...

    def cancelling(self, count: int) -> None:
        """``count`` items still run at the stop deadline; they are cancelled and released."""
        ...


Handle = Callable[[Item], Awaitable[Outcome]]


def renewal_delay(previous: float, visibility: float, failed: bool) -> float:
    """The wait before the next renewal: half the visibility, or after a failure half the
    previous wait, but not below the floor (the extension's LinearSpeedupStrategy)."""
    normal = visibility / 2
    if not failed:
        return normal
    return max(previous / 2, min(RENEWAL_FLOOR, normal))


class Keeper(Generic[Item]):
    """Keeps one item invisible while its function runs.

    Nothing runs until half the visibility has passed (most functions end long before): a
    timer, not a task, per item. Then a task renews it until ``stop``.
    """

    __slots__ = (
        "_item",
        "_loop",
        "_renewing",
        "_source",
        "_stopped",
        "_task",
        "_timer",
        "_visibility",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, source: Source[Item], item: Item, visibility: float
    ) -> None:
        self._loop = loop
        self._source = source
        self._item = item
        self._visibility = visibility
        self._task: asyncio.Task[None] | None = None
        self._renewing = False
        self._stopped = False
        self._timer = loop.call_later(visibility / 2, self._begin)

    def _begin(self) -> None:
        self._task = self._loop.create_task(self._renew())

    def stop(self) -> asyncio.Task[None] | None:
        """No more renewals; a renewal in flight is returned to be awaited, so the item has
        the receipt (or lock) it hands out before it is settled."""
        self._timer.cancel()
        self._stopped = True
        task = self._task
        if task is None or task.done():
            return None
        if self._renewing:
            return task
        task.cancel()  # between renewals: nothing to wait for
        return None

    async def _renew(self) -> None:
        visibility = self._visibility
        delay = visibility / 2
        while not self._stopped:
            self._renewing = True
            try:
                kept = await self._source.renew(self._item)
            except Exception as exc:
                self._source.renew_failed(self._item, exc)
                delay = renewal_delay(delay, visibility, failed=True)
            else:
                if not kept:
                    return  # no longer ours: nothing to keep
                delay = renewal_delay(delay, visibility, failed=False)
            finally:
                self._renewing = False
            if not self._stopped:
                await asyncio.sleep(delay)


class PollLoop(Generic[Item]):
    """Receives items from a source, runs each through ``handle`` and settles it."""

    def __init__(
        self,
        source: Source[Item],
        handle: Handle[Item],
        options: PollOptions,
        *,
        name: str,
        min_polling_interval: float = MIN_POLLING_INTERVAL,
    ) -> None:
        self._source = source
        self._handle = handle
        self._visibility = source.visibility  # read once: it holds for every item
        self._batch = options.batch_size
        self._threshold = options.new_batch_threshold
        self._backoff = ExponentialBackoff(min_polling_interval, options.max_polling_interval)
        self._name = name  # for the lines of failures no source reports itself
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Future[None]] = set()
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._receiving = False
        self._stopping = False
        self._found = False  # an item since the last backoff delay
        self._failing = False  # a failed poll was reported; the recovery is reported once

    @property
    def in_flight(self) -> int:
        """Items received and not yet settled."""
        return len(self._in_flight)

    def wake(self) -> None:
        """Poll now instead of finishing the backoff delay."""
        self._wake.set()

    def start(self) -> None:
        """Poll in the background until ``stop``."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop intake; items in flight get until ``deadline`` (the loop's clock), then are
        cancelled and handed back; returns once every settle and release has ended."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            if not self._receiving:  # a receive in flight is let finish: its items run
                task.cancel()
            await finish_by((task,), deadline)
        # Items received just now take their first step, so a cancel reaches their release.
        await asyncio.sleep(0)
        await finish_by(self._in_flight, deadline, self._source.cancelling)
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def run_until_empty(self) -> None:
        """Burst mode: poll without waiting until a poll finds nothing (or fails) while no
        item is in flight or settling; then return."""
        self._loop = asyncio.get_running_loop()
        while True:
            await self._wait_for_room()
            if await self._poll_iteration():
                continue
            if not self._in_flight and not self._settling:
                return
            while self._in_flight or self._settling:
                await asyncio.gather(*self._in_flight, *self._settling, return_exceptions=True)

    # --- polling ---------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopping:
                await self._wait_for_room()
                self._wake.clear()
                if not await self._poll_iteration() and not self._stopping:
                    await self._idle()
        except Exception:
            log.exception("%s stopped polling", self._name)

    async def _wait_for_room(self) -> None:
        """Receive again once new_batch_threshold or fewer items are still in flight.

        The extension's rule, rather than a semaphore's: a whole batch is fetched once there
        is room for it, not a message or two each time one ends.
        """
        while len(self._in_flight) > self._threshold:
            self._room.clear()
            await self._room.wait()

    async def _poll_iteration(self) -> bool:
        """One receive; True when it found items (each now runs in its own task)."""
        self._receiving = True
        try:
            items = await self._source.receive(self._batch)
        except Exception as exc:
            self._source.poll_failed(exc, logging.DEBUG if self._failing else logging.ERROR)
            self._failing = True
            return False
        finally:
            self._receiving = False
        if self._failing:
            self._failing = False
            self._source.poll_recovered()
        if not items:
            return False
        self._found = True
        loop = self._loop
        assert loop is not None
        for item in items:
            task = loop.create_task(self._job(loop, item))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return True

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if len(self._in_flight) <= self._threshold:
            self._room.set()

    async def _idle(self) -> None:
        delay = self._backoff.next_delay(succeeded=self._found)
        self._found = False
        self._source.backing_off(delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    # --- one item --------------------------------------------------------------------------

    async def _job(self, loop: asyncio.AbstractEventLoop, item: Item) -> None:
        keeper = Keeper(loop, self._source, item, self._visibility)
        try:
            outcome = await self._handle(item)
        except asyncio.CancelledError:
            await self._shielded(loop, self._release(keeper, item))
            raise
        except Exception:
            log.exception("%s: handling an item failed", self._name)
            outcome = Outcome.FAILED
        await self._shielded(loop, self._settle(keeper, item, outcome))

    def _shielded(
        self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]
    ) -> asyncio.Future[None]:
        """Run work in a task of its own that stop waits for: a cancelled caller never cuts
        it short."""
        future = loop.create_task(work)
        self._settling.add(future)
        future.add_done_callback(self._settling.discard)
        return asyncio.shield(future)

    async def _settle(self, keeper: Keeper[Item], item: Item, outcome: Outcome) -> None:
        await self._after_renewal(keeper, lambda: self._source.settle(item, outcome), "settling")

    async def _release(self, keeper: Keeper[Item], item: Item) -> None:
        await self._after_renewal(keeper, lambda: self._source.release(item), "releasing")

    async def _after_renewal(
        self, keeper: Keeper[Item], act: Callable[[], Awaitable[None]], what: str
    ) -> None:
        """Stop the keeper, let a renewal in flight end (the item then has its latest receipt
        or lock), then act on the item; a failure is logged, not raised."""
        renewal = keeper.stop()
        if renewal is not None:
            await asyncio.wait((renewal,))
        try:
            await act()
        except Exception:
            log.exception("%s: %s an item failed", self._name, what)
