"""local.settings.json, read as Azure Functions Core Tools reads it, into frozen LocalSettings."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from funchost.config_section import MISSING, lookup, parse_bool
from funchost.errors import ConfigError
from funchost.host.hostjson import ConfigFileError, read_json_object

_VALUE_EXPECTED = "a string, number or boolean"
_CONNECTION_EXPECTED = 'a string, or an object with a "ConnectionString" string'
_PORT_EXPECTED = "a port number from 1 to 65535"
_BOOL_EXPECTED = "true or false"
_CORS_EXPECTED = 'a comma-separated string of origins, like "http://localhost:3000,https://x.com"'


@dataclass(frozen=True)
class LocalSettings:
    """The app settings and local host options of local.settings.json."""

    path: Path | None
    values: Mapping[str, str]
    connection_strings: Mapping[str, str]
    local_http_port: int | None
    cors: tuple[str, ...]
    cors_credentials: bool


def load_local_settings(script_root: Path) -> LocalSettings:
    """Read script_root/local.settings.json; a missing file means no settings."""
    path = script_root / "local.settings.json"
    if not path.exists():
        empty: Mapping[str, str] = MappingProxyType({})
        return LocalSettings(None, empty, empty, None, (), False)
    doc = read_json_object(path)
    source = str(path)
    _refuse_encrypted(doc, source)
    host = _object(doc, "Host", source)
    return LocalSettings(
        path=path,
        values=_values(_object(doc, "Values", source), source),
        connection_strings=_connection_strings(_object(doc, "ConnectionStrings", source), source),
        local_http_port=_port(lookup(host, "LocalHttpPort"), source),
        cors=_cors(lookup(host, "CORS"), source),
        cors_credentials=_bool(lookup(host, "CORSCredentials"), source, "Host.CORSCredentials"),
    )


def export_values(settings: LocalSettings, environ: MutableMapping[str, str]) -> list[str]:
    """Copy Values into environ where not already set (the environment wins); return names set."""
    exported = []
    for name, value in settings.values.items():
        # Present-but-empty counts as set: Core Tools on Linux also leaves it alone.
        if name not in environ:
            environ[name] = value
            exported.append(name)
    return exported


def _refuse_encrypted(doc: Mapping[str, Any], source: str) -> None:
    if _bool(lookup(doc, "IsEncrypted"), source, "IsEncrypted"):
        raise ConfigFileError(
            source,
            "'IsEncrypted' is true: its values were encrypted with a key bound to the machine "
            "that encrypted them, which funchost cannot read",
            "plain values: run `func settings decrypt` on that machine, "
            'or recreate the file with "IsEncrypted": false and plain values',
        )


def _object(doc: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    section = lookup(doc, key)
    if section is MISSING:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(source, key, section, "a JSON object")
    return section


def _values(section: Mapping[str, Any], source: str) -> Mapping[str, str]:
    return MappingProxyType(
        {name: _value_text(value, source, f"Values.{name}") for name, value in section.items()}
    )


def _value_text(value: object, source: str, key: str) -> str:
    """An app setting as the string the environment will hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"  # as JSON and .NET write it, not Python's "True"
    if isinstance(value, (int, float)):
        return str(value)
    raise ConfigError(source, key, value, _VALUE_EXPECTED)


def _connection_strings(section: Mapping[str, Any], source: str) -> Mapping[str, str]:
    return MappingProxyType(
        {name: _connection_text(value, source, name) for name, value in section.items()}
    )


def _connection_text(value: object, source: str, name: str) -> str:
    # Core Tools also accepts {"ConnectionString": "...", "ProviderName": "..."}.
    text = lookup(value, "ConnectionString") if isinstance(value, dict) else value
    if not isinstance(text, str):
        raise ConfigError(source, f"ConnectionStrings.{name}", value, _CONNECTION_EXPECTED)
    return text


def _port(value: object, source: str) -> int | None:
    if value is MISSING:
        return None
    port = value if type(value) is int else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        port = int(value)
    if port is None or not 1 <= port <= 65535:
        raise ConfigError(source, "Host.LocalHttpPort", value, _PORT_EXPECTED)
    return port


def _cors(value: object, source: str) -> tuple[str, ...]:
    if value is MISSING:
        return ()
    if not isinstance(value, str):
        raise ConfigError(source, "Host.CORS", value, _CORS_EXPECTED)
    return tuple(origin.strip() for origin in value.split(",") if origin.strip())


def _bool(value: object, source: str, key: str) -> bool:
    flag = parse_bool(value)
    if flag is None:
        raise ConfigError(source, key, value, _BOOL_EXPECTED)
    return flag
