"""The dashboard's static files (host/ui/static), shipped in the package and read once.

No build step and nothing from elsewhere: the page works offline. The headers keep other
sites from framing it (the invoke button must not be clickable through another page) and the
browser from loading anything but these files.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from funchost.bindings.base import HttpHandler

_TYPES = {
    "html": "text/html",
    "js": "text/javascript",
    "css": "text/css",
    "svg": "image/svg+xml",
}
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def static_files() -> dict[str, bytes]:
    """Every file of the page, by its lower-cased name."""
    folder = resources.files("funchost.host.ui").joinpath("static")
    return {
        entry.name.lower(): entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.rsplit(".", 1)[-1] in _TYPES
    }


def handler() -> HttpHandler:
    """Serves /admin/ui/ (index.html) and the files next to it."""
    files = static_files()

    async def serve(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, headers={"Allow": "GET, HEAD"})
        name = params["path"].removeprefix("/admin/ui").strip("/") or "index.html"
        body = files.get(name)
        if body is None:
            return web.Response(status=404)
        kind = _TYPES[name.rsplit(".", 1)[-1]]
        return web.Response(body=body, content_type=kind, charset="utf-8", headers=_HEADERS)

    return serve
