"""Anchor: a raw aiohttp + uvloop hello server, the floor funchost is measured against."""

from __future__ import annotations

import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    """The same body the subject answers."""
    return web.Response(text="Hello, world!")


def main() -> None:
    """Serve on the port given as the only argument."""
    import uvloop

    app = web.Application()
    app.router.add_get("/api/async", hello)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        print=None,
        access_log=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
