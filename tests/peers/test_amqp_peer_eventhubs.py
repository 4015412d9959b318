"""The AMQP peer against the real azure-eventhub async SDK: properties, partitions, positions.

One peer per module; each test has its own hub (4 partitions).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from amqp_peer import AmqpPeer, peer_fixture
from azure.eventhub import EventData
from azure.eventhub.aio import EventHubConsumerClient, EventHubProducerClient

HUBS = [
    "props",
    "partitions",
    "positions",
    "batch",
    "keys",
    "epoch",
    "latest",
    "runtime",
    "service-hash",
]
eh_peer = peer_fixture(scope="module", eventhubs={hub: 4 for hub in HUBS})
TEST_TIMEOUT = 40.0


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine bounded in time."""
    return asyncio.run(asyncio.wait_for(body(), TEST_TIMEOUT))


def producer(peer: AmqpPeer, hub: str) -> EventHubProducerClient:
    """A producer client of the peer."""
    return EventHubProducerClient.from_connection_string(peer.connection_string, eventhub_name=hub)


def consumer(peer: AmqpPeer, hub: str) -> EventHubConsumerClient:
    """A consumer client of ``$Default``; load balancing every second so close() is quick."""
    return EventHubConsumerClient.from_connection_string(
        peer.connection_string,
        consumer_group="$Default",
        eventhub_name=hub,
        load_balancing_interval=1,
    )


async def collect(
    client: EventHubConsumerClient, count: int, wait: float = 8.0, **receive: Any
) -> list[Any]:
    """Receive until ``count`` events arrived (or ``wait`` seconds passed), then close."""
    events: list[Any] = []
    done = asyncio.Event()

    async def on_event(context: Any, event: Any) -> None:
        if event is not None:
            events.append((context.partition_id, event))
        if len(events) >= count:
            done.set()

    task = asyncio.create_task(client.receive(on_event, **receive))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), wait)
    await client.close()
    await task
    return events


async def send_to(client: EventHubProducerClient, partition_id: str, *bodies: str) -> None:
    """One batch of ``bodies`` to one partition."""
    batch = await client.create_batch(partition_id=partition_id)
    for body in bodies:
        batch.add(EventData(body))
    await client.send_batch(batch)


def test_hub_and_partition_properties(eh_peer: AmqpPeer) -> None:
    async def body() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with producer(eh_peer, "props") as client:
            hub = await client.get_eventhub_properties()
            empty = await client.get_partition_properties("2")
            await send_to(client, "2", "x", "y")
            return hub, empty, await client.get_partition_properties("2")

    hub, empty, filled = run(body)
    assert hub["eventhub_name"] == "props" and hub["partition_ids"] == ["0", "1", "2", "3"]
    assert empty["is_empty"] and empty["last_enqueued_sequence_number"] == -1
    assert not filled["is_empty"] and filled["last_enqueued_sequence_number"] == 1
    assert int(filled["last_enqueued_offset"]) > 0


def test_each_partition_is_read_from_the_start(eh_peer: AmqpPeer) -> None:
    async def body() -> dict[str, list[tuple[str, int]]]:
        async with producer(eh_peer, "partitions") as client:
            for pid in "0123":
                await send_to(client, pid, f"{pid}-a", f"{pid}-b")
        found: dict[str, list[tuple[str, int]]] = {}
        for pid in "0123":
            events = await collect(
                consumer(eh_peer, "partitions"), 2, partition_id=pid, starting_position="-1"
            )
            found[pid] = [(e.body_as_str(), e.sequence_number) for _, e in events]
        return found

    found = run(body)
    assert found == {pid: [(f"{pid}-a", 0), (f"{pid}-b", 1)] for pid in "0123"}


def test_positions_by_offset_sequence_number_and_time(eh_peer: AmqpPeer) -> None:
    async def body() -> tuple[list[str], list[str], list[str], list[str]]:
        async with producer(eh_peer, "positions") as client:
            await send_to(client, "0", "e0", "e1", "e2", "e3")
        events = await collect(
            consumer(eh_peer, "positions"), 4, partition_id="0", starting_position="-1"
        )
        first = [e for _, e in events]
        offset = first[1].offset
        after_offset = await collect(
            consumer(eh_peer, "positions"), 2, partition_id="0", starting_position=offset
        )
        from_seq = await collect(
            consumer(eh_peer, "positions"),
            2,
            partition_id="0",
            starting_position=2,
            starting_position_inclusive=True,
        )
        from_time = await collect(
            consumer(eh_peer, "positions"),
            4,
            partition_id="0",
            starting_position=datetime(2000, 1, 1, tzinfo=timezone.utc),
        )
        texts = [
            [e.body_as_str() for _, e in found] for found in (after_offset, from_seq, from_time)
        ]
        return [e.body_as_str() for e in first], texts[0], texts[1], texts[2]

    first, after_offset, from_seq, from_time = run(body)
    assert first == ["e0", "e1", "e2", "e3"]
    assert after_offset == ["e2", "e3"]
    assert from_seq == ["e2", "e3"]
    assert from_time == first


def test_latest_skips_what_was_sent_before(eh_peer: AmqpPeer) -> None:
    async def body() -> list[str]:
        async with producer(eh_peer, "latest") as client:
            await send_to(client, "3", "old")
            reader = consumer(eh_peer, "latest")
            task = asyncio.create_task(
                collect(reader, 1, partition_id="3", starting_position="@latest")
            )
            await asyncio.sleep(2)
            await send_to(client, "3", "new")
            events = await task
        return [e.body_as_str() for _, e in events]

    assert run(body) == ["new"]


def test_receive_batch_across_partitions(eh_peer: AmqpPeer) -> None:
    async def body() -> list[tuple[str, str]]:
        async with producer(eh_peer, "batch") as client:
            for pid in "0123":
                await send_to(client, pid, *(f"{pid}/{i}" for i in range(5)))
        reader = consumer(eh_peer, "batch")
        found: list[tuple[str, str]] = []
        done = asyncio.Event()

        async def on_batch(context: Any, events: list[Any]) -> None:
            found.extend((context.partition_id, e.body_as_str()) for e in events)
            if len(found) >= 20:
                done.set()

        task = asyncio.create_task(
            reader.receive_batch(on_batch, max_batch_size=10, starting_position="-1")
        )
        try:
            await asyncio.wait_for(done.wait(), 15)
        finally:
            await reader.close()
            await task
        return found

    found = run(body)
    assert sorted(found) == sorted((pid, f"{pid}/{i}") for pid in "0123" for i in range(5))


def test_batches_with_a_partition_key_land_in_one_partition(eh_peer: AmqpPeer) -> None:
    async def body() -> tuple[set[str], set[str], list[str]]:
        async with producer(eh_peer, "keys") as client:
            for key, prefix in (("alpha", "a"), ("beta", "b")):
                for round_ in range(2):
                    batch = await client.create_batch(partition_key=key)
                    for i in range(3):
                        batch.add(EventData(f"{prefix}{round_}{i}"))
                    await client.send_batch(batch)
        events = await collect(consumer(eh_peer, "keys"), 12, starting_position="-1")
        alpha = {pid for pid, e in events if e.body_as_str().startswith("a")}
        beta = {pid for pid, e in events if e.body_as_str().startswith("b")}
        keys = sorted({e.partition_key.decode() for _, e in events})
        return alpha, beta, keys

    alpha, beta, keys = run(body)
    assert len(alpha) == 1 and len(beta) == 1 and keys == ["alpha", "beta"]


def test_a_partition_key_lands_where_the_service_puts_it(eh_peer: AmqpPeer) -> None:
    async def body() -> list[str]:
        async with producer(eh_peer, "service-hash") as client:
            await client.send_batch([EventData("keyed")], partition_key="7")
        events = await collect(consumer(eh_peer, "service-hash"), 1, starting_position="-1")
        return [pid for pid, _ in events]

    # lookup3("7") is -15263; the service takes abs(-15263 % 4) with C#'s remainder: 3.
    assert run(body) == ["3"]


def test_a_higher_owner_level_steals_the_partition(eh_peer: AmqpPeer) -> None:
    async def body() -> tuple[list[str], list[str], list[Any]]:
        errors: list[Any] = []
        first: list[str] = []
        second: list[str] = []

        def recorder(into: list[str]) -> Callable[[Any, Any], Awaitable[None]]:
            async def on_event(context: Any, event: Any) -> None:
                into.append(event.body_as_str())

            return on_event

        async def on_error(context: Any, error: Exception) -> None:
            errors.append(error)

        old, new = consumer(eh_peer, "epoch"), consumer(eh_peer, "epoch")
        common = {"partition_id": "1", "starting_position": "-1", "on_error": on_error}
        old_task = asyncio.create_task(old.receive(recorder(first), owner_level=1, **common))
        async with producer(eh_peer, "epoch") as client:
            await send_to(client, "1", "before")
            await asyncio.sleep(2)
            new_task = asyncio.create_task(new.receive(recorder(second), owner_level=2, **common))
            await asyncio.sleep(2)
            await send_to(client, "1", "after")
            await asyncio.sleep(2)
        for client_, task in ((old, old_task), (new, new_task)):
            await client_.close()
            await task
        return first, second, errors

    first, second, errors = run(body)
    assert first == ["before"]
    assert second == ["before", "after"]
    assert errors and all("amqp:link:stolen" in str(e) for e in errors), errors


def test_last_enqueued_event_properties_are_tracked(eh_peer: AmqpPeer) -> None:
    async def body() -> tuple[list[Any], Any]:
        async with producer(eh_peer, "runtime") as client:
            await send_to(client, "0", "r0", "r1", "r2")
        reader = consumer(eh_peer, "runtime")
        found: list[Any] = []
        last: list[Any] = []
        done = asyncio.Event()

        async def on_event(context: Any, event: Any) -> None:
            found.append(event.body_as_str())
            last.append(context.last_enqueued_event_properties)
            if len(found) >= 3:
                done.set()

        task = asyncio.create_task(
            reader.receive(
                on_event,
                partition_id="0",
                starting_position="-1",
                track_last_enqueued_event_properties=True,
            )
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 8)
        await reader.close()
        await task
        return found, last[-1]

    found, last = run(body)
    assert found == ["r0", "r1", "r2"]
    assert last["sequence_number"] == 2 and int(last["offset"]) > 0
