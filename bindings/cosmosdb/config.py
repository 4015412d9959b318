"""The properties of ``cosmosDB`` and ``cosmosDBTrigger`` bindings, checked once at load.

As the Cosmos DB extension (v4) reads ``CosmosDBAttribute`` and ``CosmosDBTriggerAttribute``:
``databaseName``, ``containerName``, ``id`` and ``partitionKey`` are binding expressions;
``sqlQuery`` one whose ``{name}`` parts become SQL parameters (query.py); the connection
defaults to the setting ``CosmosDB``; the trigger's leases default to the container
``leases`` in the monitored database, over the monitored connection; its intervals are in
milliseconds and 0 means the Change Feed Processor's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from funchost.bindings.base import BindingSpec
from funchost.bindings.shared.expressions import Template, compile_template
from funchost.errors import BindingError

DEFAULT_CONNECTION = "CosmosDB"  # Constants.DefaultConnectionStringName
DEFAULT_LEASES = "leases"  # CosmosDBTriggerConstants.DefaultLeaseCollectionName
# The Change Feed Processor's defaults (ChangeFeedProcessorOptions, ChangeFeedLeaseOptions).
FEED_POLL_DELAY_MS = 5000
LEASE_ACQUIRE_MS = 13000
LEASE_EXPIRATION_MS = 60000
LEASE_RENEW_MS = 17000
MAX_ITEMS_DEFAULT = 100  # the service's page size when the processor asks for none


@dataclass(frozen=True)
class CosmosConfig:
    """An input or output binding's container, keys, query and container creation."""

    where: str
    connection: str
    database: Template
    container: Template
    id: Template | None
    partition_key: Template | None
    sql_query: Template | None
    create_if_not_exists: bool
    throughput: int
    preferred_locations: tuple[str, ...]

    @property
    def constant(self) -> bool:
        """True when nothing depends on the invocation's trigger values."""
        templates = (self.database, self.container, self.id, self.partition_key, self.sql_query)
        return all(t is None or t.is_constant for t in templates)


@dataclass(frozen=True)
class TriggerConfig:
    """A ``cosmosDBTrigger``'s monitored container, leases and change-feed options."""

    where: str
    connection: str
    database: str
    container: str
    lease_connection: str
    lease_database: str
    lease_container: str
    lease_prefix: str
    create_lease_container: bool
    lease_throughput: int
    feed_poll_delay: float  # seconds, as the rest below
    lease_acquire_interval: float
    lease_expiration_interval: float
    lease_renew_interval: float
    max_items: int  # 0: the service's page size
    start_from_beginning: bool
    start_from_time: datetime | None
    preferred_locations: tuple[str, ...]


def binding_config(spec: BindingSpec) -> CosmosConfig:
    """Check and compile an input or output binding's properties."""
    where = f"binding '{spec.name}' (cosmosDB)"
    output = spec.direction == "out"
    config = CosmosConfig(
        where=where,
        connection=_connection(spec, "connection", where) or DEFAULT_CONNECTION,
        database=_required_template(spec, "databaseName", "database_name='mydb'", where),
        container=_required_template(spec, "containerName", "container_name='items'", where),
        id=_template(spec, "id", where),
        partition_key=_template(spec, "partitionKey", where),
        sql_query=_template(spec, "sqlQuery", where),
        create_if_not_exists=_bool(spec, "createIfNotExists", where),
        throughput=_whole(spec, "containerThroughput", where),
        preferred_locations=_locations(spec),
    )
    if not output and config.id is not None and config.sql_query is not None:
        raise BindingError(
            f"{where}: 'id' and 'sqlQuery' are both set; expected one of them: id (with "
            "partition_key) reads one item, sql_query runs a query"
        )
    if output and config.partition_key is not None and not config.partition_key.is_constant:
        raise BindingError(
            f"{where}: 'partitionKey' of an output is the partition key path of a container "
            f"it creates ('/pk'); expected no {{expressions}} in it, got "
            f"'{config.partition_key.text}'"
        )
    return config


def trigger_config(spec: BindingSpec) -> TriggerConfig:
    """Check a ``cosmosDBTrigger``'s properties, with the extension's defaults."""
    where = f"binding '{spec.name}' (cosmosDBTrigger)"
    connection = _connection(spec, "connection", where) or DEFAULT_CONNECTION
    database = _required_text(spec, "databaseName", "database_name='mydb'", where)
    config = TriggerConfig(
        where=where,
        connection=connection,
        database=database,
        container=_required_text(spec, "containerName", "container_name='items'", where),
        lease_connection=_connection(spec, "leaseConnection", where) or connection,
        lease_database=_text(spec, "leaseDatabaseName") or database,
        lease_container=_text(spec, "leaseContainerName") or DEFAULT_LEASES,
        lease_prefix=_text(spec, "leaseContainerPrefix") or "",
        create_lease_container=_bool(spec, "createLeaseContainerIfNotExists", where),
        lease_throughput=_whole(spec, "leasesContainerThroughput", where),
        feed_poll_delay=_millis(spec, "feedPollDelay", FEED_POLL_DELAY_MS, where),
        lease_acquire_interval=_millis(spec, "leaseAcquireInterval", LEASE_ACQUIRE_MS, where),
        lease_expiration_interval=_millis(
            spec, "leaseExpirationInterval", LEASE_EXPIRATION_MS, where
        ),
        lease_renew_interval=_millis(spec, "leaseRenewInterval", LEASE_RENEW_MS, where),
        max_items=_whole(spec, "maxItemsPerInvocation", where),
        start_from_beginning=_bool(spec, "startFromBeginning", where),
        start_from_time=_start_time(spec, where),
        preferred_locations=_locations(spec),
    )
    _check_trigger(config)
    return config


def _check_trigger(config: TriggerConfig) -> None:
    where = config.where
    if config.start_from_beginning and config.start_from_time is not None:
        raise BindingError(
            f"{where}: only one of 'startFromBeginning' and 'startFromTime' can be used"
        )
    same = (
        config.connection.lower() == config.lease_connection.lower()
        and config.database.lower() == config.lease_database.lower()
        and config.container.lower() == config.lease_container.lower()
    )
    if same:
        raise BindingError(
            f"{where}: the monitored container cannot be the same as the container storing "
            f"the leases ('{config.container}'); expected lease_container_name='leases'"
        )
    if config.lease_renew_interval >= config.lease_expiration_interval:
        raise BindingError(
            f"{where}: 'leaseRenewInterval' ({config.lease_renew_interval * 1000:.0f} ms) must "
            f"be shorter than 'leaseExpirationInterval' "
            f"({config.lease_expiration_interval * 1000:.0f} ms), or leases expire while held"
        )


def _get(spec: BindingSpec, name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in spec.properties.items() if k.lower() == lowered), None)


def _text(spec: BindingSpec, name: str) -> str | None:
    value = _get(spec, name)
    if value is None or value == "":
        return None
    return str(value)


def _connection(spec: BindingSpec, name: str, where: str) -> str | None:
    value = _text(spec, name)
    if value is not None and "accountkey=" in value.lower().replace(" ", ""):
        raise BindingError(
            f"{where}: '{name}' holds a connection string (<< REDACTED >>); expected the name "
            "of an app setting that holds it"
        )
    return value


def _required_text(spec: BindingSpec, name: str, example: str, where: str) -> str:
    value = _text(spec, name)
    if value is None:
        raise BindingError(f"{where}: '{name}' is missing; expected {example}")
    return value


def _required_template(spec: BindingSpec, name: str, example: str, where: str) -> Template:
    return compile_template(_required_text(spec, name, example, where), f"{where} {name}")


def _template(spec: BindingSpec, name: str, where: str) -> Template | None:
    value = _text(spec, name)
    return None if value is None else compile_template(value, f"{where} {name}")


def _bool(spec: BindingSpec, name: str, where: str) -> bool:
    value = _get(spec, name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise BindingError(f"{where}: '{name}' is {value!r}; expected true or false")


def _whole(spec: BindingSpec, name: str, where: str) -> int:
    value = _get(spec, name)
    if value is None:
        return 0
    try:
        number = int(str(value))
    except ValueError:
        number = -1
    if number < 0 or isinstance(value, bool | float):
        raise BindingError(f"{where}: '{name}' is {value!r}; expected a whole number >= 0")
    return number


def _millis(spec: BindingSpec, name: str, default: int, where: str) -> float:
    """Milliseconds as seconds; 0 or absent is the processor's default."""
    return (_whole(spec, name, where) or default) / 1000


def _start_time(spec: BindingSpec, where: str) -> datetime | None:
    text = _text(spec, "startFromTime")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BindingError(
            f"{where}: 'startFromTime' is {text!r}; expected ISO 8601 with the UTC designator, "
            "such as '2021-02-16T14:19:29Z'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _locations(spec: BindingSpec) -> tuple[str, ...]:
    text = _text(spec, "preferredLocations") or ""
    return tuple(part.strip() for part in text.split(",") if part.strip())
