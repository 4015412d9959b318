"""A hostile client against the real ``funchost start`` (issue 19, "found so far" 1-7 and 9):
each case gets a clear answer and at most one log line, never a traceback, and the host
keeps answering."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Host
from http_helpers import lines_since, mark, serving

from faults.hostile import GRACE, exchange, head, hostile_host, read_to_end, statuses


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """One host for the module: every test also proves the previous ones left it serving."""
    with hostile_host(tmp_path_factory.mktemp("secrets")) as started:
        yield started


def new_lines(host: Host, since: int, settle: float = 0.3) -> list[str]:
    """The host's lines after ``since``, once it has had ``settle`` s to write them."""
    host.drain(settle)
    return host.lines[since:]


def no_traceback(lines: list[str]) -> None:
    assert not any("Traceback" in line for line in lines), "\n".join(lines)


def test_a_key_that_is_not_utf8_is_refused_and_pipelined_requests_still_answered(
    host: Host,
) -> None:
    since = mark(host)
    bad = b"GET /api/keyed HTTP/1.1\r\nHost: localhost\r\nx-functions-key: \xff\xfe\r\n\r\n"
    answer = exchange(host, bad + head("/api/echo", "Connection: close"), timeout=5)
    assert statuses(answer) == [401, 200]
    no_traceback(new_lines(host, since))


@pytest.mark.parametrize("expect", [False, True], ids=["short way", "aiohttp way"])
def test_a_body_cut_short_is_a_client_error_and_its_key_is_not_logged(
    host: Host, expect: bool
) -> None:
    since = mark(host)
    extra = ["Content-Length: 100", *(["Expect: 100-continue"] if expect else [])]
    request = head("/api/echo?code=cut-short-secret", *extra, method="POST") + b"abc"
    answer = exchange(host, request, half_close=True)
    assert statuses(answer) == [400]
    assert b"Not enough data to satisfy content length header" in answer
    lines = new_lines(host, since)
    no_traceback(lines)
    assert not any("cut-short-secret" in line for line in lines)


@pytest.mark.parametrize("expect", [False, True], ids=["short way", "aiohttp way"])
def test_a_control_character_in_a_response_header_is_a_500_naming_the_function(
    host: Host, expect: bool
) -> None:
    since = mark(host)
    extra = ["Expect: 100-continue"] if expect else []
    answer = exchange(host, head("/api/header?value=a%00b", "Connection: close", *extra))
    assert statuses(answer) == [500]
    assert b"\x00" not in answer
    lines = lines_since(host, since, r"Functions\.header answered what HTTP cannot carry")
    said = [line for line in lines if "Functions.header answered" in line]
    assert len(said) == 1 and "control character '\\x00'" in said[0]
    no_traceback(new_lines(host, since))


def test_a_client_that_half_closes_still_gets_every_answer(host: Host) -> None:
    pipelined = head("/api/echo") + head("/api/files/a/b")
    answer = exchange(host, pipelined, half_close=True)
    assert statuses(answer) == [200, 200]
    assert answer.endswith(b"a/b")


def test_a_client_abandoning_a_large_download_is_one_info_line(host: Host) -> None:
    since = mark(host)
    with socket.create_connection(("127.0.0.1", host.port), timeout=5) as sock:
        sock.sendall(head("/api/big?mib=32"))
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK")
        # RST instead of FIN: the client is gone, not just done sending.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
    lines = lines_since(host, since, "left before its answer was sent")
    assert sum("left before its answer was sent" in line for line in lines) == 1
    no_traceback(new_lines(host, since))


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (head("http://evil.example/api/echo", "Connection: close", host="localhost"), 400),
        (head("/api/echo", "Connection: close", host="a/b@c"), 400),
        (head("/api/echo", "Connection: close", host="localhost:99999x"), 400),
    ],
    ids=["absolute-form naming another host", "Host with a path", "Host with a bad port"],
)
def test_a_request_naming_an_untrusted_authority_is_a_400(
    host: Host, request_bytes: bytes, status: int
) -> None:
    answer = exchange(host, request_bytes)
    assert statuses(answer) == [status]
    assert b"Invalid Host header" in answer


def test_an_absolute_form_target_is_served_as_its_path(host: Host) -> None:
    target = "http://localhost:7071/api/echo?x=1"
    answer = exchange(host, head(target, "Connection: close", host="localhost:7071"))
    assert statuses(answer) == [200]
    assert b"X-Url: http://localhost:7071/api/echo?x=1\r\n" in answer


@pytest.mark.parametrize("expect", [True, False], ids=["Expect: 100-continue", "no Expect"])
def test_a_body_declared_over_the_default_limit_is_413_at_once(host: Host, expect: bool) -> None:
    extra = ["Expect: 100-continue"] if expect else []
    request = head("/api/echo", "Content-Length: 104857601", *extra, method="POST")
    answer = exchange(host, request)  # no body sent: the 413 cannot wait for it
    assert not answer.startswith(b"HTTP/1.1 100")
    assert statuses(answer) == [413]


@pytest.mark.parametrize(
    ("target", "route_value"),
    [("/api/files/a/%2e%2e/b", b"b"), ("/api/files/a/../../files/c", b"c")],
)
def test_dot_segments_never_reach_a_catch_all_route_value(
    host: Host, target: str, route_value: bytes
) -> None:
    answer = exchange(host, head(target, "Connection: close"))
    assert statuses(answer) == [200]
    assert answer.endswith(b"\r\n\r\n" + route_value)


def test_dot_segments_cannot_climb_out_of_the_route_prefix(host: Host) -> None:
    answer = exchange(host, head("/api/files/%2e%2e/%2e%2e/etc/passwd", "Connection: close"))
    assert statuses(answer) == [404]


def test_a_body_that_stalls_is_answered_408_after_the_grace(host: Host) -> None:
    since = mark(host)
    request = head("/api/echo", "Content-Length: 1000", method="POST") + b"x" * 10
    started = time.monotonic()
    answer = exchange(host, request, timeout=GRACE + 8)
    assert statuses(answer) == [408]
    assert b"Reading the request body timed out" in answer
    assert time.monotonic() - started < GRACE + 8  # answered, not given up on by us
    lines = lines_since(host, since, "arrives too slowly")
    no_traceback(lines)


def test_a_client_that_never_reads_its_answer_is_disconnected(host: Host) -> None:
    since = mark(host)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.connect(("127.0.0.1", host.port))
        sock.sendall(head("/api/big?mib=32"))
        lines_since(host, since, "reads its answer too slowly", timeout=GRACE + 8)
        received = read_to_end(sock, timeout=10)
    finally:
        sock.close()
    assert len(received) < 32 * 1024 * 1024  # cut off, not sent whole
    no_traceback(new_lines(host, since))


def test_the_host_still_answers_after_all_of_it(host: Host) -> None:
    answer = exchange(host, head("/api/files/still/here", "Connection: close"))
    assert statuses(answer) == [200]
    assert answer.endswith(b"still/here")


@pytest.fixture(scope="module")
def streams() -> Iterator[Host]:
    """HTTP streams (azurefunctions-extensions-http-fastapi) answering a NUL in a header."""
    with serving("http_hostile_streams", "--no-azurite") as started:
        yield started


@pytest.mark.parametrize("function", ["whole", "pumped"])
@pytest.mark.parametrize("expect", [False, True], ids=["short way", "aiohttp way"])
def test_a_control_character_in_a_streamed_response_header_is_a_500_naming_the_function(
    streams: Host, function: str, expect: bool
) -> None:
    since = mark(streams)
    extra = ["Expect: 100-continue"] if expect else []
    answer = exchange(streams, head(f"/api/{function}", "Connection: close", *extra))
    assert statuses(answer) == [500]
    assert b"\x00" not in answer
    lines = lines_since(streams, since, rf"Functions\.{function}\b")
    # The invocation's own failure report may carry its stack; the host adds no traceback.
    assert not any("Error serving a connection" in line for line in new_lines(streams, since))
    assert any("control character" in line for line in lines), "\n".join(lines)


def test_a_body_is_not_timed_while_its_request_waits_in_the_queue(tmp_path: Path) -> None:
    # One request at a time: the second waits (for its 100 Continue) past the grace.
    queue = "AzureFunctionsJobHost__extensions__http__maxConcurrentRequests"
    with (
        hostile_host(tmp_path, env={queue: "1"}) as queued,
        socket.create_connection(("127.0.0.1", queued.port), timeout=15) as first,
    ):
        first.sendall(head(f"/api/slow?s={GRACE + 3}", "Connection: close"))
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", queued.port), timeout=15) as second:
            expect = ["Content-Length: 3", "Expect: 100-continue", "Connection: close"]
            second.sendall(head("/api/echo", *expect, method="POST"))
            assert second.recv(1024).startswith(b"HTTP/1.1 100 Continue")
            second.sendall(b"abc")
            answer = read_to_end(second, 10)
        assert statuses(read_to_end(first, 10)) == [200]
    assert statuses(answer) == [200] and answer.endswith(b"abc")
