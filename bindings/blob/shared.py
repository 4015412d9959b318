"""What every blob-triggered function of one host shares: the scan and the trigger queue.

The WebJobs blob extension keeps one SharedBlobListener (the scan, a host singleton) and one
SharedBlobQueueListener (the queue, on every instance) per host, whatever the number of blob
functions; each function only registers with them. Here they live in ``SharedBlobHost``, one
per host id and host storage, started with the first blob function's listener and stopped
with the last.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from funchost.bindings.blob.config import BlobsOptions
from funchost.bindings.blob.paths import BlobPath, is_path_style
from funchost.bindings.blob.queue import (
    POISON_QUEUE,
    QUEUE_PREFIX,
    BlobQueueListener,
    QueueOptions,
    Registration,
)
from funchost.bindings.blob.receipts import HOSTS_CONTAINER, ScanInfoStore
from funchost.bindings.blob.scan import BlobScanner, Handover
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.singleton import BlobListenerLock, SingletonOptions
from funchost.bindings.shared.storage import blob_service_client, queue_service_client
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.queue.aio import QueueClient

LOCK_SCOPE = "WebJobs.Internal.Blobs"  # BlobListenerFactory.SingletonBlobListenerScopeId
DEV_SCAN_INTERVAL = 2.0  # ScanContainersStrategy, for Azurite
SCAN_INTERVAL = 10.0  # ScanBlobScanLogHybridPollingStrategy.PollingInterval


class SharedBlobHost:
    """The scan (if any function scans) and the trigger queue of one host."""

    def __init__(
        self, host_id: str, host: Connection, options: BlobsOptions, singleton: SingletonOptions
    ) -> None:
        self.host_id = host_id
        self.host = host
        self.options = options
        self._singleton = singleton
        service = blob_service_client(host)
        self.path_style = is_path_style(service.url, service.account_name or "")
        queue = queue_service_client(host).get_queue_client(QUEUE_PREFIX + host_id)
        queue_options = QueueOptions(
            options.max_degree_of_parallelism,
            options.poison_blob_threshold,
            options.max_polling_interval,
            options.message_visibility,
        )
        self.queue = BlobQueueListener(
            queue, self._poison_queue, queue_options, self._blob_changed, _blob_properties
        )
        self.scanner: BlobScanner | None = None
        self._users = 0

    def register(self, registration: Registration) -> None:
        """A function whose messages this host's queue listener runs."""
        self.queue.register(registration)

    def watch(self, data: Connection, container: str, handover: Handover) -> None:
        """A function that finds its blobs by scanning the container."""
        self._scanner().register(data, container, handover)

    def _scanner(self) -> BlobScanner:
        if self.scanner is None:
            hosts = blob_service_client(self.host).get_container_client(HOSTS_CONTAINER)
            lock_id = f"{self.host_id}/{LOCK_SCOPE}.Listener"
            lock = BlobListenerLock(hosts, f"locks/{lock_id}", lock_id, self._singleton)
            scan_info = None if self.path_style else ScanInfoStore(hosts, self.host_id)
            default = DEV_SCAN_INTERVAL if self.path_style else SCAN_INTERVAL
            self.scanner = BlobScanner(lock, scan_info, self.options.scan_interval or default)
        return self.scanner

    async def start(self) -> None:
        """Start the shared listeners with the first function's listener."""
        self._users += 1
        if self._users == 1:
            self.queue.start()
            if self.scanner is not None:
                self.scanner.start()

    async def stop(self, deadline: float) -> None:
        """Stop them with the last one: first the scan, then the queue, both by deadline."""
        self._users -= 1
        if self._users > 0:
            return
        _shared.pop((self.host_id, _key(self.host)), None)
        if self.scanner is not None:
            await self.scanner.stop(deadline)
        await self.queue.stop(deadline)

    def _poison_queue(self, registration: Registration | None) -> QueueClient:
        """The poison queue in the blob's account, else in host storage (as the host)."""
        if registration is not None:
            with contextlib.suppress(BindingError):  # a blob-only identity connection
                return queue_service_client(registration.data).get_queue_client(POISON_QUEUE)
        return queue_service_client(self.host).get_queue_client(POISON_QUEUE)

    def _blob_changed(self, registration: Registration, path: BlobPath) -> None:
        if self.scanner is not None:
            self.scanner.notify(registration.data, path)


async def _blob_properties(registration: Registration, path: BlobPath) -> BlobProperties | None:
    from azure.core.exceptions import ResourceNotFoundError

    client = blob_service_client(registration.data).get_blob_client(path.container, path.name)
    try:
        return await client.get_blob_properties()
    except ResourceNotFoundError:
        return None


_shared: dict[tuple[str, str], SharedBlobHost] = {}


def shared_host(
    host_id: str, host: Connection, options: BlobsOptions, singleton: SingletonOptions
) -> SharedBlobHost:
    """The host's shared blob listeners, created by its first blob function."""
    key = (host_id, _key(host))
    found = _shared.get(key)
    if found is None:
        found = _shared[key] = SharedBlobHost(host_id, host, options, singleton)
    return found


def notify_written(data: Connection, path: BlobPath) -> None:
    """A function wrote a blob: scans watching its container look at it at once."""
    for host in _shared.values():
        if host.scanner is not None:
            host.scanner.notify(data, path)


def _key(connection: Connection) -> str:
    return connection.connection_string or repr(sorted(connection.identity.items()))
