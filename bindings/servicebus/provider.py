"""Azure Service Bus: the ``serviceBusTrigger`` trigger and the ``serviceBus`` output binding.

The trigger's listener is in listener.py, message shapes in messages.py (sdktype.py for SDK-type
parameters), host.json options in config.py, connections and clients in client.py.

The output sends what the function set after it succeeded (the invoker writes outputs only
then), to the queue or topic the binding names (binding expressions allowed), as the
extension's collector makes messages: a string (a JSON array: one message per element, as the
host's ``ReadAsEnumerable`` splits it) becomes UTF-8 bytes with content type ``text/plain``
(``StringToMessageConverter``); bytes go as they are with ``application/octet-stream``
(``ByteArrayToMessageConverter``). The messages of one value are sent in as few batches as fit.
One sender per entity is kept and closed with the clients in ``aclose``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from funchost.bindings.base import (
    BindingContext,
    BindingProvider,
    BindingSpec,
    Dispatch,
    OutputBinding,
    TriggerEvent,
)
from funchost.bindings.servicebus.client import Clients, service_bus_connection
from funchost.bindings.servicebus.config import (
    cardinality_many,
    flag,
    legacy_keys,
    output_entity,
    service_bus_options,
    trigger_entity,
)
from funchost.bindings.servicebus.listener import ServiceBusTriggerListener, TriggerConfig
from funchost.bindings.shared.expressions import Template, compile_template, trigger_values
from funchost.bindings.shared.failures import first_line, located
from funchost.bindings.shared.outputs import output_bodies
from funchost.bindings.shared.typeddata import is_deferred
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.functions.meta import Datum
    from azure.servicebus import ServiceBusMessage
    from azure.servicebus.aio import ServiceBusSender

TEXT_PLAIN = "text/plain"
OCTET_STREAM = "application/octet-stream"


def trigger_config(spec: BindingSpec, ctx: BindingContext) -> TriggerConfig:
    """Validate a serviceBusTrigger binding: entity, options, flags and connection."""
    where = f"binding '{spec.name}' (serviceBusTrigger)"
    try:
        entity = trigger_entity(spec.properties)
        options = service_bus_options(ctx.host_json, ctx.settings)
        many = cardinality_many(spec.properties)
        sessions = bool(flag(spec.properties, "isSessionsEnabled"))
        auto_complete = flag(spec.properties, "autoCompleteMessages")
    except FunchostError as exc:
        raise located(where, exc) from exc
    for warning in legacy_keys(ctx.host_json):
        ctx.warn(warning)
    auto = options.auto_complete_messages if auto_complete is None else auto_complete
    if not auto:
        ctx.warn(
            f"function '{ctx.function_name}': autoCompleteMessages is false, and a Python "
            "function cannot settle its messages (ServiceBusMessageActions needs the Functions "
            "host's settlement service): successful messages are never completed and come back "
            "when their lock expires"
        )
    return TriggerConfig(
        function_name=ctx.function_name,
        entity=entity,
        connection=service_bus_connection(spec, ctx),
        options=options,
        many=many,
        sessions=sessions,
        auto_complete=auto,
        binary=(spec.data_type or "").lower() == "binary",
        deferred=is_deferred(spec),
    )


class ServiceBusTriggerProvider(BindingProvider):
    """``serviceBusTrigger``: peek-lock receive from a queue or a topic subscription.

    ``honours_retry`` stays False, the project's rule for triggers with their own redelivery:
    retry policies are documented for timer, Event Hubs, Cosmos DB and Kafka triggers only, and
    Service Bus relies on the broker's redelivery and MaxDeliveryCount dead-lettering. (The
    WebJobs SDK's ``FunctionIndexer.CheckRetrySupport`` still keeps a policy on triggers without
    ``[SupportsRetry]``, only warning that retries will soon not be supported.)
    """

    type_name = "serviceBusTrigger"

    def __init__(self) -> None:
        self._clients = Clients()

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> ServiceBusTriggerListener:
        """Check the binding now, so a bad one disables its function at load with the reason."""
        return ServiceBusTriggerListener(trigger_config(spec, ctx), self._clients, dispatch)

    async def aclose(self) -> None:
        """Close the clients every listener shared (after they closed their receivers)."""
        await self._clients.aclose()


class ServiceBusOutput:
    """Sends the messages of one ``serviceBus`` output binding."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, clients: Clients) -> None:
        self._where = f"binding '{spec.name}' (serviceBus)"
        try:
            entity = output_entity(spec.properties)
        except FunchostError as exc:
            raise located(self._where, exc) from exc
        self._topic = entity.topic is not None
        self._name = str(entity.topic if self._topic else entity.queue)
        self._template: Template | None = None
        if "{" in self._name or "}" in self._name:
            kind = "topicName" if self._topic else "queueName"
            self._template = compile_template(self._name, f"{self._where} {kind}")
            if self._template.is_constant:
                self._name, self._template = self._template.render({}), None
        self._connection = service_bus_connection(spec, ctx)
        self._clients = clients
        self._senders: dict[str, ServiceBusSender] = {}

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Send every message of the value, in order, to the (resolved) queue or topic."""
        name = (
            self._name if self._template is None else self._template.render(trigger_values(event))
        )
        messages = output_messages(datum)
        if not messages:
            return
        sender = self._sender(name)
        try:
            await _send_all(sender, messages)
        except Exception as exc:
            kind = "topic" if self._topic else "queue"
            raise BindingError(
                f"{self._where}: sending {len(messages)} message(s) to {kind} '{name}' failed: "
                f"{type(exc).__name__}: {first_line(exc)}"
            ) from exc

    def _sender(self, name: str) -> ServiceBusSender:
        sender = self._senders.get(name)
        if sender is None:
            client = self._clients.get(self._connection)
            get = client.get_topic_sender if self._topic else client.get_queue_sender
            sender = get(name)
            self._senders[name] = sender
        return sender

    async def aclose(self) -> None:
        """Close the senders this binding opened."""
        senders, self._senders = list(self._senders.values()), {}
        for sender in senders:
            with contextlib.suppress(Exception):  # closing at shutdown: nothing to do about it
                await sender.close()


async def _send_all(sender: ServiceBusSender, messages: list[ServiceBusMessage]) -> None:
    """Send in as few batches as the entity's maximum message size allows."""
    if len(messages) == 1:
        await sender.send_messages(messages[0])
        return
    batch = await sender.create_message_batch()
    for message in messages:
        try:
            batch.add_message(message)
        except ValueError:  # MessageSizeExceededError: this batch is full
            await sender.send_messages(batch)
            batch = await sender.create_message_batch()
            batch.add_message(message)
    await sender.send_messages(batch)


def output_messages(datum: Datum) -> list[ServiceBusMessage]:
    """The messages one output value becomes (see the module docstring)."""
    from azure.servicebus import ServiceBusMessage

    if datum.type == "bytes":
        return [ServiceBusMessage(bytes(datum.value), content_type=OCTET_STREAM)]
    try:
        bodies = output_bodies(datum)
    except BindingError:
        raise BindingError(f"cannot write a {datum.type!r} value to Service Bus") from None
    return [ServiceBusMessage(body, content_type=TEXT_PLAIN) for body in bodies]


class ServiceBusOutputProvider(BindingProvider):
    """``serviceBus`` output: messages sent after the function succeeded."""

    type_name = "serviceBus"

    def __init__(self) -> None:
        self._clients = Clients()
        self._outputs: list[ServiceBusOutput] = []

    def output(self, spec: BindingSpec, ctx: BindingContext) -> OutputBinding | None:
        """Check the entity name and the connection now."""
        output = ServiceBusOutput(spec, ctx, self._clients)
        self._outputs.append(output)
        return output

    async def aclose(self) -> None:
        """Close every sender, then the clients."""
        outputs, self._outputs = self._outputs, []
        for output in outputs:
            await output.aclose()
        await self._clients.aclose()


SERVICE_BUS_TRIGGER = ServiceBusTriggerProvider()
SERVICE_BUS_OUTPUT = ServiceBusOutputProvider()
