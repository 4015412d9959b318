"""Azure Storage connections and clients, shared by every storage binding and the host's state.

A binding's ``connection`` names app settings as the Functions host reads them (connections.py);
empty or missing means ``AzureWebJobsStorage``. A connection is a connection string
(``UseDevelopmentStorage=true`` is Azurite on 127.0.0.1:10000-10002) or identity settings
(``<name>__queueServiceUri``, ``__blobServiceUri``, ``__serviceUri``, ``__accountName``), which
use an azure-identity credential. One async service client is kept per connection and kind for
the whole process; the host closes them all at shutdown (``close_clients``). The SDKs are
imported inside the functions, so an app without storage bindings never loads them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from funchost.bindings.base import BindingContext, BindingProvider, BindingSpec, LocalService
from funchost.bindings.shared.connections import Connection, binding_connection
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.data.tables.aio import TableServiceClient
    from azure.storage.blob.aio import BlobServiceClient
    from azure.storage.queue.aio import QueueServiceClient

log = logging.getLogger("funchost.storage")
STORAGE_SETTING = "AzureWebJobsStorage"
Kind = Literal["blob", "queue", "table"]
# Azurite's account and its well-known key (public, the same in every installation).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_HOST = "127.0.0.1"
DEV_PORTS: Mapping[Kind, int] = {"blob": 10000, "queue": 10001, "table": 10002}
_ENDPOINT_KEYS: Mapping[Kind, str] = {
    "blob": "BlobEndpoint",
    "queue": "QueueEndpoint",
    "table": "TableEndpoint",
}
# Azure.Core's defaults, which the Functions host's storage clients use: 3 retries,
# exponential from 0.8 s (x0.8-1.2 jitter), at most 1 min. The storage SDK's own default
# sleeps 15 s after a first refused connection.
RETRY_TOTAL = 3
RETRY_DELAY = 0.8
RETRY_MAX_DELAY = 60.0
CONNECT_TIMEOUT = 5  # seconds

# (kind, connection key) -> client, in creation order; credentials likewise.
_clients: dict[tuple[str, str], Any] = {}
_credentials: dict[str, AsyncTokenCredential] = {}


def storage_connection(spec: BindingSpec, ctx: BindingContext) -> Connection:
    """The connection a storage binding names (``AzureWebJobsStorage`` when it names none)."""
    name = _connection_name(spec)
    where = f"function '{ctx.function_name}': binding '{spec.name}' ({spec.type})"
    connection = binding_connection(name, ctx.settings, where)
    _check(connection, _kind_of(spec.type), where)
    unavailable = development_unavailable(connection, ctx)
    if unavailable is not None:
        raise BindingError(f"{where}: {unavailable}")
    return connection


def _connection_name(spec: BindingSpec) -> str:
    for key, value in spec.properties.items():
        if key.lower() == "connection" and isinstance(value, str) and value.strip():
            return value.strip()
    return STORAGE_SETTING


def _kind_of(type_name: str) -> Kind | None:
    lowered = type_name.lower()
    for kind in ("queue", "blob", "table"):
        if lowered.startswith(kind):
            return kind
    return None


def _check(connection: Connection, kind: Kind | None, where: str) -> None:
    """Fail at load on a connection no client could be built from."""
    if connection.connection_string is not None:
        parse_connection_string(connection, where)
        return
    kinds: tuple[Kind, ...] = (kind,) if kind else ("queue", "blob")
    for each in kinds:
        service_uri(connection, each, where)


def parse_connection_string(connection: Connection, where: str = "") -> dict[str, str]:
    """The ``Key=Value`` pairs; an error names the setting, never the value (it holds a key)."""
    raw = connection.connection_string or ""
    pairs = [part.split("=", 1) for part in raw.strip().rstrip(";").split(";") if part.strip()]
    if not pairs or any(len(pair) != 2 for pair in pairs):
        prefix = f"{where}: " if where else ""
        raise BindingError(
            f"{prefix}app setting '{connection.setting}' is not a storage connection string; "
            "expected 'UseDevelopmentStorage=true' or "
            "'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...'"
        )
    return {key.strip(): value.strip() for key, value in pairs}


def _get(pairs: Mapping[str, str], key: str) -> str | None:
    return next((v for k, v in pairs.items() if k.lower() == key.lower()), None)


AZURITE = "azurite"  # LocalService.kind of the storage emulator
DEVELOPMENT_STORAGE = (
    f"the development storage (Azurite on {DEV_HOST}:{min(DEV_PORTS.values())}-"
    f"{max(DEV_PORTS.values())})"
)


def is_development(connection: Connection) -> bool:
    """Whether the connection means Azurite on its default loopback ports."""
    if connection.connection_string is None:
        return False
    try:
        pairs = parse_connection_string(connection)
    except BindingError:
        return False
    if (_get(pairs, "UseDevelopmentStorage") or "").lower() == "true":
        return _get(pairs, "DevelopmentStorageProxyUri") is None
    if _get(pairs, "AccountName") != DEV_ACCOUNT:
        return False
    endpoints = [(k, _get(pairs, key)) for k, key in _ENDPOINT_KEYS.items()]
    named = [(kind, url) for kind, url in endpoints if url]
    return bool(named) and all(_is_dev_endpoint(url, DEV_PORTS[kind]) for kind, url in named)


def development_unavailable(connection: Connection, ctx: BindingContext) -> str | None:
    """Why this development storage connection cannot be used here; None if it can (or is none)."""
    if not is_development(connection):
        return None
    reason = ctx.unavailable(AZURITE)
    return None if reason is None else development_missing(connection.setting, reason)


def development_missing(setting: str, reason: str) -> str:
    """The sentence for a setting on the development storage that cannot be had, and why."""
    return f"{setting} uses {DEVELOPMENT_STORAGE}, but {reason}"


def _is_dev_endpoint(url: str, port: int) -> bool:
    parts = urlsplit(url)
    return parts.hostname in ("127.0.0.1", "localhost") and parts.port == port


def development_connection_string(connection: Connection) -> str:
    """The connection string with ``UseDevelopmentStorage=true`` spelled out."""
    assert connection.connection_string is not None
    pairs = parse_connection_string(connection)
    if (_get(pairs, "UseDevelopmentStorage") or "").lower() != "true":
        return connection.connection_string
    proxy = urlsplit(_get(pairs, "DevelopmentStorageProxyUri") or f"http://{DEV_HOST}")
    scheme, host = proxy.scheme or "http", proxy.hostname or DEV_HOST
    endpoints = "".join(
        f"{_ENDPOINT_KEYS[kind]}={scheme}://{host}:{port}/{DEV_ACCOUNT};"
        for kind, port in DEV_PORTS.items()
    )
    return (
        f"DefaultEndpointsProtocol={scheme};AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        + endpoints
    )


def service_uri(connection: Connection, kind: Kind, where: str = "") -> str:
    """An identity connection's service URI: <kind>ServiceUri, serviceUri, then accountName."""
    settings = {key.lower(): value for key, value in connection.identity.items()}
    for key in (f"{kind}serviceuri", "serviceuri"):
        if settings.get(key):
            return settings[key]
    account = settings.get("accountname")
    if account:
        return f"https://{account}.{kind}.core.windows.net"
    prefix = f"{where}: " if where else ""
    found = ", ".join(f"{connection.setting}__{key}" for key in sorted(connection.identity))
    raise BindingError(
        f"{prefix}connection '{connection.name}' has identity settings ({found}) but no "
        f"{kind} service; expected {connection.setting}__{kind}ServiceUri, "
        f"{connection.setting}__serviceUri or {connection.setting}__accountName"
    )


def queue_service_client(conn: Connection) -> QueueServiceClient:
    """The process's async QueueServiceClient for this connection (closed by close_clients)."""
    # The async retry policy (the sync one fails every request in an async pipeline); the
    # queue package exports only the sync one.
    from azure.storage.queue._shared.policies_async import ExponentialRetry
    from azure.storage.queue.aio import QueueServiceClient

    client: QueueServiceClient = _service_client(
        "queue", conn, QueueServiceClient, ExponentialRetry
    )
    return client


def blob_service_client(conn: Connection) -> BlobServiceClient:
    """The process's async BlobServiceClient for this connection (closed by close_clients)."""
    from azure.storage.blob.aio import BlobServiceClient, ExponentialRetry

    client: BlobServiceClient = _service_client("blob", conn, BlobServiceClient, ExponentialRetry)
    return client


def table_service_client(conn: Connection) -> TableServiceClient:
    """The process's async TableServiceClient for this connection (closed by close_clients)."""
    from azure.data.tables.aio import TableServiceClient

    # The Tables SDK builds its retry policy itself (azure-core's, whose exponential
    # timing is Azure.Core's already): only the counts are passed.
    options = {"retry_total": RETRY_TOTAL, "retry_backoff_max": RETRY_MAX_DELAY}
    client: TableServiceClient = _service_client("table", conn, TableServiceClient, None, options)
    return client


def _service_client(
    kind: Kind,
    conn: Connection,
    client_cls: Any,
    retry_cls: Any,
    retry_options: Mapping[str, Any] | None = None,
) -> Any:
    """One cached client per (kind, connection), from a connection string or an identity."""
    key = (kind, _key(conn))
    client = _clients.get(key)
    if client is None:
        options: dict[str, Any] = {"connection_timeout": CONNECT_TIMEOUT}
        if retry_cls is not None:
            options["retry_policy"] = _retry_policy(retry_cls)
        options.update(retry_options or {})
        if conn.connection_string is not None:
            cs = development_connection_string(conn)
            client = client_cls.from_connection_string(cs, **options)
        else:
            url = service_uri(conn, kind)
            client = client_cls(url, credential=_credential(conn), **options)
        _clients[key] = client
    return client


def _key(conn: Connection) -> str:
    if conn.connection_string is not None:
        return conn.connection_string
    return repr(sorted((k.lower(), v) for k, v in conn.identity.items()))


def _retry_policy(base: type[Any]) -> Any:
    """The SDK's async exponential retry with Azure.Core's timing instead of 15 s steps."""

    class _Retry(base):  # type: ignore[misc]
        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            # "count" is already 1 at the first retry.
            delay = RETRY_DELAY * 2 ** max(0, settings["count"] - 1)
            return float(min(RETRY_MAX_DELAY, delay * random.uniform(0.8, 1.2)))

    return _Retry(retry_total=RETRY_TOTAL)


def identity_credential(conn: Connection) -> AsyncTokenCredential:
    """The process's credential for an identity connection, any SDK (close_clients closes it)."""
    return _credential(conn)


def _credential(conn: Connection) -> AsyncTokenCredential:
    """One credential per identity settings: DefaultAzureCredential, or what they name."""
    key = _key(conn)
    credential = _credentials.get(key)
    if credential is None:
        credential = _new_credential({k.lower(): v for k, v in conn.identity.items()})
        _credentials[key] = credential
    return credential


def _new_credential(settings: Mapping[str, str]) -> AsyncTokenCredential:
    # As the host's AzureComponentFactory: a client secret or "managedidentity" when named.
    from azure.identity.aio import (
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    client_id = settings.get("clientid")
    tenant, secret = settings.get("tenantid"), settings.get("clientsecret")
    if client_id and tenant and secret:
        return ClientSecretCredential(tenant, client_id, secret)
    if settings.get("credential", "").lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


async def close_clients() -> None:
    """Close every client (newest first), then the credentials; the host calls this last."""
    clients = list(_clients.values())
    credentials = list(_credentials.values())
    _clients.clear()
    _credentials.clear()
    for closable in [*reversed(clients), *reversed(credentials)]:
        try:
            await closable.close()
        except Exception as exc:  # one that fails must not keep the others open
            log.warning("closing %s failed: %s", type(closable).__name__, exc)


class StorageProvider(BindingProvider):
    """A binding type over Azure Storage: Azurite for the development storage, clients closed."""

    def storage(self, spec: BindingSpec, ctx: BindingContext) -> Connection | None:
        """The storage this binding uses; None when it cannot be read (loading says why)."""
        try:
            return storage_connection(spec, ctx)
        except FunchostError:
            return None

    def local_services(self, spec: BindingSpec, ctx: BindingContext) -> list[LocalService]:
        """Azurite, when the connection is the development storage on its default ports."""
        connection = self.storage(spec, ctx)
        if connection is None or not is_development(connection):
            return []
        return [LocalService(AZURITE, connection.setting)]

    async def aclose(self) -> None:
        """Close the process's storage clients (shared by every storage type: twice is harmless)."""
        await close_clients()
