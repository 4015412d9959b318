"""What the dashboard shows of a function and of an invocation, as JSON-ready dicts.

Binding properties are shown by name from a fixed list (route, schedule, queue, connection
*name*...), never all of them, and a value that looks like a secret is hidden: a connection
property holding a connection string by mistake must not end up on a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from funchost.bindings.base import BindingSpec
from funchost.host.logs import utc_stamp
from funchost.host.ui.capture import LogLine
from funchost.worker.history import Ended
from funchost.worker.indexer import FunctionSpec
from funchost.worker.wiring import LoadedFunction

NEXT_OCCURRENCES = 3
_SHOWN = (
    "route",
    "methods",
    "authLevel",
    "schedule",
    "runOnStartup",
    "useMonitor",
    "queueName",
    "path",
    "source",
    "topicName",
    "subscriptionName",
    "eventHubName",
    "consumerGroup",
    "databaseName",
    "containerName",
    "cardinality",
    "connection",
)
_SECRET = re.compile(
    r"(accountkey|sharedaccesskey|sharedaccesssignature|sig|password|clientsecret)\s*=", re.I
)
HIDDEN = "(hidden: looks like a secret)"


def loaded_function(function: LoadedFunction, base_url: str) -> dict[str, Any]:
    """A function being served: its trigger, bindings, address or next occurrences."""
    view = _spec_view(function.spec)
    description = function.listener.describe(base_url)
    view.update(enabled=True, summary=description.text, inFlight=function.invoker.in_flight)
    if description.url is not None:
        view["url"] = description.url
    # Only a timer's listener has it (bindings/timer/listener.py): its schedule, not a copy.
    occurrences: Callable[[int], list[str]] | None = getattr(
        function.listener, "next_occurrences", None
    )
    if callable(occurrences):
        view["nextOccurrences"] = occurrences(NEXT_OCCURRENCES)
    return view


def disabled_function(name: str, reasons: list[str], spec: FunctionSpec | None) -> dict[str, Any]:
    """A function not served, with the reasons ``funchost check`` gives."""
    view: dict[str, Any] = {"name": name, "trigger": None}
    if spec is not None:
        view = _spec_view(spec)
    view.update(name=name, enabled=False, reasons=reasons)
    return view


def _spec_view(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "trigger": binding(spec.trigger),
        "bindings": [binding(b) for b in spec.bindings if b.name != spec.trigger.name],
        "isAsync": spec.is_async,
        "where": spec.where,
    }


def binding(spec: BindingSpec) -> dict[str, Any]:
    """A binding's type, direction and the properties worth showing."""
    shown = {key: spec.properties.get(key) for key in _SHOWN}
    return {
        "name": spec.name,
        "type": spec.type,
        "direction": spec.direction,
        "details": {k: safe(v) for k, v in shown.items() if v not in (None, "", [])},
    }


def safe(value: Any) -> Any:
    """The value, or HIDDEN when it looks like a key, connection string or SAS."""
    if isinstance(value, str):
        return HIDDEN if _SECRET.search(value) else value
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    return value


def invocation(ended: Ended, wall_offset: float, lines: list[LogLine]) -> dict[str, Any]:
    """One finished invocation; ``wall_offset`` turns perf_counter times into wall times."""
    return {
        "id": ended.invocation_id,
        "function": ended.function_name,
        "reason": ended.reason,
        "start": utc_stamp(ended.started + wall_offset),
        "durationMs": round((ended.finished - ended.started) * 1000, 1),
        "outcome": ended.outcome,
        "retryCount": ended.retry_count,
        "error": ended.error or None,
        "logs": [{"time": utc_stamp(t), "level": level, "text": text} for t, level, text in lines],
    }
