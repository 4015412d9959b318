"""What the dependency-fault tests share: an outage of a service while the host runs.

``during_outage`` takes the service down, polls the host's HTTP function every 100 ms for
the whole outage (every answer must be 200: the HTTP side never waits for a dependency), and
brings the service back on the same port. ``TcpOutage`` is the outage for the in-memory test
peers, whose restart would also drop every message they hold (a real broker keeps them): a
loopback TCP relay in front of the peer stops listening and resets every connection, then
listens again on the same port, so the host sees what a broker restart shows it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from conftest import Host, free_port
from http_helpers import get

OUTAGE_S = 10.0
POLL_S = 0.1


def during_outage(
    host: Host, stop: Callable[[], None], start: Callable[[], None], path: str = "/api/ping"
) -> list[int]:
    """Stop the service, poll ``path`` for OUTAGE_S, start it again; the statuses."""
    statuses: list[int] = []
    stop()
    try:
        ends = time.monotonic() + OUTAGE_S
        while time.monotonic() < ends:
            statuses.append(get(host, path).status)
            time.sleep(POLL_S)
    finally:
        start()
    return statuses


def count(host: Host, text: str) -> int:
    """Lines printed so far that contain ``text``."""
    host.drain(0)
    return sum(text in line for line in host.lines)


class TcpOutage:
    """A loopback relay to ``target``; ``cut()`` drops it and ``restore()`` brings it back."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._thread.start()
        self.restore()

    def _call(self, work: Callable[[], object]) -> None:
        async def run() -> None:
            result = work()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def restore(self) -> None:
        """Listen on the same port again."""
        self._call(self._listen)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    def cut(self) -> None:
        """Stop listening and reset every relayed connection."""
        self._call(self._cut)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, upstream))
        await asyncio.gather(
            _pipe(reader, upstream), _pipe(upstream_reader, writer), return_exceptions=True
        )
        for end in (writer, upstream):
            self._open.discard(end)
            end.transport.abort()

    def close(self) -> None:
        """Cut, then stop the relay's loop."""
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.transport.abort()
