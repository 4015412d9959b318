"""Azure Tables input and output bindings (``@app.table_input``, ``@app.table_output``).

Input, as the Tables extension answers a worker: with ``rowKey`` (and ``partitionKey``) one
entity as a JSON object, or null when there is none; otherwise a JSON array of the entities
the query finds: ``PartitionKey eq '<partitionKey>'`` and the ``filter``, if any, at most
``take`` of them. Output, after the function succeeded: the value's entities, written in one
transaction per partition (at most 100 each), the table created when it is missing, as the
extension's ``TableEntityWriter`` does. Entity shapes: entities.py; properties: config.py.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from azure.functions.meta import Datum

from funchost.bindings.base import BindingContext, BindingSpec, TriggerEvent
from funchost.bindings.shared.expressions import trigger_values
from funchost.bindings.shared.outputs import output_objects
from funchost.bindings.shared.storage import (
    StorageProvider,
    storage_connection,
    table_service_client,
)
from funchost.bindings.table.config import TableConfig, check_key, table_config
from funchost.bindings.table.entities import (
    Entity,
    entity_from_item,
    entity_json,
)
from funchost.errors import BindingError, FunchostError

if TYPE_CHECKING:
    from azure.data.tables.aio import TableClient

MAX_BATCH = 100  # entities in one transaction (a service limit)
_NO_TABLE = ("TableNotFound", "ResourceNotFound")  # the writer creates the table then


class _TableBinding:
    """What input and output share: the connection and the compiled properties."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, *, output: bool) -> None:
        self.connection = storage_connection(spec, ctx)
        try:
            self.config: TableConfig = table_config(spec, output=output)
        except FunchostError as exc:
            raise BindingError(str(exc)) from None
        self.where = self.config.where

    def values(self, event: TriggerEvent) -> dict[str, Any]:
        """The trigger values the expressions may use (none needed when all is fixed)."""
        return {} if self.config.constant else trigger_values(event)

    def client(self, table: str) -> TableClient:
        """The table's client, over the process's service client for this connection."""
        return table_service_client(self.connection).get_table_client(table)


class TableInput(_TableBinding):
    """Reads one entity by its keys, or the entities a query finds."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        super().__init__(spec, ctx, output=False)

    async def fetch(self, event: TriggerEvent) -> Datum | None:
        """A JSON object (or None), or a JSON array of objects."""
        values = self.values(event)
        table = self.config.table_name(values)
        if self.config.row_key is not None and self.config.partition_key is not None:
            keys = (self.config.partition_key.render(values), self.config.row_key.render(values))
            found = await self._entity(table, *keys)
            return None if found is None else Datum(json.dumps(found), "json")
        return Datum(json.dumps(await self._query(table, values)), "json")

    async def _entity(self, table: str, partition_key: str, row_key: str) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            entity = await self.client(table).get_entity(partition_key, row_key)
        except ResourceNotFoundError:
            return None  # no such entity (or table): the parameter is None
        except HttpResponseError as exc:
            raise BindingError(
                f"{self.where}: reading from table '{table}' failed: {_why(exc)}"
            ) from None
        return entity_json(entity)

    async def _query(self, table: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        from azure.core.exceptions import HttpResponseError

        query = self._filter(values)
        take = self.config.take
        found: list[dict[str, Any]] = []
        client = self.client(table)
        pages = (
            client.query_entities(query, results_per_page=take or None)
            if query
            else client.list_entities(results_per_page=take or None)  # the whole table
        )
        try:
            async for entity in pages:
                found.append(entity_json(entity))
                if take and len(found) >= take:
                    break
        except HttpResponseError as exc:
            raise BindingError(
                f"{self.where}: querying table '{table}' with filter {query!r} failed: {_why(exc)}"
            ) from None
        return found

    def _filter(self, values: dict[str, Any]) -> str:
        """``PartitionKey eq '<pk>'`` and the filter, joined as the extension joins them."""
        user = self.config.filter.render(values) if self.config.filter else ""
        if self.config.partition_key is None:
            return user
        key = self.config.partition_key.render(values).replace("'", "''")
        own = f"PartitionKey eq '{key}'"
        return f"{own} and {user}" if user else own


class TableOutput(_TableBinding):
    """Writes the entities of one output value."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        super().__init__(spec, ctx, output=True)

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Validate every entity first, then write them partition by partition."""
        values = self.values(event)
        try:
            entities = [
                self._entity(item, values) for item in output_objects(datum, "a table entity")
            ]
        except BindingError as exc:
            raise BindingError(f"{self.where}: {exc}") from None
        if not entities:
            return
        table = self.config.table_name(values)
        client = self.client(table)
        for batch in batches(entities):
            await self._submit(client, table, batch)

    def _entity(self, item: dict[str, Any], values: dict[str, Any]) -> Entity:
        properties, etag = entity_from_item(item)
        for name, template in (
            ("PartitionKey", self.config.partition_key),
            ("RowKey", self.config.row_key),
        ):
            if properties.get(name) is None and template is not None:
                properties[name] = template.render(values)
            properties[name] = check_key(properties.get(name), name, "entity")
        return Entity(properties, etag)

    async def _submit(self, client: TableClient, table: str, batch: list[Entity]) -> None:
        from azure.core.exceptions import HttpResponseError

        operations = [_operation(entity) for entity in batch]
        try:
            try:
                await client.submit_transaction(operations)
            except HttpResponseError as exc:
                if exc.status_code != 404 or getattr(exc, "error_code", None) not in _NO_TABLE:
                    raise
                await _create_table(client)
                await client.submit_transaction(operations)
        except HttpResponseError as exc:
            raise BindingError(self._failed(exc, table, batch)) from None

    def _failed(self, exc: Any, table: str, batch: list[Entity]) -> str:
        index = getattr(exc, "index", None)
        entity = batch[index] if isinstance(index, int) and 0 <= index < len(batch) else None
        which = f" (PartitionKey '{entity.keys[0]}', RowKey '{entity.keys[1]}')" if entity else ""
        hint = ""
        if getattr(exc, "error_code", None) == "EntityAlreadyExists":
            hint = '; an entity without an ETag is inserted: give it "ETag": "*" to replace it'
        return (
            f"{self.where}: writing {len(batch)} entit{'y' if len(batch) == 1 else 'ies'} to "
            f"table '{table}' failed{which}: {_why(exc)}{hint}"
        )


def batches(entities: list[Entity]) -> list[list[Entity]]:
    """Transactions as TableEntityWriter forms them: per partition, in order, at most 100,
    and a row key seen again in its partition closes that partition's transaction first."""
    done: list[list[Entity]] = []
    open_: dict[str, list[Entity]] = {}
    for entity in entities:
        partition, row = entity.keys
        current = open_.setdefault(partition, [])
        if any(e.keys[1] == row for e in current):
            done.append(current)
            current = open_[partition] = []
        current.append(entity)
        if len(current) >= MAX_BATCH:
            done.append(current)
            del open_[partition]
    return done + [batch for batch in open_.values() if batch]


def _operation(entity: Entity) -> tuple[Any, ...]:
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    if entity.etag is None:
        return ("create", entity.properties)
    if entity.etag == "*":
        return ("upsert", entity.properties, {"mode": UpdateMode.REPLACE})
    options = {
        "mode": UpdateMode.REPLACE,
        "etag": entity.etag,
        "match_condition": MatchConditions.IfNotModified,
    }
    return ("update", entity.properties, options)


async def _create_table(client: TableClient) -> None:
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):  # another writer made it meanwhile
        await client.create_table()


def _why(exc: Any) -> str:
    code = getattr(exc, "error_code", None) or getattr(exc, "reason", None) or ""
    return f"{exc.status_code} {code}".strip()


class TableProvider(StorageProvider):
    """``table`` input and output over Azure Tables (Azurite's table service locally)."""

    type_name = "table"

    def input(self, spec: BindingSpec, ctx: BindingContext) -> TableInput:
        """Check the table name, keys, filter, take and connection now."""
        return TableInput(spec, ctx)

    def output(self, spec: BindingSpec, ctx: BindingContext) -> TableOutput:
        """Check the table name, keys and connection now."""
        return TableOutput(spec, ctx)


TABLE = TableProvider()
