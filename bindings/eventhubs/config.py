"""host.json ``extensions.eventHubs`` and the trigger's and output's binding properties.

Names, defaults and limits are the WebJobs Event Hubs extension's (v5,
Microsoft.Azure.WebJobs.Extensions.EventHubs ``EventHubOptions`` and ``InitialOffsetOptions``;
the client defaults are Azure.Messaging.EventHubs ``EventProcessorOptions``'). Everything is read
once, when the function is loaded; a bad value disables it with the key, the value and what was
expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.shared.connections import SettingNotFound, resolve_setting_refs
from funchost.config_section import MISSING, Section, lookup
from funchost.errors import BindingError, ConfigError

DEFAULT_CONSUMER_GROUP = "$Default"
MAX_WAIT_LIMIT = 600.0  # "The longest allowed wait time is 10 minutes."
OFFSET_TYPES = ("fromStart", "fromEnd", "fromEnqueuedTime")
_ENQUEUED_EXPECTED = (
    'a date and time such as "2026-10-26T20:31Z" (required when type is fromEnqueuedTime)'
)
# Keys the extension reads that change nothing for funchost: scaling, and the transport's.
IGNORED_KEYS = (
    "targetUnprocessedEventThreshold",
    "transportType",
    "webProxy",
    "customEndpointAddress",
    "prefetchSizeInBytes",
)


@dataclass(frozen=True)
class InitialOffset:
    """Where a partition with no checkpoint starts (InitialOffsetOptions)."""

    type: str = "fromStart"
    enqueued_time: datetime | None = None

    def starting_position(self) -> tuple[Any, bool]:
        """The SDK's (starting_position, inclusive) for a partition without a checkpoint."""
        if self.type == "fromEnd":
            return "@latest", False
        if self.type == "fromEnqueuedTime":
            return self.enqueued_time, True  # "the event enqueued on or after" that time
        return "-1", False


@dataclass(frozen=True)
class RetryOptions:
    """clientRetryOptions (EventHubsRetryOptions): the SDK client's own retries."""

    mode: str = "exponential"
    max_retries: int = 3
    delay: float = 0.8
    max_delay: float = 60.0


@dataclass(frozen=True)
class EventHubsOptions:
    """The extension's options for every Event Hubs trigger of the app, with v5's defaults."""

    max_event_batch_size: int = 10
    min_event_batch_size: int = 1
    max_wait_time: float = 60.0
    batch_checkpoint_frequency: int = 1
    prefetch_count: int = 300
    track_last_enqueued: bool = False
    load_balancing_interval: float = 10.0  # EventProcessorOptions.LoadBalancingUpdateInterval
    ownership_expiration: float = 30.0  # ...PartitionOwnershipExpirationInterval
    initial_offset: InitialOffset = InitialOffset()
    retry: RetryOptions = RetryOptions()


def eventhubs_options(host_json: Section) -> EventHubsOptions:
    """Read ``extensions.eventHubs`` (absent: every default); ConfigError names a bad key."""
    section = host_json.section("extensions", "eventHubs")
    max_size = section.integer("maxEventBatchSize", 10, low=1)
    min_size = section.integer(
        "minEventBatchSize",
        1,
        low=1,
        high=max_size,
        expected=f"a whole number from 1 to maxEventBatchSize ({max_size})",
    )
    balancing = section.timespan("loadBalancingUpdateInterval", 10.0, low=0.001)
    return EventHubsOptions(
        max_event_batch_size=max_size,
        min_event_batch_size=min_size,
        max_wait_time=section.timespan("maxWaitTime", 60.0, low=0.0, high=MAX_WAIT_LIMIT),
        batch_checkpoint_frequency=section.integer("batchCheckpointFrequency", 1, low=1),
        prefetch_count=section.integer("prefetchCount", 300, low=0),
        track_last_enqueued=section.boolean("trackLastEnqueuedEventProperties", False),
        load_balancing_interval=balancing,
        ownership_expiration=section.timespan(
            "partitionOwnershipExpirationInterval",
            30.0,
            low=balancing,
            expected="a TimeSpan no shorter than loadBalancingUpdateInterval",
        ),
        initial_offset=_initial_offset(section.section("initialOffsetOptions")),
        retry=_retry(section.section("clientRetryOptions")),
    )


def _initial_offset(section: Section) -> InitialOffset:
    kind = section.choice("type", "fromStart", choices=OFFSET_TYPES)
    raw = section.raw("enqueuedTimeUtc")
    if kind != "fromEnqueuedTime":
        return InitialOffset(kind)
    if raw is MISSING or not isinstance(raw, str) or not raw.strip():
        raise section.error("enqueuedTimeUtc", raw, _ENQUEUED_EXPECTED)
    return InitialOffset(kind, _parse_time(section, raw))


def _parse_time(section: Section, raw: str) -> datetime:
    """DateTime.Parse's ISO forms; a time without a zone is the machine's local time."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise section.error("enqueuedTimeUtc", raw, _ENQUEUED_EXPECTED) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(timezone.utc)


def _retry(section: Section) -> RetryOptions:
    return RetryOptions(
        mode=section.choice("mode", "exponential", choices=("exponential", "fixed")),
        max_retries=section.integer("maximumRetries", 3, low=0, high=100),
        delay=section.timespan("delay", 0.8, low=0.001, high=300.0),
        max_delay=section.timespan("maximumDelay", 60.0, low=0.0),
    )


def ignored_keys(host_json: Section) -> list[str]:
    """The keys of ``extensions.eventHubs`` that are read by the host but change nothing here."""
    section = host_json.section("extensions", "eventHubs")
    found = [section.full_key(key) for key in IGNORED_KEYS if key in section]
    options = eventhubs_options(host_json)
    if options.min_event_batch_size > 1:
        found.append(section.full_key("minEventBatchSize"))
    return found


# --- binding properties -------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerProperties:
    """The trigger's function.json properties, %Setting% references resolved."""

    event_hub: str  # empty: the connection string's EntityPath must name it
    consumer_group: str
    many: bool  # cardinality "many": one invocation per batch
    data_type: str  # "binary" (the default), "string" or "stream"


def trigger_properties(spec: BindingSpec, ctx: BindingContext) -> TriggerProperties:
    """eventHubName, consumerGroup, cardinality and dataType of an eventHubTrigger binding."""
    cardinality = _text(spec, "cardinality", ctx) or "one"
    if cardinality.lower() not in ("one", "many"):
        raise BindingError(f"'cardinality' is {cardinality!r}; expected one or many")
    return TriggerProperties(
        event_hub=_text(spec, "eventHubName", ctx),
        consumer_group=_text(spec, "consumerGroup", ctx) or DEFAULT_CONSUMER_GROUP,
        many=cardinality.lower() == "many",
        data_type=data_type(spec),
    )


def data_type(spec: BindingSpec) -> str:
    """dataType in lower case; absent, the extension's default for EventData: binary."""
    raw = (spec.data_type or "").strip().lower()
    if raw in ("", "binary", "string", "stream"):
        return raw or "binary"
    raise BindingError(f"'dataType' is {spec.data_type!r}; expected string, binary or stream")


def output_event_hub(spec: BindingSpec, ctx: BindingContext) -> str:
    """The output's eventHubName (empty: the connection string's EntityPath names it)."""
    return _text(spec, "eventHubName", ctx)


def connection_name(spec: BindingSpec) -> str:
    """The binding's ``connection``: an app setting name (never printed if it is a secret)."""
    value = lookup(spec.properties, "connection", "")
    return value.strip() if isinstance(value, str) else ""


def _text(spec: BindingSpec, key: str, ctx: BindingContext) -> str:
    value = lookup(spec.properties, key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BindingError(f"'{key}' is {value!r}; expected a string")
    try:
        # INameResolver.ResolveWholeString, as EventHubClientFactory resolves the three names.
        return resolve_setting_refs(value.strip(), ctx.settings, where=f"'{key}'")
    except SettingNotFound as exc:
        raise BindingError(str(exc)) from None


def check_options(host_json: Section) -> EventHubsOptions:
    """The options, or BindingError naming the bad key (for a binding's load)."""
    try:
        return eventhubs_options(host_json)
    except ConfigError as exc:
        raise BindingError(str(exc)) from exc


def options_summary(options: EventHubsOptions) -> Mapping[str, Any]:
    """What the listener logs once at Debug, as the host logs the EventHubOptions it uses."""
    return {
        "MaxEventBatchSize": options.max_event_batch_size,
        "BatchCheckpointFrequency": options.batch_checkpoint_frequency,
        "PrefetchCount": options.prefetch_count,
        "LoadBalancingUpdateInterval": options.load_balancing_interval,
        "PartitionOwnershipExpirationInterval": options.ownership_expiration,
        "InitialOffsetOptions": options.initial_offset.type,
    }
