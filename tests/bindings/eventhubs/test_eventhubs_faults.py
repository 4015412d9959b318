"""Event Hubs under faults: two hosts sharing the partitions, a host killed mid-stream, a batch
cut short at the stop deadline. Checkpoints live in the session's Azurite.

A killed host's partitions stay its own until their ownership expires (host.json: 5 s); the
next host then resumes each at its last checkpoint, so nothing is lost and at most the batches
in flight at the kill (one per partition) run again.
"""

from __future__ import annotations

import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from amqp_peer import AmqpPeer, amqp_peer
from azure.storage.blob import ContainerClient
from azurite import Azurite
from conftest import StartHost
from eventhub_helpers import eh_env, seen, spread, wait_seen
from queue_helpers import lines_with, wait_until

BATCH = "eventhub_batch"
EVENTS = 500
PARTITIONS = 4
MAX_BATCH = 16  # tests/apps/eventhub_batch/host.json


@pytest.fixture
def peer() -> Iterator[AmqpPeer]:
    with amqp_peer(eventhubs={"hub": PARTITIONS}) as running:
        yield running


def owners(azurite: Azurite, peer: AmqpPeer) -> dict[str, str]:
    """partition -> owner id, from the ownership blobs in Azurite."""
    container = ContainerClient.from_connection_string(
        azurite.connection_string, "azure-webjobs-eventhub"
    )
    prefix = f"127.0.0.1:{peer.port}/hub/$default/ownership/"
    try:
        blobs = container.list_blobs(name_starts_with=prefix, include=["metadata"])
        return {b.name.rsplit("/", 1)[1]: (b.metadata or {}).get("ownerid", "") for b in blobs}
    except Exception:
        return {}


def balanced(azurite: Azurite, peer: AmqpPeer) -> bool:
    """Two owners with two partitions each."""
    counts = Counter(owner for owner in owners(azurite, peer).values() if owner)
    return sorted(counts.values()) == [2, 2]


def test_two_hosts_split_the_partitions(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    env = {"AzureWebJobsStorage": azurite.connection_string, **eh_env(peer, hub="hub")}
    first = start_host(BATCH, env=env)
    second = start_host(BATCH, env=env)
    wait_until(lambda: balanced(azurite, peer), 40, "two hosts owning two partitions each")
    time.sleep(2)  # a few balancing rounds: the split holds
    assert balanced(azurite, peer)
    spread(peer, "hub", 40)
    wait_until(lambda: len(seen(first)) + len(seen(second)) >= 40, 30, "40 events seen")
    by_first = {p for p, _, _ in seen(first)}
    by_second = {p for p, _, _ in seen(second)}
    assert len(by_first) == len(by_second) == 2, (by_first, by_second)
    assert by_first.isdisjoint(by_second)
    assert len(seen(first)) + len(seen(second)) == 40


def test_a_killed_host_loses_no_event(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        **eh_env(peer, hub="hub"),
        "BATCH_DELAY": "0.25",
    }
    spread(peer, "hub", EVENTS)
    first = start_host(BATCH, env=env)
    wait_until(lambda: len(seen(first)) >= 100, 60, "100 events seen before the kill")
    first.stop(signal.SIGKILL)
    before = seen(first)
    assert len(before) < EVENTS, "the host finished before the kill: slow the function down"
    second = start_host(BATCH, env={**env, "BATCH_DELAY": "0"})
    wait_until(
        lambda: len({(p, s) for p, s, _ in before + seen(second)}) >= EVENTS,
        60,
        f"all {EVENTS} events seen across both hosts",
    )
    after = seen(second)
    per_partition: dict[str, set[int]] = defaultdict(set)
    for partition, sequence, _ in before + after:
        per_partition[partition].add(sequence)
    assert {p: len(s) for p, s in per_partition.items()} == {
        str(p): EVENTS // PARTITIONS for p in range(PARTITIONS)
    }
    assert {p: max(s) for p, s in per_partition.items()} == {
        str(p): EVENTS // PARTITIONS - 1 for p in range(PARTITIONS)
    }
    # Only the batches in flight at the kill run again: at most one per partition.
    again = len({(p, s) for p, s, _ in before} & {(p, s) for p, s, _ in after})
    assert again <= PARTITIONS * MAX_BATCH, again


def test_a_batch_cut_short_at_the_deadline_comes_back(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        **eh_env(peer, hub="hub"),
        "BATCH_DELAY": "30",
    }
    spread(peer, "hub", 4)
    first = start_host(BATCH, "--shutdown-timeout", "1", env=env)
    wait_until(
        lambda: len(lines_with(first, "Executing 'Functions.batch'")) >= 4, 30, "4 batches running"
    )
    assert first.stop() == 0
    assert lines_with(first, "still running at the stop deadline are cancelled"), first.output
    assert not seen(first)
    second = start_host(BATCH, env={**env, "BATCH_DELAY": "0"})
    found = wait_seen(second, 4, timeout=30)
    assert sorted(body for _, _, body in found) == ["e0", "e1", "e2", "e3"]
