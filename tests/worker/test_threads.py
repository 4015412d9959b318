"""worker/threads.py: the pool ``def`` functions run on (PYTHON_THREADPOOL_THREAD_COUNT)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from funchost.worker.threads import ThreadPool

who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_no_more_than_max_threads_run_at_once() -> None:
    pool = ThreadPool(3, "test-pool")
    lock = threading.Lock()
    running = 0
    peak = 0

    def job(index: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return index * 2

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(pool.submit(loop, job, i) for i in range(12))))

    try:
        results = asyncio.run(main())
    finally:
        pool.shutdown()
    assert results == [i * 2 for i in range(12)]  # every job, each result to its own caller
    assert peak == 3


def test_a_burst_after_a_quiet_spell_gets_a_thread_per_job() -> None:
    pool = ThreadPool(3, "test-pool")
    barrier = threading.Barrier(3, timeout=5)  # passes only if all three run at once

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        await pool.submit(loop, lambda: 0)  # one thread exists and is idle now
        return list(await asyncio.gather(*(pool.submit(loop, barrier.wait) for _ in range(3))))

    try:
        assert sorted(asyncio.run(main())) == [0, 1, 2]
    finally:
        pool.shutdown()


def test_a_job_sees_the_submitters_context_and_its_exception_reaches_the_caller() -> None:
    pool = ThreadPool(2, "test-pool")

    def read() -> tuple[str, bool]:
        return who.get(), threading.current_thread().daemon

    def fail() -> None:
        raise ValueError("from the thread")

    async def main() -> tuple[str, bool]:
        who.set("invocation-1")
        seen = await pool.submit(asyncio.get_running_loop(), read)
        with pytest.raises(ValueError, match="from the thread"):
            await pool.submit(asyncio.get_running_loop(), fail)
        return seen

    try:
        assert asyncio.run(main()) == ("invocation-1", True)  # daemons: never block the exit
    finally:
        pool.shutdown()


def test_a_result_for_a_cancelled_wait_is_dropped_and_the_pool_goes_on() -> None:
    pool = ThreadPool(1, "test-pool")
    release = threading.Event()

    async def main() -> str:
        slow = pool.submit(asyncio.get_running_loop(), release.wait, 5)
        waiter = asyncio.ensure_future(slow)
        await asyncio.sleep(0.05)
        waiter.cancel()  # as a functionTimeout cancels the invocation
        release.set()
        return str(await pool.submit(asyncio.get_running_loop(), lambda: "next"))

    try:
        assert asyncio.run(main()) == "next"
    finally:
        pool.shutdown()


def test_shutdown_cancels_jobs_that_have_not_started() -> None:
    pool = ThreadPool(1, "test-pool")
    release = threading.Event()

    async def main() -> tuple[bool, bool]:
        running = pool.submit(asyncio.get_running_loop(), release.wait, 5)
        queued = pool.submit(asyncio.get_running_loop(), lambda: "never")
        await asyncio.sleep(0.05)
        pool.shutdown()
        release.set()
        await running
        return running.done() and not running.cancelled(), queued.cancelled()

    assert asyncio.run(main()) == (True, True)
