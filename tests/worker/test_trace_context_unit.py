"""A new trace's ids are drawn when first read, once: every reader sees the same traceparent."""

from __future__ import annotations

import re
import threading

from funchost.worker.context import TraceContext, trace_context

TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00")


def test_a_new_trace_is_drawn_once_and_stays() -> None:
    traced = trace_context(None, None)
    first = traced.trace_parent
    assert TRACEPARENT.fullmatch(first)
    assert traced.trace_parent == first == traced.Traceparent
    assert trace_context(None, None).trace_parent != first  # each invocation its own


def _read_together(traced: TraceContext, readers: int) -> list[str]:
    seen: list[str] = []
    start = threading.Barrier(readers)

    def read() -> None:
        start.wait()
        seen.append(traced.trace_parent)

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    return seen


def test_threads_reading_it_first_together_see_one_traceparent() -> None:
    for _ in range(20):
        seen = _read_together(trace_context(None, None), 8)
        assert len(seen) == 8 and len(set(seen)) == 1
