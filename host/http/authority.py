"""The authority a request names, checked as Kestrel checks it before anything runs.

A Host header must be a host name, an IPv4 address or a bracketed IPv6 address with an
optional port (``Host: a/b@c`` is refused); an absolute-form target
(``GET http://example/api/x``) must name the same authority as its Host header, and is then
served as its origin-form path, so a function's ``req.url`` is built from checked parts.
"""

from __future__ import annotations

import functools
import re

from aiohttp.http import RawRequestMessage

# RFC 3986 reg-name / IPv4 / IP-literal, then an optional port: what Kestrel's
# HttpUtilities.IsHostHeaderValid lets through. Empty is allowed (HTTP/1.0 clients).
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]{0,5})?")


class BadAuthority(ValueError):
    """The request's Host or target authority cannot be trusted; answered 400."""


def origin_form(message: RawRequestMessage) -> RawRequestMessage:
    """``message`` with a checked Host and an origin-form target; BadAuthority otherwise."""
    host = message.headers.get("Host")
    if host is not None and not _valid_host(host):
        raise BadAuthority("Invalid Host header")
    if message.path.startswith("/"):
        return message  # the usual case: nothing to rebuild
    url = message.url
    if host is None or host.lower() not in _authorities(url.raw_authority, url.explicit_port):
        raise BadAuthority("Invalid Host header: it must match the absolute-form target")
    relative = url.relative()
    return message._replace(path=relative.raw_path_qs, url=relative)


@functools.lru_cache(maxsize=64)  # clients repeat the same Host: checked once each
def _valid_host(value: str) -> bool:
    return _HOST.fullmatch(value) is not None


def _authorities(raw: str, port: int | None) -> tuple[str, ...]:
    """The Host values that name the authority ``raw``: with and without a default port."""
    raw = raw.lower()
    if port is None:
        return raw, f"{raw}:80"
    return (raw, raw.removesuffix(":80")) if port == 80 else (raw,)
