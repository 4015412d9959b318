"""One lookup for every binding's `connection` name and %Setting% reference, as the host does."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from funchost.errors import BindingError, FunchostError

_PREFIX = "AzureWebJobs"
_EMPTY: Mapping[str, str] = MappingProxyType({})
_IDENTITY_HINTS = ("serviceUri", "fullyQualifiedNamespace", "accountEndpoint")
# %Name%: a name has no '%' and no whitespace, so "50% off" is left alone; "%%" names nothing.
_SETTING_REF = re.compile(r"%([^%\s]*)%")


@dataclass(frozen=True)
class Connection:
    """What a connection name resolved to: a connection string or identity-based settings."""

    name: str
    setting: str
    connection_string: str | None
    identity: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def is_identity(self) -> bool:
        """True for the `<name>__serviceUri`-style form, which needs a credential."""
        return self.connection_string is None


class ConnectionNotFound(FunchostError):
    """No app setting answers to a binding's connection name."""

    def __init__(self, name: str, tried: list[str]) -> None:
        self.name = name
        self.tried = tried
        if not name:
            super().__init__("a binding's connection name is empty; expected an app setting name")
            return
        values = ", ".join([*_prefixed(name), f"ConnectionStrings:{name}"])
        identity = " / ".join(f"{name}__{hint}" for hint in _IDENTITY_HINTS)
        super().__init__(
            f"connection '{name}' resolves to nothing: looked for app settings {values}, "
            f"and {identity} (identity)"
        )


class SettingNotFound(FunchostError):
    """A %Name% reference in a binding names an app setting that is not set."""

    def __init__(self, setting: str, where: str) -> None:
        self.setting = setting
        self.where = where
        super().__init__(
            f"{where}: app setting '{setting}' (referenced as %{setting}%) is not set; "
            "expected it in local.settings.json Values or the environment"
        )


class _Settings:
    """Case-insensitive view of app settings, ignoring empty values, as .NET configuration."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._exact = settings
        self._by_lower: dict[str, str] = {}
        for name in sorted(settings):  # sorted: which of two case-variants wins is stable
            if settings[name]:
                self._by_lower.setdefault(name.lower(), name)

    def find(self, name: str) -> str | None:
        """The name of the non-empty setting matching name, preferring the exact spelling."""
        if self._exact.get(name):
            return name
        return self._by_lower.get(name.lower())

    def value(self, name: str) -> str:
        return self._exact[name]

    def under(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(rest, value) for every non-empty setting named prefix__rest or prefix:rest."""
        lowered = prefix.lower()
        for name in self._by_lower.values():
            for separator in ("__", ":"):
                head = lowered + separator
                if name.lower().startswith(head) and len(name) > len(head):
                    # One spelling for nested keys: .NET sees "a__b" and "a:b" as the same key.
                    yield name[len(head) :].replace("__", ":"), self._exact[name]


def resolve_connection(
    name: str, settings: Mapping[str, str], connection_strings: Mapping[str, str] = _EMPTY
) -> Connection:
    """Resolve a binding's connection name the way the Functions host does."""
    if not name:
        raise ConnectionNotFound(name, [])
    view = _Settings(settings)
    found = _as_string(name, view, connection_strings) or _as_identity(name, view)
    if found is None:
        tried = [*_prefixed(name), f"ConnectionStrings:{name}", f"ConnectionStrings__{name}"]
        raise ConnectionNotFound(name, tried + [f"{prefix}__*" for prefix in _prefixed(name)])
    return found


def binding_connection(name: str, settings: Mapping[str, str], where: str = "") -> Connection:
    """A binding's connection, or a BindingError that says where it was looked for."""
    try:
        return resolve_connection(name, settings)
    except ConnectionNotFound as exc:
        prefix = f"{where}: " if where else ""
        raise BindingError(
            f"{prefix}{exc}; expected one of them in local.settings.json Values or the environment"
        ) from None


def _prefixed(name: str) -> list[str]:
    """AzureWebJobsN then N; just N when the binding already wrote AzureWebJobsStorage."""
    if name.lower().startswith(_PREFIX.lower()):
        return [name]
    return [f"{_PREFIX}{name}", name]


def _as_string(
    name: str, view: _Settings, connection_strings: Mapping[str, str]
) -> Connection | None:
    for candidate in _prefixed(name):
        setting = view.find(candidate)
        if setting is not None:
            return Connection(name, setting, view.value(setting))
    strings = _Settings(connection_strings)
    key = strings.find(name)
    if key is not None:
        return Connection(name, f"ConnectionStrings:{key}", strings.value(key))
    for candidate in (f"ConnectionStrings:{name}", f"ConnectionStrings__{name}"):
        setting = view.find(candidate)
        if setting is not None:
            return Connection(name, setting, view.value(setting))
    return None


def _as_identity(name: str, view: _Settings) -> Connection | None:
    # The prefixed section first, as for plain values: AzureWebJobsN before N.
    for prefix in _prefixed(name):
        identity = dict(view.under(prefix))
        if identity:
            return Connection(name, prefix, None, MappingProxyType(identity))
    return None


def resolve_setting_refs(value: str, settings: Mapping[str, str], *, where: str) -> str:
    """Replace every %Name% in value with that app setting; raise SettingNotFound if unset."""
    view = _Settings(settings)

    def replace(match: re.Match[str]) -> str:
        setting = match.group(1)
        if not setting:
            return match.group()  # "%%" stays as written
        found = view.find(setting)
        if found is None:
            raise SettingNotFound(setting, where)
        return view.value(found)

    return _SETTING_REF.sub(replace, value)
