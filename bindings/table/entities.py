"""Table entities in the shapes the Tables extension gives a worker and takes from it.

Reading (``ConvertEntityToJObject``): every property of the entity, ``PartitionKey`` and
``RowKey`` included, but not ``Timestamp`` nor the ETag; 64-bit numbers as numbers, dates as
Json.NET writes a DateTimeOffset, binary as base64, Guids as text.

Writing (``CreateTableEntityFromJsonBytes``, ``TableEntityWriter``): the worker's value is
split into items as the host does (a JSON array is one entity per item); each item is a JSON
object whose ``PartitionKey``, ``RowKey`` and ``ETag`` are found ignoring case; dates stay
text (Json.NET reads with DateParseHandling.None); whole numbers are 64-bit (Json.NET reads
them as long: ``Edm.Int64``); nested objects and arrays are stored as their indented JSON.
The binding's partition and row keys fill in what the item lacks. No ETag inserts the entity
(an existing one is a conflict), ``"*"`` replaces it whatever its version, another ETag
replaces it only at that version.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from funchost.errors import BindingError

INT64 = (-(2**63), 2**63 - 1)
_RESERVED = {"partitionkey": "PartitionKey", "rowkey": "RowKey", "etag": "ETag"}


def entity_json(entity: Mapping[str, Any]) -> dict[str, Any]:
    """An entity read by the SDK as the extension hands it to a worker."""
    return {name: _json_value(value) for name, value in entity.items() if name != "Timestamp"}


def _json_value(value: Any) -> Any:
    value = getattr(value, "value", value) if _is_entity_property(value) else value
    if isinstance(value, datetime):
        return _dotnet_date(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _is_entity_property(value: Any) -> bool:
    # azure.data.tables.EntityProperty: a (value, edm_type) named tuple.
    return isinstance(value, tuple) and hasattr(value, "edm_type")


def _dotnet_date(moment: datetime) -> str:
    """A DateTimeOffset as Json.NET writes it: up to 7 fraction digits, trailing 0s cut."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    service = getattr(moment, "tables_service_value", "")  # the service's 7 digits
    digits = f"{moment.microsecond:06d}"
    if "." in service:
        digits = service.partition(".")[2].rstrip("Z")
    fraction = "." + digits.rstrip("0") if digits.rstrip("0") else ""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}{offset[:3]}:{offset[3:]}"


@dataclass(frozen=True)
class Entity:
    """One entity to write: its properties (keys included) and the ETag that picks the write."""

    properties: dict[str, Any]
    etag: str | None

    @property
    def keys(self) -> tuple[str, str]:
        """(PartitionKey, RowKey)."""
        return self.properties["PartitionKey"], self.properties["RowKey"]


def entity_from_item(item: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The entity's properties (reserved names in their service casing) and its ETag."""
    properties: dict[str, Any] = {}
    etag: str | None = None
    for name, value in item.items():
        if name == "Timestamp":
            continue  # the service's to set: the SDK the extension uses never sends it
        reserved = _RESERVED.get(name.lower())
        if reserved == "ETag":
            etag = None if value is None else str(value)
            continue
        properties[reserved or name] = value if reserved else _entity_value(name, value)
    return properties, etag


def _entity_value(name: str, value: Any) -> Any:
    from azure.data.tables import EdmType, EntityProperty

    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise BindingError(f"property '{name}' is {value}, beyond a 64-bit integer")
        return EntityProperty(value, EdmType.INT64)
    return json.dumps(value, indent=2, ensure_ascii=False)  # JToken.ToString()
