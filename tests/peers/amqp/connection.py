"""One client connection: proton's protocol engine driven by asyncio streams.

proton does the framing, SASL, sessions, links and flow control; this module feeds it the bytes
the client wrote, dispatches the events it raises to the broker, and writes what it wants to send
through a ``FramePadder`` (see frames.py for why every performative is padded).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
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
        # Client receiver links of $cbs / $management nodes, by session and node path: where
        # answers go (a client may hold one request/response pair per session on one connection).
        self.reply_links: dict[tuple[Any, str], Any] = {}

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
                self._push(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            ticker.cancel()
            self.closed = True
            self.broker.connection_lost(self)
            self.writer.close()

    def _push(self, data: bytes) -> None:
        """Feed proton no more than its input capacity at a time, processing in between."""
        view = memoryview(data)
        while view:
            capacity = self.transport.capacity()
            if capacity <= 0:
                raise ConnectionError("the AMQP transport takes no more input")
            self.transport.push(bytes(view[:capacity]))
            view = view[capacity:]
            self.pump()

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

    def _links_gone(self, session: Any) -> None:
        """A session ended: its links end with it, detached or not."""
        link = self.connection.link_head(0)
        while link is not None:
            if link.session == session:
                self.broker.detach(link)
            link = link.next(0)

    def _dispatch(self, event: Any) -> None:
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)

    def _on_connection_open(self, event: Any) -> None:
        self.connection.container = "funchost-amqp-peer"
        self.connection.open()

    def _on_link_close(self, event: Any) -> None:
        self.broker.detach(event.link)
        event.link.close()

    def _on_link_detach(self, event: Any) -> None:
        """A detach without closing: the link is gone all the same."""
        self.broker.detach(event.link)
        event.link.detach()

    def _on_session_close(self, event: Any) -> None:
        self._links_gone(event.session)
        event.session.close()


_HANDLERS: dict[Any, Callable[[PeerConnection, Any], None]] = {
    Event.CONNECTION_REMOTE_OPEN: PeerConnection._on_connection_open,
    Event.SESSION_REMOTE_OPEN: lambda c, e: e.session.open(),
    Event.LINK_REMOTE_OPEN: lambda c, e: c.broker.attach(c, e.link),
    Event.LINK_FLOW: lambda c, e: c.broker.flow(e.link),
    Event.DELIVERY: lambda c, e: c.broker.delivery(c, e.delivery),
    Event.LINK_REMOTE_CLOSE: PeerConnection._on_link_close,
    Event.LINK_REMOTE_DETACH: PeerConnection._on_link_detach,
    Event.SESSION_REMOTE_CLOSE: PeerConnection._on_session_close,
    Event.CONNECTION_REMOTE_CLOSE: lambda c, e: c.connection.close(),
    Event.LINK_FINAL: lambda c, e: c.broker.detach(e.link),
}
