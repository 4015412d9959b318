"""Azurite, started by ``funchost start`` when the app uses the development storage.

When a binding's storage connection is ``UseDevelopmentStorage=true`` (or names
devstoreaccount1 on 127.0.0.1:10000-10002) and nothing listens on those ports, funchost starts
Azurite itself, as the Core Tools user would in another terminal: data under
``<app>/.funchost/azurite``, stopped when funchost exits. Azurite runs in its own process
group, so a Ctrl+C reaches funchost first and the listeners release their leases while the
storage is still up; funchost then stops it (and it dies with funchost on Linux even when
funchost is killed).

When nothing listens there and no Azurite can be found, funchost does not stop: the bindings
hear why (``unavailable``, through ``BindingContext.unavailable``) and each decides what it
can do without it (keep state in files, or have its function disabled with the reason);
``--strict`` exits instead.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from funchost.bindings.shared.storage import (
    DEV_ACCOUNT,
    DEV_HOST,
    DEV_KEY,
    DEV_PORTS,
    Kind,
    development_missing,
)
from funchost.errors import FunchostError

INSTALL = "npm install -g azurite@3.35.0"
# Why the development storage cannot be had, and what to do: the tail of every message about it.
NOT_FOUND = (
    "nothing listens there and Azurite is not installed: install it with "
    f"`{INSTALL}` (later versions need Node 22) and funchost starts it (it looks on PATH and "
    "in node_modules/.bin of the app's folder, the current folder and their parents), or "
    "start your own storage emulator there"
)
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
DATA_DIR = Path(".funchost", "azurite")
LOG_TAIL = 20  # lines of Azurite's output in an error


class AzuriteError(FunchostError):
    """Azurite is needed but cannot be found or started (the host never starts)."""


@dataclass
class RunningAzurite:
    """An Azurite process funchost started; ``stop()`` is idempotent."""

    process: subprocess.Popen[bytes]
    version: str
    location: Path
    log: Path
    ports: dict[str, int] = field(default_factory=lambda: {str(k): v for k, v in DEV_PORTS.items()})

    def describe(self, settings: Sequence[str]) -> str:
        """The one line printed at start."""
        ports = ", ".join(f"{kind} {DEV_HOST}:{port}" for kind, port in self.ports.items())
        return (
            f"Started Azurite {self.version} for {' and '.join(settings)} "
            f"(UseDevelopmentStorage): {ports}; data in {self.location}; it stops with "
            "funchost (--no-azurite to run your own)."
        )

    @property
    def connection_string(self) -> str:
        """The development account on this Azurite's ports, whichever they are
        (``UseDevelopmentStorage=true`` means the default ones only)."""
        endpoints = "".join(
            f"{kind.capitalize()}Endpoint=http://{DEV_HOST}:{port}/{DEV_ACCOUNT};"
            for kind, port in self.ports.items()
        )
        account = f"AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        return f"DefaultEndpointsProtocol=http;{account}{endpoints}"

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after STOP_TIMEOUT."""
        if self.process.poll() is not None:
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """At once, for an exit that cannot wait."""
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1)


_running: list[RunningAzurite] = []


def stop_started(*, kill: bool = False) -> None:
    """Stop (or kill) every Azurite this process started, before an ``os._exit``."""
    for azurite in _running:
        if kill:
            azurite.kill()
        else:
            azurite.stop()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:  # Windows: no process groups to signal
            process.kill()


def ports_in_use(ports: Iterable[int] = DEV_PORTS.values()) -> list[int]:
    """The ones something listens on (a plain TCP connect)."""
    return [port for port in ports if _listening(port)]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((DEV_HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def find_azurite(app: Path, cwd: Path | None = None) -> Path | None:
    """PATH, then node_modules/.bin in the app's folder and its parents, the cwd's, funchost's."""
    found = shutil.which("azurite")
    if found:
        return Path(found)
    roots = [app, cwd or Path.cwd()]
    here = Path(__file__).resolve()
    if "site-packages" not in here.parts:  # a source checkout: funchost's own node_modules
        roots.append(here.parents[1])
    for root in roots:
        for folder in (root, *root.parents):
            candidate = folder / "node_modules" / ".bin" / "azurite"
            if candidate.exists():
                return candidate
    return None


def _version(executable: Path) -> str:
    """From the package.json beside the script (running ``azurite --version`` costs ~0.3 s)."""
    for folder in executable.resolve().parents:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                doc = json.loads(manifest.read_text())
            except (OSError, ValueError):
                break
            if doc.get("name") == "azurite":
                return str(doc.get("version", "(unknown version)"))
    return "(unknown version)"


def missing_message(settings: Sequence[str]) -> str:
    """The one-line error when Azurite is needed and not installed."""
    return development_missing(" and ".join(settings), NOT_FOUND)


def unavailable(app: Path) -> str | None:
    """Why the development storage cannot be had here (NOT_FOUND); None when it can."""
    # As autostart decides: whatever listens on the ports is used, else Azurite is started.
    if ports_in_use() or find_azurite(app) is not None:
        return None
    return NOT_FOUND


def autostart(app: Path, settings: Sequence[str]) -> RunningAzurite | None:
    """Start Azurite for these settings unless something listens on any of its ports."""
    if not settings or ports_in_use():
        return None
    return start_azurite(app, settings)


def start_azurite(app: Path, settings: Sequence[str]) -> RunningAzurite:
    """Start Azurite on its default ports with data under the app; wait until it listens."""
    executable = find_azurite(app)
    if executable is None:
        raise AzuriteError(missing_message(settings))
    location = app / DATA_DIR
    location.mkdir(parents=True, exist_ok=True)
    return launch(executable, DEV_PORTS, location, ["--location", str(location)])


def launch(
    executable: Path, ports: Mapping[Kind, int], workdir: Path, storage: Sequence[str]
) -> RunningAzurite:
    """Azurite on these loopback ports (blob, queue, table), its log in ``workdir``, with
    ``storage`` saying where data lives; returns once every port accepts connections."""
    log = workdir / "azurite.log"
    args = azurite_arguments(ports.items(), storage)
    try:
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(executable), *args],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl+C reaches funchost, which stops it in order
                preexec_fn=die_with_parent(),
            )
    except OSError as exc:
        raise AzuriteError(f"cannot start Azurite ({executable}): {exc}") from None
    azurite = RunningAzurite(
        process, _version(executable), workdir, log, {str(k): v for k, v in ports.items()}
    )
    _running.append(azurite)
    atexit.register(azurite.stop)
    _wait_ready(azurite)
    return azurite


def azurite_arguments(ports: Iterable[tuple[str, int]], storage: Sequence[str]) -> list[str]:
    """Azurite's command line on loopback: ports per service (blob, queue, table), where
    data lives (``--location DIR`` or ``--inMemoryPersistence``); used by tests and bench too.
    """
    args: list[str] = []
    for kind, port in ports:
        args += [f"--{kind}Host", DEV_HOST, f"--{kind}Port", str(port)]
    # --skipApiVersionCheck: current SDKs send API versions Azurite 3.35 would refuse.
    args += [*storage, "--skipApiVersionCheck", "--loose", "--silent"]
    return [*args, "--disableTelemetry"]


def die_with_parent() -> Callable[[], object] | None:
    """For the child: SIGTERM when funchost dies, even by SIGKILL (Linux prctl).

    Looked up here, in the parent: the child between fork and exec must not import anything.
    """
    if sys.platform != "linux":
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return functools.partial(prctl, pr_set_pdeathsig, signal.SIGTERM)


def _wait_ready(azurite: RunningAzurite) -> None:
    """Until all three ports accept connections, bounded by READY_TIMEOUT."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        code = azurite.process.poll()
        if code is not None:
            raise AzuriteError(
                f"Azurite exited with code {code} at start ({azurite.log}): {_tail(azurite.log)}"
            )
        if len(ports_in_use(azurite.ports.values())) == len(azurite.ports):
            return
        time.sleep(0.05)
    azurite.kill()
    raise AzuriteError(
        f"Azurite did not listen on {DEV_HOST}:{list(azurite.ports.values())} within "
        f"{READY_TIMEOUT:g} s ({azurite.log}): {_tail(azurite.log)}"
    )


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no output)"
    return " | ".join(lines[-LOG_TAIL:]) or "(no output)"
