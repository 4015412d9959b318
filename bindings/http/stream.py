"""Streamed HTTP functions: the request's body read as it arrives, the response sent as made.

A function route is served this way when the worker marks its trigger (``STREAM_PROPERTY``):
the ASGI app of an ``AsgiFunctionApp`` served directly, and functions that take the HTTP
streams extension's ``Request``. The host's server gives the route a ``RequestBody`` and a
``ResponseSink`` instead of the whole body and an answer to return; the trigger hands both to
the invocation as one native ``StreamRequest``, so the worker's invoker still runs it
(Executing/Executed lines, the context, the timeout).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp.http import RawRequestMessage

from funchost.bindings.http.cookies import header_lines

# The trigger binding property the worker sets on a function it serves streamed.
STREAM_PROPERTY = "funchost.stream"
STREAM_ASGI = "asgi"  # the ASGI app of an AsgiFunctionApp, served without the library
STREAM_WSGI = "wsgi"  # the WSGI app of a WsgiFunctionApp, likewise (a fresh environ each time)
STREAM_REQUEST = "request"  # a function taking the HTTP streams extension's Request


class BodyRefused(Exception):
    """The request body cannot be taken; ``status`` (400 or 413) and the reason in words."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestBody(Protocol):
    """The request's body as it arrives; the host's limits apply while it is read."""

    async def read(self) -> bytes:
        """The next piece, b"" at the end; BodyRefused past the limit or when malformed,
        ConnectionError when the client left while sending it."""
        ...


class ResponseSink(Protocol):
    """Where a streamed function's response goes: the connection, written as it comes."""

    @property
    def started(self) -> bool:
        """Whether the status and headers were given."""
        ...

    @property
    def committed(self) -> bool:
        """Whether anything went to the client (then a failure can only cut it short)."""
        ...

    @property
    def finished(self) -> bool:
        """Whether the response was ended."""
        ...

    @property
    def disconnected(self) -> bool:
        """Whether the client has gone."""
        ...

    def start(self, status: int, headers: Sequence[tuple[str, str]], length: int | None) -> None:
        """The status and headers (no framing ones); ``length``: the app's Content-Length."""
        ...

    async def send(self, chunk: bytes, more: bool) -> None:
        """A piece of the body; the last has ``more`` False. Waits while the client is slow.

        A whole answer (the first piece is the last) goes out framed with its length.
        ConnectionResetError once the client has gone.
        """
        ...

    async def wait_disconnected(self) -> None:
        """Return once the client has gone (a request never ends this by itself)."""
        ...

    def abort(self) -> None:
        """Cut the response short: the connection closes without its end."""
        ...


@dataclass(slots=True)
class StreamRequest:
    """What a streamed invocation gets as its trigger data: the head, the body, the sink."""

    message: RawRequestMessage
    route_params: Mapping[str, str]
    body: RequestBody
    response: ResponseSink


# A streamed function route: the request head, its body, the route values and the sink.
StreamHandler = Callable[
    [RawRequestMessage, RequestBody, dict[str, str], ResponseSink], Awaitable[None]
]

_FRAMING = frozenset({"content-length", "transfer-encoding"})


def response_headers(raw: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], int | None]:
    """An app's response headers as the library's path sends them, and its Content-Length.

    As a ``func.HttpResponse`` built by the library's middleware and written by the HTTP
    trigger: framing headers are the server's, Set-Cookie headers are rewritten as the
    worker and host rewrite them (last), and a response without Content-Type gets the
    library's default, ``text/plain`` with the Content-Encoding (or utf-8) as its charset.
    """
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    length: int | None = None
    content_type = False
    encoding = None
    for name, value in raw:
        lowered = name.lower()
        if lowered in _FRAMING:
            if lowered == "content-length" and value.strip().isdigit():
                length = int(value)
            continue
        if lowered == "set-cookie":
            cookies.append(value)
            continue
        content_type = content_type or lowered == "content-type"
        if lowered == "content-encoding":
            encoding = value  # the library reads its headers into a dict: the last one wins
        headers.append((name, value))
    if not content_type:
        headers.append(("Content-Type", f"text/plain; charset={encoding or 'utf-8'}"))
    if cookies:
        headers.extend(("Set-Cookie", line) for line in header_lines(cookies))
    return headers, length


def own_headers(raw: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], int | None]:
    """An app's response headers as it set them, bar framing, and its Content-Length."""
    headers: list[tuple[str, str]] = []
    length: int | None = None
    for name, value in raw:
        lowered = name.lower()
        if lowered == "content-length" and value.strip().isdigit():
            length = int(value)
        elif lowered not in _FRAMING:
            headers.append((name, value))
    return headers, length
