"""Where the host keeps its own state: ``AzureWebJobsStorage``, else a local state folder.

With ``AzureWebJobsStorage`` set to a connection string, state goes where the Functions host
puts it (the ``azure-webjobs-hosts`` container), so funchost and the real host share it. When
the setting is unset or empty, funchost keeps the same documents in files under
``<app>/.funchost/state`` (or ``FUNCHOST_STATE_DIR``). ``UseDevelopmentStorage=true`` means
Azurite on its default ports, as in the host; only when the host found none to use or start
do the files stand in for it, and the storage says why (``unavailable``), so that a binding
warns or refuses instead of falling back silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.shared.connections import Connection, ConnectionNotFound, resolve_connection
from funchost.bindings.shared.storage import (
    STORAGE_SETTING,
    StorageProvider,
    blob_service_client,
    development_unavailable,
)
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

HOSTS_CONTAINER = "azure-webjobs-hosts"
STATE_DIR_SETTING = "FUNCHOST_STATE_DIR"


@dataclass(frozen=True)
class HostStorage:
    """The storage the host's own state goes to."""

    connection: Connection | None  # None: files under state_dir
    state_dir: Path
    # Why AzureWebJobsStorage, the development storage, is not used (files instead).
    unavailable: str | None = None

    @property
    def connection_string(self) -> str | None:
        """The connection string, None for files."""
        return None if self.connection is None else self.connection.connection_string

    @property
    def description(self) -> str:
        """For log lines: which of the two, and where."""
        if self.connection_string is None:
            return f"files under {self.state_dir}"
        return f"{STORAGE_SETTING} (container {HOSTS_CONTAINER})"

    def container(self) -> ContainerClient:
        """A client of the host's container, on the process's shared blob service client."""
        assert self.connection is not None
        # Closing it is harmless: the transport belongs to the service client (close_clients).
        return blob_service_client(self.connection).get_container_client(HOSTS_CONTAINER)


def host_storage(ctx: BindingContext) -> HostStorage:
    """``AzureWebJobsStorage``; files if it is unset, empty, or a development storage not here."""
    settings = ctx.settings
    # A relative FUNCHOST_STATE_DIR is under the app, like the default.
    state_dir = ctx.script_root / (settings.get(STATE_DIR_SETTING) or Path(".funchost", "state"))
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
    unavailable = development_unavailable(connection, ctx)
    if unavailable is not None:
        return HostStorage(None, state_dir, unavailable)
    return HostStorage(connection, state_dir)


class HostStorageProvider(StorageProvider):
    """A trigger whose state (locks, checkpoints) lives in AzureWebJobsStorage, else in files."""

    def storage(self, spec: BindingSpec, ctx: BindingContext) -> Connection | None:
        """``AzureWebJobsStorage`` when it is set: the listener's state lives there."""
        try:
            return host_storage(ctx).connection
        except FunchostError:
            return None  # trigger() reports it


def files_instead(storage: HostStorage, what: str, folder: Path) -> str:
    """The warning when the development storage cannot be had and ``what`` goes to files."""
    return (
        f"{storage.unavailable}. Until then {what} in files under {folder}, as with "
        f"{STORAGE_SETTING} unset (restart funchost once the storage runs to use it)."
    )
