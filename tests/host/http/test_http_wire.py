"""HTTP/1.1 on funchost's own connection (host/http/connection.py), through ``funchost start``.

A function route with no middleware takes the short way: the answer is framed and written by
funchost. With a middleware (here CORS, for requests without an Origin, which it passes
through) the same route goes through aiohttp's request and response. The first tests hold the
two ways to the same bytes on the wire; the others cover the connection itself: pipelining,
HTTP/1.0, malformed requests, answers HTTP cannot carry, a client that leaves mid-body, and
large answers to a slow reader.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiohttp.http import HttpVersion11, RawRequestMessage
from conftest import Host
from http_helpers import REQUEST_TIMEOUT, get, lines_since, mark, serving
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from funchost.host.http.framing import HostAnswer, check_answer, encode


@dataclass(frozen=True)
class Wire:
    """A response as it came off the socket."""

    status_line: str
    headers: tuple[tuple[str, str], ...]  # in order, names lower-cased
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def comparable(self) -> Wire:
        """Without Date, headers by name: their order matters only among equal names."""
        headers = sorted((h for h in self.headers if h[0] != "date"), key=lambda h: h[0])
        return Wire(self.status_line, tuple(headers), self.body)


def request(method: str, path: str, *extra: str, body: bytes = b"", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1", *extra]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def connect(host: Host) -> socket.socket:
    return socket.create_connection(("127.0.0.1", host.port), timeout=REQUEST_TIMEOUT)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes, head: bool = False) -> tuple[Wire, bytes]:
    """One response off the front of ``data``, and what follows it."""
    head_bytes, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, f"no end of head in {data[:200]!r}"
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = tuple(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines)
    )
    wire = Wire(status_line, headers, b"")
    length = 0 if head else int(wire.header("content-length") or 0)
    return Wire(status_line, headers, rest[:length]), rest[length:]


def exchange(host: Host, raw: bytes, head: bool = False) -> Wire:
    """Send one request that asks to close; the one response, and nothing after it."""
    with connect(host) as sock:
        sock.sendall(raw)
        wire, rest = parse(read_all(sock), head)
    assert rest == b"", f"bytes after the response: {rest[:100]!r}"
    return wire


# --- the short way and aiohttp's way write the same answer ------------------------------


@pytest.fixture(scope="module")
def short_way() -> Iterator[Host]:
    with serving("http_responses") as host:
        yield host


@pytest.fixture(scope="module")
def aiohttp_way() -> Iterator[Host]:
    # A CORS middleware puts every request on aiohttp's way; without Origin it changes nothing.
    with serving("http_responses", "--cors", "http://example.test") as host:
        yield host


CASES = [
    ("GET", "/api/text", "1.1"),
    ("GET", "/api/nothing", "1.1"),
    ("GET", "/api/empty", "1.1"),
    ("GET", "/api/cookies", "1.1"),
    ("GET", "/api/cookie/every", "1.1"),
    ("GET", "/api/cookie/badexpires", "1.1"),
    ("HEAD", "/api/cookie/every", "1.1"),
    ("GET", "/api/custom", "1.1"),
    ("GET", "/api/latin", "1.1"),
    ("POST", "/api/created", "1.1"),
    ("GET", "/api/redirect", "1.1"),
    ("GET", "/api/teapot", "1.1"),
    ("GET", "/api/out", "1.1"),
    ("GET", "/api/outnotset", "1.1"),
    ("GET", "/api/framing?kind=length", "1.1"),
    ("GET", "/api/framing?kind=chunked", "1.1"),
    ("GET", "/api/two_outputs/out", "1.1"),
    ("HEAD", "/api/text", "1.1"),
    ("HEAD", "/api/custom", "1.1"),
    ("HEAD", "/api/nothing", "1.1"),
    ("HEAD", "/api/empty", "1.1"),
    ("GET", "/api/text", "1.0"),
    ("GET", "/api/nowhere", "1.1"),
    ("GET", "/", "1.1"),
    ("HEAD", "/", "1.1"),
]


@pytest.mark.parametrize(("method", "path", "version"), CASES)
def test_the_short_way_writes_what_aiohttp_writes(
    short_way: Host, aiohttp_way: Host, method: str, path: str, version: str
) -> None:
    close = ("Connection: close",) if version == "1.1" else ()
    raw = request(method, path, *close, body=b"x" if method == "POST" else b"", version=version)
    ours = exchange(short_way, raw, head=method == "HEAD")
    theirs = exchange(aiohttp_way, raw, head=method == "HEAD")
    assert ours.header("date") is not None
    assert ours.comparable() == theirs.comparable()


# --- the connection --------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire_app() -> Iterator[Host]:
    with serving("http_wire") as host:
        yield host


def test_pipelined_requests_are_answered_in_order_behind_a_slow_one(wire_app: Host) -> None:
    with connect(wire_app) as sock:
        sock.sendall(
            request("GET", "/api/echo/first?sleep=0.3")
            + request("POST", "/api/echo/second", body=b"body")
            + request("GET", "/api/echo/third", "Connection: close")
        )
        data = read_all(sock)
    bodies = []
    for _ in range(3):
        wire, data = parse(data)
        bodies.append(wire.body)
    assert (bodies, data) == ([b"first:", b"second:body", b"third:"], b"")


def test_the_short_way_and_aiohttps_way_take_turns_on_one_connection(wire_app: Host) -> None:
    with connect(wire_app) as sock:
        sock.sendall(
            request("GET", "/api/echo/first")
            + request("GET", "/admin/host/status")  # the admin API: aiohttp's way
            + request("POST", "/api/echo/last", "Connection: close", body=b"x")
        )
        first, rest = parse(read_all(sock))
        status, rest = parse(rest)
        last, rest = parse(rest)
    assert (first.body, last.body, rest) == (b"first:", b"last:x", b"")
    assert status.status_line == "HTTP/1.1 200 OK" and b'"state"' in status.body


def test_keep_alive_answers_requests_sent_one_after_the_other(wire_app: Host) -> None:
    with connect(wire_app) as sock:
        bodies = []
        for tag in ("one", "two", "three"):  # each sent after the last answer was read
            sock.sendall(request("GET", f"/api/plain/{tag}"))
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(f"{tag}:".encode()):
                chunk = sock.recv(65536)
                assert chunk, f"closed before the answer to {tag}"
                data += chunk
            bodies.append(parse(data)[0].body)
    assert bodies == [b"one:", b"two:", b"three:"]


def test_http_1_0_closes_unless_asked_to_keep_alive(wire_app: Host) -> None:
    plain = exchange(wire_app, request("GET", "/api/echo/a", version="1.0"))
    assert (plain.status_line, plain.body) == ("HTTP/1.0 200 OK", b"a:")
    with connect(wire_app) as sock:
        sock.sendall(request("GET", "/api/echo/b", "Connection: keep-alive", version="1.0"))
        sock.sendall(request("GET", "/api/echo/c", version="1.0"))
        first, rest = parse(read_all(sock))
        second, rest = parse(rest)
    assert first.header("connection") == "keep-alive"
    assert (first.body, second.body, rest) == (b"b:", b"c:", b"")


def test_a_malformed_request_gets_400_and_the_connection_closes(wire_app: Host) -> None:
    with connect(wire_app) as sock:
        sock.sendall(b"GET /api/echo/a HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n")
        wire, rest = parse(read_all(sock))  # read_all returns: the server closed
    assert wire.status_line.split()[1] == "400"
    assert rest == b""
    assert get(wire_app, "/api/echo/after").status == 200


@pytest.fixture(scope="module")
def wire_app_cors() -> Iterator[Host]:
    # CORS puts every request on aiohttp's way, where the function's answer becomes a Response.
    with serving("http_wire", "--cors", "*") as host:
        yield host


def cannot_carry(host: Host, status: int, *extra: str) -> Wire:
    """The answer to a function returning ``status``; exactly one error line names it."""
    since = mark(host)
    raw = request("GET", f"/api/badstatus?status={status}", "Connection: close", *extra)
    wire = exchange(host, raw)
    lines_since(host, since, r"Executed 'Functions\.badstatus'")
    host.drain(0.3)  # a second line about it would come right after
    errors = [line for line in host.lines[since:] if "cannot carry" in line]
    assert len(errors) == 1, "\n".join(host.lines[since:])
    assert "Functions.badstatus answered what HTTP cannot carry" in errors[0]
    assert f"HTTP status {status} is out of range" in errors[0]
    return wire


# (A header with CR or LF never gets this far: the library's HttpResponse refuses it;
# encode() refuses it too, see below.)
@pytest.mark.parametrize("status", [1200, 99])
def test_an_answer_http_cannot_carry_is_a_500_naming_the_function(
    wire_app: Host, status: int
) -> None:
    wire = cannot_carry(wire_app, status)
    assert (wire.status_line, wire.body) == ("HTTP/1.1 500 Internal Server Error", b"")


@pytest.mark.parametrize("status", [1200, 99])
def test_with_cors_an_answer_http_cannot_carry_is_the_same_500(
    wire_app_cors: Host, status: int
) -> None:
    wire = cannot_carry(wire_app_cors, status, "Origin: http://page.example")
    assert (wire.status_line, wire.body) == ("HTTP/1.1 500 Internal Server Error", b"")
    assert wire.header("access-control-allow-origin") == "*"  # the page sees the 500


def test_a_client_leaving_mid_body_leaves_the_host_serving(wire_app: Host) -> None:
    since = mark(wire_app)
    with connect(wire_app) as sock:
        sock.sendall(request("POST", "/api/echo/cut", "Content-Length: 100000") + b"x" * 1000)
    time.sleep(0.2)
    assert get(wire_app, "/api/echo/after").status == 200
    ran = lines_since(wire_app, since, r"Executed 'Functions\.echo'")
    assert len([line for line in ran if "Executed 'Functions.echo'" in line]) == 1  # only 'after'


def test_a_large_answer_reaches_a_slow_reader_whole(wire_app: Host) -> None:
    with connect(wire_app) as sock:
        sock.sendall(request("GET", "/api/big?mib=8", "Connection: close"))
        time.sleep(0.5)  # 8 MiB fill the socket buffers: the server must wait for us to read
        wire, rest = parse(read_all(sock))
    expected = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    assert (len(wire.body), wire.body == expected, rest) == (len(expected), True, b"")


# --- encode(), the framing itself (host/http/framing.py) -----------------------------------


def _message(method: str = "GET") -> RawRequestMessage:
    headers = CIMultiDictProxy(CIMultiDict({"Host": "h"}))
    return RawRequestMessage(
        method, "/", HttpVersion11, headers, (), False, None, False, False, URL("/")
    )


def test_encode_keeps_a_head_answers_content_length_and_sends_no_body() -> None:
    answer = HostAnswer(200, [("Content-Length", "42"), ("Content-Type", "text/plain")], b"")
    head, body = encode(_message("HEAD"), answer, keep_alive=True)
    wire, _ = parse(head, head=True)
    assert ([v for k, v in wire.headers if k == "content-length"], body) == (["42"], b"")


def test_encode_frames_no_body_for_204_and_refuses_cr_lf_and_bad_status() -> None:
    head, body = encode(_message(), HostAnswer(204, [], b"ignored"), True)
    wire, _ = parse(head, head=True)
    assert (wire.status_line, wire.header("content-length"), body) == (
        "HTTP/1.1 204 No Content",
        None,
        b"",
    )
    with pytest.raises(ValueError, match="CR or LF"):
        encode(_message(), HostAnswer(200, [("X", "a\nb")]), True)
    with pytest.raises(ValueError, match="out of range"):
        encode(_message(), HostAnswer(99, []), True)


def test_check_answer_lets_undecoded_bytes_out_and_refuses_other_surrogates() -> None:
    # A header echoed from the request keeps the bytes the parser could not decode.
    check_answer(200, [("X-Echo", "caf\udce9"), ("X-Text", "café")])
    with pytest.raises(ValueError, match="lone surrogate"):
        check_answer(200, [("X-Bad", "\ud800")])
