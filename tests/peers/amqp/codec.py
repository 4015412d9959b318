"""AMQP values to and from bytes through proton's codec, and the message the peer stores.

A stored message keeps the sections it does not need to read (properties, body, footer) as the
bytes the client sent, so what a receiver gets is what the sender wrote; only the header and the
message annotations are re-encoded on delivery (delivery count, sequence number, lock, offset).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from proton import Data, Described, symbol, timestamp, uint, ulong

from .frames import (
    APPLICATION_PROPERTIES,
    DATA,
    HEADER,
    MESSAGE_ANNOTATIONS,
    PROPERTIES,
    data_payload,
    is_batch,
    split_sections,
)


def decode(raw: bytes) -> Any:
    """One AMQP value; binaries come back as ``bytes`` (proton hands out views it frees)."""
    data = Data()
    data.decode(raw)
    return _owned(data.get_object())


def _owned(value: Any) -> Any:
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, Described):
        return Described(value.descriptor, _owned(value.value))
    if isinstance(value, dict):
        return type(value)({_owned(k): _owned(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_owned(v) for v in value]
    return value


def encode(value: Any) -> bytes:
    """One AMQP value, typed as proton types it (int → long, bytes → binary, str → string)."""
    data = Data()
    data.put_object(value)
    return bytes(data.encode())


def section(code: int, value: Any) -> bytes:
    """A message section (described by its smallulong code) holding ``value``."""
    return encode(Described(ulong(code), value))


def now_ms() -> int:
    """Wall-clock time as AMQP timestamps count it."""
    return int(time.time() * 1000)


PROPERTY_NAMES = (
    "message_id",
    "user_id",
    "to",
    "subject",
    "reply_to",
    "correlation_id",
    "content_type",
    "content_encoding",
    "absolute_expiry_time",
    "creation_time",
    "group_id",
    "group_sequence",
    "reply_to_group_id",
)


@dataclass(slots=True)
class StoredMessage:
    """A message as the peer keeps it: decoded where it must look, raw bytes elsewhere."""

    header: list[Any]
    annotations: dict[Any, Any]
    properties: list[Any]
    properties_raw: bytes
    app_properties: dict[Any, Any]
    app_properties_raw: bytes
    body_raw: bytes
    sequence_number: int = 0
    enqueued_ms: int = 0
    delivery_count: int = 0

    def prop(self, name: str) -> Any:
        """A field of the properties section by name (None when absent)."""
        index = PROPERTY_NAMES.index(name)
        return self.properties[index] if index < len(self.properties) else None

    def annotation(self, name: str) -> Any:
        """A message annotation by its symbol name (None when absent)."""
        return self.annotations.get(symbol(name))

    def set_app_property(self, name: str, value: Any) -> None:
        """Set an application property (dead-letter reason); the section is re-encoded."""
        self.app_properties[name] = value
        self.app_properties_raw = section(APPLICATION_PROPERTIES, self.app_properties)

    def encoded(self, stamps: dict[str, Any], delivery_count: int | None = None) -> bytes:
        """The message as delivered: header and annotations re-encoded with ``stamps`` added."""
        header = list(self.header) + [None] * (5 - len(self.header))
        header[4] = uint(self.delivery_count if delivery_count is None else delivery_count)
        annotations = dict(self.annotations)
        annotations.update({symbol(k): v for k, v in stamps.items()})
        return b"".join(
            (
                section(HEADER, header),
                section(MESSAGE_ANNOTATIONS, annotations),
                self.properties_raw,
                self.app_properties_raw,
                self.body_raw,
            )
        )

    def copy(self) -> StoredMessage:
        """An independent copy (a topic fans one message out to each subscription)."""
        return StoredMessage(
            list(self.header),
            dict(self.annotations),
            list(self.properties),
            self.properties_raw,
            dict(self.app_properties),
            self.app_properties_raw,
            self.body_raw,
        )


def parse_message(raw: bytes) -> StoredMessage:
    """A stored message from a bare message's bytes."""
    header: list[Any] = []
    annotations: dict[Any, Any] = {}
    properties: list[Any] = []
    properties_raw = app_raw = b""
    app: dict[Any, Any] = {}
    body: list[bytes] = []
    for code, sec in split_sections(raw):
        if code == HEADER:
            header = list(decode(sec).value or [])
        elif code == MESSAGE_ANNOTATIONS:
            annotations = dict(decode(sec).value or {})
        elif code == PROPERTIES:
            properties, properties_raw = list(decode(sec).value or []), sec
        elif code == APPLICATION_PROPERTIES:
            app, app_raw = dict(decode(sec).value or {}), sec
        elif code > APPLICATION_PROPERTIES:
            body.append(sec)  # delivery annotations (0x71) are hop-by-hop: dropped
    return StoredMessage(
        header, annotations, properties, properties_raw, app, app_raw, b"".join(body)
    )


def parse_transfer(raw: bytes) -> list[StoredMessage]:
    """The messages of one transfer: one, or each message of a batch."""
    sections = split_sections(raw)
    if not is_batch(sections):
        return [parse_message(raw)]
    batch = parse_message(raw)
    out = []
    for code, sec in sections:
        if code == DATA:
            message = parse_message(data_payload(sec))
            # A batch's own annotations (partition key) apply to every message in it.
            for key, value in batch.annotations.items():
                message.annotations.setdefault(key, value)
            out.append(message)
    return out


def enqueued_stamp(ms: int) -> Any:
    """An AMQP timestamp for an annotation."""
    return timestamp(ms)
