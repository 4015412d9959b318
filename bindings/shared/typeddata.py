"""The gRPC ``TypedData`` shapes the Python worker hands to the library's converters.

Collections: the worker passes ``td.collection_string`` (a protobuf message) as the Datum's
value and the converters read its repeated field (``.string``, ``.bytes``, ``.sint64``);
``Collection`` is that shape without protobuf.

SDK-type parameters (deferred bindings): a parameter typed with an SDK type of an installed
``azurefunctions-extensions-bindings-*`` package is marked ``SupportsDeferredBinding`` by the
worker's indexer; the host then sends ``model_binding_data`` (a batch:
``collection_model_binding_data``) instead of the content, and the extension's own converter
builds the SDK object from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from funchost.bindings.base import BindingSpec

MODEL_BINDING_DATA = "model_binding_data"
COLLECTION_MODEL_BINDING_DATA = "collection_model_binding_data"


@dataclass(frozen=True)
class Collection:
    """A TypedData collection as the worker's protobuf has it (``.string``, ``.bytes``...)."""

    string: Sequence[str] = ()
    bytes: Sequence[bytes] = ()
    sint64: Sequence[int] = ()


@dataclass(frozen=True)
class ModelBindingData:
    """The ModelBindingData message the host sends for an SDK-type parameter."""

    version: str
    source: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class CollectionModelBindingData:
    """CollectionModelBindingData: one ModelBindingData per item of a batch."""

    model_binding_data: Sequence[ModelBindingData] = ()


def is_deferred(spec: BindingSpec) -> bool:
    """Whether the worker marked the binding SupportsDeferredBinding (an SDK-type parameter)."""
    nested = spec.properties.get("properties")
    if not isinstance(nested, Mapping):
        return False
    flag = next((v for k, v in nested.items() if k.lower() == "supportsdeferredbinding"), False)
    return str(flag).lower() == "true"
