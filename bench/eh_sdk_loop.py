"""Anchor of the eventhubs group: a hand-written EventHubConsumerClient loop.

    BENCH_EH=<connection> BENCH_STORAGE=<connection> python bench/eh_sdk_loop.py HUB COUNT

The same work funchost's trigger does for a cardinality-many function, written as the SDK's
samples write it: ``receive_batch`` of up to 100 events (prefetch 300) on the blob checkpoint
store in the container ``azure-webjobs-eventhub``, the balanced strategy with a 1 s balancing
interval, a checkpoint after every batch. Prints ``ready`` once the client exists (the clock
starts there), then ``done <monotonic time>`` after COUNT events, and exits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any


async def consume(hub: str, count: int) -> None:
    """Read until count events were handled; a checkpoint after each batch."""
    from azure.eventhub import LoadBalancingStrategy
    from azure.eventhub.aio import EventHubConsumerClient
    from azure.eventhub.extensions.checkpointstoreblobaio import BlobCheckpointStore

    store = BlobCheckpointStore.from_connection_string(
        os.environ["BENCH_STORAGE"], "azure-webjobs-eventhub"
    )
    client = EventHubConsumerClient.from_connection_string(
        os.environ["BENCH_EH"],
        "$Default",
        eventhub_name=hub,
        checkpoint_store=store,
        load_balancing_interval=1,
        partition_ownership_expiration_interval=10,
        load_balancing_strategy=LoadBalancingStrategy.BALANCED,
    )
    done = asyncio.Event()
    seen = 0

    async def on_batch(context: Any, events: list[Any]) -> None:
        nonlocal seen
        if not events:
            return
        seen += len(events)
        await context.update_checkpoint(events[-1])
        if seen >= count and not done.is_set():
            print(f"done {time.monotonic():.6f}", flush=True)
            done.set()

    print("ready", flush=True)
    task = asyncio.create_task(
        client.receive_batch(on_batch, max_batch_size=100, prefetch=300, starting_position="-1")
    )
    await done.wait()
    await client.close()
    await task


def main() -> None:
    """Consume COUNT events of HUB."""
    asyncio.run(consume(sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    main()
