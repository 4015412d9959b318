"""The ``eventHub`` output binding: events sent in batches after the function succeeded.

As the extension's ``EventHubAsyncCollector``: the value is split into events as every
collector-based output splits it (bindings/shared/outputs.py: a list, or a JSON array, is one
event per item); a Python function gives no partition key, so every event goes to the one
batch of the empty key (the service spreads them over the partitions); a batch that is full is
sent and a new one started; an event too large for an empty batch fails the invocation with
the extension's message. One producer per connection and hub is kept for the process and
closed by the provider's ``aclose()``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from funchost.bindings.base import BindingContext, BindingSpec, TriggerEvent
from funchost.bindings.eventhubs.config import EventHubsOptions, check_options, output_event_hub
from funchost.bindings.eventhubs.connection import EventHubConnection, event_hub_connection
from funchost.bindings.shared.failures import first_line
from funchost.bindings.shared.outputs import output_bodies
from funchost.errors import BindingError

log = logging.getLogger("funchost.eventhubs")

if TYPE_CHECKING:
    from azure.eventhub.aio import EventHubProducerClient
    from azure.functions.meta import Datum


class Producers:
    """The process's producers, one per (connection, event hub)."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], EventHubProducerClient] = {}

    def get(self, connection: EventHubConnection, options: EventHubsOptions) -> Any:
        """The producer for the connection's hub, created on first use."""
        key = (connection.connection.setting, connection.event_hub.lower())
        client = self._clients.get(key)
        if client is None:
            client = connection.producer(options)
            self._clients[key] = client
        return client

    async def close(self) -> None:
        """Close every producer (one that fails does not keep the others open)."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            try:
                await client.close()
            except Exception as exc:  # at shutdown: say so, close the rest
                log.warning("closing an Event Hubs producer failed: %s", first_line(exc))


class EventHubOutput:
    """Sends the events of one ``eventHub`` output binding."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, producers: Producers) -> None:
        self._options = check_options(ctx.host_json)
        self._connection = event_hub_connection(spec, ctx, output_event_hub(spec, ctx))
        self._producers = producers
        self._where = f"binding '{spec.name}' (eventHub) to {self._connection.where}"

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Send every event of the value, in batches, in order."""
        from azure.eventhub import EventData

        producer = self._producers.get(self._connection, self._options)
        batch = await producer.create_batch()
        for body in output_bodies(datum):
            item = EventData(body)
            if _added(batch, item):
                continue
            if len(batch) == 0:  # alone it does not fit: it never will
                raise BindingError(self._too_large(len(body), batch.max_size_in_bytes))
            await producer.send_batch(batch)
            batch = await producer.create_batch()
            if not _added(batch, item):
                raise BindingError(self._too_large(len(body), batch.max_size_in_bytes))
        if len(batch):
            await producer.send_batch(batch)

    def _too_large(self, size: int, limit: int) -> str:
        return (
            f"{self._where}: Event is too large. Event is approximately {size}b and max size "
            f"is {limit}b"
        )


def _added(batch: Any, item: Any) -> bool:
    """EventDataBatch.TryAdd: False when the event does not fit in what is left."""
    try:
        batch.add(item)
    except ValueError:
        return False
    return True
