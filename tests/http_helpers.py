"""Helpers shared by the HTTP end-to-end tests: one host per fixture app, bounded requests.

It holds no tests; the test_http_*.py modules import it (tests/ has no __init__.py, so the
folder is on sys.path, as for conftest).
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from conftest import APPS, READY, Host, free_port, host_env

REQUEST_TIMEOUT = 10.0
# [2026-01-01T00:00:00.000Z] message
STAMP = r"\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\]"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REASON = "This function was programmatically called via the host APIs."


@contextmanager
def serving(app: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Host]:
    """Start ``funchost start`` for a fixture app, wait until ready, stop it afterwards."""
    port = free_port()
    host = Host(["start", "--port", str(port), *args], APPS / app, host_env(env), port)
    try:
        host.wait_for(READY)
        yield host
    finally:
        host.stop()


@dataclass
class Reply:
    """What came back: status, headers (repeats kept) and the body."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8."""
        return self.body.decode()

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """One header, case-insensitively."""
        return self.headers.get(name)


def call(
    host: Host,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One request on a fresh connection; never follows redirects, never waits forever."""
    conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def get(host: Host, path: str, headers: Mapping[str, str] | None = None) -> Reply:
    """GET ``path``."""
    return call(host, "GET", path, headers=headers)


def mark(host: Host) -> int:
    """A position in the host's output; lines after it belong to what happens next."""
    host.drain(0)
    return len(host.lines)


def lines_since(host: Host, since: int, pattern: str, timeout: float = 5.0) -> list[str]:
    """Wait until a line after ``since`` matches the regex; return all lines after ``since``."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        host.drain(0.05)
        new = host.lines[since:]
        if any(regex.search(line) for line in new) or time.monotonic() > deadline:
            break
    assert any(regex.search(line) for line in new), (
        f"no line matching {pattern!r} after the request; new output was:\n" + "\n".join(new)
    )
    return new


def invocation_lines(host: Host, since: int, function: str) -> tuple[str, str, list[str]]:
    """The Executing and Executed lines of one invocation of ``function``, and all new lines."""
    new = lines_since(host, since, rf"Executed 'Functions\.{function}'")
    executing = [line for line in new if f"Executing 'Functions.{function}'" in line]
    executed = [line for line in new if f"Executed 'Functions.{function}'" in line]
    assert len(executing) == 1 and len(executed) == 1, "\n".join(new)
    return executing[0], executed[0], new


def invocation_id(executing_line: str) -> str:
    """The Id in an Executing line."""
    found = re.search(rf"Id=({UUID})\)", executing_line)
    assert found, executing_line
    return found.group(1)


@contextmanager
def direct_and_library(app: str, prefix: str) -> Iterator[tuple[Host, Host]]:
    """The same framework app served twice under routePrefix ``prefix``: by funchost's direct
    path, and through the library's middleware (its script ``library_app.py`` wraps it)."""
    env = {"AzureFunctionsJobHost__extensions__http__routePrefix": prefix}
    with serving(app, env=env) as direct:
        library_env = {**env, "PYTHON_SCRIPT_FILE_NAME": "library_app.py"}
        with serving(app, env=library_env) as library:
            yield direct, library
