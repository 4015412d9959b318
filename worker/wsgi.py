"""The WSGI app of a ``func.WsgiFunctionApp``, served with a fresh environ for every request.

The library's ``WsgiMiddleware`` gives every request the same ``wsgi.errors`` buffer and
fails a request when that buffer is not empty, so once one request has written to it (Flask
logs errors there), every later request fails. Served directly (worker/direct.py), each
request gets an environ of its own, built as the library's ``WsgiRequest`` builds it, and the
app runs in a worker thread. As on the library's path the body is read whole first and the
response collected whole (its iterable is closed, as PEP 3333 asks); a request that wrote to
``wsgi.errors`` or answered 500 or more fails its invocation, as the library has it fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from io import BytesIO, StringIO
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp.http import RawRequestMessage

from funchost.bindings.http.stream import StreamRequest, response_headers
from funchost.bindings.http.trigger import string_values
from funchost.worker.asgi import CONTEXT_KEYS, parsed_url, server_port

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiDirect:
    """Serves one WsgiFunctionApp's WSGI app on streamed requests."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    async def __call__(self, req: StreamRequest, context: object) -> None:
        """Read the body, run the app in a thread, send its response."""
        pieces = []
        while chunk := await req.body.read():
            pieces.append(chunk)
        environ = wsgi_environ(req.message, b"".join(pieces), context)
        status, headers, body = await asyncio.to_thread(_run, self._app, environ)
        errors = environ["wsgi.errors"].getvalue()
        if errors:
            raise RuntimeError(errors.strip())  # as the library fails it, with what was written
        if status >= 500:
            raise RuntimeError(body.decode(errors="replace"))  # likewise
        sink_headers, length = response_headers(headers)
        req.response.start(status, sink_headers, length)
        await req.response.send(body, more=False)


def _run(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Call the app and collect its whole response (in a worker thread)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None  # the legacy write(): unused by the apps the library serves

    result = app(environ, start_response)
    try:
        body = b"".join(piece or b"" for piece in result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started or ("0", [])
    return int(str(status).split(" ")[0]), list(headers), body


def wsgi_environ(message: RawRequestMessage, body: bytes, context: object) -> dict[str, Any]:
    """The environ the library's WsgiRequest builds for this request, with its own buffers."""
    host = message.headers.get("Host") or "localhost"
    url = parsed_url(host, message.path)
    headers = string_values(message.headers.items())
    environ: dict[str, Any] = {
        "REQUEST_METHOD": message.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path).decode("latin-1"),
        "QUERY_STRING": url.query,
        "CONTENT_TYPE": headers.get("content-type"),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": url.hostname,
        "SERVER_PORT": str(server_port(url, headers.get("x-forwarded-port"))),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for key in CONTEXT_KEYS:
        environ[f"azure_functions.{key}"] = getattr(context, key, None)
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    # Text as WSGI wants it: the UTF-8 bytes read as latin-1 (the library's encoding dance).
    return {
        k: v.encode().decode("latin-1") if isinstance(v, str) else v
        for k, v in environ.items()
        if v is not None
    }
