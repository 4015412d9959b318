"""Event Grid output (``@app.event_grid_output``): events published after the function succeeded.

As the extension's ``EventGridAsyncCollectorFactory``: ``topicEndpointUri`` and
``topicKeySetting`` name app settings holding the topic's endpoint and access key (sent as
``aeg-sas-key``); or ``connection`` names a setting holding the endpoint, or identity settings
``<connection>__topicEndpointUri`` (+ ``__clientId``, ``__credential``...) for a token. The
events of one invocation go in one request (events.py picks the schema), through
``azure.eventgrid.aio.EventGridPublisherClient``. The key never appears in a message: errors
name the setting, and the endpoint without its query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from funchost.bindings.base import (
    BindingContext,
    BindingProvider,
    BindingSpec,
    OutputBinding,
    TriggerEvent,
)
from funchost.bindings.eventgrid.events import batch_of
from funchost.bindings.shared.connections import (
    Connection,
    ConnectionNotFound,
    resolve_connection,
)
from funchost.bindings.shared.storage import close_clients, identity_credential
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.eventgrid.aio import EventGridPublisherClient
    from azure.functions.meta import Datum

# Azure.Core's defaults, which the extension's publisher client uses: 3 retries from 0.8 s.
RETRY_TOTAL = 3
RETRY_BACKOFF = 0.8
RETRY_MAX_DELAY = 60.0
CONNECT_TIMEOUT = 5  # seconds


@dataclass(frozen=True)
class Topic:
    """Where a binding publishes, and how it signs: a key, or an identity connection."""

    endpoint: str
    key: str | None = field(default=None, repr=False)  # never printed
    identity: Connection | None = None

    @property
    def cache_key(self) -> tuple[str, str | None, str | None]:
        """What makes two bindings share a publisher client."""
        return (self.endpoint, self.key, self.identity.setting if self.identity else None)

    @property
    def shown(self) -> str:
        """The endpoint for messages: without its query (it may hold a signature)."""
        parts = urlsplit(self.endpoint)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _prop(spec: BindingSpec, name: str) -> str | None:
    value = next((v for k, v in spec.properties.items() if k.lower() == name.lower()), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _setting(settings: Mapping[str, str], name: str) -> str | None:
    """A non-empty app setting, by exact name first, then ignoring case (.NET configuration)."""
    if settings.get(name):
        return settings[name]
    lowered = name.lower()
    return next((v for k, v in sorted(settings.items()) if k.lower() == lowered and v), None)


def topic_of(spec: BindingSpec, ctx: BindingContext) -> Topic:
    """The binding's topic, validated as EventGridAsyncCollectorFactory.Validate does."""
    uri_setting, key_setting = _prop(spec, "topicEndpointUri"), _prop(spec, "topicKeySetting")
    connection = _prop(spec, "connection")
    if connection and key_setting:
        raise BindingError(
            "both 'connection' and 'topicKeySetting' are set; expected one way to reach the "
            "topic: topic_endpoint_uri with topic_key_setting, or connection"
        )
    if connection:
        return _identity_topic(connection, ctx)
    if uri_setting is None or key_setting is None:
        raise BindingError(
            "expected topic_endpoint_uri and topic_key_setting (names of app settings holding "
            "the topic's endpoint and key), or connection"
        )
    endpoint = _required(ctx, uri_setting, "topicEndpointUri", "the topic endpoint URI")
    key = _required(ctx, key_setting, "topicKeySetting", "the topic access key")
    return Topic(_absolute(endpoint, f"app setting '{uri_setting}' (topicEndpointUri)"), key=key)


def _required(ctx: BindingContext, setting: str, prop: str, what: str) -> str:
    value = _setting(ctx.settings, setting)
    if value is None and setting in ctx.settings.values():
        # Written as %Name%: the value is already in (and must not be shown as a name).
        value = setting
    if value is None:
        raise BindingError(
            f"'{prop}' names app setting '{setting}', which is not set; expected it to hold "
            f"{what} in local.settings.json Values or the environment"
        )
    return value.strip()


def _identity_topic(name: str, ctx: BindingContext) -> Topic:
    try:
        connection = resolve_connection(name, ctx.settings)
    except ConnectionNotFound:
        raise BindingError(
            f"Event Grid topic connection '{name}' does not exist; expected app setting "
            f"'{name}' holding the topic endpoint URI, or '{name}__topicEndpointUri' "
            "(identity)"
        ) from None
    if connection.connection_string is not None:
        where = f"app setting '{connection.setting}' (connection)"
        return Topic(_absolute(connection.connection_string.strip(), where), identity=connection)
    settings = {k.lower(): v for k, v in connection.identity.items()}
    endpoint = settings.get("topicendpointuri")
    if not endpoint:
        raise BindingError(
            f"connection '{name}' has identity settings but no "
            f"'{connection.setting}__topicEndpointUri'; expected the topic endpoint URI there"
        )
    where = f"app setting '{connection.setting}__topicEndpointUri'"
    return Topic(_absolute(endpoint.strip(), where), identity=connection)


def _absolute(uri: str, where: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # The value may be a key put in the wrong setting: it is not shown.
        raise BindingError(
            f"{where} is not an absolute URI; expected the topic endpoint, such as "
            "https://<topic>.<region>-1.eventgrid.azure.net/api/events"
        )
    return uri


class EventGridOutput:
    """Publishes the events of one ``eventGrid`` output binding."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, provider: EventGridProvider):
        self._where = f"binding '{spec.name}' (eventGrid)"
        try:
            self._topic = topic_of(spec, ctx)
        except BindingError as exc:
            raise BindingError(f"{self._where}: {exc}") from None
        self._provider = provider

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Send every event of the value in one request; BindingError says what failed."""
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            batch = batch_of(datum)
        except BindingError as exc:
            raise BindingError(f"{self._where}: {exc}") from None
        if batch is None:
            return
        client = self._provider.client(self._topic)
        try:
            await client.send(batch.events, content_type=batch.content_type)
        except HttpResponseError as exc:
            why = _status(exc) + _webhook_hint(self._topic)
            raise BindingError(self._failed(len(batch.events), why)) from None
        except AzureError as exc:
            raise BindingError(self._failed(len(batch.events), type(exc).__name__)) from None

    def _failed(self, count: int, why: str) -> str:
        return f"{self._where}: publishing {count} event(s) to {self._topic.shown} failed: {why}"


def _webhook_hint(topic: Topic) -> str:
    """A topic endpoint that is a trigger's webhook is a mistake worth naming."""
    if "/runtime/webhooks/" not in urlsplit(topic.endpoint).path.lower():
        return ""
    return (
        " (an Event Grid trigger's webhook takes deliveries from a topic, with aeg-event-type "
        "Notification; expected the topic's endpoint, which delivers to the webhook)"
    )


def _status(exc: Any) -> str:
    reason = f" {exc.reason}" if getattr(exc, "reason", None) else ""
    return f"{exc.status_code}{reason}"


class EventGridProvider(BindingProvider):
    """``eventGrid`` output: one publisher client per topic, closed at shutdown."""

    type_name = "eventGrid"

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str | None, str | None], EventGridPublisherClient] = {}

    def output(self, spec: BindingSpec, ctx: BindingContext) -> OutputBinding | None:
        """Check the topic settings now, so a bad binding disables its function at load."""
        return EventGridOutput(spec, ctx, self)

    def client(self, topic: Topic) -> EventGridPublisherClient:
        """The publisher for a topic, made on first use."""
        client = self._clients.get(topic.cache_key)
        if client is None:
            client = _new_client(topic)
            self._clients[topic.cache_key] = client
        return client

    async def aclose(self) -> None:
        """Close the publishers, then the shared credentials an identity topic used."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.close()
        await close_clients()


def _new_client(topic: Topic) -> EventGridPublisherClient:
    from azure.core.credentials import AzureKeyCredential
    from azure.eventgrid.aio import EventGridPublisherClient

    credential: Any = (
        AzureKeyCredential(topic.key)
        if topic.key is not None
        else identity_credential(topic.identity)  # type: ignore[arg-type]
    )
    return EventGridPublisherClient(
        topic.endpoint,
        credential,
        retry_total=RETRY_TOTAL,
        retry_backoff_factor=RETRY_BACKOFF,
        retry_backoff_max=RETRY_MAX_DELAY,
        connection_timeout=CONNECT_TIMEOUT,
    )


EVENT_GRID_OUTPUT = EventGridProvider()
