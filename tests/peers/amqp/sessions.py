"""Session receivers on session-enabled entities, and the session management operations.

A session receiver attaches with the source filter ``com.microsoft:session-filter`` naming a
session, or null for the next available one. The peer answers the attach with the filter set to
the session it locked and ``com.microsoft:locked-until-utc`` (.NET ticks) in the link
properties. A next-available attach with nothing to offer waits (the answer is held back) until
a session has messages or the client's ``com.microsoft:timeout`` passes, then is refused with
``com.microsoft:timeout``, as the service does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proton import Condition, Link, symbol, timestamp

from .codec import now_ms
from .management import Reply, string_array

if TYPE_CHECKING:
    from .servicebus import Consumer, SbEntity, SessionState

SESSION_FILTER = "com.microsoft:session-filter"
LOCKED_UNTIL = "com.microsoft:locked-until-utc"
TIMEOUT = "com.microsoft:timeout"
CANNOT_LOCK = "com.microsoft:session-cannot-be-locked"
LOCK_LOST = "com.microsoft:session-lock-lost"
DATETIMEOFFSET_EPOCH = 621355968000000000  # .NET ticks at the Unix epoch
DEFAULT_WAIT_MS = 60_000
PENDING = "pending"


@dataclass
class PendingAttach:
    """A next-available session attach waiting for a session with messages."""

    consumer: Consumer
    deadline_ms: int


def attach_session_consumer(consumer: Consumer) -> Condition | str | None:
    """Lock the session the attach asks for (or the next available); PENDING when none yet."""
    entity = consumer.entity
    wanted = _requested_session(consumer.link)
    if wanted is not None:
        session = entity.session(wanted)
        if session.owner is not None:
            return Condition(CANNOT_LOCK, f"The session '{wanted}' is locked by another receiver.")
        grant(consumer, session)
        return None
    session = _next_available(entity)
    if session is not None:
        grant(consumer, session)
        return None
    properties = consumer.link.remote_properties or {}
    wait = int(properties.get(symbol(TIMEOUT), DEFAULT_WAIT_MS))
    entity.pending_attaches.append(PendingAttach(consumer, now_ms() + wait))
    return PENDING


def grant(consumer: Consumer, session: SessionState) -> None:
    """Give a session to a receiver: filter and lock expiry in the attach, then deliver."""
    entity = consumer.entity
    session.owner = consumer
    session.locked_until_ms = now_ms() + entity.lock_ms
    consumer.session_id = session.session_id
    link = consumer.link
    link.source.filter.clear()
    link.source.filter.put_object({symbol(SESSION_FILTER): session.session_id})
    ticks = session.locked_until_ms * 10_000 + DATETIMEOFFSET_EPOCH
    link.properties = {symbol(LOCKED_UNTIL): ticks}
    link.peer_role = consumer
    entity.add_consumer(consumer)


def _requested_session(link: Link) -> str | None:
    data = link.remote_source.filter
    data.rewind()
    filters = data.get_object() if data.next() is not None else None
    if not filters:
        return None
    value = filters.get(symbol(SESSION_FILTER))
    value = getattr(value, "value", value)
    return None if value is None else str(value)


def _next_available(entity: SbEntity) -> SessionState | None:
    """The unlocked session whose first available message is oldest."""
    free = [s for s in entity.sessions.values() if s.owner is None and s.available]
    return min(free, key=lambda s: s.available[0][0]) if free else None


def retry_pending(entity: SbEntity) -> None:
    """Answer waiting next-available attaches: with a session, or with a timeout."""
    now = now_ms()
    waiting = entity.pending_attaches
    entity.pending_attaches = []
    for pending in waiting:
        link = pending.consumer.link
        if link.state & Link.REMOTE_CLOSED or pending.consumer.conn.closed:
            continue
        session = _next_available(entity)
        if session is not None:
            grant(pending.consumer, session)
            link.open()
        elif pending.deadline_ms <= now:
            from .broker import refuse

            refuse(link, Condition(TIMEOUT, "No session is available."))
        else:
            entity.pending_attaches.append(pending)
            continue
        pending.consumer.conn.wake()


def lose_session(session: SessionState) -> None:
    """The session lock expired: detach its receiver with session-lock-lost."""
    owner = session.owner
    session.owner = None
    if owner is None:
        return
    owner.entity.remove_consumer(owner)
    owner.link.condition = Condition(LOCK_LOST, "The session lock has expired.")
    owner.link.close()
    owner.link.peer_role = None
    owner.conn.wake()


# -- management operations ------------------------------------------------------------------------


def _owned_session(entity: SbEntity, body: dict[Any, Any]) -> SessionState | None:
    session_id = body.get("session-id")
    session = entity.sessions.get(str(session_id)) if session_id is not None else None
    if session is None or session.owner is None:
        return None
    return session


def _lost() -> Reply:
    return Reply(410, None, "The session lock was lost.", LOCK_LOST)


def _renew_session_lock(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    session = _owned_session(entity, body)
    if session is None:
        return _lost()
    session.locked_until_ms = now_ms() + entity.lock_ms
    return Reply(200, {"expiration": timestamp(session.locked_until_ms)})


def _get_session_state(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    session = _owned_session(entity, body)
    if session is None:
        return _lost()
    return Reply(200, {"session-state": session.state})


def _set_session_state(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    session = _owned_session(entity, body)
    if session is None:
        return _lost()
    state = body.get("session-state")
    session.state = None if state is None else bytes(state)
    session.state_updated_ms = now_ms()
    return Reply(200, {})


# The SDK's "no filter" value (DateTime.MaxValue): sessions with messages or a state.
ANY_UPDATE_MS = 253402300800000


def _get_message_sessions(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    """Sessions with active messages or a state, or (with a date) whose state changed after it."""
    after = int(body.get("last-updated-time", ANY_UPDATE_MS))
    skip, top = int(body.get("skip", 0)), int(body.get("top", 100))
    if after >= ANY_UPDATE_MS:
        with_messages = {str(m.prop("group_id")) for m in entity.active.values()}
        ids = [
            sid for sid, s in entity.sessions.items() if sid in with_messages or s.state is not None
        ]
    else:
        ids = [sid for sid, s in entity.sessions.items() if s.state_updated_ms > after]
    page = ids[skip : skip + top]
    if not page:
        return Reply(204, None, "No sessions", "com.microsoft:session-not-found")
    return Reply(200, {"skip": skip + len(page), "sessions-ids": string_array(page)})


SESSION_OPERATIONS = {
    "com.microsoft:renew-session-lock": _renew_session_lock,
    "com.microsoft:get-session-state": _get_session_state,
    "com.microsoft:set-session-state": _set_session_state,
    "com.microsoft:get-message-sessions": _get_message_sessions,
}
