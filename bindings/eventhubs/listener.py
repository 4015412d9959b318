"""Event Hubs trigger listener: the SDK's EventHubConsumerClient, run as the extension runs it.

The WebJobs Event Hubs extension's ``EventHubListener.PartitionProcessor`` rules, over
``EventHubConsumerClient.receive_batch`` and a checkpoint store:

- the SDK balances partitions between every process on the same checkpoint store (ownership
  records, ``loadBalancingUpdateInterval``, ``partitionOwnershipExpirationInterval``, the
  balanced strategy); each owned partition is read by its own task, one batch at a time;
- cardinality many: one invocation per received batch of up to ``maxEventBatchSize`` events;
  cardinality one: the extension reads batches of one event, so one invocation per event and
  never two of a partition at once;
- after each batch ends, success or failure alike (the function owns its poison handling),
  the last event is checkpointed every ``batchCheckpointFrequency`` batches, under
  ``asyncio.shield``; a partition without a checkpoint starts at ``initialOffsetOptions``;
- ``stop(deadline)``: no new batch is dispatched, batches in flight get until the deadline and
  are then cancelled; a batch cut short is not checkpointed, so it is read again (at least
  once); then the client closes, which gives up its partitions.

The batch runs in a task of the listener's, shielded from the SDK's partition task: closing the
client or losing a partition never cancels a function half-way; only the deadline does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from funchost.bindings.base import Description, Dispatch, TriggerEvent
from funchost.bindings.eventhubs.config import EventHubsOptions
from funchost.bindings.eventhubs.connection import EventHubConnection
from funchost.bindings.eventhubs.events import (
    Partition,
    Shape,
    admin_event,
    batch_event,
    single_event,
    trigger_details,
)
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.failures import first_line
from funchost.bindings.shared.hoststorage import HostStorage
from funchost.bindings.shared.storage import blob_service_client

if TYPE_CHECKING:
    from azure.eventhub.aio import CheckpointStore, EventHubConsumerClient, PartitionContext

log = logging.getLogger("funchost.eventhubs")
CATEGORY = "Host.Triggers.EventHubs"
CONTAINER = "azure-webjobs-eventhub"  # EventHubOptions.CheckpointContainer
STATE_FOLDER = "eventhubs"  # under the state folder, without storage
RESTART_DELAY = 5.0  # after the client stopped on an error it could not ride out
CLOSE_GRACE = 5.0  # beyond the load balancing interval, which close() waits out


@dataclass(frozen=True)
class EventHubTriggerConfig:
    """Everything an Event Hubs listener needs, checked when the function is loaded."""

    function_name: str
    connection: EventHubConnection
    consumer_group: str
    many: bool
    shape: Shape
    options: EventHubsOptions
    storage: HostStorage

    @property
    def checkpoints(self) -> str:
        """Where checkpoints go, for the start-up report and log lines."""
        if self.storage.connection_string is None:
            return f"files under {self.storage.state_dir / STATE_FOLDER}"
        return f"AzureWebJobsStorage (container {CONTAINER})"


@dataclass
class _PartitionState:
    """What the processor of one partition counts between checkpoints."""

    batches: int = 0
    last_checkpoint: Any = None


@dataclass
class _Work:
    """The listener's tasks: batches in flight and checkpoints being written."""

    batches: set[asyncio.Task[None]] = field(default_factory=set)
    checkpoints: set[asyncio.Task[None]] = field(default_factory=set)


class EventHubTriggerListener:
    """Reads one event hub for one function through the SDK's load-balancing consumer."""

    def __init__(self, config: EventHubTriggerConfig, dispatch: Dispatch) -> None:
        self.config = config
        self._dispatch = dispatch
        self._client: EventHubConsumerClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._work = _Work()
        self._partitions: dict[str, _PartitionState] = {}
        self._stopping = False

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("eventHubTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now with the payload as the body of one event (nothing is read from the hub)."""
        return admin_event(payload, self.config.shape, self.config.many)

    async def start(self) -> None:
        """Start reading in the background: storage and the hub may still be coming up."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop dispatching; batches in flight finish by the deadline or are cancelled
        (and not checkpointed); then the client closes and gives up its partitions."""
        self._stopping = True
        await finish_by(set(self._work.batches), deadline, self._cancelling)
        while self._work.checkpoints:
            await asyncio.gather(*self._work.checkpoints, return_exceptions=True)
        await self._close_client()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # --- the client ------------------------------------------------------------------------

    async def _run(self) -> None:
        config = self.config
        while not self._stopping:
            try:
                store = await self._store()
                self._client = config.connection.consumer(
                    config.consumer_group, store, config.options
                )
                log.debug(
                    "Function '%s' reads %s (consumer group '%s'); checkpoints in %s",
                    config.function_name,
                    config.connection.where,
                    config.consumer_group,
                    config.checkpoints,
                    extra={"category": CATEGORY},
                )
                await self._receive(self._client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log_error("could not read", exc)
            if not self._stopping:
                await self._close_client()
                await asyncio.sleep(RESTART_DELAY)

    async def _receive(self, client: EventHubConsumerClient) -> None:
        options = self.config.options
        position, inclusive = options.initial_offset.starting_position()
        await client.receive_batch(
            self._on_batch,
            # The extension reads batches of one event for cardinality one.
            max_batch_size=options.max_event_batch_size if self.config.many else 1,
            prefetch=options.prefetch_count,
            track_last_enqueued_event_properties=options.track_last_enqueued,
            starting_position=position,
            starting_position_inclusive=inclusive,
            on_error=self._on_error,
            on_partition_close=self._on_close,
            owner_level=0,  # the processor's exclusive readers: a new owner takes over at once
        )

    async def _store(self) -> CheckpointStore:
        storage = self.config.storage
        if storage.connection is None:
            from funchost.bindings.eventhubs.filestore import FileCheckpointStore

            return FileCheckpointStore(storage.state_dir / STATE_FOLDER)
        from azure.core.exceptions import ResourceExistsError
        from azure.eventhub.extensions.checkpointstoreblobaio import BlobCheckpointStore

        container = blob_service_client(storage.connection).get_container_client(CONTAINER)
        # The store's bundled blob client sends an old API version: the container is created
        # (and every blob reached) through the process's own client instead.
        with contextlib.suppress(ResourceExistsError):
            await container.create_container()
        return BlobCheckpointStore(container.url, CONTAINER, container_client=container)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            timeout = self.config.options.load_balancing_interval + CLOSE_GRACE
            await asyncio.wait_for(client.close(), timeout)
        except Exception as exc:
            self._log_error("could not close its client cleanly", exc)

    # --- one batch -------------------------------------------------------------------------

    async def _on_batch(self, context: PartitionContext, events: Sequence[Any]) -> None:
        """The SDK's callback: run the batch in a task of our own and wait for it."""
        if self._stopping or not events:
            return  # not dispatched, not checkpointed: read again after the restart
        task = asyncio.get_running_loop().create_task(self._process(context, list(events)))
        self._work.batches.add(task)
        task.add_done_callback(self._work.batches.discard)
        await asyncio.shield(task)

    async def _process(self, context: PartitionContext, events: list[Any]) -> None:
        """PartitionProcessor.ProcessEventsAsync: invoke, then checkpoint when it is due."""
        state = self._partitions.setdefault(context.partition_id, _PartitionState())
        state.batches += 1
        due = state.batches >= self.config.options.batch_checkpoint_frequency
        partition = Partition(
            context.fully_qualified_namespace,
            context.eventhub_name,
            context.consumer_group,
            context.partition_id,
            checkpointing=due,
        )
        await self._invoke_all(partition, events)
        if due:
            state.batches = 0
            await self._checkpoint(context, events[-1])

    async def _invoke_all(self, partition: Partition, events: list[Any]) -> None:
        config = self.config
        details = trigger_details(events, partition.partition_id, single=not config.many)
        where = f"partition '{partition.partition_id}'"
        if config.many:
            build = partial(batch_event, events, partition, config.shape, details)
            await self._invoke(build, f"{where}, sequence numbers {details['SequenceNumber']}")
            return
        for event in events:
            build = partial(single_event, event, partition, config.shape, details)
            await self._invoke(build, f"{where}, sequence number {event.sequence_number}")

    async def _invoke(self, build: Callable[[], TriggerEvent], events: str) -> None:
        """One invocation; whatever becomes of it, the batch is checkpointed all the same."""
        try:
            event = build()
        except Exception as exc:  # an event the binding cannot hand over: as a failed binding
            self._log_error("could not bind an event", exc)
            return
        try:
            await self._dispatch(event)
        except Exception:  # the worker logged the failure; this line says what becomes of it
            log.warning(
                "Function '%s' failed for the events of %s; they are checkpointed past all the "
                "same (Event Hubs has no poison queue: the function must keep what it cannot "
                "process, as with the Functions host).",
                self.config.function_name,
                events,
                extra={"category": CATEGORY},
            )

    async def _checkpoint(self, context: PartitionContext, event: Any) -> None:
        """Checkpoint in a task stop() waits for: a cancelled caller never cuts it short."""
        task = asyncio.get_running_loop().create_task(self._write_checkpoint(context, event))
        self._work.checkpoints.add(task)
        task.add_done_callback(self._work.checkpoints.discard)
        await asyncio.shield(task)

    async def _write_checkpoint(self, context: PartitionContext, event: Any) -> None:
        try:
            await context.update_checkpoint(event)
        except Exception as exc:
            self._log_error(
                f"could not checkpoint partition '{context.partition_id}' "
                f"(sequence number {event.sequence_number})",
                exc,
            )

    # --- the SDK's callbacks and log lines ----------------------------------------------------

    async def _on_error(self, context: PartitionContext | None, error: Exception) -> None:
        partition = getattr(context, "partition_id", None)
        what = "processing error" if partition is None else f"partition '{partition}'"
        self._log_error(f"{what} (the SDK retries)", error, logging.WARNING)

    async def _on_close(self, context: PartitionContext, reason: Any) -> None:
        self._partitions.pop(context.partition_id, None)
        log.debug(
            "Function '%s': stopped reading partition '%s' (%s)",
            self.config.function_name,
            context.partition_id,
            getattr(reason, "name", reason),
            extra={"category": CATEGORY},
        )

    def _cancelling(self, count: int) -> None:
        log.warning(
            "Function '%s': %d batch(es) still running at the stop deadline are cancelled and "
            "not checkpointed; their events will be read again.",
            self.config.function_name,
            count,
            extra={"category": CATEGORY},
        )

    def _log_error(self, what: str, exc: BaseException, level: int = logging.ERROR) -> None:
        log.log(
            level,
            "Function '%s' %s on %s: %s: %s",
            self.config.function_name,
            what,
            self.config.connection.where,
            type(exc).__name__,
            first_line(exc),
            extra={"category": CATEGORY},
        )
