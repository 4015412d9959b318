"""The Cosmos DB trigger through the real ``funchost start`` against the Cosmos peer: changes
arrive, leases resume after a restart, a SIGKILL loses nothing, two hosts share the feed.

The app (tests/apps/cosmos_trigger) appends one JSON line per batch to the file %RECORD%
before its function returns; batches are at most 10 changes.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from azure.cosmos import ContainerProxy, CosmosClient
from conftest import APPS, Host, StartHost
from cosmos_peer import CosmosPeer, database_fixture, peer_fixture

APP = APPS / "cosmos_trigger"
BATCH = 10  # the app's max_items_per_invocation
WAIT = 60.0  # the longest any change may take to arrive (lease expiry is 3 s)
cosmos = peer_fixture(scope="module")


database = database_fixture()


def items(cosmos: CosmosPeer, database: str, container: str = "items") -> ContainerProxy:
    client = CosmosClient.from_connection_string(cosmos.connection_string)
    return client.get_database_client(database).get_container_client(container)


def start(start_host: StartHost, cosmos: CosmosPeer, database: str, record: Path) -> Host:
    env = {"Cosmos": cosmos.connection_string, "DB": database, "RECORD": str(record)}
    return start_host(APP, env=env)


def batches(record: Path) -> list[list[list[object]]]:
    """Every batch the function recorded, in order: [[id, n], ...] each."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line]


def seen(record: Path) -> list[str]:
    return [str(doc[0]) for batch in batches(record) for doc in batch]


def wait_until(check: Callable[[], bool], what: str, host: Host | None = None) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    output = host.drain(0) if host is not None else ""
    raise AssertionError(f"timed out waiting for {what}; host output:\n{output}")


def insert(container: ContainerProxy, ids: range, n: int = 0) -> None:
    for i in ids:
        container.upsert_item({"id": str(i), "pk": f"p{i % 3}", "n": n})


def test_an_upsert_triggers_the_function_with_that_document(
    start_host: StartHost, cosmos: CosmosPeer, database: str, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    host = start(start_host, cosmos, database, record)
    container = items(cosmos, database)
    container.upsert_item({"id": "a", "pk": "p", "n": 1})
    wait_until(lambda: seen(record) == ["a"], "the first change", host)
    container.upsert_item({"id": "a", "pk": "p", "n": 2})  # an update is a change too
    wait_until(lambda: batches(record)[-1] == [["a", 2]], "the update", host)
    host.wait_for("Executed 'Functions.changes' (Succeeded")

    leases = list(items(cosmos, database, "leases").read_all_items())
    lease = next(doc for doc in leases if doc["id"].endswith("..0"))
    assert lease["id"].startswith("127.0.0.1_")  # <prefix><host>_<db rid>_<container rid>..0
    assert (lease["LeaseToken"], lease["version"], lease["Mode"]) == ("0", 0, "Incremental feed")
    assert lease["Owner"]
    # The service's etag itself, as the Change Feed Processor keeps it (not the SDK's token).
    assert lease["ContinuationToken"].strip('"').isdigit(), lease["ContinuationToken"]
    assert any(doc["id"].endswith(".info") for doc in leases)
    assert cosmos.key not in host.output


def test_a_restart_resumes_from_the_lease_without_replaying(
    start_host: StartHost, cosmos: CosmosPeer, database: str, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    container = items(cosmos, database)
    insert(container, range(5))
    host = start(start_host, cosmos, database, record)
    wait_until(lambda: len(seen(record)) == 5, "the first five changes", host)
    assert host.stop() == 0
    insert(container, range(5, 8))  # while no host runs
    host = start(start_host, cosmos, database, record)
    wait_until(lambda: len(seen(record)) >= 8, "the three new changes", host)
    host.drain(1.0)  # anything replayed would arrive now
    assert sorted(seen(record), key=int) == [str(i) for i in range(8)]


def test_a_sigkill_in_the_middle_of_500_changes_loses_none(
    start_host: StartHost, cosmos: CosmosPeer, database: str, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    insert(items(cosmos, database), range(500))
    host = start(start_host, cosmos, database, record)
    wait_until(lambda: len(seen(record)) >= 100, "a hundred changes", host)
    host.stop(signal.SIGKILL)
    killed_at = len(seen(record))
    assert killed_at < 500, "the kill came too late to cut the feed short"

    host = start(start_host, cosmos, database, record)
    wait_until(lambda: set(seen(record)) == {str(i) for i in range(500)}, "all 500", host)
    counts = Counter(seen(record))
    replayed = sorted((doc for doc, count in counts.items() if count > 1), key=int)
    # Only the batch whose function finished but whose checkpoint the kill prevented.
    assert len(replayed) <= BATCH, replayed


def test_two_hosts_share_the_feed_and_one_takes_over_when_the_other_dies(
    start_host: StartHost, cosmos: CosmosPeer, database: str, tmp_path: Path
) -> None:
    first_record, second_record = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first = start(start_host, cosmos, database, first_record)
    second = start(start_host, cosmos, database, second_record)
    container = items(cosmos, database)
    insert(container, range(20))

    def total() -> int:
        return len(seen(first_record)) + len(seen(second_record))

    wait_until(lambda: total() == 20, "the first twenty changes")
    # One range, one lease: exactly one host read it.
    assert {len(seen(first_record)), len(seen(second_record))} == {0, 20}
    owner, other = (first, second) if seen(first_record) else (second, first)
    owner.stop(signal.SIGKILL)
    insert(container, range(20, 30))
    wait_until(lambda: total() >= 30, "the takeover after the lease expired", other)
    all_seen = seen(first_record) + seen(second_record)
    assert sorted(set(all_seen), key=int) == [str(i) for i in range(30)]
