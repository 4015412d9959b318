"""Stop signals, handled the same way by one host and by a supervisor (uvicorn's way)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable


def on_stop_signals(request_stop: Callable[[], None], force: Callable[[], None]) -> None:
    """SIGINT/SIGTERM: the first only asks to stop (sets a flag); a second calls ``force``."""
    loop = asyncio.get_running_loop()
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            force()
        else:
            request_stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
            loop.add_signal_handler(sig, on_signal)
