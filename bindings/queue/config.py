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

from funchost.config_section import Section, lookup
from funchost.errors import BindingError, ConfigError
from funchost.timespan import parse_timespan

MAX_BATCH_SIZE = 32  # the service returns at most 32 messages per request
MIN_POLLING_INTERVAL = 0.1  # QueuePollingIntervals.Minimum
MAX_VISIBILITY = 7 * 86400.0  # the service's limit for a message's visibility timeout
POISON_SUFFIX = "-poison"
# funchost-only app setting: how long a received message stays invisible while its function
# runs (renewed at half of it). The host fixes this at 10 minutes; tests shorten it.
PROCESSING_VISIBILITY_SETTING = "FUNCHOST_QUEUE_MESSAGE_VISIBILITY"
DEFAULT_PROCESSING_VISIBILITY = 600.0
# QueuesOptions: "MaxPollingInterval must not be less than 00:00:00.1000000."
_POLLING_EXPECTED = 'a TimeSpan of at least "00:00:00.100" (the host polls no more often than that)'
_VISIBILITY_EXPECTED = 'a TimeSpan from "00:00:00" to "7.00:00:00" (the service\'s limit)'
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
    host_json: Section, settings: Mapping[str, str], processors: int | None = None
) -> QueuesOptions:
    """Read ``extensions.queues`` (absent: every default); ConfigError names a bad key."""
    section = host_json.section("extensions", "queues")
    batch = section.integer("batchSize", 16, low=1, high=MAX_BATCH_SIZE)
    # QueuesOptions: unset, it is BatchSize/2 times the processor count (1 on Consumption).
    default_threshold = (batch // 2) * (processors or _processor_count(settings))
    return QueuesOptions(
        batch_size=batch,
        new_batch_threshold=section.integer("newBatchThreshold", default_threshold, low=0),
        max_polling_interval=section.timespan(
            "maxPollingInterval", 60.0, low=MIN_POLLING_INTERVAL, expected=_POLLING_EXPECTED
        ),
        visibility_timeout=section.timespan(
            "visibilityTimeout", 0.0, low=0.0, high=MAX_VISIBILITY, expected=_VISIBILITY_EXPECTED
        ),
        max_dequeue_count=section.integer("maxDequeueCount", 5, low=1),
        message_encoding=section.choice("messageEncoding", "base64", choices=("base64", "none")),
        processing_visibility=_processing_visibility(settings),
    )


def _processor_count(settings: Mapping[str, str]) -> int:
    """SkuUtility.ProcessorCount: 1 on the Consumption plan (WEBSITE_SKU=Dynamic)."""
    if (settings.get("WEBSITE_SKU") or "").strip().lower() == "dynamic":
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


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
    raw = lookup(spec_properties, "queueName", None)
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
