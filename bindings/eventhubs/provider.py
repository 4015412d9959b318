"""Event Hubs: the ``eventHubTrigger`` trigger and the ``eventHub`` output binding.

The trigger's listener is in listener.py (checkpoints in AzureWebJobsStorage through the SDK's
blob checkpoint store, or in files: filestore.py), what a function gets in events.py, the
host.json options and binding properties in config.py, connections in connection.py, the
output in output.py. Both read ``extensions.eventHubs`` once, when the function is loaded.
"""

from __future__ import annotations

from funchost.bindings.base import (
    BindingContext,
    BindingProvider,
    BindingSpec,
    Dispatch,
)
from funchost.bindings.eventhubs.config import check_options, ignored_keys, trigger_properties
from funchost.bindings.eventhubs.connection import event_hub_connection
from funchost.bindings.eventhubs.events import Shape
from funchost.bindings.eventhubs.listener import (
    STATE_FOLDER,
    EventHubTriggerConfig,
    EventHubTriggerListener,
)
from funchost.bindings.eventhubs.output import EventHubOutput, Producers
from funchost.bindings.shared.failures import located
from funchost.bindings.shared.hoststorage import HostStorageProvider, files_instead, host_storage
from funchost.bindings.shared.storage import close_clients
from funchost.bindings.shared.typeddata import is_deferred
from funchost.errors import FunchostError


def _where(spec: BindingSpec) -> str:
    return f"binding '{spec.name}' ({spec.type})"


def trigger_config(spec: BindingSpec, ctx: BindingContext) -> EventHubTriggerConfig:
    """Validate an eventHubTrigger binding: properties, connection, host.json, storage."""
    try:
        props = trigger_properties(spec, ctx)
        options = check_options(ctx.host_json)
        connection = event_hub_connection(spec, ctx, props.event_hub)
        storage = host_storage(ctx)
    except FunchostError as exc:
        raise located(_where(spec), exc) from exc
    return EventHubTriggerConfig(
        function_name=ctx.function_name,
        connection=connection,
        consumer_group=props.consumer_group,
        many=props.many,
        shape=Shape(props.data_type, deferred=is_deferred(spec)),
        options=options,
        storage=storage,
    )


class EventHubTriggerProvider(HostStorageProvider):
    """``eventHubTrigger``: partitions balanced through checkpoints in host storage."""

    type_name = "eventHubTrigger"
    honours_retry = True  # the host applies retry policies to Event Hubs triggers

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> EventHubTriggerListener:
        """Check the binding now, so a bad one disables its function at load with the reason."""
        config = trigger_config(spec, ctx)
        if config.storage.unavailable is not None:
            ctx.warn(  # the same text for every function: once
                files_instead(
                    config.storage,
                    "Event Hubs triggers keep their checkpoints and partition ownership",
                    config.storage.state_dir / STATE_FOLDER,
                )
            )
        ignored = ignored_keys(ctx.host_json)
        if ignored:
            ctx.warn(
                f"host.json {', '.join(ignored)}: read by the Functions host, but funchost does "
                "not use them (see docs/eventhubs.md)"
            )
        return EventHubTriggerListener(config, dispatch)


class EventHubOutputProvider(BindingProvider):
    """``eventHub`` output: events sent in batches after the function succeeded."""

    type_name = "eventHub"

    def __init__(self) -> None:
        self._producers = Producers()

    def output(self, spec: BindingSpec, ctx: BindingContext) -> EventHubOutput:
        """Check the connection, event hub and host.json now."""
        try:
            return EventHubOutput(spec, ctx, self._producers)
        except FunchostError as exc:
            raise located(_where(spec), exc) from exc

    async def aclose(self) -> None:
        """Close the producers, then the shared credentials an identity connection made."""
        await self._producers.close()
        await close_clients()


EVENT_HUB_TRIGGER = EventHubTriggerProvider()
EVENT_HUB_OUTPUT = EventHubOutputProvider()
