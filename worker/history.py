"""Recent invocations: a bounded ring the invoker appends one record to as each one ends.

The record is a plain tuple of what the invoker already has at its Executed line, so keeping
it costs one append; times stay on the ``perf_counter`` clock and become wall-clock times
only when someone reads them (the dashboard, host/ui).
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

RING_SIZE = 500  # the last invocations kept; older ones fall off the other end


class Ended(NamedTuple):
    """One finished invocation (one attempt: each retry has its own id, as in the host)."""

    invocation_id: str
    function_name: str
    reason: str
    started: float  # time.perf_counter() at its Executing line
    finished: float  # ... and at its Executed line
    outcome: str  # Succeeded or Failed, as the Executed line says
    retry_count: int
    error: str  # the failure as the host logs it; '' when it succeeded


Ring = deque[Ended]


def new_ring(size: int = RING_SIZE) -> Ring:
    """An empty ring of the last ``size`` invocations."""
    return deque(maxlen=size)
