"""Each invocation's own log lines, kept only while a dashboard page is open.

The handler sits on the root logger only while a page has asked for data in the last
``IDLE`` seconds, so with no page open logging costs what it did before. It keeps the lines
of the last ``KEEP`` invocations (more than the ring holds: lines arrive before the
invocation ends), at most ``PER_INVOCATION`` each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from funchost.worker.context import current_invocation
from funchost.worker.history import RING_SIZE

IDLE = 10.0  # seconds without a request from a page before the lines stop being kept
KEEP = RING_SIZE + 100
PER_INVOCATION = 200

LogLine = tuple[float, str, str]  # created (time.time()), level name, text


class InvocationLines(logging.Handler):
    """A root-logger handler keeping log lines by the invocation they were logged in."""

    def __init__(self) -> None:
        super().__init__()
        self._lines: OrderedDict[str, list[LogLine]] = OrderedDict()
        self._until = 0.0  # monotonic: keep lines until then
        self._timer: asyncio.TimerHandle | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the line when it was logged inside an invocation (called under the lock)."""
        info = current_invocation.get()
        if info is None:
            return
        lines = self._lines.get(info.invocation_id)
        if lines is None:
            lines = self._lines[info.invocation_id] = []
            if len(self._lines) > KEEP:
                self._lines.popitem(last=False)
        if len(lines) < PER_INVOCATION:
            lines.append((record.created, record.levelname, _text(record)))

    def lines_of(self, invocation_id: str) -> list[LogLine]:
        """The lines kept for an invocation (a copy; threads may be adding more)."""
        self.acquire()
        try:
            return list(self._lines.get(invocation_id, ()))
        finally:
            self.release()

    def page_open(self) -> None:
        """A page asked for data: keep lines for another IDLE seconds."""
        self._until = time.monotonic() + IDLE
        if self._timer is None:
            logging.getLogger().addHandler(self)
            self._timer = asyncio.get_running_loop().call_later(IDLE, self._check)

    def _check(self) -> None:
        left = self._until - time.monotonic()
        if left > 0:
            self._timer = asyncio.get_running_loop().call_later(left, self._check)
            return
        self._timer = None
        logging.getLogger().removeHandler(self)
        self.acquire()
        try:
            self._lines.clear()  # nobody is looking, and they would go stale
        finally:
            self.release()


def _text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except Exception:  # a user's bad format arguments; the console handler reports it
        text = str(record.msg)
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text
