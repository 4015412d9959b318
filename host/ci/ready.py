"""The ready file of ``funchost start --ready-file`` and the wait of ``funchost wait-ready``.

A CI script starts the host in the background and must not run its tests before the port
accepts: the file is written (atomically, so a reader never sees half a URL) only once the
socket listens, and removed when the host stops, so a stale one never says ready.
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from funchost.errors import FunchostError

PING = "/admin/host/ping"
_POLL = 0.1  # seconds between looks at the file and pings of the host
# Binding to every address: a client reaches it on loopback.
_CONNECT = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class NotReady(FunchostError):
    """No host answered its ping before the timeout."""


def connect_url(address: str, port: int) -> str:
    """The URL a client on this machine uses to reach a host bound to ``address``."""
    host = _CONNECT.get(address, address)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def write_ready(path: Path, url: str) -> None:
    """Write the URL through a temporary file and a rename: the file appears whole or not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(url + "\n", encoding="utf-8")
    os.replace(partial, path)


def clear_ready(path: Path) -> None:
    """Remove the ready file (at start-up: a previous run's; at shutdown: this one's)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def read_ready(path: Path) -> str | None:
    """The URL the ready file holds, None while it does not exist."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def pings(url: str, timeout: float = 2.0) -> bool:
    """Whether the host at ``url`` answers its admin ping with 200."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + PING, timeout=timeout) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(ready_file: Path | None, url: str | None, timeout: float) -> str:
    """Poll the ready file (or the URL) until the host pings back; its URL, or NotReady."""
    deadline = time.monotonic() + timeout
    while True:
        target = url or (read_ready(ready_file) if ready_file is not None else None)
        if target is not None and pings(target):
            return target
        if time.monotonic() >= deadline:
            where = url or f"the URL in {ready_file}"
            raise NotReady(
                f"no host answered {PING} at {where} within {timeout:g} s; expected "
                "`funchost start --ready-file` (or the URL) to be serving"
            )
        time.sleep(_POLL)
