"""Helpers shared by the Event Hubs tests: the AMQP peer's hubs, sending and reading events.

It holds no tests. Every test starts a peer of its own (it starts in a fraction of a second),
so hubs, offsets and checkpoint paths (which name the peer's port) never carry over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from amqp_peer import AmqpPeer
from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient
from azure.storage.blob import ContainerClient
from azurite import Azurite
from conftest import Host
from queue_helpers import lines_with

OPTION = "AzureFunctionsJobHost__extensions__eventHubs__"


def eh_env(peer: AmqpPeer, **hubs: str) -> dict[str, str]:
    """Settings for an app: the connection EH, and HUB_<NAME> (or HUB) for each hub."""
    env = {"EH": peer.connection_string}
    for name, hub in hubs.items():
        env["HUB" if name == "hub" else f"HUB_{name.upper()}"] = hub
    return env


def producer(peer: AmqpPeer, hub: str) -> EventHubProducerClient:
    """A sync producer of the test (not of the host under test); it retries twice, as a client
    would (once, under a full-suite load, a fresh peer dropped the first connection)."""
    return EventHubProducerClient.from_connection_string(
        peer.connection_string, eventhub_name=hub, retry_total=2
    )


def send(
    peer: AmqpPeer,
    hub: str,
    bodies: Iterable[str | bytes],
    *,
    partition_id: str | None = None,
    partition_key: str | None = None,
    properties: Mapping[str, Any] | None = None,
) -> int:
    """Send the bodies in batches (to one partition or key when given); how many were sent."""
    sent = 0
    with producer(peer, hub) as client:
        batch = client.create_batch(partition_id=partition_id, partition_key=partition_key)
        for body in bodies:
            event = EventData(body)
            if properties:
                event.properties = dict(properties)
            try:
                batch.add(event)
            except ValueError:
                client.send_batch(batch)
                batch = client.create_batch(partition_id=partition_id, partition_key=partition_key)
                batch.add(event)
            sent += 1
        if len(batch):
            client.send_batch(batch)
    return sent


def spread(peer: AmqpPeer, hub: str, count: int, partitions: int = 4, tag: str = "e") -> None:
    """Send count events, round-robin over the partitions, bodies `<tag><n>`."""
    for partition in range(partitions):
        bodies = [f"{tag}{n}" for n in range(partition, count, partitions)]
        send(peer, hub, bodies, partition_id=str(partition))


def read_all(peer: AmqpPeer, hub: str, count: int, timeout: float = 20.0) -> list[EventData]:
    """Every event of the hub from the start, once count have arrived (or fail)."""
    found: list[EventData] = []
    done = threading.Event()

    def on_event(context: Any, event: EventData | None) -> None:
        if event is not None:
            found.append(event)
        if len(found) >= count:
            done.set()

    client = EventHubConsumerClient.from_connection_string(
        peer.connection_string, "$Default", eventhub_name=hub
    )
    worker = threading.Thread(
        target=client.receive,
        kwargs={"on_event": on_event, "starting_position": "-1", "max_wait_time": 0.5},
        daemon=True,
    )
    worker.start()
    done.wait(timeout)
    client.close()
    worker.join(10)
    assert len(found) >= count, f"{len(found)} of {count} events in hub {hub!r}"
    return found


def checkpoint_blobs(azurite: Azurite, peer: AmqpPeer | int) -> dict[str, dict[str, str]]:
    """The checkpoint blobs of hub `hub` in Azurite: name -> metadata. The namespace is the
    host's endpoint: the peer's, or the port of a relay in front of it."""
    container = ContainerClient.from_connection_string(
        azurite.connection_string, "azure-webjobs-eventhub"
    )
    port = peer if isinstance(peer, int) else peer.port
    prefix = f"127.0.0.1:{port}/hub/$default/checkpoint/"
    return {
        blob.name: dict(blob.metadata or {})
        for blob in container.list_blobs(name_starts_with=prefix, include=["metadata"])
    }


def seen(host: Host) -> list[tuple[str, int, str]]:
    """(partition, sequence number, body) of every SEEN line the batch app printed."""
    result = []
    for line in lines_with(host, " SEEN "):
        partition, sequence, body = line.split(" SEEN ", 1)[1].split(" ", 2)
        result.append((partition, int(sequence), body))
    return result


def wait_seen(host: Host, count: int, timeout: float) -> list[tuple[str, int, str]]:
    """Wait until count distinct (partition, sequence number) pairs were seen."""
    deadline = time.monotonic() + timeout
    while True:
        found = seen(host)
        if len({(p, s) for p, s, _ in found}) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} events seen, {count} expected, after {timeout} s:\n{host.output}"
            )
        time.sleep(0.05)
