"""Cosmos DB connections and the process's async clients, as the extension resolves them.

A connection name (default ``CosmosDB``) names an app setting holding
``AccountEndpoint=https://<account>.documents.azure.com:443/;AccountKey=<key>;``, or identity
settings ``<name>__accountEndpoint`` (+ ``__clientId``, ``__credential``...) used with an
azure-identity credential. One ``azure.cosmos.aio.CosmosClient`` per connection and preferred
regions, as the extension's client cache (``BuildCacheKey``), shared by every binding of the
process and closed once when the host stops. No message here prints a key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from funchost.bindings.shared.connections import Connection, binding_connection
from funchost.bindings.shared.storage import close_clients, identity_credential
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.cosmos.aio import CosmosClient

log = logging.getLogger("funchost.cosmosdb")
_EXPECTED = "'AccountEndpoint=https://<account>.documents.azure.com:443/;AccountKey=<key>;'"


@dataclass(frozen=True)
class CosmosConnection:
    """A resolved connection: the account endpoint and its key (None: an identity)."""

    connection: Connection
    endpoint: str
    key: str | None

    @property
    def where(self) -> str:
        """The account, for messages: its host and port, never the key."""
        return f"Cosmos DB account '{urlsplit(self.endpoint).netloc}'"


def cosmos_connection(name: str, settings: Mapping[str, str], where: str) -> CosmosConnection:
    """Resolve a connection name; BindingError names the setting and what was expected."""
    connection = binding_connection(name, settings, where)
    if connection.connection_string is None:
        return CosmosConnection(connection, _identity_endpoint(connection, where), None)
    pairs = _pairs(connection.connection_string)
    endpoint, key = pairs.get("accountendpoint", ""), pairs.get("accountkey", "")
    if not endpoint.lower().startswith(("https://", "http://")) or not key:
        raise BindingError(
            f"{where}: app setting '{connection.setting}' is not a Cosmos DB connection "
            f"string; expected {_EXPECTED}"
        )
    return CosmosConnection(connection, endpoint, key)


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in text.strip().split(";"):
        key, sep, value = part.partition("=")
        if sep:  # split at the first '=': a base64 key keeps its '=' padding
            pairs[key.strip().lower()] = value.strip()
    return pairs


def _identity_endpoint(connection: Connection, where: str) -> str:
    settings = {key.lower(): value for key, value in connection.identity.items()}
    endpoint = settings.get("accountendpoint", "").strip()
    if not endpoint:
        raise BindingError(
            f"{where}: connection '{connection.name}' has identity settings but no "
            f"{connection.setting}__accountEndpoint; expected "
            "https://<account>.documents.azure.com:443/ there"
        )
    return endpoint


_clients: dict[tuple[str, str, tuple[str, ...]], CosmosClient] = {}


def cosmos_client(connection: CosmosConnection, regions: tuple[str, ...] = ()) -> CosmosClient:
    """The process's client for this connection and preferred regions."""
    from azure.cosmos.aio import CosmosClient

    cache_key = (connection.endpoint, connection.key or repr(connection.connection), regions)
    client = _clients.get(cache_key)
    if client is None:
        credential = connection.key or identity_credential(connection.connection)
        client = CosmosClient(
            connection.endpoint,
            credential=credential,
            preferred_locations=list(regions) or None,
        )
        _clients[cache_key] = client
    return client


async def close_cosmos_clients() -> None:
    """Close every Cosmos client, then the credentials an identity connection made."""
    clients = list(_clients.values())
    _clients.clear()
    for client in clients:
        try:
            await client.close()
        except Exception as exc:  # one that fails must not keep the others open
            log.warning("closing a Cosmos DB client failed: %s", type(exc).__name__)
    await close_clients()
