"""Blob receipts and scan info, kept where the Functions host keeps them.

Receipts (BlobReceiptManager in the WebJobs blob extension) are empty blobs in the
``azure-webjobs-hosts`` container of the account the trigger watches:
``blobreceipts/<hostId>/<functionId>/<etag>/<container>/<blob>`` (the ETag, quotes included,
comes before the blob name because a blob name may hold slashes). A receipt is created with
the metadata ``Incomplete``, leased for 30 s while the blob's message is queued, then marked
complete by removing that metadata. A completed receipt means "this version of this blob was
handed to this function": it is never handed over again, by this process, after a restart, or
by another host on the same storage.

Scan info (StorageBlobScanInfoManager) is the newest last-modified time a full scan of a
container saw, in host storage: ``blobscaninfo/<hostId>/<account>/<container>/scanInfo``, as
``{"LatestScan":"<ISO time>"}``. The host keeps it only for real accounts, not for Azurite.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient, BlobLeaseClient, ContainerClient

HOSTS_CONTAINER = "azure-webjobs-hosts"
RECEIPTS_DIR = "blobreceipts"
SCAN_INFO_DIR = "blobscaninfo"
INCOMPLETE = "Incomplete"  # the key is also the value: its presence is what matters
LEASE_PERIOD = 30  # seconds, BlobReceiptManager.LeasePeriod


def receipt_name(host_id: str, function_id: str, etag: str, container: str, blob: str) -> str:
    """CreateReference: the receipt blob's name inside ``azure-webjobs-hosts``."""
    return f"{RECEIPTS_DIR}/{host_id}/{function_id}/{etag}/{container}/{blob}"


class ReceiptManager:
    """Reads, creates, leases and completes receipts in one account's host container."""

    def __init__(self, hosts: ContainerClient) -> None:
        self._hosts = hosts

    def blob(self, name: str) -> BlobClient:
        """The client of one receipt."""
        return self._hosts.get_blob_client(name)

    async def is_completed(self, receipt: BlobClient) -> bool | None:
        """TryReadAsync: None when there is no receipt, else whether it is complete."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            properties = await receipt.get_blob_properties()
        except ResourceNotFoundError:
            return None
        # Metadata names are case-insensitive in Azure Storage.
        return all(key.lower() != INCOMPLETE.lower() for key in properties.metadata or {})

    async def try_create(self, receipt: BlobClient) -> bool:
        """An incomplete receipt, if none exists yet; False when another host just made one."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return await self._create(receipt)
        except ResourceNotFoundError:  # the host container does not exist yet
            with contextlib.suppress(Exception):
                await self._hosts.create_container()
        return await self._create(receipt)

    async def _create(self, receipt: BlobClient) -> bool:
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        try:
            # overwrite=False sends If-None-Match: *, as the host's upload does.
            await receipt.upload_blob(b"", overwrite=False, metadata={INCOMPLETE: INCOMPLETE})
        except ResourceExistsError:
            return False
        except HttpResponseError as exc:
            if exc.status_code == 412:  # leased by another host while it completes it
                return False
            raise
        return True

    async def try_lease(self, receipt: BlobClient) -> BlobLeaseClient | None:
        """A 30 s lease, or None when another host holds one or the receipt is gone."""
        from azure.core.exceptions import HttpResponseError

        try:
            return await receipt.acquire_lease(lease_duration=LEASE_PERIOD)
        except HttpResponseError as exc:
            if exc.status_code in (404, 409):
                return None
            raise

    async def mark_completed(self, receipt: BlobClient, lease: BlobLeaseClient) -> None:
        """Drop the Incomplete metadata under the lease; a lost lease or receipt is ignored."""
        from azure.core.exceptions import HttpResponseError

        properties = await receipt.get_blob_properties()
        metadata = {
            key: value
            for key, value in (properties.metadata or {}).items()
            if key.lower() != INCOMPLETE.lower()
        }
        try:
            await receipt.set_blob_metadata(metadata, lease=lease)
        except HttpResponseError as exc:
            if exc.status_code not in (404, 412):
                raise

    async def release(self, lease: BlobLeaseClient) -> None:
        """Release the lease; already expired, taken or deleted is nothing to release."""
        from azure.core.exceptions import HttpResponseError

        try:
            await lease.release()
        except HttpResponseError as exc:
            if exc.status_code not in (404, 409, 412):
                raise


class ScanInfoStore:
    """The newest last-modified time seen per container, in the host's storage."""

    def __init__(self, hosts: ContainerClient, host_id: str) -> None:
        self._hosts = hosts
        self._host_id = host_id

    def _blob(self, account: str, container: str) -> BlobClient:
        name = f"{SCAN_INFO_DIR}/{self._host_id}/{account}/{container}/scanInfo"
        return self._hosts.get_blob_client(name)

    async def load(self, account: str, container: str) -> datetime | None:
        """LoadLatestScanAsync: None when nothing was stored (or it cannot be read)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            stream = await self._blob(account, container).download_blob()
            text = (await stream.readall()).decode("utf-8-sig")
        except ResourceNotFoundError:
            return None
        try:
            return parse_iso(str(json.loads(text)["LatestScan"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def update(self, account: str, container: str, latest: datetime) -> None:
        """UpdateLatestScanAsync: best effort, as in the host."""
        from azure.core.exceptions import ResourceNotFoundError

        text = json.dumps({"LatestScan": iso(latest)}, separators=(",", ":")).encode()
        blob = self._blob(account, container)
        with contextlib.suppress(Exception):
            try:
                await blob.upload_blob(text, overwrite=True)
            except ResourceNotFoundError:  # no host container yet (the lock usually made it)
                await self._hosts.create_container()
                await blob.upload_blob(text, overwrite=True)


def iso(moment: datetime) -> str:
    """Json.NET's ISO form of a DateTimeOffset: fraction without trailing zeros, '+00:00'."""
    moment = moment.astimezone(timezone.utc)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}+00:00"


def parse_iso(text: str) -> datetime:
    """An ISO time with up to seven fraction digits (.NET), as an aware UTC datetime."""
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
