"""The Cosmos DB peer unreachable for 10 s while the Cosmos DB trigger reads its change feed:
one line for the outage and one when it reads again, every change arrives (those made during
the outage included), and the host's HTTP side answers throughout. The outage is a relay in
front of the peer (tests/faults/outages.py), as for the AMQP peers: the peer keeps its data
in memory."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from azure.cosmos import CosmosClient
from conftest import APPS, StartHost
from cosmos_peer import CosmosPeer, database_fixture, peer_fixture
from queue_helpers import wait_until

from faults.conftest import FaultRow
from faults.outages import OUTAGE_S, TcpOutage, count, during_outage

APP = APPS / "cosmos_trigger"  # appends each batch's [[id, n], ...] to %RECORD%
DOCS = 90  # a third before, during and after the outage
cosmos = peer_fixture()
database = database_fixture()


def _seen(record: Path) -> list[str]:
    if not record.exists():
        return []
    return [str(doc[0]) for line in record.read_text().splitlines() for doc in json.loads(line)]


def test_the_change_feed_rides_out_an_outage(
    start_host: StartHost,
    cosmos: CosmosPeer,
    database: str,
    tmp_path: Path,
    fault_report: Callable[[FaultRow], None],
) -> None:
    client = CosmosClient.from_connection_string(cosmos.connection_string)
    items = client.get_database_client(database).get_container_client("items")
    ids = [str(i) for i in range(DOCS)]
    thirds = [ids[i * DOCS // 3 : (i + 1) * DOCS // 3] for i in range(3)]

    def insert(part: list[str]) -> None:
        for doc in part:
            items.upsert_item({"id": doc, "pk": f"p{int(doc) % 3}", "n": 0})

    record = tmp_path / "record.jsonl"
    relay = TcpOutage(cosmos.port)
    try:
        endpoint = cosmos.connection_string.replace(f":{cosmos.port}/", f":{relay.port}/")
        env = {"Cosmos": endpoint, "DB": database, "RECORD": str(record)}
        host = start_host(APP, env=env)
        insert(thirds[0])
        wait_until(lambda: set(thirds[0]) <= set(_seen(record)), 30, "the first third")

        def cut() -> None:
            relay.cut()
            insert(thirds[1])

        statuses = during_outage(host, cut, relay.restore, path="/")
        back = time.monotonic()
        insert(thirds[2])
        wait_until(lambda: set(ids) <= set(_seen(record)), 60, "every change")
        recovery = time.monotonic() - back
        host.drain(1.0)
    finally:
        relay.close()
    assert statuses and set(statuses) == {200}, statuses
    assert len(statuses) >= OUTAGE_S  # one answer a second on average: not all at the end
    assert "Traceback" not in host.output
    # One line for the outage, whichever of the reader and the balancing noticed it first.
    assert count(host, "could not read") == 1, host.output
    assert count(host, "reads the change feed on container") == 1, host.output
    seen = _seen(record)
    assert set(seen) == set(ids)
    fault_report(
        FaultRow(
            fault="Cosmos DB peer unreachable for 10 s (connections reset, port closed)",
            action=f"{DOCS} changes: a third before, during and after; HTTP polled",
            sent=DOCS,
            processed=len(set(seen)),
            lost=DOCS - len(set(seen)),
            duplicates=len(seen) - len(set(seen)),
            recovery_s=round(recovery, 2),
        )
    )
