"""A timer binding's configuration, checked at load, and the TimerInfo JSON it sends.

Everything that can be wrong with a timer (schedule, time zone, flags, host storage, host.json
``singleton``) is found here, when the function is loaded, so a bad one is disabled with its
reason before the host starts; the listener (listener.py) only runs what was accepted.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Protocol

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.shared.hostid import host_id
from funchost.bindings.shared.hoststorage import HostStorage, host_storage
from funchost.bindings.shared.localtime import zone_from_settings
from funchost.bindings.shared.singleton import SingletonOptions, singleton_options
from funchost.bindings.timer.schedule import Schedule, ScheduleError, parse_schedule
from funchost.bindings.timer.state import ScheduleStatus
from funchost.errors import BindingError, FunchostError


class Clock(Protocol):
    """Wall-clock time and sleeping; tests pass a fake one."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long (math.inf: forever)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """datetime.now in UTC."""
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep; an infinite wait never returns."""
        if math.isinf(seconds):
            await asyncio.Event().wait()
            return
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class TimerConfig:
    """Everything a timer listener needs, checked when the function is loaded."""

    function_name: str
    schedule: Schedule
    zone: tzinfo
    monitor: bool
    run_on_startup: bool
    host_id: str
    storage: HostStorage
    singleton: SingletonOptions

    @property
    def function_id(self) -> str:
        """How the host names the function in its state (the timer's lookup name)."""
        return f"Host.Functions.{self.function_name}"

    @property
    def lock_id(self) -> str:
        """SingletonManager.FormatLockId for the listener."""
        return f"{self.host_id}/{self.function_id}.Listener"


def timer_config(spec: BindingSpec, ctx: BindingContext, now: datetime) -> TimerConfig:
    """Validate the binding: schedule, time zone, flags, storage and host.json singleton."""
    try:
        return _timer_config(spec, ctx, now)
    except FunchostError as exc:
        raise BindingError(f"binding '{spec.name}' (timerTrigger): {exc}") from exc


def _timer_config(spec: BindingSpec, ctx: BindingContext, now: datetime) -> TimerConfig:
    zone = zone_from_settings(ctx.settings)
    raw = spec.properties.get("schedule")
    if not isinstance(raw, str) or not raw.strip():
        raise ScheduleError(
            "the schedule is missing or empty; expected schedule='0 */5 * * * *' (NCRONTAB) "
            "or a TimeSpan like '00:05:00'"
        )
    schedule = parse_schedule(raw, zone)
    use_monitor = _flag(spec, "useMonitor")
    # TimerSchedule.Create: more than once a minute turns the monitor off, even if asked for.
    monitor = use_monitor is not False and not schedule.runs_more_than_once_a_minute(now)
    return TimerConfig(
        function_name=ctx.function_name,
        schedule=schedule,
        zone=zone,
        monitor=monitor,
        run_on_startup=bool(_flag(spec, "runOnStartup")),
        host_id=host_id(ctx.settings, ctx.script_root),
        storage=host_storage(ctx),
        singleton=singleton_options(ctx.host_json),
    )


def _flag(spec: BindingSpec, key: str) -> bool | None:
    value = next((v for k, v in spec.properties.items() if k.lower() == key.lower()), None)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BindingError(f"'{key}' is {value!r}; expected true or false")


def timer_info(
    schedule: Schedule, status: ScheduleStatus | None, zone: tzinfo, past_due: bool
) -> str:
    """The TimerInfo JSON the host sends the worker (Json.NET, Formatting.None)."""
    doc = {
        "Schedule": {"AdjustForDST": schedule.adjust_for_dst},
        "ScheduleStatus": None if status is None else status.to_json(zone),
        "IsPastDue": past_due,
    }
    return json.dumps(doc, separators=(",", ":"))
