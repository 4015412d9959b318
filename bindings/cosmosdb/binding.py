"""Cosmos DB input and output bindings (``@app.cosmos_db_input``, ``@app.cosmos_db_output``).

Input, as the extension answers a worker: with ``id`` one item read by id and partition key
(null when there is none); otherwise a JSON array of what ``sqlQuery`` finds (every item when
there is no query), within ``partitionKey`` when it is set. Output, after the function
succeeded: each item of the value upserted in order; a missing container is created (with
its database) when ``createIfNotExists`` is set, else the error says so. A parameter typed
with ``azurefunctions-extensions-bindings-cosmosdb``'s ``CosmosClient``, ``DatabaseProxy`` or
``ContainerProxy`` gets the model binding data that extension's converter builds it from.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from azure.functions.meta import Datum

from funchost.bindings.base import BindingContext, BindingSpec, TriggerEvent
from funchost.bindings.cosmosdb.client import CosmosConnection, cosmos_client, cosmos_connection
from funchost.bindings.cosmosdb.config import CosmosConfig, binding_config
from funchost.bindings.cosmosdb.query import Query, sql_query
from funchost.bindings.shared.expressions import trigger_values
from funchost.bindings.shared.outputs import output_objects
from funchost.bindings.shared.typeddata import MODEL_BINDING_DATA, ModelBindingData, is_deferred
from funchost.errors import BindingError

if TYPE_CHECKING:
    from azure.cosmos.aio import ContainerProxy

SOURCE = "CosmosDB"  # Constants.WebJobsCosmosExtensionName: the model binding data's source
DEFAULT_PARTITION_KEY_PATH = "/id"  # for a container the output creates without one


class _CosmosBinding:
    """What input and output share: the connection, the properties, the container."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        self.config: CosmosConfig = binding_config(spec)
        self.where = self.config.where
        self.connection: CosmosConnection = cosmos_connection(
            self.config.connection, ctx.settings, self.where
        )

    def values(self, event: TriggerEvent) -> dict[str, Any]:
        """The trigger values the expressions may use (none needed when all is fixed)."""
        return {} if self.config.constant else trigger_values(event)

    def names(self, values: dict[str, Any]) -> tuple[str, str]:
        """(database, container) for this invocation."""
        return self.config.database.render(values), self.config.container.render(values)

    def container(self, database: str, container: str) -> ContainerProxy:
        """The container's client, over the process's client for this connection."""
        client = cosmos_client(self.connection, self.config.preferred_locations)
        return client.get_database_client(database).get_container_client(container)

    def failed(self, doing: str, names: tuple[str, str], exc: Any) -> BindingError:
        """A BindingError naming the container and the service's status, never the key."""
        status = getattr(exc, "status_code", None)
        why = f"{status} {_reason(exc)}".strip() if status else type(exc).__name__
        return BindingError(
            f"{self.where}: {doing} container '{names[1]}' (database '{names[0]}') in "
            f"{self.connection.where} failed: {why}"
        )


class CosmosInput(_CosmosBinding):
    """Reads one item by id, or the items a query finds, or builds an SDK-type parameter."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        super().__init__(spec, ctx)
        self.deferred = is_deferred(spec)
        self.query: Query | None = None
        if self.config.sql_query is not None:
            self.query = sql_query(self.config.sql_query)

    async def fetch(self, event: TriggerEvent) -> Datum | None:
        """A JSON object (or None), a JSON array, or model binding data."""
        values = self.values(event)
        if self.deferred:
            return Datum(self._binding_data(values), MODEL_BINDING_DATA)
        names = self.names(values)
        if self.config.id is not None:
            found = await self._item(names, values)
            return None if found is None else Datum(json.dumps(found), "json")
        return Datum(json.dumps(await self._items(names, values)), "json")

    async def _item(self, names: tuple[str, str], values: dict[str, Any]) -> Any:
        from azure.cosmos.exceptions import CosmosHttpResponseError, CosmosResourceNotFoundError
        from azure.cosmos.partition_key import NonePartitionKeyValue

        assert self.config.id is not None
        item_id = self.config.id.render(values)
        key = self._partition_key(values)
        try:
            return await self.container(*names).read_item(
                item_id, partition_key=NonePartitionKeyValue if key is None else key
            )
        except CosmosResourceNotFoundError:
            return None  # no such item: the parameter is None, as the extension gives
        except CosmosHttpResponseError as exc:
            raise self.failed(f"reading item '{item_id}' from", names, exc) from None

    async def _items(self, names: tuple[str, str], values: dict[str, Any]) -> list[Any]:
        from azure.cosmos.exceptions import CosmosHttpResponseError

        key = self._partition_key(values)
        container = self.container(*names)
        text, parameters = ("SELECT * FROM c", []) if self.query is None else self.query(values)
        options: dict[str, Any] = {"parameters": parameters}
        if key is not None:
            options["partition_key"] = key
        try:
            return [item async for item in container.query_items(text, **options)]
        except CosmosHttpResponseError as exc:
            raise self.failed(f"querying ({text!r})", names, exc) from None

    def _partition_key(self, values: dict[str, Any]) -> str | None:
        template = self.config.partition_key
        return None if template is None else template.render(values)

    def _binding_data(self, values: dict[str, Any]) -> ModelBindingData:
        """CosmosParameterBindingDataContent: the resolved attribute, as JSON."""
        config = self.config
        database, container = self.names(values)
        text, parameters = self.query(values) if self.query else (None, [])
        content = {
            "DatabaseName": database,
            "ContainerName": container,
            "CreateIfNotExists": config.create_if_not_exists,
            "Connection": config.connection,
            "Id": config.id.render(values) if config.id else None,
            "PartitionKey": self._partition_key(values),
            "ContainerThroughput": config.throughput,
            "SqlQuery": text,
            "SqlQueryParameters": {p["name"]: p["value"] for p in parameters} or None,
            "PreferredLocations": ",".join(config.preferred_locations) or None,
        }
        body = json.dumps(content, default=str).encode("utf-8")
        return ModelBindingData("1.0", SOURCE, "application/json", body)


class CosmosOutput(_CosmosBinding):
    """Upserts the items of one output value."""

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Validate every item first, then upsert them in order."""
        try:
            items = output_objects(datum, "a Cosmos DB item")
        except BindingError as exc:
            raise BindingError(f"{self.where}: {exc}") from None
        if not items:
            return
        names = self.names(self.values(event))
        for item in items:
            await self._upsert(names, item)

    async def _upsert(self, names: tuple[str, str], item: dict[str, Any]) -> None:
        from azure.cosmos.exceptions import CosmosHttpResponseError, CosmosResourceNotFoundError

        container = self.container(*names)
        try:
            try:
                await container.upsert_item(item)
            except CosmosResourceNotFoundError:
                if not self.config.create_if_not_exists:
                    raise BindingError(self._missing(names)) from None
                await self._create(names)
                await container.upsert_item(item)
        except CosmosHttpResponseError as exc:
            raise self.failed(f"upserting item {_item_id(item)} into", names, exc) from None

    async def _create(self, names: tuple[str, str]) -> None:
        """CreateDatabaseAndCollectionIfNotExistAsync, with the output's key path and RU/s."""
        from azure.cosmos import PartitionKey

        client = cosmos_client(self.connection, self.config.preferred_locations)
        database = await client.create_database_if_not_exists(names[0])
        path = self.config.partition_key.text if self.config.partition_key else None
        await database.create_container_if_not_exists(
            names[1],
            PartitionKey(path or DEFAULT_PARTITION_KEY_PATH),
            offer_throughput=self.config.throughput or None,
        )

    def _missing(self, names: tuple[str, str]) -> str:
        return (
            f"{self.where}: the container '{names[1]}' (in database '{names[0]}') does not "
            f"exist in {self.connection.where}; expected it to, or create_if_not_exists=True"
        )


def _item_id(item: dict[str, Any]) -> str:
    return repr(item["id"]) if "id" in item else "(without an id)"


def _reason(exc: Any) -> str:
    """The service's error code, or the first line of its message."""
    code = getattr(exc, "sub_status", None)
    message = str(getattr(exc, "message", "") or "").strip().splitlines()
    text = message[0] if message else ""
    return f"(sub-status {code}) {text}".strip() if code else text[:200]
