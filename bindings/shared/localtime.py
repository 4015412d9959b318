"""The timer's time zone and the .NET spellings of dates the Functions host logs and sends.

The Functions host evaluates schedules in the machine's local time zone: UTC in Azure unless
``WEBSITE_TIME_ZONE`` (Windows plans) or ``TZ`` (Linux plans) names another. funchost reads
the same two settings, so a schedule runs at the same instants here as in Azure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from funchost.errors import BindingError

ZONE_SETTINGS = ("WEBSITE_TIME_ZONE", "TZ")

# Windows time zone ids (WEBSITE_TIME_ZONE on Windows plans) → IANA: CLDR's windowsZones.xml
# (territory 001) as tzlocal regenerates it each release, so new Windows zones need no edit here.
# IANA names themselves work as they are; zoneinfo falls back to the tzdata package's copy
# of the database on slim images that have no /usr/share/zoneinfo.
WINDOWS_ZONES: Mapping[str, str] = win_tz
# "UTC" is a Windows id too (→ Etc/UTC); kept as plain UTC so log lines name it as before.
_WINDOWS_BY_LOWER = {name.lower(): iana for name, iana in WINDOWS_ZONES.items()} | {"utc": "UTC"}

# Json.NET's ISO dates: 2026-11-25T14:00:00[.fffffff][Z|+01:00]
_JSON_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


def zone_from_settings(settings: Mapping[str, str]) -> tzinfo:
    """WEBSITE_TIME_ZONE, else TZ, else UTC; a name that is no time zone raises BindingError."""
    for setting in ZONE_SETTINGS:
        value = settings.get(setting, "").strip()
        if value:
            return parse_zone(setting, value)
    return timezone.utc


def parse_zone(setting: str, value: str) -> tzinfo:
    """An IANA name (``:Europe/Amsterdam`` as TZ allows too) or a mapped Windows zone id."""
    name = value.strip().removeprefix(":")
    try:
        return ZoneInfo(_WINDOWS_BY_LOWER.get(name.lower(), name))
    except (ZoneInfoNotFoundError, ValueError):
        raise BindingError(
            f"app setting '{setting}' is {value!r}, which names no time zone; expected an IANA "
            "time zone name such as 'Europe/Amsterdam' (the Linux plans' TZ), or a Windows "
            "time zone id such as 'W. Europe Standard Time' (CLDR's windowsZones, "
            f"{len(WINDOWS_ZONES)} ids)"
        ) from None


def zone_name(zone: tzinfo) -> str:
    """A name for log lines: the IANA key, or UTC."""
    return str(getattr(zone, "key", None) or "UTC")


def is_utc(zone: tzinfo) -> bool:
    """Whether the zone is UTC all year (TimeZoneInfo.Local.HasSameRules(Utc))."""
    probes = (datetime(2025, 1, 15), datetime(2025, 7, 15))
    return all(zone.utcoffset(p) == timedelta(0) for p in probes)


def round_trip(moment: datetime, zone: tzinfo) -> str:
    """.NET's ``ToString("o")`` of a local DateTime: seven fractional digits and the offset."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond:06d}0{_offset(local)}"


def json_date(moment: datetime, zone: tzinfo) -> str:
    """Json.NET's ISO form of a local DateTime: fraction without trailing zeros, then offset."""
    local = moment.astimezone(zone)
    fraction = f"{local.microsecond:06d}0".rstrip("0")
    dot = f".{fraction}" if fraction else ""
    return f"{local:%Y-%m-%dT%H:%M:%S}{dot}{_offset(local)}"


def schedule_date(moment: datetime, zone: tzinfo) -> str:
    """An occurrence as TimerInfo.FormatNextOccurrences prints it (``MM/dd/yyyy HH:mm:ssK``).

    In UTC: ``11/25/2026 14:00:00Z``; elsewhere the local time, then UTC in parentheses.
    """
    utc = f"{moment.astimezone(timezone.utc):%m/%d/%Y %H:%M:%S}Z"
    if is_utc(zone):
        return utc
    local = moment.astimezone(zone)
    return f"{local:%m/%d/%Y %H:%M:%S}{_offset(local)} ({utc})"


def parse_json_date(text: str, zone: tzinfo) -> datetime | None:
    """A date as Json.NET wrote it, in UTC; None for "never" (year 1) or unreadable text.

    A date without an offset is local time in ``zone``, as Json.NET reads an unspecified kind.
    """
    match = _JSON_DATE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if year < 2:
        return None  # DateTime.MinValue and anything before ScheduleMonitor's threshold
    micros = int((match.group(7) or "").ljust(7, "0")[:6])
    naive = datetime(year, month, day, hour, minute, second, micros)
    offset = match.group(8)
    if offset is None:
        return naive.replace(tzinfo=zone).astimezone(timezone.utc)
    if offset == "Z":
        return naive.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return naive.replace(tzinfo=timezone(sign * delta)).astimezone(timezone.utc)


def _offset(moment: datetime) -> str:
    text = moment.strftime("%z") or "+0000"
    return f"{text[:3]}:{text[3:5]}"
