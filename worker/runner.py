"""Run user code: ``async def`` on the loop, ``def`` in a bounded thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from funchost.errors import ConfigError, InvocationTimeout

THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"


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
        self._pool = ThreadPoolExecutor(self.max_threads, thread_name_prefix="funchost-sync")
        self._busy = 0
        self._lock = threading.Lock()

    @property
    def busy_threads(self) -> int:
        """Sync functions still running (after a timeout they may never return)."""
        return self._busy

    async def call(self, fn: Callable[..., Any], kwargs: dict[str, Any], is_async: bool) -> Any:
        """Call the function; raise InvocationTimeout past the timeout."""
        work = fn(**kwargs) if is_async else self._in_thread(fn, kwargs)
        if self.timeout is None:
            return await work
        try:
            return await _bounded(work, self.timeout)
        except asyncio.TimeoutError:
            raise InvocationTimeout(f"timed out after {self.timeout:g} s") from None

    def _in_thread(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
        # The copied context carries the invocation id into the thread for log records.
        ctx = contextvars.copy_context()
        call = functools.partial(ctx.run, self._counted, fn, kwargs)
        return asyncio.get_running_loop().run_in_executor(self._pool, call)

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
        self._pool.shutdown(wait=False, cancel_futures=True)


if sys.version_info >= (3, 11):

    async def _bounded(work: Awaitable[Any], timeout: float) -> Any:
        # asyncio.timeout cancels in place; wait_for on 3.11 wraps the work in a new task.
        async with asyncio.timeout(timeout):
            return await work

else:

    async def _bounded(work: Awaitable[Any], timeout: float) -> Any:
        return await asyncio.wait_for(work, timeout)
