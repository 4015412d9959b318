"""The embedded HTTP server: the route table, function answers and the admin endpoints.

Connections are funchost's own (host/http/connection.py) over aiohttp's parser. A request for a
function route, when no middleware is configured, takes the short way: its body is read, the
function answers, and the answer is written as bytes. Everything else (the admin API,
webhooks, system routes, ``Expect: 100-continue``, and every request when a middleware such
as CORS or the request queue is on) goes through aiohttp's ``BaseRequest`` and ``Response``
on the same connection, with the middlewares chained once at start. No ``web.Application``:
the route table below does the routing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_writer import StreamWriter
from aiohttp.streams import EmptyStreamReader, StreamReader
from multidict import CIMultiDict

from funchost.bindings.base import HttpHandler
from funchost.host.http import admin
from funchost.host.http.connection import Connection, WriteBatch
from funchost.host.http.framing import TEXT_PLAIN, Answer, HostAnswer, check_answer
from funchost.host.http.keys import ADMIN, ANONYMOUS, AUTH_LEVELS, SYSTEM, Keys
from funchost.host.http.routing import RouteError, RouteTable, compile_route

if TYPE_CHECKING:
    from funchost.bindings.http.router import FunctionRouter

log = logging.getLogger("funchost.server")

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
# A function route: the request as aiohttp parsed it, its whole body and the route values.
# The HTTP binding's AnswerHandler is one (it answers an HttpAnswer, which is an Answer).
FunctionAnswer = Callable[[RawRequestMessage, bytes, dict[str, str]], Awaitable[Answer]]
# A middleware gets the request and the rest of the chain, as aiohttp's do.
Middleware = Callable[[web.BaseRequest, RequestHandler], Awaitable[web.StreamResponse]]

MAX_BODY_BYTES = 100 * 1024 * 1024
# After the drain, idle keep-alive connections get this long to close.
_CLOSE_TIMEOUT = 2.0


_ENCODED_SLASH = re.compile("(%2[fF])")


def kestrel_path(raw_path: str) -> str:
    """The path percent-decoded except ``%2F``, as Kestrel decodes it for routing.

    An encoded slash stays encoded, so it is data inside one segment (and one route value)
    rather than a separator, as in the Functions host.
    """
    if "%" not in raw_path:
        return raw_path  # the common case: nothing to decode
    parts = _ENCODED_SLASH.split(raw_path)
    return "".join(part if index % 2 else unquote(part) for index, part in enumerate(parts))


@dataclass(frozen=True)
class _Target:
    """What a matched route leads to."""

    handler: HttpHandler
    function_name: str
    auth_level: str
    system_key: str = ""  # for webhooks: the one system key that opens them
    answer: FunctionAnswer | None = None  # function routes: the short way


class HttpServer:
    """Routes requests to functions, webhooks and the admin API; the bindings' HttpRouter."""

    def __init__(self, route_prefix: str, backend: admin.AdminBackend) -> None:
        self._prefix = route_prefix.strip("/")
        self._prefix_lower = self._prefix.lower()
        self._backend = backend
        self._table: RouteTable[_Target] = RouteTable()
        self._system: dict[str, tuple[frozenset[str] | None, _Target]] = {}
        self._webhooks: dict[tuple[str, str], _Target] = {}
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        self._handler: RequestHandler = self._dispatch  # with the middlewares, from start()
        self.keys: Keys | None = None  # None: auth not enforced (local, loopback)
        self.middlewares: list[Middleware] = []

    @property
    def route_prefix(self) -> str:
        """The routePrefix from host.json, without slashes."""
        return self._prefix

    def add_route(
        self,
        template: str,
        methods: frozenset[str] | None,
        handler: FunctionAnswer,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """Register a function's route; a conflicting route raises RouteError."""
        level = _level(auth_level, function_name)
        target = _Target(_web_handler(handler, function_name), function_name, level, answer=handler)
        self._table.add(compile_route(template, function_name), methods, target, function_name)

    def add_webhook(self, extension: str, function_name: str, handler: HttpHandler) -> None:
        """Serve /runtime/webhooks/<extension>?functionName=<function_name>."""
        self._webhooks[(extension.lower(), function_name.lower())] = _Target(
            handler, function_name, SYSTEM, f"{extension.lower()}_extension"
        )

    def add_system_route(
        self,
        path: str,
        methods: frozenset[str] | None,
        handler: HttpHandler,
        function_name: str,
        auth_level: str = "admin",
    ) -> None:
        """An exact path outside routePrefix (e.g. /admin/warmup)."""
        key = _lowered(path)
        if key in self._system:
            other = self._system[key][1].function_name
            raise RouteError(function_name, f"path '{key}' is already served by '{other}'")
        target = _Target(handler, function_name, _level(auth_level, function_name))
        self._system[key] = (methods, target)

    def clear_routes(self) -> None:
        """Forget every function route, webhook and system route (the app was unloaded)."""
        self._table = RouteTable()
        self._system.clear()
        self._webhooks.clear()

    def system_key_names(self) -> list[str]:
        """The system keys the registered webhooks need (<extension>_extension)."""
        return sorted({f"{ext}_extension" for ext, _ in self._webhooks})

    async def start(self, host: str, port: int) -> None:
        """Bind and start accepting; returns once the socket listens."""
        handler: RequestHandler = self._dispatch
        for middleware in reversed(self.middlewares):  # the first one listed runs first
            handler = _chained(middleware, handler)
        self._handler = handler
        loop = asyncio.get_running_loop()
        batch = WriteBatch(loop)
        self._server = await loop.create_server(
            lambda: Connection(loop, self._serve, self._connections, batch),
            host,
            port,
            backlog=128,
        )

    async def stop(self, grace: float) -> None:
        """Stop accepting, wait up to ``grace`` s for requests in flight, cancel the rest."""
        if self._server is None:
            return
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
        busy = {c.task: c.running for c in self._connections if c.task is not None}
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
        self, connection: Connection, message: RawRequestMessage, payload: StreamReader
    ) -> bool:
        """Answer one request; whether the connection may carry another."""
        found = None if self.middlewares else self._function_route(message)
        if found is None:
            return await self._serve_web(connection, message, payload)
        target, params = found
        keep_alive = not message.should_close
        if self.keys is not None and not self._key_allowed(target, message):
            answer: Answer = _UNAUTHORIZED
        else:
            body = b""
            if type(payload) is not EmptyStreamReader:  # most GETs have no body to read
                try:
                    body = await _read_body(payload, MAX_BODY_BYTES)
                except _BodyRefused as refused:
                    connection.write(message, refused.answer, keep_alive)
                    return keep_alive  # the unread rest of the body closes the connection
                except ConnectionError:  # the client left while sending it: nobody to answer
                    return False
            assert target.answer is not None  # _function_route picks only targets with one
            connection.running = target.function_name  # what the shutdown drain waits for
            try:
                answer = await target.answer(message, body, params)
            finally:
                connection.running = None
        try:
            connection.write(message, answer, keep_alive)  # check_answer() runs in here
        except ValueError as exc:
            connection.write(message, _cannot_carry(target.function_name, exc), keep_alive)
        return keep_alive

    def _function_route(self, message: RawRequestMessage) -> tuple[_Target, dict[str, str]] | None:
        """The function route a request takes the short way to, or None."""
        if hdrs.EXPECT in message.headers or message.upgrade:
            return None  # the 100 and the upgrade refusal are aiohttp's to write
        path = kestrel_path(message.url.raw_path)
        lowered = _lowered(path)  # what _find() decides on before function routes
        if lowered in self._system or lowered.startswith(("/admin/", "/runtime/webhooks/")):
            return None
        found = self._function_match(message.method, path)
        return None if found is None or found[0].answer is None else found

    async def _serve_web(
        self, connection: Connection, message: RawRequestMessage, payload: StreamReader
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
            response = await self._handler(request)
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
            return False
        return bool(response.keep_alive)

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        path = kestrel_path(request.rel_url.raw_path)
        found = self._find(request, path)
        if found is None:
            return await self._admin(request, path)
        target, params = found
        if not self._authorized(request, target):
            return web.Response(status=401)
        if hdrs.EXPECT in request.headers:
            await _continue(request)
        return await self._run(target, request, params)

    def _find(self, request: web.BaseRequest, path: str) -> tuple[_Target, dict[str, str]] | None:
        lowered = _lowered(path)
        system = self._system.get(lowered)
        if system is not None and (system[0] is None or request.method in system[0]):
            return system[1], {}
        if lowered.startswith("/runtime/webhooks/"):
            return self._webhook(request, lowered.removeprefix("/runtime/webhooks/"))
        if lowered.startswith("/admin/"):
            return None
        return self._function_match(request.method, path)

    def _function_match(self, method: str, path: str) -> tuple[_Target, dict[str, str]] | None:
        """The function route under routePrefix for this method and path, or None."""
        relative = self._strip_prefix(path)
        return None if relative is None else self._table.match(method, relative)

    def _webhook(
        self, request: web.BaseRequest, extension: str
    ) -> tuple[_Target, dict[str, str]] | None:
        # Query names are case-insensitive in the Functions host (ParseQueryString).
        name = next((v for k, v in request.query.items() if k.lower() == "functionname"), "")
        webhook = self._webhooks.get((extension, name.lower()))
        if webhook is not None:
            return webhook, {}
        if not any(ext == extension for ext, _ in self._webhooks):
            return None
        # A known extension, an unknown function: checked for the key first, then 404.
        return _Target(_no_function(name), name, SYSTEM, f"{extension}_extension"), {}

    async def _admin(self, request: web.BaseRequest, path: str) -> web.StreamResponse:
        lowered = _lowered(path)
        if not lowered.startswith("/admin/"):
            return web.Response(status=404)
        if lowered == "/admin/host/ping" and request.method in ("GET", "POST"):
            return web.Response(status=200)
        if not self._authorized(request, _ADMIN_TARGET):
            return web.Response(status=401)
        return await admin.handle(request, lowered, self._backend)

    def _authorized(self, request: web.BaseRequest, target: _Target) -> bool:
        return self._key_allowed(target, request.message)

    def _key_allowed(self, target: _Target, message: RawRequestMessage) -> bool:
        if self.keys is None or target.auth_level == ANONYMOUS:
            return True
        key = message.headers.get("x-functions-key") or message.url.query.get("code")
        return self.keys.allows(target.auth_level, key, target.function_name, target.system_key)

    async def _run(
        self, target: _Target, request: web.BaseRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        connection = cast(Connection, request.protocol)  # ours: see _serve_web
        connection.running = target.function_name  # what the shutdown drain waits for
        try:
            return await target.handler(request, params)
        finally:
            connection.running = None

    def _strip_prefix(self, path: str) -> str | None:
        """The path below routePrefix (case-insensitive, as ASP.NET routes), or None."""
        trimmed = path.strip("/")
        if not self._prefix:
            return trimmed
        lowered = trimmed.lower()
        if lowered == self._prefix_lower:
            return ""
        if lowered.startswith(self._prefix_lower + "/"):
            return trimmed[len(self._prefix) + 1 :]
        return None


def _lowered(path: str) -> str:
    """The path as system routes and the admin and webhook prefixes are matched."""
    return "/" + path.strip("/").lower()


def _chained(middleware: Middleware, inner: RequestHandler) -> RequestHandler:
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


def _level(auth_level: str, function_name: str) -> str:
    level = auth_level.lower()
    if level not in AUTH_LEVELS:
        raise RouteError(
            function_name,
            f"authLevel is {auth_level!r}; expected one of anonymous, function, admin",
        )
    return level


def _no_function(name: str) -> HttpHandler:
    async def handler(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        return web.Response(status=404, text=f"cannot find function: '{name}'")

    return handler


async def _never(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    raise AssertionError("the admin target only carries an auth level")


_ADMIN_TARGET = _Target(_never, "", ADMIN)


def _web_handler(answer: FunctionAnswer, function_name: str) -> HttpHandler:
    """A function route the aiohttp way (with middlewares, or after a 100-continue)."""

    async def handle(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        try:
            # A bodiless request (most GETs) skips aiohttp's read loop.
            body = await request.read() if request.body_exists else b""
        except ConnectionError:
            # The client left before sending its whole body: nothing to run, nobody to answer.
            log.debug("client disconnected while sending the body of %s", request.path)
            return web.Response(status=400)
        found = await answer(request.message, body, params)
        try:
            check_answer(found.status, found.headers)
        except ValueError as exc:
            found = _cannot_carry(function_name, exc)
        headers = CIMultiDict(found.headers)
        return web.Response(status=found.status, body=found.body or None, headers=headers)

    return handle


def _cannot_carry(function_name: str, problem: ValueError) -> Answer:
    """The 500 for an answer ``check_answer`` refused, and the one error line naming it."""
    log.error("Functions.%s answered what HTTP cannot carry: %s", function_name, problem)
    return _SERVER_ERROR


_UNAUTHORIZED = HostAnswer(401)
_SERVER_ERROR = HostAnswer(500)


class _BodyRefused(Exception):
    """The body cannot be taken; ``answer`` says why."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


async def _read_body(payload: StreamReader, limit: int) -> bytes:
    """The whole body; _BodyRefused past ``limit`` bytes (413) or when malformed (400)."""
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await payload.readany():
            size += len(chunk)
            if size > limit:
                raise _BodyRefused(_too_large(limit, size))  # the rest stays unread
            chunks.append(chunk)
    except HttpProcessingError as exc:  # e.g. a malformed chunked body
        raise _BodyRefused(HostAnswer(400, (TEXT_PLAIN,), exc.message.encode())) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int, size: int) -> Answer:
    """The 413 aiohttp answers when a body passes client_max_size, in the same words."""
    text = f"Maximum request body size {limit} exceeded, actual body size {size}"
    return HostAnswer(413, (TEXT_PLAIN,), text.encode())


if TYPE_CHECKING:
    # The HTTP trigger checks its router with isinstance(), which sees method names only;
    # this has mypy hold the server to the whole contract, without importing the binding.
    def _serves_functions(server: HttpServer) -> FunctionRouter:
        return server
