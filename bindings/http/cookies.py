"""The Set-Cookie headers of a function's answer, on their way through Azure.

A ``func.HttpResponse`` does not send its Set-Cookie headers as they are. The library's
converter reads each with ``http.cookies.SimpleCookie`` (a header it cannot parse is no
cookie; an illegal name raises), and the Python worker turns every cookie into the fields of
the RPC's ``RpcHttpCookie`` (``parse_to_rpc_http_cookie_list`` in its bindings/datumdef.py):
the domain and path are sent even when empty, expires is read with dateutil, maxAge must be a
float. The Functions host makes ``CookieOptions`` of them and appends each cookie with ASP.NET
Core's ``ResponseCookies.Append``, whose ``SetCookieHeaderValue`` writes the header again:
attributes in lower case and in its own order, the value escaped, the date as RFC 1123.

``from_morsel`` is the worker's half and ``render`` the host's. Either may refuse a cookie
(``CookieRefused``); in Azure the invocation then fails and the caller gets a 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.cookies import CookieError, Morsel, SimpleCookie
from typing import Any
from urllib.parse import quote

_SAME_SITE = frozenset({"lax", "strict", "none"})
# An RFC 7230 token, as ASP.NET Core checks a cookie name (HttpRuleParser's token chars).
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
# What a protobuf Timestamp can become as a .NET DateTimeOffset: 0001-01-01 to 9999-12-31.
_FIRST_SECOND = -62_135_596_800
_LAST_SECOND = 253_402_300_799
_TICKS_PER_SECOND = 10_000_000  # a .NET TimeSpan counts 100 ns ticks in an Int64
_MAX_TICKS = 2.0**63
_EXPECTED_DATE = "expected a date such as 'Thu, 12 Jan 2017 13:55:08 GMT'"
_EXPECTED_SECONDS = "expected seconds such as '3600'"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class CookieRefused(ValueError):
    """A cookie the worker or the host cannot send; the message says why, never the value."""


@dataclass(frozen=True, slots=True)
class RpcCookie:
    """One cookie as the worker hands it to the host."""

    name: str
    value: str
    domain: str
    path: str
    expires: int | None  # whole seconds since the epoch
    secure: bool
    http_only: bool
    same_site: str | None  # lax, strict or none; None when not written
    max_age: float | None


def header_lines(headers: Iterable[str]) -> list[str]:
    """The Set-Cookie headers the host writes for a response's own Set-Cookie headers."""
    return cookie_lines(_parse(header) for header in headers)


def cookie_lines(cookies: Iterable[SimpleCookie]) -> list[str]:
    """One Set-Cookie header per cookie, as the host writes it (the library's parsed form)."""
    return [render(from_morsel(morsel)) for cookie in cookies for morsel in cookie.values()]


def _parse(header: str) -> SimpleCookie:
    try:
        return SimpleCookie(header)
    except CookieError as exc:  # e.g. "Illegal key 'a@b'": it names the cookie, not its value
        raise CookieRefused(f"Python's SimpleCookie refused the header: {exc}") from None


# --- the worker's half -----------------------------------------------------------------


def from_morsel(morsel: Morsel[Any]) -> RpcCookie:
    """The cookie the worker sends for one parsed cookie (unset attributes are '')."""
    return RpcCookie(
        name=morsel.key,
        value=morsel.value,
        domain=morsel["domain"],
        path=morsel["path"],
        expires=_expires(morsel["expires"]),
        secure=bool(morsel["secure"]),
        http_only=bool(morsel["httponly"]),
        same_site=_same_site(morsel["samesite"]),
        max_age=_max_age(morsel["max-age"]),
    )


def _expires(raw: Any) -> int | None:
    """Read as the worker reads it: dateutil, a date without a zone in local time."""
    if not raw:
        return None
    from dateutil import parser  # only a cookie with expires needs it

    try:
        seconds = int(parser.parse(raw).timestamp())
    except (ValueError, OverflowError):  # dateutil's ParserError is a ValueError
        raise CookieRefused(f"expires {raw!r} is not a date; {_EXPECTED_DATE}") from None
    if not _FIRST_SECOND <= seconds <= _LAST_SECOND:
        raise CookieRefused(f"expires {raw!r} is out of range; {_EXPECTED_DATE}")
    return seconds


def _same_site(raw: Any) -> str | None:
    """Lax, Strict and None (any case) are sent; anything else leaves SameSite unspecified."""
    text = raw.lower() if isinstance(raw, str) else ""
    return text if text in _SAME_SITE else None


def _max_age(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise CookieRefused(f"max-age {raw!r} is not a number; {_EXPECTED_SECONDS}") from None


# --- the host's half -------------------------------------------------------------------


def render(cookie: RpcCookie) -> str:
    """The Set-Cookie header ASP.NET Core's ResponseCookies.Append writes for the cookie."""
    if not cookie.name or not _TOKEN_CHARS.issuperset(cookie.name):
        raise CookieRefused(
            f"cookie name {cookie.name!r} is not an HTTP token; expected letters, digits "
            f"and !#$%&'*+-.^_`|~"
        )
    parts = [f"{cookie.name}={_escaped(cookie.value)}"]
    if cookie.expires is not None:
        parts.append(f"expires={_rfc1123(cookie.expires)}")
    if cookie.max_age is not None:
        parts.append(f"max-age={_whole_seconds(cookie.max_age)}")
    # The worker always sends a domain and a path, '' when unset, and the host writes them.
    parts.append(f"domain={cookie.domain}")
    parts.append(f"path={cookie.path}")
    if cookie.secure:
        parts.append("secure")
    if cookie.same_site is not None:
        parts.append(f"samesite={cookie.same_site}")
    if cookie.http_only:
        parts.append("httponly")
    return "; ".join(parts)


def _escaped(value: str) -> str:
    """Uri.EscapeDataString: all but A-Z a-z 0-9 - . _ ~ as %XX of the UTF-8 bytes."""
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise CookieRefused("the cookie's value is not text UTF-8 can encode") from None


def _rfc1123(seconds: int) -> str:
    """DateTimeOffset's "r" format, in English whatever the locale."""
    when = _EPOCH + timedelta(seconds=seconds)  # fromtimestamp() fails before 1970 on Windows
    day, month = _DAYS[when.weekday()], _MONTHS[when.month - 1]
    return f"{day}, {when.day:02d} {month} {when.year:04d} {when:%H:%M:%S} GMT"


def _whole_seconds(seconds: float) -> int:
    """TimeSpan.FromSeconds, then (long)TotalSeconds: whole seconds, truncated toward zero."""
    ticks = seconds * _TICKS_PER_SECOND
    if math.isnan(ticks) or abs(ticks) > _MAX_TICKS:  # the TimeSpan throws: the host fails
        raise CookieRefused(f"max-age {seconds!r} is out of range; {_EXPECTED_SECONDS}")
    whole_ticks = min(int(ticks), 2**63 - 1)
    return int(float(whole_ticks) / _TICKS_PER_SECOND)
