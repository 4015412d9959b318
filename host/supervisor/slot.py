"""The worker's side: what its supervisor passed down, read once from the environment.

A worker is an ordinary ``funchost start`` process; these variables make it serve the
connections its supervisor accepts and hands over (a Unix datagram socket carrying one
descriptor per message) instead of binding the port itself, and tell the supervisor when it
serves.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

CHANNEL_FD = "FUNCHOST_SUPERVISOR_CHANNEL_FD"
READY_FD = "FUNCHOST_SUPERVISOR_READY_FD"
PORT = "FUNCHOST_SUPERVISOR_PORT"
INDEX = "FUNCHOST_WORKER_INDEX"
HOLD_TRIGGERS = "FUNCHOST_SUPERVISOR_HOLD_TRIGGERS"
REJECT_BROKEN = "FUNCHOST_SUPERVISOR_REJECT_BROKEN"
READY = b"ready\n"
_BATCH = 64  # descriptors taken per wake-up; the rest on the next


@dataclass(frozen=True)
class WorkerSlot:
    """A worker's place under its supervisor."""

    index: int  # 0..N-1; 0 prints the report, as one host would
    channel_fd: int  # connections accepted by the supervisor arrive here
    ready_fd: int  # a pipe: one line once the worker serves
    port: int  # the port the supervisor listens on (for URLs and the report)
    hold_triggers: bool  # start trigger listeners only on SIGUSR1 (the old ones still run)
    reject_broken: bool  # an app that fails to import exits instead of serving nothing

    def notify_ready(self) -> None:
        """Tell the supervisor this worker accepts requests; the pipe is closed after."""
        try:
            os.write(self.ready_fd, READY)
        finally:
            os.close(self.ready_fd)


class HandedConnections:
    """Serves each connection the supervisor hands over; ``close`` stops taking them."""

    def __init__(self, slot: WorkerSlot, protocol: Callable[[], asyncio.Protocol]) -> None:
        self._channel = socket.socket(fileno=slot.channel_fd)
        self._channel.setblocking(False)
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._adopting: set[asyncio.Task[object]] = set()
        self._loop.add_reader(self._channel.fileno(), self._take)

    def _take(self) -> None:
        for _ in range(_BATCH):
            try:
                _, fds, _, _ = socket.recv_fds(self._channel, 1, 1)
            except (BlockingIOError, InterruptedError):
                return
            for fd in fds:
                self._adopt(socket.socket(fileno=fd))

    def _adopt(self, conn: socket.socket) -> None:
        task = self._loop.create_task(self._loop.connect_accepted_socket(self._protocol, conn))
        self._adopting.add(task)
        task.add_done_callback(self._adopting.discard)

    def close(self) -> None:
        """Stop taking connections; those already handed over are still served."""
        self._loop.remove_reader(self._channel.fileno())
        self._take()  # accepted by the supervisor: they are ours to answer
        self._channel.close()


def worker_slot(environ: Mapping[str, str]) -> WorkerSlot | None:
    """This process's slot, None when it was not started by a supervisor."""
    if CHANNEL_FD not in environ:
        return None
    return WorkerSlot(
        index=int(environ.get(INDEX, "0")),
        channel_fd=int(environ[CHANNEL_FD]),
        ready_fd=int(environ[READY_FD]),
        port=int(environ[PORT]),
        hold_triggers=environ.get(HOLD_TRIGGERS) == "1",
        reject_broken=environ.get(REJECT_BROKEN) == "1",
    )


def slot_environ(
    index: int, fds: tuple[int, int], port: int, *, hold_triggers: bool, reject_broken: bool
) -> dict[str, str]:
    """The variables a supervisor sets for one worker: ``fds`` = (channel, ready pipe)."""
    return {
        INDEX: str(index),
        CHANNEL_FD: str(fds[0]),
        READY_FD: str(fds[1]),
        PORT: str(port),
        HOLD_TRIGGERS: "1" if hold_triggers else "0",
        REJECT_BROKEN: "1" if reject_broken else "0",
    }
