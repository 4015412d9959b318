"""Notice an event loop held up by user code, and name the function holding it.

An ``async def`` that calls ``time.sleep`` (or any blocking call) stops every other
invocation and HTTP request on the loop. Nothing fails, so nothing is logged: the host just
goes quiet. A callback on the loop stamps a heartbeat a few times a second; a thread checks the
stamp, and once it is older than the threshold it logs one warning naming the function on the
loop thread's stack (found from the indexed functions' code objects, so invocations pay
nothing for it). One warning per stall, however long it lasts.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

log = logging.getLogger("funchost.host")
LAG_THRESHOLD = 1.0  # seconds without a heartbeat before the loop counts as blocked
_BEAT = 0.25  # seconds between heartbeats, and between the watcher's checks


def user_code(functions: Iterable[tuple[str, Callable[..., Any]]]) -> dict[types.CodeType, str]:
    """code object -> function name, for the functions whose frames the watch looks for."""
    found: dict[types.CodeType, str] = {}
    for name, fn in functions:
        code = getattr(fn, "__code__", None)
        if isinstance(code, types.CodeType):
            found[code] = name
    return found


def holders(frame: types.FrameType | None, functions: Mapping[types.CodeType, str]) -> list[str]:
    """The functions on the stack from ``frame`` outwards, innermost first, each once."""
    names: list[str] = []
    while frame is not None:
        name = functions.get(frame.f_code)
        if name is not None and name not in names:
            names.append(name)
        frame = frame.f_back
    return names


class LoopWatch:
    """A heartbeat on the loop and a thread that warns when it stops beating."""

    def __init__(
        self, functions: Mapping[types.CodeType, str], threshold: float = LAG_THRESHOLD
    ) -> None:
        self._functions = functions
        self._threshold = threshold
        self._beat = time.monotonic()
        self._done = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread = 0

    def start(self) -> None:
        """Begin beating on the running loop and watching from a daemon thread."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="funchost-loopwatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the heartbeat and the thread."""
        self._done.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(2 * _BEAT)

    def _tick(self) -> None:
        self._beat = time.monotonic()
        assert self._loop is not None
        self._handle = self._loop.call_later(_BEAT, self._tick)

    def _watch(self) -> None:
        reported = 0.0  # the heartbeat a warning was logged for: one per stall
        while not self._done.wait(_BEAT):
            beat = self._beat
            lag = time.monotonic() - beat
            if lag > self._threshold and beat != reported:
                reported = beat
                self._report(lag)

    def _report(self, lag: float) -> None:
        frame = sys._current_frames().get(self._loop_thread)
        names = holders(frame, self._functions)
        if names:
            who = ", ".join(f"'Functions.{name}'" for name in names)
            log.warning(
                "The event loop has been blocked for %.1f s by function %s: an async def must "
                "not make blocking calls (use await, or a def function, which runs in a thread); "
                "every other invocation and request waits meanwhile.",
                lag,
                who,
            )
            return
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame else "unknown"
        log.warning(
            "The event loop has been blocked for %.1f s (no function on its stack; at %s).",
            lag,
            where,
        )
