"""Received events as the Functions host hands them to the Python worker.

The trigger data and metadata are the extension's binding data (``EventHubTriggerBindingStrategy``
``GetBindingData``) converted as the host's ``GrpcMessageConversionExtensions.ToRpc`` converts
them for a worker that declares ``TypedDataCollection`` (the Python worker does):

- data: one event's body as ``bytes`` (no dataType: the host's default type for EventData is
  ``byte[]``) or ``string``; a batch as ``collection_bytes`` / ``collection_string`` (empty
  strings left out, as the host does without ``IncludeEmptyEntriesInMessagePayload``);
  an SDK-type parameter gets ``model_binding_data`` (``collection_model_binding_data``) holding
  each event's AMQP message as the extension's ``ConvertEventDataToBindingData`` encodes it;
- metadata, one event: ``PartitionContext``, ``PartitionKey``, ``Offset``, ``SequenceNumber``,
  ``EnqueuedTimeUtc``, ``Properties``, ``SystemProperties`` (null values are not sent); a batch:
  ``PartitionContext`` and the ``...Array`` forms (``SequenceNumberArray`` as
  ``collection_sint64``, string arrays as ``collection_string``, the rest as JSON). JSON is written
  as Json.NET writes these .NET values (``DateTime`` without a zone for ``EventData.EnqueuedTime
  .DateTime``, byte arrays in base64).

The library's ``EventHubTriggerConverter`` reads this into ``func.EventHubEvent`` (metadata,
``iothub_metadata`` from ``iothub-*`` system properties) for one event or a list.
"""

from __future__ import annotations

import base64
import importlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from azure.functions.meta import Datum

from funchost.bindings.base import TriggerEvent
from funchost.bindings.shared.deferred import (
    COLLECTION_MODEL_BINDING_DATA,
    MODEL_BINDING_DATA,
    CollectionModelBindingData,
    ModelBindingData,
)

EVENTHUB_SOURCE = "AzureEventHubsEventData"  # ParameterBindingData.Source of an EventData
# What Executing lines say for an Event Hubs invocation: the extension gives no reason.
REASON = "(null)"
LONG_MIN = -(2**63)  # an EventData made from a string has no sequence number or offset
STRPTIME_CACHE = 64  # formats CPython's strptime keeps compiled (see widen_strptime_cache)
_NET_EPOCH = "0001-01-01T00:00:00"  # default(DateTimeOffset).DateTime
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


@dataclass(frozen=True)
class Collection:
    """A TypedData collection as the worker's protobuf has it (``.string``, ``.bytes``...)."""

    string: Sequence[str] = ()
    bytes: Sequence[bytes] = ()
    sint64: Sequence[int] = ()


@dataclass(frozen=True)
class Partition:
    """The partition an event came from (TriggerPartitionContext's serialized properties)."""

    namespace: str
    event_hub: str
    consumer_group: str
    partition_id: str
    checkpointing: bool = False

    def to_json(self) -> dict[str, Any]:
        """The object as Json.NET writes TriggerPartitionContext."""
        return {
            "IsCheckpointingAfterInvocation": self.checkpointing,
            "FullyQualifiedNamespace": self.namespace,
            "EventHubName": self.event_hub,
            "ConsumerGroup": self.consumer_group,
            "PartitionId": self.partition_id,
        }


@dataclass(frozen=True)
class Shape:
    """How a function takes its events: data type and whether it wants the SDK type."""

    data_type: str = "binary"  # "binary", "string" or "stream"
    deferred: bool = False  # an SDK-type parameter (azurefunctions.extensions...EventData)


# --- reading an SDK event ---------------------------------------------------------------


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
        return _NET_EPOCH
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
    result["Offset"] = _offset_number(event.offset)
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


def _offset_number(offset: str | None) -> int | str | None:
    """EventData.Offset is a long in the v5 extension; an offset that is not one stays text."""
    if offset is None:
        return None
    try:
        return int(offset)
    except ValueError:
        return offset


def widen_strptime_cache() -> None:
    """Let CPython's strptime keep more compiled formats than its 5.

    The library's EventHubTriggerConverter parses each event's EnqueuedTimeUtc by trying some
    15 formats in turn; with 5 kept, every try recompiles its pattern, which costs most of
    the decoding of a batch (about 80 µs of 120 per event). Nothing parses differently.
    """
    strptime = importlib.import_module("_strptime")  # a private module: no stubs
    kept = max(int(getattr(strptime, "_CACHE_MAX_SIZE", 0)), STRPTIME_CACHE)
    setattr(strptime, "_CACHE_MAX_SIZE", kept)  # noqa: B010 (a private module: no stubs)


# --- the TriggerEvent -----------------------------------------------------------------------


def _json(value: Any) -> Datum:
    return Datum(json.dumps(value, separators=(",", ":"), ensure_ascii=False), "json")


def single_event(
    event: Any, partition: Partition, shape: Shape, details: dict[str, str]
) -> TriggerEvent:
    """The invocation of a cardinality-one function for one received event."""
    metadata = {
        "PartitionContext": _json(partition.to_json()),
        "PartitionKey": partition_key(event),
        "Offset": _offset_number(event.offset),
        "SequenceNumber": event.sequence_number,
        "EnqueuedTimeUtc": enqueued_time(event),
        "Properties": properties(event),
        "SystemProperties": system_properties(event),
    }
    return TriggerEvent(
        data=_data(event, shape),
        metadata=_metadata(metadata),
        reason=REASON,
        details=details,
    )


def batch_event(
    events: Sequence[Any], partition: Partition, shape: Shape, details: dict[str, str]
) -> TriggerEvent:
    """The invocation of a cardinality-many function for one received batch."""
    # The four values the extension adds to each event's system properties are its arrays too.
    systems = [system_properties(event) for event in events]
    metadata: dict[str, Datum] = {
        "PartitionContext": _json(partition.to_json()),
        "PartitionKeyArray": Datum(
            Collection(string=[s["PartitionKey"] for s in systems if s["PartitionKey"]]),
            "collection_string",
        ),
        "OffsetArray": Datum(
            Collection(string=[e.offset for e in events if e.offset]), "collection_string"
        ),
        "SequenceNumberArray": Datum(
            Collection(sint64=[s["SequenceNumber"] for s in systems]), "collection_sint64"
        ),
        "EnqueuedTimeUtcArray": _json([s["EnqueuedTimeUtc"] for s in systems]),
        "PropertiesArray": _json([properties(event) for event in events]),
        "SystemPropertiesArray": _json(systems),
    }
    return TriggerEvent(
        data=_batch_data(events, shape), metadata=metadata, reason=REASON, details=details
    )


def _metadata(values: Mapping[str, Any]) -> dict[str, Datum]:
    """Each value as ToRpc converts it; nulls are not sent (the host skips them)."""
    result: dict[str, Datum] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, Datum):
            result[name] = value
        elif isinstance(value, str):
            result[name] = Datum(value, "string")
        else:
            result[name] = _json(value)  # long, DateTime, dictionaries: Json.NET
    return result


def _data(event: Any, shape: Shape) -> Datum:
    if shape.deferred:
        return Datum(model_binding_data(event), MODEL_BINDING_DATA)
    body = body_of(event)
    if shape.data_type == "string":
        return Datum(body.decode("utf-8", "replace"), "string")
    return Datum(body, "bytes")


def _batch_data(events: Sequence[Any], shape: Shape) -> Datum:
    if shape.deferred:
        found = tuple(model_binding_data(event) for event in events)
        return Datum(CollectionModelBindingData(found), COLLECTION_MODEL_BINDING_DATA)
    bodies = [body_of(event) for event in events]
    if shape.data_type == "string":
        texts = [body.decode("utf-8", "replace") for body in bodies]
        return Datum(Collection(string=[t for t in texts if t]), "collection_string")
    return Datum(Collection(bytes=bodies), "collection_bytes")


def model_binding_data(event: Any) -> ModelBindingData:
    """ParameterBindingData("1.0", "AzureEventHubsEventData", the AMQP message, octet-stream)."""
    from azure.eventhub._pyamqp._encode import encode_payload

    message = event._message
    if message is None:  # made here, not received: the SDK builds the message it would send
        from azure.eventhub._transport._pyamqp_transport import PyamqpTransport

        message = PyamqpTransport.to_outgoing_amqp_message(event.raw_amqp_message)  # type: ignore[no-untyped-call]
    message = message._replace(
        message_annotations=_typed(message.message_annotations),
        application_properties=_typed(message.application_properties),
    )
    content = bytes(encode_payload(bytearray(), message))
    return ModelBindingData("1.0", EVENTHUB_SOURCE, "application/octet-stream", content)


_TIMESTAMPS = (b"x-opt-enqueued-time", b"x-opt-locked-until", b"x-opt-scheduled-enqueue-time")


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


def trigger_details(events: Sequence[Any], partition_id: str, single: bool) -> dict[str, str]:
    """EventHubTriggerInput.GetTriggerDetails (for single dispatch, of the batch's first event,
    as the extension does)."""
    if not events:
        return {}
    first, last = events[0], events[-1]
    if single:
        offset = first.offset or ""
        time = _round_trip(first)
        sequence = str(first.sequence_number)
        numeric = offset if _is_long(offset) else "-1"
    else:
        offset = numeric = f"{first.offset}-{last.offset}"
        time = f"{_round_trip(first)}-{_round_trip(last)}"
        sequence = f"{first.sequence_number}-{last.sequence_number}"
    return {
        "PartitionId": partition_id,
        "OffsetString": offset,
        "EnqueueTimeUtc": time,
        "SequenceNumber": sequence,
        "Count": str(len(events)),
        "Offset": numeric,
        "PartionId": partition_id,  # the extension keeps this misspelling for old readers
    }


def _round_trip(event: Any) -> str:
    """DateTimeOffset.ToString("o"): seven fraction digits and +00:00."""
    moment: datetime | None = event.enqueued_time
    if moment is None:
        return "0001-01-01T00:00:00.0000000+00:00"
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0+00:00"


def _is_long(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def admin_event(payload: str, shape: Shape, many: bool) -> TriggerEvent:
    """``POST /admin/functions/<name>``: ConvertFromString's EventData, with no partition.

    The body is the payload's UTF-8; sequence number and offset are long.MinValue and the
    enqueued time DateTimeOffset's default, as an EventData made from bytes has them.
    """
    body = payload.encode("utf-8")
    if shape.deferred:
        return _deferred_admin_event(body, many)
    system = {
        "SequenceNumber": LONG_MIN,
        "Offset": LONG_MIN,
        "PartitionKey": None,
        "EnqueuedTimeUtc": _NET_EPOCH,
    }
    if many:  # the extension gives one event; a batch function takes it as a batch of one
        texts = [payload] if payload else []
        data = (
            Datum(Collection(string=texts), "collection_string")
            if shape.data_type == "string"
            else Datum(Collection(bytes=[body]), "collection_bytes")
        )
        metadata = {
            "PartitionKeyArray": Datum(Collection(), "collection_string"),
            "OffsetArray": Datum(Collection(string=[str(LONG_MIN)]), "collection_string"),
            "SequenceNumberArray": Datum(Collection(sint64=[LONG_MIN]), "collection_sint64"),
            "EnqueuedTimeUtcArray": _json([_NET_EPOCH]),
            "PropertiesArray": _json([{}]),
            "SystemPropertiesArray": _json([system]),
        }
        return TriggerEvent(data=data, metadata=metadata)
    single = Datum(payload, "string") if shape.data_type == "string" else Datum(body, "bytes")
    values = {
        "Offset": LONG_MIN,
        "SequenceNumber": LONG_MIN,
        "EnqueuedTimeUtc": _NET_EPOCH,
        "Properties": {},
        "SystemProperties": system,
    }
    return TriggerEvent(data=single, metadata=_metadata(values))


def _deferred_admin_event(body: bytes, many: bool) -> TriggerEvent:
    """The admin event of an SDK-type function: the model binding data of the new event."""
    from azure.eventhub import EventData

    found = model_binding_data(EventData(body))
    if many:
        return TriggerEvent(
            data=Datum(CollectionModelBindingData((found,)), COLLECTION_MODEL_BINDING_DATA)
        )
    return TriggerEvent(data=Datum(found, MODEL_BINDING_DATA))
