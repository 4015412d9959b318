"""One JSON object of host.json, read as .NET configuration reads it, through typed getters.

Host, worker and bindings each read their own section of host.json (``extensions.queues``,
``singleton``, ``retry``...) through this one reader, so keys match ignoring case everywhere and
every bad value raises the same ConfigError: the file or the ``AzureFunctionsJobHost__``
variable it came from, the full dotted key, the value and what was expected.

A JSON null is a value, not an absent key: .NET configuration binds it as "" and refuses that
for a number, a TimeSpan or a boolean, so the getters refuse it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from funchost.errors import ConfigError
from funchost.timespan import TIMESPAN_EXPECTED, format_timespan, parse_timespan

D = TypeVar("D")
BOOL_EXPECTED = "true or false"
OBJECT_EXPECTED = "a JSON object"
# int.Parse with NumberStyles.Integer, which is how the binder reads an override's string.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)


class _Missing:
    """Marks an absent key, so a ConfigError reads "'version' is missing"."""

    def __repr__(self) -> str:
        return "missing"


# What lookup() and Section.raw() give for an absent key.
MISSING: Any = _Missing()
# A getter's default when the key must be there: absent, it raises "... is missing".
REQUIRED: Any = object()


def find_key(node: Mapping[str, Any], key: str) -> str | None:
    """The key of node equal to key ignoring case, as .NET configuration matches keys."""
    if key in node:
        return key
    lowered = key.lower()
    return next((name for name in node if name.lower() == lowered), None)


def lookup(node: Mapping[str, Any], key: str, default: Any = MISSING) -> Any:
    """node's value for key matched ignoring case; default (MISSING) when it has none."""
    found = find_key(node, key)
    return default if found is None else node[found]


def parse_bool(value: object) -> bool | None:
    """A JSON or .NET-configuration boolean (missing: False); None when it is not one.

    .NET binds "true" / "false" in any case, with spaces around, as well as JSON booleans.
    """
    if value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def freeze(value: Any) -> Any:
    """A read-only deep copy: objects become MappingProxyType, arrays tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    """The value as JSON gave it, for messages: a frozen array shows as [...], not (...)."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


@dataclass(frozen=True)
class Origin:
    """Which file or environment variable each key of a merged document came from."""

    file: str
    # lower-cased key path -> the name of the variable that set it
    overrides: Mapping[tuple[str, ...], str] = field(default_factory=lambda: MappingProxyType({}))

    def source(self, path: Sequence[str]) -> str:
        """The variable that set path or an object above it, else the file."""
        lowered = tuple(part.lower() for part in path)
        for end in range(len(lowered), 0, -1):
            name = self.overrides.get(lowered[:end])
            if name is not None:
                return name
        return self.file


@dataclass(frozen=True)
class Section:
    """One JSON object of a configuration document, at a dotted path, read-only."""

    path: tuple[str, ...]
    node: Mapping[str, Any]  # frozen: MappingProxyType all the way down
    origin: Origin

    @classmethod
    def root(
        cls,
        doc: Mapping[str, Any],
        file: str,
        overrides: Mapping[tuple[str, ...], str] | None = None,
    ) -> Section:
        """The whole document (copied read-only); overrides: lowered key path -> variable."""
        origin = Origin(file, MappingProxyType(dict(overrides or {})))
        return cls((), freeze(doc), origin)

    @property
    def key(self) -> str:
        """The dotted path of this section ("" at the top)."""
        return ".".join(self.path)

    def full_key(self, key: str) -> str:
        """The dotted path of one of this section's keys."""
        return ".".join((*self.path, key))

    def source(self, key: str) -> str:
        """Where key came from: the file, or the variable that overrode it."""
        return self.origin.source((*self.path, key))

    def error(self, key: str, value: object, expected: str) -> ConfigError:
        """The ConfigError for a bad value of key, naming its source and full dotted key."""
        return ConfigError(self.source(key), self.full_key(key), _thaw(value), expected)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and find_key(self.node, key) is not None

    def names(self) -> tuple[str, ...]:
        """The keys as written, in the document's order."""
        return tuple(self.node)

    def raw(self, key: str) -> Any:
        """The value as written (read-only), or MISSING."""
        return lookup(self.node, key)

    def section(self, *keys: str) -> Section:
        """The object at keys below this one; absent, an empty section at that path."""
        found = self
        for key in keys:
            found = found._child(key)
        return found

    def _child(self, key: str) -> Section:
        value = self.raw(key)
        if value is MISSING:
            return Section((*self.path, key), MappingProxyType({}), self.origin)
        if not isinstance(value, Mapping):
            raise self.error(key, value, OBJECT_EXPECTED)
        return Section((*self.path, key), value, self.origin)

    def integer(
        self, key: str, default: D, *, low: int, high: int | None = None, expected: str = ""
    ) -> int | D:
        """A whole number from low to high; the string an override gives is read as well."""
        expected = expected or _whole_expected(low, high)
        value = self.raw(key)
        if value is MISSING:
            return self._absent(key, default, expected)
        number = _whole(value)
        if number is None or number < low or (high is not None and number > high):
            raise self.error(key, value, expected)
        return number

    def timespan(
        self,
        key: str,
        default: D,
        *,
        low: float | None = None,
        high: float | None = None,
        expected: str = "",
    ) -> float | D:
        """Seconds in a TimeSpan string; expected is what a value out of bounds is told."""
        value = self.raw(key)
        if value is MISSING:
            return self._absent(key, default, TIMESPAN_EXPECTED)
        # A JSON number is refused: 30 would be 30 days, which nobody writing it means.
        if not isinstance(value, str):
            raise self.error(key, value, TIMESPAN_EXPECTED)
        seconds = parse_timespan(value, source=self.source(key), key=self.full_key(key))
        if (low is not None and seconds < low) or (high is not None and seconds > high):
            raise self.error(key, value, expected or _span_expected(low, high))
        return seconds

    def boolean(self, key: str, default: bool = False) -> bool:
        """true or false, as JSON or as a string in any case."""
        value = self.raw(key)
        if value is MISSING:
            return default
        flag = parse_bool(value)
        if flag is None:
            raise self.error(key, value, BOOL_EXPECTED)
        return flag

    def choice(
        self, key: str, default: D, *, choices: Sequence[str], expected: str = ""
    ) -> str | D:
        """One of choices, matched ignoring case and spaces around; given as spelled there."""
        expected = expected or _choice_expected(choices)
        value = self.raw(key)
        if value is MISSING:
            return self._absent(key, default, expected)
        wanted = value.strip().lower() if isinstance(value, str) else None
        found = next((choice for choice in choices if choice.lower() == wanted), None)
        if found is None:
            raise self.error(key, value, expected)
        return found

    def _absent(self, key: str, default: D, expected: str) -> D:
        if default is REQUIRED:
            raise self.error(key, MISSING, expected)
        return default


def _whole(value: object) -> int | None:
    if type(value) is int:  # not bool, which is an int to Python but not to .NET
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def _whole_expected(low: int, high: int | None) -> str:
    if high is None:
        return f"a whole number of at least {low}"
    return f"a whole number from {low} to {high}"


def _span_expected(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f'a TimeSpan from "{format_timespan(low)}" to "{format_timespan(high)}"'
    if low is not None:
        return f'a TimeSpan of at least "{format_timespan(low)}"'
    return f'a TimeSpan of at most "{format_timespan(high or 0.0)}"'


def _choice_expected(choices: Sequence[str]) -> str:
    if len(choices) == 2:
        return f"{choices[0]} or {choices[1]}"
    return f"one of {', '.join(choices)}"
