"""What the local AMQP peer (tests/peers/amqp) sustains alone, driven by the real SDKs.

    python -m bench.amqp_peer [--messages N] [--batch N]     # from the repository root

Service Bus: send N messages in batches; then a PEEK_LOCK receiver (prefetch) receives and
completes them all (completions of a received batch run concurrently). Event Hubs: send N events
in batches over 4 partitions; then an EventHubConsumerClient reads them all back with
receive_batch. For each phase: messages per second and the peer's CPU use over the phase (its
utime+stime from /proc / wall time): a peer well under one core while the client is the busy
side is not the bottleneck. ``run(messages, batch)`` returns the figures for other scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.amqp_peer import amqp_peer

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def measured(pid: int, count: int, phase: Callable[[], Awaitable[None]]) -> dict[str, float]:
    """Run one phase; its rate and the peer's CPU share."""
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    await phase()
    wall = time.perf_counter() - t0
    return {
        "per_s": round(count / wall),
        "seconds": round(wall, 2),
        "peer_cpu": round((cpu_seconds(pid) - cpu0) / wall, 2),
    }


async def servicebus(conn: str, pid: int, count: int, batch: int) -> dict[str, Any]:
    """Send in batches, then receive + complete, through azure.servicebus.aio."""
    from azure.servicebus import ServiceBusMessage
    from azure.servicebus.aio import ServiceBusClient

    payload = "x" * 256
    async with ServiceBusClient.from_connection_string(conn) as client:
        sender = client.get_queue_sender("bench")
        receiver = client.get_queue_receiver("bench", prefetch_count=batch)
        async with sender, receiver:
            await sender.send_messages(ServiceBusMessage("warm-up"))
            for message in await receiver.receive_messages(1, max_wait_time=5):
                await receiver.complete_message(message)

            async def send() -> None:
                for start in range(0, count, batch):
                    batch_ = await sender.create_message_batch()
                    for _ in range(min(batch, count - start)):
                        batch_.add_message(ServiceBusMessage(payload))
                    await sender.send_messages(batch_)

            async def receive() -> None:
                done = 0
                while done < count:
                    got = await receiver.receive_messages(batch, max_wait_time=5)
                    if not got:
                        raise RuntimeError(f"received {done} of {count} messages")
                    await asyncio.gather(*(receiver.complete_message(m) for m in got))
                    done += len(got)

            return {
                "send": await measured(pid, count, send),
                "receive_complete": await measured(pid, count, receive),
            }


async def eventhubs(conn: str, pid: int, count: int, batch: int) -> dict[str, Any]:
    """Send batches round robin over the partitions, then read them all with receive_batch.

    Each partition's producer link is opened before the clock starts (the first send to a
    partition attaches a link, ~1 s); the receive phase is timed from its first event on, since
    the consumer client's start (load balancing, four link attaches) is not the peer's speed.
    """
    from azure.eventhub import EventData
    from azure.eventhub.aio import EventHubConsumerClient, EventHubProducerClient

    payload = "x" * 256
    producer = EventHubProducerClient.from_connection_string(conn, eventhub_name="bench")

    async def send() -> None:
        for start in range(0, count, batch):
            batch_ = await producer.create_batch(partition_id=str((start // batch) % 4))
            for _ in range(min(batch, count - start)):
                batch_.add(EventData(payload))
            await producer.send_batch(batch_)

    async with producer:
        for pid_ in range(4):
            await producer.send_batch([EventData("warm-up")], partition_id=str(pid_))
        sent = await measured(pid, count, send)

    consumer = EventHubConsumerClient.from_connection_string(
        conn, consumer_group="$Default", eventhub_name="bench", load_balancing_interval=1
    )
    seen, first_at, cpu_at = 0, 0.0, 0.0
    done = asyncio.Event()

    async def on_batch(context: Any, events: list[Any]) -> None:
        nonlocal seen, first_at, cpu_at
        if not first_at:
            first_at, cpu_at = time.perf_counter(), cpu_seconds(pid)
        else:
            seen += len(events)
        if seen >= count - batch:
            done.set()

    task = asyncio.create_task(
        consumer.receive_batch(on_batch, max_batch_size=batch, starting_position="-1")
    )
    await asyncio.wait_for(done.wait(), 300)
    wall = time.perf_counter() - first_at
    received = {
        "per_s": round(seen / wall),
        "seconds": round(wall, 2),
        "peer_cpu": round((cpu_seconds(pid) - cpu_at) / wall, 2),
    }
    await consumer.close()
    await task
    return {"send": sent, "receive_batch": received}


def run(messages: int = 10000, batch: int = 100) -> dict[str, Any]:
    """Both services against one fresh peer each; the figures as a dict."""
    results: dict[str, Any] = {}
    with amqp_peer(queues=["bench"]) as peer:
        results["servicebus"] = asyncio.run(
            servicebus(peer.connection_string, peer.proc.pid, messages, batch)
        )
    with amqp_peer(eventhubs={"bench": 4}) as peer:
        results["eventhubs"] = asyncio.run(
            eventhubs(peer.connection_string, peer.proc.pid, messages, batch)
        )
    return results


def main() -> None:
    """Print the figures, one line per phase."""
    parser = argparse.ArgumentParser(prog="python -m bench.amqp_peer")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    for service, phases in run(args.messages, args.batch).items():
        for phase, figures in phases.items():
            print(
                f"{service:10} {phase:17} {figures['per_s']:>8} msg/s"
                f"  {figures['seconds']:>7} s  peer CPU {figures['peer_cpu']:.0%}"
            )


if __name__ == "__main__":
    main()
