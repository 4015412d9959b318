"""``python -m tests.peers.cosmos``: a local Cosmos DB peer with a working change feed.

Starts cosmosdb-server (npm ``@vercel/cosmosdb-server``, plain HTTP) on an inner free port and
the proxy of proxy.py on ``--port``; prints the connection string on one line when both are
ready, then serves until SIGTERM/SIGINT and stops the server with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web

from .inner import InnerServer, InnerServerError, default_cli
from .proxy import CosmosProxy

# The emulator's well-known key: any base64 key works (the peer checks no signature).
ACCOUNT_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
CONNECTION_STRING = "AccountEndpoint=http://127.0.0.1:{port}/;AccountKey={key};"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The public port and where cosmosdb-server is."""
    parser = argparse.ArgumentParser(prog="python -m tests.peers.cosmos", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--server",
        default=str(default_cli()),
        metavar="CLI_JS",
        help="cosmosdb-server's lib/cli.js (default: the repository's node_modules)",
    )
    parser.add_argument("--ready-timeout", type=float, default=20.0, metavar="S")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the server and the proxy, announce, serve until a stop signal, stop both."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    inner = await InnerServer.start(args.server, args.ready_timeout)
    runner: web.AppRunner | None = None
    try:
        runner, port = await _start_proxy(inner.url, args.port)
        print(CONNECTION_STRING.format(port=port, key=ACCOUNT_KEY), flush=True)
        await stop.wait()
    finally:
        if runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), 2.0)
        await inner.stop()


async def _start_proxy(inner_url: str, port: int) -> tuple[web.AppRunner, int]:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    # The public URL is known only once bound (port 0); set before the first request arrives.
    proxy = CosmosProxy(inner_url, public_url="")
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    app.on_startup.append(lambda _app: proxy.start())
    app.on_cleanup.append(lambda _app: proxy.close())
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    real_port = runner.addresses[0][1]
    proxy.public_url = f"http://127.0.0.1:{real_port}/"
    return runner, int(real_port)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(serve(args))
    except InnerServerError as error:
        print(f"cosmos peer: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
