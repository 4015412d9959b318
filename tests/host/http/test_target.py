"""The request target as Kestrel checks and normalises it before routing (host/http/target.py)."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from aiohttp.http import RawRequestMessage
from aiohttp.http_parser import HttpRequestParser

from funchost.host.http.target import BadAuthority, checked_target


def parsed(target: str, host: str | None = "localhost") -> RawRequestMessage:
    """The message aiohttp's parser makes of a GET of ``target``."""
    loop = asyncio.new_event_loop()
    try:
        parser = HttpRequestParser(mock.Mock(), loop, 2**16)
        head = f"GET {target} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "")
        messages, _, _ = parser.feed_data((head + "\r\n").encode("latin-1"))
    finally:
        loop.close()
    message: RawRequestMessage = messages[0][0]
    return message


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/api/files/a/b", "/api/files/a/b"),
        ("/api/files/../../etc/passwd", "/etc/passwd"),
        ("/api/files/%2e%2e/%2E%2E/etc/passwd", "/etc/passwd"),
        ("/api/files/a/../b?x=/../", "/api/files/b?x=/../"),
        ("/api/./files/b", "/api/files/b"),
        ("/api/files/a/..", "/api/files/"),
        ("/..", "/"),
        ("/api/files/..%2f..%2fetc", "/api/files/..%2f..%2fetc"),  # %2F stays in its segment
        ("/api/files/%20x", "/api/files/%20x"),
    ],
)
def test_dot_segments_are_removed_as_kestrel_removes_them(target: str, path: str) -> None:
    checked = checked_target(parsed(target))
    assert checked.path == path
    assert checked.url.raw_path_qs == path


def test_an_absolute_form_target_becomes_its_path_when_the_host_matches() -> None:
    checked = checked_target(parsed("http://Example.com:80/api/x?a=1", "example.com"))
    assert (checked.path, str(checked.url)) == ("/api/x?a=1", "/api/x?a=1")


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ("http://evil.example/api/x", "localhost"),
        ("http://evil.example/api/x", "evil.example:81"),
        ("/api/x", "a/b@c"),
        ("/api/x", "localhost:80x"),
        ("/api/x", "local host"),
    ],
)
def test_an_untrusted_authority_is_refused(target: str, host: str | None) -> None:
    with pytest.raises(BadAuthority, match="Invalid Host header"):
        checked_target(parsed(target, host))


@pytest.mark.parametrize("host", ["localhost", "localhost:7071", "127.0.0.1:80", "[::1]:7071", ""])
def test_ordinary_hosts_pass_unchanged(host: str) -> None:
    message = parsed("/api/x", host)
    assert checked_target(message) is message
