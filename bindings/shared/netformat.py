""".NET ``DateTime.ToString(format, InvariantCulture)`` and ``Guid.ToString(format)``.

Binding expressions such as ``{DateTime:yyyy-MM-dd}`` or ``{rand-guid:N}`` carry .NET format
strings, which the Functions host hands to .NET (WebJobs ``BindingDataPathHelper``). This
covers the custom date specifiers (y, M, d, H, h, m, s, f, F, t, K, z), quoted literals and
escapes, the standard formats o, s, u and the Guid formats N, D, B, P.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

# What the host prints when no format is given (a DateTime of kind UTC: K is "Z").
DEFAULT_DATETIME_FORMAT = "yyyy-MM-ddTHH-mm-ssK"
_STANDARD = {
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
# One specifier run (a letter repeated), a quoted literal, an escape, or any other character.
_TOKEN = re.compile(r"([yMdHhmsfFtKz])\1*|'[^']*'?|\"[^\"]*\"?|\\.?|%|.", re.DOTALL)


class FormatError(ValueError):
    """A format string .NET would refuse (or that funchost does not know)."""


def check_datetime_format(fmt: str) -> None:
    """Raise FormatError for a format that cannot be applied (checked at load)."""
    format_datetime(datetime(2000, 1, 1), fmt)


def format_datetime(value: datetime, fmt: str | None) -> str:
    """``value.ToString(fmt, CultureInfo.InvariantCulture)``; a naive value is UTC."""
    fmt = fmt or DEFAULT_DATETIME_FORMAT
    if len(fmt) == 1:
        if fmt not in ("o", "O", "s", "u"):
            raise FormatError(
                f"the standard format '{fmt}' is not supported; expected o, s or u, or a custom "
                "format such as yyyy-MM-dd"
            )
        fmt = _STANDARD[fmt.lower()]
    return "".join(_token(match.group(), value) for match in _TOKEN.finditer(fmt))


def _token(token: str, value: datetime) -> str:
    if token[0] in "'\"":
        if len(token) < 2 or token[-1] != token[0]:
            raise FormatError(f"the quoted literal {token} has no closing quote")
        return token[1:-1]
    if token[0] == "\\":
        if len(token) < 2:
            raise FormatError("the format ends with an escape character (\\)")
        return token[1]
    if token == "%":
        return ""  # "%d": a single specifier on its own
    letter = token[0]
    if letter in "yMdHhmsfFtKz":
        return _specifier(letter, len(token), value)
    return token


def _specifier(letter: str, count: int, value: datetime) -> str:
    if letter in "fF":
        return _fraction(letter, count, value)
    if letter == "y":
        year = value.year % 100 if count <= 2 else value.year
        return str(year).zfill(count)
    if letter == "M" and count >= 3:
        name = _MONTHS[value.month - 1]
        return name if count > 3 else name[:3]
    if letter == "d" and count >= 3:
        name = _DAYS[value.weekday()]
        return name if count > 3 else name[:3]
    if letter in "Kz":
        return _offset(letter, count, value)
    if letter == "t":
        marker = "AM" if value.hour < 12 else "PM"
        return marker if count > 1 else marker[0]
    number = {
        "M": value.month,
        "d": value.day,
        "H": value.hour,
        "h": value.hour % 12 or 12,
        "m": value.minute,
        "s": value.second,
    }[letter]
    return str(number).zfill(min(count, 2))


def _fraction(letter: str, count: int, value: datetime) -> str:
    if count > 7:
        raise FormatError(f"'{letter * count}' has more than 7 fraction digits")
    digits = f"{value.microsecond:06d}0"[:count]
    return digits.rstrip("0") if letter == "F" else digits


def _offset(letter: str, count: int, value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)  # naive values are UTC
    if letter == "K" and not offset:
        return "Z"  # as for a DateTime of kind Utc
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    if letter == "z" and count == 1:
        return f"{sign}{hours}"
    if letter == "z" and count == 2:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def format_guid(value: uuid.UUID, fmt: str | None) -> str:
    """``Guid.ToString(fmt)``: D (default), N, B or P, lower-case hex as .NET prints."""
    text = str(value)
    kind = (fmt or "D").upper()
    if kind == "D":
        return text
    if kind == "N":
        return value.hex
    if kind == "B":
        return "{" + text + "}"
    if kind == "P":
        return "(" + text + ")"
    raise FormatError(f"the Guid format '{fmt}' is not supported; expected N, D, B or P")
