"""One registry from function.json ``type`` strings to binding providers.

Entries are ``"module:attr"`` strings resolved on first use, so an Azure SDK is imported
only when an app has a binding that needs it (an HTTP-only app never pays for them).
"""

from __future__ import annotations

import importlib

from funchost.bindings.base import BindingProvider
from funchost.errors import FunchostError

# Each type as function.json and the docs spell it (for messages), and its provider.
_ENTRIES = [
    ("httpTrigger", "funchost.bindings.http:HTTP_TRIGGER"),
    ("http", "funchost.bindings.http:HTTP_OUTPUT"),
    ("eventGridTrigger", "funchost.bindings.eventgrid:EVENT_GRID_TRIGGER"),
    ("warmupTrigger", "funchost.bindings.warmup:WARMUP_TRIGGER"),
    ("timerTrigger", "funchost.bindings.timer:TIMER_TRIGGER"),
    ("queueTrigger", "funchost.bindings.queue:QUEUE_TRIGGER"),
    ("queue", "funchost.bindings.queue:QUEUE_OUTPUT"),
    ("blobTrigger", "funchost.bindings.blob:BLOB_TRIGGER"),
    ("blob", "funchost.bindings.blob:BLOB"),
    ("eventHubTrigger", "funchost.bindings.eventhubs:EVENT_HUB_TRIGGER"),
    ("eventHub", "funchost.bindings.eventhubs:EVENT_HUB_OUTPUT"),
]
# Keyed lower-cased: types are compared case-insensitively, as the Functions host does.
_PROVIDERS: dict[str, tuple[str, str]] = {name.lower(): (name, target) for name, target in _ENTRIES}

# Types the Azure Functions host knows that funchost does not serve yet: a clearer message
# than "unknown" for an app that is valid in Azure.
_PLANNED = [
    *("serviceBusTrigger", "serviceBus"),
    *("cosmosDBTrigger", "cosmosDB", "eventGrid", "table"),
]
_PLANNED_LOWER = {t.lower(): t for t in _PLANNED}

_loaded: dict[str, BindingProvider] = {}


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
    """Why funchost cannot serve this binding type, or None if it can (imports nothing)."""
    return None if type_name.lower() in _PROVIDERS else _unknown_message(type_name)


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
        raise UnknownBindingType(_unknown_message(type_name))
    target = entry[1]
    module_name, _, attr = target.partition(":")
    provider = getattr(importlib.import_module(module_name), attr)
    if not isinstance(provider, BindingProvider):
        raise TypeError(f"{target} is not a BindingProvider")
    return provider


def _unknown_message(type_name: str) -> str:
    if type_name.lower() in _PLANNED_LOWER:
        return (
            f"binding type '{type_name}' is not supported by funchost yet; "
            f"supported types: {', '.join(known_types())}"
        )
    return f"unknown binding type '{type_name}'; expected one of: {', '.join(known_types())}"
