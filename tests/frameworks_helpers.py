"""Helpers for the framework tests: send the same requests to funchost and to a reference.

It holds no tests. A reference is where a user's own tests would run the framework app:
uvicorn for the FastAPI app, Flask's test client for the Flask app. ``view()`` reduces a
reply to what such a test looks at, so two replies compare equal when a user could not tell
them apart: status, body (parsed when JSON), the headers an app sets, and cookies by name,
value and attributes (the Functions worker sends cookies as objects, so attribute order and
spelling are the host's, not the app's).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import ModuleType
from typing import Any

from conftest import APPS, free_port
from http_helpers import REQUEST_TIMEOUT, Reply

START_TIMEOUT = 20.0
# Headers an app sets; Date and Server belong to the server, framing is compared as length.
COMPARED_HEADERS = (
    "content-length",
    "content-type",
    "location",
    "www-authenticate",
    "x-error",
    "x-custom",
    "vary",
)


@dataclass(frozen=True)
class Ask:
    """One request, sent the same way to every server."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, method: str, path: str, doc: Any, headers: Mapping[str, str] | None = None
    ) -> Ask:
        """A request with a JSON body."""
        body = json.dumps(doc).encode()
        return cls(method, path, body, {"Content-Type": "application/json", **(headers or {})})

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def fetch(port: int, ask: Ask) -> Reply:
    """Send ``ask`` on a fresh connection; never follows redirects, never waits forever."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(ask.method, ask.path, body=ask.body, headers=dict(ask.headers))
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def view(status: int, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """What a user's test sees of a reply, in a form that compares by value."""
    lowered = [(k.lower(), v) for k, v in headers]
    content_type = next((v for k, v in lowered if k == "content-type"), "")
    shown: dict[str, Any] = {
        "status": status,
        "body": json.loads(body) if "json" in content_type and body else body,
        "headers": {k: v for k, v in lowered if k in COMPARED_HEADERS},
        "cookies": cookies([v for k, v in lowered if k == "set-cookie"]),
        "allow": sorted(m.strip() for k, v in lowered if k == "allow" for m in v.split(",")),
    }
    return shown


def reply_view(reply: Reply) -> dict[str, Any]:
    """``view()`` of an http.client reply."""
    return view(reply.status, list(reply.headers.items()), reply.body)


def cookies(lines: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Set-Cookie lines as {name: (value, {attribute: value})}; expires is time-dependent.

    SameSite's value is compared as a browser compares it, whatever its case: the Functions
    host writes 'samesite=lax' for an app's 'SameSite=Lax'.
    """
    parsed: dict[str, tuple[str, dict[str, str]]] = {}
    for line in lines:
        for name, morsel in SimpleCookie(line).items():
            attrs = {k: str(v) for k, v in morsel.items() if v and k != "expires"}
            if "samesite" in attrs:
                attrs["samesite"] = attrs["samesite"].lower()
            parsed[name] = (morsel.value, attrs)
    return parsed


def cookie_header(reply: Reply) -> str:
    """The Cookie header a browser would send back after this reply."""
    jar = cookies(reply.headers.get_all("Set-Cookie") or [])
    return "; ".join(f"{name}={value}" for name, (value, _) in jar.items())


def load_fixture_module(app: str, name: str) -> ModuleType:
    """Import a fixture app's function_app.py under a unique name (they all share one)."""
    spec = importlib.util.spec_from_file_location(name, APPS / app / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Uvicorn:
    """A uvicorn process serving a fixture app's ASGI object, as a user runs it."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def output(self) -> str:
        """What uvicorn and the app printed so far."""
        return self.log.read_text(errors="replace")


@contextmanager
def uvicorn_serving(app: str, target: str, log: Path) -> Iterator[Uvicorn]:
    """Run ``uvicorn <target>`` in the fixture app's folder; stop it afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--app-dir", str(APPS / app)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--lifespan", "on", "--no-access-log"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Uvicorn(port, proc, log)
    try:
        _wait_listening(server)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_listening(server: Uvicorn) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"uvicorn did not start listening; output was:\n{server.output}")
