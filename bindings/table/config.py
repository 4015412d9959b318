"""The properties of a ``table`` binding, checked once at load.

As the Tables extension's ``TableAttribute``: ``tableName``, ``partitionKey`` and ``rowKey``
are binding expressions (``{name}``, ``{rand-guid}``...), ``filter`` one whose values are
quoted as OData (filter.py), ``take`` a whole number (0, the default, is no limit). A table
name must match ``^[A-Za-z][A-Za-z0-9]{2,62}$`` (checked at load when it is fixed, else per
invocation). Where the extension silently ignores a property, funchost refuses it instead:
``filter``/``take`` beside ``rowKey``, a negative ``take``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funchost.bindings.base import BindingSpec
from funchost.bindings.shared.expressions import Template, compile_template
from funchost.bindings.table.filter import FilterTemplate
from funchost.errors import BindingError

TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
_TABLE_NAME_RULE = "3 to 63 letters and digits, starting with a letter"
# Characters a PartitionKey or RowKey may not hold (TableClientHelpers).
_BAD_KEY_CHARS = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class TableConfig:
    """One binding's table, keys, filter and take, as compiled templates."""

    where: str
    table: Template
    partition_key: Template | None
    row_key: Template | None
    filter: FilterTemplate | None
    take: int

    @property
    def constant(self) -> bool:
        """True when nothing depends on the invocation's trigger values."""
        templates = [self.table, self.partition_key, self.row_key]
        fixed = all(t is None or t.is_constant for t in templates)
        return fixed and (self.filter is None or self.filter.template.is_constant)

    def table_name(self, values: Mapping[str, Any]) -> str:
        """The table for this invocation; BindingError when the name is not a table name."""
        name = self.table.render(values)
        check_table_name(name, f"{self.where}: tableName '{self.table.text}' gave '{name}'")
        return name


def table_config(spec: BindingSpec, *, output: bool) -> TableConfig:
    """Check and compile the binding's properties; BindingError names the property."""
    where = f"binding '{spec.name}' (table)"
    name = _text(spec, "tableName")
    if name is None:
        raise BindingError(f"{where}: 'tableName' is missing; expected table_name='mytable'")
    config = TableConfig(
        where=where,
        table=compile_template(name, f"{where} tableName"),
        partition_key=_template(spec, "partitionKey", where),
        row_key=_template(spec, "rowKey", where),
        filter=_filter(spec, where),
        take=_take(spec, where),
    )
    _check_combination(config, output)
    if config.table.is_constant:
        config.table_name({})
    return config


def check_table_name(name: str, where: str) -> None:
    """BindingError unless name is a valid Azure table name."""
    if not TABLE_NAME.fullmatch(name):
        raise BindingError(f"{where}: not a valid table name; expected {_TABLE_NAME_RULE}")


def check_key(value: Any, name: str, where: str) -> str:
    """A PartitionKey or RowKey as the extension validates it before writing."""
    if value is None:
        raise BindingError(
            f"{where}: the entity has no {name}; expected '{name}' in the entity or "
            f"{_snake(name)} on the binding"
        )
    if not isinstance(value, str):
        kind = type(value).__name__
        raise BindingError(f"{where}: {name} is {kind} {value!r}; expected a string")
    if _BAD_KEY_CHARS.search(value):
        raise BindingError(
            f"{where}: '{value}' is not a valid value for a partition key or row key; "
            "expected no '/', '\\', '#', '?' or control characters"
        )
    return value


def _snake(name: str) -> str:
    return "partition_key" if name == "PartitionKey" else "row_key"


def _check_combination(config: TableConfig, output: bool) -> None:
    extra = [n for n, set_ in (("filter", config.filter), ("take", config.take)) if set_]
    if output and extra:
        raise BindingError(
            f"{config.where}: {' and '.join(extra)} apply to table input only; "
            "expected them on a table_input binding"
        )
    if output or config.row_key is None:
        return
    if config.partition_key is None:
        raise BindingError(
            f"{config.where}: 'rowKey' is set without 'partitionKey'; expected both to read "
            "one entity, or neither to query the table"
        )
    if extra:
        raise BindingError(
            f"{config.where}: {' and '.join(extra)} cannot be used with 'rowKey' (one entity "
            "is read by its keys); expected rowKey, or filter/take without it"
        )


def _prop(spec: BindingSpec, name: str) -> Any:
    return next((v for k, v in spec.properties.items() if k.lower() == name.lower()), None)


def _text(spec: BindingSpec, name: str) -> str | None:
    value = _prop(spec, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise BindingError(
            f"binding '{spec.name}' (table): '{name}' is {value!r}; expected a string"
        )
    return value.strip()


def _template(spec: BindingSpec, name: str, where: str) -> Template | None:
    text = _text(spec, name)
    return None if text is None else compile_template(text, f"{where} {name}")


def _filter(spec: BindingSpec, where: str) -> FilterTemplate | None:
    text = _text(spec, "filter")
    return None if text is None else FilterTemplate(compile_template(text, f"{where} filter"))


def _take(spec: BindingSpec, where: str) -> int:
    value = _prop(spec, "take")
    if value is None:
        return 0
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        number = int(value)
    if number is None or number < 0:
        raise BindingError(
            f"{where}: 'take' is {value!r}; expected a whole number of entities, 0 or more "
            "(0: no limit)"
        )
    return number
