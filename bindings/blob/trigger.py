"""Blob trigger (``@app.blob_trigger``): runs a function once for each new or changed blob.

How blobs are found, queued and run is the WebJobs blob extension's (scan.py, queue.py,
receipts.py, shared per host in shared.py). This module configures
one function's trigger, registers it with those, serves the Event Grid webhook for
``source="EventGrid"`` (``/runtime/webhooks/blobs?functionName=Host.Functions.<name>``: each
event queues its blob, nothing is scanned), and builds what the function gets: the content
(or, for an SDK type, the model binding data) and the trigger metadata the host sends
(``BlobTrigger``, ``Uri``, ``Properties``, ``Metadata`` and the values the path pattern
captured), from which the library's BlobConverter makes ``func.InputStream``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from azure.functions.meta import Datum

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    Description,
    Dispatch,
    TriggerEvent,
)
from funchost.bindings.blob.binding import (
    blob_path_property,
    content_datum,
    is_string,
    model_binding_datum,
)
from funchost.bindings.blob.config import BlobsOptions, blobs_options
from funchost.bindings.blob.metadata import trigger_details, trigger_metadata
from funchost.bindings.blob.paths import (
    BlobPath,
    BlobPattern,
    parse_blob_path,
    parse_trigger_pattern,
)
from funchost.bindings.blob.queue import CATEGORY, BlobTriggerMessage, Registration
from funchost.bindings.blob.receipts import HOSTS_CONTAINER, ReceiptManager
from funchost.bindings.blob.scan import ReceiptHandover
from funchost.bindings.blob.shared import SharedBlobHost, shared_host
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.hostid import host_id
from funchost.bindings.shared.hoststorage import host_storage
from funchost.bindings.shared.singleton import singleton_options
from funchost.bindings.shared.storage import (
    STORAGE_SETTING,
    StorageProvider,
    blob_service_client,
    development_connection_string,
    storage_connection,
)
from funchost.bindings.shared.typeddata import is_deferred
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.queue import QueueMessage

log = logging.getLogger("funchost.blob")
SCAN = "LogsAndContainerScan"
EVENT_GRID = "EventGrid"
WEBHOOK = "blobs"
ADMIN_TIMEOUT = 10  # seconds for the admin API's synchronous read of the blob


@dataclass(frozen=True)
class BlobTriggerConfig:
    """One blob trigger, checked at load."""

    function_name: str
    pattern: BlobPattern
    source: str  # SCAN or EVENT_GRID
    data: Connection  # where the blobs are
    host: Connection  # AzureWebJobsStorage: receipts' host id, lock, queue, scan info
    host_id: str
    options: BlobsOptions
    string: bool  # dataType "string"
    deferred: bool  # an SDK-type parameter

    @property
    def function_id(self) -> str:
        """How the host names the function in receipts and messages."""
        return f"Host.Functions.{self.function_name}"


def blob_trigger_config(spec: BindingSpec, ctx: BindingContext) -> BlobTriggerConfig:
    """Check the path, source, connections and host.json ``extensions.blobs``."""
    try:
        pattern = parse_trigger_pattern(blob_path_property(spec))
        source = _source(spec)
        storage = host_storage(ctx)
    except FunchostError as exc:
        raise BindingError(f"binding '{spec.name}' (blobTrigger): {exc}") from exc
    if storage.unavailable is not None:
        raise BindingError(f"binding '{spec.name}' (blobTrigger): {storage.unavailable}")
    if storage.connection is None:
        raise BindingError(
            f"binding '{spec.name}' (blobTrigger) needs {STORAGE_SETTING}: the Functions host "
            "keeps blob receipts, the blob trigger queue and its lock there; expected a "
            f"storage connection string in {STORAGE_SETTING} (UseDevelopmentStorage=true for "
            "Azurite)"
        )
    return BlobTriggerConfig(
        function_name=ctx.function_name,
        pattern=pattern,
        source=source,
        data=storage_connection(spec, ctx),
        host=storage.connection,
        host_id=host_id(ctx.settings, ctx.script_root),
        options=blobs_options(ctx.host_json),
        string=is_string(spec),
        deferred=is_deferred(spec),
    )


def _source(spec: BindingSpec) -> str:
    value = next((v for k, v in spec.properties.items() if k.lower() == "source"), None)
    if value is None or str(value).strip() == "":
        return SCAN
    for known in (SCAN, EVENT_GRID):
        if str(value).strip().lower() == known.lower():
            return known
    raise BindingError(f"'source' is {value!r}; expected '{SCAN}' or '{EVENT_GRID}'")


class BlobTriggerListener:
    """One blob-triggered function: registered with its host's scan and trigger queue."""

    def __init__(self, config: BlobTriggerConfig, dispatch: Dispatch, ctx: BindingContext) -> None:
        self.config = config
        self._dispatch = dispatch
        self._started = False
        self._shared: SharedBlobHost = shared_host(
            config.host_id, config.host, config.options, singleton_options(ctx.host_json)
        )
        self._register(ctx)

    def _register(self, ctx: BindingContext) -> None:
        config = self.config
        self._shared.register(
            Registration(
                config.function_id,
                config.function_name,
                config.data,
                config.source == SCAN,
                self._run,
            )
        )
        if config.source == SCAN:
            hosts = blob_service_client(config.data).get_container_client(HOSTS_CONTAINER)
            handover = ReceiptHandover(
                config.host_id,
                config.function_id,
                config.pattern,
                config.data,
                ReceiptManager(hosts),
                self._shared.queue.enqueue,
            )
            self._shared.watch(config.data, config.pattern.container, handover)
            return
        if ctx.http is None:
            raise BindingError("the Event Grid source needs the host's HTTP server")
        # The host accepts either name (SharedBlobQueueListener registers both).
        ctx.http.add_webhook(WEBHOOK, config.function_id, self.handle)
        ctx.http.add_webhook(WEBHOOK, config.function_name, self.handle)

    def describe(self, base_url: str) -> Description:
        """The trigger type; for Event Grid, the webhook URL to subscribe."""
        if self.config.source == EVENT_GRID:
            url = f"{base_url}/runtime/webhooks/{WEBHOOK}?functionName={self.config.function_id}"
            return Description(f"blobTrigger: {url}")
        return Description("blobTrigger")

    async def start(self) -> None:
        """Start the host's shared scan and queue listener (with the first blob function)."""
        if not self._started:
            self._started = True
            await self._shared.start()

    async def stop(self, deadline: float) -> None:
        """Stop them with the last blob function (drain mode and shutdown both call this)."""
        if self._started:
            self._started = False
            await self._shared.stop(deadline)

    # --- running a queued blob ----------------------------------------------------------

    async def _run(
        self, message: BlobTriggerMessage, queued: QueueMessage, properties: BlobProperties
    ) -> bool:
        path = message.path
        try:
            event = await self._event(path, properties)
        except Exception as exc:
            log.error(
                "Blob '%s' could not be read for function '%s': %s",
                path,
                self.config.function_id,
                exc,
                extra={"category": CATEGORY},
            )
            return False
        event.reason = f"New blob detected({self.config.source}): {path}"
        event.details = trigger_details(queued, properties)
        try:
            await self._dispatch(event)
        except Exception:
            return False  # the worker has logged it
        return True

    async def _event(self, path: BlobPath, properties: BlobProperties) -> TriggerEvent:
        client = blob_service_client(self.config.data).get_blob_client(path.container, path.name)
        if self.config.deferred:
            data = model_binding_datum(self.config.data, path)
        else:
            downloaded = await client.download_blob()
            data = content_datum(await downloaded.readall(), string=self.config.string)
        return TriggerEvent(data=data, metadata=self._metadata(path, client.url, properties))

    def _metadata(self, path: BlobPath, url: str, properties: BlobProperties) -> dict[str, Datum]:
        return trigger_metadata(path, url, properties, self.config.pattern.match(path) or {})

    # --- the admin API --------------------------------------------------------------------

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """``{"input": "container/blob"}``: run for that blob now (no receipt, no queue).

        The contract is synchronous, so the blob is read with the synchronous SDK; the admin
        API is a development tool and the read is bounded by ADMIN_TIMEOUT.
        """
        try:
            path = parse_blob_path(payload.strip())
            properties, content = self._read_now(path)
        except Exception as exc:
            return TriggerEvent(data=_Failing(f"{exc}"))
        if self.config.deferred:
            data = model_binding_datum(self.config.data, path)
        else:
            data = content_datum(content, string=self.config.string)
        url = blob_service_client(self.config.data).get_blob_client(path.container, path.name).url
        return TriggerEvent(data=data, metadata=self._metadata(path, url, properties))

    def _read_now(self, path: BlobPath) -> tuple[BlobProperties, bytes]:
        from azure.storage.blob import BlobServiceClient

        if self.config.data.connection_string is None:
            raise BindingError("the admin API reads blobs only through connection strings")
        connection_string = development_connection_string(self.config.data)
        service = BlobServiceClient.from_connection_string(
            connection_string, retry_total=0, connection_timeout=ADMIN_TIMEOUT
        )
        with service:
            blob = service.get_blob_client(path.container, path.name)
            downloaded = blob.download_blob(timeout=ADMIN_TIMEOUT)
            return downloaded.properties, downloaded.readall()

    # --- the Event Grid webhook -----------------------------------------------------------

    async def handle(self, request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        """HttpRequestProcessor: handshake, notification (queue each blob), or unsubscribe."""
        kind = request.headers.get("aeg-event-type", "").lower()
        if kind == "unsubscribe":
            return web.Response(status=202)
        if kind not in ("subscriptionvalidation", "notification"):
            return web.Response(status=400)
        try:
            body = json.loads(await request.read())
            if kind == "subscriptionvalidation":
                return _validated(body, self.config.function_id)
            events = body if isinstance(body, list) else [body]
            for event in events:
                message = _event_message(event, self.config.function_id)
                await self._shared.queue.enqueue(message)
        except Exception as exc:
            log.error(
                "The blobs webhook of function '%s' failed: %s",
                self.config.function_name,
                exc,
                extra={"category": CATEGORY},
            )
            return web.Response(status=500)
        return web.Response(status=202)


def _validated(body: Any, function_id: str) -> web.Response:
    event = body[0] if isinstance(body, list) and body else body
    data = event.get("data") if isinstance(event, dict) else None
    if isinstance(data, str):  # a CloudEvent's data is JSON text
        data = json.loads(data)
    code = data["validationCode"] if isinstance(data, dict) else None
    if code is None:
        raise ValueError("expected a validation event with data.validationCode")
    log.info(
        "perform handshake with eventGrid for function: %s",
        function_id,
        extra={"category": CATEGORY},
    )
    text = json.dumps({"validationResponse": str(code)}, separators=(",", ":"))
    return web.Response(status=200, text=text, content_type="text/plain", charset="utf-8")


def _event_message(event: Any, function_id: str) -> BlobTriggerMessage:
    """GetBlobTriggerMessage: data.url, data.eTag (quoted here) and data.blobType."""
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or not data.get("url"):
        raise ValueError("expected an event with data.url (a BlobCreated event)")
    path = parse_blob_path(str(data["url"]))
    blob_type = str(data.get("blobType") or "BlockBlob")
    if not blob_type.endswith("Blob"):
        blob_type += "Blob"
    return BlobTriggerMessage(
        function_id, blob_type, path.container, path.name, f'"{data.get("eTag", "")}"'
    )


class _Failing(Datum):
    """Trigger data whose decoding fails with a reason: what the admin API could not read."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, None)
        self._reason = reason

    @property
    def type(self) -> str | None:  # a property, so that decoding fails with the reason
        raise BindingError(f"the blob could not be read: {self._reason}")

    @type.setter
    def type(self, value: str | None) -> None:
        pass


class BlobTriggerProvider(StorageProvider):
    """``blobTrigger``: container scan or Event Grid, receipts, the host's trigger queue."""

    type_name = "blobTrigger"

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> BlobTriggerListener:
        """Check everything now, so a bad trigger is disabled at load with its reason."""
        return BlobTriggerListener(blob_trigger_config(spec, ctx), dispatch, ctx)


BLOB_TRIGGER = BlobTriggerProvider()
