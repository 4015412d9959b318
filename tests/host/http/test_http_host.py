"""HTTP trigger end to end: log lines and host.json log levels, functionTimeout, SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from http_helpers import (
    REQUEST_TIMEOUT,
    STAMP,
    Host,
    Reply,
    get,
    invocation_lines,
    lines_since,
    mark,
    serving,
)


@pytest.fixture(scope="module")
def loglevel_user() -> Iterator[Host]:
    with serving("http_loglevel_user") as host:
        yield host


@pytest.fixture(scope="module")
def loglevel_function() -> Iterator[Host]:
    with serving("http_loglevel_function") as host:
        yield host


@pytest.fixture(scope="module")
def timeout() -> Iterator[Host]:
    with serving("http_timeout") as host:
        yield host


# --- log lines -----------------------------------------------------------------------


def test_user_logs_print_with_a_utc_timestamp(loglevel_user: Host) -> None:
    since = mark(loglevel_user)
    assert get(loglevel_user, "/api/loud?n=1").text == "loud"
    _, _, new = invocation_lines(loglevel_user, since, "loud")
    assert any(re.fullmatch(rf"{STAMP} loud info 1", line) for line in new), new
    assert any(re.fullmatch(rf"{STAMP} loud warning 1", line) for line in new), new


def test_no_access_log_lines(loglevel_user: Host) -> None:
    since = mark(loglevel_user)
    get(loglevel_user, "/api/loud?n=access")
    get(loglevel_user, "/api/missing")
    invocation_lines(loglevel_user, since, "loud")
    loglevel_user.drain(0.3)
    new = loglevel_user.lines[since:]
    assert not [line for line in new if "HTTP/1.1" in line or "/api/missing" in line], new
    assert all(re.match(STAMP, line) for line in new), new


def test_user_category_level_hides_info_but_shows_warnings(loglevel_user: Host) -> None:
    since = mark(loglevel_user)
    assert get(loglevel_user, "/api/quiet?n=2").text == "quiet"
    _, _, new = invocation_lines(loglevel_user, since, "quiet")
    text = "\n".join(new)
    assert "quiet warning 2" in text
    assert "quiet info 2" not in text


def test_function_level_hides_executing_and_executed(loglevel_function: Host) -> None:
    since = mark(loglevel_function)
    assert get(loglevel_function, "/api/loud?n=3").text == "loud"
    lines_since(loglevel_function, since, r"loud warning 3")
    loglevel_function.drain(0.3)
    new = loglevel_function.lines[since:]
    assert not [line for line in new if "Executing" in line or "Executed" in line], new
    assert "loud info 3" not in "\n".join(new)  # Function.loud.User inherits Function


def test_client_leaving_mid_body_runs_nothing_and_prints_nothing(loglevel_user: Host) -> None:
    since = mark(loglevel_user)
    with socket.create_connection(("127.0.0.1", loglevel_user.port), REQUEST_TIMEOUT) as sock:
        sock.sendall(b"POST /api/loud HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)  # returns once the host has dealt with the connection
    assert get(loglevel_user, "/api/loud?n=after").text == "loud"
    _, _, new = invocation_lines(loglevel_user, since, "loud")  # one invocation: the GET
    assert "Traceback" not in "\n".join(new), new
    assert all(re.match(STAMP, line) for line in new), new


# --- functionTimeout -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "function"), [("/api/slow_async", "slow_async"), ("/api/slow_sync", "slow_sync")]
)
def test_function_timeout_is_500(timeout: Host, path: str, function: str) -> None:
    since = mark(timeout)
    started = time.monotonic()
    reply = get(timeout, path)
    elapsed = time.monotonic() - started
    assert (reply.status, reply.body) == (500, b"")
    assert elapsed < 4, f"the 1 s timeout took {elapsed:.1f} s"
    _, executed, new = invocation_lines(timeout, since, function)
    assert "(Failed, " in executed
    timed_out = [line for line in new if "Timeout value of" in line]
    assert len(timed_out) == 1, new
    assert f"'Functions.{function}'" in timed_out[0]
    assert get(timeout, "/api/quick").text == "in time"


def test_sigterm_exits_promptly_after_a_sync_timeout() -> None:
    with serving("http_timeout") as host:
        assert get(host, "/api/stuck_sync").status == 500
        host.proc.send_signal(signal.SIGTERM)
        host.wait_for("Host stopped.", timeout=5)
        try:
            code: int | None = host.proc.wait(3)
        except subprocess.TimeoutExpired:
            code = None
            host.proc.kill()  # neither SIGTERM nor a second signal ends it until the thread does
        assert code == 0, "the host was still running 3 s after 'Host stopped.'"
        host.wait_for("1 sync function thread(s) still running past functionTimeout", timeout=5)


# --- shutdown ------------------------------------------------------------------------


def request_in_flight(
    host: Host, path: str
) -> tuple[threading.Thread, list[Reply | BaseException]]:
    """GET ``path`` from a thread and return once the function has started running."""
    replies: list[Reply | BaseException] = []

    def request() -> None:
        try:
            replies.append(get(host, path))
        except BaseException as exc:  # reported by the caller's assertion
            replies.append(exc)

    since = mark(host)
    worker = threading.Thread(target=request)
    worker.start()
    name = path.rsplit("/", 1)[-1]
    lines_since(host, since, rf"Executing 'Functions\.{name}'")
    return worker, replies


@pytest.mark.parametrize("path", ["/api/slow_async", "/api/slow_sync"])
def test_sigterm_lets_the_request_in_flight_finish(path: str) -> None:
    with serving("http_shutdown") as host:
        worker, replies = request_in_flight(host, path)
        code = host.stop(signal.SIGTERM)
        worker.join(10)
        assert len(replies) == 1 and isinstance(replies[0], Reply), replies
        assert (replies[0].status, replies[0].text) == (200, f"finished {path.rsplit('_')[-1]}")
        assert code == 0, host.output
        output = host.output
        assert output.index("Executed 'Functions.slow_") < output.index("Host stopped.")


def test_shutdown_timeout_cancels_requests_that_outlast_it() -> None:
    with serving("http_shutdown", "--shutdown-timeout", "1") as host:
        worker, replies = request_in_flight(host, "/api/very_slow_async")
        started = time.monotonic()
        code = host.stop(signal.SIGTERM)
        stopped_after = time.monotonic() - started
        worker.join(10)
    assert code == 0, host.output
    assert stopped_after < 10, f"took {stopped_after:.1f} s to stop with a 1 s grace"
    assert (
        "Cancelling 1 request(s) still running after 1 s: Functions.very_slow_async" in host.output
    )
    assert "Executed 'Functions.very_slow_async' (Failed" in host.output
    assert len(replies) == 1 and not isinstance(replies[0], Reply), replies
