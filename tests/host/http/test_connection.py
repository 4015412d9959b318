"""host/http/connection.py in-process on a real loopback socket: the idle timeout and shutdown.

The keep-alive timeout is 130 s in the product; these tests shorten it on the module so a
connection's idle clock can be watched in well under a second.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.http import RawRequestMessage
from aiohttp.streams import StreamReader

from funchost.host.http import connection as connection_module
from funchost.host.http.connection import HttpConnection
from funchost.host.http.framing import HostAnswer

REQUEST = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


async def _hello(conn: HttpConnection, message: RawRequestMessage, payload: StreamReader) -> bool:
    conn.write(message, HostAnswer(200, (), b"hi"), keep_alive=True)
    return True


async def _slow(conn: HttpConnection, message: RawRequestMessage, payload: StreamReader) -> bool:
    await asyncio.sleep(0.3)
    return await _hello(conn, message, payload)


async def _open(
    serve: connection_module.Serve,
) -> tuple[asyncio.AbstractServer, set[HttpConnection]]:
    loop = asyncio.get_running_loop()
    registry: set[HttpConnection] = set()
    batch = connection_module.WriteBatch(loop)
    server = await loop.create_server(
        lambda: HttpConnection(loop, serve, registry, batch), "127.0.0.1", 0
    )
    return server, registry


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    return head + await reader.readexactly(2)  # every answer here is b"hi"


def test_an_idle_keep_alive_connection_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_module, "KEEPALIVE_TIMEOUT", 0.3)

    async def main() -> tuple[bytes, bytes, int]:
        server, registry = await _open(_hello)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        first = await _read_response(reader)
        # Idle from here: the server closes within the timeout plus one re-arm.
        rest = await asyncio.wait_for(reader.read(), timeout=2)
        await asyncio.sleep(0.05)
        writer.close()
        server.close()
        return first, rest, len(registry)

    first, rest, left = asyncio.run(main())
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"\r\n\r\nhi")
    assert (rest, left) == (b"", 0)


def test_a_busy_connection_is_not_closed_for_idleness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_module, "KEEPALIVE_TIMEOUT", 0.1)

    async def main() -> bytes:
        server, _ = await _open(_slow)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        answer = await asyncio.wait_for(_read_response(reader), timeout=2)  # after 0.3 s
        writer.close()
        server.close()
        return answer

    assert asyncio.run(main()).endswith(b"hi")


def test_shutdown_closes_idle_connections_and_busy_ones_after_their_answer() -> None:
    async def main() -> tuple[bytes, bytes]:
        server, registry = await _open(_slow)
        port = server.sockets[0].getsockname()[1]
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        busy_reader, busy_writer = await asyncio.open_connection("127.0.0.1", port)
        busy_writer.write(REQUEST)
        await asyncio.sleep(0.1)  # the busy one is inside its answer now
        for conn in list(registry):
            conn.shutdown()
        idle_rest = await asyncio.wait_for(idle_reader.read(), timeout=2)
        busy = await asyncio.wait_for(busy_reader.read(), timeout=2)  # answer, then closed
        idle_writer.close()
        busy_writer.close()
        server.close()
        return idle_rest, busy

    idle_rest, busy = asyncio.run(main())
    assert idle_rest == b""
    assert busy.startswith(b"HTTP/1.1 200 OK\r\n") and busy.endswith(b"\r\n\r\nhi")


def test_the_heartbeat_passes_over_a_bodiless_request_being_answered() -> None:
    # A GET's payload is aiohttp's EMPTY_PAYLOAD while it is answered; the heartbeat that
    # times slow bodies must let it be (it raised AttributeError and stopped ticking).
    async def beating(
        conn: HttpConnection, message: RawRequestMessage, payload: StreamReader
    ) -> bool:
        conn.heartbeat(1.0)
        return await _hello(conn, message, payload)

    async def main() -> bytes:
        server, _ = await _open(beating)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(REQUEST)
        answer = await asyncio.wait_for(_read_response(reader), timeout=2)
        writer.close()
        server.close()
        return answer

    assert asyncio.run(main()).startswith(b"HTTP/1.1 200 OK\r\n")
