"""host.json ``extensions.queues`` and queue names, checked when a queue function is loaded.

The options and their limits are the WebJobs storage extension's ``QueuesOptions``
(azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/
QueuesOptions.cs); queue names follow its ``QueueClientExtensions.ValidateQueueName``, after
lower-casing the name as the extension does. A bad value disables the function with the key,
the value and what was expected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funchost.errors import BindingError, ConfigError
from funchost.timespan import parse_timespan

SECTION = "extensions.queues"
MAX_BATCH_SIZE = 32  # the service returns at most 32 messages per request
MIN_POLLING_INTERVAL = 0.1  # QueuePollingIntervals.Minimum
MAX_VISIBILITY = 7 * 86400.0  # the service's limit for a message's visibility timeout
POISON_SUFFIX = "-poison"
# funchost-only app setting: how long a received message stays invisible while its function
# runs (renewed at half of it). The host fixes this at 10 minutes; tests shorten it.
PROCESSING_VISIBILITY_SETTING = "FUNCHOST_QUEUE_MESSAGE_VISIBILITY"
DEFAULT_PROCESSING_VISIBILITY = 600.0
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_QUEUE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]")
QUEUE_NAME_EXPECTED = (
    "3 to 63 lowercase letters, digits and dashes, starting and ending with a letter or "
    "digit, without two dashes in a row"
)


@dataclass(frozen=True)
class QueuesOptions:
    """The queue extension's options, with the host's defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0  # before a failed message is visible again
    max_dequeue_count: int = 5
    message_encoding: str = "base64"  # or "none"
    processing_visibility: float = DEFAULT_PROCESSING_VISIBILITY

    @property
    def max_concurrency(self) -> int:
        """At most this many messages are processed at once (batchSize + newBatchThreshold)."""
        return self.batch_size + self.new_batch_threshold


def queues_options(
    extensions: Mapping[str, Any], settings: Mapping[str, str], processors: int | None = None
) -> QueuesOptions:
    """Read ``extensions.queues`` (absent: every default); ConfigError names a bad key."""
    section = _get(extensions, "queues")
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise ConfigError("host.json", SECTION, section, "a JSON object")
    batch = _integer(section, "batchSize", 16, 1, MAX_BATCH_SIZE)
    # QueuesOptions: unset, it is BatchSize/2 times the processor count (1 on Consumption).
    default_threshold = (batch // 2) * (processors or _processor_count(settings))
    return QueuesOptions(
        batch_size=batch,
        new_batch_threshold=_integer(section, "newBatchThreshold", default_threshold, 0, None),
        max_polling_interval=_polling_interval(section),
        visibility_timeout=_visibility(section),
        max_dequeue_count=_integer(section, "maxDequeueCount", 5, 1, None),
        message_encoding=_encoding(section),
        processing_visibility=_processing_visibility(settings),
    )


def _get(node: Mapping[str, Any], key: str) -> Any:
    """A key looked up case-insensitively, as .NET configuration does."""
    return next((v for k, v in node.items() if str(k).lower() == key.lower()), None)


def _processor_count(settings: Mapping[str, str]) -> int:
    """SkuUtility.ProcessorCount: 1 on the Consumption plan (WEBSITE_SKU=Dynamic)."""
    if (settings.get("WEBSITE_SKU") or "").strip().lower() == "dynamic":
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _integer(section: Mapping[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    value = _get(section, key)
    if value is None:
        return default
    expected = (
        f"a whole number from {low} to {high}" if high else f"a whole number of at least {low}"
    )
    # Environment overrides arrive as strings; the configuration binder reads them the same.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError("host.json", f"{SECTION}.{key}", value, expected)
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ConfigError("host.json", f"{SECTION}.{key}", value, expected)
        number = int(value)
    else:
        number = value
    if number < low or (high is not None and number > high):
        raise ConfigError("host.json", f"{SECTION}.{key}", value, expected)
    return number


def _span(section: Mapping[str, Any], key: str) -> float | None:
    value = _get(section, key)
    if value is None:
        return None
    return parse_timespan(str(value), source="host.json", key=f"{SECTION}.{key}")


def _polling_interval(section: Mapping[str, Any]) -> float:
    seconds = _span(section, "maxPollingInterval")
    if seconds is None:
        return 60.0
    if seconds < MIN_POLLING_INTERVAL:
        # QueuesOptions: "MaxPollingInterval must not be less than 00:00:00.1000000."
        raise ConfigError(
            "host.json",
            f"{SECTION}.maxPollingInterval",
            _get(section, "maxPollingInterval"),
            'a TimeSpan of at least "00:00:00.100" (the host polls no more often than that)',
        )
    return seconds


def _visibility(section: Mapping[str, Any]) -> float:
    seconds = _span(section, "visibilityTimeout")
    if seconds is None:
        return 0.0
    if not 0 <= seconds <= MAX_VISIBILITY:
        raise ConfigError(
            "host.json",
            f"{SECTION}.visibilityTimeout",
            _get(section, "visibilityTimeout"),
            'a TimeSpan from "00:00:00" to "7.00:00:00" (the service\'s limit)',
        )
    return seconds


def _encoding(section: Mapping[str, Any]) -> str:
    value = _get(section, "messageEncoding")
    if value is None:
        return "base64"
    if isinstance(value, str) and value.strip().lower() in ("base64", "none"):
        return value.strip().lower()
    raise ConfigError("host.json", f"{SECTION}.messageEncoding", value, "base64 or none")


def _processing_visibility(settings: Mapping[str, str]) -> float:
    raw = settings.get(PROCESSING_VISIBILITY_SETTING)
    if not raw:
        return DEFAULT_PROCESSING_VISIBILITY
    seconds = parse_timespan(raw, source="app settings", key=PROCESSING_VISIBILITY_SETTING)
    if not 2 <= seconds <= MAX_VISIBILITY:
        raise ConfigError(
            "app settings",
            PROCESSING_VISIBILITY_SETTING,
            raw,
            'a TimeSpan from "00:00:02" to "7.00:00:00"',
        )
    return seconds


def queue_name(spec_properties: Mapping[str, Any], *, template: bool) -> str:
    """The ``queueName`` property, lower-cased; checked now unless it holds an expression."""
    raw = _get(spec_properties, "queueName")
    if not isinstance(raw, str) or not raw.strip():
        raise BindingError(f"'queueName' is {raw!r}; expected the name of a queue")
    name = raw.strip()
    if template and ("{" in name or "}" in name):
        return name  # lower-cased once resolved: a format such as {DateTime:MM} is kept
    name = name.lower()  # "must be lowercase. coerce here to be nice."
    check_queue_name(name)
    return name


def check_queue_name(name: str) -> None:
    """BindingError unless name is a valid queue name."""
    if 3 <= len(name) <= 63 and _QUEUE_NAME.fullmatch(name):
        return
    raise BindingError(f"queue name '{name}' is not valid; expected {QUEUE_NAME_EXPECTED}")


def poison_queue_name(name: str) -> str | None:
    """``<name>-poison``; None for a poison queue itself or when the name would be too long."""
    if name.endswith(POISON_SUFFIX) or len(name) + len(POISON_SUFFIX) > 63:
        return None
    return name + POISON_SUFFIX
