"""The ``azurite`` fixture's Azurite: found as ``funchost start`` finds it, on free ports."""

from __future__ import annotations

import socket
from pathlib import Path

from funchost.bindings.shared.storage import Kind
from funchost.host import azurite
from funchost.host.azurite import RunningAzurite

KINDS: tuple[Kind, ...] = ("blob", "queue", "table")


def start_azurite(workdir: Path) -> RunningAzurite | str:
    """Azurite in memory on free loopback ports, listening; or why it cannot be had."""
    executable = azurite.find_azurite(Path.cwd())
    if executable is None:
        return (
            "the azurite fixture needs Azurite: install it with "
            f"`{azurite.INSTALL}` (or `npm install azurite` in the project folder; "
            "it is looked for on PATH and in node_modules/.bin of the current folder and "
            "its parents)"
        )
    ports = dict(zip(KINDS, free_ports(len(KINDS)), strict=True))
    return azurite.launch(executable, ports, workdir, ["--inMemoryPersistence"])


def free_ports(count: int) -> list[int]:
    """Distinct ports nothing listens on, held open together so none is handed out twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
