"""``python -m tests.peers.amqp``: a local AMQP 1.0 peer for the Service Bus and Event Hubs SDKs.

Prints its connection string on one line when it listens, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .broker import Broker, Options
from .connection import PeerConnection

CONNECTION_STRING = (
    "Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=k;SharedAccessKey=v;"
    "UseDevelopmentEmulator=true"
)


def parse_args(argv: list[str]) -> tuple[int, Options]:
    """The port and the entities to declare."""
    parser = argparse.ArgumentParser(prog="python -m tests.peers.amqp", description=__doc__)
    parser.add_argument("--port", type=int, default=5672, help="0 picks a free port")
    parser.add_argument("--queue", action="append", default=[], metavar="NAME")
    parser.add_argument("--session-queue", action="append", default=[], metavar="NAME")
    parser.add_argument("--topic", action="append", default=[], metavar="NAME")
    parser.add_argument("--subscription", action="append", default=[], metavar="TOPIC/SUB")
    parser.add_argument("--eventhub", action="append", default=[], metavar="NAME:PARTITIONS")
    parser.add_argument("--lock-duration", type=float, default=60.0, metavar="S")
    parser.add_argument("--max-delivery-count", type=int, default=10, metavar="N")
    args = parser.parse_args(argv)
    hubs = []
    for spec in args.eventhub:
        name, _, count = spec.partition(":")
        if not name or not count.isdigit() or int(count) < 1:
            parser.error(f"--eventhub expects NAME:PARTITIONS (e.g. hub:4), got {spec!r}")
        hubs.append((name, int(count)))
    for spec in args.subscription:
        if spec.count("/") != 1 or spec.startswith("/") or spec.endswith("/"):
            parser.error(f"--subscription expects TOPIC/SUB, got {spec!r}")
    options = Options(
        queues=args.queue,
        session_queues=args.session_queue,
        topics=args.topic,
        subscriptions=args.subscription,
        eventhubs=hubs,
        lock_seconds=args.lock_duration,
        max_delivery_count=args.max_delivery_count,
    )
    return args.port, options


async def serve(port: int, options: Options) -> None:
    """Listen, announce the connection string, and serve until a stop signal."""
    broker = Broker(options)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await PeerConnection(broker, reader, writer).run()

    server = await asyncio.start_server(on_client, "127.0.0.1", port)
    real_port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    timers = loop.create_task(broker.run_timers())
    print(CONNECTION_STRING.format(port=real_port), flush=True)
    await stop.wait()
    timers.cancel()
    server.close()
    for conn in list(broker.connections):
        conn.writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.wait_closed(), 2.0)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    port, options = parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(serve(port, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
