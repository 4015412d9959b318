"""One read of one partition key range's change feed, through the SDK's etag continuation.

The SDK's ``query_items_change_feed(partition_key_range_id=..., continuation=<etag>)`` sends the
etag as ``If-None-Match`` and hands back the service's next etag: the same continuation the
Change Feed Processor keeps in a lease's ``ContinuationToken``. A range read for the first
time starts where the trigger says: its beginning, a point in time, or now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy


@dataclass(frozen=True)
class StartFrom:
    """Where a range without a continuation starts (the trigger's start options)."""

    beginning: bool = False
    time: datetime | None = None

    def option(self) -> datetime | str:
        """The SDK's ``start_time`` for this start."""
        if self.beginning:
            return "Beginning"
        return self.time if self.time is not None else "Now"


@dataclass(frozen=True)
class Page:
    """The changes one read found (oldest first) and the etag to read from next."""

    items: list[dict[str, Any]]
    continuation: str | None


async def read_page(
    container: ContainerProxy,
    range_id: str,
    continuation: str | None,
    start: StartFrom,
    max_items: int,
) -> Page:
    """At most ``max_items`` changes (0: the service's page size) after ``continuation``."""
    seen: dict[str, str | None] = {"etag": continuation}

    def hook(headers: Mapping[str, Any], _: Any) -> None:
        # Every response carries the next etag, a 304 Not Modified too: keep the latest.
        etag = headers.get("etag")
        if etag:
            seen["etag"] = str(etag)

    options: dict[str, Any] = {"partition_key_range_id": range_id, "response_hook": hook}
    if max_items:
        options["max_item_count"] = max_items
    if continuation is not None:
        options["continuation"] = continuation
    else:
        options["start_time"] = start.option()
    pages = container.query_items_change_feed(**options).by_page()
    items: list[dict[str, Any]] = []
    try:
        page = await pages.__anext__()
    except StopAsyncIteration:
        return Page(items, seen["etag"])
    items = [item async for item in page]
    return Page(items, seen["etag"])
