"""The shared poll-and-settle loop on its own, against a fake in-memory source.

These test the loop, not a service: ``FakeSource`` hands out named items from a list and
records what the loop asks of it. Most tests run the loop in burst mode
(``run_until_empty``), which returns once the source is empty and every item settled; the
ones about stopping, backoff and waking run it in the background and stop it at the end.
Every wait for something the loop should do has a generous safety timeout, so a broken loop
fails instead of hanging; nothing asserts how fast it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from funchost.bindings.shared.poll import Outcome, PollLoop, renewal_delay

T = TypeVar("T")
SAFETY = 20.0  # seconds: only reached when the loop is broken


@dataclass
class Thing:
    """An item of the fake source: a name, its current receipt and how often it was handed out."""

    name: str
    receipt: int = 0
    deliveries: int = 0


@dataclass(frozen=True)
class Limits:
    batch_size: int = 4
    new_batch_threshold: int = 2
    max_polling_interval: float = 60.0


@dataclass
class FakeSource:
    """An in-memory source: visible items in a list; records receives, settles and lines."""

    visible: list[Thing] = field(default_factory=list)
    visibility: float = 600.0
    fail_receives: int = 0
    fail_renewals: int = 0
    settle_gate: asyncio.Event | None = None
    on_backoff: Callable[[float], None] | None = None
    loop: PollLoop[Thing] | None = None
    in_flight_at_receive: list[int] = field(default_factory=list)
    settled: list[tuple[str, Outcome, int]] = field(default_factory=list)
    settling: asyncio.Event = field(default_factory=asyncio.Event)
    released: list[tuple[str, int]] = field(default_factory=list)
    renewals: list[tuple[str, int]] = field(default_factory=list)
    renewed: asyncio.Event = field(default_factory=asyncio.Event)
    delays: list[float] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)

    def add(self, *names: str) -> None:
        self.visible.extend(Thing(name) for name in names)

    async def receive(self, limit: int) -> list[Thing]:
        self.in_flight_at_receive.append(self.loop.in_flight if self.loop else 0)
        if self.fail_receives:
            self.fail_receives -= 1
            raise ConnectionError("connection refused\nsecond line")
        batch, self.visible = self.visible[:limit], self.visible[limit:]
        for thing in batch:
            thing.deliveries += 1
        return batch

    async def renew(self, item: Thing) -> bool:
        if self.fail_renewals:
            self.fail_renewals -= 1
            raise TimeoutError("the renewal timed out")
        item.receipt += 1
        self.renewals.append((item.name, item.receipt))
        self.renewed.set()
        return True

    async def settle(self, item: Thing, outcome: Outcome) -> None:
        self.settling.set()
        if self.settle_gate is not None:
            await self.settle_gate.wait()
        self.settled.append((item.name, outcome, item.receipt))
        if outcome is Outcome.FAILED and item.deliveries < 3:
            self.visible.append(item)  # another attempt; poisoned after the third, as a queue

    async def release(self, item: Thing) -> None:
        self.released.append((item.name, item.receipt))
        self.visible.append(item)

    def poll_failed(self, exc: Exception, level: int) -> None:
        self.lines.append((level, f"poll failed: {exc}"))

    def poll_recovered(self) -> None:
        self.lines.append((logging.INFO, "recovered"))

    def backing_off(self, delay: float) -> None:
        self.delays.append(delay)
        if self.on_backoff is not None:
            self.on_backoff(delay)

    def renew_failed(self, item: Thing, exc: Exception) -> None:
        self.lines.append((logging.DEBUG, f"renewing {item.name} failed: {exc}"))

    def cancelling(self, count: int) -> None:
        self.lines.append((logging.WARNING, f"cancelling {count}"))


Handle = Callable[[Thing], Awaitable[Outcome]]


def poll_loop(source: FakeSource, handle: Handle, **limits: Any) -> PollLoop[Thing]:
    min_interval = limits.pop("min_polling_interval", 0.1)
    loop = PollLoop(
        source, handle, Limits(**limits), name="test loop", min_polling_interval=min_interval
    )
    source.loop = loop
    return loop


async def succeed(item: Thing) -> Outcome:
    return Outcome.SUCCEEDED


async def within(awaitable: Awaitable[T]) -> T:
    """Await what the loop should bring about; fail (not hang) when it never does."""
    return await asyncio.wait_for(awaitable, SAFETY)


async def until(check: Callable[[], bool]) -> None:
    """Wait (bounded) until check holds."""
    deadline = asyncio.get_running_loop().time() + SAFETY
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def yields(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def run(scenario: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(scenario)


async def stopped(loop: PollLoop[Thing]) -> None:
    await loop.stop(asyncio.get_running_loop().time() + SAFETY)


# --- burst mode and concurrency -------------------------------------------------------------


def test_burst_mode_settles_every_item_and_returns_when_the_source_is_empty() -> None:
    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add(*(f"m{i}" for i in range(10)))
        await poll_loop(source, succeed).run_until_empty()
        return source

    source = run(scenario())
    assert sorted(name for name, _, _ in source.settled) == sorted(f"m{i}" for i in range(10))
    assert {outcome for _, outcome, _ in source.settled} == {Outcome.SUCCEEDED}
    assert source.visible == [] and source.released == [] and source.delays == []


def test_failed_items_come_back_and_the_handlers_outcome_reaches_the_source() -> None:
    async def handle(item: Thing) -> Outcome:
        if item.name == "bad":
            return Outcome.FAILED
        if item.name == "poison":
            return Outcome.POISON
        raise RuntimeError("a bug in the handler")

    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add("bad", "poison", "bug")
        await poll_loop(source, handle).run_until_empty()
        return source

    source = run(scenario())
    outcomes = [(name, outcome) for name, outcome, _ in source.settled]
    assert outcomes.count(("bad", Outcome.FAILED)) == 3  # back twice, then given up
    assert outcomes.count(("poison", Outcome.POISON)) == 1
    assert outcomes.count(("bug", Outcome.FAILED)) == 3  # a raising handler is a failure


def test_concurrency_is_bounded_and_a_batch_is_fetched_at_the_threshold() -> None:
    running, peak = 0, 0

    async def handle(item: Thing) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        # Two short and two long per batch: the next batch comes while the long two run.
        await yields(2 if item.name.endswith("short") else 200)
        running -= 1
        return Outcome.SUCCEEDED

    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add(*(f"m{i} {'short' if i % 4 < 2 else 'long'}" for i in range(24)))
        await poll_loop(source, handle, batch_size=4, new_batch_threshold=2).run_until_empty()
        return source

    source = run(scenario())
    assert len(source.settled) == 24
    assert peak == 6  # batch_size + new_batch_threshold, never more
    assert max(source.in_flight_at_receive) == 2  # fetched again with two still running
    assert all(count <= 2 for count in source.in_flight_at_receive)


def test_a_threshold_of_zero_runs_one_batch_at_a_time() -> None:
    running, peak = 0, 0

    async def handle(item: Thing) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await yields(3)
        running -= 1
        return Outcome.SUCCEEDED

    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add(*(f"m{i}" for i in range(9)))
        await poll_loop(source, handle, batch_size=2, new_batch_threshold=0).run_until_empty()
        return source

    source = run(scenario())
    assert len(source.settled) == 9 and peak == 2
    assert set(source.in_flight_at_receive) == {0}


# --- settling and stopping ------------------------------------------------------------------


def test_a_stop_during_a_slow_settle_waits_for_it() -> None:
    async def scenario() -> tuple[FakeSource, bool]:
        source = FakeSource(settle_gate=asyncio.Event())
        source.add("slow settle")
        loop = poll_loop(source, succeed)
        loop.start()
        await within(source.settling.wait())
        stop = asyncio.create_task(loop.stop(asyncio.get_running_loop().time()))
        await yields(50)  # the deadline has passed: the stop cancels what it may
        waited = not stop.done()
        assert source.settle_gate is not None
        source.settle_gate.set()
        await within(stop)
        return source, waited

    source, waited = run(scenario())
    assert waited, "the stop returned before the settle ended"
    assert source.settled == [("slow settle", Outcome.SUCCEEDED, 0)]
    assert source.released == []


def test_stop_cancels_a_stuck_item_at_the_deadline_and_releases_it_at_once() -> None:
    stuck = asyncio.Event()
    cancelled: list[str] = []

    async def handle(item: Thing) -> Outcome:
        if item.name == "quick":
            return Outcome.SUCCEEDED
        stuck.set()
        try:
            await asyncio.Event().wait()  # never set: only the stop ends it
        except asyncio.CancelledError:
            cancelled.append(item.name)
            raise
        return Outcome.SUCCEEDED

    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add("quick", "stuck")
        loop = poll_loop(source, handle)
        loop.start()
        await within(stuck.wait())
        await loop.stop(asyncio.get_running_loop().time())
        return source

    source = run(scenario())
    assert cancelled == ["stuck"]
    assert source.settled == [("quick", Outcome.SUCCEEDED, 0)]
    assert source.released == [("stuck", 0)]
    assert [thing.name for thing in source.visible] == ["stuck"]  # back for the next receiver
    assert (logging.WARNING, "cancelling 1") in source.lines


def test_items_that_end_before_the_deadline_settle_as_usual() -> None:
    gate = asyncio.Event()

    async def handle(item: Thing) -> Outcome:
        await gate.wait()
        return Outcome.SUCCEEDED

    async def scenario() -> FakeSource:
        source = FakeSource()
        source.add("a", "b")
        loop = poll_loop(source, handle)
        loop.start()
        await until(lambda: loop.in_flight == 2)
        stop = asyncio.create_task(stopped(loop))
        await yields(10)
        gate.set()
        await within(stop)
        return source

    source = run(scenario())
    assert sorted(source.settled) == [("a", Outcome.SUCCEEDED, 0), ("b", Outcome.SUCCEEDED, 0)]
    assert source.released == [] and not any(level == logging.WARNING for level, _ in source.lines)


# --- the keeper -----------------------------------------------------------------------------


def test_the_keeper_renews_while_the_item_runs_and_settles_with_the_last_receipt() -> None:
    async def scenario() -> tuple[FakeSource, int]:
        source = FakeSource(visibility=0.2)  # renewed every 0.1 s

        async def handle(item: Thing) -> Outcome:
            while len(source.renewals) < 3:
                source.renewed.clear()
                await within(source.renewed.wait())
            return Outcome.SUCCEEDED

        source.add("long")
        await poll_loop(source, handle).run_until_empty()
        after_settle = len(source.renewals)
        await asyncio.sleep(0.5)  # several renewal periods: the keeper has stopped
        return source, after_settle

    source, after_settle = run(scenario())
    assert source.renewals[:3] == [("long", 1), ("long", 2), ("long", 3)]
    assert len(source.renewals) == after_settle
    [(name, outcome, receipt)] = source.settled
    assert (name, outcome, receipt) == ("long", Outcome.SUCCEEDED, after_settle)


def test_a_failed_renewal_is_reported_and_the_next_one_renews() -> None:
    async def scenario() -> FakeSource:
        source = FakeSource(visibility=0.2, fail_renewals=1)

        async def handle(item: Thing) -> Outcome:
            while len(source.renewals) < 2:
                source.renewed.clear()
                await within(source.renewed.wait())
            return Outcome.SUCCEEDED

        source.add("flaky")
        await poll_loop(source, handle).run_until_empty()
        return source

    source = run(scenario())
    assert source.lines[0] == (logging.DEBUG, "renewing flaky failed: the renewal timed out")
    assert source.renewals[:2] == [("flaky", 1), ("flaky", 2)]
    assert source.settled[0][2] == source.renewals[-1][1]


def test_a_renewal_after_a_failure_comes_sooner_but_not_below_the_floor() -> None:
    assert renewal_delay(300.0, 600.0, failed=False) == 300.0  # half the visibility
    delays, delay = [], 300.0
    for _ in range(4):
        delay = renewal_delay(delay, 600.0, failed=True)
        delays.append(delay)
    assert delays == [150.0, 75.0, 60.0, 60.0]  # MinimumVisibilityRenewalInterval
    assert renewal_delay(60.0, 600.0, failed=False) == 300.0  # a success restores it
    assert renewal_delay(1.0, 2.0, failed=True) == 1.0  # never more often than half


# --- failures, backoff and waking -----------------------------------------------------------


def test_a_failing_source_is_reported_once_then_quietly_then_its_recovery() -> None:
    async def scenario() -> FakeSource:
        source = FakeSource(fail_receives=2)
        source.add("after")
        loop = poll_loop(source, succeed)
        for _ in range(3):  # burst mode ends at a failed poll while nothing is in flight
            await loop.run_until_empty()
        return source

    source = run(scenario())
    error = "poll failed: connection refused\nsecond line"
    assert source.lines == [
        (logging.ERROR, error),
        (logging.DEBUG, error),
        (logging.INFO, "recovered"),
    ]
    assert source.settled == [("after", Outcome.SUCCEEDED, 0)]


def test_an_empty_source_backs_off_longer_each_time_and_an_item_resets_it() -> None:
    async def scenario() -> list[float]:
        source = FakeSource()
        loop = poll_loop(source, succeed)
        enough = asyncio.Event()

        def on_backoff(delay: float) -> None:
            if len(source.delays) == 5:
                source.add("found")
            if len(source.delays) == 7:
                enough.set()
            loop.wake()  # no real waiting: the delays are what the test reads

        source.on_backoff = on_backoff
        loop.start()
        try:
            await within(enough.wait())
        finally:
            await stopped(loop)
        assert [name for name, _, _ in source.settled] == ["found"]
        return source.delays

    delays = run(scenario())
    assert delays[0] == 0.1
    assert delays[:5] == sorted(delays[:5]) and len(set(delays[:5])) == 5  # growing
    assert delays[5] == 0.1  # an item was found since the last wait: back to the minimum
    assert delays[6] > 0.1


def test_wake_ends_a_long_backoff_wait_at_once() -> None:
    async def scenario() -> FakeSource:
        source = FakeSource()
        waiting = asyncio.Event()
        source.on_backoff = lambda delay: waiting.set()
        done = asyncio.Event()

        async def handle(item: Thing) -> Outcome:
            done.set()
            return Outcome.SUCCEEDED

        # Every wait is ten minutes: only wake() can bring the item in within the safety time.
        loop = poll_loop(source, handle, min_polling_interval=600.0, max_polling_interval=600.0)
        loop.start()
        try:
            await within(waiting.wait())
            source.add("woken")
            loop.wake()
            await within(done.wait())
        finally:
            await stopped(loop)
        return source

    source = run(scenario())
    assert source.delays[0] == 600.0
    assert source.settled == [("woken", Outcome.SUCCEEDED, 0)]


@pytest.mark.parametrize("receiving", [False, True])
def test_stop_ends_the_poll_at_once_or_after_the_receive_in_flight(receiving: bool) -> None:
    async def scenario() -> FakeSource:
        source = FakeSource()
        gate = asyncio.Event()
        receive = source.receive
        entered = asyncio.Event()

        async def slow_receive(limit: int) -> list[Thing]:
            entered.set()
            if receiving:
                await gate.wait()
                source.add("in flight")
            return await receive(limit)

        source.receive = slow_receive  # type: ignore[method-assign]
        source.on_backoff = lambda delay: None
        loop = poll_loop(source, succeed, min_polling_interval=600.0, max_polling_interval=600.0)
        loop.start()
        await within(entered.wait())
        stop = asyncio.create_task(stopped(loop))
        await yields(10)
        gate.set()
        await within(stop)
        return source

    source = run(scenario())
    # Items a receive in flight brought in still run and settle; an idle loop just ends.
    expected = [("in flight", Outcome.SUCCEEDED, 0)] if receiving else []
    assert source.settled == expected
