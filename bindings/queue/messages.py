"""Queue messages in the shapes the Functions host uses: bodies, trigger data, output values.

- Bodies: ``messageEncoding`` base64 (the default) or none, as Azure.Storage.Queues encodes
  them; decoded here, so a body that is not base64 is caught (the SDK's decode policy would
  fail with an AttributeError instead of the binascii.Error).
- Trigger data: the message body as a ``string`` (``bytes`` with ``dataType: binary``), and
  the binding data of the extension's ``QueueTriggerBinding`` as trigger metadata, each
  converted as the host's ``GrpcMessageConversionExtensions.ToRpc`` converts it: strings as
  ``string``, the dequeue count and the times as ``json`` (Json.NET). The library's
  ``QueueMessageInConverter`` reads these into ``func.QueueMessage``.
- Output values are split into messages by bindings/shared/outputs.py, as for every
  collector-based output.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from azure.functions.meta import Datum

from funchost.bindings.base import TriggerEvent

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage

# DateTimeOffset.MaxValue as Json.NET writes it: the host's value for a missing time.
MAX_DATE = "9999-12-31T23:59:59.9999999+00:00"
_BASE64_SPACE = str.maketrans("", "", " \t\r\n")  # Convert.FromBase64String skips these


def decode_body(text: str, encoding: str) -> bytes | None:
    """The message's bytes; None when base64 is expected and the text is not base64."""
    if encoding == "none":
        return text.encode("utf-8")
    try:
        return base64.b64decode(text.translate(_BASE64_SPACE), validate=True)
    except (binascii.Error, ValueError):
        return None


def encode_body(body: bytes, encoding: str) -> str:
    """The message text to send (with none, bytes that are not UTF-8 become U+FFFD)."""
    if encoding == "none":
        return body.decode("utf-8", "replace")
    return base64.b64encode(body).decode("ascii")


def utf8_text(body: bytes) -> str | None:
    """Strict UTF-8, as the extension's ToValidUTF8String; None when the bytes are not."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def trigger_event(
    message: QueueMessage, body: bytes, text: str | None, queue: str, binary: bool
) -> TriggerEvent:
    """The event for one received message (text: its strict UTF-8 body, or None)."""
    data = Datum(body, "bytes") if binary else Datum(text, "string")
    metadata: dict[str, Datum] = {}
    if text is not None:  # QueueTriggerBinding leaves QueueTrigger out for non-UTF-8 bodies
        metadata["QueueTrigger"] = Datum(text, "string")
    metadata.update(
        {
            "DequeueCount": Datum(str(message.dequeue_count or 0), "json"),
            "ExpirationTime": _json_date(message.expires_on),
            "Id": Datum(message.id, "string"),
            "InsertionTime": _json_date(message.inserted_on or datetime.now(timezone.utc)),
            "NextVisibleTime": _json_date(message.next_visible_on),
            "PopReceipt": Datum(message.pop_receipt, "string"),
        }
    )
    return TriggerEvent(
        data=data,
        metadata=metadata,
        reason=f"New queue message detected on '{queue}'.",
        # QueueTriggerExecutor.PopulateTriggerDetails
        details={
            "MessageId": message.id,
            "DequeueCount": str(message.dequeue_count or 0),
            "InsertedOn": _details_date(message.inserted_on),
        },
    )


def admin_event(payload: str, binary: bool) -> TriggerEvent:
    """``POST /admin/functions/<name>``: a message made from the input, as the host makes it.

    StringToStorageQueueMessageConverter gives it no id, pop receipt or times, so the
    binding data has the defaults (dequeue count 0, now, DateTimeOffset.MaxValue).
    """
    data = Datum(payload.encode("utf-8"), "bytes") if binary else Datum(payload, "string")
    return TriggerEvent(
        data=data,
        metadata={
            "QueueTrigger": Datum(payload, "string"),
            "DequeueCount": Datum("0", "json"),
            "ExpirationTime": Datum(json.dumps(MAX_DATE), "json"),
            "InsertionTime": _json_date(datetime.now(timezone.utc)),
            "NextVisibleTime": Datum(json.dumps(MAX_DATE), "json"),
        },
    )


def _json_date(moment: datetime | None) -> Datum:
    """A DateTimeOffset as Json.NET serializes it (up to 7 fraction digits, trailing 0s cut)."""
    if moment is None:
        return Datum(json.dumps(MAX_DATE), "json")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    fraction = f"{moment.microsecond:06d}0".rstrip("0")
    text = f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}{_offset(moment)}"
    return Datum(json.dumps(text), "json")


def _details_date(moment: datetime | None) -> str:
    """``yyyy-MM-ddTHH:mm:ss.fffK``, as the extension prints InsertedOn."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}{_offset(moment)}"


def _offset(moment: datetime) -> str:
    offset = moment.strftime("%z") or "+0000"
    return f"{offset[:3]}:{offset[3:5]}"
