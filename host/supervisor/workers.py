"""One worker process: started, handed connections, watched, told to stop.

A worker is ``python -m funchost start …`` with the supervisor's variables (slot.py). Its
stdout and stderr come back through pipes and are written on whole lines only, so the lines
of N workers (``--json-logs`` documents included) never interleave mid-line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from funchost.host.azurite import die_with_parent
from funchost.host.supervisor.slot import READY, slot_environ

_CHUNK = 65536
_TAKEN_POLL = 0.005


@dataclass(frozen=True)
class WorkerCommand:
    """How every worker is started: the command line, and the port the supervisor serves."""

    argv: Sequence[str]  # ``funchost start``'s own arguments
    port: int
    # The environment funchost started with, before local.settings.json's Values went into it:
    # a worker reads the file afresh, and the environment wins over it.
    environ: Mapping[str, str]
    # Our stdout or stderr failed (a closed terminal): the supervisor sets what to do.
    output_lost: Callable[[], None] = field(default=lambda: None, compare=False)

    def command(self) -> list[str]:
        """The same ``start`` as a single process: no reload, one worker (the last flag wins)."""
        return [sys.executable, "-m", "funchost", *self.argv, "--no-reload", "--workers", "1"]


@dataclass(eq=False)
class Worker:
    """A started worker process and what is known of it."""

    index: int
    process: asyncio.subprocess.Process
    ready: asyncio.Future[bool]  # True once it serves; False if it exited first
    channel: socket.socket  # our end: accepted connections are sent through it
    started: float = field(default_factory=time.monotonic)
    relays: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """The process id (what a function returning os.getpid() answers)."""
        return self.process.pid

    @property
    def serving(self) -> bool:
        """Started, said it serves, and not exited."""
        ready = self.ready.done() and self.ready.result()
        return ready and self.process.returncode is None

    def hand(self, conn: socket.socket) -> bool:
        """Send it a connection; False when it cannot take one now (gone, or its queue full)."""
        try:
            socket.send_fds(self.channel, [b"c"], [conn.fileno()])
        except OSError:
            return False
        return True

    async def taken(self, timeout: float) -> None:
        """Wait (up to ``timeout`` s) until it has taken every connection handed to it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while _queued(self.channel) and self.process.returncode is None:
            if loop.time() >= deadline:
                return
            await asyncio.sleep(_TAKEN_POLL)

    def signal(self, sig: int) -> None:
        """Send a signal unless it has exited."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    async def stop(self, grace: float) -> int:
        """SIGTERM (the worker drains), then SIGKILL after ``grace`` s; its exit code."""
        self.signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), grace)
        except asyncio.TimeoutError:
            self.signal(signal.SIGKILL)
            code = await self.process.wait()
        await asyncio.gather(*self.relays, return_exceptions=True)
        self.channel.close()
        return code


async def spawn(
    spec: WorkerCommand, index: int, *, hold_triggers: bool, reject_broken: bool
) -> Worker:
    """Start worker ``index`` on the shared socket; its ``ready`` resolves once it serves."""
    loop = asyncio.get_running_loop()
    ready_read, ready_write = os.pipe()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ours.setblocking(False)
    fds = (theirs.fileno(), ready_write)
    env = dict(spec.environ)
    env.update(
        slot_environ(
            index, fds, spec.port, hold_triggers=hold_triggers, reject_broken=reject_broken
        )
    )
    env["PYTHONUNBUFFERED"] = "1"  # its lines reach the relay as they are written
    try:
        process = await asyncio.create_subprocess_exec(
            *spec.command(),
            env=env,
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl+C reaches the supervisor, which stops them in order
            preexec_fn=die_with_parent(),
        )
    finally:
        os.close(ready_write)  # the child's copy is the only one: EOF when it exits
        theirs.close()
    worker = Worker(index, process, _ready_future(loop, ready_read), ours)
    assert process.stdout is not None and process.stderr is not None
    worker.relays += [
        loop.create_task(relay(process.stdout, sys.stdout.buffer, spec.output_lost)),
        loop.create_task(relay(process.stderr, sys.stderr.buffer, spec.output_lost)),
    ]
    return worker


def _queued(channel: socket.socket) -> int:
    """Bytes handed over and not yet taken (Linux counts them until the receiver reads)."""
    import fcntl  # here: Unix only, and this module is imported everywhere (cli)
    import termios

    try:
        outq = fcntl.ioctl(channel.fileno(), termios.TIOCOUTQ, b"\0" * 4)
    except OSError:  # closed, or a system without it: nothing to wait for
        return 0
    return int(struct.unpack("i", outq)[0])


def _ready_future(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.Future[bool]:
    """True when the worker writes its ready line, False when the pipe closes without it."""
    future: asyncio.Future[bool] = loop.create_future()

    def readable() -> None:
        loop.remove_reader(fd)
        try:
            said = os.read(fd, len(READY))
        finally:
            os.close(fd)
        if not future.done():
            future.set_result(said == READY)

    loop.add_reader(fd, readable)
    return future


async def relay(source: asyncio.StreamReader, target: BinaryIO, lost: Callable[[], None]) -> None:
    """Copy a worker's output to ours, complete lines at a time.

    When ours is gone (the terminal closed), ``lost`` is called and the worker's output is
    still read, so that the worker never blocks on a full pipe while it stops.
    """
    pending = b""
    out: BinaryIO | None = target
    while chunk := await source.read(_CHUNK):
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if cut:
            out, pending = _write(out, pending[:cut], lost), pending[cut:]
    if pending:  # its last words had no newline
        _write(out, pending + b"\n", lost)


def _write(target: BinaryIO | None, data: bytes, lost: Callable[[], None]) -> BinaryIO | None:
    """Write and flush; on failure call ``lost`` and return None (write nothing more)."""
    if target is None:
        return None
    try:
        target.write(data)
        target.flush()
    except (OSError, ValueError):  # EIO from a hung-up terminal, EPIPE, a closed stream
        lost()
        return None
    return target
