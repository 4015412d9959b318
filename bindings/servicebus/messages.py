"""Service Bus messages in the shapes the Functions host hands the Python worker.

- Trigger data: the body as ``string`` (no ``dataType`` or ``string``: the extension's
  ``MessageToStringConverter``) or ``bytes`` (``binary``); for ``cardinality: many`` the bodies
  as ``collection_string`` / ``collection_bytes`` (the host's ``ToRpcStringArray`` leaves empty
  strings out: the Python worker does not declare IncludeEmptyEntriesInMessagePayload).
- Trigger metadata: the binding data of the v5 extension's ``ServiceBusTriggerBindingStrategy``
  (single names, or ``...Array`` names for a batch), each converted as the host's
  ``GrpcMessageConversionExtensions.ToRpc`` converts it: strings as ``string``; ints, longs,
  DateTime/DateTimeOffset, dictionaries and non-string arrays as Json.NET ``json``; string arrays
  as ``collection_string``; null values are left out (``ShouldSkipBindingData``). The library's
  ``ServiceBusMessageInConverter`` reads these into ``func.ServiceBusMessage``.
  The extension's ``MessageActions``/``SessionActions``/``ReceiveActions``/``Client`` entries
  (settlement objects of the .NET process) are not sent: no Python code can use them.
  The extension sends no ``TimeToLive``, ``LockedUntil``, ``State``, ``DeadLetterReason``... so
  those attributes of ``func.ServiceBusMessage`` are None, as on Azure.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from azure.functions.meta import Datum

from funchost.bindings.base import TriggerEvent
from funchost.bindings.shared.typeddata import Collection

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusReceivedMessage

UTC = dt.timezone.utc
# DateTimeOffset.MaxValue: ExpiresAt of a message that never expires.
MAX_DATE = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_MAX_TEXT = "9999-12-31T23:59:59.9999999"
_MIN_DATE = dt.datetime(1, 1, 1, tzinfo=UTC)  # default(DateTimeOffset)
ZERO_LOCK = str(uuid.UUID(int=0))


def body_of(message: ServiceBusReceivedMessage) -> bytes:
    """The body as bytes (a data body's sections joined; another body as its text)."""
    body = message.body
    if message.body_type == _data_body():
        return body if isinstance(body, bytes) else b"".join(body)
    return str(body).encode("utf-8")


@functools.cache
def _data_body() -> Any:
    """AmqpMessageBodyType.DATA, imported once it is needed (the SDK loads with the trigger)."""
    from azure.servicebus.amqp import AmqpMessageBodyType

    return AmqpMessageBodyType.DATA


def data_datum(bodies: Sequence[bytes], binary: bool, many: bool) -> Datum:
    """The trigger data: one body, or the batch's bodies."""
    if not many:
        body = bodies[0]
        return Datum(body, "bytes") if binary else Datum(_text(body), "string")
    if binary:
        return Datum(Collection(bytes=list(bodies)), "collection_bytes")
    texts = [_text(body) for body in bodies]
    return Datum(Collection(string=[t for t in texts if t]), "collection_string")


def _text(body: bytes) -> str:
    """BinaryData.ToString(): UTF-8, invalid bytes replaced."""
    return body.decode("utf-8", "replace")


# --- one message's binding data ------------------------------------------------------------


class Values:
    """One message's binding-data values, as the extension reads them off the .NET message."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    @classmethod
    def of(cls, message: ServiceBusReceivedMessage) -> Values:
        """The values of a received message."""
        enqueued = message.enqueued_time_utc or _MIN_DATE
        expires = message.expires_at_utc or MAX_DATE
        token = message.lock_token
        # The AMQP properties section read once (see _text_property) rather than through the
        # message's getters, which test the section's truth by listing its fields each time.
        raw = message.raw_amqp_message.properties
        props: Any = _NO_PROPERTIES if raw is None else raw
        return cls(
            {
                # .NET counts this delivery; the AMQP header counts the failed ones before it.
                "DeliveryCount": (message.delivery_count or 0) + 1,
                "DeadLetterSource": message.dead_letter_source,
                "LockToken": None if token is None else str(token),
                "ExpiresAt": expires,
                "EnqueuedTime": enqueued,
                "MessageId": _text_property(props.message_id),
                "ContentType": _text_property(props.content_type),
                "ReplyTo": _text_property(props.reply_to),
                "SequenceNumber": message.sequence_number,
                "To": _text_property(props.to),
                "Subject": _text_property(props.subject),
                "CorrelationId": _text_property(props.correlation_id),
                "ApplicationProperties": _properties(message.application_properties),
                "SessionId": _text_property(props.group_id),
                "ReplyToSessionId": _text_property(props.reply_to_group_id),
                "PartitionKey": message.partition_key,
                "TransactionPartitionKey": getattr(message, "transaction_partition_key", None),
                # Not binding data: only the Trigger Details line shows it.
                "LockedUntil": message.locked_until_utc,
            }
        )

    @classmethod
    def from_string(cls) -> Values:
        """ServiceBusModelFactory.ServiceBusReceivedMessage(body): the admin API's message."""
        return cls(
            {
                "DeliveryCount": 0,
                "LockToken": ZERO_LOCK,
                "ExpiresAt": MAX_DATE,
                "EnqueuedTime": _MIN_DATE,
                "SequenceNumber": -1,
                "ApplicationProperties": {},
            }
        )


class _NoProperties:
    """A message without an AMQP properties section: every property None, as the SDK's getters
    give them."""

    message_id = content_type = reply_to = to = subject = correlation_id = None
    group_id = reply_to_group_id = None


_NO_PROPERTIES = _NoProperties()


def _text_property(value: Any) -> Any:
    """An AMQP property as ServiceBusReceivedMessage's getter returns it: bytes decoded as
    UTF-8, or the value as it is when it cannot be (absent, not bytes, not UTF-8)."""
    if value is None:
        return None  # the getters' AttributeError path, without raising it
    try:
        return value.decode("UTF-8")
    except (AttributeError, UnicodeDecodeError):
        return value


def _properties(raw: Mapping[Any, Any] | None) -> dict[str, Any]:
    """Application properties with str keys and values (the SDK gives AMQP strings as bytes)."""
    return {_plain(key): _plain(value) for key, value in (raw or {}).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return value


# Each binding-data name: how the host converts the value. Order as GetBindingData adds them.
# Per message, so each date's text and the properties' JSON are made once and shared by the
# names that repeat them; an int's JSON is its str, a date's is its (escape-free) text quoted.
def _single(values: Values) -> dict[str, Datum]:
    f = values.fields
    expires = _net_date(f.get("ExpiresAt"), offset=False)
    enqueued = _net_date(f.get("EnqueuedTime"), offset=False)
    properties = _json(f.get("ApplicationProperties"))
    subject = _string(f.get("Subject"))
    pairs: list[tuple[str, Datum | None]] = [
        ("DeliveryCount", _json_int(f.get("DeliveryCount"))),
        ("DeadLetterSource", _string(f.get("DeadLetterSource"))),
        ("LockToken", _string(f.get("LockToken"))),
        ("ExpiresAtUtc", _json_date(expires, "")),
        ("ExpiresAt", _json_date(expires, "+00:00")),
        ("EnqueuedTimeUtc", _json_date(enqueued, "")),
        ("EnqueuedTime", _json_date(enqueued, "+00:00")),
        ("MessageId", _string(f.get("MessageId"))),
        ("ContentType", _string(f.get("ContentType"))),
        ("ReplyTo", _string(f.get("ReplyTo"))),
        ("SequenceNumber", _json_int(f.get("SequenceNumber"))),
        ("To", _string(f.get("To"))),
        ("Subject", subject),
        ("Label", subject),  # the extension's back-compat name
        ("CorrelationId", _string(f.get("CorrelationId"))),
        ("ApplicationProperties", properties),
        ("UserProperties", properties),  # back-compat name
        ("SessionId", _string(f.get("SessionId"))),
        ("ReplyToSessionId", _string(f.get("ReplyToSessionId"))),
        ("PartitionKey", _string(f.get("PartitionKey"))),
        ("TransactionPartitionKey", _string(f.get("TransactionPartitionKey"))),
    ]
    return {name: datum for name, datum in pairs if datum is not None}


def single_metadata(values: Values) -> dict[str, Datum]:
    """The trigger metadata of a one-message invocation."""
    return _single(values)


# name, field, how each element is read, whether the array is a string[] (collection_string).
_ARRAYS: list[tuple[str, str, Callable[[Any], Any], bool]] = [
    ("DeliveryCountArray", "DeliveryCount", lambda v: v or 0, False),
    ("DeadLetterSourceArray", "DeadLetterSource", lambda v: v, True),
    ("LockTokenArray", "LockToken", lambda v: v, True),
    ("ExpiresAtUtcArray", "ExpiresAt", lambda v: _net_date(v, offset=False), False),
    ("ExpiresAtArray", "ExpiresAt", lambda v: _net_date(v, offset=True), False),
    ("EnqueuedTimeUtcArray", "EnqueuedTime", lambda v: _net_date(v, offset=False), False),
    ("EnqueuedTimeArray", "EnqueuedTime", lambda v: _net_date(v, offset=True), False),
    ("MessageIdArray", "MessageId", lambda v: v, True),
    ("ContentTypeArray", "ContentType", lambda v: v, True),
    ("ReplyToArray", "ReplyTo", lambda v: v, True),
    ("SequenceNumberArray", "SequenceNumber", lambda v: v or 0, False),
    ("ToArray", "To", lambda v: v, True),
    ("SubjectArray", "Subject", lambda v: v, True),
    ("LabelArray", "Subject", lambda v: v, True),
    ("CorrelationIdArray", "CorrelationId", lambda v: v, True),
    ("ApplicationPropertiesArray", "ApplicationProperties", lambda v: v, False),
    ("UserPropertiesArray", "ApplicationProperties", lambda v: v, False),
    ("SessionIdArray", "SessionId", lambda v: v, True),
    ("ReplyToSessionIdArray", "ReplyToSessionId", lambda v: v, True),
    ("PartitionKeyArray", "PartitionKey", lambda v: v, True),
    # The extension fills this array with the partition keys, not the transaction ones.
    ("TransactionPartitionKeyArray", "PartitionKey", lambda v: v, True),
]


def batch_metadata(batch: Sequence[Values]) -> dict[str, Datum]:
    """The trigger metadata of a batch invocation (the ``...Array`` names)."""
    metadata: dict[str, Datum] = {}
    for name, key, read, strings in _ARRAYS:
        items = [read(values.fields.get(key)) for values in batch]
        if strings:
            # ToRpcStringArray: null and empty entries are left out of the collection.
            metadata[name] = Datum(Collection(string=[s for s in items if s]), "collection_string")
        else:
            metadata[name] = Datum(
                json.dumps(items, separators=(",", ":"), default=_json_default), "json"
            )
    return metadata


# --- conversions as the host makes them ------------------------------------------------------


def _string(value: str | None) -> Datum | None:
    return None if value is None else Datum(value, "string")


def _json(value: Any) -> Datum | None:
    """Json.NET's compact form (Formatting.None) of a value; None stays out."""
    if value is None:
        return None
    if value == {}:
        return Datum("{}", "json")  # most messages carry no application properties
    return Datum(json.dumps(value, separators=(",", ":"), default=_json_default), "json")


def _json_int(value: int | None) -> Datum | None:
    """An int's Json.NET form: its digits (bool is no binding-data int)."""
    return None if value is None else Datum(str(int(value)), "json")


def _json_date(text: str | None, suffix: str) -> Datum | None:
    """A date from _net_date as a JSON string: digits and separators need no escaping."""
    return None if text is None else Datum(f'"{text}{suffix}"', "json")


def _json_default(value: Any) -> Any:
    """Application property values Json.NET writes as strings."""
    if isinstance(value, dt.datetime):
        return _net_date(value, offset=value.tzinfo is not None)
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _net_date(moment: dt.datetime | None, *, offset: bool) -> str | None:
    """A DateTimeOffset (offset=True) or its ``.DateTime`` (unspecified kind, no offset) as
    Json.NET writes it: up to 7 fraction digits, trailing zeros cut."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # The fraction's trailing zeros cut, and its point with them when none is left.
    text = _MAX_TEXT if moment == MAX_DATE else _to_micros(moment).rstrip("0").removesuffix(".")
    return text + "+00:00" if offset else text


def _to_micros(moment: dt.datetime) -> str:
    """yyyy-MM-ddTHH:mm:ss.ffffff of a UTC time (isoformat pads every year to four digits, as
    .NET does default(DateTimeOffset)'s year 1; strftime's %Y does not)."""
    return moment.isoformat(timespec="microseconds")[:26]


def trigger_event(data: Datum, batch: Sequence[Values], *, many: bool, entity: str) -> TriggerEvent:
    """The event of one invocation: its data and the metadata for one message or a batch."""
    metadata = batch_metadata(batch) if many else single_metadata(batch[0])
    return TriggerEvent(
        data=data,
        metadata=metadata,
        reason=f"New ServiceBus message detected on '{entity}'.",
        details=_details(batch, many),
    )


def _details(batch: Sequence[Values], many: bool) -> dict[str, str]:
    """ServiceBusTriggerInput.GetTriggerFunctionData's TriggerDetails (times in .NET "o")."""
    first = batch[0].fields
    if not many:
        return {
            "MessageId": first.get("MessageId") or "",
            "SequenceNumber": str(first.get("SequenceNumber")),
            "DeliveryCount": str(first.get("DeliveryCount")),
            "EnqueuedTimeUtc": _round_trip(first.get("EnqueuedTime")),
            "LockedUntilUtc": _round_trip(first.get("LockedUntil")),
            "SessionId": first.get("SessionId") or "",
        }
    fields = [values.fields for values in batch]
    return {
        "MessageIdArray": ",".join(f.get("MessageId") or "" for f in fields),
        "SequenceNumberArray": ",".join(str(f.get("SequenceNumber")) for f in fields),
        "DeliveryCountArray": ",".join(str(f.get("DeliveryCount")) for f in fields),
        "EnqueuedTimeUtcArray": ",".join(_round_trip(f.get("EnqueuedTime")) for f in fields),
        "LockedUntilArray": ",".join(_round_trip(f.get("LockedUntil")) for f in fields),
        "SessionId": first.get("SessionId") or "",
    }


def _round_trip(moment: dt.datetime | None) -> str:
    """DateTimeOffset.ToUniversalTime().ToString("o"): 7 fraction digits, +00:00."""
    if moment is None:
        moment = _MIN_DATE  # default(DateTimeOffset): the admin message's times
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{_to_micros(moment)}0+00:00"


def values_of(messages: Iterable[ServiceBusReceivedMessage]) -> list[Values]:
    """Binding-data values of received messages."""
    return [Values.of(message) for message in messages]
