"""Letting in-flight work finish by a deadline, then cancelling it: every listener's stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any


def seconds_left(deadline: float) -> float:
    """Time until ``deadline`` on the running loop's clock (0 once it has passed)."""
    return max(0.0, deadline - asyncio.get_running_loop().time())


async def finish_by(
    work: Iterable[asyncio.Future[Any]],
    deadline: float,
    on_cancel: Callable[[int], None] | None = None,
) -> None:
    """Wait for ``work`` until ``deadline``; cancel what still runs then and let it unwind.

    ``on_cancel`` hears how many were cancelled, before they are, so a listener can say why.
    """
    pending = {future for future in work if not future.done()}
    if not pending:
        return
    _, still = await asyncio.wait(pending, timeout=seconds_left(deadline))
    if not still:
        return
    if on_cancel is not None:
        on_cancel(len(still))
    for future in still:
        future.cancel()
    await asyncio.gather(*still, return_exceptions=True)
