"""cosmosdb-server as a child process on a free loopback port, plain HTTP.

It listens on port 0 and prints the port it got ("Ready to accept HTTP connections at
127.0.0.1:P"), so there is no window between choosing a port and binding it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
READY = re.compile(rb"Ready to accept HTTP connections at 127\.0\.0\.1:(\d+)")
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1


class InnerServerError(RuntimeError):
    """cosmosdb-server is missing or did not start."""


def default_cli() -> Path:
    """Where scripts/test installs cosmosdb-server."""
    return REPO / "node_modules" / "@vercel" / "cosmosdb-server" / "lib" / "cli.js"


def _die_with_parent() -> None:
    # If this peer is SIGKILLed, the kernel stops node too: no orphan holding a port.
    with contextlib.suppress(OSError, AttributeError):  # not Linux/glibc: no safety net
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class InnerServer:
    """The running cosmosdb-server child."""

    process: asyncio.subprocess.Process
    port: int
    _drain: asyncio.Task[None]

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, cli: str, timeout: float) -> InnerServer:
        """Start node on ``cli`` and wait (bounded) for its ready line."""
        node = shutil.which("node")
        if node is None or not os.path.isfile(cli):
            raise InnerServerError(
                f"needs node and cosmosdb-server at {cli} "
                "(scripts/test installs it: npm install --no-save @vercel/cosmosdb-server@1.0.1)"
            )
        process = await asyncio.create_subprocess_exec(
            node, cli, "--port", "0", "--host", "127.0.0.1", "--no-ssl",
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError:
            line = b""
        match = READY.search(line)
        if match is None:
            await _terminate(process)
            raise InnerServerError(
                f"cosmosdb-server did not become ready within {timeout} s: {line!r}"
            )
        drain = asyncio.get_running_loop().create_task(_copy_to_stderr(process.stdout))
        return cls(process, int(match.group(1)), drain)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT."""
        await _terminate(self.process)
        self._drain.cancel()


async def _terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _copy_to_stderr(stream: asyncio.StreamReader) -> None:
    # Keep reading so a chatty child never blocks on a full pipe.
    while line := await stream.readline():
        sys.stderr.write(line.decode(errors="replace"))
