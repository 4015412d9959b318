"""The AMQP peer against the real azure-servicebus async SDK: queues, locks, settlement, DLQ.

One peer per module (lock duration 2 s, max delivery count 3); each test has its own queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from amqp_peer import AmqpPeer, AmqpPeerError, peer_fixture, start_peer
from azure.servicebus import ServiceBusMessage, ServiceBusReceiveMode, ServiceBusSubQueue
from azure.servicebus.aio import AutoLockRenewer, ServiceBusClient, ServiceBusReceiver
from azure.servicebus.exceptions import MessagingEntityNotFoundError

LOCK = 2.0
MAX_DELIVERY = 3
QUEUES = [
    "basic",
    "abandon",
    "expiry",
    "maxdelivery",
    "peek",
    "deadletter",
    "delete",
    "defer",
    "schedule",
    "batch",
    "release",
    "ttl",
]
sb_peer = peer_fixture(
    scope="module", queues=QUEUES, lock_duration=LOCK, max_delivery_count=MAX_DELIVERY
)
# AutoLockRenewer checks once a second and renews within half the lock duration (whole
# seconds) of expiry: it cannot keep a 2 s lock, so its test has a peer with longer locks.
RENEW_LOCK = 4.0
renew_peer = peer_fixture(scope="module", queues=["renewer"], lock_duration=RENEW_LOCK)
TEST_TIMEOUT = 40.0


def run(peer: AmqpPeer, body: Callable[[ServiceBusClient], Awaitable[Any]]) -> Any:
    """Run ``body`` with a client of the peer, bounded in time."""

    async def main() -> Any:
        async with ServiceBusClient.from_connection_string(peer.connection_string) as client:
            return await body(client)

    return asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT))


async def send(client: ServiceBusClient, queue: str, *bodies: str, **kwargs: Any) -> None:
    """Send one message per body."""
    async with client.get_queue_sender(queue) as sender:
        await sender.send_messages([ServiceBusMessage(b, **kwargs) for b in bodies])


async def receive(receiver: ServiceBusReceiver, count: int = 1, wait: float = 3.0) -> list[Any]:
    """Up to ``count`` messages, waiting at most ``wait`` seconds overall."""
    found: list[Any] = []
    deadline = asyncio.get_running_loop().time() + wait
    while len(found) < count:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            break
        found += await receiver.receive_messages(count - len(found), max_wait_time=left)
    return found


def test_send_receive_complete_leaves_the_queue_empty(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[str], list[Any], list[Any]]:
        await send(client, "basic", "one", "two", application_properties={"k": "v"})
        async with client.get_queue_receiver("basic") as receiver:
            got = await receive(receiver, 2)
            for message in got:
                assert message.application_properties == {b"k": b"v"}
                await receiver.complete_message(message)
            texts = [str(m) for m in got]
            again = await receiver.receive_messages(1, max_wait_time=1)
            return texts, again, await receiver.peek_messages(10)

    texts, again, peeked = run(sb_peer, body)
    assert texts == ["one", "two"]
    assert again == [] and peeked == []


def test_abandon_redelivers_with_delivery_count_one(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[int, int, str]:
        await send(client, "abandon", "again")
        async with client.get_queue_receiver("abandon") as receiver:
            (first,) = await receive(receiver)
            await receiver.abandon_message(first)
            (second,) = await receive(receiver)
            await receiver.complete_message(second)
            return first.delivery_count, second.delivery_count, str(second)

    assert run(sb_peer, body) == (0, 1, "again")


def test_lock_expiry_redelivers(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[Any, Any, bool]:
        await send(client, "expiry", "slow")
        async with client.get_queue_receiver("expiry") as receiver:
            (first,) = await receive(receiver)
            locked_for = first.locked_until_utc - datetime.now(timezone.utc)
            (second,) = await receive(receiver, wait=LOCK + 3)
            await receiver.complete_message(second)
            return first.sequence_number, second.sequence_number, locked_for

    first, second, locked_for = run(sb_peer, body)
    assert first == second
    assert timedelta(0) < locked_for <= timedelta(seconds=LOCK)


def test_max_delivery_count_moves_the_message_to_the_dead_letter_queue(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[int, Any, Any]:
        await send(client, "maxdelivery", "poison")
        deliveries = 0
        async with client.get_queue_receiver("maxdelivery") as receiver:
            for _ in range(MAX_DELIVERY + 1):
                got = await receive(receiver, wait=1.5)
                if not got:
                    break
                deliveries += 1
                await receiver.abandon_message(got[0])
        dlq = client.get_queue_receiver("maxdelivery", sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        async with dlq:
            (dead,) = await receive(dlq)
            await dlq.complete_message(dead)
            return deliveries, dead.dead_letter_reason, str(dead)

    deliveries, reason, text = run(sb_peer, body)
    assert (deliveries, reason, text) == (MAX_DELIVERY, "MaxDeliveryCountExceeded", "poison")


def test_auto_lock_renewer_keeps_the_message_past_its_lock(renew_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[Any], int]:
        await send(client, "renewer", "long work")
        renewer = AutoLockRenewer(max_lock_renewal_duration=30)
        async with client.get_queue_receiver("renewer") as receiver:
            (message,) = await receive(receiver)
            renewer.register(receiver, message)
            await asyncio.sleep(RENEW_LOCK * 2)
            others = await receiver.receive_messages(1, max_wait_time=0.5)
            await receiver.complete_message(message)
            await renewer.close()
            return others, message.delivery_count

    others, count = run(renew_peer, body)
    assert others == [] and count == 0


def test_peek_shows_messages_without_locking_them(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[str], list[int], list[str]]:
        await send(client, "peek", "a", "b", "c")
        async with client.get_queue_receiver("peek") as receiver:
            peeked = await receiver.peek_messages(2)
            rest = await receiver.peek_messages(5)
            got = await receive(receiver, 3)
            for message in got:
                await receiver.complete_message(message)
            numbers = [m.sequence_number for m in peeked]
            return [str(m) for m in peeked], numbers, [str(m) for m in got + rest[:0]]

    peeked, numbers, received = run(sb_peer, body)
    assert peeked == ["a", "b"] and numbers == [1, 2]
    assert received == ["a", "b", "c"]


def test_dead_letter_with_reason_and_description(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[Any, Any, str, list[Any]]:
        await send(client, "deadletter", "bad")
        async with client.get_queue_receiver("deadletter") as receiver:
            (message,) = await receive(receiver)
            await receiver.dead_letter_message(message, "Invalid", "field x is missing")
            left = await receiver.receive_messages(1, max_wait_time=0.5)
        dlq = client.get_queue_receiver("deadletter", sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        async with dlq:
            (dead,) = await receive(dlq)
            await dlq.complete_message(dead)
        return dead.dead_letter_reason, dead.dead_letter_error_description, str(dead), left

    reason, description, text, left = run(sb_peer, body)
    assert (reason, description, text, left) == ("Invalid", "field x is missing", "bad", [])


def test_receive_and_delete_needs_no_settlement(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[str], list[Any]]:
        await send(client, "delete", "x", "y")
        mode = ServiceBusReceiveMode.RECEIVE_AND_DELETE
        async with client.get_queue_receiver("delete", receive_mode=mode) as receiver:
            got = await receive(receiver, 2)
        async with client.get_queue_receiver("delete") as receiver:
            return [str(m) for m in got], await receiver.peek_messages(5)

    assert run(sb_peer, body) == (["x", "y"], [])


def test_deferred_message_is_received_by_sequence_number(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[str, list[Any]]:
        await send(client, "defer", "later")
        async with client.get_queue_receiver("defer") as receiver:
            (message,) = await receive(receiver)
            await receiver.defer_message(message)
            nothing = await receiver.receive_messages(1, max_wait_time=0.5)
            (back,) = await receiver.receive_deferred_messages([message.sequence_number])
            await receiver.complete_message(back)
            return str(back), nothing + await receiver.peek_messages(5)

    assert run(sb_peer, body) == ("later", [])


def test_scheduled_message_arrives_at_its_time(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[Any], str, bool]:
        async with client.get_queue_receiver("schedule") as receiver:
            # The receiver's connection is up before the clock starts.
            await receiver.peek_messages(1)
            async with client.get_queue_sender("schedule") as sender:
                when = datetime.now(timezone.utc) + timedelta(seconds=2)
                (number,) = await sender.schedule_messages(ServiceBusMessage("timed"), when)
            early = await receiver.receive_messages(1, max_wait_time=0.5)
            (message,) = await receive(receiver, wait=5)
            await receiver.complete_message(message)
            return early, str(message), message.sequence_number == number

    early, text, same = run(sb_peer, body)
    assert early == [] and text == "timed" and same


def test_batch_send_delivers_each_message(sb_peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> list[str]:
        async with client.get_queue_sender("batch") as sender:
            batch = await sender.create_message_batch()
            for i in range(50):
                batch.add_message(ServiceBusMessage(f"m{i}", subject="s"))
            await sender.send_messages(batch)
        async with client.get_queue_receiver("batch", prefetch_count=20) as receiver:
            got = await receive(receiver, 50, wait=5)
            await asyncio.gather(*(receiver.complete_message(m) for m in got))
            return [f"{m}/{m.subject}" for m in got]

    assert run(sb_peer, body) == [f"m{i}/s" for i in range(50)]


@pytest.mark.parametrize("queue", ["release"])
def test_messages_prefetched_but_not_handed_out_come_back(sb_peer: AmqpPeer, queue: str) -> None:
    async def body(client: ServiceBusClient) -> list[str]:
        await send(client, queue, "p1", "p2", "p3")
        async with client.get_queue_receiver(queue, prefetch_count=10) as receiver:
            (first,) = await receiver.receive_messages(1, max_wait_time=2)
            await receiver.complete_message(first)
        async with client.get_queue_receiver(queue) as receiver:
            rest = await receive(receiver, 2, wait=LOCK + 3)
            for message in rest:
                await receiver.complete_message(message)
        return [str(first), *sorted(str(m) for m in rest)]

    assert run(sb_peer, body) == ["p1", "p2", "p3"]


def test_an_undeclared_queue_is_refused_as_not_found(sb_peer: AmqpPeer) -> None:
    async def body() -> None:
        client = ServiceBusClient.from_connection_string(sb_peer.connection_string, retry_total=0)
        async with client, client.get_queue_sender("nosuchqueue") as sender:
            await sender.send_messages(ServiceBusMessage("lost"))

    with pytest.raises(MessagingEntityNotFoundError, match="nosuchqueue"):
        asyncio.run(asyncio.wait_for(body(), TEST_TIMEOUT))


def test_the_launcher_reports_a_bad_entity_with_the_peer_error() -> None:
    with pytest.raises(AmqpPeerError, match="NAME:PARTITIONS"):
        start_peer(eventhubs={"hub": 0})


def test_an_expired_message_is_not_delivered(sb_peer: AmqpPeer) -> None:
    async def body() -> list[str]:
        async with ServiceBusClient.from_connection_string(sb_peer.connection_string) as client:
            async with client.get_queue_sender("ttl") as sender:
                short = ServiceBusMessage("stale", time_to_live=timedelta(seconds=1))
                await sender.send_messages([short, ServiceBusMessage("fresh")])
            await asyncio.sleep(1.5)  # the SDK sends whole seconds of time-to-live
            async with client.get_queue_receiver("ttl") as receiver:
                got = await receive(receiver, 1)
                await receiver.complete_message(got[0])
                got += await receiver.receive_messages(1, max_wait_time=0.5)
                return [str(m) for m in got]

    assert asyncio.run(asyncio.wait_for(body(), TEST_TIMEOUT)) == ["fresh"]
