"""The shared storage clients against a real Azurite: one per connection and kind, closed last."""

from __future__ import annotations

import asyncio

from azurite import Azurite

from funchost.bindings.shared import storage
from funchost.bindings.shared.connections import Connection


def test_one_client_per_connection_and_kind_round_trips_and_closes(azurite: Azurite) -> None:
    connection = Connection("AzureWebJobsStorage", "AzureWebJobsStorage", azurite.connection_string)

    async def main() -> tuple[str, bytes]:
        queues = storage.queue_service_client(connection)
        blobs = storage.blob_service_client(connection)
        assert storage.queue_service_client(connection) is queues
        assert storage.blob_service_client(connection) is blobs
        queue = queues.get_queue_client("storage-clients")
        await queue.create_queue()
        await queue.send_message("hello")
        message = await queue.receive_message()
        container = blobs.get_container_client("storage-clients")
        await container.create_container()
        await container.upload_blob("b.txt", b"data")
        data = await (await container.download_blob("b.txt")).readall()
        await storage.close_clients()
        assert storage.queue_service_client(connection) is not queues  # a new one after close
        await storage.close_clients()
        assert message is not None
        return message.content, data

    assert asyncio.run(main()) == ("hello", b"data")


def test_a_refused_connection_fails_within_the_short_retry(azurite: Azurite) -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = azurite.connection_string.replace(f":{azurite.queue_port}/", f":{port}/")
    connection = Connection("X", "X", dead)

    async def main() -> float:
        client = storage.queue_service_client(connection).get_queue_client("q")
        started = time.monotonic()
        try:
            await client.get_queue_properties()
        except Exception as exc:
            assert type(exc).__name__ == "ServiceRequestError"
        else:
            raise AssertionError("expected a connection error")
        finally:
            await storage.close_clients()
        return time.monotonic() - started

    # 3 retries after 0.8, 1.6 and 3.2 s (±20 %): well under the SDK's 15 s first backoff.
    assert asyncio.run(main()) < 8
