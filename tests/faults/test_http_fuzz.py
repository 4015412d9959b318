"""The HTTP surface fuzzed with hypothesis against the real ``funchost start`` (issue 19,
"what to build" 4): malformed request lines, huge and invalid headers, invalid UTF-8, bad
JSON, path traversal in a ``{*path}`` route, oversize bodies and slow clients.

Every request gets an answer that is not a 5xx (or a closed connection) within a few seconds,
the host never writes a traceback, and after each example it still answers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import Host
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faults.hostile import GRACE, HEADERS_TIMEOUT, head, hostile_host, statuses

ANSWER_TIMEOUT = 5.0
FUZZ = settings(
    max_examples=40,
    deadline=None,  # each example is a network round trip; ANSWER_TIMEOUT bounds it instead
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    with hostile_host(tmp_path_factory.mktemp("secrets")) as started:
        yield started
        started.drain(0.3)
        assert not any("Traceback" in line for line in started.lines), started.output
        assert started.proc.poll() is None  # still running when the fuzz is done


def answered(host: Host, data: bytes) -> bytes:
    """Send ``data``, then read until the host closes; fail if it does not within the timeout."""
    with socket.create_connection(("127.0.0.1", host.port), timeout=ANSWER_TIMEOUT) as sock:
        # Nothing more is coming: the host must settle it. It may have refused (and closed)
        # before all of it was sent: what it said is still there to read.
        with contextlib.suppress(OSError):
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            assert time.monotonic() < deadline, f"no end within {ANSWER_TIMEOUT} s: {data[:200]!r}"
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                continue
            if not chunk:
                break
            received += chunk
    return bytes(received)


def no_server_error(answer: bytes) -> None:
    assert all(status < 500 for status in statuses(answer)), answer[:300]


def still_serving(host: Host) -> None:
    answer = answered(host, head("/api/files/alive", "Connection: close"))
    assert statuses(answer) == [200] and answer.endswith(b"alive"), answer[:300]


@FUZZ
@given(line=st.binary(max_size=160))
def test_a_malformed_request_line_gets_a_4xx_or_nothing(host: Host, line: bytes) -> None:
    no_server_error(answered(host, line + b"\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
    still_serving(host)


methods = st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "G\x00T"])
segments = st.one_of(
    st.sampled_from(["files", "echo", "json", "keyed", "..", ".", "%2e%2e", "%2F", "%00", "%ff"]),
    st.text(max_size=8).map(lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1")),
)
paths = st.lists(segments, max_size=6).map(lambda parts: "/api/" + "/".join(parts))
header_names = st.one_of(
    st.sampled_from(["Content-Type", "Accept", "x-functions-key", "Cookie", "X-Forwarded-For"]),
    st.text(alphabet=st.characters(codec="latin-1"), min_size=1, max_size=12),
)
header_values = st.binary(max_size=40).map(lambda b: b.decode("latin-1"))


@FUZZ
@given(
    method=methods,
    path=paths,
    query=st.binary(max_size=30),
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    body=st.binary(max_size=200),
)
def test_a_request_with_invalid_bytes_anywhere_is_never_a_server_error(
    host: Host,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    target = path.encode("latin-1") + b"?" + query.replace(b" ", b"+").replace(b"#", b"")
    lines = [method.encode("latin-1") + b" " + target + b" HTTP/1.1", b"Host: localhost"]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    lines += [b"Content-Length: %d" % len(body), b"Connection: close", b"", b""]
    no_server_error(answered(host, b"\r\n".join(lines) + body))
    still_serving(host)


@FUZZ
@given(count=st.integers(1, 300), size=st.integers(1, 20_000))
def test_huge_or_many_headers_are_refused_with_a_4xx(host: Host, count: int, size: int) -> None:
    extra = [f"X-Fill-{n}: {'v' * size}" for n in range(count)]
    answer = answered(host, head("/api/echo", *extra, "Connection: close"))
    # aiohttp's limits: 128 headers, a header line of 8190 bytes ("X-Fill-NNN: " adds 12).
    if count <= 120 and size <= 8000:
        assert statuses(answer) == [200], answer[:300]
    elif count > 128 or size > 8190:
        assert statuses(answer) in ([], [400], [431]), answer[:300]
    no_server_error(answer)
    still_serving(host)


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=60).map(str.encode)))
def test_bad_json_is_the_functions_400_never_a_500(host: Host, body: bytes) -> None:
    request = head("/api/json", f"Content-Length: {len(body)}", "Connection: close", method="POST")
    answer = answered(host, request + body)
    assert statuses(answer) in ([200], [400]), answer[:300]


@FUZZ
@given(
    parts=st.lists(st.sampled_from(["..", "%2e%2e", "%2E.", ".", "a", "%2f", "etc"]), max_size=8)
)
def test_a_catch_all_route_value_never_holds_a_dot_segment(host: Host, parts: list[str]) -> None:
    answer = answered(host, head("/api/files/" + "/".join(parts), "Connection: close"))
    assert statuses(answer) in ([200], [404]), answer[:300]
    if statuses(answer) == [200]:
        value = answer.split(b"\r\n\r\n", 1)[1]
        assert b".." not in value.split(b"/") and b"." not in value.split(b"/")


@FUZZ
@given(
    declared=st.integers(100 * 2**20 + 1, 2**62),
    chunked=st.booleans(),
    expect=st.booleans(),
)
def test_an_oversize_body_is_413_at_once(
    host: Host, declared: int, chunked: bool, expect: bool
) -> None:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {declared}"
    extra = ["Expect: 100-continue"] if expect else []
    request = head("/api/echo", framing, *extra, "Connection: close", method="POST")
    # Chunked declares nothing: one chunk over the limit is sent (its size line says so).
    body = b"%x\r\n" % declared if chunked else b""
    answer = answered(host, request + body)
    assert statuses(answer) in ([413], [400]) if chunked else statuses(answer) == [413]


def _slowloris(port: int, opening: bytes, wait: float) -> bytes:
    """Send ``opening``, then one more byte every 0.3 s until the host answers (or ``wait``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(opening)
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not received:
            with contextlib.suppress(OSError):  # closed after answering: read what it said
                sock.sendall(b"X")
            sock.settimeout(0.3)
            try:
                received = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        return received


def _trickle_body(port: int, results: list[bytes]) -> None:
    """The head at once, then a 1000-byte body one byte at a time."""
    opening = head("/api/echo", "Content-Length: 1000", method="POST")
    results.append(_slowloris(port, opening, GRACE + 10))


def _trickle_head(port: int, results: list[bytes]) -> None:
    """The classic slowloris: a head that never ends, one byte at a time."""
    opening = b"GET /api/echo HTTP/1.1\r\nHost: localhost\r\n"
    results.append(_slowloris(port, opening, HEADERS_TIMEOUT + 10))


@pytest.mark.parametrize("trickle", [_trickle_body, _trickle_head], ids=["body", "head"])
def test_slowloris_clients_are_answered_408_while_others_are_served(
    host: Host, trickle: Callable[[int, list[bytes]], None]
) -> None:
    results: list[bytes] = []
    clients = [threading.Thread(target=trickle, args=(host.port, results)) for _ in range(16)]
    for client in clients:
        client.start()
    try:
        for _ in range(5):  # served meanwhile
            still_serving(host)
            time.sleep(0.2)
    finally:
        for client in clients:
            client.join(HEADERS_TIMEOUT + GRACE + 15)
    assert len(results) == 16
    assert all(statuses(received) == [408] for received in results), results
    still_serving(host)
