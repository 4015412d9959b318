"""The broker: entities by address, link attach/detach, transfers in, timers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proton import Condition, Delivery, Link, Terminus

from .codec import parse_transfer
from .eventhubs import EventHub, attach_hub_consumer
from .management import ManagementLink, answer_request
from .servicebus import Consumer, SbEntity
from .sessions import PENDING, attach_session_consumer

if TYPE_CHECKING:
    from .connection import PeerConnection

log = logging.getLogger("amqp-peer")
SB_MAX_MESSAGE_SIZE = 256 * 1024
EH_MAX_MESSAGE_SIZE = 1024 * 1024
INITIAL_CREDIT = 1000
TICK_SECONDS = 0.1
DLQ = "$deadletterqueue"


@dataclass
class Topic:
    """A topic: every message sent to it is copied into each of its subscriptions."""

    name: str
    subscriptions: dict[str, SbEntity] = field(default_factory=dict)


@dataclass
class Options:
    """The entities to declare and their settings (from the command line)."""

    queues: list[str] = field(default_factory=list)
    session_queues: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    eventhubs: list[tuple[str, int]] = field(default_factory=list)
    lock_seconds: float = 60.0
    max_delivery_count: int = 10


def entity_path(address: str | None) -> str:
    """A link address without scheme and host, lower-cased: ``amqps://h:p/Q`` → ``q``."""
    path = address or ""
    if "://" in path:
        rest = path.split("://", 1)[1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
    return path.strip("/").lower()


class Broker:
    """All entities of one peer and the links attached to them."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.queues: dict[str, SbEntity] = {}
        self.topics: dict[str, Topic] = {}
        self.hubs: dict[str, EventHub] = {}
        self.connections: set[PeerConnection] = set()
        lock_ms = int(options.lock_seconds * 1000)
        for name in options.queues + options.session_queues:
            self._add_queue(name.lower(), lock_ms, name in options.session_queues)
        for name in options.topics:
            self.topics[name.lower()] = Topic(name)
        for pair in options.subscriptions:
            topic, sub = pair.lower().split("/", 1)
            self.topics.setdefault(topic, Topic(topic))
            self._add_queue(f"{topic}/subscriptions/{sub}", lock_ms, False)
            self.topics[topic].subscriptions[sub] = self.queues[f"{topic}/subscriptions/{sub}"]
        for name, partitions in options.eventhubs:
            self.hubs[name.lower()] = EventHub(name, partitions)

    def _add_queue(self, path: str, lock_ms: int, sessions: bool) -> None:
        limit = self.options.max_delivery_count
        dlq = SbEntity(f"{path}/{DLQ}", lock_ms, 2**31, False)
        self.queues[path] = SbEntity(path, lock_ms, limit, sessions, dlq)
        self.queues[f"{path}/{DLQ}"] = dlq

    async def run_timers(self) -> None:
        """Lock expiry and scheduled messages, checked a few times a second."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for entity in list(self.queues.values()):
                entity.tick()

    def connection_lost(self, conn: PeerConnection) -> None:
        """Forget a closed connection and every consumer it had."""
        self.connections.discard(conn)
        link = conn.connection.link_head(0)
        while link is not None:
            self.detach(link)
            link = link.next(0)

    # -- links ------------------------------------------------------------------------------------

    def attach(self, conn: PeerConnection, link: Link) -> None:
        """Answer a client's attach: echo its terminus, then bind the link to an entity."""
        self.connections.add(conn)
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        try:
            if link.is_sender:
                error = self._attach_outgoing(conn, link, entity_path(link.remote_source.address))
            else:
                error = self._attach_incoming(link, entity_path(link.remote_target.address))
        except Exception as exc:  # a malformed attach must not take the broker down
            log.exception("peer: attach failed")
            error = Condition("amqp:internal-error", str(exc))
        if isinstance(error, Condition):
            refuse(link, error)
            return
        if error == PENDING:
            return  # a next-available session attach, answered when a session has messages
        if link.state & Link.LOCAL_UNINIT:
            link.open()

    def _attach_incoming(self, link: Link, path: str) -> Condition | None:
        """A client sender: to an entity, a partition, or a management/$cbs node."""
        if path == "$cbs" or path.endswith("$management"):
            link.peer_role = ManagementLink(path)
        else:
            target = self._send_target(path)
            if target is None:
                return _not_found(path)
            link.peer_role = target
        size = EH_MAX_MESSAGE_SIZE if self._is_hub_path(path) else SB_MAX_MESSAGE_SIZE
        link.max_message_size = size
        link.open()
        link.flow(INITIAL_CREDIT)
        return None

    def _is_hub_path(self, path: str) -> bool:
        return path.split("/", 1)[0] in self.hubs or path == "$management"

    def _send_target(self, path: str) -> Any:
        if path in self.queues and DLQ not in path and "/subscriptions/" not in path:
            return self.queues[path]
        if path in self.topics:
            return self.topics[path]
        hub_name, _, rest = path.partition("/")
        hub = self.hubs.get(hub_name)
        if hub is None:
            return None
        if not rest:
            return hub
        parts = rest.split("/")
        if len(parts) == 2 and parts[0] == "partitions" and parts[1] in hub.partition_ids:
            return hub.partitions[int(parts[1])]
        return None

    def _attach_outgoing(
        self, conn: PeerConnection, link: Link, path: str
    ) -> Condition | str | None:
        """A client receiver: from a queue, a subscription, a partition, or a reply node."""
        if path == "$cbs" or path.endswith("$management"):
            link.max_message_size = SB_MAX_MESSAGE_SIZE
            conn.reply_links[(link.session, path)] = link
            return None
        hub = self.hubs.get(path.split("/", 1)[0])
        if hub is not None:
            link.max_message_size = EH_MAX_MESSAGE_SIZE
            return attach_hub_consumer(conn, link, hub, path)
        entity = self.queues.get(path)
        if entity is None:
            return _not_found(path)
        link.max_message_size = SB_MAX_MESSAGE_SIZE
        receive_and_delete = link.remote_snd_settle_mode == Link.SND_SETTLED
        consumer = Consumer(link, conn, entity, receive_and_delete)
        if entity.requires_session:
            return attach_session_consumer(consumer)
        link.peer_role = consumer
        entity.add_consumer(consumer)
        return None

    def detach(self, link: Link) -> None:
        """A link closed: stop delivering to it."""
        role = getattr(link, "peer_role", None)
        if isinstance(role, Consumer):
            role.entity.remove_consumer(role)
        elif role is not None and hasattr(role, "close"):
            role.close()
        if role is not None:
            link.peer_role = None

    def flow(self, link: Link) -> None:
        """The client gave credit (or asked to drain): deliver what is available."""
        role = getattr(link, "peer_role", None)
        if isinstance(role, Consumer):
            role.entity.dispatch()
        elif role is not None and hasattr(role, "dispatch"):
            role.dispatch()
        if link.is_sender and link.drain_mode:
            link.drained()

    # -- deliveries -------------------------------------------------------------------------------

    def delivery(self, conn: PeerConnection, delivery: Delivery) -> None:
        """A transfer from the client, or the client's disposition of one of ours."""
        link = delivery.link
        role = getattr(link, "peer_role", None)
        if link.is_sender:
            # The outcome applies whether the client settled first (pre-settled disposition) or
            # waits for ours (rcv-settle-mode second, the SDK's PEEK_LOCK).
            if isinstance(role, Consumer) and delivery in role.unsettled and delivery.updated:
                role.entity.settle_delivery(role, delivery)
                role.entity.dispatch()
            elif delivery.settled or delivery.updated:
                delivery.settle()
            return
        if not delivery.readable or delivery.partial:
            return
        raw = link.recv(delivery.pending)
        link.advance()
        try:
            self._accept(conn, link, role, raw)
            delivery.update(Delivery.ACCEPTED)
        except ValueError as exc:  # a message the entity does not take (no session id)
            delivery.local.condition = Condition("amqp:not-allowed", str(exc))
            delivery.update(Delivery.REJECTED)
        except Exception as exc:
            log.exception("peer: transfer refused")
            delivery.local.condition = Condition("amqp:internal-error", str(exc))
            delivery.update(Delivery.REJECTED)
        delivery.settle()
        if link.credit < INITIAL_CREDIT // 2:
            link.flow(INITIAL_CREDIT - link.credit)

    def _accept(self, conn: PeerConnection, link: Link, role: Any, raw: bytes) -> None:
        if isinstance(role, ManagementLink):
            answer_request(self, conn, (link.session, role.path), raw)
            return
        messages = parse_transfer(raw)
        if isinstance(role, SbEntity):
            for message in messages:
                role.enqueue(message)
            role.dispatch()
        elif isinstance(role, Topic):
            for sub in role.subscriptions.values():
                for message in messages:
                    sub.enqueue(message.copy())
                sub.dispatch()
        else:
            role.append(messages)


def refuse(link: Link, error: Condition) -> None:
    """Refuse an attach as the spec says: an attach with a null terminus, then a detach."""
    terminus = link.source if link.is_sender else link.target
    terminus.type = Terminus.UNSPECIFIED
    link.condition = error
    link.open()
    link.close()


def _not_found(path: str) -> Condition:
    return Condition("amqp:not-found", f"The messaging entity '{path}' could not be found.")
