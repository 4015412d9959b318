"""The local Cosmos DB peer (tests/peers/cosmos) as a subprocess, for Cosmos DB tests.

API (kept small and stable; other test modules build on it):

- ``start_peer() -> CosmosPeer`` starts ``python -m tests.peers.cosmos --port 0`` (cwd =
  repository root; it starts cosmosdb-server on an inner port and prints its connection
  string), waits for the ready line (bounded by ``READY_TIMEOUT``) and returns the running peer.
- ``cosmos_peer()`` is the same as a context manager that stops the peer on exit.
- ``CosmosPeer.connection_string`` (``AccountEndpoint=http://127.0.0.1:P/;AccountKey=K;``,
  for ``CosmosClient.from_connection_string`` and for app settings), ``.endpoint``
  (``http://127.0.0.1:P/``), ``.key``, ``.port``; ``.stop()`` (SIGTERM, which stops the node
  child too, then SIGKILL after ``STOP_TIMEOUT``); ``.log()`` is the peer's stderr so far.
- ``database_fixture()`` makes a fixture yielding a fresh database's name with container
  ``items`` (partition key ``/pk``), dropped afterwards; it uses the module's ``cosmos``.
- ``peer_fixture(scope="function")`` makes a pytest fixture yielding a ``CosmosPeer``:
  ``cosmos = peer_fixture(scope="module")`` at module level.

The peer starts empty: create databases and containers through the SDK.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from peer_process import PeerError, PeerProcess, spawn

READY_TIMEOUT = 30.0
READY_PREFIX = "AccountEndpoint=http://127.0.0.1:"


CosmosPeerError = PeerError  # the peer did not start (its stderr is in the message)


@dataclass
class CosmosPeer(PeerProcess):
    """A running peer process."""

    connection_string: str

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:P/``."""
        return self.connection_string.split(";", 1)[0].removeprefix("AccountEndpoint=")

    @property
    def key(self) -> str:
        """The account key (any base64 key works; this is the emulator's)."""
        return self.connection_string.split("AccountKey=", 1)[1].rstrip(";")

    @property
    def port(self) -> int:
        """The public port."""
        return int(self.endpoint.rstrip("/").rsplit(":", 1)[1])


def start_peer() -> CosmosPeer:
    """Start a peer on a free loopback port and wait for its ready line."""
    proc, stderr_path, line = spawn(
        "tests.peers.cosmos", [], READY_PREFIX, "Cosmos DB peer", READY_TIMEOUT
    )
    return CosmosPeer(proc, stderr_path, line)


@contextmanager
def cosmos_peer() -> Iterator[CosmosPeer]:
    """A peer for the duration of a ``with`` block."""
    peer = start_peer()
    try:
        yield peer
    finally:
        peer.stop()


Scope = Literal["session", "package", "module", "class", "function"]


def peer_fixture(scope: Scope = "function") -> Any:
    """A pytest fixture (assign it at module level) that yields a running ``CosmosPeer``."""

    def _peer() -> Iterator[CosmosPeer]:
        with cosmos_peer() as peer:
            yield peer

    return pytest.fixture(scope=scope)(_peer)


def database_fixture(container: str = "items", partition_key: str = "/pk") -> Any:
    """A fixture yielding a fresh database's name, with ``container`` in it; dropped after.

    Needs a ``cosmos`` fixture (a ``peer_fixture``) in the test module.
    """

    def _database(cosmos: CosmosPeer) -> Iterator[str]:
        from azure.cosmos import CosmosClient, PartitionKey

        name = "db" + uuid.uuid4().hex[:10]
        client = CosmosClient.from_connection_string(cosmos.connection_string)
        client.create_database(name).create_container(container, PartitionKey(partition_key))
        yield name
        client.delete_database(name)

    return pytest.fixture(_database)
