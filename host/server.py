"""The embedded aiohttp server: one handler, the route table and the admin endpoints.

It sits on aiohttp's low-level ``web.Server`` (the HTTP/1.1 protocol, parser and response
writer) without ``web.Application``: the route table below does the routing, so the
application's router, match info and signals were a fifth of the CPU spent per request for
nothing. What the application did that matters here is done here: the middlewares are
chained once at start, ``Expect: 100-continue`` is answered, the body size cap is set.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from funchost.bindings.base import HttpHandler
from funchost.host import admin
from funchost.host.keys import ADMIN, ANONYMOUS, AUTH_LEVELS, SYSTEM, Keys
from funchost.host.routing import RouteError, RouteTable, compile_route

log = logging.getLogger("funchost.server")

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
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


class HttpServer:
    """Routes requests to functions, webhooks and the admin API; the bindings' HttpRouter."""

    def __init__(self, route_prefix: str, backend: admin.AdminBackend) -> None:
        self._prefix = route_prefix.strip("/")
        self._prefix_lower = self._prefix.lower()
        self._backend = backend
        self._table: RouteTable[_Target] = RouteTable()
        self._system: dict[str, tuple[frozenset[str] | None, _Target]] = {}
        self._webhooks: dict[tuple[str, str], _Target] = {}
        self._runner: web.ServerRunner | None = None
        self._inflight: dict[asyncio.Task[Any], str] = {}
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
        handler: HttpHandler,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """Register a function's route; a conflicting route raises RouteError."""
        target = _Target(handler, function_name, _level(auth_level, function_name))
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
        key = "/" + path.strip("/").lower()
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
        server = web.Server(
            handler,
            request_factory=self._make_request,
            access_log=None,
            # The Functions host hands a function the body as sent: a gzip body stays gzip.
            auto_decompress=False,
        )
        self._runner = web.ServerRunner(
            server, handle_signals=False, shutdown_timeout=_CLOSE_TIMEOUT
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    def _make_request(
        self,
        message: Any,
        payload: Any,
        protocol: Any,
        writer: Any,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        loop = asyncio.get_running_loop()
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=MAX_BODY_BYTES
        )

    async def stop(self, grace: float) -> None:
        """Stop accepting, wait up to ``grace`` s for requests in flight, cancel the rest."""
        if self._runner is None:
            return
        for site in list(self._runner.sites):
            await site.stop()
        await self._drain(grace)
        await self._runner.cleanup()
        self._runner = None

    async def _drain(self, grace: float) -> None:
        pending = {task for task in self._inflight if not task.done()}
        if not pending:
            return
        log.info("Waiting up to %g s for %d request(s) in flight.", grace, len(pending))
        _, pending = await asyncio.wait(pending, timeout=grace)
        if not pending:
            return
        names = ", ".join(sorted({f"Functions.{self._inflight[t]}" for t in pending}))
        log.warning(
            "Cancelling %d request(s) still running after %g s: %s", len(pending), grace, names
        )
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT)

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
        lowered = "/" + path.strip("/").lower()
        system = self._system.get(lowered)
        if system is not None and (system[0] is None or request.method in system[0]):
            return system[1], {}
        if lowered.startswith("/runtime/webhooks/"):
            return self._webhook(request, lowered.removeprefix("/runtime/webhooks/"))
        if lowered.startswith("/admin/"):
            return None
        relative = self._strip_prefix(path)
        return None if relative is None else self._table.match(request.method, relative)

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
        lowered = "/" + path.strip("/").lower()
        if not lowered.startswith("/admin/"):
            return web.Response(status=404)
        if lowered == "/admin/host/ping" and request.method in ("GET", "POST"):
            return web.Response(status=200)
        if not self._authorized(request, _ADMIN_TARGET):
            return web.Response(status=401)
        return await admin.handle(request, lowered, self._backend)

    def _authorized(self, request: web.BaseRequest, target: _Target) -> bool:
        if self.keys is None or target.auth_level == ANONYMOUS:
            return True
        key = request.headers.get("x-functions-key") or request.query.get("code")
        return self.keys.allows(target.auth_level, key, target.function_name, target.system_key)

    async def _run(
        self, target: _Target, request: web.BaseRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        task = request.task  # aiohttp runs each request's handler in its own task
        self._inflight[task] = target.function_name
        try:
            return await target.handler(request, params)
        finally:
            del self._inflight[task]

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
