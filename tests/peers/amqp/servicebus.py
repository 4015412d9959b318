"""Service Bus entities: a queue or subscription with peek-lock, settlement, DLQ and sessions."""

from __future__ import annotations

import heapq
import itertools
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proton import Condition, Delivery, symbol, timestamp

from .codec import StoredMessage, now_ms
from .sessions import PendingAttach, lose_session, retry_pending

if TYPE_CHECKING:
    from proton import Link

    from .connection import PeerConnection

LOCK_LOST = "com.microsoft:message-lock-lost"
DEAD_LETTER = "com.microsoft:dead-letter"
MAX_DELIVERY_REASON = "MaxDeliveryCountExceeded"


@dataclass
class Lock:
    """A message handed out in peek-lock mode, until completed or the lock expires."""

    token: uuid.UUID
    message: StoredMessage
    until_ms: int
    consumer: Consumer | None


@dataclass
class Consumer:
    """A broker→client link reading an entity (a ServiceBusReceiver)."""

    link: Link
    conn: PeerConnection
    entity: SbEntity
    receive_and_delete: bool
    session_id: str | None = None
    unsettled: dict[Any, uuid.UUID] = field(default_factory=dict)


@dataclass
class SessionState:
    """One session of a session-enabled entity: its own queue, owner and state."""

    session_id: str
    available: list[tuple[int, StoredMessage]] = field(default_factory=list)
    owner: Consumer | None = None
    locked_until_ms: int = 0
    state: bytes | None = None
    state_updated_ms: int = 0


class SbEntity:
    """A queue, a subscription, or the dead-letter queue of either."""

    def __init__(
        self,
        name: str,
        lock_ms: int,
        max_delivery: int,
        requires_session: bool = False,
        dead_letter: SbEntity | None = None,
    ) -> None:
        self.name = name
        self.lock_ms = lock_ms
        self.max_delivery = max_delivery
        self.requires_session = requires_session
        self.dead_letter = dead_letter
        self._sequence = itertools.count(1)
        self.active: dict[int, StoredMessage] = {}
        self.available: list[tuple[int, StoredMessage]] = []
        self.sessions: dict[str, SessionState] = {}
        self.locks: dict[uuid.UUID, Lock] = {}
        self._expiries: list[tuple[int, uuid.UUID]] = []
        self.deferred: dict[int, StoredMessage] = {}
        self.scheduled: list[tuple[int, int, StoredMessage]] = []
        self.consumers: list[Consumer] = []
        self._next_consumer = 0
        self.pending_attaches: list[PendingAttach] = []

    # -- intake ---------------------------------------------------------------------------------

    def enqueue(self, message: StoredMessage, sequence: int | None = None) -> int:
        """Accept a message (or schedule it when it names a future enqueue time)."""
        if self.requires_session and message.prop("group_id") is None:
            raise ValueError(f"The entity '{self.name}' requires a session id on each message.")
        seq = next(self._sequence) if sequence is None else sequence
        message.sequence_number = seq
        when = message.annotation("x-opt-scheduled-enqueue-time")
        when_ms = int(when) if when is not None else 0
        if when_ms > now_ms():
            heapq.heappush(self.scheduled, (when_ms, seq, message))
            return seq
        message.enqueued_ms = now_ms()
        self.active[seq] = message
        self._make_available(message)
        return seq

    def _make_available(self, message: StoredMessage) -> None:
        session_id = message.prop("group_id") if self.requires_session else None
        if session_id is None:
            heapq.heappush(self.available, (message.sequence_number, message))
        else:
            session = self.session(str(session_id))
            heapq.heappush(session.available, (message.sequence_number, message))

    def session(self, session_id: str) -> SessionState:
        """The session of that id (created on first use, as Service Bus does)."""
        if session_id not in self.sessions:
            self.sessions[session_id] = SessionState(session_id)
        return self.sessions[session_id]

    def cancel_scheduled(self, sequence: int) -> None:
        """Drop a scheduled message that has not been enqueued yet."""
        self.scheduled = [s for s in self.scheduled if s[1] != sequence]
        heapq.heapify(self.scheduled)

    # -- delivery -------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Hand available messages to consumers with credit, round robin."""
        if self.pending_attaches:
            retry_pending(self)
        while self.consumers:
            progressed = False
            count = len(self.consumers)
            for step in range(count):
                consumer = self.consumers[(self._next_consumer + step) % count]
                if consumer.link.credit <= 0 or consumer.conn.closed:
                    continue
                queue = self._queue_for(consumer)
                if not queue:
                    continue
                _, message = heapq.heappop(queue)
                if self._expired(message):
                    progressed = True
                    break
                self._deliver(consumer, message)
                self._next_consumer = (self._next_consumer + step + 1) % count
                progressed = True
                break
            if not progressed:
                return

    def _expired(self, message: StoredMessage) -> bool:
        """Drop a message whose time-to-live ran out (checked when it would be handed out).

        The service then deletes it, or moves it to the DLQ when the entity dead-letters on
        expiration; the peer's entities do not (the service's default).
        """
        ttl = message.header[2] if len(message.header) > 2 else None
        if not ttl or now_ms() < message.enqueued_ms + int(ttl):
            return False
        self.active.pop(message.sequence_number, None)
        return True

    def _queue_for(self, consumer: Consumer) -> list[tuple[int, StoredMessage]]:
        if consumer.session_id is None:
            return self.available
        return self.session(consumer.session_id).available

    def stamps(self, message: StoredMessage) -> dict[str, Any]:
        """The annotations the service adds to every message it hands out."""
        return {
            "x-opt-sequence-number": message.sequence_number,
            "x-opt-enqueued-time": timestamp(message.enqueued_ms),
        }

    def _deliver(self, consumer: Consumer, message: StoredMessage) -> None:
        link = consumer.link
        stamps = self.stamps(message)
        if consumer.receive_and_delete:
            del self.active[message.sequence_number]
            delivery = link.delivery(uuid.uuid4().bytes_le)
            link.send(message.encoded(stamps))
            link.advance()
            delivery.settle()
        else:
            token = self.lock(message, consumer)
            stamps["x-opt-locked-until"] = timestamp(self.locks[token].until_ms)
            delivery = link.delivery(token.bytes_le)
            link.send(message.encoded(stamps))
            link.advance()
            delivery.peer_lock = token
            consumer.unsettled[delivery] = token
        consumer.conn.wake()

    def lock(self, message: StoredMessage, consumer: Consumer | None) -> uuid.UUID:
        """Lock a message for one receiver; the token is the delivery tag (bytes_le)."""
        token = uuid.uuid4()
        until = now_ms() + self.lock_ms
        self.locks[token] = Lock(token, message, until, consumer)
        heapq.heappush(self._expiries, (until, token))
        return token

    # -- settlement -----------------------------------------------------------------------------

    def settle_delivery(self, consumer: Consumer, delivery: Delivery) -> None:
        """Apply the client's outcome for a peek-locked delivery, then answer and settle it."""
        token = consumer.unsettled.pop(delivery, None)
        state = delivery.remote_state
        if token is None or token not in self.locks:
            if state != Delivery.RELEASED:
                delivery.local.condition = Condition(LOCK_LOST, "The lock on the message was lost.")
                delivery.update(Delivery.REJECTED)
            delivery.settle()
            return
        if state == Delivery.ACCEPTED:
            self.complete(token)
        elif state == Delivery.MODIFIED:
            if delivery.remote.undeliverable:
                self.defer(token)
            else:
                self.abandon(token)
        elif state == Delivery.RELEASED:
            self.release(token)
        elif state == Delivery.REJECTED:
            reason, description = _dead_letter_fields(delivery.remote.condition)
            self.dead_letter_locked(token, reason, description)
        if not delivery.settled:
            delivery.update(state)
        delivery.settle()

    def complete(self, token: uuid.UUID) -> None:
        """Delete the locked message."""
        lock = self.locks.pop(token)
        self.active.pop(lock.message.sequence_number, None)
        self.deferred.pop(lock.message.sequence_number, None)

    def abandon(self, token: uuid.UUID) -> None:
        """Give the message back, one more delivery counted (dead-lettered past the maximum)."""
        lock = self.locks.pop(token)
        self._redeliver(lock.message)

    def release(self, token: uuid.UUID) -> None:
        """Give the message back without counting a delivery (a prefetched message not used)."""
        lock = self.locks.pop(token)
        if lock.message.sequence_number in self.deferred:
            return
        self._make_available(lock.message)

    def defer(self, token: uuid.UUID) -> None:
        """Set the message aside; it is only received again by sequence number."""
        lock = self.locks.pop(token)
        lock.message.delivery_count += 1
        self.deferred[lock.message.sequence_number] = lock.message

    def dead_letter_locked(
        self, token: uuid.UUID, reason: str | None, description: str | None
    ) -> None:
        """Move the locked message to the dead-letter queue with a reason."""
        lock = self.locks.pop(token)
        self.dead_letter_message(lock.message, reason, description)

    def dead_letter_message(
        self, message: StoredMessage, reason: str | None, description: str | None
    ) -> None:
        """Move a message to the dead-letter queue, the reason as application properties."""
        self.active.pop(message.sequence_number, None)
        self.deferred.pop(message.sequence_number, None)
        if self.dead_letter is None:
            return
        moved = message.copy()
        moved.delivery_count = message.delivery_count
        if reason is not None:
            moved.set_app_property("DeadLetterReason", reason)
        if description is not None:
            moved.set_app_property("DeadLetterErrorDescription", description)
        moved.annotations[symbol("x-opt-deadletter-source")] = self.name
        self.dead_letter.enqueue(moved)
        self.dead_letter.dispatch()

    def _redeliver(self, message: StoredMessage) -> None:
        message.delivery_count += 1
        if message.delivery_count >= self.max_delivery:
            description = (
                f"Message could not be consumed after {self.max_delivery} delivery attempts."
            )
            self.dead_letter_message(message, MAX_DELIVERY_REASON, description)
        elif message.sequence_number in self.deferred:
            pass
        else:
            self._make_available(message)

    def renew(self, token: uuid.UUID) -> int | None:
        """Extend a lock; None when it is already lost."""
        lock = self.locks.get(token)
        if lock is None:
            return None
        lock.until_ms = now_ms() + self.lock_ms
        heapq.heappush(self._expiries, (lock.until_ms, token))
        return lock.until_ms

    # -- time -----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Expire locks and enqueue scheduled messages that are due."""
        now = now_ms()
        while self._expiries and self._expiries[0][0] <= now:
            _, token = heapq.heappop(self._expiries)
            lock = self.locks.get(token)
            if lock is not None and lock.until_ms <= now:
                del self.locks[token]
                self._redeliver(lock.message)
        while self.scheduled and self.scheduled[0][0] <= now:
            _, seq, message = heapq.heappop(self.scheduled)
            message.annotations.pop(symbol("x-opt-scheduled-enqueue-time"), None)
            self.enqueue(message, seq)
        self.expire_sessions(now)
        self.dispatch()

    def expire_sessions(self, now: int) -> None:
        """Free sessions whose lock ran out (their owner's link loses the session)."""
        for session in self.sessions.values():
            if session.owner is not None and session.locked_until_ms <= now:
                lose_session(session)

    # -- consumers ------------------------------------------------------------------------------

    def add_consumer(self, consumer: Consumer) -> None:
        """Start delivering to a new receiver link."""
        self.consumers.append(consumer)

    def remove_consumer(self, consumer: Consumer) -> None:
        """Forget a closed receiver link (its locks stay until they expire, as in the service)."""
        if consumer in self.consumers:
            self.consumers.remove(consumer)
        for lock in self.locks.values():
            if lock.consumer is consumer:
                lock.consumer = None
        for session in self.sessions.values():
            if session.owner is consumer:
                session.owner = None

    def peek(self, from_sequence: int, count: int) -> list[StoredMessage]:
        """Active messages (available, locked or deferred) from a sequence number on."""
        found = [m for seq, m in sorted(self.active.items()) if seq >= from_sequence]
        return found[:count]


def _dead_letter_fields(condition: Condition | None) -> tuple[str | None, str | None]:
    """DeadLetterReason and DeadLetterErrorDescription from a rejected outcome's error."""
    if condition is None:
        return None, None
    info = condition.info or {}
    reason = info.get("DeadLetterReason", info.get(symbol("DeadLetterReason")))
    description = info.get("DeadLetterErrorDescription", condition.description)
    return reason, description
