"""Timer schedules as the Functions host reads them: NCRONTAB expressions and TimeSpans.

Occurrences come from croniter. NCRONTAB (the .NET library the host uses) and croniter read
some expressions differently, so each field is checked and rewritten first (see NcrontabField):

- six fields put the seconds FIRST (croniter puts them last unless second_at_beginning=True);
- a restricted day of month AND day of week must both match (croniter's default is OR:
  we pass day_or=False);
- day of week is 0-6 (croniter also takes 7 for Sunday); names are any prefix of the English
  name ("Mon", "Monday"; croniter takes three letters only); a reversed range "5-1" means 1-5
  (croniter wraps around); croniter's L, W, #, ?, H and @daily do not exist in NCRONTAB and
  are refused, as the host refuses them.

Cron schedules are evaluated in local wall-clock time of the configured zone, with the DST
rules of the WebJobs timer extension (CronSchedule.TryAdjustAmbiguousTime): a local time that
does not exist (spring forward) runs at the shifted instant, once; a point-in-time schedule
(seconds, minutes and hours without '*', '-' or '/') runs once in a repeated hour (fall back),
at the first of the two instants; an interval schedule keeps its interval in real time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

from croniter import croniter  # type: ignore[import-untyped,unused-ignore]

from funchost.errors import BindingError, ConfigError
from funchost.timespan import parse_timespan

CRON_EXPECTED = (
    "six NCRONTAB fields 'second minute hour day month day-of-week' (e.g. '0 */5 * * * *'), "
    "five fields without the seconds, or a TimeSpan like '00:05:00'"
)
_MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
_MONTHS += ("August", "September", "October", "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Dates end with the year 9999 (in .NET, where the host's DateTime.Add throws, as here).
_LONGEST = timedelta(days=2_500_000)
_ITEM = re.compile(r"(?P<base>\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(?P<step>[0-9]+))?")


class ScheduleError(BindingError):
    """A schedule the Functions host would refuse (or, for a few, never run)."""


@dataclass(frozen=True)
class NcrontabField:
    """One field's rules in NCRONTAB: its name, range and value names."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def read(self, text: str, expression: str) -> tuple[str, frozenset[int]]:
        """The field for croniter (numbers only, ranges in order) and the values it holds."""
        items = [self._item(part, text, expression) for part in text.split(",")]
        values = frozenset(v for _, item_values in items for v in item_values)
        return ",".join(token for token, _ in items), values

    def _item(self, part: str, text: str, expression: str) -> tuple[str, range]:
        match = _ITEM.fullmatch(part)
        if match is None:
            raise self._error(text, expression, self._grammar())
        step = int(match["step"] or 1)
        if step < 1:
            raise self._error(text, expression, "a step ('/n') of 1 or more")
        base = match["base"]
        if base == "*":
            low, high = self.low, self.high
        else:
            first, _, last = base.partition("-")
            low = self._value(first, text, expression)
            high = self._value(last, text, expression) if last else low
            low, high = min(low, high), max(low, high)  # NCRONTAB swaps a reversed range
            if not last and match["step"]:
                high = self.high  # "5/15": from 5 to the end, every 15
        token = "*" if (low, high) == (self.low, self.high) else f"{low}-{high}"
        if low == high:
            token = str(low)  # croniter reads "5-5" as something else
        return (token if step == 1 else f"{token}/{step}"), range(low, high + 1, step)

    def _value(self, text: str, field_text: str, expression: str) -> int:
        if text.isdigit():
            value = int(text)
            if self.low <= value <= self.high:
                return value
            raise self._error(field_text, expression, self._range())
        for index, name in enumerate(self.names):
            if name.lower().startswith(text.lower()):
                return self.low + index
        raise self._error(field_text, expression, self._grammar())

    def _range(self) -> str:
        text = f"a value from {self.low} to {self.high}"
        if self.name == "day-of-week":
            text += " (0 is Sunday; NCRONTAB has no 7)"
        if self.names:
            text += f", or a name such as '{self.names[1][:3]}' or '{self.names[1]}'"
        return text

    def _grammar(self) -> str:
        return (
            f"{self._range()}, '*', a range 'a-b', a list 'a,b' or a step '/n' "
            "(NCRONTAB has no L, W, #, ? or H)"
        )

    def _error(self, text: str, expression: str, expected: str) -> ScheduleError:
        return ScheduleError(
            f"schedule '{expression}': the {self.name} field is '{text}'; expected {expected}"
        )


FIELDS = (
    NcrontabField("second", 0, 59),
    NcrontabField("minute", 0, 59),
    NcrontabField("hour", 0, 23),
    NcrontabField("day", 1, 31),
    NcrontabField("month", 1, 12, _MONTHS),
    NcrontabField("day-of-week", 0, 6, _DAYS),
)


@dataclass(frozen=True)
class CronSchedule:
    """An NCRONTAB schedule, evaluated by croniter in the zone's wall-clock time."""

    expression: str
    zone: tzinfo
    croniter_expression: str  # always six fields, seconds first
    values: tuple[frozenset[int], ...]  # per field, seconds first
    has_seconds: bool
    adjust_for_dst: bool = field(default=True, init=False)

    def __str__(self) -> str:
        return f"Cron: '{self.ncrontab()}'"

    def ncrontab(self) -> str:
        """The expanded form NCRONTAB's ToString() gives, which the host logs."""
        fields = zip(FIELDS, self.values, strict=True)
        shown = [_format(f, v) for f, v in fields]
        return " ".join(shown if self.has_seconds else shown[1:])

    @property
    def is_interval(self) -> bool:
        """Seconds, minutes or hours hold '*', '-' or '/' in NCRONTAB's form (CronSchedule)."""
        parts = self.ncrontab().split(" ")
        checked = parts[:3] if self.has_seconds else parts[:2]
        return any(c in part for part in checked for c in "*-/")

    def next_wall(self, wall: datetime) -> datetime:
        """The next wall-clock time strictly after ``wall`` (naive), whole seconds as NCRONTAB."""
        start = wall.replace(microsecond=0)
        found: datetime = croniter(
            self.croniter_expression, start, day_or=False, second_at_beginning=True
        ).get_next(datetime)
        return found

    def next_after(self, now: datetime) -> datetime:
        """The next occurrence (in UTC) after the instant ``now``, with the extension's DST rules.

        Instants are compared and subtracted in UTC only: Python ignores fold when both sides
        share a zone, so 02:30 CEST and 02:30 CET would compare equal.
        """
        local = now.astimezone(self.zone)
        nxt = to_instant(self.next_wall(local.replace(tzinfo=None)), self.zone)
        return self._adjust_ambiguous(local, nxt).astimezone(timezone.utc)

    def _adjust_ambiguous(self, now: datetime, nxt: datetime) -> datetime:
        now_ambiguous = wall_kind(now.replace(tzinfo=None), self.zone) == "ambiguous"
        next_ambiguous = wall_kind(nxt.replace(tzinfo=None), self.zone) == "ambiguous"
        shift = _offset(nxt) - _offset(now)
        if not self.is_interval and next_ambiguous and shift:
            # Point in time, now in DST, next in standard time: run at the DST instant.
            return _shifted(nxt, shift, self.zone)
        if not self.is_interval and next_ambiguous:
            # Already past the fall-back: the DST instant has run; skip the repeated hour.
            wall = nxt.replace(tzinfo=None)
            while wall_kind(wall, self.zone) == "ambiguous":
                wall = self.next_wall(wall)
            return to_instant(wall, self.zone)
        if self.is_interval and (now_ambiguous or next_ambiguous) and shift:
            return _shifted(nxt, shift, self.zone)
        return nxt

    def runs_more_than_once_a_minute(self, now: datetime) -> bool:
        """TimerSchedule.ShouldDisableScheduleMonitor: the monitor is off for such schedules."""
        if any(part != "*" for part in self.ncrontab().split(" ")[1:]):
            return False
        wall = now.astimezone(self.zone).replace(tzinfo=None)
        end = wall + timedelta(minutes=1)
        first = self.next_wall(wall)
        return first < end and self.next_wall(first) < end


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule: a fixed interval in elapsed time, whatever the clocks do."""

    interval: timedelta
    text: str
    adjust_for_dst: bool = field(default=False, init=False)

    def __str__(self) -> str:
        return f"Constant: {_dotnet_timespan(self.interval)}"

    def next_after(self, now: datetime) -> datetime:
        """``now`` plus the interval of elapsed time, in UTC."""
        return now.astimezone(timezone.utc) + self.interval

    def runs_more_than_once_a_minute(self, now: datetime) -> bool:
        """Intervals under a minute turn the monitor off, as in the host."""
        return self.interval < timedelta(minutes=1)


Schedule = CronSchedule | ConstantSchedule


def parse_schedule(text: str, zone: tzinfo) -> Schedule:
    """An NCRONTAB expression (tried first, as the host does) or a TimeSpan."""
    expression = str(text).strip()
    parts = expression.split()
    if len(parts) in (5, 6):
        return _cron(expression, parts, zone)
    try:
        seconds = parse_timespan(expression, source="schedule", key="schedule")
    except ConfigError:
        what = f"has {len(parts)} fields" if len(parts) > 1 else "is no NCRONTAB expression"
        raise ScheduleError(
            f"schedule {text!r} {what} and is no TimeSpan; expected {CRON_EXPECTED}"
        ) from None
    if seconds <= 0:
        raise ScheduleError(
            f"schedule {text!r} is a TimeSpan that is not positive; expected an interval "
            "such as '00:05:00'"
        )
    if seconds > _LONGEST.total_seconds():  # its next run would fall past the year 9999
        raise ScheduleError(
            f"schedule {text!r} is a TimeSpan longer than {_LONGEST.days} days; expected an "
            "interval whose next run has a date"
        )
    return ConstantSchedule(timedelta(seconds=seconds), expression)


def _cron(expression: str, parts: list[str], zone: tzinfo) -> CronSchedule:
    has_seconds = len(parts) == 6
    fields = parts if has_seconds else ["0", *parts]
    read = [spec.read(part, expression) for spec, part in zip(FIELDS, fields, strict=True)]
    schedule = CronSchedule(
        expression=expression,
        zone=zone,
        croniter_expression=" ".join(token for token, _ in read),
        values=tuple(values for _, values in read),
        has_seconds=has_seconds,
    )
    try:
        schedule.next_wall(datetime(2000, 1, 1))
    except Exception:  # croniter's CroniterBadDateError: no date matches in 50 years
        raise ScheduleError(
            f"schedule '{expression}' never occurs: no date has that day of the month in "
            "that month (and that day of the week); expected a day that exists"
        ) from None
    return schedule


def wall_kind(wall: datetime, zone: tzinfo) -> str:
    """'normal', 'ambiguous' (a repeated hour) or 'gap' (skipped by DST) for a naive time."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "normal"
    back = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "ambiguous" if back == wall else "gap"


def to_instant(wall: datetime, zone: tzinfo) -> datetime:
    """A wall time as .NET's DateTimeOffset(local) reads it: standard time when in doubt.

    For a repeated hour that is the second (standard) instant; for a skipped hour it is the
    standard offset too, which lands one DST shift later (02:30 → 03:30).
    """
    candidates = [wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    standard = [c for c in candidates if not c.dst()]
    chosen = standard[0] if standard else candidates[0]
    return chosen.astimezone(timezone.utc).astimezone(zone)


def _offset(moment: datetime) -> timedelta:
    return moment.utcoffset() or timedelta(0)


def _shifted(moment: datetime, shift: timedelta, zone: tzinfo) -> datetime:
    # In UTC: adding to a zoned datetime would move its wall clock, not the instant.
    return (moment.astimezone(timezone.utc) + shift).astimezone(zone)


def _format(spec: NcrontabField, values: frozenset[int]) -> str:
    """NCRONTAB's field ToString(): '*' when full, else runs as 'a-b' and singles, by commas."""
    if values == frozenset(range(spec.low, spec.high + 1)):
        return "*"
    ordered = sorted(values)
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _dotnet_timespan(interval: timedelta) -> str:
    """TimeSpan.ToString(): ``[d.]hh:mm:ss[.fffffff]``."""
    whole = int(interval.total_seconds())
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    if interval.microseconds:
        text += f".{interval.microseconds:06d}0"
    return f"{days}.{text}" if days else text
