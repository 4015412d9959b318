"""HTTP streams end to end, through ``funchost start``: tests/apps/http_streams.

Functions take the azurefunctions-extensions-http-fastapi Request and return Starlette
responses: bodies arrive as they are sent, responses leave as they are made, a slow reader
pauses the generator, a disconnect stops it, and the shutdown drain cancels what outlasts it.
Memory is read from the host process's /proc status (VmRSS), as the issue asks.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_helpers import Host, call, get, lines_since, mark, serving

APP = "http_streams"
WAIT = 10.0  # the bound of every wait below
MB = 1024 * 1024


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("marks")


@pytest.fixture(scope="module")
def host(marks: Path) -> Iterator[Host]:
    # A body limit above 200 MB: the upload test sends that much (and the limit's middleware
    # takes requests aiohttp's way, so both ways are exercised: see test_short_way_too).
    env = {"STREAMS_MARKS": str(marks), "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(300 * MB)}
    with serving(APP, env=env) as running:
        yield running


def rss_mb(pid: int) -> float:
    """The process's resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def open_stream(port: int, path: str) -> tuple[socket.socket, bytes]:
    """Send a GET and read until the head has arrived; returns the socket and what came."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        piece = sock.recv(65536)
        assert piece, f"the connection closed before the head: {received!r}"
        received += piece
    return sock, received


def wait_for_file(path: Path) -> str:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was never written"
        time.sleep(0.05)
    return path.read_text()


def test_sse_events_arrive_while_the_stream_is_endless(host: Host, marks: Path) -> None:
    sock, received = open_stream(host.port, "/api/sse")
    try:
        while b"data: event 2\n\n" not in received:
            piece = sock.recv(65536)
            assert piece, "the endless stream ended"
            received += piece
    finally:
        sock.close()
    head = received.split(b"\r\n\r\n")[0].decode().lower()
    assert "transfer-encoding: chunked" in head
    assert "content-type: text/event-stream" in head
    # The events came while the generator ran: it stops only when the client leaves (having
    # yielded at least event 2; it may be stopped at that yield, before counting it).
    assert int(wait_for_file(marks / "sse-stopped")) >= 2


def test_a_disconnect_stops_the_generator_with_one_info_line(host: Host, marks: Path) -> None:
    (marks / "sse-stopped").unlink(missing_ok=True)
    since = mark(host)
    sock, _ = open_stream(host.port, "/api/sse")
    sock.close()
    wait_for_file(marks / "sse-stopped")
    new = lines_since(host, since, r"the client disconnected before the response ended")
    assert any("Executed 'Functions.sse' (Succeeded" in line for line in new), new
    assert not [line for line in new if "Exception" in line or "Error" in line], new


def test_a_200_mb_upload_streams_without_growing_the_host(host: Host) -> None:
    pid = host.proc.pid
    before = rss_mb(pid)
    digest = hashlib.sha256()
    piece = os.urandom(MB)
    sock = socket.create_connection(("127.0.0.1", host.port), timeout=WAIT)
    try:
        head = f"POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {200 * MB}\r\n\r\n"
        sock.sendall(head.encode())
        peak = before
        for number in range(200):
            sock.sendall(piece)
            digest.update(piece)
            if number % 20 == 0:
                peak = max(peak, rss_mb(pid))
        reply = b""
        while b"}" not in reply:
            more = sock.recv(65536)
            assert more, reply
            reply += more
    finally:
        sock.close()
    body = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert body == {"length": 200 * MB, "sha256": digest.hexdigest()}
    assert max(peak, rss_mb(pid)) - before < 20, (before, peak)


def test_a_client_that_stops_reading_pauses_the_generator(host: Host) -> None:
    pid = host.proc.pid
    sock, _ = open_stream(host.port, "/api/firehose")
    try:
        before = rss_mb(pid)
        peak = before
        deadline = time.monotonic() + 10.0  # the span: 10 s without reading
        while time.monotonic() < deadline:
            peak = max(peak, rss_mb(pid))
            time.sleep(0.25)
        assert peak - before < 20, (before, peak)
        # ...and it is paused, not dead: reading again gets more.
        assert len(sock.recv(65536)) > 0
    finally:
        sock.close()


def test_plain_values_and_route_params(host: Host) -> None:
    reply = get(host, "/api/items/7?q=a&q=b")
    assert (reply.status, reply.json()) == (200, {"item_id": "7", "q": ["a", "b"]})
    assert reply.header("Content-Type") == "application/json"


def test_func_http_request_functions_keep_working(host: Host) -> None:
    assert call(host, "POST", "/api/classic", b"12345").text == "classic 5"


def test_the_body_limit_applies_as_bytes_arrive(marks: Path) -> None:
    env = {"STREAMS_MARKS": str(marks), "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "1000"}
    with serving(APP, env=env) as limited:
        declared = call(limited, "POST", "/api/upload", b"x" * 2000)
        assert declared.status == 413
        # Two chunks of 600 bytes, framed by hand: no length to refuse up front.
        framed = b"".join(b"258\r\n" + b"x" * 600 + b"\r\n" for _ in range(2)) + b"0\r\n\r\n"
        chunked = call(limited, "POST", "/api/upload", framed, {"Transfer-Encoding": "chunked"})
        assert chunked.status == 413
        assert call(limited, "POST", "/api/upload", b"x" * 10).json()["length"] == 10


def test_short_way_too(marks: Path) -> None:
    # Without a limit of its own, no middleware: requests take the short way.
    with serving(APP, env={"STREAMS_MARKS": str(marks)}) as plain:
        body = os.urandom(3 * MB)
        got = call(plain, "POST", "/api/upload", body).json()
        assert got == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        sock, received = open_stream(plain.port, "/api/sse")
        try:
            while b"data: event 1\n\n" not in received:
                piece = sock.recv(65536)
                assert piece
                received += piece
        finally:
            sock.close()


def test_the_drain_waits_for_streams_then_cancels_them(marks: Path) -> None:
    (marks / "slow-stopped").unlink(missing_ok=True)
    with serving(APP, "--shutdown-timeout", "1", env={"STREAMS_MARKS": str(marks)}) as running:
        sock, _ = open_stream(running.port, "/api/slow")
        try:
            running.wait_for("Executing 'Functions.slow'")
            running.proc.send_signal(signal.SIGTERM)
            running.wait_for("Waiting up to 1 s for 1 request(s) in flight.")
            line = running.wait_for("Cancelling 1 request(s) still running after 1 s")
            assert "Functions.slow" in line
            assert running.proc.wait(WAIT) == 0
        finally:
            sock.close()
    assert wait_for_file(marks / "slow-stopped") == "yes"
