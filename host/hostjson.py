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

from funchost.config_section import MISSING, REQUIRED, Section, find_key
from funchost.errors import ConfigError

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

    @property
    def lowest(self) -> int:
        """The lowest level any category can get: a configured one, or the default's."""
        return min([*self._by_lower.values(), self._by_lower.get("default", logging.INFO)])


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
    # The whole document after overrides: bindings and the worker read their own sections.
    section: Section


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
    doc = read_json_object(path)
    root = Section.root(doc, str(path), _apply_overrides(doc, environ))
    extensions = root.section("extensions")
    _check_extensions(extensions)
    return HostConfig(
        path=path,
        version=_version(root),
        function_timeout=_function_timeout(root),
        logging=_logging(root),
        http=_http(extensions.section("http")),
        section=root,
    )


def read_json_object(path: Path) -> dict[str, Any]:
    """Parse a JSON object file, allowing comments as Json.NET does (host.json, local settings)."""
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
        key = find_key(node, segment) or segment
        child = node.get(key)
        if isinstance(child, list):
            # .NET configuration sees an array as keys "0", "1", ...; so does an override.
            child = {str(index): item for index, item in enumerate(child)}
        elif not isinstance(child, dict):
            child = {}  # the environment wins over a scalar, as the later provider does in .NET
        node[key] = child
        node = child
    node[find_key(node, segments[-1]) or segments[-1]] = value


def _version(root: Section) -> str:
    version = root.raw("version")
    if version != "2.0":
        raise root.error("version", version, '"2.0" (the schema of Functions 2.x and later)')
    return "2.0"


def _function_timeout(root: Section) -> float | None:
    seconds = root.timespan("functionTimeout", _DEFAULT_TIMEOUT)
    if seconds == _NO_LIMIT:
        return None
    if seconds < _MIN_TIMEOUT:
        raise root.error("functionTimeout", root.raw("functionTimeout"), _TIMEOUT_EXPECTED)
    return seconds


def _logging(root: Section) -> LoggingConfig:
    categories = root.section("logging", "logLevel")
    levels = {name: _level(categories, name) for name in categories.names()}
    return LoggingConfig(MappingProxyType(levels))


def _level(categories: Section, category: str) -> int:
    return LOG_LEVELS[categories.choice(category, REQUIRED, choices=tuple(LOG_LEVELS))]


def _http(section: Section) -> HttpConfig:
    return HttpConfig(
        route_prefix=_route_prefix(section),
        max_concurrent_requests=_request_limit(section, "maxConcurrentRequests"),
        max_outstanding_requests=_request_limit(section, "maxOutstandingRequests"),
        dynamic_throttles_enabled=section.boolean("dynamicThrottlesEnabled"),
    )


def _route_prefix(section: Section) -> str:
    prefix = section.raw("routePrefix")
    if prefix is MISSING:
        return HttpConfig.route_prefix
    if not isinstance(prefix, str):
        raise section.error("routePrefix", prefix, 'a string such as "api", or "" for no prefix')
    return prefix.strip("/")


def _request_limit(section: Section, key: str) -> int:
    """A count the host hands to a Dataflow block: at least 1, or -1 for unbounded."""
    limit = section.integer(key, UNBOUNDED, low=UNBOUNDED, expected=_LIMIT_EXPECTED)
    if limit == 0:
        raise section.error(key, section.raw(key), _LIMIT_EXPECTED)
    return limit


def _check_extensions(extensions: Section) -> None:
    """Each extensions.<name> must be an object, found at start-up even if no binding reads it."""
    for name in extensions.names():
        extensions.section(name)
