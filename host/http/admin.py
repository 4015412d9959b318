"""The admin API under ``/admin``: status, ping, functions, invoke, drain.

Every endpoint but ping needs the master key when auth is enforced; the server checks that
before calling in here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from funchost import __version__
from funchost.redact import redact


class AdminBackend(Protocol):
    """What the admin API needs from the host."""

    def status(self) -> dict[str, Any]:
        """State, functions and errors."""
        ...

    def function_info(self, name: str) -> dict[str, Any] | None:
        """One function's metadata, None when there is no such function."""
        ...

    def function_names(self) -> list[str]:
        """Every function, loaded or disabled."""
        ...

    def invoke(self, name: str, payload: str) -> str:
        """Start the function with this input: 'accepted', 'not_found' or 'not_invocable'."""
        ...

    def start_drain(self) -> None:
        """Stop taking new work from non-HTTP triggers."""
        ...

    async def dashboard_data(self, path: str, query: Mapping[str, str]) -> Any | None:
        """The dashboard's document at /admin/ui/api/<path>; None: 404."""
        ...

    def drain_state(self) -> str:
        """Disabled, InProgress or Completed."""
        ...


_UI_API = "/admin/ui/api/"


def _json(doc: Any, status: int = 200) -> web.Response:
    # Load errors may echo a connection string or a URL with its key.
    text = redact(json.dumps(doc))
    return web.Response(text=text, status=status, content_type="application/json")


async def handle(request: web.BaseRequest, path: str, backend: AdminBackend) -> web.Response:
    """Answer one admin request (path without the query string)."""
    method = request.method
    if path == "/admin/host/status" and method == "GET":
        return _json({"version": __version__, **backend.status()})
    if path == "/admin/host/drain" and method == "POST":
        backend.start_drain()
        return web.Response(status=202)
    if path == "/admin/host/drain/status" and method == "GET":
        return _json({"state": backend.drain_state()})
    if path == "/admin/functions" and method == "GET":
        return _json([backend.function_info(n) for n in backend.function_names()])
    if path.startswith("/admin/functions/"):
        return await _function(request, path.removeprefix("/admin/functions/"), backend)
    if path.startswith(_UI_API) and method == "GET":  # the dashboard's data (host/ui)
        doc = await backend.dashboard_data(path.removeprefix(_UI_API), request.query)
        return web.Response(status=404) if doc is None else _json(doc)
    return web.Response(status=404)


async def _function(request: web.BaseRequest, name: str, backend: AdminBackend) -> web.Response:
    if request.method == "GET":
        info = backend.function_info(name)
        return _json(info) if info is not None else web.Response(status=404)
    if request.method != "POST":
        return web.Response(status=405)
    payload, error = await _input(request)
    if error:
        return _json({"error": error}, status=400)
    outcome = backend.invoke(name, payload)
    if outcome == "not_found":
        return web.Response(status=404)
    if outcome == "not_invocable":
        return _json({"error": f"'{name}' is an HTTP function: call its URL instead"}, 400)
    return web.Response(status=202)


async def _input(request: web.BaseRequest) -> tuple[str, str]:
    """The ``input`` string of the body; an error text when the body is not that shape."""
    raw = await request.read()
    if not raw.strip():
        return "", ""
    try:
        doc = json.loads(raw)
    except ValueError:
        return "", 'expected a JSON body like {"input": "..."}'
    if not isinstance(doc, dict):
        return "", 'expected a JSON object like {"input": "..."}'
    value = doc.get("input", "")
    if not isinstance(value, str):
        value = json.dumps(value)
    return value, ""
