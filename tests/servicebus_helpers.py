"""Helpers for the Service Bus tests: entity names, settings, and the SDK on the test's side.

The peer is tests/peers/amqp (started through tests/amqp_peer.py); everything here talks to it
with the real ``azure-servicebus`` SDK, as a user's own code would.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from typing import Any

from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient

APP = "sb_trigger"
_counter = itertools.count()
SDK_TIMEOUT = 30.0


def unique(tag: str) -> str:
    """A name no other test uses (the peer is shared within a module)."""
    return f"{tag}{next(_counter)}"


def sb_env(connection_string: str, **entities: str) -> dict[str, str]:
    """App settings: the SB connection and SB_<NAME> entity names (fields=... → SB_FIELDS)."""
    env = {"SB": connection_string}
    env.update({f"SB_{key.upper()}": value for key, value in entities.items()})
    return env


def _run(work: Any) -> Any:
    return asyncio.run(asyncio.wait_for(work, SDK_TIMEOUT))


def send(
    connection_string: str, entity: str, *bodies: str | bytes, **fields: Any
) -> list[ServiceBusMessage]:
    """Send one message per body to a queue or topic, with the same extra fields on each."""
    messages = [ServiceBusMessage(body, **fields) for body in bodies]

    async def work() -> None:
        client = ServiceBusClient.from_connection_string(connection_string)
        async with client, client.get_queue_sender(entity) as sender:
            for message in messages:
                await sender.send_messages(message)

    _run(work())
    return messages


def send_many(connection_string: str, entity: str, messages: Iterable[ServiceBusMessage]) -> None:
    """Send prepared messages, in batches."""
    items = list(messages)

    async def work() -> None:
        client = ServiceBusClient.from_connection_string(connection_string)
        async with client, client.get_queue_sender(entity) as sender:
            for start in range(0, len(items), 50):
                await sender.send_messages(items[start : start + 50])

    _run(work())


def peek(connection_string: str, queue: str, dead_letter: bool = False) -> list[Any]:
    """The messages a queue (or its dead-letter queue) holds, without taking them."""

    async def work() -> list[Any]:
        sub = ServiceBusSubQueue.DEAD_LETTER if dead_letter else None
        client = ServiceBusClient.from_connection_string(connection_string)
        async with client, client.get_queue_receiver(queue, sub_queue=sub) as receiver:
            return list(await receiver.peek_messages(max_message_count=100))

    return list(_run(work()))


def take(connection_string: str, entity: str, wait: float = 2.0) -> list[ServiceBusReceivedMessage]:
    """Receive and complete everything a queue or a subscription ("topic/sub") holds now."""

    async def work() -> list[ServiceBusReceivedMessage]:
        got: list[ServiceBusReceivedMessage] = []
        async with ServiceBusClient.from_connection_string(connection_string) as client:
            if "/" in entity:
                topic, sub = entity.split("/")
                receiver = client.get_subscription_receiver(topic, sub)
            else:
                receiver = client.get_queue_receiver(entity)
            async with receiver:
                while True:
                    batch = await receiver.receive_messages(
                        max_message_count=50, max_wait_time=wait
                    )
                    if not batch:
                        return got
                    for message in batch:
                        await receiver.complete_message(message)
                    got += batch

    return list(_run(work()))
