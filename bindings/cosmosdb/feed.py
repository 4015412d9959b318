"""One read of one partition key range's change feed, through the SDK's feed-range reads.

A lease keeps the service's etag (the Change Feed Processor's ``ContinuationToken``); the SDK
reads a range by its feed range (``x-ms-start-epk``/``x-ms-end-epk`` and the range id header)
and wraps the etag in a continuation of its own. So a read sends ``feed_range`` and a start
the first time, and afterwards the SDK's continuation made from the lease's etag
(``sdk_continuation``); every answer's raw etag, a 304's too, is taken from the response hook.
(The SDK's ``partition_key_range_id`` reads send no range header in azure-cosmos 4.17: they
would read the whole container once per lease.) A range read for the first time starts where
the trigger says: its beginning, a point in time, or now.
"""

from __future__ import annotations

import base64
import json
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


@dataclass(frozen=True)
class FeedRange:
    """A lease's range: the container's rid and the effective partition key bounds."""

    container_rid: str
    min: str
    max: str

    def sdk_range(self) -> dict[str, Any]:
        """The range as the SDK's feed range dicts hold it (min inclusive, max exclusive)."""
        return {"min": self.min, "max": self.max, "isMinInclusive": True, "isMaxInclusive": False}


def sdk_continuation(feed_range: FeedRange, etag: str) -> str:
    """The SDK's change-feed continuation (its ``ChangeFeedStateV2``) at the etag of a lease."""
    bounds = feed_range.sdk_range()
    rid = feed_range.container_rid
    state = {
        "v": "v2",
        "containerRid": rid,
        "mode": "LatestVersion",
        "startFrom": {"Type": "Beginning"},  # the etag decides: no start-time header is added
        "continuation": {
            "v": "v2",
            "rid": rid,
            "continuation": [{"token": etag, "range": bounds}],
            "Range": bounds,
        },
    }
    return base64.b64encode(json.dumps(state).encode("utf-8")).decode("ascii")


async def read_page(
    container: ContainerProxy,
    feed_range: FeedRange,
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

    options: dict[str, Any] = {"response_hook": hook}
    if max_items:
        options["max_item_count"] = max_items
    if continuation is not None:
        options["continuation"] = sdk_continuation(feed_range, continuation)
    else:
        options["feed_range"] = {"Range": feed_range.sdk_range()}
        options["start_time"] = start.option()
    pages = container.query_items_change_feed(**options).by_page()
    try:
        page = await pages.__anext__()
    except StopAsyncIteration:
        return Page([], seen["etag"])
    items = [item async for item in page]
    return Page(items, seen["etag"])
