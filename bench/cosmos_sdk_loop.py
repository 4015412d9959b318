"""Anchor of the cosmosdb group: a hand-written change-feed loop over azure.cosmos.aio.

    BENCH_COSMOS=<connection> python bench/cosmos_sdk_loop.py DATABASE COUNT

The same work funchost's trigger does for a function with ``max_items_per_invocation=100``,
written as the SDK's docs write a change-feed reader: the container's feed ranges
(``read_feed_ranges``), then per range ``query_items_change_feed(feed_range=...)`` from the
beginning, later from the page's continuation, 100 items a page; each page is "handled"
(counted), then checkpointed: the range's lease-like document in ``leases`` is replaced with
the new continuation, conditional on its ``_etag``, as funchost does after every batch.
(funchost reads by feed range too: azure-cosmos 4.17's ``partition_key_range_id`` reads send
no range header.) Prints ``ready`` once the client exists (the clock starts there), then
``done <monotonic time>`` after COUNT documents, and exits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

PAGE = 100
POLL_DELAY = 5.0  # after an empty read, as the trigger's default feedPollDelay


class Progress:
    """Documents handled so far over all ranges; done once COUNT were."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.done = asyncio.Event()

    def handle(self, docs: list[dict[str, Any]]) -> None:
        """Count a page; report the moment the last document arrived."""
        self.seen += len(docs)
        if self.seen >= self.count and not self.done.is_set():
            print(f"done {time.monotonic():.6f}", flush=True)
            self.done.set()


async def checkpoint(
    leases: ContainerProxy, lease: dict[str, Any], continuation: str
) -> dict[str, Any]:
    """The lease with the new continuation, only if nobody changed it since we read it."""
    from azure.core import MatchConditions

    body = {
        **lease,
        "ContinuationToken": continuation,
        "timestamp": datetime.now(timezone.utc).isoformat(),
    }
    return await leases.replace_item(
        lease["id"], body, etag=lease["_etag"], match_condition=MatchConditions.IfNotModified
    )


async def follow(
    items: ContainerProxy,
    leases: ContainerProxy,
    number: int,
    feed_range: dict[str, Any],
    progress: Progress,
) -> None:
    """Read one feed range page by page until every document was handled."""
    lease: dict[str, Any] = await leases.upsert_item(
        {"id": f"sdk-loop..{number}", "ContinuationToken": None}
    )
    start: dict[str, Any] = {"feed_range": feed_range, "start_time": "Beginning"}
    while not progress.done.is_set():
        pages = items.query_items_change_feed(max_item_count=PAGE, **start).by_page()
        page = await anext(pages, None)
        docs = [doc async for doc in page] if page is not None else []
        if not docs:
            await asyncio.sleep(POLL_DELAY)
            continue
        progress.handle(docs)
        # by_page() is typed as a bare AsyncIterator; the SDK's pager carries the continuation.
        continuation = str(pages.continuation_token)  # type: ignore[attr-defined]
        lease = await checkpoint(leases, lease, continuation)
        start = {"continuation": continuation}


async def consume(database: str, count: int) -> None:
    """A reader per feed range until count documents were handled."""
    from azure.cosmos.aio import CosmosClient

    async with CosmosClient.from_connection_string(os.environ["BENCH_COSMOS"]) as client:
        db = client.get_database_client(database)
        items, leases = db.get_container_client("items"), db.get_container_client("leases")
        print("ready", flush=True)
        progress = Progress(count)
        ranges = [feed_range async for feed_range in items.read_feed_ranges()]
        await asyncio.gather(*(follow(items, leases, n, r, progress) for n, r in enumerate(ranges)))


def main() -> None:
    """Read COUNT documents of DATABASE's container ``items``."""
    asyncio.run(consume(sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    main()
