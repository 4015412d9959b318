"""The library's converter registry (``azure.functions.meta``), used as the official worker does."""

from __future__ import annotations

import sys
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
    if not out:
        deferred = _deferred_converter(binding_type, pytype)
        if deferred is not None:
            return bool(deferred.check_input_type_annotation(pytype))
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


def decode(
    binding_type: str, datum: Datum | None, metadata: Mapping[str, Datum], pytype: Any = None
) -> Any:
    """Turn trigger or input data into the Python argument, as the worker picks the converter.

    An SDK type of an installed extension (deferred binding) goes to the extension's
    converter; a ``str`` or ``bytes`` annotation to the worker's generic one (the value as
    sent); anything else to the library's converter of the binding type.
    """
    if datum is None:
        return None
    if datum.type == NATIVE:
        return datum.value
    deferred = _deferred_converter(binding_type, pytype)
    if deferred is not None:
        return deferred.decode(datum, trigger_metadata=metadata, pytype=pytype)
    if _plain(pytype) in (str, bytes) and not _implicit_output(binding_type):
        return _generic(datum, binding_type)
    converter = _converter(binding_type)
    if converter is None:
        return datum.python_value
    try:
        return converter.decode(datum, trigger_metadata=metadata)
    except NotImplementedError:
        raise BindingError(
            f"cannot decode {datum.type!r} data for a '{binding_type}' binding"
        ) from None


def _plain(pytype: Any) -> Any:
    """X for Optional[X] (funchost accepts Optional annotations), else the annotation."""
    members = _optional_members(pytype)
    return members[0] if members is not None and len(members) == 1 else pytype


def _generic(datum: Datum, binding_type: str) -> Any:
    """The worker's GenericBinding.decode: string, bytes or JSON text as it came."""
    if datum.type in ("string", "bytes", "json"):
        return datum.value
    if datum.type is None:
        return None
    raise BindingError(f"cannot decode {datum.type!r} data for a '{binding_type}' binding")


def _implicit_output(binding_type: str) -> bool:
    """Durable bindings return their value implicitly; the generic converter is not for them."""
    converter = _converter(binding_type)
    check = getattr(converter, "has_implicit_output", None)
    return bool(check()) if callable(check) else False


def is_deferred(binding_type: str, pytype: Any) -> bool:
    """Whether the parameter is an SDK type an installed extension builds (deferred binding)."""
    return _deferred_converter(binding_type, pytype) is not None


def _deferred_converter(binding_type: str, pytype: Any) -> Any:
    """The extension's converter for an SDK-type annotation, else None.

    As the worker: azurefunctions-extensions-base keeps a registry of its own, filled when the
    app imports an extension (``import azurefunctions.extensions.bindings.blob``); nothing is
    imported here, so an app without extensions never loads them.
    """
    base = sys.modules.get("azurefunctions.extensions.base")
    if base is None or pytype is None:
        return None
    registry = base.get_binding_registry()
    try:
        supported = registry.check_supported_type(pytype)
    except TypeError:  # an annotation the registry cannot inspect
        return None
    return registry.get(binding_type) if supported else None


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
