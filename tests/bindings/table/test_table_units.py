"""The pure parts of the table binding: OData filters, entity shapes, transactions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from azure.data.tables import EdmType, EntityProperty
from azure.data.tables._deserialize import TablesEntityDatetime

from funchost.bindings.shared.expressions import compile_template
from funchost.bindings.table.binding import batches
from funchost.bindings.table.entities import Entity, entity_from_item, entity_json
from funchost.bindings.table.filter import FilterTemplate
from funchost.errors import BindingError


def render(text: str, **values: object) -> str:
    return FilterTemplate(compile_template(text, "filter")).render(values)


def test_a_quoted_value_has_its_quotes_doubled() -> None:
    assert render("Name eq '{name}'", name="O'Hara") == "Name eq 'O''Hara'"
    assert render("A eq '{x}' or B eq '{x}'", x="it's") == "A eq 'it''s' or B eq 'it''s'"


def test_an_unquoted_value_must_be_a_bool_or_a_number() -> None:
    assert render("Age gt {age} and Ok eq {ok}", age="30", ok=True) == "Age gt 30 and Ok eq True"
    assert render("Score lt {s}", s=2.5) == "Score lt 2.5"
    with pytest.raises(BindingError, match=r"invalid parameter value .* filter parameter 'age'"):
        render("Age gt {age}", age="30 or true")
    # Quoted once and bare once: not a string literal, so the value must be a number.
    with pytest.raises(BindingError, match="parameter 'x'"):
        render("A eq '{x}' or B eq {x}", x="y")


def test_a_filter_that_is_one_expression_is_the_value_itself() -> None:
    assert render("{query}", query="Name eq 'a' and Age gt 3") == "Name eq 'a' and Age gt 3"


def test_dates_go_into_filters_as_utc_iso_8601() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=timezone.utc)
    expected = "T ge datetime'2026-01-02T03:04:05.1200000Z'"
    assert render("T ge datetime'{when}'", when=when) == expected


def test_an_entity_is_read_as_the_extension_gives_it() -> None:
    stamp = TablesEntityDatetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    stamp._service_value = "2026-01-02T03:04:05.1234567Z"
    entity = {
        "PartitionKey": "p",
        "RowKey": "r",
        "Big": EntityProperty(2**40, EdmType.INT64),
        "When": stamp,
        "Raw": b"\x00\x01",
    }
    assert entity_json(entity) == {
        "PartitionKey": "p",
        "RowKey": "r",
        "Big": 2**40,
        "When": "2026-01-02T03:04:05.1234567+00:00",
        "Raw": "AAE=",
    }


def test_an_item_becomes_properties_and_an_etag() -> None:
    item = {"partitionkey": "p", "ROWKEY": "r", "etag": "*", "n": 5, "nested": {"a": 1}}
    properties, etag = entity_from_item({**item, "Timestamp": "2026-01-01T00:00:00Z"})
    assert etag == "*" and "Timestamp" not in properties
    assert properties["PartitionKey"] == "p" and properties["RowKey"] == "r"
    assert properties["n"] == EntityProperty(5, EdmType.INT64)
    assert properties["nested"] == '{\n  "a": 1\n}'


def entity(partition: str, row: str) -> Entity:
    return Entity({"PartitionKey": partition, "RowKey": row}, None)


def test_transactions_are_per_partition_and_a_repeated_row_starts_a_new_one() -> None:
    entities = [entity("a", "1"), entity("b", "1"), entity("a", "2"), entity("a", "1")]
    # As TableEntityWriter: the repeated row flushes partition a at once; the rest are
    # flushed at the end in the order their partitions were first seen.
    assert [[e.keys for e in batch] for batch in batches(entities)] == [
        [("a", "1"), ("a", "2")],
        [("a", "1")],
        [("b", "1")],
    ]
    many = [entity("a", str(i)) for i in range(150)]
    assert [len(batch) for batch in batches(many)] == [100, 50]
