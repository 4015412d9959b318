"""The HTTP route table: Azure Functions route templates, matched as ASP.NET Core does.

Each template compiles once into one regular expression over the whole path plus
constraint checks that run only after the expression matched. A request then costs a dict
lookup for parameterless routes and a scan of the others in precedence order.

Decisions where ASP.NET leaves room or Python differs:
- ``regex(expr)`` behaves like ASP.NET's ``Regex.IsMatch``: case-insensitive and not
  anchored, so write ``^...$`` to pin the whole value. The expression is Python syntax.
- Absent optional and catch-all parameters are left out of the values; defaults fill in.
- A default must satisfy its parameter's constraints; that is checked at compile time.
- ``int``, ``long``, ``min``, ``max`` and ``range`` take ASCII digits with an optional
  sign, no spaces; ``datetime`` takes what ``datetime.fromisoformat`` takes; lengths
  count code points, not UTF-16 units.
- Two functions conflict when their methods overlap and their templates differ only in
  parameter names, letter case, and optional-versus-default; constraints (in order)
  count, so ``{id:int}`` next to ``{id}`` is allowed and precedence picks between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from funchost.errors import FunctionLoadError
from funchost.host.http.route_constraints import CONSTRAINTS, KNOWN, Check

T = TypeVar("T")


class RouteError(FunctionLoadError):
    """A route template is malformed, or two functions claim one route and method."""


# --- parsing templates ---------------------------------------------------------------


class _Ctx(NamedTuple):
    template: str
    function_name: str

    def error(self, message: str) -> RouteError:
        return RouteError(self.function_name, f"route '{self.template}': {message}")


@dataclass(frozen=True)
class _Param:
    source: str  # the text between the braces, for messages
    name: str
    group: str
    catch_all: bool
    optional: bool
    default: str | None
    constraints: tuple[tuple[str, str | None], ...]
    checks: tuple[Check, ...]


_Part = str | _Param
_Segment = list[_Part]
_BAD_NAME = re.compile(r"[{}/?*:=]")
# Braces double to escape; a parameter runs to the first single '}' (as in ASP.NET).
_TOKEN = re.compile(r"\{\{|\}\}|\{((?:[^{}]|\{\{|\}\})*)\}|[^{}/]+|.", re.DOTALL)
# A constraint's arguments end at a ')' before ':', '=' or the end, as in ASP.NET, so a
# regex argument may hold parentheses itself.
_POLICY = re.compile(r":([^:=(]*)(?:\((.*?)\)(?=[:=]|\Z))?", re.DOTALL)


def _split(ctx: _Ctx) -> list[_Segment]:
    """The template as segments of literal text and parameters."""
    segments: list[_Segment] = [[]]
    for token in _TOKEN.finditer(ctx.template):
        text, source, at = token.group(), token.group(1), token.start()
        if source is not None:
            source = source.replace("{{", "{").replace("}}", "}")
            segments[-1].append(_parse_param(ctx, source, f"p{at}"))
        elif text == "/":
            segments.append([])
        elif text == "{":
            raise ctx.error(f"unclosed '{{' at position {at}; expected '}}' to end the parameter")
        elif text == "}":
            raise ctx.error(f"unmatched '}}' at position {at}; write '}}}}' for a literal brace")
        else:
            _add_literal(segments[-1], text[0] if text in ("{{", "}}") else text)
    return segments


def _add_literal(segment: _Segment, text: str) -> None:
    last = segment[-1] if segment else None
    if isinstance(last, str):
        segment[-1] = last + text
    else:
        segment.append(text)


def _parse_param(ctx: _Ctx, source: str, group: str) -> _Param:
    """One parameter from its text: [*|**]name[:constraint[(args)]]...[=default|?]."""
    stars = len(source) - len(source.lstrip("*"))
    body = source[min(stars, 2) :]
    optional = body.endswith("?")
    body = body[:-1] if optional else body
    name = re.split("[:=]", body, maxsplit=1)[0]
    if not name or _BAD_NAME.search(name):
        raise ctx.error(
            f"parameter '{{{source}}}' has an invalid name '{name}'; "
            "expected a non-empty name without / { } ? * : ="
        )
    constraints, default = _parse_policies(ctx, name, body[len(name) :])
    if optional and default is not None:
        raise ctx.error(
            f"parameter '{name}' is optional and has a default; expected one or the other"
        )
    if stars and optional:
        raise ctx.error(f"catch-all parameter '{name}' cannot be optional; it may be empty anyway")
    checks = tuple(_make_check(ctx, name, cname, args) for cname, args in constraints)
    for (cname, _), check in zip(constraints, checks, strict=True):
        if default is not None and not check(default):
            raise ctx.error(f"default '{default}' of parameter '{name}' fails constraint '{cname}'")
    return _Param(source, name, group, stars > 0, optional, default, constraints, checks)


def _parse_policies(
    ctx: _Ctx, name: str, spec: str
) -> tuple[tuple[tuple[str, str | None], ...], str | None]:
    """Constraints and default from the text after the name, e.g. ':int:min(1)=5'."""
    constraints: list[tuple[str, str | None]] = []
    index = 0
    while found := _POLICY.match(spec, index):
        constraints.append((found[1], found[2]))
        index = found.end()
    if spec[index : index + 1] == "(":  # the only other way _POLICY stops short
        raise ctx.error(
            f"constraint '{constraints[-1][0]}' on parameter '{name}' has no closing ')'"
        )
    return tuple(constraints), spec[index + 1 :] if index < len(spec) else None


def _make_check(ctx: _Ctx, name: str, cname: str, args: str | None) -> Check:
    factory = CONSTRAINTS.get(cname.lower())
    if factory is None:
        raise ctx.error(
            f"unknown constraint '{cname}' on parameter '{name}'; expected one of {KNOWN}"
        )
    try:
        return factory(args)
    except ValueError as exc:
        written = cname if args is None else f"{cname}({args})"
        raise ctx.error(f"constraint '{written}' on parameter '{name}' {exc}") from None


# --- checking segments -----------------------------------------------------------------


def _text(segment: _Segment) -> str:
    """The segment as written, for messages."""
    return "".join(part if isinstance(part, str) else f"{{{part.source}}}" for part in segment)


def _omittable(segment: _Segment) -> bool:
    part = segment[0]
    return (
        len(segment) == 1
        and isinstance(part, _Param)
        and (part.catch_all or part.optional or part.default is not None)
    )


def _check_segment(ctx: _Ctx, segment: _Segment, is_last: bool) -> None:
    if not segment:
        raise ctx.error("has an empty segment; expected no '//' inside a route")
    for index, part in enumerate(segment):
        if isinstance(part, str):
            if "?" in part:
                raise ctx.error(f"literal '{part}' contains '?'; a query is not part of a route")
        elif part.catch_all and len(segment) > 1:
            raise ctx.error(
                f"catch-all parameter '{part.name}' must be a whole segment, not part of "
                f"'{_text(segment)}'"
            )
        elif part.catch_all and not is_last:
            raise ctx.error(f"catch-all parameter '{part.name}' must be in the last segment")
        elif len(segment) > 1:
            _check_complex_param(ctx, segment, index, part)


def _check_complex_param(ctx: _Ctx, segment: _Segment, index: int, part: _Param) -> None:
    where = f"segment '{_text(segment)}'"
    if index and isinstance(segment[index - 1], _Param):
        raise ctx.error(f"{where} has two parameters in a row; expected text between them")
    if part.default is not None:
        raise ctx.error(
            f"parameter '{part.name}' in {where} has a default; only a whole-segment parameter may"
        )
    if part.optional and (index != len(segment) - 1 or segment[index - 1] != "."):
        raise ctx.error(
            f"optional parameter '{part.name}' in {where} must end the segment right after a '.'"
        )


def _check_trailing(ctx: _Ctx, segments: list[_Segment], tail: int) -> None:
    """Segments can be left out only from the end, so optional ones must all be trailing."""
    for index, segment in enumerate(segments[:tail]):
        part = segment[0]
        if isinstance(part, _Param) and part.optional and len(segment) == 1:
            required = next(s for s in segments[index + 1 :] if not _omittable(s))
            raise ctx.error(
                f"optional parameter '{part.name}' must be in a trailing segment; "
                f"found required segment '{_text(required)}' after it"
            )


def _check_unique(ctx: _Ctx, params: tuple[_Param, ...]) -> None:
    seen: set[str] = set()
    for param in params:
        if param.name.lower() in seen:
            raise ctx.error(f"parameter '{param.name}' appears twice; names ignore case")
        seen.add(param.name.lower())


# --- compiling -------------------------------------------------------------------------


def _segment_regex(segment: _Segment) -> str:
    part = segment[0]
    if len(segment) == 1 and isinstance(part, _Param):
        return f"(?P<{part.group}>{'.+' if part.catch_all else '[^/]+'})"
    pieces: list[str] = []
    for index, part in enumerate(segment):
        if isinstance(part, str):
            pieces.append(re.escape(part))
        elif part.optional:  # checked: the last part, right after a literal '.'
            pieces[-1] = rf"(?:\.(?P<{part.group}>[^/.]+))?"
        else:
            # Greedy parameters put each literal at its last occurrence, as ASP.NET's
            # right-to-left matching does; before an optional extension the parameter
            # turns lazy so the extension is tried first.
            ahead = segment[index + 2] if index + 2 < len(segment) else None
            lazy = "?" if isinstance(ahead, _Param) and ahead.optional else ""
            pieces.append(f"(?P<{part.group}>[^/]+{lazy})")
    return "".join(pieces)


def _route_regex(segments: list[_Segment], tail: int) -> re.Pattern[str]:
    """One pattern for the whole path; each omittable trailing segment nests in a group."""
    regex = ""
    for index in reversed(range(len(segments))):
        piece = ("/" if index else "") + _segment_regex(segments[index])
        regex = f"(?:{piece}{regex})?" if index >= tail else piece + regex
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def _digit(segment: _Segment, omittable: bool) -> int:
    """Precedence digit: literal 0, complex 1, parameter 2-3, optional 4-5, catch-all 6-7."""
    part = segment[0]
    if len(segment) > 1:
        return 1
    if isinstance(part, str):
        return 0
    base = 6 if part.catch_all else 4 if omittable else 2
    return base + (0 if part.checks else 1)


def _shape(segments: list[_Segment], tail: int) -> tuple[object, ...]:
    """What makes two templates match the same paths: literals and parameter kinds."""

    def part_shape(part: _Part, omittable: bool) -> object:
        if isinstance(part, str):
            return part.lower()
        kind = "*" if part.catch_all else "?" if omittable or part.optional else ""
        return kind, tuple((cname.lower(), args) for cname, args in part.constraints)

    return tuple(
        tuple(part_shape(part, index >= tail) for part in segment)
        for index, segment in enumerate(segments)
    )


@dataclass(frozen=True)
class CompiledRoute:
    """One route template, compiled by compile_route()."""

    template: str
    precedence: tuple[int, ...]
    _pattern: re.Pattern[str] | None = field(repr=False, compare=False)
    _literal_path: str = field(repr=False, compare=False)  # lower-cased; routes without params
    _first_literal: str | None = field(repr=False, compare=False)
    _params: tuple[_Param, ...] = field(repr=False, compare=False)
    _shape: tuple[object, ...] = field(repr=False, compare=False)

    def match(self, path: str) -> dict[str, str] | None:
        """Route values if the path (routePrefix removed) fits this template, else None."""
        return self._match(path.strip("/"))

    def _match(self, path: str) -> dict[str, str] | None:
        if self._pattern is None:
            return {} if path.lower() == self._literal_path else None
        found = self._pattern.fullmatch(path)
        return None if found is None else self._bind(found)

    def _bind(self, found: re.Match[str]) -> dict[str, str] | None:
        values: dict[str, str] = {}
        for param in self._params:
            value = found.group(param.group)
            if value is None:
                if param.default is not None:
                    values[param.name] = param.default
                continue
            if not all(check(value) for check in param.checks):
                return None
            values[param.name] = value
        return values


def compile_route(template: str, function_name: str) -> CompiledRoute:
    """Compile a route template, or raise RouteError saying what is wrong with it."""
    ctx = _Ctx(template.strip("/"), function_name)
    segments = _split(ctx) if ctx.template else []
    for index, segment in enumerate(segments):
        _check_segment(ctx, segment, index == len(segments) - 1)
    params = tuple(part for segment in segments for part in segment if isinstance(part, _Param))
    _check_unique(ctx, params)
    tail = len(segments)
    while tail and _omittable(segments[tail - 1]):
        tail -= 1
    _check_trailing(ctx, segments, tail)
    first = segments[0][0] if segments else None
    return CompiledRoute(
        template=ctx.template,
        precedence=tuple(_digit(s, index >= tail) for index, s in enumerate(segments)),
        _pattern=_route_regex(segments, tail) if params else None,
        _literal_path="" if params else "/".join(str(s[0]) for s in segments).lower(),
        _first_literal=first.lower() if isinstance(first, str) and len(segments[0]) == 1 else None,
        _params=params,
        _shape=_shape(segments, tail),
    )


# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry(Generic[T]):
    route: CompiledRoute
    methods: frozenset[str] | None  # None: any method
    target: T
    function_name: str
    index: int

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def _shared_methods(a: frozenset[str] | None, b: frozenset[str] | None) -> str:
    """The methods both sets allow, for a message; empty when they are disjoint."""
    if a is None and b is None:
        return "any method"
    common = (b or frozenset()) if a is None else a if b is None else a & b
    return ", ".join(sorted(common))


class RouteTable(Generic[T]):
    """The routes of an app; match() picks the most specific route allowing the method."""

    def __init__(self) -> None:
        self._entries: list[_Entry[T]] = []
        self._literal: dict[str, list[_Entry[T]]] = {}
        # Patterned routes in (precedence, declaration) order: those whose first segment
        # is not a plain literal, and per first literal those plus the ones starting with it.
        self._anywhere: list[_Entry[T]] = []
        self._by_first: dict[str, list[_Entry[T]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self, route: CompiledRoute, methods: frozenset[str] | None, target: T, function_name: str
    ) -> None:
        """Add a route; RouteError if another function has the same route for a same method."""
        methods = None if methods is None else frozenset(m.upper() for m in methods)
        for other in self._entries:
            shared = _shared_methods(methods, other.methods)
            if other.route._shape == route._shape and shared:
                raise RouteError(
                    function_name,
                    f"route '{route.template}' for {shared} conflicts with function "
                    f"'{other.function_name}' (route '{other.route.template}'); "
                    "expected one function per route and method",
                )
        entry = _Entry(route, methods, target, function_name, len(self._entries))
        self._entries.append(entry)
        if route._pattern is None:
            self._literal.setdefault(route._literal_path, []).append(entry)
        else:
            self._index_patterned()

    def _index_patterned(self) -> None:
        # Rebuilt on every add: routes are added at startup, matched on every request.
        patterned = sorted(
            (entry for entry in self._entries if entry.route._pattern is not None),
            key=lambda entry: (entry.route.precedence, entry.index),
        )
        self._anywhere = [entry for entry in patterned if entry.route._first_literal is None]
        firsts = {entry.route._first_literal for entry in patterned} - {None}
        self._by_first = {
            first: [entry for entry in patterned if entry.route._first_literal in (first, None)]
            for first in firsts
            if first is not None
        }

    def match(self, method: str, path: str) -> tuple[T, dict[str, str]] | None:
        """The target and route values for a request, or None: the host answers 404."""
        method, path = method.upper(), path.strip("/")
        lowered = path.lower()
        for entry in self._literal.get(lowered, ()):
            if entry.allows(method):
                return entry.target, {}
        for entry in self._by_first.get(lowered.partition("/")[0], self._anywhere):
            if entry.allows(method):
                values = entry.route._match(path)
                if values is not None:
                    return entry.target, values
        return None
