"""What a connection writes: an answer (status, header lines, body) and its bytes on the wire.

``encode`` adds the framing aiohttp's ``Response.prepare`` would (Content-Length, a default
Content-Type, Date, Server, Connection), so an answer written the short way and one built as
an aiohttp ``Response`` look the same on the wire; ``check_answer`` is what both ways refuse.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterable, Sequence
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple, Protocol

from aiohttp import hdrs
from aiohttp.http import SERVER_SOFTWARE, HttpVersion, HttpVersion10, RawRequestMessage

log = logging.getLogger("funchost.server")


class Answer(Protocol):
    """An answer a connection can write; ``encode`` adds the framing.

    The HTTP binding's ``HttpAnswer`` is one as it is: written without a conversion, and the
    host imports no binding.
    """

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...

    @property
    def body(self) -> bytes: ...


class HostAnswer(NamedTuple):
    """An answer of the host's own (401, 400, 413, a 500): immutable, so one can be shared."""

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


# The Content-Type of the host's plain-text answers, as aiohttp's ``Response(text=...)`` sends
# it: the two ways write the same bytes.
TEXT_PLAIN = ("Content-Type", "text/plain; charset=utf-8")

_SERVER_ERROR = HostAnswer(500)
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class _Clock:
    """The Date header line, formatted once a second."""

    second = 0
    line = b""

    def date_line(self) -> bytes:
        second = int(time.time())
        if second != self.second:
            self.second = second
            self.line = f"Date: {formatdate(second, usegmt=True)}\r\n".encode()
        return self.line


_clock = _Clock()


def encode(message: RawRequestMessage, answer: Answer, keep_alive: bool) -> tuple[bytes, bytes]:
    """The response head and body for an answer, with the framing aiohttp's ``prepare`` adds.

    Content-Length from the body; none and no body for 1xx, 204 and 304; for HEAD the
    length of the body a GET would get, without it (none when that body is empty).
    Content-Type defaults to application/octet-stream for a non-empty body; Date, Server and
    Connection are added unless the answer set them. An answer ``check_answer`` refuses
    raises its ValueError.
    """
    is_head = message.method == hdrs.METH_HEAD
    status, body = answer.status, answer.body
    headers = tuple(answer.headers)
    fixed, framed, dated = _fixed_head(
        message.version, is_head, status, headers, bool(body), keep_alive
    )
    length = b"Content-Length: %d\r\n" % len(body) if framed else b""
    date = _clock.date_line() if dated else b""
    if is_head or status in (204, 304) or status < 200:
        body = b""
    return b"".join((fixed, length, date, b"\r\n")), body


def cannot_carry(function_name: str, problem: ValueError) -> Answer:
    """The 500 for an answer ``check_answer`` refused, and the one error line naming it."""
    log.error("Functions.%s answered what HTTP cannot carry: %s", function_name, problem)
    return _SERVER_ERROR


def check_answer(status: int, headers: Iterable[tuple[str, str]]) -> None:
    """Raise ValueError, saying why, when HTTP/1.1 cannot carry this status or these headers.

    The one check of an answer, whichever way it goes out: ``encode`` meets it once per
    distinct head (cached with the head, so the short way pays nothing per request), and
    aiohttp's way calls it before it builds a Response, which would write anything.
    """
    if not 100 <= status <= 999:
        raise ValueError(f"HTTP status {status} is out of range; expected 100-999")
    for name, value in headers:
        _check_header_text(name)
        _check_header_text(value)


def _check_header_text(text: str) -> None:
    if not text.isprintable():  # rare: a tab, or a control character
        _check_controls(text)
    if text.isascii():
        return  # the common case: nothing to encode
    try:
        # surrogateescape: bytes the parser could not decode (an echoed header) go back out
        # as they came; any other surrogate has no bytes at all.
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ValueError(
            "a response header holds a lone surrogate; expected text UTF-8 can encode"
        ) from None


# Kestrel refuses these in a response header ("Invalid control character in header"); CR or
# LF would end the line and start another (injection). A tab is whitespace HTTP allows.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _check_controls(text: str) -> None:
    if "\r" in text or "\n" in text:
        raise ValueError("a response header contains CR or LF; expected one line per header")
    found = _CONTROL.search(text)
    if found is not None:
        raise ValueError(
            f"a response header contains the control character {found.group()!r}; expected "
            "visible characters, spaces and tabs"
        )


@functools.lru_cache(maxsize=256)
def _fixed_head(
    version: HttpVersion,
    is_head: bool,
    status: int,
    headers: tuple[tuple[str, str], ...],
    has_body: bool,
    keep_alive: bool,
) -> tuple[bytes, bool, bool]:
    """The head's lines that do not change from answer to answer (cached: most are alike).

    Also whether Content-Length and Date are still to add.
    """
    check_answer(status, headers)
    no_body = status in (204, 304) or status < 200
    names = {name.lower() for name, _ in headers}
    lines = [f"HTTP/{version.major}.{version.minor} {status} {_REASONS.get(status, '')}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if has_body and not no_body and not is_head and "content-type" not in names:
        lines.append("Content-Type: application/octet-stream")
    if "server" not in names:
        lines.append(f"Server: {SERVER_SOFTWARE}")
    if "connection" not in names:
        lines.extend(_connection(version, keep_alive))
    text = "".join(f"{line}\r\n" for line in lines)
    # Content-Length is kept as the function set it only by a HEAD answer: the GET's length.
    # An empty answer to HEAD gets none, as aiohttp's Response (and Kestrel) frame it.
    framed = not no_body and "content-length" not in names and (has_body or not is_head)
    return text.encode("utf-8", "surrogateescape"), framed, "date" not in names


def _connection(version: HttpVersion, keep_alive: bool) -> tuple[str, ...]:
    """The Connection header when the version's default is not what happens."""
    if version == HttpVersion10:
        return ("Connection: keep-alive",) if keep_alive else ()
    return () if keep_alive else ("Connection: close",)


def stream_head(
    message: RawRequestMessage,
    status: int,
    headers: Sequence[tuple[str, str]],
    keep_alive: bool,
    length: int | None,
) -> tuple[bytes, bool]:
    """The head of a response whose body is sent as it is made, and whether it is chunked.

    With the app's Content-Length the body goes as it is; without, chunked on HTTP/1.1 and
    to the end of the connection on HTTP/1.0 (``keep_alive`` must then be False). A
    ``check_answer`` refusal raises its ValueError.
    """
    is_head = message.method == hdrs.METH_HEAD
    fixed, _, dated = _fixed_head(
        message.version, is_head, status, tuple(headers), True, keep_alive
    )
    no_body = status in (204, 304) or status < 200
    chunked = not no_body and length is None and message.version != HttpVersion10
    if no_body:
        framing = b""
    elif length is not None:
        framing = b"Content-Length: %d\r\n" % length
    else:
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else b""
    date = _clock.date_line() if dated else b""
    return b"".join((fixed, framing, date, b"\r\n")), chunked and not is_head
