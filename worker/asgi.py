"""The ASGI app of a ``func.AsgiFunctionApp``, served from the connection instead of buffered.

The library registers ``http_app_func``, which turns the request into a ``func.HttpRequest``,
runs the app through its ``AsgiMiddleware`` with the whole body, collects the whole response
and returns it as a ``func.HttpResponse``. When the function is that unmodified function
(worker/direct.py), the worker serves the app itself: the same scope, built from the parsed
request, ``http.request`` messages fed as the body arrives, and the response messages sent
to the client as they come. It is still the function ``http_app_func`` to the invoker, so its
Executing/Executed lines, context and timeout stay.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from copy import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, unquote_to_bytes, urlparse

import azure.functions as func
from aiohttp.http import RawRequestMessage

from funchost.bindings.http.stream import (
    StreamRequest,
    response_headers,
)
from funchost.bindings.http.trigger import string_values

if TYPE_CHECKING:
    pass

Message = MutableMapping[str, Any]
# What the library's AsgiRequest declares (azure/functions/_http_asgi.py).
_ASGI_VERSION = "2.1"
CONTEXT_KEYS = (
    "function_directory",
    "function_name",
    "invocation_id",
    "thread_local_storage",
    "trace_context",
    "retry_context",
)
_SCOPE_CONTEXT_KEYS = tuple((f"azure_functions.{key}", key) for key in CONTEXT_KEYS)
_PORT = re.compile(r"(\d+)")
_UNUSUAL = re.compile(r"[;#\x00-\x20\x7f]")
_UNUSUAL_HOST = re.compile(r"[/?#@\\\x00-\x20\x7f]")


class AsgiDirect:
    """Serves one AsgiFunctionApp's ASGI app on streamed requests."""

    def __init__(self, register: func.AsgiFunctionApp) -> None:
        self._register: Any = register
        self._middleware: Any = register.middleware

    async def __call__(self, req: StreamRequest, context: func.Context) -> None:
        """Run the app for one request; its response goes to the client as it comes."""
        register = self._register
        if not register.startup_task_done:  # as the library's function: lifespan first
            if not await self._middleware.notify_startup():
                raise RuntimeError("ASGI middleware startup failed.")
            register.startup_task_done = True
        scope = asgi_scope(req.message, context, copy(self._middleware.state))
        await Exchange(req, response_headers).run(self._middleware._app, scope)


HeaderRule = Callable[[Iterable[tuple[str, str]]], tuple[list[tuple[str, str]], int | None]]


class Exchange:
    """The ``receive`` and ``send`` of one request; ``rule`` turns the app's headers into
    the sink's."""

    def __init__(self, req: StreamRequest, rule: HeaderRule) -> None:
        self._body = req.body
        self._sink = req.response
        self._rule = rule
        self._body_done = False
        self._ended = False
        self._end_waiter: asyncio.Future[None] | None = None  # made only if the app waits
        # A response given whole waits for the app to return, as on the library's path: an
        # app that answers and then raises (Starlette's 500 page) fails with an empty 500.
        self.held: bytes | None = None

    async def run(self, app: Any, scope: Message) -> None:
        """Run ``app`` (an ASGI app or a Starlette response) on this request."""
        try:
            await app(scope, self.receive, self.send)
        except Exception:
            if self._sink.disconnected:
                return  # what the app raised follows from the client leaving: not a failure
            raise
        if self.held is not None:
            await self._sink.send(self.held, more=False)

    async def receive(self) -> Message:
        """The body's pieces as ``http.request``; then ``http.disconnect`` once it is over.

        As the library's: after the body, the app hears ``http.disconnect`` when its
        response has ended, and here also when the client leaves before that.
        """
        if not self._body_done:
            chunk = await self._body.read()
            self._body_done = not chunk
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}
        if not (self._ended or self._sink.finished or self._sink.disconnected):
            self._end_waiter = asyncio.get_running_loop().create_future()
            await _first(self._end_waiter, self._sink.wait_disconnected())
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """The response messages, passed on as they come."""
        kind = message["type"]
        sink = self._sink
        if (
            kind == "http.response.body"
            and message.get("more_body")
            and sink.committed
            and not sink.finished
        ):
            await sink.send(message.get("body") or b"", True)  # most pieces of a stream
            return
        if kind == "http.response.start":
            raw = ((k.decode(), v.decode()) for k, v in message.get("headers") or ())
            headers, length = self._rule(raw)
            sink.start(int(message["status"]), headers, length)
        elif kind == "http.response.body" and not self._ended:
            if not sink.started:
                raise RuntimeError("the ASGI app sent a body before http.response.start")
            body = bytes(message.get("body") or b"")
            if message.get("more_body", False):
                await sink.send(body, more=True)
            elif sink.committed:
                await sink.send(body, more=False)
            else:
                self.held = body
            if not message.get("more_body", False):
                self._ended = True
                if self._end_waiter is not None and not self._end_waiter.done():
                    self._end_waiter.set_result(None)


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def asgi_scope(message: RawRequestMessage, context: object, state: object) -> dict[str, Any]:
    """The scope the library's AsgiMiddleware builds for this request, key for key.

    From the ``func.HttpRequest`` the HTTP trigger would build: headers one per lower-cased
    name (repeats joined with ','), the URL ``http://<Host><target>`` read with ``urlparse``.
    """
    host = message.headers.get("Host") or "localhost"
    url = parsed_url(host, message.path)
    headers = string_values(message.headers.items())
    path = unquote_to_bytes(url.path).decode("utf-8") if "%" in url.path else url.path
    scope: dict[str, Any] = {
        "type": "http",
        "asgi.version": _ASGI_VERSION,
        "asgi.spec_version": _ASGI_VERSION,
        "http_version": "1.1",
        "method": message.method,
        "scheme": url.scheme,
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": url.query.encode("utf-8"),
        "root_path": "",
        "headers": [(k.encode("utf-8"), v.encode("utf-8")) for k, v in headers.items()],
        "server": _server(url, headers.get("x-forwarded-port")),
        "state": state,
        "client": None,
    }
    for scope_key, key in _SCOPE_CONTEXT_KEYS:
        scope[scope_key] = getattr(context, key, None)
    return scope


def parsed_url(host: str, target: str) -> ParseResult:
    """``urlparse("http://<host><target>")``, without parsing the host again and again.

    A target with what urlparse treats specially (``;`` parameters, a fragment, characters
    it strips) and a host with a delimiter in it take urlparse whole.
    """
    if _UNUSUAL.search(target) or _UNUSUAL_HOST.search(host) or not target.startswith("/"):
        return urlparse(f"http://{host}{target}")
    path, _, query = target.partition("?")
    base = _host_url(host)
    return ParseResult(base.scheme, base.netloc, path, "", query, "")


@functools.lru_cache(maxsize=64)
def _host_url(host: str) -> ParseResult:
    return urlparse(f"http://{host}/")


def _server(url: ParseResult, forwarded: str | None) -> tuple[str, int] | None:
    """(host, port) as the library finds them; X-Forwarded-Port wins over the URL's."""
    if not forwarded:
        return _netloc_server(url.scheme, url.netloc)
    if url.hostname is None:
        return None
    return (url.hostname, server_port(url, forwarded))


@functools.lru_cache(maxsize=64)
def _netloc_server(scheme: str, netloc: str) -> tuple[str, int] | None:
    """The (host, port) of a Host without X-Forwarded-Port: worked out once per Host."""
    url = urlparse(f"{scheme}://{netloc}/")
    return None if url.hostname is None else (url.hostname, server_port(url, None))


def server_port(url: ParseResult, forwarded: str | None) -> int:
    if forwarded:
        for part in forwarded.split(","):
            found = _PORT.match(part.strip())
            if found:
                return int(found.group(1))
        return 80
    return url.port or (443 if url.scheme == "https" else 80)
