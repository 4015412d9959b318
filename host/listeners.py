"""Trigger listeners as one group: started in order, stopped all at once by one deadline."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence

from funchost.worker.wiring import LoadedFunction

log = logging.getLogger("funchost.host")


async def start_all(functions: Sequence[LoadedFunction]) -> None:
    """Start every listener; if one raises, those already started are stopped, then it raises."""
    started: list[LoadedFunction] = []
    try:
        for function in functions:
            await function.listener.start()
            started.append(function)
    except BaseException:
        await stop_all(started, math.inf)  # they had not taken any work yet, or little
        raise


async def stop_all(functions: Sequence[LoadedFunction], deadline: float) -> None:
    """Stop every listener concurrently; in-flight work gets until ``deadline`` (loop clock).

    One listener failing to stop is logged and does not keep the others running.
    """
    results = await asyncio.gather(
        *(function.listener.stop(deadline) for function in functions), return_exceptions=True
    )
    for function, result in zip(functions, results, strict=True):
        if isinstance(result, Exception):
            log.error("Stopping the trigger of '%s' failed: %s", function.spec.name, result)
        elif isinstance(result, BaseException):
            raise result  # cancelled: the host itself is being torn down


def deadline_after(seconds: float) -> float:
    """The loop-clock deadline ``seconds`` from now."""
    return asyncio.get_running_loop().time() + seconds
