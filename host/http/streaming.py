"""Streamed function routes: the body read as it arrives, the response written as it is made.

``ConnectionSink`` writes straight to the connection (the short way). Each piece is handed
to the transport at once; while the client reads slower than the function writes, the
transport pauses the connection and ``send`` waits, so a slow reader pauses the producer
instead of growing a buffer. A whole answer (the first piece is also the last) goes the
short way's fast path instead, framed with its length and batched with the loop's pass.

``serve_stream_web`` is the same for aiohttp's way (middlewares such as CORS, the request
queue or a body limit, and ``Expect: 100-continue``): the invocation runs until it has given
its head, which becomes an aiohttp response the middlewares can still label, and the body
is then pumped into it piece by piece.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from multidict import CIMultiDict

from funchost.bindings.http.stream import BodyRefused, StreamHandler
from funchost.host.http.connection import HttpConnection
from funchost.host.http.framing import HostAnswer, cannot_carry, check_answer, stream_head


class BodyReader:
    """A request's payload piece by piece, refused once past ``limit`` bytes (413)."""

    def __init__(self, payload: StreamReader, limit: int) -> None:
        self._payload = payload
        self._limit = limit
        self._size = 0

    async def read(self) -> bytes:
        """The next piece as it arrived; b"" at the end."""
        try:
            chunk = await self._payload.readany()
        except HttpProcessingError as exc:  # malformed, cut short (400) or too slow (408)
            raise BodyRefused(exc.code, exc.message) from None
        self._size += len(chunk)
        if self._size > self._limit:
            raise BodyRefused(413, too_large_text(self._limit, self._size))
        return chunk

    async def discard(self) -> None:
        """Read the rest of the body and drop it (still refused past the limit)."""
        while not self._payload.is_eof():
            await self.read()


def too_large_text(limit: int, size: int) -> str:
    """The words of aiohttp's 413 when a body passes client_max_size."""
    return f"Maximum request body size {limit} exceeded, actual body size {size}"


def declared_too_large(message: RawRequestMessage, limit: int) -> str | None:
    """The 413's text when the request's Content-Length is already past ``limit``."""
    declared = message.headers.get(hdrs.CONTENT_LENGTH, "")
    if declared.isdigit() and int(declared) > limit:
        return too_large_text(limit, int(declared))
    return None


class _Head:
    """What every sink records: the status, headers and the app's Content-Length."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.length: int | None = None
        self.started = False
        self.committed = False
        self.finished = False

    def start(self, status: int, headers: Sequence[tuple[str, str]], length: int | None) -> None:
        """Record the head; it goes out with the first piece of the body."""
        self.status, self.headers, self.length = status, list(headers), length
        self.started = True

    def whole(self, message: RawRequestMessage, body: bytes) -> HostAnswer:
        """The head and ``body`` as one answer (a HEAD keeps the app's Content-Length)."""
        headers = self.headers
        if message.method == hdrs.METH_HEAD and not body and self.length is not None:
            headers = [*headers, ("Content-Length", str(self.length))]
        return HostAnswer(self.status, headers, body)


# A chunk smaller than this is framed by copying it into one buffer.
_COPY_LIMIT = 4096


class ConnectionSink(_Head):
    """A streamed response written on the short way, straight to the connection."""

    def __init__(
        self, connection: HttpConnection, message: RawRequestMessage, keep_alive: bool
    ) -> None:
        super().__init__()
        self._connection = connection
        self._message = message
        self.keep_alive = keep_alive
        self._chunked = False
        self._body_allowed = True
        self._sent = 0

    @property
    def disconnected(self) -> bool:
        """Whether the client has gone."""
        return self._connection.lost

    async def wait_disconnected(self) -> None:
        """Return once the client has gone."""
        await self._connection.wait_lost()

    def abort(self) -> None:
        """Close without the response's end: the client sees it cut short."""
        self.keep_alive = False
        self._connection.close()

    async def send(self, chunk: bytes, more: bool) -> None:
        """Write a piece (the head before the first); wait while the client is slow."""
        connection = self._connection
        if more and self._chunked and chunk:  # most pieces of a stream: the shortest way
            await self._piece(chunk)
            return
        if connection.lost:
            raise ConnectionResetError("the client has gone")
        if not self.committed:
            if not more:  # the whole answer at once: the fast path, framed with its length
                connection.write(self._message, self.whole(self._message, chunk), self.keep_alive)
                self.committed = self.finished = True
                return
            self._write_head()
        if chunk and self._body_allowed:
            self._write_piece(chunk)
        if not more:
            self._end()
        if connection.writing_paused:
            await connection.wait_writable()

    async def _piece(self, chunk: bytes) -> None:
        """One chunk of a chunked body, straight to the transport."""
        connection = self._connection
        transport = connection.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client has gone")
        if len(chunk) < _COPY_LIMIT:  # one buffer: a copy costs less than three writes
            transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
        if connection.writing_paused:
            await connection.wait_writable()

    def _write_head(self) -> None:
        if self.length is None and self._message.version.minor == 0:
            self.keep_alive = False  # HTTP/1.0 without a length: the body ends with the connection
        head, self._chunked = stream_head(
            self._message, self.status, self.headers, self.keep_alive, self.length
        )
        no_body = self.status in (204, 304) or self.status < 200
        self._body_allowed = self._message.method != hdrs.METH_HEAD and not no_body
        self.committed = True
        self._connection.write_now(head)

    def _write_piece(self, chunk: bytes) -> None:
        self._sent += len(chunk)
        if self.length is not None and self._sent > self.length:
            self.abort()  # more than the app's Content-Length: the framing would lie
            raise ConnectionResetError("the body is longer than its Content-Length")
        if self._chunked:
            self._connection.write_now(b"%x\r\n" % len(chunk), chunk, b"\r\n")
        else:
            self._connection.write_now(chunk)

    def _end(self) -> None:
        self.finished = True
        if self._chunked:
            self._connection.write_now(b"0\r\n\r\n")
        elif self._body_allowed and self.length is not None and self._sent != self.length:
            self.keep_alive = False  # shorter than announced: only closing ends it


async def serve_stream(
    connection: HttpConnection,
    message: RawRequestMessage,
    payload: StreamReader,
    handler: StreamHandler,
    params: dict[str, str],
    limit: int,
) -> bool:
    """One streamed request on the short way; whether the connection may carry another."""
    keep_alive = not message.should_close
    refused = declared_too_large(message, limit)
    if refused is not None:
        connection.write(message, HostAnswer(413, (_TEXT_PLAIN,), refused.encode()), keep_alive)
        return keep_alive  # the unread body closes the connection
    sink = ConnectionSink(connection, message, keep_alive)
    body = BodyReader(payload, limit)
    await handler(message, body, params, sink)
    if not (sink.keep_alive and sink.finished):
        return False
    # The app answered without reading the whole body: read the rest, so the client can
    # finish sending and read its answer (closing on unread bytes resets the connection).
    if payload.is_eof():
        return True
    with contextlib.suppress(BodyRefused, ConnectionError, TimeoutError):
        await asyncio.wait_for(body.discard(), _DISCARD_TIMEOUT)
    return payload.is_eof()


_TEXT_PLAIN = ("Content-Type", "text/plain; charset=utf-8")
# How long an unread rest of a body may take to arrive after the answer; past it the
# connection closes (with the body limit, it bounds what an answered request costs).
_DISCARD_TIMEOUT = 10.0
_DONE = object()


class WebSink(_Head):
    """A streamed response on aiohttp's way: the head first, then pieces through a queue."""

    def __init__(self, request: web.BaseRequest) -> None:
        super().__init__()
        self._connection: HttpConnection = request.protocol  # type: ignore[assignment]
        self.ready: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        # One piece in hand at a time: the invocation waits while the client reads slowly.
        self.pieces: asyncio.Queue[bytes | object] = asyncio.Queue(maxsize=1)
        self.pump_gone = False

    @property
    def disconnected(self) -> bool:
        """Whether the client has gone (or the response could not be written)."""
        return self.pump_gone or self._connection.lost

    async def wait_disconnected(self) -> None:
        """Return once the client has gone."""
        await self._connection.wait_lost()

    def abort(self) -> None:
        """Close without the response's end."""
        self.pump_gone = True
        self._connection.close()

    async def send(self, chunk: bytes, more: bool) -> None:
        """Hand a piece to the response (the head resolves ``ready`` first)."""
        if self.disconnected:
            raise ConnectionResetError("the client has gone")
        if not self.committed:
            self.committed = True
            self.ready.set_result(None if more else chunk)
            if not more:
                self.finished = True
                return
        await self.pieces.put(chunk)
        if not more:
            self.finished = True
            await self.pieces.put(_DONE)


class _PumpedResponse(web.StreamResponse):
    """An aiohttp response whose body the invocation sends while it runs."""

    def __init__(self, sink: WebSink, task: asyncio.Task[None], head: bool) -> None:
        super().__init__(status=sink.status, headers=CIMultiDict(sink.headers))
        if sink.length is not None:
            self.content_length = sink.length
        elif not head:
            self.enable_chunked_encoding()
        self._sink = sink
        self._task = task

    async def write_eof(self, data: bytes = b"") -> None:
        """Write the pieces as they come, then the end; the invocation is then done."""
        try:
            while (piece := await self._sink.pieces.get()) is not _DONE:
                assert isinstance(piece, bytes)
                await self.write(piece)
            await super().write_eof(data)
        except asyncio.CancelledError:
            self._task.cancel()  # the shutdown drain gave up on this request: on its invocation too
            raise
        finally:
            self._sink.pump_gone = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self._sink.pieces.get_nowait()  # frees an invocation waiting to put one
        await self._task


async def serve_stream_web(
    request: web.BaseRequest, handler: StreamHandler, params: dict[str, str], name: str
) -> web.StreamResponse:
    """One streamed request on aiohttp's way, under its middlewares."""
    limit = request.client_max_size
    refused = declared_too_large(request.message, limit)
    if refused is not None:
        return web.Response(status=413, text=refused)
    sink = WebSink(request)
    body = BodyReader(request.content, limit)
    task: asyncio.Task[None] = asyncio.ensure_future(handler(request.message, body, params, sink))
    try:
        await asyncio.wait((task, sink.ready), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    if not sink.ready.done():  # the trigger always answers: only a bug of ours gets here
        await task
        return web.Response(status=500)
    try:
        check_answer(sink.status, sink.headers)  # before aiohttp's prepare() meets it
    except ValueError as exc:
        task.cancel()  # a pumped body waits for a response that will never be written
        return web.Response(status=cannot_carry(name, exc).status)
    whole = sink.ready.result()
    if whole is None:
        return _PumpedResponse(sink, task, request.method == hdrs.METH_HEAD)
    await task
    answer = sink.whole(request.message, whole)
    headers = CIMultiDict(answer.headers)
    return web.Response(status=answer.status, body=answer.body or None, headers=headers)
