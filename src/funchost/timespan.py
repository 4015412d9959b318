""".NET TimeSpan strings (``"00:05:00"``, ``"1.02:03:04.5"``) in host.json and decorators."""

from __future__ import annotations

import re

from funchost.errors import ConfigError

TIMESPAN_EXPECTED = 'a TimeSpan like "00:05:00"'

# [-]d  or  [-][d.]hh:mm[:ss[.fffffff]], as .NET TimeSpan.Parse accepts them.
_TIMESPAN = re.compile(
    r"\s*(?P<sign>-)?(?:(?P<only_days>\d+)|(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})"
    r"(?::(?P<seconds>\d{1,2})(?:\.(?P<fraction>\d{1,7}))?)?)\s*",
    re.ASCII,
)


def parse_timespan(text: str, *, source: str, key: str) -> float:
    """Seconds in a .NET TimeSpan string; a bare integer is days, as in TimeSpan.Parse."""
    match = _TIMESPAN.fullmatch(text)
    if match is None:
        raise ConfigError(source, key, text, TIMESPAN_EXPECTED)
    parts = match.groupdict()
    if parts["only_days"] is not None:
        seconds = int(parts["only_days"]) * 86400.0
    else:
        seconds = _clock_seconds(parts, source=source, key=key, text=text)
    return -seconds if parts["sign"] else seconds


def _clock_seconds(parts: dict[str, str | None], *, source: str, key: str, text: str) -> float:
    hours, minutes = int(parts["hours"] or 0), int(parts["minutes"] or 0)
    seconds = int(parts["seconds"] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        # TimeSpan.Parse throws OverflowException here; "24:00:00" is written "1.00:00:00".
        raise ConfigError(source, key, text, TIMESPAN_EXPECTED)
    fraction = parts["fraction"] or ""
    total = int(parts["days"] or 0) * 86400.0 + hours * 3600 + minutes * 60 + seconds
    return total + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def format_timespan(seconds: float) -> str:
    """Seconds written back as a TimeSpan, to the millisecond: "7.00:00:00", "00:00:00.100"."""
    sign = "-" if seconds < 0 else ""
    whole, millis = divmod(round(abs(seconds) * 1000), 1000)
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    text = f"{days}.{text}" if days else text
    return f"{sign}{text}.{millis:03d}" if millis else f"{sign}{text}"
