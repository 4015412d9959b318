"""The embedded HTTP server: function answers, webhooks and the admin endpoints.

Connections are funchost's own (host/http/connection.py) over aiohttp's parser. A request for a
function route, when no middleware is configured, takes the short way: its body is read, the
function answers, and the answer is written as bytes. Everything else (the admin API,
webhooks, system routes, ``Expect: 100-continue``, and every request when a middleware such
as CORS or the request queue is on) goes through aiohttp's ``BaseRequest`` and ``Response``
on the same connection, with the middlewares chained once at start. No ``web.Application``:
both ways ask host/http/resolver.py where a request goes, and framing.py's ``check_answer``
whether a function's answer can go out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, cast

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_writer import StreamWriter
from aiohttp.streams import EmptyStreamReader, StreamReader
from multidict import CIMultiDict

from funchost.bindings.base import HttpHandler
from funchost.host.http import admin, origin
from funchost.host.http.connection import HttpConnection, WriteBatch
from funchost.host.http.framing import (
    TEXT_PLAIN,
    Answer,
    HostAnswer,
    cannot_carry,
    check_answer,
)
from funchost.host.http.keys import ANONYMOUS, Keys
from funchost.host.http.rates import DataRates
from funchost.host.http.resolver import Route, RouteResolver, Target
from funchost.host.http.streaming import (
    declared_too_large,
    serve_stream,
    serve_stream_web,
    too_large_text,
)
from funchost.host.http.target import BadAuthority, checked_target

if TYPE_CHECKING:
    pass

log = logging.getLogger("funchost.server")

WebHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
# A middleware gets the request and the rest of the chain, as aiohttp's do.
Middleware = Callable[[web.BaseRequest, WebHandler], Awaitable[web.StreamResponse]]


class Closable(Protocol):
    """What serves connections accepted elsewhere (a supervisor's workers: host/supervisor)."""

    def close(self) -> None:
        """Stop taking new connections."""
        ...


Handed = Callable[[Callable[[], asyncio.Protocol]], Closable]
MAX_BODY_BYTES = 100 * 1024 * 1024
# How often slow clients are looked for (Kestrel's heartbeat: once a second).
_HEARTBEAT = 1.0
# After the drain, idle keep-alive connections get this long to close.
_CLOSE_TIMEOUT = 2.0


class HttpServer:
    """Serves functions, webhooks and the admin API; the router the bindings register on."""

    def __init__(
        self,
        route_prefix: str,
        backend: admin.AdminBackend,
        home: HttpHandler | None = None,
        ui: HttpHandler | None = None,
    ) -> None:
        self._backend = backend
        # What the bindings register their routes, webhooks and system routes on; "/" is
        # ``home`` when no function claims it; /admin/ui/ is ``ui`` (None: --no-ui, a 404).
        self.routes = RouteResolver(route_prefix, self._admin_api, home, ui)
        self._address = ""  # bound by start(): a Host naming it is this machine's
        self._server: asyncio.AbstractServer | Closable | None = None
        self._connections: set[HttpConnection] = set()
        # aiohttp's way: the middlewares around _route_web_request, chained by start().
        self._middleware_chain: WebHandler = self._route_web_request
        self.keys: Keys | None = None  # None: auth not enforced (local, loopback)
        self.rates = DataRates()  # how slow a client may send its head or body, or read
        self._heartbeat: asyncio.TimerHandle | None = None
        self.middlewares: list[Middleware] = []

    # --- serving -----------------------------------------------------------------------

    async def start(self, host: str, port: int, handed: Handed | None = None) -> int:
        """Bind and start accepting; returns the port it listens on once it does (0 picks one).

        ``handed``: no bind; connections a supervisor accepted on ``port`` are served instead.
        """
        handler: WebHandler = self._route_web_request
        for middleware in reversed(self.middlewares):  # the first one listed runs first
            handler = _chained(middleware, handler)
        self._middleware_chain = handler
        self._address = host
        loop = asyncio.get_running_loop()
        batch = WriteBatch(loop)

        def connection() -> HttpConnection:
            return HttpConnection(loop, self._serve, self._connections, batch, self.rates)

        self._heartbeat = loop.call_later(_HEARTBEAT, self._beat)
        if handed is not None:
            self._server = handed(connection)
            return port
        server = await loop.create_server(connection, host, port, backlog=128)
        self._server = server
        return int(server.sockets[0].getsockname()[1])

    def _beat(self) -> None:
        # One timer for every connection, as Kestrel's heartbeat, not one per request;
        # re-armed first, so no connection can stop it for the others.
        self._heartbeat = asyncio.get_running_loop().call_later(_HEARTBEAT, self._beat)
        for connection in list(self._connections):
            connection.heartbeat(_HEARTBEAT)

    async def stop(self, grace: float) -> None:
        """Stop accepting, wait up to ``grace`` s for requests in flight, cancel the rest."""
        if self._server is None:
            return
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._server.close()
        for connection in list(self._connections):
            connection.shutdown()  # idle ones close now, busy ones after their answer
        await self._drain(grace)
        for connection in list(self._connections):
            connection.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_TIMEOUT
        while self._connections and loop.time() < deadline:  # let connection_lost run
            await asyncio.sleep(0.01)
        self._server = None

    async def _drain(self, grace: float) -> None:
        # Every request being answered, including one still waiting in the request queue
        # (maxConcurrentRequests) or for its body: it was accepted, so it is answered.
        busy = {c.task: c.answering_function for c in self._connections if c.task is not None}
        if not busy:
            return
        log.info("Waiting up to %g s for %d request(s) in flight.", grace, len(busy))
        _, pending = await asyncio.wait(busy, timeout=grace)
        if not pending:
            return
        names = sorted({f"Functions.{busy[t]}" for t in pending if busy[t]})
        log.warning(
            "Cancelling %d request(s) still running after %g s: %s",
            len(pending),
            grace,
            ", ".join(names) or "none in a function yet",
        )
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT)

    async def _serve(
        self, connection: HttpConnection, message: RawRequestMessage, payload: StreamReader
    ) -> bool:
        """Answer one request; whether the connection may carry another."""
        try:
            message = checked_target(message)
        except BadAuthority as refused:
            connection.write_error(400, str(refused))
            return False
        route = None if self.middlewares else self._short_way_route(message)
        if route is None:
            return await self._serve_web(connection, message, payload)
        target, params = route
        keep_alive = not message.should_close
        if self.keys is not None and not self._key_allowed(target, message):
            answer: Answer = _UNAUTHORIZED
        elif target.stream is not None:
            return await self._serve_stream(connection, message, payload, target, params)
        else:
            body = b""
            if type(payload) is not EmptyStreamReader:  # most GETs have no body to read
                try:
                    body = await _read_body(message, payload, MAX_BODY_BYTES)
                except _BodyRefused as refused:
                    connection.write(message, refused.answer, keep_alive)
                    return keep_alive  # the unread rest of the body closes the connection
                except ConnectionError:  # the client left while sending it: nobody to answer
                    return False
            assert target.function is not None  # _short_way_route picks only function routes
            connection.answering_function = target.function_name  # named if the drain cancels it
            try:
                answer = await target.function(message, body, params)
            finally:
                connection.answering_function = None
        try:
            connection.write(message, answer, keep_alive)  # check_answer() runs in here
        except ValueError as exc:
            connection.write(message, cannot_carry(target.function_name, exc), keep_alive)
        return keep_alive

    async def _serve_stream(
        self,
        connection: HttpConnection,
        message: RawRequestMessage,
        payload: StreamReader,
        target: Target,
        params: dict[str, str],
    ) -> bool:
        """A streamed function route on the short way: the body is not read first."""
        assert target.stream is not None
        connection.answering_function = target.function_name  # named if the drain cancels it
        try:
            return await serve_stream(
                connection, message, payload, target.stream, params, MAX_BODY_BYTES
            )
        finally:
            connection.answering_function = None

    def _short_way_route(self, message: RawRequestMessage) -> Route | None:
        """The function route a request takes the short way to; None: aiohttp's way."""
        if hdrs.EXPECT in message.headers or message.upgrade:
            return None  # the 100 and the upgrade refusal are aiohttp's to write
        route = self.routes.resolve(message.method, message.url)
        if route is None or (route[0].function is None and route[0].stream is None):
            return None
        return route

    async def _serve_web(
        self, connection: HttpConnection, message: RawRequestMessage, payload: StreamReader
    ) -> bool:
        """Answer through aiohttp's request and response, with the middlewares."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        connection.flush()  # aiohttp writes to the transport: earlier answers go first
        writer = StreamWriter(connection, loop)
        request = web.BaseRequest(
            message,
            payload,
            connection,  # type: ignore[arg-type]  # has what BaseRequest reads off its protocol
            writer,
            task,
            loop,
            client_max_size=MAX_BODY_BYTES,
        )
        try:
            response = await self._middleware_chain(request)
        except web.HTTPException as exc:
            response = exc
        except ConnectionError:
            return False
        except Exception:
            log.exception("Error answering %s %s", message.method, message.path)
            response = web.Response(status=500)
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            connection.client_left()
            return False
        return bool(response.keep_alive)

    async def _route_web_request(self, request: web.BaseRequest) -> web.StreamResponse:
        """The end of aiohttp's way, inside the middlewares: resolve, check the key, answer."""
        route = self.routes.resolve(request.method, request.rel_url)
        if route is None:
            return web.Response(status=404)
        target, params = route
        if not self._key_allowed(target, request.message):
            return web.Response(status=401)
        if target.local_only and self.keys is None:
            refused = origin.refusal(request.method, request.headers, self._address)
            if refused is not None:
                return web.Response(status=403, text=refused)
        if target.continues and hdrs.EXPECT in request.headers:
            # The limit before the 100, whichever it is: a body nobody will take is not sent.
            refused = declared_too_large(request.message, request.client_max_size)
            if refused is not None:
                return web.Response(status=413, text=refused)
            await _continue(request)
        return await self._run_target(target, request, params)

    def _key_allowed(self, target: Target, message: RawRequestMessage) -> bool:
        if self.keys is None or target.auth_level == ANONYMOUS:
            return True
        key = message.headers.get("x-functions-key") or message.url.query.get("code")
        return self.keys.allows(target.auth_level, key, target.function_name, target.system_key)

    async def _run_target(
        self, target: Target, request: web.BaseRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        connection = cast(HttpConnection, request.protocol)  # ours: see _serve_web
        connection.answering_function = target.function_name  # named if the drain cancels it
        try:
            if target.handler is not None:
                return await target.handler(request, params)
            if target.stream is not None:
                return await serve_stream_web(request, target.stream, params, target.function_name)
            return await _answer_function(target, request, params)
        finally:
            connection.answering_function = None

    async def _admin_api(
        self, request: web.BaseRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        """The admin API's target: the resolver gives it the lowered path as "path"."""
        return await admin.handle(request, params["path"], self._backend)


def _chained(middleware: Middleware, inner: WebHandler) -> WebHandler:
    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        return await middleware(request, inner)

    return handle


async def _continue(request: web.BaseRequest) -> None:
    """Answer ``Expect: 100-continue`` once the request is known to be served.

    As Kestrel, only a request that will read its body gets the 100: a 401, 404 or 413
    goes out alone, and the client never sends a body nobody wants.
    """
    expect = request.headers.get(hdrs.EXPECT, "")
    if request.version != HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the 100 is not part of the response


async def _answer_function(
    target: Target, request: web.BaseRequest, params: dict[str, str]
) -> web.StreamResponse:
    """A function route the aiohttp way (with middlewares, or after a 100-continue)."""
    assert target.function is not None  # a target without a handler is a function route
    try:
        # A bodiless request (most GETs) skips aiohttp's read loop.
        body = await request.read() if request.body_exists else b""
    except ConnectionError:
        # The client left before sending its whole body: nothing to run, nobody to answer.
        log.debug("client disconnected while sending the body of %s", request.path)
        return web.Response(status=400)
    except HttpProcessingError as exc:  # malformed, cut short (400) or too slow (408)
        refused = _refused_body(exc)
        headers = CIMultiDict(refused.headers)
        return web.Response(status=refused.status, body=refused.body, headers=headers)
    answer = await target.function(request.message, body, params)
    try:
        check_answer(answer.status, answer.headers)  # the short way's encode() checks the same
    except ValueError as exc:
        answer = cannot_carry(target.function_name, exc)
    headers = CIMultiDict(answer.headers)
    return web.Response(status=answer.status, body=answer.body or None, headers=headers)


_UNAUTHORIZED = HostAnswer(401)


class _BodyRefused(Exception):
    """The body cannot be taken; ``answer`` says why."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


async def _read_body(message: RawRequestMessage, payload: StreamReader, limit: int) -> bytes:
    """The whole body; _BodyRefused past ``limit`` bytes (413) or when malformed (400)."""
    declared = declared_too_large(message, limit)
    if declared is not None:  # refused unread, at once, as Kestrel does
        raise _BodyRefused(_too_large(declared))
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await payload.readany():
            size += len(chunk)
            if size > limit:
                raise _BodyRefused(_too_large(too_large_text(limit, size)))  # the rest stays unread
            chunks.append(chunk)
    except HttpProcessingError as exc:  # malformed, cut short (400) or too slow (408)
        raise _BodyRefused(_refused_body(exc)) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _refused_body(problem: HttpProcessingError) -> Answer:
    """The client's error in sending its body, answered as aiohttp words it."""
    return HostAnswer(problem.code, (TEXT_PLAIN,), problem.message.encode())


def _too_large(text: str) -> Answer:
    """The 413 aiohttp answers when a body passes client_max_size, in the same words."""
    return HostAnswer(413, (TEXT_PLAIN,), text.encode())
