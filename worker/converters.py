"""The library's converter registry (``azure.functions.meta``), used as the official worker does.

The indexer picks each parameter's converter once (``converter_for``); decoding and encoding
use that choice.
"""

from __future__ import annotations

import functools
import importlib
import json
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
from funchost.worker import http_streams

_registry = get_binding_registry()  # type: ignore[no-untyped-call]  # untyped in the library


GENERIC = "generic"  # the worker's converter for str and bytes: the data as it came

# Binding types whose data is never text, bytes or JSON: the HTTP trigger's is a request.
# The worker accepts ``req: str`` there and then fails every call in its generic decode;
# funchost refuses the annotation at load instead, so the mistake shows once, with the fix.
_NEVER_RAW = frozenset({"httptrigger"})


def converter_for(binding_type: str, pytype: Any) -> str:
    """The converter a parameter uses: its binding type's, or GENERIC for ``str``/``bytes``.

    The worker's rule (functions.py, validate_function_params): a parameter annotated ``str``
    or ``bytes`` takes the data as the host sent it, whatever the binding type (trigger,
    input or output), unless the type returns its value implicitly (meta.py,
    has_implicit_output: the durable triggers). The return value keeps its binding's
    converter. ``Optional[str]`` counts as ``str``: funchost accepts Optional annotations.
    The HTTP streams extension's Request has a converter of its own (worker/http_streams.py).
    """
    if binding_type.lower() == "httptrigger" and http_streams.is_stream_request(pytype):
        return http_streams.CONVERTER
    if (
        _plain(pytype) in (str, bytes)
        and binding_type.lower() not in _NEVER_RAW
        and not _implicit_output(binding_type)
    ):
        return GENERIC
    if binding_type.lower() not in _NO_DATES:
        _widen_strptime_cache()
        _remember_parsed_dates()
    return binding_type


# Converters that parse no dates; every other one may read trigger metadata times.
_NO_DATES = frozenset({"httptrigger", "http"})
_STRPTIME_KEPT = 64


def _widen_strptime_cache() -> None:
    """Let CPython's strptime keep more compiled formats than its 5 (idempotent).

    The library's converters parse metadata times (Service Bus, Event Hubs, queue messages)
    by trying a dozen or more formats in turn; with 5 kept, every try recompiles its pattern,
    which was most of the cost of decoding a message (bench/README.md). Nothing parses
    differently; only patterns stay compiled.
    """
    strptime = importlib.import_module("_strptime")  # private: no stubs, hence getattr
    kept = max(int(getattr(strptime, "_CACHE_MAX_SIZE", 0)), _STRPTIME_KEPT)
    setattr(strptime, "_CACHE_MAX_SIZE", kept)  # noqa: B010


_DATES_KEPT = 256


def _remember_parsed_dates() -> None:
    """Keep the library's parsed metadata times by their text (idempotent).

    ``_BaseConverter._parse_datetime`` tries up to 13 strptime formats for every time of every
    message, each miss raising inside; the same text always gives the same (immutable)
    datetime, and texts repeat: the ExpiresAtUtc of a message that never expires is the same
    on every message, and messages sent together share their enqueued millisecond. The last
    texts seen are kept; one that does not parse raises as before, each time. A library
    without that classmethod is left as it is.
    """
    base = importlib.import_module("azure.functions.meta")._BaseConverter
    parse = base.__dict__.get("_parse_datetime")
    if not isinstance(parse, classmethod) or getattr(parse.__func__, "funchost_kept", False):
        return
    original = parse.__func__
    kept = functools.lru_cache(maxsize=_DATES_KEPT)(original)

    def remembered(cls: type, datetime_str: Any) -> Any:
        if type(datetime_str) is not str:  # None, or a value the cache cannot hash
            return original(cls, datetime_str)
        return kept(cls, datetime_str)

    remembered.funchost_kept = True  # type: ignore[attr-defined]
    setattr(base, "_parse_datetime", classmethod(remembered))  # noqa: B010


def _converter(name: str) -> Any:
    # As the worker's get_binding: a type the library has no converter for is generic too.
    return _registry.get(name) or _Generic


def accepts(converter: str, pytype: Any, *, out: bool) -> bool:
    """Whether the converter can decode into (or encode from) this annotation."""
    if converter == http_streams.CONVERTER:
        return True  # chosen for that annotation alone
    if not out:
        deferred = _deferred_converter(converter, pytype)
        if deferred is not None:
            return bool(deferred.check_input_type_annotation(pytype))
    members = _optional_members(pytype)
    if members is not None:
        # Optional[X] / X | None: None needs no converter, every other member must pass.
        return all(accepts(converter, member, out=out) for member in members)
    found = _converter(converter)
    check = found.check_output_type_annotation if out else found.check_input_type_annotation
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
    converter: str, datum: Datum | None, metadata: Mapping[str, Datum], pytype: Any = None
) -> Any:
    """Turn trigger or input data into the Python argument, with the converter the indexer chose.

    An SDK type of an installed extension (deferred binding) goes to the extension's
    converter; anything else to ``converter`` (see ``converter_for``).
    """
    if datum is None:
        return None
    if converter == http_streams.CONVERTER:
        return http_streams.request_for(datum.value)
    if datum.type == NATIVE:
        return datum.value
    deferred = _deferred_converter(converter, pytype)
    if deferred is not None:
        return deferred.decode(datum, trigger_metadata=metadata, pytype=pytype)
    try:
        return _converter(converter).decode(datum, trigger_metadata=metadata)
    except NotImplementedError:
        raise BindingError(f"cannot decode {datum.type!r} data for {_label(converter)}") from None


def _plain(pytype: Any) -> Any:
    """X for Optional[X] (funchost accepts Optional annotations), else the annotation."""
    members = _optional_members(pytype)
    return members[0] if members is not None and len(members) == 1 else pytype


def _implicit_output(binding_type: str) -> bool:
    """Durable bindings return their value implicitly; the generic converter is not for them."""
    check = getattr(_registry.get(binding_type), "has_implicit_output", None)
    return bool(check()) if callable(check) else False


def _label(converter: str) -> str:
    if converter == GENERIC:
        return "a str or bytes parameter (the data as sent)"
    return f"a '{converter}' binding"


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


def encode(converter: str, value: Any, pytype: Any) -> Datum:
    """Turn an output value into a Datum for the binding to write."""
    if converter == "http" and isinstance(value, func.HttpResponse):
        return Datum(value, NATIVE)  # written straight to the socket by the HTTP trigger
    try:
        datum: Datum = _converter(converter).encode(value, expected_type=pytype)
    except NotImplementedError:
        expected = _GENERIC_VALUES if converter == GENERIC else "a type its converter accepts"
        raise BindingError(
            f"cannot send a value of type {type(value).__name__} to {_label(converter)}; "
            f"expected {expected}"
        ) from None
    return datum


_GENERIC_VALUES = "str, bytes, or a dict, list, int, float or bool (sent as JSON or a number)"


class _Generic:
    """The worker's generic binding (bindings/generic.py): data and values as they are.

    Used for ``str``/``bytes`` parameters and for binding types the library has no converter
    for. Values go out as the worker puts them on the wire (datumdef.datum_as_proto): dicts
    and lists as JSON, bools as ints.
    """

    @staticmethod
    def check_input_type_annotation(pytype: Any) -> bool:
        return issubclass(pytype, (str, bytes))

    @staticmethod
    def check_output_type_annotation(pytype: Any) -> bool:
        return issubclass(pytype, (str, bytes, bytearray))

    @staticmethod
    def decode(datum: Datum, *, trigger_metadata: Mapping[str, Datum]) -> Any:
        if datum.type in ("string", "bytes", "json"):
            return datum.value
        if datum.type is None:
            return None
        raise NotImplementedError

    @staticmethod
    def encode(value: Any, *, expected_type: Any) -> Datum:
        if isinstance(value, str):
            return Datum(value, "string")
        if isinstance(value, (bytes, bytearray)):
            return Datum(bytes(value), "bytes")
        if value is None:
            return Datum(None, None)
        if isinstance(value, (dict, list)):
            return Datum(json.dumps(value), "json")
        if isinstance(value, int):  # bool too: the wire has no bool, the worker sends an int
            return Datum(int(value), "int")
        if isinstance(value, float):
            return Datum(value, "double")
        raise NotImplementedError
