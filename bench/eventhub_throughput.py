"""Group eventhubs: funchost's Event Hubs trigger beside a hand-written EventHubConsumerClient loop.

Each run starts a fresh AMQP peer (tests/peers/amqp, pinned to CPU 1) with one hub of four
partitions, preloads ``--messages`` events into it (spread over the partitions), then starts
the subject (pinned to CPU 0) and times it from its ready signal until it has handled every
event. Checkpoints go to one Azurite for the whole group (pinned to CPU 1, a container of the
name the host uses); each run reads a hub of its own, so no checkpoint carries over.

- ``funchost``: ``funchost start`` on bench/apps/eventhub_throughput (a cardinality-many
  ``async def`` that counts), maxEventBatchSize 100, prefetch 300, a checkpoint per batch, the
  Executing/Executed lines printed as ``func start`` prints them;
- ``sdk loop``: the anchor, bench/eh_sdk_loop.py, the same batch size, prefetch, balancing
  and checkpoints.

Events per second run from the subject's ready signal (funchost: "Host started", the loop:
"ready") to its last event; CPU is the subject process's own over that span. Both start with
no partition claimed and claim one per balancing interval (1 s, the balanced strategy), so the
first seconds of each run read fewer partitions: the ratio compares like with like.

    python -m bench.eventhub_throughput [--quick] [--messages 10000] [--rounds 3]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.common import (
    BENCH,
    REPO,
    BenchError,
    Drained,
    Options,
    Skip,
    Subject,
    drain,
    drained_result,
    interleaved,
    pinned,
    start_drainer,
    stop,
)
from bench.table import GroupResult, Target

sys.path.insert(0, str(REPO / "tests"))
import contextlib

from azurite import AZURITE, INSTALL, Azurite, launch

APP = BENCH / "apps" / "eventhub_throughput"
SUBJECTS = ("funchost", "sdk loop")
TARGET = Target(">=", 0.90)  # issue 15
PARTITIONS = 4
CONTAINER = "azure-webjobs-eventhub"
RUN_TIMEOUT = 300.0


# --- the peer --------------------------------------------------------------------------------


def start_peer(hub: str) -> tuple[subprocess.Popen[str], str]:
    """The AMQP peer on a free port with the hub, pinned to CPU 1; (process, connection)."""
    cmd = [sys.executable, "-m", "tests.peers.amqp", "--port", "0", "--eventhub", f"{hub}:4"]
    proc = subprocess.Popen(
        pinned(cmd, 1), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("Endpoint=sb://"):
        proc.kill()
        raise BenchError(f"the AMQP peer did not start (it printed {line!r})")
    return proc, line


def preload(connection: str, hub: str, count: int) -> None:
    """count events spread evenly over the partitions, in full batches."""
    from azure.eventhub import EventData, EventHubProducerClient

    client = EventHubProducerClient.from_connection_string(connection, eventhub_name=hub)
    with client:
        for partition in range(PARTITIONS):
            batch = client.create_batch(partition_id=str(partition))
            for n in range(partition, count, PARTITIONS):
                event = EventData(f"event {n:06d}")
                try:
                    batch.add(event)
                except ValueError:  # full: send it, start the next
                    client.send_batch(batch)
                    batch = client.create_batch(partition_id=str(partition))
                    batch.add(event)
            client.send_batch(batch)


def create_container(azurite: Azurite) -> None:
    """The checkpoint container (the anchor's bundled blob client does not create it)."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azurite.connection_string, CONTAINER)
    with contextlib.suppress(ResourceExistsError):
        container.create_container()


# --- subjects --------------------------------------------------------------------------------


def start(name: str, eh: str, storage: str, hub: str, count: int) -> Subject:
    """funchost start on the bench app, or the SDK loop; returned once it is ready."""
    env = {**os.environ, "EH": eh, "BENCH_EH": eh, "BENCH_STORAGE": storage}
    env |= {"AzureWebJobsStorage": storage, "BENCH_HUB": hub, "BENCH_EVENTS": str(count)}
    return start_drainer(name, APP, [str(BENCH / "eh_sdk_loop.py"), hub, str(count)], env)


# --- the benchmark ---------------------------------------------------------------------------


def one_run(name: str, azurite: Azurite, count: int) -> Drained:
    """A fresh peer and hub, preloaded; the subject reads it all."""
    hub = f"bench{uuid.uuid4().hex[:8]}"
    peer, connection = start_peer(hub)
    try:
        preload(connection, hub, count)
        subject = start(name, connection, azurite.connection_string, hub, count)
        return drain(subject, peer.pid, count, RUN_TIMEOUT)
    finally:
        stop(peer, 10)


def eventhubs_group(options: Options) -> GroupResult:
    """Interleaved rounds of both subjects; funchost against the SDK loop."""
    if not AZURITE.exists():
        raise Skip(f"Azurite is not installed ({AZURITE} is missing): run `{INSTALL}` in {REPO}")
    workdir = Path(tempfile.mkdtemp(prefix="eventhubs-bench-"))
    proc, azurite = launch(workdir, lambda command: pinned(command, 1))
    try:
        create_container(azurite)
        runs = interleaved(
            "eventhubs",
            SUBJECTS,
            options.rounds,
            lambda subject: one_run(subject, azurite, options.messages),
        )
    finally:
        proc.kill()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    result = drained_result("eventhubs", runs, "sdk loop", "event", TARGET)
    result.details["events"] = options.messages
    return result


if __name__ == "__main__":
    from bench.suite import main

    main(("eventhubs",), name="eventhub_throughput")
