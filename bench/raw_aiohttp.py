"""Anchor: a raw aiohttp + uvloop server, the floor funchost is measured against.

Run as a file (`python bench/raw_aiohttp.py PORT`), not through the bench package, so its cold
start counts nothing but aiohttp and uvloop.
"""

from __future__ import annotations

import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    """The same body the subject answers."""
    return web.Response(text="Hello, world!")


async def echo(request: web.Request) -> web.Response:
    """The request body back, as the echo function answers."""
    return web.Response(body=await request.read())


def main() -> None:
    """Serve on the port given as the only argument."""
    import uvloop

    app = web.Application()
    app.router.add_get("/api/async", hello)
    app.router.add_post("/api/echo", echo)
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
