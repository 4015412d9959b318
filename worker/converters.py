"""The library's converter registry (``azure.functions.meta``), used as the official worker does."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

import azure.functions as func
from azure.functions import get_binding_registry
from azure.functions.meta import Datum

from funchost.bindings.base import NATIVE
from funchost.errors import BindingError

_registry = get_binding_registry()  # type: ignore[no-untyped-call]  # untyped in the library


def _converter(binding_type: str) -> Any:
    return _registry.get(binding_type)


def accepts(binding_type: str, pytype: Any, *, out: bool) -> bool:
    """Whether the binding's converter can decode into (or encode from) this annotation."""
    converter = _converter(binding_type)
    if converter is None:
        return True  # no converter: the value is passed through as the binding produced it
    members = _optional_members(pytype)
    if members is not None:
        # Optional[X] / X | None: None needs no converter, every other member must pass.
        return all(accepts(binding_type, member, out=out) for member in members)
    check = converter.check_output_type_annotation if out else converter.check_input_type_annotation
    try:
        return bool(check(pytype))
    except TypeError:
        # issubclass() on a generic alias the converter did not expect: not accepted.
        return False


def _optional_members(pytype: Any) -> tuple[Any, ...] | None:
    """The non-None members of a Union that includes None, else None."""
    if typing.get_origin(pytype) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(pytype)
    if type(None) not in args:
        return None
    return tuple(a for a in args if a is not type(None))


def decode(binding_type: str, datum: Datum | None, metadata: Mapping[str, Datum]) -> Any:
    """Turn trigger or input data into the Python argument."""
    if datum is None:
        return None
    if datum.type == NATIVE:
        return datum.value
    converter = _converter(binding_type)
    if converter is None:
        return datum.python_value
    try:
        return converter.decode(datum, trigger_metadata=metadata)
    except NotImplementedError:
        raise BindingError(
            f"cannot decode {datum.type!r} data for a '{binding_type}' binding"
        ) from None


def encode(binding_type: str, value: Any, pytype: Any) -> Datum:
    """Turn an output value into a Datum for the binding to write."""
    if binding_type == "http" and isinstance(value, func.HttpResponse):
        return Datum(value, NATIVE)  # written straight to the socket by the HTTP trigger
    converter = _converter(binding_type)
    if converter is None:
        return _plain_datum(binding_type, value)
    try:
        datum: Datum = converter.encode(value, expected_type=pytype)
    except NotImplementedError:
        raise BindingError(
            f"cannot send a value of type {type(value).__name__} to the '{binding_type}' "
            f"binding; expected a type its converter accepts"
        ) from None
    return datum


def _plain_datum(binding_type: str, value: Any) -> Datum:
    if isinstance(value, str):
        return Datum(value, "string")
    if isinstance(value, (bytes, bytearray)):
        return Datum(bytes(value), "bytes")
    raise BindingError(
        f"cannot send a value of type {type(value).__name__} to the '{binding_type}' binding; "
        f"expected str or bytes"
    )
