"""Request/response nodes: ``$cbs`` (put-token) and the ``$management`` operations.

A request arrives on the client's sender link to the node; the answer goes back on the client's
receiver link attached to the same node on that connection, correlated by message id. Service Bus
puts the status in ``statusCode``/``statusDescription``, ``$cbs`` and Event Hubs in
``status-code``/``status-description``.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proton import UNDESCRIBED, Array, Data, symbol, timestamp

from .codec import StoredMessage, decode, encode, parse_message, section
from .frames import AMQP_VALUE, APPLICATION_PROPERTIES, PROPERTIES, split_sections

if TYPE_CHECKING:
    from .broker import Broker
    from .connection import PeerConnection
    from .servicebus import SbEntity

log = logging.getLogger("amqp-peer")
_tags = itertools.count(1)
LOCK_LOST = "com.microsoft:message-lock-lost"
NOT_FOUND = "com.microsoft:message-not-found"


@dataclass
class ManagementLink:
    """The role of a client sender attached to ``$cbs`` or a ``$management`` node."""

    path: str


@dataclass
class Reply:
    """An operation's answer: status, optional body, optional error condition."""

    status: int
    body: Any = None
    description: str = "OK"
    condition: str | None = None


def items(value: Any) -> list[Any]:
    """The elements of an AMQP array or list (a lone value as a list of one)."""
    if value is None:
        return []
    if isinstance(value, Array):
        return list(value.elements)
    if isinstance(value, list):
        return value
    return [value]


def uuid_array(values: list[uuid.UUID]) -> Array:
    """An AMQP array of uuids."""
    return Array(UNDESCRIBED, Data.UUID, *values)


def long_array(values: list[int]) -> Array:
    """An AMQP array of longs (sequence numbers)."""
    return Array(UNDESCRIBED, Data.LONG, *values)


def string_array(values: list[str]) -> Array:
    """An AMQP array of strings (session ids)."""
    return Array(UNDESCRIBED, Data.STRING, *values)


def timestamp_array(values: list[int]) -> Array:
    """An AMQP array of timestamps (lock expirations)."""
    return Array(UNDESCRIBED, Data.TIMESTAMP, *[timestamp(v) for v in values])


def answer_request(broker: Broker, conn: PeerConnection, node: tuple[Any, str], raw: bytes) -> None:
    """Run one request (``node``: the request link's session and node path); answer it."""
    path = node[1]
    request = parse_message(raw)
    body = _body(raw)
    operation = str(request.app_properties.get("operation", ""))
    if path == "$cbs":
        reply, style = Reply(202, None, "Accepted"), "status-code"
    elif path == "$management" or path.split("/", 1)[0] in broker.hubs:
        from .eventhubs import hub_read

        reply, style = hub_read(broker, request.app_properties, body), "status-code"
    else:
        entity = broker.queues.get(path[: -len("/$management")])
        reply = _servicebus(broker, entity, operation, body or {}) if entity else Reply(404)
        style = "statusCode"
    _send_reply(conn, node, request, reply, style)


def _body(raw: bytes) -> Any:
    for code, sec in split_sections(raw):
        if code == AMQP_VALUE:
            return decode(sec).value
    return None


def _send_reply(
    conn: PeerConnection, node: tuple[Any, str], request: StoredMessage, reply: Reply, style: str
) -> None:
    link = conn.reply_links.get(node)
    if link is None:
        log.warning("peer: no reply link for %s", node[1])
        return
    code_key = "statusCode" if style == "statusCode" else "status-code"
    text_key = "statusDescription" if style == "statusCode" else "status-description"
    app: dict[Any, Any] = {code_key: reply.status, text_key: reply.description}
    if reply.condition is not None:
        app["errorCondition" if style == "statusCode" else "error-condition"] = symbol(
            reply.condition
        )
    properties = [None, None, request.prop("reply_to"), None, None, request.prop("message_id")]
    raw = b"".join(
        (
            section(PROPERTIES, properties),
            section(APPLICATION_PROPERTIES, app),
            section(AMQP_VALUE, reply.body),
        )
    )
    delivery = link.delivery(str(next(_tags)))
    link.send(raw)
    link.advance()
    if link.snd_settle_mode == link.SND_SETTLED:
        delivery.settle()
    conn.wake()


# -- Service Bus operations ---------------------------------------------------------------------


def _servicebus(broker: Broker, entity: SbEntity, operation: str, body: dict[Any, Any]) -> Reply:
    handler = _SB_OPERATIONS.get(operation)
    if handler is None:
        from .sessions import SESSION_OPERATIONS

        session_handler = SESSION_OPERATIONS.get(operation)
        if session_handler is None:
            return Reply(501, None, f"Operation {operation} is not implemented by this peer.")
        return session_handler(entity, body)
    reply = handler(entity, body)
    entity.dispatch()
    return reply


def _renew_lock(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    expirations = []
    for token in items(body.get("lock-tokens")):
        until = entity.renew(token)
        if until is None:
            return Reply(410, None, "The lock on the message was lost.", LOCK_LOST)
        expirations.append(until)
    return Reply(200, {"expirations": timestamp_array(expirations)})


def _peek(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    start = int(body.get("from-sequence-number", 0))
    count = int(body.get("message-count", 1))
    found = entity.peek(start, count)
    if not found:
        return Reply(204, None, "No messages")
    messages = [{"message": m.encoded(entity.stamps(m))} for m in found]
    return Reply(200, {"messages": messages})


def _schedule(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    numbers = []
    for item in items(body.get("messages")):
        message = parse_message(bytes(item["message"]))
        numbers.append(entity.enqueue(message))
    return Reply(200, {"sequence-numbers": long_array(numbers)})


def _cancel_scheduled(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    for number in items(body.get("sequence-numbers")):
        entity.cancel_scheduled(int(number))
    return Reply(200, {})


def _update_disposition(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    status = str(body.get("disposition-status"))
    for token in items(body.get("lock-tokens")):
        if token not in entity.locks:
            return Reply(410, None, "The lock on the message was lost.", LOCK_LOST)
        if status == "completed":
            entity.complete(token)
        elif status == "abandoned":
            entity.abandon(token)
        elif status == "defered":
            entity.defer(token)
        elif status == "suspended":
            reason = body.get("deadletter-reason")
            entity.dead_letter_locked(token, reason, body.get("deadletter-description"))
    return Reply(200, {})


def _receive_by_sequence(entity: SbEntity, body: dict[Any, Any]) -> Reply:
    delete = int(body.get("receiver-settle-mode", 1)) == 0
    found = []
    for number in items(body.get("sequence-numbers")):
        message = entity.deferred.get(int(number))
        if message is None:
            return Reply(404, None, f"Message {number} not found.", NOT_FOUND)
        stamps = entity.stamps(message)
        if delete:
            entity.deferred.pop(message.sequence_number)
            entity.active.pop(message.sequence_number, None)
            found.append({"message": message.encoded(stamps)})
            continue
        token = entity.lock(message, None)
        stamps["x-opt-locked-until"] = timestamp(entity.locks[token].until_ms)
        found.append({"message": message.encoded(stamps), "lock-token": token})
    return Reply(200, {"messages": found})


_SB_OPERATIONS = {
    "com.microsoft:renew-lock": _renew_lock,
    "com.microsoft:peek-message": _peek,
    "com.microsoft:schedule-message": _schedule,
    "com.microsoft:cancel-scheduled-message": _cancel_scheduled,
    "com.microsoft:update-disposition": _update_disposition,
    "com.microsoft:receive-by-sequence-number": _receive_by_sequence,
}

__all__ = ["ManagementLink", "Reply", "answer_request", "encode", "items"]
