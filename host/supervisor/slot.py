"""The worker's side: what its supervisor passed down, read once from the environment.

A worker is an ordinary ``funchost start`` process; these variables make it serve on the
supervisor's socket instead of binding its own, and tell the supervisor when it serves.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

LISTEN_FD = "FUNCHOST_SUPERVISOR_LISTEN_FD"
READY_FD = "FUNCHOST_SUPERVISOR_READY_FD"
INDEX = "FUNCHOST_WORKER_INDEX"
HOLD_TRIGGERS = "FUNCHOST_SUPERVISOR_HOLD_TRIGGERS"
REJECT_BROKEN = "FUNCHOST_SUPERVISOR_REJECT_BROKEN"
READY = b"ready\n"


@dataclass(frozen=True)
class WorkerSlot:
    """A worker's place under its supervisor."""

    index: int  # 0..N-1; 0 prints the report, as one host would
    listen_fd: int  # the supervisor's listening socket, inherited
    ready_fd: int  # a pipe: one line once the worker serves
    hold_triggers: bool  # start trigger listeners only on SIGUSR1 (the old ones still run)
    reject_broken: bool  # an app that fails to import exits instead of serving nothing

    def listening_socket(self) -> socket.socket:
        """The inherited socket, as a socket object this process may close (its copy only)."""
        return socket.socket(fileno=self.listen_fd)

    def notify_ready(self) -> None:
        """Tell the supervisor this worker accepts requests; the pipe is closed after."""
        try:
            os.write(self.ready_fd, READY)
        finally:
            os.close(self.ready_fd)


def worker_slot(environ: Mapping[str, str]) -> WorkerSlot | None:
    """This process's slot, None when it was not started by a supervisor."""
    if LISTEN_FD not in environ:
        return None
    return WorkerSlot(
        index=int(environ.get(INDEX, "0")),
        listen_fd=int(environ[LISTEN_FD]),
        ready_fd=int(environ[READY_FD]),
        hold_triggers=environ.get(HOLD_TRIGGERS) == "1",
        reject_broken=environ.get(REJECT_BROKEN) == "1",
    )


def slot_environ(
    index: int, listen_fd: int, ready_fd: int, *, hold_triggers: bool, reject_broken: bool
) -> dict[str, str]:
    """The variables a supervisor sets for one worker (read back by :func:`worker_slot`)."""
    return {
        INDEX: str(index),
        LISTEN_FD: str(listen_fd),
        READY_FD: str(ready_fd),
        HOLD_TRIGGERS: "1" if hold_triggers else "0",
        REJECT_BROKEN: "1" if reject_broken else "0",
    }
