"""The supervisor's run: bind the port, start the workers, stop them on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from funchost.host import azurite
from funchost.host.ci import ready
from funchost.host.options import StartOptions
from funchost.host.signals import on_stop_signals
from funchost.host.supervisor.config import Plan, cannot_listen
from funchost.host.supervisor.multiprocess import NeverStarted, Supervisor, SupervisorOptions
from funchost.host.supervisor.workers import WorkerCommand

BACKLOG = 128  # as the single-process server's


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


async def supervise(
    spec: WorkerCommand, sock: socket.socket, options: SupervisorOptions, root: Path | None
) -> None:
    """Run the workers until SIGTERM/SIGINT; SIGHUP (and saves under ``root``) reload them."""
    supervisor = Supervisor(spec, sock, options)
    _handle_signals(supervisor)
    watcher = None
    if root is not None:
        from funchost.host.supervisor.watchfilesreload import watch  # only when reloading

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
