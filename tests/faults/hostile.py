"""What the test_http_*.py and test_security.py fault tests share: the hostile-client app
served with auth on and known secrets, and raw-socket exchanges no library would send."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import Host
from http_helpers import serving

MASTER = "hostile-master-key-5f1e"
ACCOUNT_KEY = "QWNjb3VudEtleVNlY3JldA=="
LEAKY_CONNECTION = (
    f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={ACCOUNT_KEY};"
    "EndpointSuffix=core.windows.net"
)
# The slow-client tests wait these out (Kestrel's are 5 s and 30 s; short ones keep them short).
GRACE = 1.0
HEADERS_TIMEOUT = 2.0


@contextmanager
def hostile_host(secrets: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Host]:
    """tests/apps/http_hostile with auth on, the master key known, keys in ``secrets``."""
    env = {
        **(env or {}),
        "FUNCTIONS_SECRETS_PATH": str(secrets),
        "FUNCTIONS_MASTER_KEY": MASTER,
        "LEAKY_CONNECTION": LEAKY_CONNECTION,
        "FUNCHOST_DATA_RATE_GRACE": str(GRACE),
        "FUNCHOST_REQUEST_HEADERS_TIMEOUT": str(HEADERS_TIMEOUT),
    }
    with serving("http_hostile", "--enable-auth", "--no-azurite", *args, env=env) as host:
        yield host


def exchange(host: Host, data: bytes, *, half_close: bool = False, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the host closes it (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", host.port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_to_end(sock, timeout)


def read_to_end(sock: socket.socket, timeout: float) -> bytes:
    """Everything until the peer closes; what came so far when ``timeout`` passes first."""
    received = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        received += chunk
    return bytes(received)


def statuses(answer: bytes) -> list[int]:
    """The status of every final response in ``answer`` (100 Continue left out)."""
    found = []
    for line in answer.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12:
            status = int(line[9:12])
            if status != 100:
                found.append(status)
    return found


def head(path: str, *extra: str, method: str = "GET", host: str = "localhost") -> bytes:
    """A request head (no body) with ``extra`` header lines."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *extra, "", ""]
    return "\r\n".join(lines).encode("latin-1")
