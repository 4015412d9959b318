"""Helpers for the tests that drive ``funchost start --reload`` / ``--workers``."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from conftest import APPS, Host, StartHost
from http_helpers import get

APP = APPS / "workers_pid"
SERVING = "worker(s) serving (pids "
WAIT = 20.0  # bounds every poll below; a reload or restart normally takes about a second


def app_copy(tmp_path: Path, app: Path = APP) -> Path:
    """A copy of the fixture app that a test may edit (and the watcher sees)."""
    root = tmp_path / "app"
    shutil.copytree(app, root)
    return root


def supervised(start_host: StartHost, root: Path, *args: str, **env: str) -> Host:
    """A host under its supervisor, once every worker serves."""
    host = start_host(root, "--no-azurite", *args, env=dict(env), ready=False)
    host.wait_for(SERVING)
    return host


def eventually(what: str, probe: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``probe`` until it holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def answer(host: Host, path: str) -> str:
    """The body of a GET that must succeed."""
    reply = get(host, path)
    assert reply.status == 200, (reply.status, reply.text)
    return reply.text


def pid_answer(host: Host) -> int:
    """The pid of the worker that answered."""
    return int(answer(host, "/api/pid"))


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file, as an editor's save does (one write)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def concurrently(count: int, call: Callable[[], object]) -> list[object]:
    """Run ``call`` in ``count`` threads at once; what each returned (10 s at most each)."""
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results
