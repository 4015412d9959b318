"""The host's blob trigger queue listener in-process on Azurite: a stop gives back what it cut.

A message whose function is still running at the stop deadline is cancelled and made visible
again at once, so the next host instance runs the blob now rather than after the message's
10 minutes of invisibility.
"""

from __future__ import annotations

import asyncio

from azure.storage.blob import BlobProperties
from azure.storage.queue import QueueMessage
from azurite import Azurite
from blob_helpers import queue_service, unique

from funchost.bindings.blob.paths import BlobPath
from funchost.bindings.blob.queue import (
    BlobQueueListener,
    BlobTriggerMessage,
    QueueOptions,
    Registration,
)
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.storage import close_clients, queue_service_client


def test_a_blob_cancelled_at_the_stop_deadline_is_queued_again_right_after_stop(
    azurite: Azurite,
) -> None:
    name = unique("azure-webjobs-blobtrigger-cut")
    connection = Connection("AzureWebJobsStorage", "AzureWebJobsStorage", azurite.connection_string)
    message = BlobTriggerMessage("Host.Functions.cut", "BlockBlob", "c", "b.txt", '"0x1"')

    async def scenario() -> tuple[str, list[QueueMessage]]:
        started = asyncio.Event()

        async def run(parsed: BlobTriggerMessage, queued: QueueMessage, _: BlobProperties) -> bool:
            started.set()
            await asyncio.Event().wait()  # a function still running at the deadline
            raise AssertionError("never set")

        async def properties(_: Registration, path: BlobPath) -> BlobProperties:
            return BlobProperties(etag=message.etag)

        queues = queue_service_client(connection)
        listener = BlobQueueListener(
            queues.get_queue_client(name),
            lambda _: queues.get_queue_client(f"{name}-poison"),
            QueueOptions(max_degree_of_parallelism=4, poison_threshold=5, max_polling_interval=1),
            lambda registration, path: None,
            properties,
        )
        listener.register(Registration("Host.Functions.cut", "cut", connection, False, run))
        sent = await listener.enqueue(message)
        listener.start()
        try:
            await asyncio.wait_for(started.wait(), 20)
            await listener.stop(asyncio.get_running_loop().time())  # the deadline is now
            peek = queue_service(azurite).get_queue_client(name).peek_messages
            return sent, await asyncio.to_thread(peek, max_messages=32)
        finally:
            await listener.stop(asyncio.get_running_loop().time())
            await close_clients()

    sent, visible = asyncio.run(scenario())
    assert [(m.id, m.dequeue_count) for m in visible] == [(sent, 1)]
