"""Where the host keeps its own state: ``AzureWebJobsStorage``, else a local state folder.

With ``AzureWebJobsStorage`` set to a connection string, state goes where the Functions host
puts it (the ``azure-webjobs-hosts`` container), so funchost and the real host share it. When
the setting is unset or empty, funchost keeps the same documents in files under
``<app>/.funchost/state`` (or ``FUNCHOST_STATE_DIR``). ``UseDevelopmentStorage=true`` means
Azurite on its default ports, as in the host: nothing falls back to files silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from funchost.bindings.connections import ConnectionNotFound, resolve_connection
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

HOSTS_CONTAINER = "azure-webjobs-hosts"
STORAGE_SETTING = "AzureWebJobsStorage"
STATE_DIR_SETTING = "FUNCHOST_STATE_DIR"
# Few, short retries: a lock or status call that fails is tried again by its caller, and
# the SDK's default first backoff (15 s) would stall a timer for that long.
_RETRY_TOTAL = 1
_BACKOFF = 1  # seconds (the SDK takes whole seconds)
_CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class HostStorage:
    """The storage the host's own state goes to."""

    connection_string: str | None  # None: files under state_dir
    state_dir: Path

    @property
    def description(self) -> str:
        """For log lines: which of the two, and where."""
        if self.connection_string is None:
            return f"files under {self.state_dir}"
        return f"{STORAGE_SETTING} (container {HOSTS_CONTAINER})"

    def container(self) -> ContainerClient:
        """A new async client of the host's container (the caller closes it)."""
        # The async retry policy: the sync one in an async pipeline fails on every request.
        from azure.storage.blob.aio import ContainerClient, LinearRetry

        assert self.connection_string is not None
        retry = LinearRetry(backoff=_BACKOFF, retry_total=_RETRY_TOTAL, random_jitter_range=0)
        return ContainerClient.from_connection_string(
            self.connection_string,
            HOSTS_CONTAINER,
            retry_policy=retry,
            connection_timeout=_CONNECT_TIMEOUT,
        )


def host_storage(settings: Mapping[str, str], script_root: Path) -> HostStorage:
    """Resolve ``AzureWebJobsStorage`` (unset or empty: local files)."""
    # A relative FUNCHOST_STATE_DIR is under the app, like the default.
    state_dir = script_root / (settings.get(STATE_DIR_SETTING) or Path(".funchost", "state"))
    try:
        connection = resolve_connection(STORAGE_SETTING, settings)
    except ConnectionNotFound:
        return HostStorage(None, state_dir)
    if connection.connection_string is None:
        keys = ", ".join(f"{connection.setting}__{k}" for k in sorted(connection.identity))
        raise BindingError(
            f"{STORAGE_SETTING} is configured for an identity ({keys}), which funchost cannot "
            "use for the host's own state yet; expected a connection string in "
            f"{STORAGE_SETTING}, or no {STORAGE_SETTING} at all to keep the state in files "
            f"under {state_dir}"
        )
    return HostStorage(connection.connection_string, state_dir)
