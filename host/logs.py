"""Console logging like ``func start``: ``[<UTC timestamp>] <message>``, filtered by host.json.

Every record gets a category as the Functions host names them: ``Function.<name>`` for the
host's invocation lines, ``Function.<name>.User`` for the user's own logging inside an
invocation, ``Host.Function.Console`` for print() and for user logging outside one, ``Host.*``
for the host. Library chatter (aiohttp, azure SDKs) is hidden below ERROR unless ``--verbose``.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from aiohttp.http_exceptions import HttpProcessingError

from funchost.redact import redact
from funchost.worker.context import WRITE_LATER, InvocationInfo, current_invocation

LevelFor = Callable[[str], int]
CONSOLE = "Host.Function.Console"  # the host's category for a worker's stdout, and ours
_LIBRARIES = ("aiohttp", "azure", "asyncio", "urllib3", "uamqp", "werkzeug", "multipart")
# Libraries whose lines funchost shows only from ERROR, unless --verbose.
_QUIET = ("Host.aiohttp", "Host.azure", "Host.asyncio")
# Logger name -> its category wherever it logs ("" when that depends on the invocation).
_FIXED: dict[str, str] = {}


def category_of(record: logging.LogRecord, invocation: InvocationInfo | None) -> str:
    """The Functions-host category of a record logged while ``invocation`` runs (or none)."""
    category = getattr(record, "category", None)
    if isinstance(category, str):
        return category
    fixed = _FIXED.get(record.name)
    if fixed is None:
        fixed = _FIXED[record.name] = _fixed_category(record.name)
    if fixed:
        return fixed
    return f"Function.{invocation.function_name}.User" if invocation else CONSOLE


def _fixed_category(name: str) -> str:
    """funchost's own lines are Host.General; a library's, Host.<logger>; the user's, neither."""
    if _within(name, ("funchost",)):
        return "Host.General"
    return f"Host.{name}" if _within(name, _LIBRARIES) else ""


def _within(name: str, packages: tuple[str, ...]) -> bool:
    """Whether a logger name is one of these packages or below one ('azurefoo' is not azure)."""
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def utc_stamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as func start prints it."""
    global _last_second
    second, text = _last_second
    if int(created) != second:  # the text up to the second is made once per second
        second = int(created)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _last_second = (second, text)  # one tuple: threads never see half of it
    return f"{text}.{int(created * 1000) % 1000:03d}Z"


_last_second: tuple[int, str] = (-1, "")


class CategoryFilter(logging.Filter):
    """Drops records below their category's host.json level.

    The level is decided once per category and kept, so a record costs one dict lookup,
    never a walk over host.json's prefixes.
    """

    def __init__(self, level_for: LevelFor, verbose: bool) -> None:
        super().__init__()
        self._level_for = level_for
        self._verbose = verbose
        self._levels: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the category and invocation id, then apply the level."""
        invocation = current_invocation.get()
        category = category_of(record, invocation)
        record.category = category
        record.invocation_id = invocation.invocation_id if invocation else ""
        level = self._levels.get(category)
        if level is None:
            level = self._levels[category] = self.level(category)
        if record.levelno < level:
            return False
        return record.exc_info is None or self._verbose or not _client_error(record, category)

    def level(self, category: str) -> int:
        """The category's host.json level; libraries' chatter only from ERROR unless --verbose."""
        level = self._level_for(category)
        if not self._verbose and category.startswith(_QUIET):
            return max(level, logging.ERROR)
        return level


def _client_error(record: logging.LogRecord, category: str) -> bool:
    """A malformed request logged by aiohttp: the client's fault, not worth a traceback."""
    exc = record.exc_info[1] if record.exc_info else None
    return isinstance(exc, HttpProcessingError) and category.startswith(_QUIET)


_CONSOLE_EXTRA = {"category": CONSOLE}


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
        # The Functions host logs a worker's stdout as Host.Function.Console, in an
        # invocation or not: host.json's Function levels do not hide print().
        self._log.info(line.rstrip("\r"), extra=_CONSOLE_EXTRA)


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
        message = redact(message)  # a URL's query, an exception echoing a connection string
        if not self._verbose:
            return f"[{utc_stamp(record.created)}] {message}"
        invocation = getattr(record, "invocation_id", "")
        suffix = f" [Id={invocation}]" if invocation else ""
        category = getattr(record, "category", record.name)
        return f"[{utc_stamp(record.created)}] [{record.levelname}] [{category}]{suffix} {message}"


# The invoker's failure line: its first line says which function failed, the rest is the
# exception and its stack, which a collector wants in a field of its own.
_FAILURE = "Exception while executing function: "


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; every line has the same keys."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record with its category, function, invocation id and exception."""
        message, exception = record.getMessage(), None
        if record.exc_info:
            exception = self.formatException(record.exc_info)
        elif message.startswith(_FAILURE) and "\n" in message:
            message, exception = message.split("\n", 1)
        invocation = current_invocation.get()
        doc = {
            "timestamp": utc_stamp(record.created),
            "level": record.levelname,
            "category": getattr(record, "category", record.name),
            "functionName": invocation.function_name if invocation else None,
            "invocationId": invocation.invocation_id if invocation else None,
            "message": redact(message),
            "exception": None if exception is None else redact(exception),
        }
        return json.dumps(doc, ensure_ascii=False)


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the lines the host marks WRITE_LATER together with the next.

    An invocation writes two or three lines of its own; written one by one, each costs a write
    to the pipe (stdout is unbuffered under PYTHONUNBUFFERED) and wakes its reader, more than
    the rest of the line's work. The invoker marks its Executing line when a Trigger Details
    line follows at once, and its Executed line when the trigger acts on the outcome only in a
    later turn of the loop (Service Bus): a marked line goes out with the next line written,
    or at the end of the loop's iteration (call_soon), whichever comes first, so before
    anything the invocation caused leaves the process. Every other line is written and
    flushed at once, with whatever waits before it, so order never changes.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._waiting: list[str] = []  # lines not yet written; guarded by the handler's lock
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        """Write the line (and those waiting), or keep a WRITE_LATER line for a moment."""
        try:
            self._waiting.append(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        if getattr(record, WRITE_LATER, False):
            loop = asyncio._get_running_loop()
            if loop is not None:
                if not self._scheduled:
                    self._scheduled = True
                    loop.call_soon(self._write_scheduled, record)
                return
        self._write(record)

    def flush(self) -> None:
        """Write the lines waiting, then flush the stream (logging.shutdown calls this)."""
        self.acquire()
        try:
            if self._waiting:
                self._write_waiting()
            super().flush()
        finally:
            self.release()

    def _write_scheduled(self, record: logging.LogRecord) -> None:
        self.acquire()
        try:
            self._scheduled = False
            if self._waiting:
                self._write(record)
        finally:
            self.release()

    def _write(self, record: logging.LogRecord) -> None:
        try:
            self._write_waiting()
            super().flush()
        except Exception:  # a closed pipe: reported as StreamHandler.emit reports it
            self.handleError(record)

    def _write_waiting(self) -> None:
        text = "".join(self._waiting)
        self._waiting.clear()
        self.stream.write(text)


STARTUP = "Host.Startup"  # the category of the start-up report's lines under --json-logs


class JsonLines(io.TextIOBase):
    """Where the start-up report goes under --json-logs: each non-blank line, one JSON line.

    The report is written, not logged, so it shows whatever host.json's levels say; this keeps
    that, and keeps a collector from meeting a line that does not parse.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._formatter = JsonFormatter()
        self._pending = ""

    def writable(self) -> bool:
        """Always: this is an output stream."""
        return True

    def write(self, text: str) -> int:
        """Write each complete line as a JSON object; keep the rest for the next write."""
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            if line.strip():
                self._stream.write(self._formatter.format(_startup_record(line)) + "\n")
        return len(text)

    def flush(self) -> None:
        """Flush the stream under it (a partial line waits for its newline)."""
        self._stream.flush()


def _startup_record(line: str) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "funchost.host", "msg": line.strip(), "levelno": logging.INFO}
    )
    record.levelname = "INFO"
    record.category = STARTUP
    return record


def configure(
    level_for: LevelFor,
    min_level: int,
    *,
    verbose: bool = False,
    json_logs: bool = False,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the one console handler on the root logger and return it."""
    handler = ConsoleHandler(stream or sys.stdout)
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
