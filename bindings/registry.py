"""One registry from function.json ``type`` strings to binding providers.

Entries are ``"module:attr"`` strings resolved on first use, so an Azure SDK is imported
only when an app has a binding that needs it (an HTTP-only app never pays for them).

A type funchost does not know may come from an installed distribution that declares a
``funchost.bindings`` entry point (``myType = "mypkg.module:PROVIDER"``, a
``BindingProvider`` instance). Entry points are read only when an app uses a type the
built-in table lacks, so a built-in type always wins: an entry point of the same name is
never loaded (docs/generic-bindings.md).
"""

from __future__ import annotations

import importlib
from importlib import metadata

from funchost.bindings.base import BindingProvider
from funchost.errors import BindingError, FunchostError

ENTRY_POINT_GROUP = "funchost.bindings"

# Each type as function.json and the docs spell it (for messages), and its provider.
_ENTRIES = [
    ("httpTrigger", "funchost.bindings.http:HTTP_TRIGGER"),
    ("http", "funchost.bindings.http:HTTP_OUTPUT"),
    ("eventGridTrigger", "funchost.bindings.eventgrid:EVENT_GRID_TRIGGER"),
    ("eventGrid", "funchost.bindings.eventgrid:EVENT_GRID_OUTPUT"),
    ("warmupTrigger", "funchost.bindings.warmup:WARMUP_TRIGGER"),
    ("timerTrigger", "funchost.bindings.timer:TIMER_TRIGGER"),
    ("queueTrigger", "funchost.bindings.queue:QUEUE_TRIGGER"),
    ("queue", "funchost.bindings.queue:QUEUE_OUTPUT"),
    ("blobTrigger", "funchost.bindings.blob:BLOB_TRIGGER"),
    ("blob", "funchost.bindings.blob:BLOB"),
    ("table", "funchost.bindings.table:TABLE"),
    ("serviceBusTrigger", "funchost.bindings.servicebus:SERVICE_BUS_TRIGGER"),
    ("serviceBus", "funchost.bindings.servicebus:SERVICE_BUS_OUTPUT"),
    ("eventHubTrigger", "funchost.bindings.eventhubs:EVENT_HUB_TRIGGER"),
    ("eventHub", "funchost.bindings.eventhubs:EVENT_HUB_OUTPUT"),
    ("cosmosDBTrigger", "funchost.bindings.cosmosdb:COSMOS_DB_TRIGGER"),
    ("cosmosDB", "funchost.bindings.cosmosdb:COSMOS_DB"),
]
# Keyed lower-cased: types are compared case-insensitively, as the Functions host does.
_PROVIDERS: dict[str, tuple[str, str]] = {name.lower(): (name, target) for name, target in _ENTRIES}

# Types the Azure Functions host knows that funchost does not serve yet: a clearer message
# than "unknown" for an app that is valid in Azure.
_PLANNED = [
    *("kafkaTrigger", "kafka", "sqlTrigger", "sql", "mysqlTrigger", "mysql"),
    *("orchestrationTrigger", "activityTrigger", "entityTrigger", "durableClient"),
    *("signalRTrigger", "signalR", "signalRConnectionInfo", "sendGrid", "twilioSms"),
    *("rabbitMQTrigger", "rabbitMQ", "webPubSubTrigger", "webPubSub"),
    *("mcpToolTrigger", "mcpResourceTrigger", "mcpPromptTrigger"),
]
_PLANNED_LOWER = {t.lower(): t for t in _PLANNED}

_loaded: dict[str, BindingProvider] = {}
# Why an entry point's type cannot be served (it failed to load), by lower-cased type.
_broken: dict[str, str] = {}


class UnknownBindingType(FunchostError):
    """No provider is registered for a function.json ``type``."""


def register(type_name: str, target: str) -> None:
    """Register (or replace) the provider of a binding type as a ``module:attr`` string."""
    _PROVIDERS[type_name.lower()] = (type_name, target)
    _loaded.pop(type_name.lower(), None)


def loaded_providers() -> list[BindingProvider]:
    """The providers this process has loaded, in load order (the host closes them at the end)."""
    return list(_loaded.values())


def known_types() -> list[str]:
    """Binding types funchost can serve, as function.json spells them, for messages and docs."""
    return sorted((spelled for spelled, _ in _PROVIDERS.values()), key=str.lower)


def unsupported_reason(type_name: str) -> str | None:
    """Why funchost cannot serve this binding type, or None if it can.

    Imports nothing for a built-in type. For another type it loads the entry point that
    offers it, if any, so a plugin that does not load is reported at indexing, with the
    function, like an unknown type.
    """
    key = type_name.lower()
    if key in _PROVIDERS or key in _loaded:
        return None
    if key not in _broken:
        try:
            _loaded[key] = _from_entry_point(type_name)
        except FunchostError as exc:
            _broken[key] = str(exc)
    return _broken.get(key)


def get_provider(type_name: str) -> BindingProvider:
    """Return the provider for a binding type, importing its module on first use."""
    key = type_name.lower()
    provider = _loaded.get(key)
    if provider is None:
        provider = _load(key, type_name)
        _loaded[key] = provider
    return provider


def _load(key: str, type_name: str) -> BindingProvider:
    entry = _PROVIDERS.get(key)
    if entry is None:
        if key in _broken:
            raise UnknownBindingType(_broken[key])
        return _from_entry_point(type_name)
    target = entry[1]
    module_name, _, attr = target.partition(":")
    provider = getattr(importlib.import_module(module_name), attr)
    if not isinstance(provider, BindingProvider):
        raise TypeError(f"{target} is not a BindingProvider")
    return provider


def _from_entry_point(type_name: str) -> BindingProvider:
    """The provider an installed distribution declares for this type; errors say which."""
    found = [
        ep
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.name.lower() == type_name.lower()
    ]
    if not found:
        raise UnknownBindingType(_unknown_message(type_name))
    if len(found) > 1:
        offered = ", ".join(_describe(ep) for ep in found)
        raise BindingError(
            f"binding type '{type_name}' is offered by {len(found)} '{ENTRY_POINT_GROUP}' "
            f"entry points ({offered}); expected one: uninstall all but one of them"
        )
    return _provider_of(found[0], type_name)


def _provider_of(entry: metadata.EntryPoint, type_name: str) -> BindingProvider:
    where = f"binding type '{type_name}': entry point {_describe(entry)}"
    try:
        provider = entry.load()
    except Exception as exc:  # the plugin's own import failed: say so, with its words
        raise BindingError(
            f"{where} failed to load: {type(exc).__name__}: {exc}; expected "
            f"'{entry.value}' to be an importable module and attribute"
        ) from exc
    if isinstance(provider, BindingProvider):
        return provider
    if isinstance(provider, type) and issubclass(provider, BindingProvider):
        raise BindingError(
            f"{where} is the class {provider.__name__}, not an instance of "
            "funchost.bindings.base.BindingProvider; expected the entry point to name an "
            f"instance, such as PROVIDER = {provider.__name__}()"
        )
    raise BindingError(
        f"{where} is a {type(provider).__name__}, not an instance of "
        "funchost.bindings.base.BindingProvider"
    )


def _describe(entry: metadata.EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    source = f" from {dist.name} {dist.version}" if dist is not None else ""
    return f"'{entry.name} = {entry.value}'{source}"


def _unknown_message(type_name: str) -> str:
    if type_name.lower() in _PLANNED_LOWER:
        return (
            f"binding type '{type_name}' is not supported by funchost yet; "
            f"supported types: {', '.join(known_types())}"
        )
    return (
        f"unknown binding type '{type_name}'; expected one of: {', '.join(known_types())}, "
        f"or a type an installed package adds through a '{ENTRY_POINT_GROUP}' entry point"
    )
