"""One driver for the four message triggers of the fault suite (tests/apps/fault_triggers).

A ``Trigger`` knows how to feed its function ids (queue messages, Service Bus messages, Event
Hubs events, blobs), which settings point the app at its entities, and what the service must
hold once everything is processed (an empty queue and no poison, an empty dead-letter queue,
a checkpoint at the end of each partition, a completed receipt per blob). The tests kill,
stop or starve the host the same way whatever the trigger, and count ids in ``FAULT_LOG``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from amqp_peer import AmqpPeer, amqp_peer
from azure.servicebus import ServiceBusMessage
from azurite import Azurite
from blob_helpers import HOSTS, container
from eventhub_helpers import checkpoint_blobs, send
from queue_helpers import message_count, unique
from queue_helpers import send as queue_send
from servicebus_helpers import peek, send_many

from faults.conftest import FaultRow
from faults.outages import TcpOutage

APP = "fault_triggers"
KINDS = ("queue", "servicebus", "eventhub", "blob")
PARTITIONS = 4


@dataclass
class Trigger:
    """A trigger's function, its settings, how to feed it and what must be left once done."""

    kind: str
    env: dict[str, str]
    send: Callable[[list[str]], None]
    leftovers: Callable[[list[str]], list[str]]  # what is wrong with the service's state
    peer: AmqpPeer | None = None
    log: Path = field(default_factory=Path)
    relay: TcpOutage | None = None

    @property
    def function(self) -> str:
        """The function's name (one per trigger kind)."""
        return self.kind

    def started(self) -> list[str]:
        """Every id an invocation began with, in order (repeats kept)."""
        return self._words("START")

    def done(self) -> list[str]:
        """Every id an invocation finished (repeats kept)."""
        return self._words("DONE")

    def missing(self, ids: list[str]) -> set[str]:
        """The ids no invocation finished yet."""
        return set(ids) - set(self.done())

    def duplicates(self) -> int:
        """Finished invocations beyond the first for each id."""
        return sum(count - 1 for count in Counter(self.done()).values())

    def row(self, fault: str, action: str, items: list[str], recovery: float) -> FaultRow:
        """The fault report's row for ``items``, counted from what the function finished."""
        done = set(self.done())
        return FaultRow(
            fault=fault,
            action=action,
            sent=len(items),
            processed=len(done & set(items)),
            lost=len(set(items) - done),
            duplicates=self.duplicates(),
            recovery_s=round(recovery, 2),
        )

    def _words(self, word: str) -> list[str]:
        try:
            text = self.log.read_text()
        except FileNotFoundError:
            return []
        prefix = f"{word} "
        return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def ids(count: int, tag: str) -> list[str]:
    """``count`` distinct ids."""
    return [f"{tag}{n:05d}" for n in range(count)]


@contextlib.contextmanager
def trigger(
    kind: str,
    azurite: Azurite,
    log: Path,
    delay: float,
    *,
    relayed: bool = False,
    deliveries: int = 10,
) -> Iterator[Trigger]:
    """The trigger of ``kind`` on entities of its own (a peer of its own for SB and EH);
    ``relayed``: the host reaches the peer through a TcpOutage (``Trigger.relay``);
    ``deliveries``: the Service Bus queue's MaxDeliveryCount."""
    base = {"AzureWebJobsStorage": azurite.connection_string, "FAULT_LOG": str(log)}
    base["FAULT_DELAY"] = str(delay)
    with contextlib.ExitStack() as stack:
        if kind == "queue":
            made = _queue(azurite, base)
        elif kind == "blob":
            made = _blob(azurite, base)
        else:
            entities: dict[str, object] = {"eventhubs": {"hub": PARTITIONS}}
            if kind == "servicebus":
                entities = {"queues": ["faults"], "lock_duration": 3}
                entities["max_delivery_count"] = deliveries
            peer = stack.enter_context(amqp_peer(**entities))
            relay = TcpOutage(peer.port) if relayed else None
            if relay is not None:
                stack.callback(relay.close)
            port = relay.port if relay else peer.port
            if kind == "servicebus":
                made = _servicebus(peer, base, port)
            else:
                made = _eventhub(azurite, peer, base, port)
            made.relay = relay
        made.log = log
        yield made


def _via(peer: AmqpPeer, port: int) -> str:
    """The peer's connection string, on ``port`` (the relay's, or its own)."""
    return peer.connection_string.replace(f"127.0.0.1:{peer.port};", f"127.0.0.1:{port};")


def _queue(azurite: Azurite, base: dict[str, str]) -> Trigger:
    name = unique("faults")
    # A message a killed host held comes back after 3 s instead of the host's 10 minutes.
    env = {**base, "F_QUEUE": name, "FUNCHOST_QUEUE_MESSAGE_VISIBILITY": "00:00:03"}

    def leftovers(_: list[str]) -> list[str]:
        held = message_count(azurite, name)
        poisoned = message_count(azurite, f"{name}-poison")
        return [f"{held} in the queue"] * bool(held) + [f"{poisoned} poisoned"] * bool(poisoned)

    return Trigger("queue", env, lambda items: _queue_send(azurite, name, items), leftovers)


def _queue_send(azurite: Azurite, name: str, items: list[str]) -> None:
    queue_send(azurite, name, *items)


def _servicebus(peer: AmqpPeer, base: dict[str, str], port: int) -> Trigger:
    env = {**base, "SB": _via(peer, port), "F_SB": "faults"}

    def feed(items: list[str]) -> None:
        send_many(
            peer.connection_string, "faults", (ServiceBusMessage(i, message_id=i) for i in items)
        )

    def leftovers(_: list[str]) -> list[str]:
        held = peek(peer.connection_string, "faults")
        dead = peek(peer.connection_string, "faults", dead_letter=True)
        return [f"{len(held)} in the queue"] * bool(held) + [f"{len(dead)} dead"] * bool(dead)

    return Trigger("servicebus", env, feed, leftovers, peer)


def _eventhub(azurite: Azurite, peer: AmqpPeer, base: dict[str, str], port: int) -> Trigger:
    env = {**base, "EH": _via(peer, port), "F_HUB": "hub"}
    counts: dict[str, int] = {}

    def feed(items: list[str]) -> None:
        for partition in range(PARTITIONS):
            part = items[partition::PARTITIONS]
            counts[str(partition)] = counts.get(str(partition), 0) + len(part)
            send(peer, "hub", part, partition_id=str(partition))

    def leftovers(_: list[str]) -> list[str]:
        # Each partition's checkpoint is at its last event (sequence numbers start at 0).
        blobs = checkpoint_blobs(azurite, port)
        found = {name.rsplit("/", 1)[1]: meta.get("sequencenumber") for name, meta in blobs.items()}
        wanted = {p: str(n - 1) for p, n in counts.items() if n}
        return [] if found == wanted else [f"checkpoints {found}, expected {wanted}"]

    return Trigger("eventhub", env, feed, leftovers, peer)


def _blob(azurite: Azurite, base: dict[str, str]) -> Trigger:
    name, host_id = unique("faults"), f"faults-{uuid.uuid4().hex[:12]}"
    env = {**base, "F_CONTAINER": name, "AzureFunctionsWebHost__hostid": host_id}
    blobs = container(azurite, name)

    def feed(items: list[str]) -> None:
        for item in items:
            blobs.upload_blob(item, item.encode())

    def leftovers(items: list[str]) -> list[str]:
        # blobreceipts/<hostId>/Host.Functions.blob/<etag>/<container>/<blob>: one complete each.
        receipts = container(azurite, HOSTS).list_blobs(
            name_starts_with=f"blobreceipts/{host_id}/", include=["metadata"]
        )
        done = [r.name.rsplit("/", 1)[1] for r in receipts if not (r.metadata or {})]
        return [] if sorted(done) == sorted(items) else [f"{len(done)} complete receipts"]

    return Trigger("blob", env, feed, leftovers)
