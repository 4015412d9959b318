"""Blob input and output bindings (``@app.blob_input``, ``@app.blob_output``).

The path is a binding expression rendered per invocation from the trigger's values
(``{name}`` of a blob trigger's pattern, ``{queueTrigger}``, ``{rand-guid}``, ``{DateTime}``),
then read or written as the WebJobs blob extension does: an input blob that does not exist is
None; an output creates its container when it is missing and overwrites the blob.
``dataType: string`` sends text (UTF-8), anything else bytes; the library's BlobConverter (or
the worker's generic converter, for ``str``/``bytes``) makes the argument of it.

A parameter typed with an SDK type of ``azurefunctions-extensions-bindings-blob``
(``BlobClient``, ``ContainerClient``, ``StorageStreamDownloader``) is a deferred binding, as in
the Python worker: the binding sends ``model_binding_data`` with ``{Connection, ContainerName,
BlobName}`` instead of the content, and the extension's converter builds the client from it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from azure.functions.meta import Datum

from funchost.bindings.base import BindingContext, BindingSpec, TriggerEvent
from funchost.bindings.blob.paths import BlobPath, parse_blob_path, parse_trigger_pattern
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.expressions import (
    Template,
    check_names,
    compile_template,
    trigger_values,
)
from funchost.bindings.shared.storage import (
    StorageProvider,
    blob_service_client,
    storage_connection,
)
from funchost.bindings.shared.typeddata import MODEL_BINDING_DATA, ModelBindingData, is_deferred
from funchost.errors import BindingError

BLOB_EXTENSION = "AzureStorageBlobs"  # Constants.WebJobsBlobExtensionName
# The blob trigger's binding data (BlobTriggerBinding.CreateBindingDataContract).
TRIGGER_NAMES = frozenset({"BlobTrigger", "Uri", "Properties", "Metadata"})


def model_binding_datum(connection: Connection, path: BlobPath) -> Datum:
    """ParameterBindingData("1.0", "AzureStorageBlobs", {Connection, ContainerName, BlobName})."""
    content = {
        "Connection": connection.setting,  # the extension reads the setting of this name
        "ContainerName": path.container,
        "BlobName": path.name,
    }
    value = ModelBindingData(
        "1.0", BLOB_EXTENSION, "application/json", json.dumps(content).encode("utf-8")
    )
    return Datum(value, MODEL_BINDING_DATA)


def blob_path_property(spec: BindingSpec) -> str:
    """The binding's ``path``; BindingError when it is missing."""
    value = next((v for k, v in spec.properties.items() if k.lower() == "path"), None)
    if not isinstance(value, str) or not value.strip():
        raise BindingError(
            f"binding '{spec.name}' ({spec.type}) has no path; expected path='container/blob'"
        )
    return value.strip()


def is_string(spec: BindingSpec) -> bool:
    """dataType "string": the content goes as text; otherwise as bytes."""
    return (spec.data_type or "").lower() == "string"


def trigger_names(ctx: BindingContext) -> set[str] | None:
    """The names a blob trigger provides to expressions; None (open) for other triggers."""
    trigger = next((b for b in ctx.function_bindings if b.is_trigger), None)
    if trigger is None or trigger.type.lower() != "blobtrigger":
        return None
    try:
        pattern = parse_trigger_pattern(blob_path_property(trigger))
    except BindingError:
        return None  # the trigger reports its own path problem
    return {*TRIGGER_NAMES, *pattern.parameters}


class _BlobBinding:
    """What input and output share: connection, path template, data type."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        self.connection = storage_connection(spec, ctx)
        self.where = f"binding '{spec.name}' ({spec.type}) path"
        self.template: Template = compile_template(blob_path_property(spec), self.where)
        check_names(self.template, trigger_names(ctx), self.where)
        self.deferred = is_deferred(spec)
        self.string = is_string(spec)
        if self.template.is_constant:
            self.path(TriggerEvent(data=Datum(None, None)))  # a bad fixed path fails at load

    def path(self, event: TriggerEvent) -> BlobPath:
        """The path for this invocation."""
        values: Mapping[str, Any] = {} if self.template.is_constant else trigger_values(event)
        text = self.template.render(values)
        try:
            return parse_blob_path(text, container_only=self.deferred)
        except BindingError as exc:
            raise BindingError(
                f"{self.where} '{self.template.text}' gave '{text}': {exc}"
            ) from None


class BlobInput(_BlobBinding):
    """Reads the blob for each invocation; None when it does not exist."""

    async def fetch(self, event: TriggerEvent) -> Datum | None:
        """The content (or, for an SDK type, the model binding data)."""
        from azure.core.exceptions import ResourceNotFoundError

        path = self.path(event)
        if self.deferred:
            return model_binding_datum(self.connection, path)
        blob = blob_service_client(self.connection).get_blob_client(path.container, path.name)
        try:
            content = await (await blob.download_blob()).readall()
        except ResourceNotFoundError:
            return None  # the blob, or its container, does not exist
        return content_datum(content, string=self.string)


def content_datum(content: bytes, *, string: bool) -> Datum:
    """A blob's content as the host sends it: text for dataType string, else bytes."""
    if string:
        # StreamReader: UTF-8, a byte order mark dropped.
        return Datum(content.decode("utf-8-sig", errors="replace"), "string")
    return Datum(content, "bytes")


class BlobOutput(_BlobBinding):
    """Writes the value the function set; creates the container when it is missing."""

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Upload (overwrite) the blob at this invocation's path."""
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        from funchost.bindings.blob.shared import notify_written

        data = _content(datum, self.where)
        path = self.path(event)
        if not path.name:
            raise BindingError(f"{self.where} gave '{path}'; expected 'container/blob'")
        container = blob_service_client(self.connection).get_container_client(path.container)
        try:
            await container.upload_blob(path.name, data, overwrite=True)
        except ResourceNotFoundError:  # the container does not exist yet
            with contextlib.suppress(ResourceExistsError):  # created meanwhile
                await container.create_container()
            await container.upload_blob(path.name, data, overwrite=True)
        notify_written(self.connection, path)  # blob triggers on it need not wait for a scan


def _content(datum: Datum, where: str) -> bytes:
    value = datum.value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise BindingError(
        f"{where}: cannot write a {type(value).__name__} to a blob; expected str or bytes"
    )


class BlobProvider(StorageProvider):
    """``blob``: input and output bindings."""

    type_name = "blob"

    def input(self, spec: BindingSpec, ctx: BindingContext) -> BlobInput:
        """Check the connection and path now, so a bad one fails at load."""
        return BlobInput(spec, ctx)

    def output(self, spec: BindingSpec, ctx: BindingContext) -> BlobOutput:
        """Check the connection and path now, so a bad one fails at load."""
        return BlobOutput(spec, ctx)


BLOB = BlobProvider()
