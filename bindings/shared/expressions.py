"""Binding expressions: ``{name}`` parts of binding properties, filled in per invocation.

As the WebJobs SDK (``BindingTemplateParser``, ``BindingTemplateToken``, ``BindingTemplate``,
``BindingParameterResolver``, ``SystemBindingData``, ``BindingDataPathHelper``):

- ``{{`` and ``}}`` are literal braces; an unbalanced brace or an empty ``{}`` is an error;
- ``{name}`` is a trigger value (its metadata, or a top-level property of a JSON payload),
  looked up case-insensitively; ``{a.b.c}`` walks into objects, case-insensitively;
  ``{name:format}`` applies a .NET format to a date or Guid value (ignored for strings);
- ``{rand-guid}`` / ``{sys.randguid}`` is a new Guid, ``{DateTime}`` / ``{sys.utcnow}`` the
  UTC time printed as ``yyyy-MM-ddTHH-mm-ssZ``; each takes a format (``{DateTime:yyyy}``,
  ``{rand-guid:N}``). A trigger value named ``DateTime`` wins over the built-in, as in the host.

``%Setting%`` references are resolved before this, when the function is wired.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from funchost.bindings.base import TriggerEvent
from funchost.bindings.shared.netformat import FormatError, format_datetime, format_guid
from funchost.errors import BindingError

# The host's token rule: escaped braces, {expression}, literal text, or a stray brace.
_TOKENS = re.compile(
    r"(?P<escape>\{\{|\}\})|\{(?P<expr>[^{}]*)\}|(?P<literal>[^{}]+)|(?P<stray>[{}])"
)
_IDENTIFIER = re.compile(r"(?!\d)\w+")
_MEMBER = re.compile(r"[\w-]+")
_BUILTINS = ("rand-guid", "datetime")  # BindingParameterResolver's names
_SYS_MEMBERS = {"randguid": "rand-guid", "utcnow": "datetime"}  # SystemBindingData
_EXPECTED = "expected {name}, {a.b} (a dotted path), {rand-guid} or {DateTime:yyyy-MM-dd}"


class ExpressionError(BindingError):
    """A binding expression that cannot be parsed, or has no value."""


@dataclass(frozen=True)
class _Token:
    literal: str | None = None  # set for literal text
    path: tuple[str, ...] = ()  # a.b.c
    format: str | None = None
    builtin: str | None = None  # "rand-guid" or "datetime"
    source: str = ""  # as written between the braces

    @property
    def system(self) -> bool:
        """``{sys.randguid}`` / ``{sys.utcnow}``: only the built-in (unless data has ``sys``)."""
        return self.builtin is not None and len(self.path) == 2


@dataclass(frozen=True)
class Template:
    """One compiled property value, such as ``out/{queueTrigger}-{rand-guid}.txt``."""

    text: str
    names: frozenset[str]  # the first part of every expression, as written
    where: str = field(default="", compare=False)
    tokens: tuple[_Token, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_constant(self) -> bool:
        """True when there is nothing to fill in (braces escaped, if any)."""
        return all(token.literal is not None for token in self.tokens)

    def render(self, values: Mapping[str, Any]) -> str:
        """The text with every expression replaced; ExpressionError names what is missing."""
        lowered = {name.lower(): value for name, value in values.items()}
        parts: list[str] = []
        for token in self.tokens:
            if token.literal is not None:
                parts.append(token.literal)
            else:
                parts.append(self._evaluate(token, lowered, values))
        return "".join(parts)

    def _evaluate(self, token: _Token, lowered: dict[str, Any], values: Mapping[str, Any]) -> str:
        if token.builtin is not None and not _shadowed(token, lowered):
            return _builtin(token)
        return _to_text(self._lookup(token, lowered, values), token, self.where)

    def _lookup(self, token: _Token, lowered: dict[str, Any], values: Mapping[str, Any]) -> Any:
        """The value an expression names (not yet text); ExpressionError when there is none."""
        root = token.path[0].lower()
        if root not in lowered:
            known = ", ".join(sorted(values, key=str.lower)) or "no values"
            raise ExpressionError(
                f"{self.where}: no value for named parameter '{token.path[0]}' "
                f"(in '{{{token.source}}}'); this invocation has: {known}"
            )
        return _walk(lowered[root], token, self.where)

    def values(self, values: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """(expression as written, value) for each distinct expression, values not made text.

        For bindings that pass values on typed (Cosmos DB's SQL parameters), not spliced in.
        """
        lowered = {name.lower(): value for name, value in values.items()}
        found: dict[str, Any] = {}
        for token in self.tokens:
            if token.literal is not None or token.source in found:
                continue
            if token.builtin is not None and not _shadowed(token, lowered):
                found[token.source] = _builtin(token)
            else:
                found[token.source] = self._lookup(token, lowered, values)
        return list(found.items())


def compile_template(text: str, where: str) -> Template:
    """Parse a property value; ExpressionError for unbalanced braces or a bad expression."""
    tokens: list[_Token] = []
    for match in _TOKENS.finditer(text):
        position = match.start() + 1  # 1-based, as the host reports it
        if match.group("escape"):
            tokens.append(_Token(literal=match.group("escape")[0]))
        elif match.group("literal"):
            tokens.append(_Token(literal=match.group("literal")))
        elif match.group("stray"):
            side = "closing" if match.group("stray") == "{" else "opening"
            raise ExpressionError(
                f"{where}: invalid template '{text}': missing {side} bracket at position {position}"
            )
        else:
            tokens.append(_expression(match.group("expr"), text, position, where))
    names = frozenset(token.path[0] for token in tokens if token.literal is None)
    return Template(text=text, names=names, where=where, tokens=tuple(tokens))


def _expression(source: str, text: str, position: int, where: str) -> _Token:
    invalid = f"{where}: invalid template '{text}'"
    if not source:
        raise ExpressionError(f"{invalid}: the parameter name at position {position} is empty")
    token = _builtin_token(source) or _path_token(source)
    if token is None:
        raise ExpressionError(f"{invalid}: '{{{source}}}' is not a binding expression; {_EXPECTED}")
    if token.builtin is not None:
        try:
            _builtin(token)  # a bad format fails now, at load
        except FormatError as exc:
            raise ExpressionError(f"{invalid}: '{{{source}}}': {exc}") from None
    return token


def _builtin_token(source: str) -> _Token | None:
    name, _, fmt = source.partition(":")
    lowered = name.lower()
    if lowered in _BUILTINS:
        return _Token(path=(name,), format=fmt or None, builtin=lowered, source=source)
    head, _, member = lowered.partition(".")
    if head == "sys" and member in _SYS_MEMBERS:
        builtin = _SYS_MEMBERS[member]
        path = tuple(name.split("."))
        return _Token(path=path, format=fmt or None, builtin=builtin, source=source)
    return None


def _path_token(source: str) -> _Token | None:
    expression, _, fmt = source.partition(":")
    path = tuple(expression.split("."))
    # The host refuses '-' only in the first part ("for backwards compat"): {headers.x-id}.
    if not _IDENTIFIER.fullmatch(path[0]) or not all(_MEMBER.fullmatch(p) for p in path[1:]):
        return None
    return _Token(path=path, format=fmt or None, source=source)


def _shadowed(token: _Token, lowered: Mapping[str, Any]) -> bool:
    """Trigger data wins over a built-in of the same name, as in the host.

    ``{DateTime}`` is a trigger value first; ``{DateTime:format}`` always the clock (the host
    looks the whole text up); ``{sys.x}`` uses trigger data only if it has ``sys``.
    """
    if token.system:
        return "sys" in lowered
    return token.format is None and token.path[0].lower() in lowered


def _builtin(token: _Token) -> str:
    if token.builtin == "rand-guid":
        return format_guid(uuid.uuid4(), token.format)
    return format_datetime(datetime.now(timezone.utc), token.format)


def _walk(value: Any, token: _Token, where: str) -> Any:
    """Follow a.b.c through objects, matching property names case-insensitively."""
    for depth, part in enumerate(token.path[1:], start=1):
        prefix = ".".join(token.path[:depth])
        if not isinstance(value, Mapping):
            raise ExpressionError(
                f"{where}: no value for '{{{token.source}}}': '{prefix}' is "
                f"{_kind(value)}, not an object"
            )
        found = next((v for k, v in value.items() if str(k).lower() == part.lower()), _MISSING)
        if found is _MISSING:
            has = ", ".join(sorted((str(k) for k in value), key=str.lower)) or "no properties"
            raise ExpressionError(
                f"{where}: no value for '{{{token.source}}}': '{prefix}' has no property "
                f"'{part}'; it has: {has}"
            )
        value = found
    return value


_MISSING = object()


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return "null" if value is None else f"a {type(value).__name__}"


def _to_text(value: Any, token: _Token, where: str) -> str:
    """BindingDataPathHelper.ConvertParameterValueToString: values, never objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"  # JValue.ToString()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return ""
    try:
        if isinstance(value, datetime):
            return format_datetime(value, token.format)
        if isinstance(value, uuid.UUID):
            return format_guid(value, token.format)
    except FormatError as exc:
        raise ExpressionError(f"{where}: '{{{token.source}}}': {exc}") from None
    raise ExpressionError(
        f"{where}: '{{{token.source}}}' is {_kind(value)}, not a value; expected a string, "
        f"number or boolean{_example(value, token)}"
    )


def _example(value: Any, token: _Token) -> str:
    if isinstance(value, Mapping) and value:
        first = next(iter(value))
        return f" (a property of it, such as {{{'.'.join(token.path)}.{first}}})"
    return ""


def check_names(template: Template, known: set[str] | None, where: str) -> None:
    """At load: fail on a name the trigger never provides (None: the names are open)."""
    if known is None:
        return
    lowered = {name.lower() for name in known}
    for token in template.tokens:
        if token.literal is not None or token.builtin is not None:
            continue
        if token.path[0].lower() not in lowered:
            has = ", ".join(sorted(known, key=str.lower)) or "none"
            raise ExpressionError(
                f"{where}: no binding parameter exists for '{token.path[0]}' "
                f"(in '{{{token.source}}}'); the trigger provides: {has}, and the built-ins "
                "rand-guid, DateTime, sys.randguid and sys.utcnow"
            )


def trigger_values(event: TriggerEvent) -> dict[str, Any]:
    """The values expressions can use: the payload's JSON properties, then trigger metadata."""
    values: dict[str, Any] = dict(_payload_values(event.data))
    for name, datum in event.metadata.items():
        values[name] = _datum_value(datum)
    return values


def _datum_value(datum: Any) -> Any:
    try:
        value = datum.python_value
    except (TypeError, ValueError):  # JSON that does not parse: the text itself
        value = datum.value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value


def _payload_values(data: Any) -> Iterable[tuple[str, Any]]:
    """Top-level properties of a JSON object payload (an HTTP request: query, headers, body)."""
    value: Any = getattr(data, "value", None)
    if hasattr(value, "get_body") and hasattr(value, "params"):
        # HTTP: as the host's HttpTrigger binding data: Query, Headers, then the JSON body.
        yield "Query", dict(value.params)
        yield "Headers", dict(value.headers)
        value = value.get_body()
    elif getattr(data, "type", None) not in ("json", "string", "bytes"):
        return
    obj = _json_object(value)
    if obj is not None:
        yield from obj.items()


def _json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
