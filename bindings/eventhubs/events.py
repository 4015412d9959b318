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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from azure.functions.meta import Datum

from funchost.bindings.base import TriggerEvent
from funchost.bindings.eventhubs.eventdata import (
    NET_EPOCH,
    body_of,
    enqueued_time,
    model_binding_data,
    offset_number,
    partition_key,
    properties,
    system_properties,
)
from funchost.bindings.shared.typeddata import (
    COLLECTION_MODEL_BINDING_DATA,
    MODEL_BINDING_DATA,
    Collection,
    CollectionModelBindingData,
)

# What Executing lines say for an Event Hubs invocation: the extension gives no reason.
REASON = "(null)"
LONG_MIN = -(2**63)  # an EventData made from a string has no sequence number or offset


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
        "Offset": offset_number(event.offset),
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
        "EnqueuedTimeUtc": NET_EPOCH,
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
            "EnqueuedTimeUtcArray": _json([NET_EPOCH]),
            "PropertiesArray": _json([{}]),
            "SystemPropertiesArray": _json([system]),
        }
        return TriggerEvent(data=data, metadata=metadata)
    single = Datum(payload, "string") if shape.data_type == "string" else Datum(body, "bytes")
    values = {
        "Offset": LONG_MIN,
        "SequenceNumber": LONG_MIN,
        "EnqueuedTimeUtc": NET_EPOCH,
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
