"""Run user code: ``async def`` on the loop, ``def`` in a bounded thread pool."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from funchost.errors import ConfigError, InvocationTimeout
from funchost.worker.threads import ThreadPool

THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"
_WATCH_INTERVAL = 0.1  # seconds: how late past functionTimeout an invocation may be cancelled


def thread_count(environ: Mapping[str, str]) -> int | None:
    """PYTHON_THREADPOOL_THREAD_COUNT, or None for the executor's own default."""
    raw = environ.get(THREAD_COUNT_SETTING)
    if raw is None or raw == "":
        return None
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError("environment", THREAD_COUNT_SETTING, raw, "a whole number ≥ 1")
    return count


class Runner:
    """Calls user functions under functionTimeout."""

    def __init__(self, max_threads: int | None, timeout: float | None) -> None:
        default = min(32, (os.cpu_count() or 1) + 4)
        self.max_threads = max_threads or default
        self.timeout = timeout
        self._pool = ThreadPool(self.max_threads, "funchost-sync")
        self._busy = 0
        self._lock = threading.Lock()
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._timed_out: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._running_loop: asyncio.AbstractEventLoop | None = None

    @property
    def busy_threads(self) -> int:
        """Sync functions still running (after a timeout they may never return)."""
        return self._busy

    async def call(self, fn: Callable[..., Any], kwargs: dict[str, Any], is_async: bool) -> Any:
        """Call the function; raise InvocationTimeout past the timeout."""
        loop = self._loop()
        work = fn(**kwargs) if is_async else self._pool.submit(loop, self._counted, fn, kwargs)
        task = asyncio.current_task(loop)
        if self.timeout is None or task is None:
            return await work
        # One watchdog checks every deadline a few times a second, instead of a timer per
        # call: on the HTTP path a timer (asyncio.timeout) was a tenth of the host's work.
        self._deadlines[task] = loop.time() + self.timeout
        self._ensure_watchdog(loop)
        try:
            return await work
        except asyncio.CancelledError:
            if task not in self._timed_out:
                raise
            self._timed_out.discard(task)
            if sys.version_info >= (3, 11):
                task.uncancel()
            raise InvocationTimeout(f"timed out after {self.timeout:g} s") from None
        finally:
            self._deadlines.pop(task, None)

    def _ensure_watchdog(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = loop.create_task(self._watch())

    async def _watch(self) -> None:
        """Cancel invocations past their deadline; ends when none is running."""
        loop = asyncio.get_running_loop()
        while self._deadlines:
            await asyncio.sleep(_WATCH_INTERVAL)
            now = loop.time()
            for task, deadline in list(self._deadlines.items()):
                if now >= deadline and task not in self._timed_out:
                    self._timed_out.add(task)
                    task.cancel()

    def _loop(self) -> asyncio.AbstractEventLoop:
        # Looked up once per loop: on Python 3.11 asyncio.get_running_loop() (and
        # current_task() without a loop) makes a getpid() syscall on every call.
        loop = self._running_loop
        if loop is None or loop.is_closed():
            loop = self._running_loop = asyncio.get_running_loop()
        return loop

    def _counted(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            self._busy += 1
        try:
            return fn(**kwargs)
        finally:
            with self._lock:
                self._busy -= 1

    def shutdown(self) -> None:
        """Stop the pool without waiting for threads that overran their timeout."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._pool.shutdown()
