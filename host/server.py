"""The embedded aiohttp server: one catch-all handler, the route table and the admin endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from funchost import __version__
from funchost.bindings.base import HttpHandler
from funchost.host.routing import RouteTable, compile_route

log = logging.getLogger("funchost.server")

MAX_BODY_BYTES = 100 * 1024 * 1024
StatusProvider = Callable[[], dict[str, Any]]
# After the drain, idle keep-alive connections get this long to close.
_CLOSE_TIMEOUT = 2.0


_ENCODED_SLASH = re.compile("(%2[fF])")


def kestrel_path(raw_path: str) -> str:
    """The path percent-decoded except ``%2F``, as Kestrel decodes it for routing.

    An encoded slash stays encoded, so it is data inside one segment (and one route value)
    rather than a separator, as in the Functions host.
    """
    parts = _ENCODED_SLASH.split(raw_path)
    return "".join(part if index % 2 else unquote(part) for index, part in enumerate(parts))


class HttpServer:
    """Routes requests to HTTP-triggered functions; implements the bindings' HttpRouter."""

    def __init__(self, route_prefix: str, status: StatusProvider) -> None:
        self._prefix = route_prefix.strip("/")
        self._prefix_lower = self._prefix.lower()
        self._status = status
        self._table: RouteTable[tuple[HttpHandler, str]] = RouteTable()
        self._runner: web.AppRunner | None = None
        self._inflight: dict[asyncio.Task[Any], str] = {}
        self._started = time.monotonic()

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
    ) -> None:
        """Register a function's route; a conflicting route raises RouteError."""
        route = compile_route(template, function_name)
        self._table.add(route, methods, (handler, function_name), function_name)

    async def start(self, host: str, port: int) -> None:
        """Bind and start accepting; returns once the socket listens."""
        # The Functions host hands a function the body as sent: a gzip body stays gzip.
        handler_args = {"access_log": None, "auto_decompress": False}
        app = web.Application(client_max_size=MAX_BODY_BYTES, handler_args=handler_args)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=_CLOSE_TIMEOUT
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

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

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = kestrel_path(request.rel_url.raw_path)
        if path.startswith("/admin/"):
            return self._admin(request)
        relative = self._strip_prefix(path)
        if relative is None:
            return web.Response(status=404)
        match = self._table.match(request.method, relative)
        if match is None:
            return web.Response(status=404)
        (handler, function_name), params = match
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to track for the drain
            return await handler(request, params)
        self._inflight[task] = function_name
        try:
            return await handler(request, params)
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

    def _admin(self, request: web.Request) -> web.Response:
        if request.path == "/admin/host/ping" and request.method in ("GET", "POST"):
            return web.Response(status=200)
        if request.path == "/admin/host/status" and request.method == "GET":
            doc = {"version": __version__, "processUptime": self._uptime_ms()} | self._status()
            return web.Response(text=json.dumps(doc), content_type="application/json")
        return web.Response(status=404)

    def _uptime_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)
