"""Reading the SDK's received EventData as the .NET extension sees its EventData.

Body, partition key, enqueued time, application and system properties in the shapes the
extension's binding data has them (Json.NET's dates, strings where .NET has strings), and the
event's AMQP message as ``ConvertEventDataToBindingData`` encodes it for SDK-type parameters.
The SDK's objects are read by duck typing: nothing here imports the SDK at module level.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from funchost.bindings.shared.typeddata import ModelBindingData

EVENTHUB_SOURCE = "AzureEventHubsEventData"  # ParameterBindingData.Source of an EventData
NET_EPOCH = "0001-01-01T00:00:00"  # default(DateTimeOffset).DateTime
# The AMQP properties EventData.SystemProperties carries, in the SDK's order.
_AMQP_PROPERTIES = (
    ("message_id", "message-id"),
    ("user_id", "user-id"),
    ("to", "to"),
    ("subject", "subject"),
    ("reply_to", "reply-to"),
    ("correlation_id", "correlation-id"),
    ("content_type", "content-type"),
    ("content_encoding", "content-encoding"),
    ("absolute_expiry_time", "absolute-expiry-time"),
    ("creation_time", "creation-time"),
    ("group_id", "group-id"),
    ("group_sequence", "group-sequence"),
    ("reply_to_group_id", "reply-to-group-id"),
)


def body_of(event: Any) -> bytes:
    """The event's body as bytes (data sections joined; any other body as its JSON text)."""
    body = event.body
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    try:
        parts = list(body)
    except TypeError:
        return json.dumps(body, default=str).encode("utf-8")
    if all(isinstance(part, bytes | bytearray | memoryview) for part in parts):
        return b"".join(bytes(part) for part in parts)
    return json.dumps(parts, default=str).encode("utf-8")


def _text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value)
    return value


def partition_key(event: Any) -> str | None:
    """The partition key as a string (the SDK gives bytes)."""
    key = _text(event.partition_key)
    return None if key is None else str(key)


def enqueued_time(event: Any) -> str:
    """``EventData.EnqueuedTime.DateTime`` as Json.NET writes it: no zone (Kind Unspecified)."""
    moment: datetime | None = event.enqueued_time
    if moment is None:
        return NET_EPOCH
    return net_date(moment.astimezone(timezone.utc), zone="")


def net_date(moment: datetime, zone: str = "Z") -> str:
    """Json.NET's DateTime format: up to 7 fraction digits, trailing zeros cut."""
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}{zone}"


def _net_value(value: Any) -> Any:
    """A property value as Json.NET writes the .NET value the AMQP decoder gave."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return net_date(value.astimezone(timezone.utc))
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(_text(k)): _net_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_net_value(v) for v in value]
    return value


def properties(event: Any) -> dict[str, Any]:
    """Application properties (keys as strings)."""
    raw = event.properties or {}
    # The decoder gives AMQP strings as bytes: text when it is UTF-8, as .NET has a string.
    return {str(_text(key)): _net_value(_text(value)) for key, value in raw.items()}


def system_properties(event: Any) -> dict[str, Any]:
    """GetSystemPropertiesForBinding: the AMQP properties and annotations, then four more."""
    result: dict[str, Any] = {}
    message = getattr(event, "raw_amqp_message", None)
    amqp = getattr(message, "properties", None)
    for attribute, name in _AMQP_PROPERTIES:
        value = getattr(amqp, attribute, None) if amqp is not None else None
        if value is not None:
            result[name] = _system_value(name, value)
    annotations = getattr(message, "annotations", None) or {}
    for key, value in annotations.items():
        name = str(_text(key))
        result[name] = _system_value(name, value)
    result["SequenceNumber"] = event.sequence_number
    result["Offset"] = offset_number(event.offset)
    result["PartitionKey"] = partition_key(event)
    result["EnqueuedTimeUtc"] = enqueued_time(event)
    return result


def _system_value(name: str, value: Any) -> Any:
    """AMQP timestamps (ms since 1970) become DateTimes; strings from bytes; the rest as is."""
    if name in ("x-opt-enqueued-time", "absolute-expiry-time", "creation-time") and isinstance(
        value, int | float
    ):
        return net_date(datetime.fromtimestamp(value / 1000, timezone.utc))
    if isinstance(value, bytes | bytearray) and name != "user-id":
        return _net_value(_text(value))
    return _net_value(value)


def offset_number(offset: str | None) -> int | str | None:
    """EventData.Offset is a long in the v5 extension; an offset that is not one stays text."""
    if offset is None:
        return None
    try:
        return int(offset)
    except ValueError:
        return offset


def model_binding_data(event: Any) -> ModelBindingData:
    """ParameterBindingData("1.0", "AzureEventHubsEventData", the AMQP message, octet-stream)."""
    from azure.eventhub._pyamqp._encode import encode_payload

    message = event._message
    if message is None:  # made here, not received: the SDK builds the message it would send
        from azure.eventhub._transport._pyamqp_transport import PyamqpTransport

        message = PyamqpTransport.to_outgoing_amqp_message(event.raw_amqp_message)  # type: ignore[no-untyped-call]
    message = message._replace(
        delivery_annotations=_typed(message.delivery_annotations),
        message_annotations=_typed(message.message_annotations),
        application_properties=_typed(message.application_properties),
    )
    content = bytes(encode_payload(bytearray(), message))
    return ModelBindingData("1.0", EVENTHUB_SOURCE, "application/octet-stream", content)


_TIMESTAMPS = (
    b"x-opt-enqueued-time",
    b"x-opt-locked-until",
    b"x-opt-scheduled-enqueue-time",
    # delivery annotations of a receiver that tracks the last enqueued event
    b"last_enqueued_time_utc",
    b"runtime_info_retrieval_time_utc",
)


def _typed(values: Mapping[Any, Any] | None) -> dict[Any, Any] | None:
    """Values as the wire had them: the decoder gives timestamps and longs back as plain
    ints, which the encoder would write as 32-bit ints (and refuse past 2**31)."""
    if values is None:
        return None
    from azure.eventhub._pyamqp.types import TYPE, VALUE, AMQPTypes

    typed: dict[Any, Any] = {}
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool):
            kind = AMQPTypes.timestamp if key in _TIMESTAMPS else AMQPTypes.long
            value = {TYPE: kind, VALUE: value}
        typed[key] = value
    return typed
