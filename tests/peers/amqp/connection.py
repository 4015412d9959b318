"""One client connection: proton's protocol engine driven by asyncio streams.

proton does the framing, SASL, sessions, links and flow control; this module feeds it the bytes
the client wrote, dispatches the events it raises to the broker, and writes what it wants to send
through a ``FramePadder`` (see frames.py for why every performative is padded).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from proton import Collector, Connection, Event, Transport

from .frames import FramePadder

if TYPE_CHECKING:
    from .broker import Broker

log = logging.getLogger("amqp-peer")
READ_SIZE = 256 * 1024


class PeerConnection:
    """Pumps bytes between a socket and a proton transport; the broker sees proton events."""

    def __init__(
        self, broker: Broker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.broker = broker
        self.reader = reader
        self.writer = writer
        self.transport = Transport(Transport.SERVER)
        self.transport.max_frame_size = 256 * 1024
        sasl = self.transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")
        self.connection = Connection()
        self.collector = Collector()
        self.connection.collect(self.collector)
        self.transport.bind(self.connection)
        self.padder = FramePadder()
        self._wake_pending = False
        self.closed = False
        # Client receiver links of $cbs / $management nodes, by node path: where answers go.
        self.reply_links: dict[str, Any] = {}

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            while not self.closed:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    self.transport.close_tail()
                    self.pump()
                    break
                self.transport.push(data)
                self.pump()
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            ticker.cancel()
            self.closed = True
            self.broker.connection_lost(self)
            self.writer.close()

    async def _tick(self) -> None:
        """Idle-timeout heartbeats: proton wants ``tick`` called now and then."""
        while not self.closed:
            self.transport.tick(time.monotonic())
            self.pump()
            await asyncio.sleep(1.0)

    def wake(self) -> None:
        """Ask for a pump soon (after the broker queued deliveries from elsewhere)."""
        if not self._wake_pending and not self.closed:
            self._wake_pending = True
            asyncio.get_running_loop().call_soon(self._woken)

    def _woken(self) -> None:
        self._wake_pending = False
        self.pump()

    def pump(self) -> None:
        """Dispatch every pending proton event, then write what proton produced."""
        if self.closed:
            return
        while True:
            event = self.collector.peek()
            if event is None:
                break
            try:
                self._dispatch(event)
            except Exception:
                log.exception("peer: error handling %s", event.type)
            self.collector.pop()
        self._flush()

    def _flush(self) -> None:
        while True:
            pending = self.transport.pending()
            if pending < 0:
                self.closed = self.closed or self.transport.closed
                break
            if pending == 0:
                break
            data = self.transport.peek(pending)
            self.transport.pop(len(data))
            out = self.padder.feed(data)
            if out:
                self.writer.write(out)
        if self.transport.closed:
            self.closed = True

    def _dispatch(self, event: Any) -> None:
        kind = event.type
        if kind == Event.CONNECTION_REMOTE_OPEN:
            self.connection.container = "funchost-amqp-peer"
            self.connection.open()
        elif kind == Event.SESSION_REMOTE_OPEN:
            event.session.open()
        elif kind == Event.LINK_REMOTE_OPEN:
            self.broker.attach(self, event.link)
        elif kind == Event.LINK_FLOW:
            self.broker.flow(event.link)
        elif kind == Event.DELIVERY:
            self.broker.delivery(self, event.delivery)
        elif kind == Event.LINK_REMOTE_CLOSE:
            self.broker.detach(event.link)
            event.link.close()
        elif kind == Event.SESSION_REMOTE_CLOSE:
            event.session.close()
        elif kind == Event.CONNECTION_REMOTE_CLOSE:
            self.connection.close()
        elif kind == Event.LINK_FINAL:
            self.broker.detach(event.link)
