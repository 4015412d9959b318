"""host.json's logging.logLevel decides, per category, which lines ``funchost start`` prints.

The categories are the Functions host's: ``Function.<name>`` for Executing/Executed,
``Function.<name>.User`` for the function's logging, ``Host.Function.Console`` for print(),
``Host.*`` for the host; the most specific prefix wins, and the default is Information.
Each test writes host.json, calls the functions, stops the host and reads all it printed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import APPS, StartHost
from http_helpers import get

STAMP = re.compile(r"^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\] ")


def printed(start_host: StartHost, tmp_path: Path, levels: dict[str, str], *args: str) -> list[str]:
    """Every message the host printed while hello, other and boom ran once each (n=1)."""
    app = tmp_path / "app"
    shutil.copytree(APPS / "log_levels", app)
    doc = {"version": "2.0", "logging": {"logLevel": levels}}
    (app / "host.json").write_text(json.dumps(doc), encoding="utf-8")
    host = start_host(app, *args)
    assert get(host, "/api/hello?n=1").text == "hello"
    assert get(host, "/api/other?n=1").text == "other"
    assert get(host, "/api/boom?n=1").status == 500
    assert host.stop() == 0
    return [STAMP.sub("", line) for line in host.lines]


def lines_of(messages: list[str], function: str) -> list[str]:
    """The function's own lines and its Executing/Executed lines, in order."""
    return [m for m in messages if m.startswith(f"{function} ") or f"'Functions.{function}'" in m]


def test_debug_lines_are_hidden_by_default(start_host: StartHost, tmp_path: Path) -> None:
    messages = printed(start_host, tmp_path, {})
    hello = lines_of(messages, "hello")
    assert [m.split(" (")[0] for m in hello] == [
        "Executing 'Functions.hello'",
        "hello info 1",
        "hello warning 1",
        "hello critical 1",
        "hello print 1",
        "Executed 'Functions.hello'",
    ]
    assert "Host stopped." in messages


def test_function_debug_shows_every_functions_debug_lines(
    start_host: StartHost, tmp_path: Path
) -> None:
    messages = printed(start_host, tmp_path, {"Function": "Debug"})
    assert "hello debug 1" in messages
    assert "other debug 1" in messages


def test_function_user_category_sets_one_functions_logging(
    start_host: StartHost, tmp_path: Path
) -> None:
    messages = printed(start_host, tmp_path, {"Function.hello.User": "Debug"})
    assert "hello debug 1" in messages
    assert "other debug 1" not in messages
    assert "other info 1" in messages
    # Function.hello (Executing/Executed) is not under Function.hello.User: still Information.
    assert any(m.startswith("Executing 'Functions.hello'") for m in messages), messages


def test_function_warning_hides_info_lines_but_not_failures_or_print(
    start_host: StartHost, tmp_path: Path
) -> None:
    messages = printed(start_host, tmp_path, {"Function": "Warning"})
    assert lines_of(messages, "hello") == [
        "hello warning 1",
        "hello critical 1",
        "hello print 1",  # print() is Host.Function.Console, as in the Functions host
    ]
    # A failure is logged at Error, as the host logs it.
    boom = lines_of(messages, "boom")
    assert len(boom) == 1 and boom[0].startswith("Executed 'Functions.boom' (Failed, Id="), boom
    assert "Exception while executing function: Functions.boom" in messages
    # Host.* categories keep the default Information.
    assert "Host stopped." in messages


def test_none_silences_a_category(start_host: StartHost, tmp_path: Path) -> None:
    messages = printed(start_host, tmp_path, {"Function.hello": "None", "Function.boom": "None"})
    assert lines_of(messages, "hello") == ["hello print 1"]
    assert lines_of(messages, "boom") == []
    assert "Exception while executing function: Functions.boom" not in messages
    assert "other info 1" in messages


def test_host_levels_govern_print_and_host_lines(start_host: StartHost, tmp_path: Path) -> None:
    messages = printed(start_host, tmp_path, {"Host": "Warning"})
    assert "hello print 1" not in messages
    assert "Host stopped." not in messages
    assert "hello info 1" in messages


def test_verbose_does_not_show_debug_lines_host_json_hides(
    start_host: StartHost, tmp_path: Path
) -> None:
    messages = printed(start_host, tmp_path, {}, "--verbose")
    assert not [m for m in messages if "debug 1" in m], messages
    assert any(
        re.fullmatch(r"\[INFO\] \[Function\.hello\.User\] \[Id=[0-9a-f-]{36}\] hello info 1", m)
        for m in messages
    ), messages
    assert any(
        re.fullmatch(r"\[INFO\] \[Host\.Function\.Console\] \[Id=[0-9a-f-]{36}\] hello print 1", m)
        for m in messages
    ), messages
