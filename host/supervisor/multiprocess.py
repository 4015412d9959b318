"""The supervisor: N workers behind one socket, replaced when they die, swapped on reload.

The supervisor accepts every connection and hands it to the next worker in turn (its file
descriptor through a Unix socket). Workers sharing the listening socket instead would each
take whatever arrives while their event loop is free, so two requests for a busy ``def``
function could queue in one worker while the other idles; handed over in turn, two
concurrent requests always reach two workers. Keep-alive connections stay with their worker.

Workers run as a generation. A reload (a save under --reload, or SIGHUP) starts a whole new
generation beside the old one; only when every new worker serves is the old generation told
to stop, so requests in flight finish and the socket never stops accepting. The new workers
start their trigger listeners only once the old ones have exited: a timer or blob scan
never runs in two generations at once, and the new one need not wait for a lock to expire.
A new generation that fails (an import error) is stopped and the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from funchost.backoff import ExponentialBackoff
from funchost.host.ci import ready
from funchost.host.supervisor.workers import Worker, WorkerCommand, spawn

log = logging.getLogger("funchost.supervisor")
# A worker that lived this long had started fine: its death restarts the backoff.
HEALTHY_AFTER = 10.0
MAX_RESTART_DELAY = 10.0
_RESTART_DELTA = 0.5
# Past the shutdown timeout, a worker gets this long to close connections and exit.
_EXIT_MARGIN = 5.0
_NO_WORKER_WAIT = 0.05
# Connections handed to a retiring worker: how long it may take to pick them up, and then
# to read their first request (loopback clients send it with the connect).
_HANDOVER_TIMEOUT = 1.0
_HANDOVER_SETTLE = 0.05


class NeverStarted(Exception):
    """The first generation did not start (the workers printed why)."""


@dataclass(frozen=True)
class SupervisorOptions:
    """How many workers, and the deadlines and files the supervisor keeps."""

    count: int
    shutdown_timeout: float
    strict: bool
    ready_file: Path | None
    url: str  # what the ready file says


class Supervisor:
    """Keeps ``count`` workers serving until asked to stop."""

    def __init__(
        self, spec: WorkerCommand, sock: socket.socket, options: SupervisorOptions
    ) -> None:
        # Our output gone (the terminal closed, its SIGHUP taken for a reload): nobody sees the
        # host any more, so it stops as a plain `funchost start` dies with its terminal.
        self.spec = dataclasses.replace(spec, output_lost=self.request_stop)
        self.sock = sock
        self._turn = 0  # the worker the next connection goes to
        self.options = options
        self.current: list[Worker] = []
        self._backoff = [
            ExponentialBackoff(0.0, MAX_RESTART_DELAY, _RESTART_DELTA) for _ in range(options.count)
        ]
        self._stopping = asyncio.Event()
        self._reload = asyncio.Event()
        self._reasons: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._starting: list[Worker] = []  # a generation not yet serving

    # --- asked from outside (signal handlers, the file watcher) ---------------------------

    def request_stop(self) -> None:
        """SIGTERM/SIGINT: only sets a flag."""
        self._stopping.set()

    def request_reload(self, reason: str) -> None:
        """SIGHUP or a save: reload once the current reload (if any) is done."""
        self._reasons.append(reason)
        self._reload.set()

    def kill_all(self) -> None:
        """A second signal: no more waiting."""
        for worker in [*self.current, *self._starting]:
            worker.signal(signal.SIGKILL)

    # --- running -----------------------------------------------------------------------

    async def run(self) -> None:
        """Start the first generation, then serve reloads until asked to stop."""
        first = await self._generation(hold=False, reject=self.options.strict)
        if first is None:
            raise NeverStarted
        self._adopt(first)
        log.info(
            "%d worker(s) serving (pids %s).",
            len(first),
            ", ".join(str(w.pid) for w in first),
        )
        accepting = asyncio.get_running_loop().create_task(self._accept())
        if self.options.ready_file is not None:
            ready.write_ready(self.options.ready_file, self.options.url)
        try:
            async for reasons in self._reload_requests():
                await self.reload(reasons)
        finally:
            accepting.cancel()
            await asyncio.gather(accepting, return_exceptions=True)
            await self._stop_all()

    async def _accept(self) -> None:
        """Accept connections and hand each to a serving worker."""
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = await loop.sock_accept(self.sock)
            except OSError as exc:  # out of descriptors, say: the backlog waits meanwhile
                log.error("Accepting a connection failed: %s; trying again.", exc)
                await asyncio.sleep(_NO_WORKER_WAIT)
                continue
            with conn:  # the worker has its own copy once handed
                while not self._hand(conn):
                    await asyncio.sleep(_NO_WORKER_WAIT)  # all dead or full: one is replaced soon

    def _hand(self, conn: socket.socket) -> bool:
        """Give the connection to the next serving worker that takes it, in turn."""
        count = len(self.current)
        for step in range(count):
            worker = self.current[(self._turn + step) % count]
            if worker.serving and worker.hand(conn):
                self._turn = (self._turn + step + 1) % count
                return True
        return False

    async def _reload_requests(self) -> AsyncIterator[list[str]]:
        """Each batch of reload reasons, until stopping."""
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                wanted = asyncio.ensure_future(self._reload.wait())
                await asyncio.wait({stop, wanted}, return_when=asyncio.FIRST_COMPLETED)
                wanted.cancel()
                if self._reload.is_set() and not self._stopping.is_set():
                    self._reload.clear()
                    reasons, self._reasons = self._reasons, []
                    yield reasons
        finally:
            stop.cancel()

    async def reload(self, reasons: list[str]) -> bool:
        """Swap in a new generation; False (old one kept) when it does not start."""
        began = time.perf_counter()
        log.info("Reloading (%s).", ", ".join(sorted(set(reasons))))
        new = await self._generation(hold=True, reject=True)
        if new is None:
            log.error(
                "Reload failed: the new code did not start (the error is above); still serving "
                "the previous version. Save again to retry."
            )
            return False
        old = self.current
        self._adopt(new)
        await self._retire(old)
        for worker in new:
            worker.signal(signal.SIGUSR1)  # the old listeners are gone: start the triggers
        log.info("Reloaded in %d ms.", round((time.perf_counter() - began) * 1000))
        return True

    async def _generation(self, *, hold: bool, reject: bool) -> list[Worker] | None:
        """Start ``count`` workers; all of them once they serve, None if any did not."""
        workers = self._starting = []
        for i in range(self.options.count):
            workers.append(await spawn(self.spec, i, hold_triggers=hold, reject_broken=reject))
        started = await asyncio.gather(*(w.ready for w in workers))
        if all(started):
            return workers
        await self._retire(workers)
        return None

    def _adopt(self, workers: list[Worker]) -> None:
        self.current = workers
        for worker in workers:
            self._watch(worker)

    def _watch(self, worker: Worker) -> None:
        task = asyncio.get_running_loop().create_task(self._replace_when_dead(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replace_when_dead(self, worker: Worker) -> None:
        """A current worker that exits unasked is replaced, later each time it keeps dying."""
        code = await worker.process.wait()
        if self._stopping.is_set() or worker not in self.current:
            return  # asked to stop, or retired by a reload
        lived = time.monotonic() - worker.started
        delay = self._backoff[worker.index].next_delay(succeeded=lived >= HEALTHY_AFTER)
        log.warning(
            "Worker %d (pid %d) exited with code %s; starting a replacement in %.1f s.",
            worker.index,
            worker.pid,
            code,
            delay,
        )
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set() or worker not in self.current:
            return
        replacement = await spawn(self.spec, worker.index, hold_triggers=False, reject_broken=False)
        self.current = [replacement if w is worker else w for w in self.current]
        self._watch(replacement)
        if await replacement.ready:
            log.info("Worker %d replaced (pid %d).", worker.index, replacement.pid)

    async def _retire(self, workers: list[Worker]) -> None:
        """Stop these workers together: each drains its requests in flight first.

        No longer handed connections, they first take those already handed over and read
        their requests: a worker told to stop closes connections with no request yet.
        """
        await asyncio.gather(*(w.taken(_HANDOVER_TIMEOUT) for w in workers))
        await asyncio.sleep(_HANDOVER_SETTLE)
        grace = self.options.shutdown_timeout + _EXIT_MARGIN
        await asyncio.gather(*(w.stop(grace) for w in workers))

    async def _stop_all(self) -> None:
        log.info("Stopping %d worker(s)...", len(self.current))
        self.sock.close()  # as one process's server.close(): new connections are refused
        await self._retire(self.current)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.options.ready_file is not None:
            ready.clear_ready(self.options.ready_file)
