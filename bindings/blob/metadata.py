"""What a blob-triggered function gets besides the content: trigger metadata and details.

The Functions host sends the blob trigger's binding data (BlobTriggerBinding) as trigger
metadata: ``BlobTrigger`` (``container/blob``), ``Uri``, ``Properties`` (the SDK's
BlobProperties, as Json.NET writes them: enums as numbers, times as ISO with offset) and
``Metadata``, plus what the path pattern captured. The library's BlobConverter reads the first
four into ``func.InputStream``. The queue message's details are logged as the host logs them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from azure.functions.meta import Datum

from funchost.bindings.blob.paths import BlobPath

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.queue import QueueMessage

# .NET enum values, as Json.NET writes them (BlobType, LeaseDurationType, LeaseState/Status).
_BLOB_TYPES = {"BlockBlob": 0, "PageBlob": 1, "AppendBlob": 2}
_LEASE_DURATIONS = {"infinite": 0, "fixed": 1}
_LEASE_STATES = {"available": 0, "leased": 1, "expired": 2, "breaking": 3, "broken": 4}
_LEASE_STATUSES = {"locked": 0, "unlocked": 1}


def trigger_metadata(
    path: BlobPath, url: str, properties: BlobProperties, captured: Mapping[str, str]
) -> dict[str, Datum]:
    """BlobTriggerBinding.CreateBindingData, as the host converts it for the worker: strings
    as strings, everything else as Json.NET's JSON; the pattern's values win on a clash."""
    metadata = {
        "BlobTrigger": Datum(str(path), "string"),
        "Uri": Datum(json.dumps(url), "json"),
        "Properties": Datum(json.dumps(properties_json(properties)), "json"),
        "Metadata": Datum(json.dumps(dict(properties.metadata or {})), "json"),
    }
    for name, value in captured.items():
        metadata[name] = Datum(value, "string")
    return metadata


def trigger_details(queued: QueueMessage, properties: BlobProperties) -> dict[str, str]:
    """BlobQueueTriggerExecutor.PopulateTriggerDetails: the message, then the blob's times."""
    details = {"MessageId": str(queued.id), "DequeueCount": str(queued.dequeue_count)}
    if queued.inserted_on is not None:
        details["InsertedOn"] = _detail_time(queued.inserted_on)
    if properties.creation_time is not None:
        details["BlobCreated"] = _detail_time(properties.creation_time)
    if properties.last_modified is not None:
        details["BlobLastModified"] = _detail_time(properties.last_modified)
    return details


def _detail_time(moment: datetime) -> str:
    """Constants.DateTimeFormatString: yyyy-MM-ddTHH:mm:ss.fffK of a UTC DateTimeOffset."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+00:00"


def properties_json(properties: BlobProperties) -> dict[str, Any]:
    """The blob's BlobProperties as Json.NET writes them (the fields a function reads)."""
    settings = properties.content_settings
    blob_type = str(getattr(properties.blob_type, "value", properties.blob_type))
    lease = properties.lease
    md5 = settings.content_md5 if settings is not None else None
    return {
        "LastModified": _offset_time(properties.last_modified),
        "CreatedOn": _offset_time(properties.creation_time),
        "Metadata": dict(properties.metadata or {}),
        "BlobType": _BLOB_TYPES.get(blob_type, 0),
        "LeaseDuration": _LEASE_DURATIONS.get(str(lease.duration or "").lower(), 0),
        "LeaseState": _LEASE_STATES.get(str(lease.state or "").lower(), 0),
        "LeaseStatus": _LEASE_STATUSES.get(str(lease.status or "").lower(), 1),
        "ContentLength": properties.size,
        "ContentType": settings.content_type if settings is not None else None,
        "ETag": properties.etag,
        "ContentHash": base64.b64encode(bytes(md5)).decode() if md5 else None,
        "ContentEncoding": settings.content_encoding if settings is not None else None,
        "ContentDisposition": settings.content_disposition if settings is not None else None,
        "ContentLanguage": settings.content_language if settings is not None else None,
        "CacheControl": settings.cache_control if settings is not None else None,
        "IsServerEncrypted": bool(properties.server_encrypted),
        "VersionId": properties.version_id,
    }


def _offset_time(moment: datetime | None) -> str:
    """A DateTimeOffset as Json.NET writes it: ISO, fraction trimmed, '+00:00'."""
    if moment is None:
        return "0001-01-01T00:00:00+00:00"
    moment = moment.astimezone(timezone.utc)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}+00:00"
