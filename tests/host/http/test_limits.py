"""HTTP limits and HTTP/1.1 on the wire, through the real ``funchost start``.

The request queue (extensions.http maxConcurrentRequests / maxOutstandingRequests), the body
limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT), keep-alive, HEAD, chunked bodies and
``Expect: 100-continue``; plus the parsing of those settings and the queue's bookkeeping.
functionTimeout is covered in test_http_host.py.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import APPS, Host, free_port, run_funchost
from http_helpers import REQUEST_TIMEOUT, call, get, lines_since, mark, serving

from funchost.errors import ConfigError
from funchost.host.hostjson import HttpConfig, load_host_config
from funchost.host.http import limits as http_limits
from funchost.host.http.limits import BodyLimit, RequestQueue, body_limit, is_admin_path
from funchost.host.http.server import MAX_BODY_BYTES

LIMIT = 1024  # FUNCTIONS_REQUEST_BODY_SIZE_LIMIT in tests/apps/limits_protocol

# --- a raw HTTP/1.1 connection ------------------------------------------------------------


@dataclass
class Raw:
    """A response as read off the wire."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class Wire:
    """One TCP connection; every response is parsed off the same buffered reader, so bytes
    the server sends beyond a response's framing would break the next parse."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, head: bool = False) -> Raw:
        status_line = self.file.readline()
        assert status_line.startswith(b"HTTP/1.1 "), f"not a status line: {status_line!r}"
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if head or status < 200 or status in (204, 304):
            return Raw(status, headers, b"")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return Raw(status, headers, self._chunks())
        return Raw(status, headers, self.file.read(int(headers.get("content-length", "0"))))

    def _chunks(self) -> bytes:
        body = b""
        while size := int(self.file.readline().split(b";")[0], 16):
            body += self.file.read(size)
            self.file.readline()
        self.file.readline()
        return body

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


@pytest.fixture
def wire(protocol: Host) -> Iterator[Wire]:
    connection = Wire(protocol.port)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def protocol() -> Iterator[Host]:
    with serving("limits_protocol") as host:
        yield host


def settled_mark(host: Host) -> int:
    """A mark after every earlier invocation's lines: those of a hello run now come last."""
    since = mark(host)
    assert get(host, "/api/hello").status == 200
    return len(lines_since(host, since, r"Executed 'Functions\.hello'")) + since


def assert_echo_never_ran(host: Host, since: int) -> None:
    """No invocation of echo after ``since``: a later call of hello is logged, echo is not."""
    assert get(host, "/api/hello").status == 200
    new = lines_since(host, since, r"Executed 'Functions\.hello'")
    assert not [line for line in new if "Functions.echo" in line], new


# --- keep-alive, HEAD, chunked, Expect ---------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(wire: Wire) -> None:
    wire.send(request("GET", "/api/hello"))
    first = wire.response()
    wire.send(request("POST", "/api/echo", {"Content-Length": "3"}, b"abc"))
    second = wire.response()
    wire.send(request("GET", "/api/hello"))
    third = wire.response()
    assert [(r.status, r.body) for r in (first, second, third)] == [
        (200, b"hello"),
        (200, b"abc"),
        (200, b"hello"),
    ]
    assert "close" not in {r.headers.get("connection", "").lower() for r in (first, second, third)}


def test_pipelined_requests_are_answered_in_order(wire: Wire) -> None:
    wire.send(
        request("POST", "/api/echo", {"Content-Length": "3"}, b"one")
        + request("POST", "/api/echo", {"Content-Length": "3"}, b"two")
    )
    assert [wire.response().body, wire.response().body] == [b"one", b"two"]


def test_head_sends_the_headers_of_get_and_no_body(wire: Wire) -> None:
    wire.send(request("GET", "/api/hello"))
    got = wire.response()
    wire.send(request("HEAD", "/api/hello"))
    head = wire.response(head=True)
    # Any body bytes after the HEAD response would corrupt this next response.
    wire.send(request("GET", "/api/hello"))
    after = wire.response()
    assert (got.status, got.body, after.status, after.body) == (200, b"hello", 200, b"hello")
    assert head.status == 200
    for name in ("content-length", "content-type", "x-hello"):
        assert head.headers.get(name) == got.headers[name], name
    assert head.headers["content-length"] == "5"


def test_chunked_body_reaches_the_function_whole(wire: Wire) -> None:
    wire.send(
        request("POST", "/api/echo", {"Transfer-Encoding": "chunked"})
        + chunked(b"hello", b" ", b"chunked world")
    )
    reply = wire.response()
    assert (reply.status, reply.body) == (200, b"hello chunked world")


def test_expect_100_continue_to_a_missing_route_is_404_without_100(wire: Wire) -> None:
    wire.send(request("POST", "/api/nowhere", {"Content-Length": "5", "Expect": "100-continue"}))
    assert wire.response().status == 404


def test_expect_100_continue_gets_100_before_the_body_is_sent(wire: Wire) -> None:
    wire.send(request("POST", "/api/echo", {"Content-Length": "5", "Expect": "100-continue"}))
    interim = wire.response()
    assert interim.status == 100
    wire.send(b"hello")
    final = wire.response()
    assert (final.status, final.body) == (200, b"hello")


def test_expect_100_continue_over_the_limit_is_413_without_the_body(
    protocol: Host, wire: Wire
) -> None:
    since = settled_mark(protocol)
    headers = {"Content-Length": str(LIMIT * 4), "Expect": "100-continue"}
    wire.send(request("POST", "/api/echo", headers))
    reply = wire.response()
    # As Kestrel: the 413 goes out alone, no 100 Continue first, without waiting for a body.
    assert reply.status == 413
    assert_echo_never_ran(protocol, since)


# --- the body limit ----------------------------------------------------------------------


def test_body_at_the_limit_is_accepted(protocol: Host) -> None:
    payload = b"x" * LIMIT
    reply = call(protocol, "POST", "/api/echo", body=payload)
    assert (reply.status, reply.body) == (200, payload)


def test_body_over_the_limit_is_413_and_runs_nothing(protocol: Host) -> None:
    since = settled_mark(protocol)
    reply = call(protocol, "POST", "/api/echo", body=b"x" * (LIMIT + 1))
    assert reply.status == 413
    assert reply.text == f"Maximum request body size {LIMIT} exceeded."
    assert_echo_never_ran(protocol, since)


def test_chunked_body_over_the_limit_is_413(protocol: Host, wire: Wire) -> None:
    since = settled_mark(protocol)
    part = b"y" * 400
    wire.send(
        request("POST", "/api/echo", {"Transfer-Encoding": "chunked"}) + chunked(part, part, part)
    )
    assert wire.response().status == 413
    assert_echo_never_ran(protocol, since)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "10MB"},
            "'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT' is '10MB'; expected a whole number of bytes",
        ),
        (
            {"AzureFunctionsJobHost__extensions__http__maxConcurrentRequests": "0"},
            "AzureFunctionsJobHost__extensions__http__maxConcurrentRequests: "
            "'extensions.http.maxConcurrentRequests' is '0'; "
            "expected a whole number of at least 1, or -1 for no limit",
        ),
    ],
)
def test_bad_limit_settings_stop_the_host(env: dict[str, str], message: str) -> None:
    args = ["start", "--port", str(free_port())]
    result = run_funchost(args, APPS / "limits_protocol", env=env, timeout=30)
    assert result.returncode == 3, result.stdout + result.stderr
    assert message in result.stderr


# --- the request queue, end to end -------------------------------------------------------


def concurrently(host: Host, paths: list[str]) -> list[Any]:
    """GET every path at once, each on its own connection; the replies in the same order."""
    replies: list[Any] = [None] * len(paths)

    def fetch(index: int) -> None:
        replies[index] = get(host, paths[index], headers={"Origin": "http://localhost:3000"})

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT)
    assert all(reply is not None for reply in replies), replies
    return replies


def test_max_concurrent_requests_queues_without_overlap() -> None:
    with serving("limits_queue") as host:
        replies = concurrently(host, [f"/api/slow?s=0.5&name={i}" for i in range(2)])
    assert [r.status for r in replies] == [200, 200]
    first, second = sorted((r.json() for r in replies), key=lambda body: body["started"])
    assert second["started"] >= first["ended"], (first, second)


def test_shutdown_answers_a_request_still_waiting_in_the_queue() -> None:
    with serving("limits_queue") as host:
        since = mark(host)
        replies: list[object] = []

        def fetch(index: int) -> None:
            replies.append(get(host, f"/api/slow?s=1&name={index}"))

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        lines_since(host, since, r"Executing 'Functions\.slow'")  # one runs, one waits
        code = host.stop(signal.SIGTERM)
        for thread in threads:
            thread.join(REQUEST_TIMEOUT)
    assert code == 0, host.output
    assert sorted(getattr(r, "status", r) for r in replies) == [200, 200], replies
    assert host.output.count("Executed 'Functions.slow' (Succeeded") == 2, host.output


def test_admin_requests_skip_the_queue() -> None:
    with serving("limits_queue") as host:
        since = mark(host)
        worker = threading.Thread(target=get, args=(host, "/api/slow?s=3"))
        worker.start()
        lines_since(host, since, r"Executing 'Functions\.slow'")
        assert call(host, "POST", "/admin/host/ping").status == 200
        host.drain(0)
        assert not [line for line in host.lines[since:] if "Executed 'Functions.slow'" in line]
        worker.join(REQUEST_TIMEOUT)


def test_max_outstanding_requests_answers_429_beyond_running_plus_waiting() -> None:
    with serving("limits_outstanding", "--cors", "http://localhost:3000") as host:
        since = mark(host)
        replies = concurrently(host, [f"/api/slow?s=1&name={i}" for i in range(3)])
        new = lines_since(host, since, r"Http request queue limit of 2 has been exceeded\.")
        startup = host.lines[:since]
    # One runs, one waits, the third finds running + waiting at 2: the host's 429.
    assert sorted(r.status for r in replies) == [200, 200, 429]
    rejected = next(r for r in replies if r.status == 429)
    assert rejected.header("X-FUNCTION-SCALEOUT") == "1"
    assert rejected.header("Access-Control-Allow-Origin") == "http://localhost:3000"
    ran = sorted((r.json() for r in replies if r.status == 200), key=lambda b: b["started"])
    assert ran[1]["started"] >= ran[0]["ended"]
    assert sum("Http request queue limit" in line for line in new) == 1
    ignored = [line for line in startup if "dynamicThrottlesEnabled" in line]
    assert len(ignored) == 1 and "does not implement" in ignored[0], startup


# --- the queue's bookkeeping -------------------------------------------------------------


def fake_request(path: str = "/api/slow") -> Any:
    return SimpleNamespace(path=path)


class Gate:
    """A handler that records who entered and holds each caller until released."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self._open: dict[str, asyncio.Event] = {}

    async def handler(self, request: Any) -> Any:
        name = request.path
        self.entered.append(name)
        self._open.setdefault(name, asyncio.Event())
        await self._open[name].wait()
        return SimpleNamespace(status=200, name=name)

    def release(self, name: str) -> None:
        self._open.setdefault(name, asyncio.Event()).set()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_queue_lets_waiters_in_in_arrival_order_and_rejects_beyond_capacity() -> None:
    async def scenario() -> None:
        queue, gate = RequestQueue(1, 3), Gate()
        names = ["/a", "/b", "/c", "/d"]
        tasks = [asyncio.create_task(queue(fake_request(n), gate.handler)) for n in names]
        await settle()
        assert tasks[3].done() and tasks[3].result().status == 429
        assert (gate.entered, queue.outstanding) == (["/a"], 3)
        for name in names[:3]:
            gate.release(name)
            await settle()
        assert gate.entered == ["/a", "/b", "/c"]
        assert [t.result().status for t in tasks[:3]] == [200, 200, 200]
        assert queue.outstanding == 0

    asyncio.run(scenario())


def test_queue_without_outstanding_limit_never_rejects() -> None:
    async def scenario() -> None:
        queue, gate = RequestQueue(2, -1), Gate()
        tasks = [asyncio.create_task(queue(fake_request(f"/{i}"), gate.handler)) for i in range(50)]
        await settle()
        assert (len(gate.entered), queue.outstanding) == (2, 50)
        for i in range(50):
            gate.release(f"/{i}")
        await asyncio.gather(*tasks)
        assert {t.result().status for t in tasks} == {200}

    asyncio.run(scenario())


def test_cancelled_waiter_gives_back_its_place() -> None:
    async def scenario() -> None:
        queue, gate = RequestQueue(1, 2), Gate()
        running = asyncio.create_task(queue(fake_request("/a"), gate.handler))
        waiting = asyncio.create_task(queue(fake_request("/b"), gate.handler))
        await settle()
        waiting.cancel()
        await settle()
        assert queue.outstanding == 1
        third = asyncio.create_task(queue(fake_request("/c"), gate.handler))
        await settle()
        assert not third.done()  # queued, not refused
        gate.release("/a")
        gate.release("/c")
        await asyncio.gather(running, third)
        assert gate.entered == ["/a", "/c"]

    asyncio.run(scenario())


def test_admin_requests_are_not_counted() -> None:
    async def scenario() -> None:
        queue, gate = RequestQueue(1, 1), Gate()
        busy = asyncio.create_task(queue(fake_request("/api/a"), gate.handler))
        await settle()
        admin = asyncio.create_task(queue(fake_request("/Admin/host/status"), gate.handler))
        other = await queue(fake_request("/administrator"), gate.handler)
        await settle()
        assert other.status == 429
        assert gate.entered == ["/api/a", "/Admin/host/status"]
        gate.release("/api/a")
        gate.release("/Admin/host/status")
        await asyncio.gather(busy, admin)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("path", "admin"),
    [
        ("/admin", True),
        ("/admin/", True),
        ("/ADMIN/host/status", True),
        ("/administrator", False),
        ("/api/admin", False),
        ("/", False),
    ],
)
def test_is_admin_path(path: str, admin: bool) -> None:
    assert is_admin_path(path) is admin


# --- what is installed, and the settings -------------------------------------------------


def test_nothing_is_installed_by_default() -> None:
    assert http_limits.middlewares(HttpConfig(), {}) == []
    setting = {"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(MAX_BODY_BYTES)}
    assert http_limits.middlewares(HttpConfig(), setting) == []


def test_each_limit_installs_its_middleware() -> None:
    queue_only = http_limits.middlewares(HttpConfig(max_outstanding_requests=5), {})
    assert [type(m) for m in queue_only] == [RequestQueue]
    both = http_limits.middlewares(
        HttpConfig(max_concurrent_requests=2), {"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "2048"}
    )
    assert [type(m) for m in both] == [RequestQueue, BodyLimit]
    assert isinstance(both[1], BodyLimit) and both[1].limit == 2048


def test_dynamic_throttles_are_accepted_and_said_to_be_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="funchost.host"):
        assert http_limits.middlewares(HttpConfig(dynamic_throttles_enabled=True), {}) == []
    assert len(caplog.records) == 1
    assert "funchost does not implement dynamic throttles" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("raw", "limit"), [("", MAX_BODY_BYTES), (" 2048 ", 2048), ("209715200", 200 * 1024 * 1024)]
)
def test_body_limit_setting(raw: str, limit: int) -> None:
    assert body_limit({"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": raw}) == limit


@pytest.mark.parametrize("raw", ["0", "-1", "1e6", "100MB", "1.5"])
def test_bad_body_limit_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        body_limit({"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": raw})
    assert caught.value.key == "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
    assert caught.value.value == raw


def load_http(root: Path, http: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    doc = {"version": "2.0", "extensions": {"http": http}}
    (root / "host.json").write_text(json.dumps(doc), encoding="utf-8")
    return load_host_config(root, environ or {}).http


def test_http_limits_default_to_unbounded(tmp_path: Path) -> None:
    http = load_http(tmp_path, {})
    assert (http.max_concurrent_requests, http.max_outstanding_requests) == (-1, -1)
    assert http.dynamic_throttles_enabled is False


def test_http_limits_are_read_from_host_json_and_overrides(tmp_path: Path) -> None:
    http = load_http(
        tmp_path,
        {"MaxConcurrentRequests": 10, "maxOutstandingRequests": -1},
        {
            "AzureFunctionsJobHost__extensions__http__maxOutstandingRequests": " 200 ",
            "AzureFunctionsJobHost__extensions__http__dynamicThrottlesEnabled": "True",
        },
    )
    assert (http.max_concurrent_requests, http.max_outstanding_requests) == (10, 200)
    assert http.dynamic_throttles_enabled is True
    assert http.route_prefix == "api"


@pytest.mark.parametrize("value", [0, -2, 1.5, "ten", True, None, "--5"])
@pytest.mark.parametrize("key", ["maxConcurrentRequests", "maxOutstandingRequests"])
def test_bad_request_limits_are_refused(tmp_path: Path, key: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        load_http(tmp_path, {key: value})
    assert caught.value.key == f"extensions.http.{key}"
    assert caught.value.expected == "a whole number of at least 1, or -1 for no limit"
    assert caught.value.source.endswith("host.json")


def test_bad_dynamic_throttles_flag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_http(tmp_path, {"dynamicThrottlesEnabled": "yes"})
    assert (caught.value.key, caught.value.expected) == (
        "extensions.http.dynamicThrottlesEnabled",
        "true or false",
    )
