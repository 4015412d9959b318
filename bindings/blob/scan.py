"""Finding new and changed blobs: the container scan, run by one host instance at a time.

As the WebJobs blob extension's SharedBlobListener (one per host, behind the listener lock
``locks/<hostId>/WebJobs.Internal.Blobs.Listener``) with ScanBlobScanLogHybridPollingStrategy:
each poll lists a page of every watched container (a budget of 10,000 blobs per poll, shared
between containers, continuing from the page token), and every blob modified at or after the
newest time the previous full pass saw is handed to each function registered for the
container. Equal times are handed over again because blob times have whole seconds; the
receipts make that harmless. After a full pass, real accounts keep that newest time minus
1 ms in host storage (scan info), so a restart does not start from the beginning; Azurite
(a path-style account) starts over, as the host's ScanContainersStrategy does.

Handing a blob to a function (BlobTriggerExecutor): skip it when its path does not match the
function's pattern, when it is gone, or when its completed receipt exists; otherwise create an
incomplete receipt, lease it, queue the blob's message and complete the receipt. A handover
that fails (another instance holds the receipt's lease) is tried again on the next poll.
The Functions host also reads Storage Analytics logs; Azurite has none, and funchost does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol

from funchost.bindings.blob.paths import BlobPath, BlobPattern
from funchost.bindings.blob.queue import CATEGORY, BlobTriggerMessage
from funchost.bindings.blob.receipts import ReceiptManager, ScanInfoStore, iso, receipt_name
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.outage import Outage
from funchost.bindings.shared.singleton import ListenerLock
from funchost.bindings.shared.storage import blob_service_client

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties

log = logging.getLogger("funchost.blob")
SCAN_BUDGET = 10_000  # blobs listed per poll, across containers
MIN_TIME = datetime.min.replace(tzinfo=timezone.utc)
ERROR_RETRY = 5.0  # seconds after the lock or a scan failed


class Handover(Protocol):
    """One function's BlobTriggerExecutor."""

    async def execute(self, path: BlobPath, poll_id: str | None) -> bool:
        """Hand the blob to the function; False to try again on the next poll."""
        ...


@dataclass(eq=False)
class _Container:
    """ContainerScanInfo: one watched container and the functions registered for it."""

    data: Connection
    name: str
    handovers: list[Handover] = field(default_factory=list)
    last_sweep: datetime = MIN_TIME  # newest time the last full pass saw
    current_sweep: datetime = MIN_TIME  # newest time of the pass in progress
    continuation: str | None = None
    loaded: bool = False


class BlobScanner:
    """Scans the watched containers while this instance holds the host's blob listener lock."""

    def __init__(
        self, lock: ListenerLock, scan_info: ScanInfoStore | None, interval: float
    ) -> None:
        self._lock = lock
        self._scan_info = scan_info  # None: Azurite, nothing is kept
        self.interval = interval
        self._containers: dict[tuple[str, str], _Container] = {}
        self._pending: list[tuple[_Container, BlobPath, str | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._handover: asyncio.Future[bool] | None = None
        self._wake = asyncio.Event()
        self._scanning = False  # while this instance holds the lock

    def register(self, data: Connection, container: str, handover: Handover) -> None:
        """Watch the container for this function (before start)."""
        key = (_connection_key(data), container.lower())
        entry = self._containers.setdefault(key, _Container(data, container))
        entry.handovers.append(handover)

    def notify(self, data: Connection, path: BlobPath) -> None:
        """A blob written or changed: look at it on the next poll, whatever its time."""
        entry = self._containers.get((_connection_key(data), path.container.lower()))
        # Only while this instance scans: another one's scan finds the blob anyway.
        if entry is not None and self._scanning:
            if all(e is not entry or p != path for e, p, _ in self._pending):
                self._pending.append((entry, path, None))
            self._wake.set()

    def start(self) -> None:
        """Start in the background: waiting for the lock must not hold the host up."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop scanning, let a handover in progress finish by deadline, release the lock."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._handover is not None:
            await finish_by([self._handover], deadline)
        with contextlib.suppress(Exception):
            await self._lock.release()

    # --- the lock ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._acquire()
            self._scanning = True
            scan = asyncio.get_running_loop().create_task(self._scan_forever())
            keeper = asyncio.get_running_loop().create_task(self._lock.keep())
            try:
                await asyncio.wait({scan, keeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._scanning = False
                for task in (scan, keeper):
                    task.cancel()
                await asyncio.gather(scan, keeper, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._lock.release()

    async def _acquire(self) -> None:
        announced = False
        while True:
            try:
                if await self._lock.try_acquire():
                    _debug("Singleton lock acquired (%s)", self._lock.lock_id)
                    return
            except Exception as exc:
                _error("The blob scan could not take its lock (%s): %s", self._lock.lock_id, exc)
                await asyncio.sleep(max(self._lock.poll_interval, ERROR_RETRY))
                continue
            if not announced:
                announced = True
                _debug(
                    "Unable to acquire Singleton lock (%s): another host instance scans for "
                    "blobs; this one runs the functions of the blobs it finds.",
                    self._lock.lock_id,
                )
            await asyncio.sleep(self._lock.poll_interval)

    # --- polling ----------------------------------------------------------------------

    async def _scan_forever(self) -> None:
        # One warning for an outage of the storage, not one per poll while it lasts.
        outage = Outage(log, self.interval, max(self.interval, ERROR_RETRY), CATEGORY)
        while True:
            try:
                await self._poll()
                outage.succeeded("The blob scan works")
                wait = self.interval
            except Exception as exc:
                wait = outage.failed("The blob scan failed", exc)
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _poll(self) -> None:
        """ExecuteInternalAsync: blobs notified or failed before, then a page per container."""
        pending, self._pending = self._pending, []
        failed: list[tuple[_Container, BlobPath, str | None]] = []
        for entry, path, poll_id in pending:
            await self._hand_over(entry, path, poll_id, failed)
        for entry in self._containers.values():
            await self._poll_container(entry, failed)
        self._pending.extend(failed)

    async def _poll_container(
        self, entry: _Container, failed: list[tuple[_Container, BlobPath, str | None]]
    ) -> None:
        await self._load(entry)
        last = entry.last_sweep
        poll_id = str(uuid.uuid4())
        found = await self._list_new(entry, poll_id)
        for name, _ in found:
            await self._hand_over(entry, BlobPath(entry.name, name), poll_id, failed)
        if self._scan_info is not None and entry.last_sweep > last:
            mine = {path.name for e, path, _ in failed if e is entry}
            times = [modified for name, modified in found if name in mine]
            latest = min(times) if times else entry.last_sweep
            account = blob_service_client(entry.data).account_name or ""
            await self._scan_info.update(account, entry.name, latest - timedelta(milliseconds=1))

    async def _load(self, entry: _Container) -> None:
        if entry.loaded:
            return
        if self._scan_info is not None:
            account = blob_service_client(entry.data).account_name or ""
            stored = await self._scan_info.load(account, entry.name)
            entry.last_sweep = stored or MIN_TIME
        entry.loaded = True
        _debug(
            "Initialized scan info for container '%s'. Scan will start with blobs inserted or "
            "updated after '%s'.",
            entry.name,
            iso(entry.last_sweep) if entry.last_sweep > MIN_TIME else "0001-01-01T00:00:00",
        )

    async def _list_new(self, entry: _Container, poll_id: str) -> list[tuple[str, datetime]]:
        """PollNewBlobsAsync: one page; blobs modified at or after the last full pass."""
        from azure.core.exceptions import ResourceNotFoundError

        if entry.continuation is None:
            entry.current_sweep = MIN_TIME
        started = time.perf_counter()
        container = blob_service_client(entry.data).get_container_client(entry.name)
        page_size = max(1, SCAN_BUDGET // len(self._containers))
        pages = container.list_blobs(results_per_page=page_size).by_page(entry.continuation)
        try:
            items = [item async for item in await pages.__anext__()]
        except StopAsyncIteration:
            return []
        except ResourceNotFoundError:
            _debug("Container '%s' does not exist.", entry.name)
            return []
        found = [(item.name, item.last_modified) for item in items if item.last_modified]
        for _, modified in found:
            entry.current_sweep = max(entry.current_sweep, modified)
        new = [(name, modified) for name, modified in found if modified >= entry.last_sweep]
        # The page iterator carries the token (AsyncPageIterator; typed as AsyncIterator).
        entry.continuation = getattr(pages, "continuation_token", None) or None
        _debug(
            "Poll for blobs newer than '%s' in container '%s' with ClientRequestId '%s' found "
            "%d blobs in %d ms. ContinuationToken: %s.",
            iso(entry.last_sweep) if entry.last_sweep > MIN_TIME else "0001-01-01T00:00:00",
            entry.name,
            poll_id,
            len(new),
            round((time.perf_counter() - started) * 1000),
            entry.continuation is not None,
        )
        if entry.continuation is None and entry.current_sweep > entry.last_sweep:
            entry.last_sweep = entry.current_sweep
        return new

    async def _hand_over(
        self,
        entry: _Container,
        path: BlobPath,
        poll_id: str | None,
        failed: list[tuple[_Container, BlobPath, str | None]],
    ) -> None:
        for handover in entry.handovers:
            # Shielded: a receipt left incomplete after its message was queued would queue
            # the blob twice.
            self._handover = asyncio.ensure_future(_safely(handover, path, poll_id))
            if not await asyncio.shield(self._handover):
                failed.append((entry, path, poll_id))


async def _safely(handover: Handover, path: BlobPath, poll_id: str | None) -> bool:
    try:
        return await handover.execute(path, poll_id)
    except Exception as exc:
        _error("Handing blob '%s' to its function failed: %s; trying again.", path, exc)
        return False


Enqueue = Callable[[BlobTriggerMessage], Awaitable[str]]


class ReceiptHandover:
    """BlobTriggerExecutor: receipt, lease, queue message, completed receipt."""

    def __init__(
        self,
        host_id: str,
        function_id: str,
        pattern: BlobPattern,
        data: Connection,
        receipts: ReceiptManager,
        enqueue: Enqueue,
    ) -> None:
        self._host_id = host_id
        self._function_id = function_id
        self._pattern = pattern
        self._data = data
        self._receipts = receipts
        self._enqueue = enqueue

    async def execute(self, path: BlobPath, poll_id: str | None) -> bool:
        """Queue the blob for the function once per version (ETag); False to try again."""
        if self._pattern.match(path) is None:
            self._skip("does not match the pattern '%s'", path, poll_id, self._pattern)
            return True
        properties = await self._properties(path)
        if properties is None or not properties.etag:
            self._skip("has no ETag (the blob may have been deleted)", path, poll_id)
            return True
        etag = str(properties.etag)
        name = receipt_name(self._host_id, self._function_id, etag, path.container, path.name)
        receipt = self._receipts.blob(name)
        completed = await self._receipts.is_completed(receipt)
        if completed:
            self._skip("was already processed (ETag '%s')", path, poll_id, etag)
            return True
        if completed is None and not await self._receipts.try_create(receipt):
            return False  # another instance made it just now: try again later
        lease = await self._receipts.try_lease(receipt)
        if lease is None:
            return False
        try:
            if await self._receipts.is_completed(receipt):
                self._skip("was already processed (ETag '%s')", path, poll_id, etag)
                return True
            blob_type = str(getattr(properties.blob_type, "value", properties.blob_type))
            message = BlobTriggerMessage(
                self._function_id, blob_type, path.container, path.name, etag
            )
            message_id = await self._enqueue(message)
            _debug(
                "Blob '%s' is ready for processing by function '%s'. A message with id '%s' has "
                "been added to the blob trigger queue. PollId: '%s'.",
                path.name,
                self._function_id,
                message_id,
                poll_id,
            )
            await self._receipts.mark_completed(receipt, lease)
            return True
        finally:
            await self._receipts.release(lease)

    async def _properties(self, path: BlobPath) -> BlobProperties | None:
        from azure.core.exceptions import ResourceNotFoundError

        blob = blob_service_client(self._data).get_blob_client(path.container, path.name)
        try:
            return await blob.get_blob_properties()
        except ResourceNotFoundError:
            return None

    def _skip(self, why: str, path: BlobPath, poll_id: str | None, *args: object) -> None:
        if log.isEnabledFor(logging.DEBUG):
            reason = why % args if args else why
            _debug(
                "Blob '%s' will be skipped for function '%s' because it %s. PollId: '%s'.",
                path.name,
                self._function_id,
                reason,
                poll_id,
            )


def _connection_key(data: Connection) -> str:
    return data.connection_string or repr(sorted(data.identity.items()))


def _debug(message: str, *args: object) -> None:
    log.debug(message, *args, extra={"category": CATEGORY})


def _error(message: str, *args: object) -> None:
    text = [str(a).splitlines()[0] if isinstance(a, BaseException) and str(a) else a for a in args]
    log.error(message, *text, extra={"category": CATEGORY})
