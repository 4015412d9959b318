"""Service Bus connections and clients, as the extension's ``ServiceBusClientFactory`` makes them.

A binding's ``connection`` (empty: ``ServiceBus``, i.e. the ``AzureWebJobsServiceBus`` setting)
resolves as every connection does (bindings/shared/connections.py): ``AzureWebJobs<name>``,
``<name>``, ``ConnectionStrings:<name>``, then identity settings ``<name>__fullyQualifiedNamespace``
used with ``azure.identity.aio.DefaultAzureCredential``. A connection string goes to
``ServiceBusClient.from_connection_string`` as it is, so ``UseDevelopmentEmulator=true`` strings
(plain AMQP on the endpoint's port) work. One async client is kept per connection setting and
closed by ``Clients.aclose`` (the provider's ``aclose``). Messages name settings, never values.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.shared.connections import Connection, binding_connection
from funchost.config_section import lookup
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.servicebus.aio import ServiceBusClient

DEFAULT_CONNECTION = "ServiceBus"  # Constants.DefaultConnectionStringName
_STRING_EXPECTED = (
    "expected 'Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;"
    "SharedAccessKey=...' (or a local emulator's string with UseDevelopmentEmulator=true)"
)


def service_bus_connection(spec: BindingSpec, ctx: BindingContext) -> Connection:
    """The connection a Service Bus binding names, checked now so a bad one disables it."""
    raw = lookup(spec.properties, "connection", None)
    name = raw.strip() if isinstance(raw, str) and raw.strip() else DEFAULT_CONNECTION
    where = f"function '{ctx.function_name}': binding '{spec.name}' ({spec.type})"
    connection = binding_connection(name, ctx.settings, where)
    if connection.connection_string is not None:
        _check_string(connection, where)
    elif namespace(connection) is None:
        raise BindingError(
            f"{where}: connection '{name}' has identity settings ({connection.setting}__...) "
            f"but no {connection.setting}__fullyQualifiedNamespace; expected the namespace's "
            "host name"
        )
    return connection


def _check_string(connection: Connection, where: str) -> None:
    pairs = [p.split("=", 1) for p in (connection.connection_string or "").split(";") if p.strip()]
    keys = {pair[0].strip().lower() for pair in pairs if len(pair) == 2}
    if len(keys) != len(pairs) or "endpoint" not in keys:
        raise BindingError(
            f"{where}: app setting '{connection.setting}' is not a Service Bus connection string; "
            + _STRING_EXPECTED
        )


def namespace(connection: Connection) -> str | None:
    """``<name>__fullyQualifiedNamespace`` of an identity connection."""
    return next(
        (v for k, v in connection.identity.items() if k.lower() == "fullyqualifiednamespace"),
        None,
    )


def entity_path(connection: Connection) -> str | None:
    """EntityPath in a connection string: the SDK then talks only to that entity."""
    for part in (connection.connection_string or "").split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "entitypath" and value.strip():
            return value.strip()
    return None


class Clients:
    """One ServiceBusClient per connection setting, for a provider's bindings."""

    def __init__(self) -> None:
        self._clients: dict[str, ServiceBusClient] = {}
        self._credentials: list[Any] = []

    def get(self, connection: Connection) -> ServiceBusClient:
        """The client of a connection, made on first use."""
        client = self._clients.get(connection.setting)
        if client is None:
            client = self._make(connection)
            self._clients[connection.setting] = client
        return client

    def _make(self, connection: Connection) -> ServiceBusClient:
        from azure.servicebus.aio import ServiceBusClient

        if connection.connection_string is not None:
            return ServiceBusClient.from_connection_string(connection.connection_string)
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        self._credentials.append(credential)
        return ServiceBusClient(str(namespace(connection)), credential)

    async def aclose(self) -> None:
        """Close every client, then the credentials; errors are not raised (shutdown goes on)."""
        clients, self._clients = list(self._clients.values()), {}
        credentials, self._credentials = self._credentials, []
        for closable in [*reversed(clients), *credentials]:
            with contextlib.suppress(Exception):  # a client that fails to close is gone anyway
                await closable.close()
