"""Azure Tables input and output through the real ``funchost start`` on Azurite: an entity
written by table_output is read back by table_input, by its keys and by filters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from azure.data.tables import TableServiceClient
from azurite import Azurite
from conftest import APPS, Host, StartHost
from http_helpers import call, get
from queue_helpers import bodies

APP = APPS / "table_io"


def table_name() -> str:
    """A table no other test uses (letters and digits)."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def table(azurite: Azurite) -> Iterator[str]:
    yield table_name()


def start(start_host: StartHost, azurite: Azurite, table: str, **extra: str) -> Host:
    env = {"AzureWebJobsStorage": azurite.connection_string, "T_NAME": table, "Q_GENERIC": "q"}
    env.update(extra)
    return start_host(APP, env=env)


def stored(azurite: Azurite, table: str) -> list[dict[str, object]]:
    """What the table holds, read by the test with the SDK (not through funchost)."""
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_table_client(table)
    return sorted((dict(e) for e in client.list_entities()), key=lambda e: str(e["RowKey"]))


def post(host: Host, path: str, doc: object) -> tuple[int, str]:
    reply = call(host, "POST", path, body=json.dumps(doc))
    host.drain(0.1)
    return reply.status, reply.text


def test_an_entity_written_by_table_output_is_read_back_by_keys_and_filters(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    host = start(start_host, azurite, table)
    doc = {"Name": "Ann", "Age": 31, "Score": 2.5, "Active": True, "Tags": {"a": [1, 2]}}
    assert post(host, "/api/write/p1/r1", doc) == (200, "written"), host.output  # makes the table
    assert post(host, "/api/write/p1/r2", {"Name": "Bob", "Age": 25}) == (200, "written")
    assert post(host, "/api/write/p2/r3", {"Name": "O'Hara", "Age": 40}) == (200, "written")

    one = get(host, "/api/entity/p1/r1").json()
    assert one == {
        "type": "str",  # the JSON text, as the Functions host sends it
        "entity": {
            "PartitionKey": "p1",
            "RowKey": "r1",
            "Name": "Ann",
            "Age": 31,
            "Score": 2.5,
            "Active": True,
            "Tags": json.dumps({"a": [1, 2]}, indent=2),  # nested JSON is stored as its text
        },
    }
    assert get(host, "/api/entity/p1/nope").json() == {"type": "NoneType", "entity": None}

    partition = get(host, "/api/partition/p1").json()
    assert [(e["RowKey"], e["Name"]) for e in partition] == [("r1", "Ann"), ("r2", "Bob")]
    assert "Timestamp" not in partition[0] and "odata.etag" not in partition[0]

    assert [e["RowKey"] for e in get(host, "/api/named/O'Hara").json()] == ["r3"]
    assert get(host, "/api/named/x'%20or%20Name%20ne%20'y").json() == []  # the quote cannot escape
    assert sorted(e["Name"] for e in get(host, "/api/older/30").json()) == ["Ann", "O'Hara"]


def test_whole_numbers_are_stored_as_64_bit_as_the_extension_stores_them(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    host = start(start_host, azurite, table)
    assert post(host, "/api/write/p/r", {"Big": 2**40, "Small": 7}) == (200, "written")
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    entity = service.get_table_client(table).get_entity("p", "r")
    assert (entity["Big"].edm_type, entity["Big"].value) == ("Edm.Int64", 2**40)
    assert (entity["Small"].edm_type, entity["Small"].value) == ("Edm.Int64", 7)
    assert get(host, "/api/entity/p/r").json()["entity"]["Big"] == 2**40


def test_take_limits_a_filter_and_a_list_output_writes_every_entity(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    host = start(start_host, azurite, table)
    rows = [{"PartitionKey": f"p{i % 2}", "RowKey": f"r{i}", "Name": "Same"} for i in range(5)]
    assert post(host, "/api/write-many", rows) == (200, "written")
    assert [e["RowKey"] for e in stored(azurite, table)] == ["r0", "r1", "r2", "r3", "r4"]
    assert len(get(host, "/api/named/Same").json()) == 2  # take=2
    assert [e["RowKey"] for e in get(host, "/api/all").json()] == ["r0", "r2", "r4"]  # take=3


def test_an_existing_entity_is_a_conflict_unless_its_etag_is_a_star(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    host = start(start_host, azurite, table)
    assert post(host, "/api/write/p/r", {"Name": "first"}) == (200, "written")
    status, _ = post(host, "/api/write/p/r", {"Name": "second"})
    assert status == 500
    host.wait_for("EntityAlreadyExists")
    failure = next(line for line in host.lines if "EntityAlreadyExists" in line)
    assert (
        f"binding 'row' (table): writing 1 entity to table '{table}' failed "
        "(PartitionKey 'p', RowKey 'r'): 409 EntityAlreadyExists; an entity without an ETag is "
        'inserted: give it "ETag": "*" to replace it'
    ) in failure
    assert post(host, "/api/write/p/r", {"Name": "third", "ETag": "*"}) == (200, "written")
    assert [e["Name"] for e in stored(azurite, table)] == ["third"]


def test_an_entity_without_keys_fails_the_invocation_with_the_reason(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    host = start(start_host, azurite, table)
    status, _ = post(host, "/api/write-many", [{"PartitionKey": "p", "Name": "no row key"}])
    assert status == 500
    line = host.wait_for("has no RowKey")
    assert (
        "binding 'rows' (table): entity: the entity has no RowKey; expected 'RowKey' in the "
        "entity or row_key on the binding"
    ) in line


def test_generic_table_and_queue_bindings_behave_as_their_decorators(
    start_host: StartHost, azurite: Azurite, table: str
) -> None:
    queue = "q" + uuid.uuid4().hex[:10]
    host = start(start_host, azurite, table, Q_GENERIC=queue)
    doc = {"Name": "Gen", "Age": 33}
    assert post(host, "/api/generic/write/g/1", doc) == (200, "written")
    assert get(host, "/api/generic/entity/g/1").json() == {
        "PartitionKey": "g",
        "RowKey": "1",
        **doc,
    }
    assert [e["Name"] for e in get(host, "/api/generic/filter").json()] == ["Gen"]
    assert bodies(azurite, queue) == [b"wrote g/1"]
