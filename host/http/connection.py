"""One HTTP/1.1 connection: aiohttp's request parser in, answers out, in request order.

aiohttp's own connection handler (``web_protocol.RequestHandler``) costs more CPU per request
than a function's answer before any handler runs (bench/README.md): a waiter future, a task,
a ``StreamWriter``, a ``BaseRequest``, and ``Response.prepare`` building the head through a
multidict. A function's answer needs none of that, so this protocol keeps aiohttp's C
parser (the same message, URL and payload objects, the same limits and errors) and hands
each parsed request to the server, which either writes a function's answer as bytes
(``write``) or builds aiohttp's request and response for everything else (admin API,
webhooks, middlewares), using this object as their protocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeGuard

from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpVersion10, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_exceptions import HTTPBadRequest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from funchost.host.http.framing import TEXT_PLAIN, Answer, HostAnswer, encode
from funchost.host.http.rates import DataRates, RateClock

log = logging.getLogger("funchost.server")

# Kestrel closes a keep-alive connection idle for 130 s (KeepAliveTimeout).
KEEPALIVE_TIMEOUT = 130.0
# aiohttp's defaults: request line and each header up to 8,190 bytes, 128 headers.
_MAX_LINE = 8190
_MAX_HEADERS = 128
_READ_LIMIT = 2**16  # payload buffer high-water mark (aiohttp's default read_bufsize)
_DEFAULT_RATES = DataRates()
_HEAD_TOO_SLOW = "Reading the request headers timed out."
_BODY_TOO_SLOW = "Reading the request body timed out due to data arriving too slowly."
# Pipelined requests parsed but not yet answered; past this, reading pauses.
_MAX_PENDING = 32


class BadRequest(NamedTuple):
    """A request the parser refused; answered with 400 and the connection closed."""

    error: HttpProcessingError


Serve = Callable[["HttpConnection", RawRequestMessage, StreamReader], Awaitable[bool]]
Message = RawRequestMessage | BadRequest
# Answers up to this size wait for the end of the loop's pass (WriteBatch); a bigger one is
# handed to the transport at once, so its flow control can pause the connection.
_BATCH_LIMIT = 2**16


class WriteBatch:
    """The connections with answers written during one pass of the event loop.

    They are sent together when the pass ends instead of one send() per answer as each is
    ready. On loopback, a send() does the receiving side's work too, and waking a client
    that went back to sleep between two answers costs more than the answer (bench/README.md
    has the figures). An answer
    waits for the rest of the pass, whose requests arrived with it; an ``async def`` that
    blocks the loop in that pass holds it back too, as it holds back everything else.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiting: list[HttpConnection] = []

    def add(self, connection: HttpConnection) -> None:
        """Send what ``connection`` holds when this pass of the loop ends."""
        if not self._waiting:
            self._loop.call_soon(self._send)
        self._waiting.append(connection)

    def _send(self) -> None:
        waiting, self._waiting = self._waiting, []
        for connection in waiting:
            connection.flush()


class HttpConnection(BaseProtocol):
    """Parses requests and answers them one at a time, as HTTP/1.1 requires.

    ``serve`` answers one request and returns whether the connection may carry another.
    Besides what ``BaseProtocol`` has, the attributes aiohttp's ``BaseRequest`` reads off
    its protocol are here, so the server can build one on this connection.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        serve: Serve,
        open_connections: set[HttpConnection],
        batch: WriteBatch,
        rates: DataRates = _DEFAULT_RATES,
    ) -> None:
        super().__init__(loop)
        self._rates = rates
        self._body_clock = RateClock()  # the body being read: is the client sending it?
        self._answer_clock = RateClock()  # the answer being sent: is the client reading it?
        self._head_since: float | None = None  # when the head being received began
        self._eof = False  # the client half-closed: answer what it sent, then close
        self._timed_out = False
        self._serve = serve
        self._open_connections = open_connections  # the server's, for its shutdown
        self._batch = batch
        self._unsent: list[bytes] = []  # answers written but not yet handed to the transport
        self._unsent_size = 0
        self._request_parser: Any = HttpRequestParser(
            self,
            loop,
            _READ_LIMIT,
            max_line_size=_MAX_LINE,
            max_field_size=_MAX_LINE,
            max_headers=_MAX_HEADERS,
            # The Functions host hands a function the body as sent: a gzip body stays gzip.
            auto_decompress=False,
        )
        self._pending: deque[tuple[Message, StreamReader]] = deque()
        self._payload: StreamReader | None = None  # the body of the request being answered
        self._task: asyncio.Task[None] | None = None
        # The function answering now: the shutdown drain names it if it has to cancel it.
        self.answering_function: str | None = None
        self._closing = False
        self._lost: asyncio.Future[None] | None = None  # made when a streamed response waits on it
        self._draining = False  # the server is stopping: no request after the current one
        self._idle_since = loop.time()
        self._idle_timer: asyncio.TimerHandle | None = None
        self.ssl_context: Any = None
        self.peername: Any = None
        self.sockname: Any = None
        self.max_field_size = _MAX_LINE  # read by BaseRequest for multipart parts
        self.max_headers = _MAX_HEADERS

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the peer and start the idle clock (a client may never send)."""
        super().connection_made(transport)
        self.peername = transport.get_extra_info("peername")
        self.sockname = transport.get_extra_info("sockname")
        self._open_connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Fail the body being read; the answer being computed is dropped when written."""
        super().connection_lost(exc)
        self._open_connections.discard(self)
        self._closing = True
        self.flush()  # the transport is gone: drops what was not sent
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        if self._payload is not None and not self._payload.is_eof():
            self._payload.set_exception(ConnectionResetError("Connection lost"))
        self._pending.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        """Parse what arrived; queue each complete request head for the serving task."""
        if self._closing:
            return
        self._body_clock.moved += len(data)
        try:
            messages, _, _ = self._request_parser.feed_data(data)
        except HttpProcessingError as error:
            # Nothing after a malformed head can be trusted: answer it, then close.
            messages = [(BadRequest(error), EMPTY_PAYLOAD)]
            self._closing = True
        if not messages:
            if self._head_since is None and self._task is None:
                self._head_since = self._loop.time()  # a head began: it has headers_timeout
            return
        self._head_since = None
        self._pending.extend(messages)
        if len(self._pending) >= _MAX_PENDING:
            self._pause_transport_reading()
        if self._task is None:
            # Not an eager task (3.12+): answering inside data_received cost more per request
            # than a task started by the loop (measured on 3.13 with uvloop; bench/README.md).
            self._task = self._loop.create_task(self._answer_pending())

    def eof_received(self) -> bool:
        """The client finished sending; a body cut short fails its reader.

        A client may half-close once its request is sent (as Kestrel allows): the answers
        still owed go out before the connection closes.
        """
        self._eof = True
        self.flush()
        try:
            self._request_parser.feed_eof()
        except HttpProcessingError as error:
            if self._payload is not None:
                self._payload.set_exception(error)
        return self._task is not None  # False: nothing owed, close now

    def pause_reading(self) -> None:
        """A body's buffer is full (aiohttp's StreamReader asks): stop reading the socket."""
        self._pause_transport_reading()

    def resume_reading(self, resume_parser: bool = True) -> None:
        """The body's reader drained: read the socket again."""
        if len(self._pending) < _MAX_PENDING:
            self._resume_transport_reading()

    # --- serving ------------------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task answering this connection's requests, while there are any."""
        return self._task

    async def _answer_pending(self) -> None:
        try:
            while self._pending and not self._closed():
                message, payload = self._pending.popleft()
                if len(self._pending) == _MAX_PENDING // 4:
                    self._resume_transport_reading()
                if isinstance(message, BadRequest):
                    self.write_error(HTTPBadRequest.status_code, message.error.message)
                    self.close()
                    break
                self._payload = payload
                self._body_clock.reset()
                keep_alive = await self._serve(self, message, payload)
                self._payload = None
                if self._paused and self.transport is not None:
                    await self._drain_helper()  # the client reads slower than we write
                # A body nobody read is still on the wire ahead of the next request: close.
                if not keep_alive or not payload.is_eof() or self._draining:
                    self.close()
        except ConnectionError:  # the client left (or was too slow) before its answer was sent
            self.client_left()
        except Exception:  # a bug of ours: the connection cannot be trusted any more
            log.exception("Error serving a connection from %s", self.peername)
            self.close()
        finally:
            self._task = None
            self._idle_since = self._loop.time()
            if self._eof:  # half-closed: everything it sent is answered
                self.close()

    def client_left(self) -> None:
        """One line for a client that went away before reading its whole answer."""
        if not self._timed_out:
            log.info("The client at %s left before its answer was sent.", self.peername)
        self.close()

    def _closed(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def write(self, message: RawRequestMessage, answer: Answer, keep_alive: bool) -> None:
        """Write an answer to ``message``; nothing when the client has gone.

        Not a coroutine: a small answer goes out with the loop's pass (``WriteBatch``), a
        big one to the transport at once, which buffers what the socket does not take; the
        serving loop waits for that to drain before the next request (as aiohttp's writer
        does).
        """
        if self._closed():
            return
        head, body = encode(message, answer, keep_alive)
        if not self._unsent:
            self._batch.add(self)
        self._unsent.append(head)
        self._unsent_size += len(head)
        if body:
            self._unsent.append(body)
            self._unsent_size += len(body)
        if self._unsent_size > _BATCH_LIMIT:
            self.flush()

    def flush(self) -> None:
        """Hand the answers written so far to the transport (before anything else writes).

        Without an open transport (the client has gone) they are dropped.
        """
        if not self._unsent:
            return
        unsent, self._unsent, self._unsent_size = self._unsent, [], 0
        if self.transport is not None and not self.transport.is_closing():
            self.transport.writelines(unsent)

    # --- streamed responses (host/http/streaming.py) --------------------------------------

    @property
    def lost(self) -> bool:
        """Whether the client has gone (or the connection was closed on our side)."""
        return self._closed()

    async def wait_lost(self) -> None:
        """Return once the connection is gone."""
        if self.transport is None:
            return
        if self._lost is None:
            self._lost = self._loop.create_future()
        await asyncio.shield(self._lost)  # several waiters share it; one cancelled leaves it

    def write_now(self, *parts: bytes) -> None:
        """Hand a streamed response's bytes to the transport at once, after earlier answers."""
        self.flush()
        if not self._closed():
            assert self.transport is not None
            self.transport.writelines(parts)

    async def wait_writable(self) -> None:
        """Wait while the client reads slower than we write (the transport paused us)."""
        if self._paused and self.transport is not None:
            await self._drain_helper()

    def write_error(self, status: int, text: str) -> None:
        """A plain-text error answer after which the connection closes."""
        answer = HostAnswer(status, (TEXT_PLAIN,), text.encode())
        self.write(_ERROR_MESSAGE, answer, keep_alive=False)

    def close(self) -> None:
        """Close after what is written has been sent."""
        self._closing = True
        self.flush()
        if self.transport is not None:
            self.transport.close()

    def shutdown(self) -> None:
        """At shutdown: close now if idle, else once the request being answered is done."""
        self._draining = True
        if self._task is None:
            self.close()

    # --- slow clients (host/http/rates.py) ----------------------------------------------------

    def heartbeat(self, seconds: float) -> None:
        """Once a second (the server's heartbeat): time a slow head, body or reader."""
        if self._closed():
            return
        if self._head_since is not None and self._task is None:
            self._time_head()
        payload = self._payload
        # Timed only while a reader waits for the body, as Kestrel times it from the app's
        # read: not while a request waits in the queue, nor before the 100 Continue.
        if self._reader_waits(payload) and payload.exception() is None:
            self._time_body(payload, seconds)
        if self._paused:
            self._time_answer(seconds)
        else:
            self._answer_clock.reset()  # the client reads as fast as we write

    @staticmethod
    def _reader_waits(payload: StreamReader | None) -> TypeGuard[StreamReader]:
        # A bodiless request's EMPTY_PAYLOAD has no waiter: nothing is ever read from it.
        return type(payload) is StreamReader and payload._waiter is not None

    def _time_head(self) -> None:
        assert self._head_since is not None
        limit = self._rates.headers_timeout
        if limit > 0 and self._loop.time() - self._head_since > limit:
            log.info("The request head from %s took over %g s; answered 408.", self.peername, limit)
            self.write_error(408, _HEAD_TOO_SLOW)
            self.close()

    def _time_body(self, payload: StreamReader, seconds: float) -> None:
        clock = self._body_clock
        clock.seconds += seconds
        if clock.too_slow(self._rates):
            # The reader answers 408 (Kestrel's words) and the unread body closes the connection.
            payload.set_exception(HttpProcessingError(code=408, message=_BODY_TOO_SLOW))
            log.info("The request body from %s arrives too slowly; answered 408.", self.peername)

    def _time_answer(self, seconds: float) -> None:
        assert self.transport is not None
        clock = self._answer_clock
        size = self.transport.get_write_buffer_size()
        if clock.seconds:
            clock.moved += max(0, clock.mark - size)
        clock.mark = size
        clock.seconds += seconds
        if clock.too_slow(self._rates):
            log.info("The client at %s reads its answer too slowly; closing.", self.peername)
            self._timed_out = True
            self.transport.abort()

    # --- keep-alive ---------------------------------------------------------------------

    def _arm_idle_timer(self) -> None:
        self._idle_timer = self._loop.call_at(
            self._idle_since + KEEPALIVE_TIMEOUT, self._check_idle
        )

    def _check_idle(self) -> None:
        # One timer per connection, re-armed from the last time it went idle, instead of a
        # timer per request.
        self._idle_timer = None
        if self._closed():
            return
        if self._task is None and self._loop.time() >= self._idle_since + KEEPALIVE_TIMEOUT:
            self.close()
            return
        if self._task is not None:
            self._idle_since = self._loop.time()
        self._arm_idle_timer()


# A refused request is answered as HTTP/1.0, as aiohttp answers its parse errors.
_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
_ERROR_MESSAGE = RawRequestMessage(
    "GET", "/", HttpVersion10, _NO_HEADERS, (), True, None, False, False, URL("/")
)
