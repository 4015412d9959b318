"""The console filter: the Functions host's categories, and host.json's level for each."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import pytest
from aiohttp.http_exceptions import BadStatusLine

from funchost.host.hostjson import LOG_LEVELS, LoggingConfig
from funchost.host.logs import CategoryFilter, ConsoleFormatter, ConsoleHandler, PrintCapture
from funchost.worker.context import WRITE_LATER, InvocationInfo, current_invocation

NONE = LOG_LEVELS["None"]


def record(name: str, level: int, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc else None
    return logging.LogRecord(name, level, __file__, 1, "message", None, exc_info)


def passes(levels: dict[str, int], rec: logging.LogRecord, verbose: bool = False) -> bool:
    return CategoryFilter(LoggingConfig(levels).level_for, verbose).filter(rec)


@pytest.fixture
def in_hello() -> Iterator[None]:
    token = current_invocation.set(InvocationInfo("id-1", "hello"))
    yield
    current_invocation.reset(token)


def test_records_get_the_host_categories(in_hello: None) -> None:
    cases = {
        "root": "Function.hello.User",
        "myapp.db": "Function.hello.User",
        "funchost.host": "Host.General",
        "aiohttp.server": "Host.aiohttp.server",
        "azure.core.pipeline": "Host.azure.core.pipeline",
    }
    for name, category in cases.items():
        rec = record(name, logging.WARNING)
        CategoryFilter(LoggingConfig({}).level_for, verbose=True).filter(rec)
        assert (name, rec.category, rec.invocation_id) == (name, category, "id-1")


def test_outside_an_invocation_user_lines_are_host_function_console() -> None:
    rec = record("root", logging.INFO)
    assert passes({}, rec)
    assert (rec.category, rec.invocation_id) == ("Host.Function.Console", "")


def test_a_logger_only_named_like_a_library_is_the_users(in_hello: None) -> None:
    for name in ("azurefunctions_helpers", "asyncio_jobs", "funchost_app"):
        rec = record(name, logging.INFO)
        assert passes({}, rec), name
        assert rec.category == "Function.hello.User"


@pytest.mark.parametrize(
    ("levels", "level", "shown"),
    [
        ({}, logging.DEBUG, False),
        ({}, logging.INFO, True),
        ({"Function": logging.DEBUG}, logging.DEBUG, True),
        ({"Function.hello.User": logging.DEBUG}, logging.DEBUG, True),
        ({"Function.other.User": logging.DEBUG}, logging.DEBUG, False),
        ({"Function": logging.WARNING}, logging.INFO, False),
        ({"Function": logging.WARNING}, logging.WARNING, True),
        ({"Function.hello": NONE}, logging.CRITICAL, False),
        ({"default": logging.DEBUG, "Function": logging.INFO}, logging.DEBUG, False),
    ],
)
def test_user_lines_follow_their_category(
    in_hello: None, levels: dict[str, int], level: int, shown: bool
) -> None:
    assert passes(levels, record("root", level)) is shown


def test_verbose_does_not_show_user_debug_lines_host_json_hides(in_hello: None) -> None:
    assert not passes({}, record("root", logging.DEBUG), verbose=True)
    assert passes({"Function": logging.DEBUG}, record("root", logging.DEBUG), verbose=True)


def test_library_lines_show_from_error_unless_verbose() -> None:
    assert not passes({}, record("aiohttp.server", logging.WARNING))
    assert passes({}, record("aiohttp.server", logging.ERROR))
    assert passes({}, record("aiohttp.server", logging.INFO), verbose=True)
    assert not passes({}, record("aiohttp.server", logging.DEBUG), verbose=True)


def test_host_json_none_silences_a_library_too() -> None:
    assert not passes({"Host": NONE}, record("azure.core", logging.ERROR))
    assert not passes({"default": NONE}, record("aiohttp.server", logging.CRITICAL))


def test_a_malformed_request_is_not_a_library_error_worth_printing() -> None:
    bad = BadStatusLine("GARBAGE")
    assert not passes({}, record("aiohttp.server", logging.ERROR, bad))
    assert passes({}, record("aiohttp.server", logging.ERROR, bad), verbose=True)
    assert passes({}, record("funchost.server", logging.ERROR, bad))


def test_a_categorys_level_is_decided_once(in_hello: None) -> None:
    asked: list[str] = []

    def level_for(category: str) -> int:
        asked.append(category)
        return logging.INFO

    keep = CategoryFilter(level_for, verbose=False)
    for _ in range(3):
        keep.filter(record("root", logging.INFO))
        keep.filter(record("funchost.host", logging.DEBUG))
    assert asked == ["Function.hello.User", "Host.General"]


def test_print_is_host_function_console_even_in_an_invocation(
    in_hello: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="funchost.console"):
        print("printed", "too", file=PrintCapture())
    assert [(r.getMessage(), r.category) for r in caplog.records] == [
        ("printed too", "Host.Function.Console")
    ]
    # So "Function": "Warning" does not hide print(), as in the Functions host.
    assert passes({"Function": logging.WARNING}, caplog.records[0])


class Writes(io.StringIO):
    """A stream that keeps each write apart, to see which lines went out together."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


def console() -> tuple[ConsoleHandler, Writes]:
    stream = Writes()
    handler = ConsoleHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, stream


def line(message: str, *, later: bool = False) -> logging.LogRecord:
    rec = record("funchost.function", logging.INFO)
    rec.msg = message
    if later:
        setattr(rec, WRITE_LATER, True)
    return rec


def test_a_later_line_goes_out_with_the_next_line_in_order() -> None:
    async def scenario() -> list[str]:
        handler, stream = console()
        handler.handle(line("Executing", later=True))
        assert stream.writes == []
        handler.handle(line("Trigger Details"))
        return stream.writes

    assert asyncio.run(scenario()) == ["Executing\nTrigger Details\n"]


def test_a_later_line_goes_out_when_the_loop_iteration_ends() -> None:
    async def scenario() -> list[str]:
        handler, stream = console()
        handler.handle(line("Executed one", later=True))
        handler.handle(line("Executed two", later=True))
        await asyncio.sleep(0)  # the loop runs its scheduled callbacks
        return stream.writes

    assert asyncio.run(scenario()) == ["Executed one\nExecuted two\n"]


def test_outside_a_loop_or_on_flush_nothing_waits() -> None:
    handler, stream = console()
    handler.handle(line("from a thread", later=True))
    assert stream.writes == ["from a thread\n"]

    async def flushed() -> list[str]:
        handler.handle(line("Executed", later=True))
        handler.flush()  # logging.shutdown flushes every handler
        return stream.writes

    assert asyncio.run(flushed())[-1] == "Executed\n"


def test_console_lines_are_the_same_with_or_without_waiting() -> None:
    handler, stream = console()
    handler.setFormatter(ConsoleFormatter(verbose=False))
    rec = line("Executing 'Functions.f' (Reason='x', Id=1)", later=True)
    rec.created = 1_796_000_000.123
    handler.handle(rec)
    assert stream.writes == [
        "[2026-11-30T00:53:20.123Z] Executing 'Functions.f' (Reason='x', Id=1)\n"
    ]
