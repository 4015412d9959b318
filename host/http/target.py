"""The request target and authority, checked and normalised as Kestrel does before routing.

A Host header must be a host name, an IPv4 address or a bracketed IPv6 address with an
optional port (``Host: a/b@c`` is refused); an absolute-form target
(``GET http://example/api/x``) must name the same authority as its Host header, and is then
served as its origin-form path, so a function's ``req.url`` is built from checked parts.
Dot segments (``/./``, ``/../``, also written ``%2e``) are removed from the path as Kestrel's
PathNormalizer removes them: ``/api/files/a/../b`` is ``/api/files/b``, and a catch-all route
value never holds ``..``. An encoded slash (``%2F``) stays part of its segment, as there.
"""

from __future__ import annotations

import functools
import re

from aiohttp.http import RawRequestMessage
from yarl import URL

# RFC 3986 reg-name / IPv4 / IP-literal, then an optional port: what Kestrel's
# HttpUtilities.IsHostHeaderValid lets through. Empty is allowed (HTTP/1.0 clients).
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]{0,5})?")


class BadAuthority(ValueError):
    """The request's Host or target authority cannot be trusted; answered 400."""


def checked_target(message: RawRequestMessage) -> RawRequestMessage:
    """``message`` with a checked Host and a normalised origin-form target (or BadAuthority)."""
    host = message.headers.get("Host")
    if host is not None and not _valid_host(host):
        raise BadAuthority("Invalid Host header")
    path = message.path
    if not path.startswith("/"):
        message = _origin_form(message, host)
        path = message.path
    if "/." in path or "%2" in path:  # cheap: most paths have no dot segment to remove
        return _without_dot_segments(message)
    return message


def _origin_form(message: RawRequestMessage, host: str | None) -> RawRequestMessage:
    url = message.url
    if host is None or host.lower() not in _authorities(url.raw_authority, url.explicit_port):
        raise BadAuthority("Invalid Host header: it must match the absolute-form target")
    relative = url.relative()
    return message._replace(path=relative.raw_path_qs, url=relative)


def _without_dot_segments(message: RawRequestMessage) -> RawRequestMessage:
    raw_path, mark, query = message.path.partition("?")
    kept: list[str] = []
    segments = raw_path.split("/")[1:]
    for index, segment in enumerate(segments):
        dots = segment.replace("%2e", ".").replace("%2E", ".")
        if dots in (".", ".."):
            if dots == ".." and kept:
                kept.pop()
            if index == len(segments) - 1:
                kept.append("")  # "/a/.." is "/", not "": the path still ends with a slash
            continue
        kept.append(segment)
    path = "/" + "/".join(kept)
    if path == raw_path:
        return message
    url = URL.build(path=path, query_string=query, encoded=True)
    return message._replace(path=f"{path}{mark}{query}", url=url)


@functools.lru_cache(maxsize=64)  # clients repeat the same Host: checked once each
def _valid_host(value: str) -> bool:
    return _HOST.fullmatch(value) is not None


def _authorities(raw: str, port: int | None) -> tuple[str, ...]:
    """The Host values that name the authority ``raw``: with and without a default port."""
    raw = raw.lower()
    if port is None:
        return raw, f"{raw}:80"
    return (raw, raw.removesuffix(":80")) if port == 80 else (raw,)
