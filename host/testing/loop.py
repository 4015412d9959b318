"""The event loop the in-process hosts run on: one daemon thread for the test session.

One loop for every app of the session, not one each: the binding providers keep their SDK
clients per process, and a client belongs to the loop that opened it. A thread, not the
test's own loop, so plain synchronous tests can call the app (and so can async tests).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_CLOSE_TIMEOUT = 10.0


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed, as ``funchost start`` runs on it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class LoopThread:
    """An event loop running in a daemon thread; ``run`` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = _new_loop()
        self._thread = threading.Thread(target=self._run, name="funchost-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float, what: str) -> T:
        """The coroutine's result, run on the loop; cancelled and TimeoutError after ``timeout``."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                f"{what}: called from the host's own event loop (an async function of the "
                "app?), where it would wait for itself; call it from the test"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"{what} did not finish within {timeout:g} s") from None

    def close(self) -> None:
        """Cancel what still runs on the loop, stop it and join the thread (bounded)."""
        if not self._thread.is_alive():
            return
        try:
            self.run(_cancel_the_rest(), _CLOSE_TIMEOUT, "closing the host's event loop")
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(_CLOSE_TIMEOUT)
            if not self._thread.is_alive():
                self.loop.close()


async def _cancel_the_rest() -> None:
    """Tasks the hosts left (none after a clean stop), async generators, the default pool."""
    loop = asyncio.get_running_loop()
    others = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
