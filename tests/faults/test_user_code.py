"""User code that fails, hangs, blocks the loop, leaks threads, returns garbage or exits.

Each fault is one invocation's problem: it answers 500 with a log line naming the function,
and the bystander ``ok`` keeps answering 200 on the same host. ``os._exit`` cannot be caught
in-process; README's differences table says so.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import Host
from http_helpers import get, lines_since, mark, serving

APP = "fault_user_code"


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    with serving(APP) as running:
        yield running


def _fails_alone(host: Host, path: str, pattern: str) -> list[str]:
    """The function answers 500 and logs ``pattern``; the host still serves ``ok``."""
    since = mark(host)
    assert get(host, f"/api/{path}").status == 500
    new = lines_since(host, since, pattern)
    assert any(f"Executed 'Functions.{path}' (Failed," in line for line in new), new
    assert get(host, "/api/ok").status == 200
    assert host.proc.poll() is None
    return new


def test_an_exception_fails_only_its_invocation(host: Host) -> None:
    new = _fails_alone(host, "raises", r"ValueError: the function failed on purpose")
    assert any("Exception while executing function: Functions.raises" in line for line in new)


def test_a_function_past_function_timeout_is_cancelled(host: Host) -> None:
    _fails_alone(host, "hangs", r"Timeout value of 00:00:02 exceeded by function 'Functions.hangs'")


@pytest.mark.parametrize(("path", "code"), [("exits", 3), ("exits_async", 4)])
def test_sys_exit_is_an_invocation_failure_not_a_host_exit(
    host: Host, path: str, code: int
) -> None:
    new = _fails_alone(host, path, rf"Exception: SystemExit: {code}")
    assert any(f"Exception while executing function: Functions.{path}" in line for line in new)


def test_a_wrong_return_type_is_a_clear_error(host: Host) -> None:
    _fails_alone(
        host,
        "wrong_type",
        r"Exception: BindingError: cannot send a value of type int to a 'http' binding",
    )


def test_a_blocked_loop_is_reported_once_with_the_function_name(host: Host) -> None:
    since = mark(host)
    blocked = threading.Thread(target=get, args=(host, "/api/blocks"))
    blocked.start()
    try:
        new = lines_since(host, since, r"The event loop has been blocked for", timeout=10)
    finally:
        blocked.join(10)
    assert get(host, "/api/ok").status == 200  # the loop runs again once the call returns
    warnings = [line for line in new if "The event loop has been blocked" in line]
    assert len(warnings) == 1, new
    assert "by function 'Functions.blocks'" in warnings[0]
    time.sleep(0.6)  # a few more heartbeats: the same stall is not reported again
    host.drain(0)
    again = [line for line in host.lines[since:] if "event loop has been blocked" in line]
    assert len(again) == 1, again


def test_leaked_threads_neither_stop_serving_nor_hold_the_exit() -> None:
    with serving(APP) as host:
        for _ in range(3):
            assert get(host, "/api/leaks").status == 200
        assert get(host, "/api/ok").status == 200
        started = time.monotonic()
        code = host.stop(signal.SIGTERM)
        # Three non-daemon threads wait forever; the host exits anyway, on its own.
        assert code == 0, host.output
        assert time.monotonic() - started < 15


def test_os_exit_ends_the_host_the_known_limit() -> None:
    """os._exit ends the process at once, with no chance to catch it (README says so)."""
    with serving(APP) as host:
        with pytest.raises(ConnectionError):  # the process is gone before it can answer
            get(host, "/api/hard_exit")
        assert host.proc.wait(10) == 5
