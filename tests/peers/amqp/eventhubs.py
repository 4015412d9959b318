"""Event Hubs: partitions as append-only logs, consumers positioned by selector filters, epochs.

Offsets are byte positions in the partition (as the service's are), sequence numbers count from
0 per partition. Each event is encoded once when it is appended: every consumer sends the same
bytes. Consumer groups need no declaration: any name is accepted.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proton import UNDESCRIBED, Array, Condition, Data, Link, symbol, timestamp

from .codec import StoredMessage, now_ms, section
from .frames import DELIVERY_ANNOTATIONS, skip_value
from .management import Reply
from .partition_key import partition_index

if TYPE_CHECKING:
    from .broker import Broker
    from .connection import PeerConnection

SELECTOR = "apache.org:selector-filter:string"
EPOCH = "com.microsoft:epoch"
LINK_STOLEN = "amqp:link:stolen"
_SELECTOR_RE = re.compile(
    r"amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)"
    r"\s*(>=|>)\s*'([^']*)'"
)
_tags = itertools.count(1)


@dataclass
class HubConsumer:
    """A receiver link on one partition of one consumer group."""

    link: Link
    conn: PeerConnection
    partition: Partition
    group: str
    position: int
    epoch: int | None

    def dispatch(self) -> None:
        """Send events from the consumer's position while it has credit."""
        events = self.partition.events
        link = self.link
        sent = False
        settle = link.snd_settle_mode == Link.SND_SETTLED
        runtime = self.partition.runtime_info() if self.position < len(events) else b""
        while self.position < len(events) and link.credit > 0:
            delivery = link.delivery(str(next(_tags)))
            wire, split = events[self.position]
            link.send(b"".join((wire[:split], runtime, wire[split:])))
            link.advance()
            if settle:
                delivery.settle()
            self.position += 1
            sent = True
        if sent:
            self.conn.wake()

    def close(self) -> None:
        """The link is gone: stop sending to it."""
        self.partition.remove(self)


@dataclass
class Partition:
    """One partition: its events, their offsets, and the consumers reading it."""

    hub: str
    partition_id: str
    # Each event as delivered (its bytes, and where its header ends): the decoded message is
    # not kept, a partition holds only what it sends.
    events: list[tuple[bytes, int]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    next_offset: int = 0
    consumers: list[HubConsumer] = field(default_factory=list)

    def append(self, messages: list[StoredMessage]) -> None:
        """Store events, stamp them, and wake the consumers."""
        for message in messages:
            seq = len(self.events)
            message.sequence_number = seq
            message.enqueued_ms = max(now_ms(), self.enqueued[-1] if self.enqueued else 0)
            offset = self.next_offset
            stamps = {
                "x-opt-sequence-number": seq,
                "x-opt-offset": str(offset),
                "x-opt-enqueued-time": timestamp(message.enqueued_ms),
            }
            wire = message.encoded(stamps)
            self.next_offset += len(wire)
            self.events.append((wire, skip_value(wire, 0)))
            self.offsets.append(offset)
            self.enqueued.append(message.enqueued_ms)
        for consumer in list(self.consumers):
            consumer.dispatch()

    def remove(self, consumer: HubConsumer) -> None:
        """Forget a consumer."""
        if consumer in self.consumers:
            self.consumers.remove(consumer)

    def position_for(self, selector: str | None) -> int:
        """The index of the first event a selector filter asks for."""
        if selector is None:
            return 0
        if "@latest" in selector:
            return len(self.events)
        match = _SELECTOR_RE.search(selector)
        if match is None:
            raise ValueError(f"unsupported selector filter {selector!r}")
        name, operator, text = match.groups()
        value = int(text)
        keys = {
            "x-opt-offset": self.offsets,
            "x-opt-sequence-number": range(len(self.events)),
            "x-opt-enqueued-time": self.enqueued,
        }[name]
        find = bisect.bisect_left if operator == ">=" else bisect.bisect_right
        return find(keys, value)

    def runtime_info(self) -> bytes:
        """Delivery annotations with the partition's last enqueued event (receiver runtime metric).

        The service adds them when the receiver asks (desired capability
        ``com.microsoft:enable-receiver-runtime-metric``); proton-python does not expose a link's
        desired capabilities, so the peer adds them to every delivery (unused otherwise).
        """
        return section(
            DELIVERY_ANNOTATIONS,
            {
                symbol("last_enqueued_sequence_number"): len(self.events) - 1,
                symbol("last_enqueued_offset"): str(self.offsets[-1]),
                symbol("last_enqueued_time_utc"): timestamp(self.enqueued[-1]),
                symbol("runtime_info_retrieval_time_utc"): timestamp(now_ms()),
            },
        )

    def properties(self) -> dict[str, Any]:
        """The answer to a partition READ."""
        empty = not self.events
        return {
            "name": self.hub,
            "partition": self.partition_id,
            "begin_sequence_number": 0,
            "last_enqueued_sequence_number": len(self.events) - 1,
            "last_enqueued_offset": "-1" if empty else str(self.offsets[-1]),
            "last_enqueued_time_utc": timestamp(0 if empty else self.enqueued[-1]),
            "is_partition_empty": empty,
        }


class EventHub:
    """A hub: partitions, and the routing of sends that name no partition."""

    def __init__(self, name: str, partitions: int) -> None:
        self.name = name
        self.created_ms = now_ms()
        self.partition_ids = [str(i) for i in range(partitions)]
        self.partitions = [Partition(name, pid) for pid in self.partition_ids]
        self._round_robin = itertools.cycle(range(partitions))

    def append(self, messages: list[StoredMessage]) -> None:
        """A send to the hub: one transfer (a batch too) lands in one partition."""
        key = messages[0].annotation("x-opt-partition-key") if messages else None
        self.partitions[self.partition_for(key)].append(messages)

    def partition_for(self, key: Any) -> int:
        """The partition the service assigns the key to, or the next one round robin."""
        if key is None:
            return next(self._round_robin)
        text = key.decode("utf-8") if isinstance(key, bytes) else str(key)
        return partition_index(text, len(self.partitions))

    def properties(self) -> dict[str, Any]:
        """The answer to a hub READ."""
        return {
            "name": self.name,
            "type": symbol("com.microsoft:eventhub"),
            "created_at": timestamp(self.created_ms),
            "partition_count": len(self.partitions),
            "partition_ids": Array(UNDESCRIBED, Data.STRING, *self.partition_ids),
        }


def attach_hub_consumer(
    conn: PeerConnection, link: Link, hub: EventHub, path: str
) -> Condition | None:
    """Bind a receiver link on ``hub/ConsumerGroups/<cg>/Partitions/<id>`` at its start position."""
    parts = path.split("/")
    if len(parts) != 5 or parts[1] != "consumergroups" or parts[3] != "partitions":
        return Condition("amqp:not-found", f"The messaging entity '{path}' could not be found.")
    if parts[4] not in hub.partition_ids:
        return Condition("com.microsoft:argument-out-of-range", f"No partition '{parts[4]}'.")
    partition = hub.partitions[int(parts[4])]
    try:
        position = partition.position_for(_selector(link))
    except ValueError as exc:
        return Condition("amqp:invalid-field", str(exc))
    epoch = _epoch(link)
    error = _take_over(partition, parts[2], epoch)
    if error is not None:
        return error
    consumer = HubConsumer(link, conn, partition, parts[2], position, epoch)
    link.peer_role = consumer
    partition.consumers.append(consumer)
    return None


def _selector(link: Link) -> str | None:
    data = link.remote_source.filter
    data.rewind()
    filters = data.get_object() if data.next() is not None else None
    if not filters:
        return None
    value = filters.get(symbol(SELECTOR))
    if value is None:
        return None
    text = getattr(value, "value", value)
    return text.decode() if isinstance(text, (bytes, memoryview)) else str(text)


def _epoch(link: Link) -> int | None:
    properties = link.remote_properties or {}
    value = properties.get(symbol(EPOCH))
    return None if value is None else int(value)


def _take_over(partition: Partition, group: str, epoch: int | None) -> Condition | None:
    """Owner level: a receiver with an epoch at least as high as the others detaches them.

    A receiver without an epoch cannot join a partition an epoch receiver holds, and a lower
    epoch cannot join a higher one; both are refused with ``amqp:link:stolen`` as the service does.
    """
    rivals = [c for c in partition.consumers if c.group == group]
    epochs = [c.epoch for c in rivals if c.epoch is not None]
    if epochs and (epoch is None or epoch < max(epochs)):
        return Condition(LINK_STOLEN, f"A receiver with a higher epoch '{max(epochs)}' exists.")
    if epoch is None:
        return None
    for rival in rivals:
        rival.link.condition = Condition(
            LINK_STOLEN,
            f"New receiver with higher epoch of '{epoch}' is created hence current receiver "
            f"with epoch '{rival.epoch}' is getting disconnected.",
        )
        rival.link.close()
        partition.remove(rival)
        rival.link.peer_role = None
        rival.conn.wake()
    return None


def hub_read(broker: Broker, app: dict[Any, Any], body: Any) -> Reply:
    """``$management`` READ of a hub or of one of its partitions."""
    if str(app.get("operation")) != "READ":
        return Reply(501, None, "Only READ is implemented by this peer.")
    hub = broker.hubs.get(str(app.get("name", "")).lower())
    if hub is None:
        return Reply(404, None, f"The messaging entity '{app.get('name')}' could not be found.")
    kind = str(app.get("type", ""))
    if kind == "com.microsoft:eventhub":
        return Reply(200, hub.properties())
    if kind == "com.microsoft:partition":
        partition_id = str(app.get("partition"))
        if partition_id not in hub.partition_ids:
            return Reply(404, None, f"No partition '{partition_id}'.")
        return Reply(200, hub.partitions[int(partition_id)].properties())
    return Reply(400, None, f"Unknown type {kind!r}.")
