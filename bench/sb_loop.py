"""Anchor of the servicebus group: a hand-written azure-servicebus receive → complete loop.

    BENCH_SB=<connection string> python bench/sb_loop.py QUEUE COUNT CONCURRENCY [uvloop]

Prints ``ready`` once connected (the clock starts after it) and ``done`` after COUNT messages.
Each receive asks for up to CONCURRENCY messages (funchost's maxConcurrentCalls), then
completes them one after another: the SDK's own sample loop. (Completing them concurrently
is slower: with 8 or more settlements in flight on one link, the SDK waits out 0.2 s reads.)
It runs on asyncio's own loop, as the SDK's samples do; with ``uvloop`` as a fourth argument,
on uvloop, the loop funchost runs on (an informational row of the bench, not the anchor).
"""

from __future__ import annotations

import asyncio
import os
import sys


async def sb_loop(connection: str, queue: str, count: int, concurrency: int) -> None:
    """Receive up to concurrency messages, complete them in turn, until count are done."""
    from azure.servicebus.aio import ServiceBusClient

    done = 0
    client = ServiceBusClient.from_connection_string(connection)
    async with client, client.get_queue_receiver(queue) as receiver:
        await receiver.peek_messages(max_message_count=1)  # connected before the clock starts
        print("ready", flush=True)
        while done < count:
            batch = await receiver.receive_messages(max_message_count=concurrency, max_wait_time=5)
            for message in batch:
                await receiver.complete_message(message)
            done += len(batch)
        print("done", flush=True)  # the clock stops here, before the clients close


def main() -> None:
    """Drain the queue named by the first argument of as many messages as the second."""
    queue, count, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    loop = sb_loop(os.environ["BENCH_SB"], queue, count, concurrency)
    if sys.argv[4:] == ["uvloop"]:
        import uvloop

        uvloop.run(loop)
    else:
        asyncio.run(loop)


if __name__ == "__main__":
    main()
