"""The thread pool for ``def`` functions, with results handed back to the loop in batches.

``loop.run_in_executor`` costs a ``concurrent.futures.Future`` (a condition and its lock), a
second asyncio future chained to it both ways, and one ``call_soon_threadsafe`` per result:
a write to the loop's self-pipe and a wake-up for each. Here a job carries the loop's own
future; a thread appends what it got to a list and wakes the loop only when the list was
empty, so results finishing while the loop is busy arrive in one wake-up.

Threads are started as jobs wait, up to ``max_threads`` (PYTHON_THREADPOOL_THREAD_COUNT), and
are daemons: a function that never returns must not keep the process from exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

_Job = tuple[
    asyncio.AbstractEventLoop,
    asyncio.Future[Any],
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
]
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


class ThreadPool:
    """Runs callables on up to ``max_threads`` threads; ``submit`` returns a loop future."""

    def __init__(self, max_threads: int, name: str) -> None:
        self.max_threads = max_threads
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._done: list[_Outcome] = []
        self._wake_pending = False
        self._closed = False

    def submit(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in the caller's copied context; the future is ``loop``'s.

        The caller passes its running loop (on Python 3.11 looking it up costs a syscall).
        """
        future = loop.create_future()
        # The copied context carries the invocation id into the thread for log records.
        self._jobs.put((loop, future, contextvars.copy_context(), fn, args))
        with self._lock:
            if self._idle:  # a thread that finished its last job takes this one
                self._idle -= 1
                return future
        if len(self._threads) < self.max_threads:
            self._start_thread()
        return future

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        # Idle threads are counted when they finish a job and claimed by submit(), as
        # ThreadPoolExecutor's idle semaphore does: counting them when they block in get()
        # let a burst of jobs all see one idle thread and queue up behind it.
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, future, ctx, fn, args = job
            try:
                outcome: _Outcome = (future, ctx.run(fn, *args), None)
            except BaseException as exc:  # handed to the awaiting invocation, as executors do
                outcome = (future, None, exc)
            self._hand_back(loop, outcome)
            with self._lock:
                self._idle += 1

    def _hand_back(self, loop: asyncio.AbstractEventLoop, outcome: _Outcome) -> None:
        with self._lock:
            self._done.append(outcome)
            wake = not self._wake_pending
            self._wake_pending = True
        if wake:  # the loop has not been woken for the results waiting since the last batch
            # A closed loop raises RuntimeError: nobody waits for these results any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
            self._wake_pending = False
        for future, result, exc in done:
            if future.cancelled():  # the invocation timed out or was cancelled meanwhile
                continue
            if exc is None:
                future.set_result(result)
            else:
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Cancel jobs not started; idle threads end; busy ones end after their job."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[1].cancel()
        for _ in self._threads:
            self._jobs.put(None)
