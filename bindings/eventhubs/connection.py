"""Event Hubs connections, resolved as the extension's ``EventHubClientFactory`` resolves them.

A binding's ``connection`` names app settings (``AzureWebJobs<name>``, ``<name>``,
``ConnectionStrings:<name>``): a connection string (``Endpoint=sb://...;SharedAccessKeyName=...``,
``UseDevelopmentEmulator=true`` strings passed as they are), or identity settings
``<name>__fullyQualifiedNamespace`` (+ ``__clientId``, ``__credential``...) used with an
azure-identity credential. An ``EntityPath`` in the connection string names the event hub and
takes precedence over ``eventHubName``. Nothing here prints a connection string: a
``connection`` property that holds one instead of a setting name is refused redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.eventhubs.config import EventHubsOptions, connection_name
from funchost.bindings.shared.connections import Connection, binding_connection
from funchost.bindings.shared.storage import identity_credential
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.eventhub.aio import CheckpointStore, EventHubConsumerClient, EventHubProducerClient

_SECRET_KEYS = ("endpoint=", "sharedaccesskey", "sharedaccesssignature", "entitypath=")
_REDACTED = "<< REDACTED >> (a full connection string was used instead of the name of a setting)"


@dataclass(frozen=True)
class EventHubConnection:
    """A resolved connection to one event hub."""

    connection: Connection
    event_hub: str
    namespace: str  # the host (and port) of the endpoint: for log lines and state paths

    @property
    def where(self) -> str:
        """For messages: the hub and its namespace, never a key."""
        return f"event hub '{self.event_hub}' in '{self.namespace}'"

    def consumer(
        self, consumer_group: str, store: CheckpointStore, options: EventHubsOptions
    ) -> EventHubConsumerClient:
        """An EventHubConsumerClient over the checkpoint store, with the extension's options."""
        from azure.eventhub import LoadBalancingStrategy
        from azure.eventhub.aio import EventHubConsumerClient

        kwargs: dict[str, Any] = {
            "consumer_group": consumer_group,
            "eventhub_name": self.event_hub,
            "checkpoint_store": store,
            "load_balancing_interval": options.load_balancing_interval,
            "partition_ownership_expiration_interval": options.ownership_expiration,
            # EventProcessorOptions' default in the v5 extension
            "load_balancing_strategy": LoadBalancingStrategy.BALANCED,
            **_retry_kwargs(options),
        }
        if self.connection.connection_string is not None:
            return EventHubConsumerClient.from_connection_string(
                self.connection.connection_string, **kwargs
            )
        return EventHubConsumerClient(
            fully_qualified_namespace=self.namespace,
            credential=identity_credential(self.connection),
            **kwargs,
        )

    def producer(self, options: EventHubsOptions) -> EventHubProducerClient:
        """An EventHubProducerClient for the output binding."""
        from azure.eventhub.aio import EventHubProducerClient

        kwargs: dict[str, Any] = {"eventhub_name": self.event_hub, **_retry_kwargs(options)}
        if self.connection.connection_string is not None:
            return EventHubProducerClient.from_connection_string(
                self.connection.connection_string, **kwargs
            )
        return EventHubProducerClient(
            fully_qualified_namespace=self.namespace,
            credential=identity_credential(self.connection),
            **kwargs,
        )


def _retry_kwargs(options: EventHubsOptions) -> dict[str, Any]:
    from azure.core.pipeline.policies import RetryMode

    retry = options.retry
    return {
        "retry_total": retry.max_retries,
        "retry_backoff_factor": retry.delay,
        "retry_backoff_max": retry.max_delay,
        "retry_mode": RetryMode.Fixed if retry.mode == "fixed" else RetryMode.Exponential,
    }


def event_hub_connection(
    spec: BindingSpec, ctx: BindingContext, configured_hub: str
) -> EventHubConnection:
    """Resolve the binding's connection and event hub name; BindingError says what is wrong."""
    name = connection_name(spec)
    if not name:
        raise BindingError(
            "'connection' is missing; expected the name of an app setting holding an Event Hubs "
            "connection string (or <name>__fullyQualifiedNamespace settings)"
        )
    if _looks_like_connection_string(name):
        raise BindingError(f"connection {_REDACTED}; expected the name of an app setting")
    connection = binding_connection(name, ctx.settings)
    if connection.connection_string is not None:
        namespace, entity = _parse(connection)
    else:
        namespace, entity = _identity_namespace(connection), ""
    hub = entity or configured_hub
    if not hub:
        raise BindingError(
            "'eventHubName' is missing and the connection string names no EntityPath; "
            "expected event_hub_name='<hub>'"
        )
    return EventHubConnection(connection, hub, namespace)


def _looks_like_connection_string(name: str) -> bool:
    lowered = name.lower()
    return ";" in lowered and any(key in lowered for key in _SECRET_KEYS)


def _parse(connection: Connection) -> tuple[str, str]:
    """(namespace, EntityPath) of a connection string; an error names the setting only."""
    raw = connection.connection_string or ""
    pairs: dict[str, str] = {}
    for part in raw.strip().rstrip(";").split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            raise _bad_string(connection)
        pairs[key.strip().lower()] = value.strip()
    endpoint = pairs.get("endpoint", "")
    host = urlsplit(endpoint).netloc if "://" in endpoint else ""
    if not host:
        raise _bad_string(connection)
    return host, pairs.get("entitypath", "")


def _bad_string(connection: Connection) -> BindingError:
    return BindingError(
        f"app setting '{connection.setting}' is not an Event Hubs connection string; expected "
        "'Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;"
        "SharedAccessKey=...'"
    )


def _identity_namespace(connection: Connection) -> str:
    settings = {key.lower(): value for key, value in connection.identity.items()}
    namespace = settings.get("fullyqualifiednamespace", "").strip()
    if not namespace:
        found = ", ".join(f"{connection.setting}__{key}" for key in sorted(connection.identity))
        raise BindingError(
            f"connection '{connection.name}' has identity settings ({found}) but no "
            f"{connection.setting}__fullyQualifiedNamespace; expected "
            "<namespace>.servicebus.windows.net there"
        )
    return namespace
