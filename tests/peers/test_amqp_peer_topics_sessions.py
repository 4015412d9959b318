"""The AMQP peer against azure-servicebus: topics with subscriptions, and session receivers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from amqp_peer import AmqpPeer, peer_fixture
from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver
from azure.servicebus.exceptions import SessionCannotBeLockedError

peer = peer_fixture(
    scope="module",
    topics=["orders"],
    subscriptions=["orders/audit", "orders/billing"],
    session_queues=["ordered", "stateful", "exclusive", "listed"],
    lock_duration=5,
)
TEST_TIMEOUT = 40.0


def run(amqp: AmqpPeer, body: Callable[[ServiceBusClient], Awaitable[Any]], **kw: Any) -> Any:
    """Run ``body`` with a client of the peer, bounded in time."""

    async def main() -> Any:
        client = ServiceBusClient.from_connection_string(amqp.connection_string, **kw)
        async with client:
            return await body(client)

    return asyncio.run(asyncio.wait_for(main(), TEST_TIMEOUT))


async def drain(receiver: ServiceBusReceiver, count: int, wait: float = 3.0) -> list[str]:
    """Receive and complete up to ``count`` messages; their bodies in order."""
    texts: list[str] = []
    deadline = asyncio.get_running_loop().time() + wait
    while len(texts) < count and asyncio.get_running_loop().time() < deadline:
        for message in await receiver.receive_messages(count - len(texts), max_wait_time=1):
            texts.append(str(message))
            await receiver.complete_message(message)
    return texts


def test_a_topic_copies_each_message_into_every_subscription(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[str], list[str]]:
        async with client.get_topic_sender("orders") as sender:
            await sender.send_messages([ServiceBusMessage("o1"), ServiceBusMessage("o2")])
        async with client.get_subscription_receiver("orders", "audit") as audit:
            audited = await drain(audit, 2)
        async with client.get_subscription_receiver("orders", "billing") as billing:
            billed = await drain(billing, 2)
        return audited, billed

    assert run(peer, body) == (["o1", "o2"], ["o1", "o2"])


def test_a_subscription_has_its_own_dead_letter_queue(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[Any, list[str]]:
        async with client.get_topic_sender("orders") as sender:
            await sender.send_messages(ServiceBusMessage("bad order"))
        async with client.get_subscription_receiver("orders", "audit") as audit:
            (message,) = await audit.receive_messages(1, max_wait_time=3)
            await audit.dead_letter_message(message, "Rejected", "no such customer")
        dlq = client.get_subscription_receiver(
            "orders", "audit", sub_queue=ServiceBusSubQueue.DEAD_LETTER
        )
        async with dlq:
            (dead,) = await dlq.receive_messages(1, max_wait_time=3)
            await dlq.complete_message(dead)
        async with client.get_subscription_receiver("orders", "billing") as billing:
            billed = await drain(billing, 1)
        return dead.dead_letter_reason, billed

    assert run(peer, body) == ("Rejected", ["bad order"])


def test_each_session_goes_in_order_to_one_receiver(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> dict[str, list[str]]:
        async with client.get_queue_sender("ordered") as sender:
            messages = [
                ServiceBusMessage(f"{sid}-{i}", session_id=sid) for i in range(4) for sid in "ab"
            ]
            await sender.send_messages(messages)
        found: dict[str, list[str]] = {}
        for _ in range(2):
            receiver = client.get_queue_receiver("ordered", session_id=NEXT_AVAILABLE_SESSION)
            async with receiver:
                assert receiver.session is not None
                found[receiver.session.session_id] = await drain(receiver, 4)
        return found

    assert run(peer, body) == {sid: [f"{sid}-{i}" for i in range(4)] for sid in "ab"}


def test_session_state_and_lock_renewal(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[Any, Any, bool, list[str]]:
        async with client.get_queue_sender("stateful") as sender:
            await sender.send_messages(ServiceBusMessage("s", session_id="cart-1"))
        async with client.get_queue_receiver("stateful", session_id="cart-1") as receiver:
            session = receiver.session
            assert session is not None
            before = await session.get_state()
            await session.set_state(b"step 2")
            locked = session.locked_until_utc
            await asyncio.sleep(0.2)
            renewed = await session.renew_lock()
            return before, await session.get_state(), renewed > locked, await drain(receiver, 1)

    assert run(peer, body) == (None, b"step 2", True, ["s"])


def test_a_locked_session_cannot_be_taken_by_a_second_receiver(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> list[str]:
        async with client.get_queue_sender("exclusive") as sender:
            await sender.send_messages(ServiceBusMessage("x", session_id="only"))
        async with client.get_queue_receiver("exclusive", session_id="only") as first:
            with pytest.raises(SessionCannotBeLockedError):
                async with client.get_queue_receiver("exclusive", session_id="only"):
                    pass
            return await drain(first, 1)

    assert run(peer, body, retry_total=0) == ["x"]


def test_sessions_with_messages_or_state_are_listed(peer: AmqpPeer) -> None:
    async def body(client: ServiceBusClient) -> tuple[list[str], list[str], list[str]]:
        async with client.get_queue_sender("listed") as sender:
            await sender.send_messages([ServiceBusMessage("m", session_id=s) for s in "xyz"])
        async with client.get_queue_receiver("listed", session_id="x") as receiver:
            assert receiver.session is not None
            await drain(receiver, 1)
            await receiver.session.set_state(b"kept")
        async with client.get_queue_receiver("listed", session_id="y") as receiver:
            await drain(receiver, 1)
        listed = [sid async for sid in client.list_queue_sessions("listed")]
        since = datetime.now(timezone.utc) - timedelta(minutes=1)
        updated = [
            sid async for sid in client.list_queue_sessions("listed", state_updated_after=since)
        ]
        later = datetime.now(timezone.utc) + timedelta(minutes=1)
        none = [
            sid async for sid in client.list_queue_sessions("listed", state_updated_after=later)
        ]
        return sorted(listed), updated, none

    assert run(peer, body) == (["x", "z"], ["x"], [])
