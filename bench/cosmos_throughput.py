"""Group cosmosdb: funchost's Cosmos DB trigger beside a hand-written change-feed loop.

Each run starts a fresh Cosmos DB peer (tests/peers/cosmos: cosmosdb-server behind the proxy
that answers the change feed, both pinned to CPU 1), creates the database ``bench`` with the
monitored container ``items`` (partition key /pk) and ``leases`` (/id), preloads ``--documents``
documents into ``items``, then starts the subject (pinned to CPU 0) and times it from its
ready signal until it has handled every document.

- ``funchost``: ``funchost start`` on bench/apps/cosmos_throughput (an ``async def`` taking
  ``func.DocumentList`` that counts), start_from_beginning, max_items_per_invocation 100, a
  lease per range in ``leases`` checkpointed after every batch;
- ``sdk loop``: the anchor, bench/cosmos_sdk_loop.py, the same page size and a checkpoint of
  a lease-like document per page.

Documents per second run from the subject's ready signal (funchost: "Host started", the loop:
"ready") to its last document; CPU is the subject process's own over that span, the peer's
is the proxy's and cosmosdb-server's together.

    python -m bench.cosmos_throughput [--quick] [--documents 20000] [--rounds 3]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from bench import common
from bench.common import BENCH, REPO, Options
from bench.table import GroupResult, Target

if str(REPO) not in sys.path:  # the peer's own module says where it expects cosmosdb-server
    sys.path.insert(0, str(REPO))
from tests.peers.cosmos.inner import default_cli

APP = BENCH / "apps" / "cosmos_throughput"
SUBJECTS = ("funchost", "sdk loop")
TARGET = Target(">=", 0.90)  # issue 16
DATABASE = "bench"
PRELOAD_CONCURRENCY = 32  # creates in flight: the peer's one core is busy, not the client
RUN_TIMEOUT = 300.0


# --- the peer --------------------------------------------------------------------------------


def start_peer() -> tuple[subprocess.Popen[str], str]:
    """The Cosmos DB peer on a free port, pinned to CPU 1; (process, connection string)."""
    cmd = [sys.executable, "-m", "tests.peers.cosmos", "--port", "0"]
    proc = subprocess.Popen(
        common.pinned(cmd, 1),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # bounded: the peer gives up after its ready timeout
    if not line.startswith("AccountEndpoint=http://"):
        common.stop(proc, 5)
        raise common.BenchError(
            f"the Cosmos DB peer did not start (it printed {line!r}); to see why, run "
            f"`{' '.join(cmd[1:])}` in {REPO}"
        )
    return proc, line


async def preload(connection: str, count: int) -> None:
    """The database, its two containers, and count documents over 16 partition keys."""
    from azure.cosmos import PartitionKey
    from azure.cosmos.aio import CosmosClient

    async with CosmosClient.from_connection_string(connection) as client:
        database = await client.create_database(DATABASE)
        items = await database.create_container("items", PartitionKey("/pk"))
        await database.create_container("leases", PartitionKey("/id"))
        slots = asyncio.Semaphore(PRELOAD_CONCURRENCY)

        async def create(n: int) -> None:
            async with slots:
                await items.create_item({"id": f"doc{n:06d}", "pk": f"p{n % 16}", "n": n})

        await asyncio.gather(*(create(n) for n in range(count)))


# --- subjects and runs -----------------------------------------------------------------------


def start(name: str, connection: str, count: int) -> common.Subject:
    """funchost start on the bench app, or the SDK loop; returned once it is ready."""
    env = {**os.environ, "BENCH_COSMOS": connection, "BENCH_DOCS": str(count)}
    loop = [str(BENCH / "cosmos_sdk_loop.py"), DATABASE, str(count)]
    return common.start_drainer(name, APP, loop, env)


def one_run(name: str, count: int) -> common.Drained:
    """A fresh peer, preloaded; the subject reads the whole change feed."""
    peer, connection = start_peer()
    try:
        asyncio.run(preload(connection, count))
        return common.drain(start(name, connection, count), peer.pid, count, RUN_TIMEOUT)
    finally:
        common.stop(peer, 10)


def cosmosdb_group(options: Options) -> GroupResult:
    """Interleaved rounds of both subjects; funchost against the SDK loop."""
    server = default_cli()
    if not server.exists():
        raise common.Skip(
            f"cosmosdb-server is not installed ({server} is missing): run "
            f"`npm install --no-save @vercel/cosmosdb-server@1.0.1` in {REPO}"
        )
    runs = common.interleaved(
        "cosmosdb", SUBJECTS, options.rounds, lambda subject: one_run(subject, options.documents)
    )
    result = common.drained_result("cosmosdb", runs, "sdk loop", "doc", TARGET)
    result.details["documents"] = options.documents
    return result


if __name__ == "__main__":
    from bench.suite import main

    main(("cosmosdb",), name="cosmos_throughput")
