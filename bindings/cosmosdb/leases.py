"""Leases for the Cosmos DB trigger: one document per partition key range in the lease container.

The documents have the Change Feed Processor's shape (the .NET SDK's ``DocumentServiceLeaseCore``,
the leases the extension writes), so a lease container is readable by the same tools:

- ``id`` ``<leaseContainerPrefix><account host>_<database _rid>_<container _rid>..<range id>``;
  the lease container is partitioned by ``/id``;
- ``LeaseToken`` and ``PartitionId`` the range id, ``FeedRange`` ``{"Range": {"min", "max"}}``,
  ``version`` 0, ``Mode`` ``"Incremental feed"``, ``properties`` ``{}``;
- ``Owner`` the instance that holds it (null: free), ``timestamp`` when it was last acquired,
  renewed or checkpointed (UTC, ISO 8601): a lease not touched for ``leaseExpirationInterval``
  is free to take;
- ``ContinuationToken`` the change feed's etag after the last batch whose function finished
  (null: not started; the trigger's start options apply);
- ``<prefix>...info`` marks a store whose leases were all created.

Every update is conditional on the document's ``_etag``: two hosts never both own a lease, and
a host whose lease was taken finds out at its next renewal or checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

MODE = "Incremental feed"  # HttpConstants.A_IMHeaderValues.IncrementalFeed
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?")


@dataclass
class Lease:
    """One lease as last read or written by this host (its ``_etag`` guards the next update)."""

    doc: dict[str, Any]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False, repr=False)

    @property
    def token(self) -> str:
        """The partition key range id the lease covers."""
        return str(self.doc.get("LeaseToken") or self.doc.get("PartitionId") or "")

    @property
    def owner(self) -> str | None:
        """Who holds it, or None."""
        owner = self.doc.get("Owner")
        return str(owner) if owner else None

    @property
    def bounds(self) -> tuple[str, str]:
        """(min, max) effective partition keys of its range."""
        found = (self.doc.get("FeedRange") or {}).get("Range") or {}
        return str(found.get("min", "")), str(found.get("max", "FF"))

    @property
    def continuation(self) -> str | None:
        """The etag to read the change feed from, or None before the first checkpoint."""
        token = self.doc.get("ContinuationToken")
        return str(token) if token else None

    def touched(self) -> float:
        """When it was last acquired, renewed or checkpointed (epoch seconds)."""
        stamp = self.doc.get("timestamp")
        found = _STAMP.match(stamp) if isinstance(stamp, str) else None
        if found is None:
            return float(self.doc.get("_ts") or 0)
        whole = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S")
        # UTC, as every writer stores it; .NET writes seven digits of fraction.
        return whole.replace(tzinfo=timezone.utc).timestamp() + float(found.group(2) or 0)


class LeaseLost(Exception):
    """Another host took the lease, or it was deleted."""


class LeaseStore:
    """Reads and conditionally updates the leases of one monitored container."""

    def __init__(
        self,
        container: ContainerProxy,
        prefix: str,
        owner: str,
        expiration: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.container = container
        self.prefix = prefix  # up to and including the account and rids: ids add "..<range>"
        self.owner = owner
        self.expiration = expiration
        self.clock = clock

    async def initialize(self, ranges: list[dict[str, Any]]) -> None:
        """Create a lease per range that has none (another host may race: 409 is fine)."""
        from azure.cosmos.exceptions import CosmosResourceExistsError

        for item in [*map(self._new_lease, ranges), {"id": f"{self.prefix}.info"}]:
            with contextlib.suppress(CosmosResourceExistsError):
                await self.container.create_item(item)

    def _new_lease(self, pk_range: dict[str, Any]) -> dict[str, Any]:
        range_id = str(pk_range["id"])
        return {
            "id": f"{self.prefix}..{range_id}",
            "version": 0,
            "LeaseToken": range_id,
            "PartitionId": range_id,
            "FeedRange": {
                "Range": {"min": pk_range.get("minInclusive", ""), "max": pk_range["maxExclusive"]}
            },
            "Owner": None,
            "ContinuationToken": None,
            "properties": {},
            "timestamp": _iso(self.clock()),
            "Mode": MODE,
        }

    async def all(self) -> list[Lease]:
        """Every lease of this monitored container (other prefixes share the container)."""
        head = f"{self.prefix}.."
        query = "SELECT * FROM c WHERE STARTSWITH(c.id, @head)"
        items = self.container.query_items(query, parameters=[{"name": "@head", "value": head}])
        return [Lease(doc) async for doc in items if str(doc.get("id", "")).startswith(head)]

    def expired(self, lease: Lease) -> bool:
        """Free to take: no owner, or not touched for the expiration interval."""
        return lease.owner is None or self.clock() - lease.touched() > self.expiration

    async def acquire(self, lease: Lease) -> bool:
        """Take it; False when another host changed it first."""
        return await self._update(lease, {"Owner": self.owner}, check_owner=False)

    async def renew(self, lease: Lease) -> None:
        """Touch it; LeaseLost when it is no longer ours."""
        if not await self._update(lease, {}, check_owner=True):
            raise LeaseLost(lease.token)

    async def checkpoint(self, lease: Lease, continuation: str) -> None:
        """Record where the next batch starts; LeaseLost when it is no longer ours."""
        if not await self._update(lease, {"ContinuationToken": continuation}, check_owner=True):
            raise LeaseLost(lease.token)

    async def release(self, lease: Lease) -> None:
        """Give it up, so another host takes it at once instead of after it expires."""
        await self._update(lease, {"Owner": None}, check_owner=True)

    async def _update(self, lease: Lease, changes: dict[str, Any], *, check_owner: bool) -> bool:
        """Replace if the etag still matches; on a conflict re-read once and retry if ours."""
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import (
            CosmosAccessConditionFailedError,
            CosmosResourceNotFoundError,
        )

        async with lease.lock:
            for _ in range(2):
                if check_owner and lease.owner != self.owner:
                    return False
                body = {**lease.doc, **changes, "timestamp": _iso(self.clock())}
                try:
                    lease.doc = await self.container.replace_item(
                        lease.doc["id"],
                        body,
                        etag=lease.doc.get("_etag"),
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return True
                except CosmosAccessConditionFailedError:
                    if not check_owner:
                        return False  # someone else acquired it first
                    lease.doc = await self.container.read_item(lease.doc["id"], lease.doc["id"])
                except CosmosResourceNotFoundError:
                    return False
            return False


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
