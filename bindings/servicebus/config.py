"""host.json ``extensions.serviceBus`` and the trigger's own properties, checked at load.

The options, their defaults and limits are the v5 WebJobs Service Bus extension's
``ServiceBusOptions`` (azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.ServiceBus/src/
Config/ServiceBusOptions.cs). A bad value disables the function with the key, the value and
what was expected; it never silently becomes the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funchost.config_section import Section, lookup
from funchost.errors import BindingError

# ServiceBusOptions.MaxAutoLockRenewalDuration: Timeout.InfiniteTimeSpan, written in host.json
# as "-00:00:00.001", renews for as long as the function runs.
INFINITE_RENEWAL = -0.001
# MaxBatchWaitTime: "the maximum allowed value is 2 minutes and 30 seconds".
MAX_BATCH_WAIT = 150.0
# ServiceBusRetryOptions.TryTimeout: a session receiver's idle time without sessionIdleTimeout.
TRY_TIMEOUT = 60.0
# v4-era sections the v5 extension no longer reads; a warning says where the keys went.
_LEGACY_SECTIONS = {
    "messageHandlerOptions": "maxConcurrentCalls, autoCompleteMessages, maxAutoLockRenewalDuration",
    "sessionHandlerOptions": "maxConcurrentSessions, sessionIdleTimeout",
    "batchOptions": "maxMessageBatchSize",
}
_RENEWAL_EXPECTED = 'a TimeSpan of at least "00:00:00", or "-00:00:00.001" (renew without limit)'


@dataclass(frozen=True)
class ServiceBusOptions:
    """The extension's options, with its defaults."""

    prefetch_count: int = 0
    max_concurrent_calls: int = 16
    auto_complete_messages: bool = True
    max_auto_lock_renewal: float | None = 300.0  # seconds; None renews without limit
    max_concurrent_sessions: int = 8
    max_concurrent_calls_per_session: int = 1
    max_message_batch_size: int = 1000
    min_message_batch_size: int = 1
    max_batch_wait_time: float = 30.0
    session_idle_timeout: float | None = None  # None: the client's try timeout (60 s)


def service_bus_options(
    host_json: Section, settings: Mapping[str, str], processors: int | None = None
) -> ServiceBusOptions:
    """Read ``extensions.serviceBus`` (absent: every default); ConfigError names a bad key."""
    section = host_json.section("extensions", "serviceBus")
    cores = processors or processor_count(settings)
    batch_max = section.integer("maxMessageBatchSize", 1000, low=1)
    return ServiceBusOptions(
        prefetch_count=section.integer("prefetchCount", 0, low=0),
        max_concurrent_calls=section.integer("maxConcurrentCalls", 16 * cores, low=1),
        auto_complete_messages=section.boolean("autoCompleteMessages", True),
        max_auto_lock_renewal=_renewal(section),
        max_concurrent_sessions=section.integer("maxConcurrentSessions", 8, low=1),
        max_concurrent_calls_per_session=section.integer("maxConcurrentCallsPerSession", 1, low=1),
        max_message_batch_size=batch_max,
        min_message_batch_size=section.integer(
            "minMessageBatchSize",
            1,
            low=1,
            high=batch_max,
            expected=f"a whole number from 1 to maxMessageBatchSize ({batch_max})",
        ),
        max_batch_wait_time=section.timespan(
            "maxBatchWaitTime", 30.0, low=0.0, high=MAX_BATCH_WAIT
        ),
        session_idle_timeout=section.timespan("sessionIdleTimeout", None, low=0.001),
    )


def legacy_keys(host_json: Section) -> list[str]:
    """Warnings for v4-era sections under extensions.serviceBus, which v5 ignores."""
    section = host_json.section("extensions", "serviceBus")
    return [
        f"host.json extensions.serviceBus.{name} is a Service Bus extension v4 setting, which "
        f"the v5 extension (and funchost) ignores; set {keys} directly under extensions.serviceBus"
        for name, keys in _LEGACY_SECTIONS.items()
        if name in section
    ]


def _renewal(section: Section) -> float | None:
    raw = section.raw("maxAutoLockRenewalDuration")
    seconds = section.timespan("maxAutoLockRenewalDuration", 300.0, expected=_RENEWAL_EXPECTED)
    if seconds == INFINITE_RENEWAL:
        return None
    if seconds < 0:
        raise section.error("maxAutoLockRenewalDuration", raw, _RENEWAL_EXPECTED)
    return seconds


def processor_count(settings: Mapping[str, str]) -> int:
    """Utility.GetProcessorCount: 1 on the Consumption plan (WEBSITE_SKU=Dynamic)."""
    if (settings.get("WEBSITE_SKU") or "").strip().lower() == "dynamic":
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


@dataclass(frozen=True)
class Entity:
    """The queue, or the topic and subscription, a binding names."""

    queue: str | None
    topic: str | None
    subscription: str | None = None

    @property
    def path(self) -> str:
        """The entity path, as the extension names it in logs (``topic/Subscriptions/sub``)."""
        if self.queue is not None:
            return self.queue
        if self.subscription is None:
            return str(self.topic)
        return f"{self.topic}/Subscriptions/{self.subscription}"


def _name(props: Mapping[str, Any], key: str) -> str | None:
    value = lookup(props, key, None)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BindingError(f"'{key}' is {value!r}; expected a Service Bus entity name")
    return value.strip()


def trigger_entity(props: Mapping[str, Any]) -> Entity:
    """queueName, or topicName with subscriptionName (ServiceBusTriggerAttribute)."""
    queue, topic = _name(props, "queueName"), _name(props, "topicName")
    subscription = _name(props, "subscriptionName")
    if queue is not None and topic is None:
        return Entity(queue, None)
    if queue is None and topic is not None and subscription is not None:
        return Entity(None, topic, subscription)
    raise BindingError(
        "expected either queueName, or topicName with subscriptionName; found "
        + (", ".join(k for k, v in _given(queue, topic, subscription)) or "none of them")
    )


def output_entity(props: Mapping[str, Any]) -> Entity:
    """queueName or topicName (ServiceBusAttribute.QueueOrTopicName)."""
    queue, topic = _name(props, "queueName"), _name(props, "topicName")
    if (queue is None) == (topic is None):
        found = " and ".join(k for k, v in _given(queue, topic, None)) or "neither"
        raise BindingError(f"expected queueName or topicName (one of them); found {found}")
    return Entity(queue, topic)


def _given(queue: str | None, topic: str | None, sub: str | None) -> list[tuple[str, str]]:
    named = {"queueName": queue, "topicName": topic, "subscriptionName": sub}
    return [(k, v) for k, v in named.items() if v is not None]


def flag(props: Mapping[str, Any], key: str) -> bool | None:
    """A boolean binding property (isSessionsEnabled, autoCompleteMessages); None when unset."""
    value = lookup(props, key, None)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BindingError(f"'{key}' is {value!r}; expected true or false")


def cardinality_many(props: Mapping[str, Any]) -> bool:
    """cardinality "many" (a batch per invocation); "one" or unset is one message."""
    value = lookup(props, "cardinality", None)
    if value is None:
        return False
    lowered = str(value).strip().lower()
    if lowered not in ("one", "many"):
        raise BindingError(f"'cardinality' is {value!r}; expected one or many")
    return lowered == "many"
