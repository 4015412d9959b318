"""How ``funchost start`` runs: one process, or a supervisor with reload and workers.

Read at every start, so it imports nothing heavy; start.py (the supervisor) is imported only
when it runs. The count follows the Functions host (WorkerConfigurationHelper
.GetWorkerProcessCount): FUNCTIONS_WORKER_PROCESS_COUNT below 2 means 1; above
MaxProcessCount (10) or not a number is an error there (the worker does not start), so here
too. ``--workers`` (FUNCHOST_WORKERS) overrides it.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from funchost.errors import ConfigError
from funchost.host.option_ranges import COUNT, add_ranged
from funchost.host.options import StartOptions

PROCESS_COUNT = "FUNCTIONS_WORKER_PROCESS_COUNT"
MAX_PROCESS_COUNT = 10  # WorkerProcessCountOptions.MaxProcessCount
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


def add_start_options(parser: argparse.ArgumentParser, *, reload: bool | None) -> None:
    """``funchost start --reload/--no-reload --workers N``, their defaults from the environment."""
    parser.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=reload,
        help="restart the app in a fresh process when a .py file, host.json or "
        "local.settings.json under the script root is saved (default: on when stdout is "
        "a terminal) [env: FUNCHOST_RELOAD]",
    )
    add_ranged(
        parser,
        "--workers",
        COUNT,
        "FUNCHOST_WORKERS",
        "serve from N processes on one port (default: the app setting "
        "FUNCTIONS_WORKER_PROCESS_COUNT, else 1)",
        metavar="N",
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
    if flag is not None:  # range-checked as it was parsed (host/option_ranges.py)
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


def cannot_listen(options: StartOptions, exc: OSError) -> str:
    """The error when the port cannot be had, one process or many."""
    return (
        f"funchost: cannot listen on {options.address}:{options.port}: {exc.strerror}; "
        f"pass --port (or FUNCHOST_PORT) to use another port"
    )
