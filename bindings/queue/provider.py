"""Azure Storage queues: the ``queueTrigger`` trigger and the ``queue`` output binding.

The trigger's listener is in listener.py (its queue side in source.py), message shapes in
messages.py and the host.json options in config.py. The output writes each message after the
function succeeded (the invoker writes outputs only then), to a queue whose name may hold
binding expressions (``{queueTrigger}``, ``{rand-guid}``...), creating the queue when it is
missing, in the ``messageEncoding`` of host.json, as the extension's ``QueueAsyncCollector``
does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    Dispatch,
    OutputBinding,
    TriggerEvent,
)
from funchost.bindings.queue.config import (
    check_queue_name,
    poison_queue_name,
    queue_name,
    queues_options,
)
from funchost.bindings.queue.listener import QueueTriggerConfig, QueueTriggerListener
from funchost.bindings.queue.messages import encode_body
from funchost.bindings.shared.expressions import Template, compile_template, trigger_values
from funchost.bindings.shared.failures import located
from funchost.bindings.shared.outputs import output_bodies
from funchost.bindings.shared.queuewatch import notify
from funchost.bindings.shared.storage import (
    StorageProvider,
    queue_service_client,
    storage_connection,
)
from funchost.bindings.shared.storagequeue import send_creating_queue
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.functions.meta import Datum
    from azure.storage.queue.aio import QueueClient

# A message may hold at most 64 KiB of text (after base64 encoding).
_TOO_LARGE_HINT = "a queue message may hold at most 64 KiB of text, after base64 encoding"


class QueueOutput:
    """Writes the messages of one ``queue`` output binding."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        where = f"binding '{spec.name}' (queue)"
        self._template: Template | None = None
        try:
            self._name = queue_name(spec.properties, template=True)
            self._encoding = queues_options(ctx.host_json, ctx.settings).message_encoding
            if "{" in self._name or "}" in self._name:
                self._template = compile_template(self._name, f"{where} queueName")
                if self._template.is_constant:
                    self._name, self._template = self._template.render({}).lower(), None
                    check_queue_name(self._name)
        except FunchostError as exc:
            raise located(where, exc) from exc
        self._where = where
        self._connection = storage_connection(spec, ctx)
        self._clients: dict[str, QueueClient] = {}

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Send every message of the value, in order, to the (resolved) queue."""
        name = self._resolve(event)
        client = self._client(name)
        for body in output_bodies(datum):
            await self._send(client, name, encode_body(body, self._encoding))
        notify(client)

    def _resolve(self, event: TriggerEvent) -> str:
        if self._template is None:
            return self._name
        name = self._template.render(trigger_values(event)).lower()
        try:
            check_queue_name(name)
        except BindingError as exc:
            raise BindingError(
                f"{self._where}: queueName '{self._template.text}' gave {exc}"
            ) from None
        return name

    def _client(self, name: str) -> QueueClient:
        client = self._clients.get(name)
        if client is None:
            client = queue_service_client(self._connection).get_queue_client(name)
            if self._template is None:  # names from expressions vary: not kept
                self._clients[name] = client
        return client

    async def _send(self, client: QueueClient, name: str, text: str) -> None:
        from azure.core.exceptions import HttpResponseError

        try:
            await send_creating_queue(client, text)
        except HttpResponseError as exc:
            code = getattr(exc, "error_code", None) or exc.reason or ""
            hint = f" ({_TOO_LARGE_HINT})" if exc.status_code == 413 else ""
            raise BindingError(
                f"{self._where}: writing a message of {len(text)} characters to queue "
                f"'{name}' failed: {exc.status_code} {code}{hint}"
            ) from exc


def trigger_config(spec: BindingSpec, ctx: BindingContext) -> QueueTriggerConfig:
    """Validate a queueTrigger binding: queue name, host.json options and connection."""
    where = f"binding '{spec.name}' (queueTrigger)"
    try:
        name = queue_name(spec.properties, template=False)
        options = queues_options(ctx.host_json, ctx.settings)
    except FunchostError as exc:
        raise located(where, exc) from exc
    return QueueTriggerConfig(
        function_name=ctx.function_name,
        queue=name,
        poison_queue=poison_queue_name(name),
        connection=storage_connection(spec, ctx),
        options=options,
        binary=(spec.data_type or "").lower() == "binary",
    )


class QueueTriggerProvider(StorageProvider):
    """``queueTrigger``: polls a storage queue."""

    type_name = "queueTrigger"

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> QueueTriggerListener:
        """Check the binding now, so a bad one disables its function at load with the reason."""
        return QueueTriggerListener(trigger_config(spec, ctx), dispatch)


class QueueOutputProvider(StorageProvider):
    """``queue`` output: messages sent after the function succeeded."""

    type_name = "queue"

    def output(self, spec: BindingSpec, ctx: BindingContext) -> OutputBinding | None:
        """Check the queue name (or its expressions) and the connection now."""
        return QueueOutput(spec, ctx)


QUEUE_TRIGGER = QueueTriggerProvider()
QUEUE_OUTPUT = QueueOutputProvider()
