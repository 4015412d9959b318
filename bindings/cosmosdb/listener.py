"""Cosmos DB trigger listener: the Change Feed Processor's rules over the async SDK.

As the extension runs ``GetChangeFeedProcessorBuilder`` for a function:

- a lease per partition key range in the lease container (leases.py); every
  ``leaseAcquireInterval`` the host renews the leases it holds and takes free or expired ones
  up to its fair share (leases / hosts, rounded up), taking one from a host that holds more
  than its share when none is free; several hosts on one lease container share the ranges;
- each held range is read by its own task: a page of at most ``maxItemsPerInvocation``
  changes is one invocation; after a page the next is read at once, after an empty read the
  task waits ``feedPollDelay``; after a full page the next is read while the batch's function
  runs (the processor reads one after the other; a read overlapping the function is what
  keeps a backlog moving at the pace of the reads);
- the lease's continuation is written only after the batch's function finished, success or
  failure alike (retry policies run inside the dispatch; the function owns its poison
  handling), so a crash replays at most the batch that was running;
- ``stop(deadline)``: no new page is read; batches in flight get until the deadline and are
  then cancelled and not checkpointed; the leases are released so another host takes them
  at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import socket
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from azure.functions.meta import Datum

from funchost.bindings.base import Description, Dispatch, TriggerEvent
from funchost.bindings.cosmosdb.client import CosmosConnection, cosmos_client
from funchost.bindings.cosmosdb.config import MAX_ITEMS_DEFAULT, TriggerConfig
from funchost.bindings.cosmosdb.feed import FeedRange, Page, StartFrom, read_page
from funchost.bindings.cosmosdb.leases import Lease, LeaseLost, LeaseStore
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.failures import first_line
from funchost.bindings.shared.outage import Outage

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy, CosmosClient

log = logging.getLogger("funchost.cosmosdb")
CATEGORY = "Host.Triggers.CosmosDB"
RESTART_DELAY = 5.0  # after the listener could not reach its containers
RELEASE_TIMEOUT = 5.0  # giving the leases back at stop: the next host waits for expiry else


@dataclass(frozen=True)
class TriggerSetup:
    """Everything the listener needs, checked when the function is loaded."""

    function_name: str
    config: TriggerConfig
    monitored: CosmosConnection
    leases: CosmosConnection


@dataclass
class _Work:
    """The listener's tasks: range readers, batches in flight, checkpoints being written."""

    readers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    owned: dict[str, Lease] = field(default_factory=dict)
    batches: set[asyncio.Future[Any]] = field(default_factory=set)
    checkpoints: set[asyncio.Task[None]] = field(default_factory=set)


class CosmosDBTriggerListener:
    """Reads one container's change feed for one function, sharing ranges through leases."""

    def __init__(self, setup: TriggerSetup, dispatch: Dispatch, owner: str | None = None) -> None:
        self.setup = setup
        self.config = setup.config
        self._dispatch = dispatch
        self.owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:12]}"
        self._start = StartFrom(setup.config.start_from_beginning, setup.config.start_from_time)
        self._work = _Work()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._store: LeaseStore | None = None
        self._container_rid = ""
        # Every range reader and the balancing share one account: one warning per outage.
        self._outage = Outage(log, RESTART_DELAY / 5, RESTART_DELAY, CATEGORY)

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("cosmosDBTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now with the payload as the changed documents (a JSON array or one object)."""
        return TriggerEvent(data=Datum(_documents_json(payload), "json"))

    async def start(self) -> None:
        """Build the clients now, read in the background: the account may still be coming up.

        Importing and building the SDK's clients is start-up work: done here, the host is
        ready to read the feed when it says it has started.
        """
        with contextlib.suppress(Exception):  # the background task builds, logs and retries
            self._client(self.setup.monitored)
            self._client(self.setup.leases)
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop reading; batches in flight finish by the deadline or are cancelled (and not
        checkpointed); checkpoints being written finish; the leases are given back."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        await finish_by(set(self._work.batches), deadline, self._cancelling)
        while self._work.checkpoints:
            await asyncio.gather(*self._work.checkpoints, return_exceptions=True)
        readers = list(self._work.readers.values())
        for task in [*readers, *([self._task] if self._task else [])]:
            task.cancel()
        await asyncio.gather(
            *readers, *([self._task] if self._task else []), return_exceptions=True
        )
        self._task = None
        await self._release_all()

    # --- preparing and balancing -----------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                store = await self._prepare()
                await self._balance_forever(store)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._outage.failed(self._where("could not read the change feed"), exc)
                await self._sleep(RESTART_DELAY)

    def _client(self, connection: CosmosConnection) -> CosmosClient:
        return cosmos_client(connection, self.config.preferred_locations)

    def _monitored(self) -> ContainerProxy:
        database = self._client(self.setup.monitored).get_database_client(self.config.database)
        return database.get_container_client(self.config.container)

    async def _prepare(self) -> LeaseStore:
        """Check both containers (creating the leases' when asked), then a lease per range."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        config = self.config
        try:
            leases = await self._lease_container()
            monitored = self._monitored()
            database = self._client(self.setup.monitored).get_database_client(config.database)
            container, database_doc, _ = await _side_by_side(
                monitored.read(), database.read(), leases.read()
            )
        except CosmosResourceNotFoundError:
            raise RuntimeError(self._missing()) from None
        host = urlsplit(self.setup.monitored.endpoint).hostname or ""
        prefix = f"{config.lease_prefix}{host}_{database_doc['_rid']}_{container['_rid']}"
        store = LeaseStore(leases, prefix, self.owner, config.lease_expiration_interval)
        self._store = store
        self._container_rid = str(container["_rid"])
        ranges = monitored.client_connection._ReadPartitionKeyRanges(monitored.container_link)
        await store.initialize([pk_range async for pk_range in ranges])
        return store

    async def _lease_container(self) -> ContainerProxy:
        from azure.cosmos import PartitionKey

        config = self.config
        client = self._client(self.setup.leases)
        if not config.create_lease_container:
            return client.get_database_client(config.lease_database).get_container_client(
                config.lease_container
            )
        database = await client.create_database_if_not_exists(config.lease_database)
        return await database.create_container_if_not_exists(
            config.lease_container,
            PartitionKey("/id"),  # the lease container's required partition key
            default_ttl=-1,  # so the processor's initialization lock can expire
            offer_throughput=config.lease_throughput or None,
        )

    def _missing(self) -> str:
        config = self.config
        return (
            f"either the monitored container '{config.container}' (in database "
            f"'{config.database}') or the lease container '{config.lease_container}' (in "
            f"database '{config.lease_database}') does not exist; both must exist before the "
            "listener starts: set create_lease_container_if_not_exists=True to create the "
            "lease container"
        )

    async def _balance_forever(self, store: LeaseStore) -> None:
        config = self.config
        tick = min(config.lease_acquire_interval, config.lease_renew_interval)
        while not self._stopping:
            await self._renew(store)
            await self._acquire(store)
            await self._sleep(tick)

    async def _renew(self, store: LeaseStore) -> None:
        for token, lease in list(self._work.owned.items()):
            try:
                await store.renew(lease)
            except LeaseLost:
                self._lost(token)

    async def _acquire(self, store: LeaseStore) -> None:
        """Free or expired leases up to this host's share; else one from the busiest host."""
        leases = await store.all()
        live = {lease.owner for lease in leases if not store.expired(lease)}
        target = math.ceil(len(leases) / len(live | {store.owner}))
        wanted = target - len(self._work.owned)
        free = [
            lease
            for lease in leases
            if store.expired(lease) and lease.token not in self._work.owned
        ]
        if wanted > 0 and not free:
            free = _one_to_steal(leases, store, target)
        for lease in free[: max(0, wanted)]:
            if await store.acquire(lease):
                self._take(store, lease)

    def _take(self, store: LeaseStore, lease: Lease) -> None:
        log.info(
            "Function '%s' took lease '%s' of container '%s'",
            self.setup.function_name,
            lease.token,
            self.config.container,
            extra={"category": CATEGORY},
        )
        self._work.owned[lease.token] = lease
        task = asyncio.get_running_loop().create_task(self._read_range(store, lease))
        self._work.readers[lease.token] = task

    def _lost(self, token: str) -> None:
        """Another host has it: its reader ends after the batch it may be running."""
        self._work.owned.pop(token, None)
        log.info(
            "Function '%s' lost lease '%s' of container '%s' to another host",
            self.setup.function_name,
            token,
            self.config.container,
            extra={"category": CATEGORY},
        )

    # --- reading one range -----------------------------------------------------------------

    async def _read_range(self, store: LeaseStore, lease: Lease) -> None:
        monitored = self._monitored()
        continuation = lease.continuation
        ahead: asyncio.Task[Page | None] | None = None
        try:
            while self._holds(lease):
                page = await self._next_page(monitored, lease, continuation, ahead)
                ahead = None
                if page is None or not page.items:
                    continuation = page.continuation if page and page.continuation else continuation
                    await self._sleep(self.config.feed_poll_delay)
                    continue
                ahead = self._read_ahead(monitored, lease, page)
                if not await self._run_batch(page.items) or page.continuation is None:
                    return  # cut short at the deadline: not checkpointed, read again later
                await self._checkpoint(store, lease, page.continuation)
                continuation = page.continuation
        finally:
            if ahead is not None:  # stopped or lost: the page read ahead is dropped
                ahead.cancel()
                ahead.add_done_callback(_retrieved)
            self._work.readers.pop(lease.token, None)

    def _read_ahead(
        self, monitored: ContainerProxy, lease: Lease, page: Page
    ) -> asyncio.Task[Page | None] | None:
        """After a full page more changes are waiting: read the next page while this batch's
        function runs (it is dispatched only after this batch's checkpoint). After a partial
        page the reader has caught up and reads again once the batch is done, as before."""
        full = len(page.items) >= (self.config.max_items or MAX_ITEMS_DEFAULT)
        if page.continuation is None or not full:
            return None
        read = self._read(monitored, lease, page.continuation)
        return asyncio.get_running_loop().create_task(read)

    async def _next_page(
        self,
        monitored: ContainerProxy,
        lease: Lease,
        continuation: str | None,
        ahead: asyncio.Task[Page | None] | None,
    ) -> Page | None:
        """The page read ahead when it has changes; else a read now: changes may have come
        while the last batch ran, and only an empty read after it makes the reader wait."""
        if ahead is not None:
            page = await ahead
            if page is not None and page.items:
                return page
        return await self._read(monitored, lease, continuation)

    def _holds(self, lease: Lease) -> bool:
        return not self._stopping and self._work.owned.get(lease.token) is lease

    async def _read(
        self, monitored: ContainerProxy, lease: Lease, continuation: str | None
    ) -> Page | None:
        from azure.core.exceptions import AzureError

        feed_range = FeedRange(self._container_rid, *lease.bounds)
        try:
            page = await read_page(
                monitored, feed_range, continuation, self._start, self.config.max_items
            )
        except AzureError as exc:  # the service's answer or no answer: read again after a pause
            what = self._where(f"could not read range '{lease.token}'")
            await self._sleep(self._outage.failed(what, exc))
            return None
        self._outage.succeeded(self._where("reads the change feed"))
        return page

    async def _run_batch(self, items: list[dict[str, Any]]) -> bool:
        """One invocation in a task of the listener's; False when it was cancelled."""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = TriggerEvent(
            data=Datum(json.dumps(items), "json"),
            # CosmosDBTriggerConstants.TriggerDescription
            reason=f"New changes on container {self.config.container} at {stamp}",
        )
        task: asyncio.Future[Any] = asyncio.ensure_future(self._dispatch(event))
        self._work.batches.add(task)
        task.add_done_callback(self._work.batches.discard)
        with contextlib.suppress(Exception):  # a failure is the worker's to log
            await asyncio.shield(task)
        return not task.cancelled()

    async def _checkpoint(self, store: LeaseStore, lease: Lease, continuation: str) -> None:
        """In a task stop() waits for: a cancelled reader never cuts a checkpoint short."""
        task = asyncio.get_running_loop().create_task(self._write(store, lease, continuation))
        self._work.checkpoints.add(task)
        task.add_done_callback(self._work.checkpoints.discard)
        await asyncio.shield(task)

    async def _write(self, store: LeaseStore, lease: Lease, continuation: str) -> None:
        try:
            await store.checkpoint(lease, continuation)
        except LeaseLost:
            self._lost(lease.token)
        except Exception as exc:
            self._log_error(f"could not checkpoint lease '{lease.token}'", exc)

    # --- stopping, waiting, log lines ---------------------------------------------------------

    async def _release_all(self) -> None:
        leases = list(self._work.owned.values())
        self._work.owned.clear()
        if self._store is None:
            return
        for lease in leases:
            with contextlib.suppress(Exception):  # not released: it expires instead
                await asyncio.wait_for(self._store.release(lease), RELEASE_TIMEOUT)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when stop() is called."""
        if self._wake is None or self._stopping:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _cancelling(self, count: int) -> None:
        log.warning(
            "Function '%s': %d batch(es) still running at the stop deadline are cancelled and "
            "not checkpointed; their changes will be read again.",
            self.setup.function_name,
            count,
            extra={"category": CATEGORY},
        )

    def _where(self, what: str) -> str:
        """``what`` the function did, with the container, database and account."""
        return (
            f"Function '{self.setup.function_name}' {what} on container '{self.config.container}'"
            f" (database '{self.config.database}') in {self.setup.monitored.where}"
        )

    def _log_error(self, what: str, exc: BaseException) -> None:
        log.error(
            "%s: %s: %s",
            self._where(what),
            type(exc).__name__,
            first_line(exc),
            extra={"category": CATEGORY},
        )


async def _side_by_side(*reads: Awaitable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Independent reads in one round trip; the first failure is raised once all ended."""
    results = await asyncio.gather(*reads, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[dict[str, Any]], results)


def _retrieved(task: asyncio.Task[Page | None]) -> None:
    """A dropped read's failure is of no use: take it, so asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()


def _one_to_steal(leases: list[Lease], store: LeaseStore, target: int) -> list[Lease]:
    """A lease of the host holding the most, when it holds more than its share."""
    counts: dict[str, list[Lease]] = {}
    for lease in leases:
        if lease.owner and lease.owner != store.owner and not store.expired(lease):
            counts.setdefault(lease.owner, []).append(lease)
    busiest = max(counts.values(), key=len, default=[])
    return busiest[:1] if len(busiest) > target else []


def _documents_json(payload: str) -> str:
    """The admin API's input as a JSON array of documents."""
    try:
        parsed = json.loads(payload)
    except ValueError:
        return json.dumps([payload])
    return json.dumps(parsed if isinstance(parsed, list) else [parsed])
