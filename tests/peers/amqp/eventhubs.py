"""Event Hubs (stub until milestone 2)."""

from __future__ import annotations

from typing import Any

from proton import Condition


class EventHub:
    def __init__(self, name: str, partitions: int) -> None:
        self.name = name
        self.partition_ids = [str(i) for i in range(partitions)]
        self.partitions: list[Any] = []


def attach_hub_consumer(conn: Any, link: Any, hub: Any, path: str) -> Condition | None:
    return Condition("amqp:not-implemented", "event hubs are not implemented yet")


def hub_read(broker: Any, app: Any, body: Any) -> Any:
    from .management import Reply

    return Reply(501)
