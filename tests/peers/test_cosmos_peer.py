"""The Cosmos DB peer against the real azure-cosmos SDK: CRUD passthrough and the change feed.

One peer per module; each test has its own container, so tests do not see each other's writes.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from azure.cosmos import CosmosClient as SyncCosmosClient
from azure.cosmos import PartitionKey, exceptions
from azure.cosmos.aio import ContainerProxy, CosmosClient
from cosmos_peer import CosmosPeer, peer_fixture, start_peer

cosmos = peer_fixture(scope="module")
TEST_TIMEOUT = 60.0
_names = itertools.count()


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine bounded in time."""
    return asyncio.run(asyncio.wait_for(body(), TEST_TIMEOUT))


@asynccontextmanager
async def container(peer: CosmosPeer) -> AsyncIterator[ContainerProxy]:
    """A fresh container (partition key /pk) in database ``db``, through a new async client."""
    async with CosmosClient.from_connection_string(peer.connection_string) as client:
        db = await client.create_database_if_not_exists("db")
        yield await db.create_container(f"c{next(_names)}", partition_key=PartitionKey("/pk"))


async def feed(c: ContainerProxy, **kwargs: Any) -> tuple[list[dict[str, Any]], str]:
    """Everything ``query_items_change_feed(**kwargs)`` yields, and the continuation after it."""
    docs = [doc async for doc in c.query_items_change_feed(**kwargs)]
    return docs, str(c.client_connection.last_response_headers["etag"])


async def write(c: ContainerProxy, *ids: str, pk: str = "p", **fields: Any) -> None:
    """Upsert one document per id."""
    for doc_id in ids:
        await c.upsert_item({"id": doc_id, "pk": pk, **fields})


def ids(docs: list[dict[str, Any]]) -> list[str]:
    """The documents' ids, in order."""
    return [str(doc["id"]) for doc in docs]


def test_crud_and_queries_pass_through(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await c.create_item({"id": "a", "pk": "p1", "n": 1})
            await c.upsert_item({"id": "b", "pk": "p2", "n": 2})
            await c.upsert_item({"id": "c", "pk": "p2", "n": 3})
            assert (await c.read_item("a", partition_key="p1"))["n"] == 1
            with pytest.raises(exceptions.CosmosResourceExistsError):
                await c.create_item({"id": "a", "pk": "p1"})
            query = "SELECT * FROM c WHERE c.n >= @n ORDER BY c.n"
            found = c.query_items(query, parameters=[{"name": "@n", "value": 2}])
            assert ids([doc async for doc in found]) == ["b", "c"]
            in_p2 = c.query_items("SELECT VALUE c.id FROM c", partition_key="p2")
            assert sorted([doc async for doc in in_p2]) == ["b", "c"]
            await c.replace_item("a", {"id": "a", "pk": "p1", "n": 10})
            await c.patch_item("b", "p2", [{"op": "set", "path": "/n", "value": 20}])
            await c.delete_item("c", partition_key="p2")
            every = [doc async for doc in c.query_items("SELECT * FROM c")]
            assert {doc["id"]: doc["n"] for doc in every} == {"a": 10, "b": 20}

    run(body)


def test_a_partition_key_scopes_a_query(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a", "b", pk="p1", n=1)
            await write(c, "c", pk="p2", n=2)
            await c.upsert_item({"id": "d", "pk": "p1", "order": "where"})

            async def query(text: str, **kwargs: Any) -> list[Any]:
                return [doc async for doc in c.query_items(text, partition_key="p1", **kwargs)]

            assert ids(await query("SELECT * FROM c ORDER BY c.id")) == ["a", "b", "d"]
            assert await query("SELECT VALUE COUNT(1) FROM c") == [3]
            n = [{"name": "@n", "value": 1}]
            assert ids(
                await query("SELECT * FROM root r WHERE r.n = @n OR r.n = 2", parameters=n)
            ) == [
                "a",
                "b",
            ]
            assert await query("SELECT VALUE c.id FROM c WHERE c['order'] = 'where'") == ["d"]
            top = "SELECT TOP 1 c['order'] FROM c WHERE IS_DEFINED(c['order'])"
            assert await query(top) == [{"order": "where"}]

    run(body)


def test_endpoint_discovery_points_at_the_proxy(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with CosmosClient.from_connection_string(cosmos.connection_string) as client:
            account = await client._get_database_account()
            locations = account.WritableLocations + account.ReadableLocations
            assert {loc["databaseAccountEndpoint"] for loc in locations} == {cosmos.endpoint}
            await client.create_database_if_not_exists("db")
            manager = client.client_connection._global_endpoint_manager
            assert manager.get_write_endpoint() == cosmos.endpoint

    run(body)


def test_missing_document_is_not_found(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            with pytest.raises(exceptions.CosmosResourceNotFoundError):
                await c.read_item("nobody", partition_key="p")

    run(body)


# is_start_from_beginning and partition_key_range_id are deprecated, and still what older
# consumers send: the peer must answer them.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_change_feed_from_the_beginning_in_write_order(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a", "b", pk="p1")
            await write(c, "c", pk="p2")
            docs, _ = await feed(c, start_time="Beginning")
            assert ids(docs) == ["a", "b", "c"]
            assert [doc["_lsn"] for doc in docs] == [1, 2, 3]
            assert all({"_rid", "_ts", "_etag"} <= doc.keys() for doc in docs)
            again, _ = await feed(c, is_start_from_beginning=True)
            assert ids(again) == ["a", "b", "c"]

    run(body)


def test_incremental_reads_see_only_new_writes(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a", "b")
            _, token = await feed(c, start_time="Beginning")
            await write(c, "c", "d")
            docs, token = await feed(c, continuation=token)
            assert ids(docs) == ["c", "d"]
            await write(c, "e")
            docs, _ = await feed(c, continuation=token)
            assert ids(docs) == ["e"]

    run(body)


def test_continuation_survives_a_new_client(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a")
            _, token = await feed(c, start_time="Beginning")
            await write(c, "b")
            name = c.id
        async with CosmosClient.from_connection_string(cosmos.connection_string) as client:
            again = client.get_database_client("db").get_container_client(name)
            docs, _ = await feed(again, continuation=token)
            assert ids(docs) == ["b"]

    run(body)


def test_an_updated_document_shows_once_at_its_latest_version(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a", "b", n=1)
            _, token = await feed(c, start_time="Beginning")
            await write(c, "a", n=2)
            await write(c, "c", n=1)
            await c.patch_item("a", "p", [{"op": "set", "path": "/n", "value": 3}])
            docs, _ = await feed(c, continuation=token)
            assert [(doc["id"], doc["n"]) for doc in docs] == [("c", 1), ("a", 3)]
            everything, _ = await feed(c, start_time="Beginning")
            assert ids(everything) == ["b", "c", "a"]

    run(body)


def test_nothing_new_is_not_modified_and_keeps_the_continuation(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a")
            _, token = await feed(c, start_time="Beginning")
            statuses: list[int] = []
            hook = lambda response: statuses.append(response.http_response.status_code)  # noqa: E731
            docs, after = await feed(c, continuation=token, raw_response_hook=hook)
            assert (docs, statuses) == ([], [304])
            await write(c, "b")
            docs, _ = await feed(c, continuation=after)
            assert ids(docs) == ["b"]

    run(body)


def test_start_from_now_skips_what_is_there(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "old")
            docs, token = await feed(c, start_time="Now")
            assert docs == []
            await write(c, "new")
            docs, _ = await feed(c, continuation=token)
            assert ids(docs) == ["new"]

    run(body)


def test_start_from_a_point_in_time(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "before")
            # _ts and If-Modified-Since have whole seconds: start at the next second.
            start = int(time.time()) + 1
            while time.time() < start:
                await asyncio.sleep(0.05)
            await write(c, "after")
            when = datetime.fromtimestamp(start, timezone.utc)
            docs, _ = await feed(c, start_time=when)
            assert ids(docs) == ["after"]

    run(body)


def test_max_item_count_pages_the_feed(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, *[f"d{i}" for i in range(5)])
            pages = c.query_items_change_feed(start_time="Beginning", max_item_count=2).by_page()
            sizes = [len([doc async for doc in page]) async for page in pages]
            assert sizes == [2, 2, 1]
            docs, _ = await feed(c, start_time="Beginning", max_item_count=2)
            assert ids(docs) == [f"d{i}" for i in range(5)]

    run(body)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_feed_ranges_and_partition_keys_filter_the_feed(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "a", "b", pk="p1")
            await write(c, "c", pk="p2")
            ranges = [r async for r in c.read_feed_ranges()]
            assert len(ranges) == 1
            docs, _ = await feed(c, feed_range=ranges[0], start_time="Beginning")
            assert ids(docs) == ["a", "b", "c"]
            docs, _ = await feed(c, partition_key="p2", start_time="Beginning")
            assert ids(docs) == ["c"]
            p1 = await c.feed_range_from_partition_key("p1")
            docs, _ = await feed(c, feed_range=p1, start_time="Beginning")
            assert ids(docs) == ["a", "b"]
            docs, _ = await feed(c, partition_key_range_id="0", start_time="Beginning")
            assert ids(docs) == ["a", "b", "c"]
            # A bare etag is a V1 continuation; with a partition key it is scoped by the header.
            docs, _ = await feed(c, partition_key="p1", continuation='"1"')
            assert ids(docs) == ["b"]

    run(body)


def test_batches_are_recorded_and_deletes_leave_the_feed(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            await write(c, "gone", "kept")
            await c.execute_item_batch(
                [("create", ({"id": "x", "pk": "p"},)), ("upsert", ({"id": "y", "pk": "p"},))],
                partition_key="p",
            )
            await c.delete_item("gone", partition_key="p")
            docs, _ = await feed(c, start_time="Beginning")
            assert ids(docs) == ["kept", "x", "y"]

    run(body)


def test_all_versions_and_deletes_mode_is_refused(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with container(cosmos) as c:
            with pytest.raises(exceptions.CosmosHttpResponseError) as refused:
                await feed(c, mode="AllVersionsAndDeletes", start_time="Now")
            assert refused.value.status_code == 400

    run(body)


def test_a_recreated_container_starts_a_new_feed(cosmos: CosmosPeer) -> None:
    async def body() -> None:
        async with CosmosClient.from_connection_string(cosmos.connection_string) as client:
            db = await client.create_database_if_not_exists("db")
            name, key = f"c{next(_names)}", PartitionKey("/pk")
            await write(await db.create_container(name, partition_key=key), "old")
            await db.delete_container(name)
            again = await db.create_container(name, partition_key=key)
            await write(again, "new")
            docs, _ = await feed(again, start_time="Beginning")
            assert ids(docs) == ["new"]

    run(body)


def test_the_sync_client_reads_the_feed_too(cosmos: CosmosPeer) -> None:
    with SyncCosmosClient.from_connection_string(cosmos.connection_string) as client:
        db = client.create_database_if_not_exists("db")
        c = db.create_container(f"c{next(_names)}", partition_key=PartitionKey("/pk"))
        c.upsert_item({"id": "a", "pk": "p"})
        assert ids(list(c.query_items_change_feed(start_time="Beginning"))) == ["a"]
        token = c.client_connection.last_response_headers["etag"]
        c.upsert_item({"id": "b", "pk": "p"})
        assert ids(list(c.query_items_change_feed(continuation=token))) == ["b"]


def test_sigterm_stops_the_node_child() -> None:
    peer = start_peer()
    try:
        node = _node_child(peer)
    finally:
        peer.stop()
    assert peer.proc.returncode == 0, peer.log()
    assert not _alive(node), f"cosmosdb-server (pid {node}) outlived the peer"


def test_a_killed_peer_takes_the_node_child_with_it() -> None:
    peer = start_peer()
    try:
        node = _node_child(peer)
        peer.proc.kill()  # no chance to clean up: the kernel's parent-death signal must
        peer.proc.wait(5)
        deadline = time.monotonic() + 5
        while _alive(node) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(node), f"cosmosdb-server (pid {node}) outlived a killed peer"
    finally:
        peer.stop()


def _node_child(peer: CosmosPeer) -> int:
    pid = peer.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    assert "node" in Path(f"/proc/{children[0]}/cmdline").read_text()
    return int(children[0])


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
