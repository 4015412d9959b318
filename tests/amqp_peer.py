"""The local AMQP 1.0 peer (tests/peers/amqp) as a subprocess, for Service Bus and Event Hubs tests.

API (kept small and stable; other test modules build on it):

- ``start_peer(**entities) -> AmqpPeer`` starts ``python -m tests.peers.amqp`` (cwd = repository
  root) on a free loopback port (``--port 0``; the peer prints the port it got), waits for its
  ready line (bounded by ``READY_TIMEOUT``) and returns the running peer.
- ``amqp_peer(**entities)`` is the same as a context manager that stops the peer on exit.
- ``AmqpPeer.connection_string`` serves both SDKs in emulator mode
  (``Endpoint=sb://127.0.0.1:P;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true``;
  for Event Hubs add ``;EntityPath=<hub>`` or name the hub in the client/binding);
  ``AmqpPeer.port``; ``AmqpPeer.stop()`` (SIGTERM, then SIGKILL after ``STOP_TIMEOUT``);
  ``AmqpPeer.log()`` is the peer's stderr so far (for assertion messages).
- ``peer_fixture(scope="function", **entities)`` makes a pytest fixture yielding an ``AmqpPeer``:
  ``sb_peer = peer_fixture(queues=["q1"], lock_duration=2)`` at module level.

Entities (keyword arguments): ``queues``, ``session_queues``, ``topics``, ``subscriptions``
(``"topic/sub"``), ``eventhubs`` (``{"hub": 4}``: name → partition count), ``lock_duration``
(seconds, default 60), ``max_delivery_count`` (default 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from peer_process import PeerError, PeerProcess, spawn

READY_TIMEOUT = 20.0
READY_PREFIX = "Endpoint=sb://127.0.0.1:"


AmqpPeerError = PeerError  # the peer did not start (its stderr is in the message)


@dataclass
class AmqpPeer(PeerProcess):
    """A running peer process."""

    connection_string: str
    port: int


def peer_arguments(
    queues: Iterable[str] = (),
    session_queues: Iterable[str] = (),
    topics: Iterable[str] = (),
    subscriptions: Iterable[str] = (),
    eventhubs: Mapping[str, int] | None = None,
    lock_duration: float | None = None,
    max_delivery_count: int | None = None,
) -> list[str]:
    """The peer's command-line arguments for these entities."""
    args: list[str] = []
    for flag, names in (
        ("--queue", queues),
        ("--session-queue", session_queues),
        ("--topic", topics),
        ("--subscription", subscriptions),
    ):
        for name in names:
            args += [flag, name]
    for hub, partitions in (eventhubs or {}).items():
        args += ["--eventhub", f"{hub}:{partitions}"]
    if lock_duration is not None:
        args += ["--lock-duration", str(lock_duration)]
    if max_delivery_count is not None:
        args += ["--max-delivery-count", str(max_delivery_count)]
    return args


def start_peer(**entities: Any) -> AmqpPeer:
    """Start a peer on a free loopback port and wait for its ready line."""
    args = peer_arguments(**entities)
    proc, stderr_path, line = spawn(
        "tests.peers.amqp", args, READY_PREFIX, "AMQP peer", READY_TIMEOUT
    )
    port = int(line[len(READY_PREFIX) :].split(";", 1)[0])
    return AmqpPeer(proc, stderr_path, line, port)


@contextmanager
def amqp_peer(**entities: Any) -> Iterator[AmqpPeer]:
    """A peer for the duration of a ``with`` block."""
    peer = start_peer(**entities)
    try:
        yield peer
    finally:
        peer.stop()


Scope = Literal["session", "package", "module", "class", "function"]


def peer_fixture(scope: Scope = "function", **entities: Any) -> Any:
    """A pytest fixture (assign it at module level) that yields a running ``AmqpPeer``."""

    def _peer() -> Iterator[AmqpPeer]:
        with amqp_peer(**entities) as peer:
            yield peer

    return pytest.fixture(scope=scope)(_peer)
