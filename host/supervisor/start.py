"""``funchost start --reload`` / ``--workers N``: whether to supervise, and the supervisor's run.

The count follows the Functions host (WorkerConfigurationHelper.GetWorkerProcessCount):
FUNCTIONS_WORKER_PROCESS_COUNT below 2 means 1; above MaxProcessCount (10) or not a number is
an error there (the worker does not start), so here too. ``--workers`` (FUNCHOST_WORKERS)
overrides it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from funchost.errors import ConfigError
from funchost.host import azurite
from funchost.host.ci import ready
from funchost.host.options import StartOptions
from funchost.host.signals import on_stop_signals
from funchost.host.supervisor.multiprocess import NeverStarted, Supervisor, SupervisorOptions
from funchost.host.supervisor.watchfilesreload import watch
from funchost.host.supervisor.workers import WorkerCommand

PROCESS_COUNT = "FUNCTIONS_WORKER_PROCESS_COUNT"
MAX_PROCESS_COUNT = 10  # WorkerProcessCountOptions.MaxProcessCount
BACKLOG = 128  # as the single-process server's
# Connections reach the workers over a Unix socket (socket.send_fds).
SUPPORTED = hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


@dataclass(frozen=True)
class Plan:
    """How ``funchost start`` runs: how many workers, and whether saves reload them."""

    workers: int
    reload: bool

    @property
    def supervised(self) -> bool:
        """One process serving, no reload: the plain host, no supervisor."""
        return self.reload or self.workers > 1


def add_start_options(
    parser: argparse.ArgumentParser, *, reload: bool | None, workers: int | float | None
) -> None:
    """``funchost start --reload/--no-reload --workers N``, their defaults from the environment."""
    parser.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=reload,
        help="restart the app in a fresh process when a .py file, host.json or "
        "local.settings.json under the script root is saved (default: on when stdout is "
        "a terminal) [env: FUNCHOST_RELOAD]",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=workers,
        help="serve from N processes on one port (default: the app setting "
        "FUNCTIONS_WORKER_PROCESS_COUNT, else 1) [env: FUNCHOST_WORKERS]",
    )


def plan(workers_flag: int | None, reload_flag: bool | None, settings: Mapping[str, str]) -> Plan:
    """The flags (or their variables), else the app setting; reload defaults to a terminal's."""
    reload = sys.stdout.isatty() and SUPPORTED if reload_flag is None else reload_flag
    chosen = Plan(worker_count(workers_flag, settings), reload)
    if chosen.supervised and not SUPPORTED:
        raise ConfigError(
            "command line", "--reload / --workers", "given", "no reload and 1 worker on Windows"
        )
    return chosen


def worker_count(flag: int | None, settings: Mapping[str, str]) -> int:
    """--workers, else FUNCTIONS_WORKER_PROCESS_COUNT as the Functions host reads it."""
    if flag is not None:
        if flag < 1:
            raise ConfigError("command line", "--workers / FUNCHOST_WORKERS", flag, "1 or more")
        return flag
    raw = settings.get(PROCESS_COUNT, "").strip()
    if not raw:
        return 1
    try:
        count = int(raw)
    except ValueError:
        count = MAX_PROCESS_COUNT + 1
    if count > MAX_PROCESS_COUNT:
        expected = f"a whole number up to {MAX_PROCESS_COUNT} (the Functions host's maximum)"
        raise ConfigError("app setting", PROCESS_COUNT, raw, expected)
    return max(count, 1)


def listening_socket(address: str, port: int) -> socket.socket:
    """Bind and listen as the single-process server does."""
    infos = socket.getaddrinfo(
        address or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, where = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # as asyncio: an IPv6 bind does not take IPv4 too
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(where)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    options: StartOptions, plan: Plan, argv: Sequence[str], environ: Mapping[str, str]
) -> None:
    """Bind, run the workers until stopped; NeverStarted when they could not start."""
    try:
        sock = listening_socket(options.address, options.port)
    except OSError as exc:
        print(cannot_listen(options, exc), file=sys.stderr)
        raise NeverStarted from None
    port = int(sock.getsockname()[1])
    settings = SupervisorOptions(
        count=plan.workers,
        shutdown_timeout=options.shutdown_timeout,
        strict=options.strict,
        ready_file=options.ready_file,
        url=ready.connect_url(options.address, port),
    )
    root = options.script_root if plan.reload else None
    try:
        asyncio.run(supervise(WorkerCommand(argv, port, environ), sock, settings, root))
    finally:
        sock.close()


def cannot_listen(options: StartOptions, exc: OSError) -> str:
    """The error when the port cannot be had, one process or many."""
    return (
        f"funchost: cannot listen on {options.address}:{options.port}: {exc.strerror}; "
        f"pass --port (or FUNCHOST_PORT) to use another port"
    )


async def supervise(
    spec: WorkerCommand, sock: socket.socket, options: SupervisorOptions, root: Path | None
) -> None:
    """Run the workers until SIGTERM/SIGINT; SIGHUP (and saves under ``root``) reload them."""
    supervisor = Supervisor(spec, sock, options)
    _handle_signals(supervisor)
    watcher = None
    if root is not None:
        watcher = asyncio.get_running_loop().create_task(watch(root, supervisor.request_reload))
    try:
        await supervisor.run()
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def _handle_signals(supervisor: Supervisor) -> None:
    def force() -> None:  # a second Ctrl+C: no more waiting
        supervisor.kill_all()
        azurite.stop_started(kill=True)
        os._exit(1)

    on_stop_signals(supervisor.request_stop, force)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, supervisor.request_reload, "SIGHUP")
