"""Model binding data for a trigger parameter typed with the SDK's ``ServiceBusReceivedMessage``.

With ``azurefunctions-extensions-bindings-servicebus``, the worker marks such a trigger
SupportsDeferredBinding and the host sends, instead of the body, a ``ModelBindingData``
("1.0", "AzureServiceBusReceivedMessage", "application/octet-stream") whose content is the
message's lock token (16 bytes, .NET ``Guid.ToByteArray`` order), then ``x-opt-lock-token``,
then the AMQP-encoded message: the layout the extension's own converter
(``azurefunctions/extensions/bindings/servicebus/utils.py`` ``get_decoded_message``) reads.
A batch is a ``collection_model_binding_data``. The extension's converter builds the SDK object.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from azure.functions.meta import Datum

from funchost.bindings.shared.typeddata import CollectionModelBindingData, ModelBindingData

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusReceivedMessage

SOURCE = "AzureServiceBusReceivedMessage"
# Service Bus message annotations whose values are AMQP timestamps (milliseconds).
_TIMESTAMPS = frozenset(
    {"x-opt-enqueued-time", "x-opt-locked-until", "x-opt-scheduled-enqueue-time"}
)
_LONGS = frozenset({"x-opt-sequence-number", "x-opt-enqueue-sequence-number"})
_INT32 = -(2**31)
_MARKER = b"x-opt-lock-token"


def _content(lock_token: str | None, amqp: bytes) -> bytes:
    token = uuid.UUID(lock_token) if lock_token else uuid.UUID(int=0)
    return token.bytes_le + _MARKER + amqp


def _binding_data(content: bytes) -> ModelBindingData:
    return ModelBindingData("1.0", SOURCE, "application/octet-stream", content)


def encoded(message: ServiceBusReceivedMessage) -> bytes:
    """The received message as AMQP bytes (header, annotations, properties, body)."""
    from azure.servicebus._pyamqp._encode import encode_payload

    raw = message._message  # the received pyamqp message, as decoded
    # Decoding dropped the AMQP types of annotation values (a timestamp is a bare int, which
    # the encoder would write as a 32-bit int): put them back.
    typed = raw._replace(
        delivery_annotations=None,
        message_annotations=_typed(raw.message_annotations),
        application_properties=_typed(raw.application_properties, times=False),
    )
    return bytes(encode_payload(bytearray(), typed))


def _typed(values: Mapping[Any, Any] | None, *, times: bool = True) -> dict[Any, Any] | None:
    from azure.servicebus._pyamqp.types import TYPE, VALUE, AMQPTypes

    if values is None:
        return None
    typed: dict[Any, Any] = {}
    for key, value in values.items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        if type(value) is int and times and name in _TIMESTAMPS:
            value = {TYPE: AMQPTypes.timestamp, VALUE: value}
        elif type(value) is int and (name in _LONGS or not _INT32 <= value < -_INT32):
            value = {TYPE: AMQPTypes.long, VALUE: value}
        typed[key] = value
    return typed


def model_binding_datum(messages: Sequence[ServiceBusReceivedMessage], many: bool) -> Datum:
    """What the host sends for an SDK-type parameter: one message, or the batch."""
    items = [_binding_data(_content(_token(message), encoded(message))) for message in messages]
    if many:
        return Datum(CollectionModelBindingData(items), "collection_model_binding_data")
    return Datum(items[0], "model_binding_data")


def _token(message: ServiceBusReceivedMessage) -> str | None:
    token = message.lock_token
    return None if token is None else str(token)


def admin_model_binding_datum(payload: str, many: bool) -> Datum:
    """The admin API's message made from a string, as model binding data."""
    from azure.servicebus._pyamqp._encode import encode_payload
    from azure.servicebus._pyamqp.message import Message

    amqp = bytes(encode_payload(bytearray(), Message(data=[payload.encode("utf-8")])))
    item = _binding_data(_content(None, amqp))
    if many:
        return Datum(CollectionModelBindingData([item]), "collection_model_binding_data")
    return Datum(item, "model_binding_data")
