"""The host's handling of its listeners as a group: start in order, stop all at once.

The listeners here are stand-ins that record what the host asks of them: what is under
test is host/listeners.py's lifecycle, not any trigger.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, cast

import pytest

from funchost.bindings.base import Description, TriggerEvent
from funchost.host.listeners import deadline_after, start_all, stop_all
from funchost.worker.wiring import LoadedFunction


class RecordingListener:
    """Records start and stop; optionally fails to start, or waits for a peer in stop()."""

    def __init__(self, name: str, journal: list[str], fail_start: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail_start = fail_start
        self.deadlines: list[float] = []
        self.stopping = asyncio.Event()
        self.wait_for: asyncio.Event | None = None

    def describe(self, base_url: str) -> Description:
        return Description(self.name)

    def admin_event(self, payload: str) -> TriggerEvent | None:
        return None

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    async def stop(self, deadline: float) -> None:
        self.deadlines.append(deadline)
        self.stopping.set()
        if self.wait_for is not None:
            await self.wait_for.wait()  # only returns if the peer's stop runs meanwhile
        self.journal.append(f"stop {self.name}")


def function(listener: RecordingListener) -> LoadedFunction:
    spec = cast(Any, type("Spec", (), {"name": listener.name}))
    return LoadedFunction(spec=spec, invoker=cast(Any, None), listener=listener)


def test_a_listener_that_cannot_start_stops_those_already_started() -> None:
    journal: list[str] = []
    first, second = RecordingListener("a", journal), RecordingListener("b", journal)
    broken, never = (
        RecordingListener("c", journal, fail_start=True),
        RecordingListener("d", journal),
    )

    async def main() -> None:
        with pytest.raises(RuntimeError, match="c cannot start"):
            await start_all([function(x) for x in (first, second, broken, never)])

    asyncio.run(main())
    assert sorted(journal[:2]) == ["start a", "start b"]
    assert sorted(journal[2:]) == ["stop a", "stop b"]  # c never started; d was never asked


def test_every_listener_is_stopped_at_once_with_the_same_deadline() -> None:
    journal: list[str] = []
    first, second = RecordingListener("a", journal), RecordingListener("b", journal)
    # Each stop() waits until the other's has begun: one after the other would never end.
    first.wait_for, second.wait_for = second.stopping, first.stopping

    async def main() -> float:
        deadline = deadline_after(5)
        await asyncio.wait_for(stop_all([function(first), function(second)], deadline), 10)
        return deadline

    deadline = asyncio.run(main())
    assert first.deadlines == second.deadlines == [deadline]
    assert sorted(journal) == ["stop a", "stop b"]


def test_a_listener_that_fails_to_stop_does_not_keep_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal: list[str] = []
    good = RecordingListener("good", journal)
    bad = RecordingListener("bad", journal)

    async def failing_stop(deadline: float) -> None:
        raise RuntimeError("lease lost")

    bad.stop = failing_stop  # type: ignore[method-assign]
    asyncio.run(stop_all([function(bad), function(good)], math.inf))
    assert journal == ["stop good"]
    assert "Stopping the trigger of 'bad' failed: lease lost" in caplog.text
