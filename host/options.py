"""The options of ``funchost start``: flags, environment, then local.settings.json."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from funchost.host.supervisor.slot import WorkerSlot

DEFAULT_PORT = 7071
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_SHUTDOWN_TIMEOUT = 30.0
_LOCAL_ADDRESSES = ("127.0.0.1", "0.0.0.0", "localhost", "::", "::1")


@dataclass(frozen=True)
class StartOptions:
    """Everything the host needs to know about how it was started."""

    script_root: Path
    port: int = DEFAULT_PORT
    address: str = DEFAULT_ADDRESS
    functions: tuple[str, ...] = ()
    cors: tuple[str, ...] = ()
    cors_credentials: bool = False
    verbose: bool = False
    json_logs: bool = False
    strict: bool = False
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    enable_auth: bool = False
    azurite: bool = True  # start Azurite when the app uses the development storage
    ready_file: Path | None = None  # --ready-file: the URL, written once the port accepts
    ui: bool = True  # serve the dashboard at /admin/ui/ (--no-ui: 404)
    out: TextIO = field(default=sys.stdout, compare=False)
    worker: WorkerSlot | None = None  # a worker under ``--reload``/``--workers`` (supervisor/)

    @property
    def auth_enforced(self) -> bool:
        """Keys are checked with --enable-auth, and always off loopback (the Docker case)."""
        return self.enable_auth or not is_loopback(self.address)

    @property
    def base_url(self) -> str:
        """The URL printed in the report: localhost for local binds, as Core Tools prints."""
        shown = "localhost" if self.address in _LOCAL_ADDRESSES else self.address
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}"


def is_loopback(address: str) -> bool:
    """Whether binding here keeps the host private to this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
