"""Anchor of the queue group: a hand-written async storage SDK loop, receive 32 → delete them.

    BENCH_STORAGE=<connection string> python bench/sdk_loop.py QUEUE COUNT

Prints ``ready`` once connected (the clock starts after it), exits after COUNT messages. An
empty receive pauses 100 ms, the host's shortest polling interval.
"""

from __future__ import annotations

import asyncio
import os
import sys


async def sdk_loop(connection: str, queue: str, count: int) -> None:
    """Receive 32, delete them concurrently, until count messages are done."""
    from azure.storage.queue.aio import QueueClient

    done = 0
    async with QueueClient.from_connection_string(connection, queue) as client:
        await client.get_queue_properties()  # connected before the clock starts
        print("ready", flush=True)
        while done < count:
            pages = client.receive_messages(
                messages_per_page=32, max_messages=32, visibility_timeout=600
            ).by_page()
            batch = []
            async for page in pages:
                batch = [message async for message in page]
                break
            if not batch:
                await asyncio.sleep(0.1)
                continue
            await asyncio.gather(*(client.delete_message(m) for m in batch))
            done += len(batch)


def main() -> None:
    """Drain the queue named by the first argument of as many messages as the second."""
    asyncio.run(sdk_loop(os.environ["BENCH_STORAGE"], sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    main()
