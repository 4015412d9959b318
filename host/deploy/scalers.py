"""KEDA scaler triggers from an app's indexed triggers, with the metadata keys KEDA reads.

Each trigger names the app setting that holds its connection (``connectionFromEnv``): the
Deployment fills that variable from a Secret, so no connection string appears here.
Trigger types KEDA cannot scale on (timer, blob, Cosmos DB) keep one replica running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funchost.errors import FunchostError
from funchost.worker.indexer import FunctionSpec

STORAGE = "AzureWebJobsStorage"  # the queue trigger's default, and Event Hubs checkpoints
# The thresholds KEDA documents as its defaults, written out so they can be seen and tuned.
QUEUE_LENGTH = "5"
MESSAGE_COUNT = "5"
UNPROCESSED_EVENTS = "64"
# Triggers that arrive over HTTP (an Event Grid subscription posts to the host).
HTTP_TRIGGERS = {"httptrigger", "eventgridtrigger"}
_SETTING = re.compile(r"%([^%]+)%")


class DeployError(FunchostError):
    """The app cannot be described to the engine as it is (an unresolved name, a bad key)."""


@dataclass(frozen=True)
class Scaling:
    """What the app's triggers ask of the engine."""

    http: bool
    triggers: list[dict[str, Any]]
    settings: list[str]  # the settings the Deployment takes from the Secret
    unscalable: list[str]  # functions whose trigger KEDA cannot scale on


def scaling(specs: list[FunctionSpec], settings: Mapping[str, str]) -> Scaling:
    """The KEDA triggers and connection settings of every function."""
    http, triggers, names, unscalable = False, [], {STORAGE}, []
    for spec in specs:
        names.update(_settings_used(spec))
        kind = spec.trigger.type.lower()
        if kind in HTTP_TRIGGERS:
            http = True
            continue
        trigger = _trigger(spec, kind, settings)
        if trigger is None:
            unscalable.append(spec.name)
            continue
        if trigger not in triggers:
            triggers.append(trigger)
    return Scaling(http, triggers, sorted(names), unscalable)


def _trigger(spec: FunctionSpec, kind: str, settings: Mapping[str, str]) -> dict[str, Any] | None:
    props = {key.lower(): value for key, value in spec.trigger.properties.items()}

    def text(key: str, default: str = "") -> str:
        return _resolved(spec.name, key, str(props.get(key.lower()) or default), settings)

    if kind == "queuetrigger":
        meta = {"queueName": text("queueName"), "queueLength": QUEUE_LENGTH}
        return _keda("azure-queue", meta, text("connection") or STORAGE)
    if kind == "servicebustrigger":
        return _service_bus(text, _required(spec.name, "connection", text))
    if kind == "eventhubtrigger":
        meta = {
            "eventHubName": text("eventHubName"),
            "consumerGroup": text("consumerGroup", "$Default"),
            "unprocessedEventThreshold": UNPROCESSED_EVENTS,
            # Checkpoints are where the Functions host keeps them (funchost does the same).
            "checkpointStrategy": "azureFunction",
            "storageConnectionFromEnv": STORAGE,
        }
        return _keda("azure-eventhub", meta, _required(spec.name, "connection", text))
    return None


def _service_bus(text: Any, connection: str) -> dict[str, Any]:
    queue = text("queueName")
    names = (
        {"queueName": queue}
        if queue
        else {"topicName": text("topicName"), "subscriptionName": text("subscriptionName")}
    )
    meta = {**names, "messageCount": MESSAGE_COUNT}
    return _keda("azure-servicebus", meta, connection)


def _keda(kind: str, metadata: dict[str, str], connection: str) -> dict[str, Any]:
    return {"type": kind, "metadata": {**metadata, "connectionFromEnv": connection}}


def _required(function: str, key: str, text: Any) -> str:
    value = str(text(key))
    if not value:
        raise DeployError(f"function '{function}': its trigger has no '{key}'; expected one")
    return value


def _settings_used(spec: FunctionSpec) -> set[str]:
    """Every binding's connection setting and every %Setting% its properties name."""
    found: set[str] = set()
    for binding in (spec.trigger, *spec.bindings):
        for key, value in binding.properties.items():
            if not isinstance(value, str):
                continue
            if key.lower() == "connection" and value:
                found.add(value)
            found.update(_SETTING.findall(value))
    return found


def _resolved(function: str, key: str, value: str, settings: Mapping[str, str]) -> str:
    """``%Setting%`` replaced by the setting's value: KEDA needs the name itself."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise DeployError(
                f"function '{function}': '{key}' is {value!r}, but app setting '{name}' is "
                "not set; expected it in the environment or local.settings.json, since the "
                "scaler needs the resolved name"
            )
        return settings[name]

    return _SETTING.sub(lookup, value)
