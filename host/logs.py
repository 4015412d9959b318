"""Console logging like ``func start``: ``[<UTC timestamp>] <message>``, filtered by host.json.

Every record gets a category as the Functions host names them: ``Function.<name>`` for the
host's invocation lines, ``Function.<name>.User`` for the user's own logging inside an
invocation, ``Host.*`` for the host. Library chatter (aiohttp, azure SDKs) is hidden below
ERROR unless ``--verbose``.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from aiohttp.http_exceptions import HttpProcessingError

from funchost.worker.context import current_invocation

LevelFor = Callable[[str], int]
_LIBRARIES = ("aiohttp", "azure", "asyncio", "urllib3", "uamqp", "werkzeug", "multipart")


def category_of(record: logging.LogRecord) -> str:
    """The Functions-host category of a record."""
    category = getattr(record, "category", None)
    if isinstance(category, str):
        return category
    if record.name.startswith("funchost"):
        return "Host.General"
    invocation = current_invocation.get()
    if invocation is not None and not record.name.startswith(_LIBRARIES):
        return f"Function.{invocation.function_name}.User"
    return f"Host.{record.name}" if record.name.startswith(_LIBRARIES) else "Host.Function.Console"


def utc_stamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as func start prints it."""
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


class CategoryFilter(logging.Filter):
    """Drops records below their category's host.json level; caches levels per category."""

    def __init__(self, level_for: LevelFor, verbose: bool) -> None:
        super().__init__()
        self._level_for = level_for
        self._verbose = verbose
        self._cache: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the category and invocation id, then apply the level."""
        category = category_of(record)
        record.category = category
        invocation = current_invocation.get()
        record.invocation_id = invocation.invocation_id if invocation else ""
        if not self._verbose and category.startswith(
            ("Host.aiohttp", "Host.azure", "Host.asyncio")
        ):
            return record.levelno >= logging.ERROR and not _client_error(record)
        level = self._cache.get(category)
        if level is None:
            level = self._cache[category] = self._level_for(category)
        return record.levelno >= level


def _client_error(record: logging.LogRecord) -> bool:
    """A malformed request logged by aiohttp: the client's fault, not worth a traceback."""
    exc = record.exc_info[1] if record.exc_info else None
    return isinstance(exc, HttpProcessingError)


class PrintCapture(io.TextIOBase):
    """Stands in for sys.stdout while functions run: every printed line becomes a log line.

    Core Tools shows a worker's output as ``[timestamp] line``; partial lines are kept per
    thread until their newline arrives, so concurrent functions do not mix their lines.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending = threading.local()
        self._log = logging.getLogger("funchost.console")

    def writable(self) -> bool:
        """Always: this is an output stream."""
        return True

    def write(self, text: str) -> int:
        """Log each complete line; keep the rest for the next write."""
        *lines, rest = (getattr(self._pending, "text", "") + text).split("\n")
        self._pending.text = rest
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        """Log a pending partial line."""
        rest = getattr(self._pending, "text", "")
        if rest:
            self._pending.text = ""
            self._emit(rest)

    def _emit(self, line: str) -> None:
        invocation = current_invocation.get()
        category = (
            f"Function.{invocation.function_name}.User" if invocation else "Host.Function.Console"
        )
        self._log.info(line.rstrip("\r"), extra={"category": category})


class ConsoleFormatter(logging.Formatter):
    """``[timestamp] message``; with --verbose also the level, category and invocation id."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self._verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        """One line per record (plus the traceback lines of an exception)."""
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if not self._verbose:
            return f"[{utc_stamp(record.created)}] {message}"
        invocation = getattr(record, "invocation_id", "")
        suffix = f" [Id={invocation}]" if invocation else ""
        category = getattr(record, "category", record.name)
        return f"[{utc_stamp(record.created)}] [{record.levelname}] [{category}]{suffix} {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record with its category and invocation id."""
        doc = {
            "timestamp": utc_stamp(record.created),
            "level": record.levelname,
            "category": getattr(record, "category", record.name),
            "message": record.getMessage(),
        }
        invocation = current_invocation.get()
        if invocation is not None:
            doc["invocationId"] = invocation.invocation_id
            doc["functionName"] = invocation.function_name
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure(
    level_for: LevelFor,
    min_level: int,
    *,
    verbose: bool = False,
    json_logs: bool = False,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the one console handler on the root logger and return it."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(CategoryFilter(level_for, verbose))
    handler.setFormatter(JsonFormatter() if json_logs else ConsoleFormatter(verbose))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # The root level is the lowest any category can get (--verbose lowers none): below it
    # no record is even made, and the filter does the rest.
    root.setLevel(min_level)
    logging.captureWarnings(True)
    return handler
