"""The collection values of the gRPC ``TypedData`` the Python worker hands to converters.

The worker passes ``td.collection_string`` (a protobuf message) as the Datum's value and the
library's converters read its repeated field (``value.string``, ``value.bytes``,
``value.sint64``, ``value.model_binding_data``). These are the same shapes without protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CollectionString:
    """``collection_string``: ``.string`` is the list."""

    string: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CollectionBytes:
    """``collection_bytes``: ``.bytes`` is the list."""

    bytes: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class CollectionSint64:
    """``collection_sint64``: ``.sint64`` is the list."""

    sint64: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ModelBindingData:
    """The ModelBindingData message the host sends for an SDK-type parameter."""

    version: str
    source: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class CollectionModelBindingData:
    """``collection_model_binding_data``: ``.model_binding_data`` is the list."""

    model_binding_data: list[ModelBindingData] = field(default_factory=list)
