"""The timer listener in-process with a fake clock: what runs when, and what is recorded.

Real clocks would take minutes to hours for these schedules; the fake clock jumps to each
wake-up instead, and a fake dispatch stands in for the worker (a "long run" advances the
clock by its duration). The real-clock behaviour is in test_timer.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from funchost.bindings.base import BindingContext, BindingSpec, InvocationResult, TriggerEvent
from funchost.bindings.timer.listener import TimerTriggerListener, timer_config
from funchost.config_section import Section

UTC = timezone.utc
START = datetime(2026, 11, 25, 10, 17, 30, tzinfo=UTC)
HOST_ID = "testhost"


class FakeClock:
    """Time moves only when the listener sleeps (or a fake run takes time)."""

    def __init__(self, start: datetime, horizon: timedelta) -> None:
        self.time = start
        self.until = start + horizon
        self.idle = asyncio.Event()  # set when the listener would sleep past the horizon

    def now(self) -> datetime:
        return self.time

    async def sleep(self, seconds: float) -> None:
        if self.time + timedelta(seconds=seconds) > self.until:
            self.idle.set()
            await asyncio.Event().wait()
        self.time += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class Runs:
    """The fake dispatch: records each event and when it started; a run may take time."""

    def __init__(self, clock: FakeClock, durations: list[float] | None = None) -> None:
        self.clock = clock
        self.durations = list(durations or [])
        self.events: list[TriggerEvent] = []
        self.started: list[datetime] = []
        self.active = 0
        self.most_active = 0

    async def __call__(self, event: TriggerEvent) -> InvocationResult:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        self.events.append(event)
        self.started.append(self.clock.now())
        self.clock.time += timedelta(seconds=self.durations.pop(0) if self.durations else 0)
        await asyncio.sleep(0)
        self.active -= 1
        return InvocationResult(invocation_id="fake")

    def infos(self) -> list[dict[str, Any]]:
        """The TimerInfo JSON of each run."""
        return [json.loads(e.data.value) for e in self.events]


def config(tmp_path: Path, schedule: str, **properties: object) -> Any:
    spec = BindingSpec("timer", "timerTrigger", "in", {"schedule": schedule, **properties})
    settings = {"FUNCHOST_STATE_DIR": str(tmp_path), "AzureFunctionsWebHost__hostid": HOST_ID}
    ctx = BindingContext("tick", tmp_path, settings, Section.root({}, "host.json"))
    return timer_config(spec, ctx, START)


def status_path(tmp_path: Path) -> Path:
    return tmp_path / "timers" / HOST_ID / "Host.Functions.tick" / "status"


def run(tmp_path: Path, schedule: str, horizon: timedelta, **kwargs: Any) -> Runs:
    """Run a listener on the fake clock until it would sleep past the horizon, then stop it."""
    durations = kwargs.pop("durations", None)

    async def main() -> Runs:
        clock = FakeClock(START, horizon)
        runs = Runs(clock, durations)
        listener = TimerTriggerListener(config(tmp_path, schedule, **kwargs), runs, clock)
        await listener.start()
        await asyncio.wait_for(clock.idle.wait(), 10)
        await listener.stop(asyncio.get_running_loop().time() + 30)
        return runs

    return asyncio.run(main())


def stamps(moments: list[datetime]) -> list[str]:
    return [m.strftime("%H:%M:%S") for m in moments]


def test_occurrences_run_on_schedule_with_fake_clock(tmp_path: Path) -> None:
    runs = run(tmp_path, "0 */5 * * * *", timedelta(minutes=16))
    assert stamps(runs.started) == ["10:20:00", "10:25:00", "10:30:00"]
    assert [e.reason for e in runs.events] == [
        "Timer fired at 2026-11-25T10:20:00.0000000+00:00",
        "Timer fired at 2026-11-25T10:25:00.0000000+00:00",
        "Timer fired at 2026-11-25T10:30:00.0000000+00:00",
    ]
    assert runs.infos()[0] == {
        "Schedule": {"AdjustForDST": True},
        "ScheduleStatus": {
            "Last": "0001-01-01T00:00:00+00:00",
            "Next": "2026-11-25T10:20:00+00:00",
            "LastUpdated": "2026-11-25T10:17:30+00:00",
        },
        "IsPastDue": False,
    }
    assert runs.infos()[1]["ScheduleStatus"] == {
        "Last": "2026-11-25T10:20:00+00:00",
        "Next": "2026-11-25T10:25:00+00:00",
        "LastUpdated": "2026-11-25T10:20:00+00:00",
    }
    assert runs.events[0].metadata["TimerTrigger"].value == "11/25/2026 10:20:00"


def test_a_long_run_delays_the_next_and_never_overlaps_with_fake_clock(tmp_path: Path) -> None:
    # Every minute; the first run takes 150 s. The occurrences at 10:19 and 10:20 fall
    # inside it: they become one run right after it ends, then the schedule resumes.
    runs = run(tmp_path, "0 * * * * *", timedelta(minutes=5), durations=[150])
    assert stamps(runs.started) == ["10:18:00", "10:20:30", "10:21:00", "10:22:00"]
    assert runs.most_active == 1
    assert [info["IsPastDue"] for info in runs.infos()] == [False] * 4


def test_first_start_records_next_so_a_miss_is_caught_later_with_fake_clock(
    tmp_path: Path,
) -> None:
    run(tmp_path, "0 */5 * * * *", timedelta(seconds=10))
    assert json.loads(status_path(tmp_path).read_text()) == {
        "Last": "0001-01-01T00:00:00+00:00",
        "Next": "2026-11-25T10:20:00+00:00",
        "LastUpdated": "2026-11-25T10:17:30+00:00",
    }


def test_missed_occurrence_runs_once_past_due_at_start_with_fake_clock(tmp_path: Path) -> None:
    # Stopped after the 10:00 run; 10:05, 10:10 and 10:15 were missed.
    status_path(tmp_path).parent.mkdir(parents=True)
    status_path(tmp_path).write_text(
        '{"Last":"2026-11-25T10:00:00.0097266+00:00","Next":"2026-11-25T10:05:00+00:00",'
        '"LastUpdated":"2026-11-25T10:00:00.0097266+00:00"}'
    )
    runs = run(tmp_path, "0 */5 * * * *", timedelta(minutes=4))
    assert stamps(runs.started) == ["10:17:30", "10:20:00"]
    assert [info["IsPastDue"] for info in runs.infos()] == [True, False]
    assert runs.infos()[0]["ScheduleStatus"]["Next"] == "2026-11-25T10:05:00+00:00"
    assert runs.events[0].details == {
        "UnscheduledInvocationReason": "IsPastDue",
        "OriginalSchedule": "2026-11-25T10:05:00.0000000+00:00",
        "ScheduleStatus": '{"Last":"2026-11-25T10:00:00.009726+00:00",'
        '"Next":"2026-11-25T10:05:00+00:00","LastUpdated":"2026-11-25T10:00:00.009726+00:00"}',
    }
    assert json.loads(status_path(tmp_path).read_text()) == {
        "Last": "2026-11-25T10:20:00+00:00",
        "Next": "2026-11-25T10:25:00+00:00",
        "LastUpdated": "2026-11-25T10:20:00+00:00",
    }


def test_a_changed_schedule_is_not_past_due_with_fake_clock(tmp_path: Path) -> None:
    # Written by an hourly schedule: its Next does not follow from Last under */5.
    status_path(tmp_path).parent.mkdir(parents=True)
    status_path(tmp_path).write_text(
        '{"Last":"2026-11-25T09:00:00+00:00","Next":"2026-11-25T10:00:00+00:00",'
        '"LastUpdated":"2026-11-25T09:00:00+00:00"}'
    )
    runs = run(tmp_path, "0 */5 * * * *", timedelta(minutes=4))
    assert stamps(runs.started) == ["10:20:00"]
    assert runs.infos()[0]["IsPastDue"] is False


def test_run_on_startup_runs_once_then_follows_the_schedule_with_fake_clock(
    tmp_path: Path,
) -> None:
    runs = run(tmp_path, "0 */5 * * * *", timedelta(minutes=4), runOnStartup=True)
    assert stamps(runs.started) == ["10:17:30", "10:20:00"]
    assert runs.events[0].details["UnscheduledInvocationReason"] == "RunOnStartup"
    assert "UnscheduledInvocationReason" not in runs.events[1].details


def test_no_status_is_kept_or_sent_without_the_monitor_with_fake_clock(tmp_path: Path) -> None:
    runs = run(tmp_path, "0 */5 * * * *", timedelta(minutes=4), useMonitor=False)
    assert runs.infos()[0]["ScheduleStatus"] is None
    assert runs.events[0].details == {}
    assert not status_path(tmp_path).exists()


def test_timespan_schedule_counts_from_the_start_with_fake_clock(tmp_path: Path) -> None:
    runs = run(tmp_path, "00:10:00", timedelta(minutes=25))
    assert stamps(runs.started) == ["10:27:30", "10:37:30"]
    assert runs.infos()[0]["Schedule"] == {"AdjustForDST": False}


def test_admin_event_is_not_past_due_and_carries_the_known_status(tmp_path: Path) -> None:
    async def main() -> tuple[TriggerEvent | None, TriggerEvent | None]:
        clock = FakeClock(START, timedelta(minutes=1))
        listener = TimerTriggerListener(config(tmp_path, "0 */5 * * * *"), Runs(clock), clock)
        before = listener.admin_event("")
        await listener.start()
        await asyncio.wait_for(clock.idle.wait(), 10)
        after = listener.admin_event('{"ignored": true}')
        await listener.stop(asyncio.get_running_loop().time() + 30)
        return before, after

    before, after = asyncio.run(main())
    assert before is not None and after is not None
    assert json.loads(before.data.value) == {
        "Schedule": {"AdjustForDST": True},
        "ScheduleStatus": None,
        "IsPastDue": False,
    }
    assert json.loads(after.data.value)["ScheduleStatus"]["Next"] == "2026-11-25T10:20:00+00:00"
    assert after.reason == "This function was programmatically called via the host APIs."
