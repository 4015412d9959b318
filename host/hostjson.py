"""host.json, with AzureFunctionsJobHost__ overrides, read once into a frozen HostConfig."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from funchost.errors import ConfigError
from funchost.timespan import TIMESPAN_EXPECTED, parse_timespan

LOG_LEVELS: Mapping[str, int] = MappingProxyType(
    {
        "Trace": logging.DEBUG - 5,
        "Debug": logging.DEBUG,
        "Information": logging.INFO,
        "Warning": logging.WARNING,
        "Error": logging.ERROR,
        "Critical": logging.CRITICAL,
        # Above every level Python emits, so the category logs nothing.
        "None": logging.CRITICAL + 10,
    }
)
_LEVELS_BY_LOWER = {name.lower(): level for name, level in LOG_LEVELS.items()}
_LEVELS_EXPECTED = "one of Trace, Debug, Information, Warning, Error, Critical, None"
_INTEGER = re.compile(r"\s*-?[0-9]+\s*")
_LIMIT_EXPECTED = "a whole number of at least 1, or -1 for no limit"
_TIMEOUT_EXPECTED = 'a TimeSpan of at least "00:00:01", or "-1" for no limit'
_ENV_PREFIX = "azurefunctionsjobhost__"
_DEFAULT_TIMEOUT = 1800.0  # the host's default on every plan that allows more than 10 minutes
_MIN_TIMEOUT = 1.0  # the host rejects anything shorter
_NO_LIMIT = -86400.0  # "-1" is TimeSpan.Parse's minus one day, which the host reads as unbounded

# A string (kept), or a // or /* */ comment (blanked); strings first so "http://x" survives.
_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/', re.DOTALL)


class ConfigFileError(ConfigError):
    """A configuration file as a whole is unusable: missing, not JSON, not an object."""

    def __init__(self, source: str, problem: str, expected: str) -> None:
        super().__init__(source, "", problem, expected)
        self.args = (f"{source}: {problem}; expected {expected}",)


class _Missing:
    """Marks an absent key, so a ConfigError reads "'version' is missing"."""

    def __repr__(self) -> str:
        return "missing"


_MISSING: Any = _Missing()


@dataclass(frozen=True)
class LoggingConfig:
    """logging.logLevel: a level per log category."""

    levels: Mapping[str, int]
    _by_lower: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # .NET configuration keys are case-insensitive; index once, not per log record.
        lowered = {category.lower(): level for category, level in self.levels.items()}
        object.__setattr__(self, "_by_lower", MappingProxyType(lowered))

    def level_for(self, category: str) -> int:
        """The level of the most specific dotted prefix of category, else 'default', else INFO."""
        parts = category.lower().split(".")
        for end in range(len(parts), 0, -1):
            level = self._by_lower.get(".".join(parts[:end]))
            if level is not None:
                return level
        return self._by_lower.get("default", logging.INFO)


UNBOUNDED = -1  # the Functions host's "no limit" for the extensions.http request limits


@dataclass(frozen=True)
class HttpConfig:
    """extensions.http."""

    route_prefix: str = "api"
    max_concurrent_requests: int = UNBOUNDED
    max_outstanding_requests: int = UNBOUNDED
    dynamic_throttles_enabled: bool = False


@dataclass(frozen=True)
class HostConfig:
    """Everything funchost reads from host.json."""

    path: Path
    version: str
    function_timeout: float | None
    logging: LoggingConfig
    http: HttpConfig
    extensions: Mapping[str, Mapping[str, Any]]
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class _Origin:
    """Says which file or environment variable a key of the merged document came from."""

    file: str
    overrides: Mapping[tuple[str, ...], str]

    def source(self, *path: str) -> str:
        lowered = tuple(part.lower() for part in path)
        for end in range(len(lowered), 0, -1):
            name = self.overrides.get(lowered[:end])
            if name is not None:
                return name
        return self.file

    def error(self, path: tuple[str, ...], value: object, expected: str) -> ConfigError:
        return ConfigError(self.source(*path), ".".join(path), value, expected)


def load_host_config(script_root: Path, environ: Mapping[str, str]) -> HostConfig:
    """Read script_root/host.json, apply AzureFunctionsJobHost__ overrides, validate."""
    path = script_root / "host.json"
    if not path.exists():
        raise ConfigFileError(
            str(path),
            "file not found",
            'a host.json containing {"version": "2.0"} in the app root '
            "(func start refuses to start without one)",
        )
    doc = _read_json_object(path)
    origin = _Origin(str(path), MappingProxyType(_apply_overrides(doc, environ)))
    extensions = _section(doc, origin, ("extensions",))
    return HostConfig(
        path=path,
        version=_version(doc, origin),
        function_timeout=_function_timeout(doc, origin),
        logging=_logging(doc, origin),
        http=_http(extensions, origin),
        extensions=_extensions(extensions, origin),
        raw=_freeze(doc),
    )


def _read_json_object(path: Path) -> dict[str, Any]:
    """Parse a JSON object file, tolerating comments as Json.NET does (settings.py uses it too)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            source, f"the byte at offset {exc.start} is not UTF-8", "UTF-8 JSON"
        ) from None
    except OSError as exc:
        raise ConfigFileError(source, f"cannot be read ({exc.strerror})", "a JSON file") from None
    try:
        doc = json.loads(_strip_comments(text))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        problem = f"invalid JSON at {where}: {exc.msg}"
        raise ConfigFileError(source, problem, "JSON (comments allowed)") from None
    if not isinstance(doc, dict):
        raise ConfigFileError(source, f"the top level is {_kind(doc)}", "a JSON object")
    return doc


def _strip_comments(text: str) -> str:
    # Blank comments rather than delete them, so JSON error lines and columns stay true.
    def blank(match: re.Match[str]) -> str:
        token = match.group()
        return token if token.startswith('"') else re.sub(r"[^\n]", " ", token)

    return _JSON_TOKENS.sub(blank, text)


def _kind(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _find_key(node: Mapping[str, Any], key: str) -> str | None:
    """The key of node equal to key ignoring case, as .NET configuration matches keys."""
    if key in node:
        return key
    lowered = key.lower()
    return next((name for name in node if name.lower() == lowered), None)


def _get(node: Mapping[str, Any], key: str) -> Any:
    found = _find_key(node, key)
    return _MISSING if found is None else node[found]


def _apply_overrides(doc: dict[str, Any], environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Set each AzureFunctionsJobHost__a__b value into doc; return lowered path -> var name."""
    origins: dict[tuple[str, ...], str] = {}
    for name in sorted(environ):
        if not name.lower().startswith(_ENV_PREFIX):
            continue
        segments = name[len(_ENV_PREFIX) :].split("__")
        if "" in segments:
            expected = "a name like AzureFunctionsJobHost__logging__logLevel__default"
            raise ConfigError("environment", name, environ[name], expected)
        _set_path(doc, segments, environ[name])
        origins[tuple(segment.lower() for segment in segments)] = name
    return origins


def _set_path(doc: dict[str, Any], segments: list[str], value: str) -> None:
    node = doc
    for segment in segments[:-1]:
        key = _find_key(node, segment) or segment
        child = node.get(key)
        if isinstance(child, list):
            # .NET configuration sees an array as keys "0", "1", ...; so does an override.
            child = {str(index): item for index, item in enumerate(child)}
        elif not isinstance(child, dict):
            child = {}  # the environment wins over a scalar, as the later provider does in .NET
        node[key] = child
        node = child
    node[_find_key(node, segments[-1]) or segments[-1]] = value


def _section(node: Mapping[str, Any], origin: _Origin, path: tuple[str, ...]) -> dict[str, Any]:
    value = _get(node, path[-1])
    if value is _MISSING:
        return {}
    if not isinstance(value, dict):
        raise origin.error(path, value, "a JSON object")
    return value


def _version(doc: Mapping[str, Any], origin: _Origin) -> str:
    version = _get(doc, "version")
    if version != "2.0":
        raise origin.error(("version",), version, '"2.0" (the schema of Functions 2.x and later)')
    return "2.0"


def _function_timeout(doc: Mapping[str, Any], origin: _Origin) -> float | None:
    text = _get(doc, "functionTimeout")
    if text is _MISSING:
        return _DEFAULT_TIMEOUT
    source = origin.source("functionTimeout")
    if not isinstance(text, str):
        raise ConfigError(source, "functionTimeout", text, TIMESPAN_EXPECTED)
    seconds = parse_timespan(text, source=source, key="functionTimeout")
    if seconds == _NO_LIMIT:
        return None
    if seconds < _MIN_TIMEOUT:
        raise ConfigError(source, "functionTimeout", text, _TIMEOUT_EXPECTED)
    return seconds


def _logging(doc: Mapping[str, Any], origin: _Origin) -> LoggingConfig:
    section = _section(doc, origin, ("logging",))
    categories = _section(section, origin, ("logging", "logLevel"))
    levels = {name: _level(value, origin, name) for name, value in categories.items()}
    return LoggingConfig(MappingProxyType(levels))


def _level(value: object, origin: _Origin, category: str) -> int:
    level = _LEVELS_BY_LOWER.get(value.lower()) if isinstance(value, str) else None
    if level is None:
        raise origin.error(("logging", "logLevel", category), value, _LEVELS_EXPECTED)
    return level


def _http(extensions: Mapping[str, Any], origin: _Origin) -> HttpConfig:
    section = _section(extensions, origin, ("extensions", "http"))
    return HttpConfig(
        route_prefix=_route_prefix(section, origin),
        max_concurrent_requests=_request_limit(section, origin, "maxConcurrentRequests"),
        max_outstanding_requests=_request_limit(section, origin, "maxOutstandingRequests"),
        dynamic_throttles_enabled=_flag(section, origin, "dynamicThrottlesEnabled"),
    )


def _route_prefix(section: Mapping[str, Any], origin: _Origin) -> str:
    prefix = _get(section, "routePrefix")
    if prefix is _MISSING:
        return HttpConfig.route_prefix
    if not isinstance(prefix, str):
        path = ("extensions", "http", "routePrefix")
        raise origin.error(path, prefix, 'a string such as "api", or "" for no prefix')
    return prefix.strip("/")


def _request_limit(section: Mapping[str, Any], origin: _Origin, key: str) -> int:
    """A count the host hands to a Dataflow block: at least 1, or -1 for unbounded."""
    value = _get(section, key)
    if value is _MISSING:
        return UNBOUNDED
    number = value if type(value) is int else None
    # An AzureFunctionsJobHost__ override is a string; .NET binds "10" to an int as well.
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    if number is None or not (number == UNBOUNDED or number >= 1):
        raise origin.error(("extensions", "http", key), value, _LIMIT_EXPECTED)
    return number


def _flag(section: Mapping[str, Any], origin: _Origin, key: str) -> bool:
    value = _get(section, key)
    flag = parse_bool(value)
    if flag is None:
        raise origin.error(("extensions", "http", key), value, "true or false")
    return flag


def parse_bool(value: object) -> bool | None:
    """A JSON or .NET-configuration boolean (missing: False); None when it is not one.

    .NET binds "true" / "false" in any case, with spaces around, as well as JSON booleans.
    """
    if value is _MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _extensions(extensions: Mapping[str, Any], origin: _Origin) -> Mapping[str, Mapping[str, Any]]:
    for name, section in extensions.items():
        if not isinstance(section, dict):
            raise origin.error(("extensions", name), section, "a JSON object")
    frozen: Mapping[str, Mapping[str, Any]] = _freeze(extensions)
    return frozen


def _freeze(value: Any) -> Any:
    """A read-only deep copy: objects become MappingProxyType, arrays tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
