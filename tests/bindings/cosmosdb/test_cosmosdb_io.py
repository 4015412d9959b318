"""Cosmos DB input and output through the real ``funchost start`` against the Cosmos peer:
items written by the output are read back by id, by query and whole, with the real SDK on the
peer's side checking what was stored."""

from __future__ import annotations

import json

from azure.cosmos import CosmosClient
from conftest import APPS, Host, StartHost
from cosmos_peer import CosmosPeer, database_fixture, peer_fixture
from http_helpers import call, get

APP = APPS / "cosmos_io"
cosmos = peer_fixture(scope="module")


database = database_fixture()


def start(start_host: StartHost, cosmos: CosmosPeer, database: str) -> Host:
    return start_host(APP, env={"Cosmos": cosmos.connection_string, "DB": database})


def stored(cosmos: CosmosPeer, database: str, container: str = "items") -> list[dict[str, object]]:
    """What the container holds, read by the test with the SDK (not through funchost)."""
    client = CosmosClient.from_connection_string(cosmos.connection_string)
    items = client.get_database_client(database).get_container_client(container).read_all_items()
    return sorted(({k: v for k, v in i.items() if not k.startswith("_")} for i in items), key=str)


def post(host: Host, path: str, doc: object) -> tuple[int, str]:
    reply = call(host, "POST", path, body=json.dumps(doc))
    return reply.status, reply.text


def test_items_written_by_the_output_are_read_back_by_id_query_and_whole(
    start_host: StartHost, cosmos: CosmosPeer, database: str
) -> None:
    host = start(start_host, cosmos, database)
    assert post(host, "/api/write", {"id": "1", "pk": "a", "name": "Ann"}) == (200, "written")
    many = [{"id": "2", "pk": "a", "name": "Bob"}, {"id": "3", "pk": "b", "name": "O'Hara"}]
    assert post(host, "/api/write-many", many) == (200, "written")
    assert [i["id"] for i in stored(cosmos, database)] == ["1", "2", "3"]

    one = get(host, "/api/item/a/1").json()
    assert one == {"type": "DocumentList", "docs": [{"id": "1", "pk": "a", "name": "Ann"}]}
    assert get(host, "/api/item/b/1").json() == {"type": "NoneType", "docs": None}
    assert get(host, "/api/generic/a/2").json() == [{"id": "2", "pk": "a", "name": "Bob"}]

    assert [d["id"] for d in get(host, "/api/named/O'Hara").json()] == ["3"]
    # The route value is a SQL parameter: a quote in it cannot change the query.
    assert get(host, "/api/named/x'%20OR%20'1'='1").json() == []
    assert [d["id"] for d in get(host, "/api/partition/a").json()] == ["1", "2"]
    assert [d["id"] for d in get(host, "/api/all").json()] == ["1", "2", "3"]


def test_an_upsert_replaces_the_item_with_the_same_id(
    start_host: StartHost, cosmos: CosmosPeer, database: str
) -> None:
    host = start(start_host, cosmos, database)
    assert post(host, "/api/write", {"id": "1", "pk": "a", "name": "first"}) == (200, "written")
    assert post(host, "/api/write", {"id": "1", "pk": "a", "name": "second"}) == (200, "written")
    assert stored(cosmos, database) == [{"id": "1", "pk": "a", "name": "second"}]


def test_create_if_not_exists_makes_the_container_and_its_absence_is_a_clear_error(
    start_host: StartHost, cosmos: CosmosPeer, database: str
) -> None:
    host = start(start_host, cosmos, database)
    assert post(host, "/api/write-text/fresh", {"id": "9", "pk": "z"}) == (200, "written")
    assert stored(cosmos, database, "fresh") == [{"id": "9", "pk": "z"}]
    client = CosmosClient.from_connection_string(cosmos.connection_string)
    created = client.get_database_client(database).get_container_client("fresh").read()
    assert created["partitionKey"]["paths"] == ["/pk"]

    status, _ = post(host, "/api/write-missing", {"id": "1", "pk": "a"})
    assert status == 500
    line = host.wait_for("does not exist")
    assert (
        f"binding 'doc' (cosmosDB): the container 'nothere' (in database '{database}') does not "
        f"exist in Cosmos DB account '127.0.0.1:{cosmos.port}'; expected it to, or "
        "create_if_not_exists=True"
    ) in line
    assert cosmos.key not in host.output


def test_an_output_value_that_is_not_an_object_is_refused_with_the_binding_named(
    start_host: StartHost, cosmos: CosmosPeer, database: str
) -> None:
    host = start(start_host, cosmos, database)
    status, _ = call(host, "POST", "/api/write-text/items", body="[1, 2]").status, ""
    assert status == 500
    line = host.wait_for("expected a Cosmos DB item")
    assert "binding 'doc' (cosmosDB): item 0 is int '1'; expected a Cosmos DB item" in line
    assert stored(cosmos, database) == []


def test_sdk_type_parameters_get_live_clients_from_the_extensions_converter(
    start_host: StartHost, cosmos: CosmosPeer, database: str
) -> None:
    host = start_host(
        APPS / "cosmos_sdk_types", env={"Cosmos": cosmos.connection_string, "DB": database}
    )
    CosmosClient.from_connection_string(cosmos.connection_string).get_database_client(
        database
    ).get_container_client("items").upsert_item({"id": "1", "pk": "a", "name": "Ann"})
    assert get(host, "/api/container/a/1").json() == {"type": "ContainerProxy", "name": "Ann"}
    assert get(host, "/api/database").json() == {"type": "DatabaseProxy", "containers": ["items"]}
    found = get(host, "/api/client").json()
    assert found["type"] == "CosmosClient" and database in found["databases"]
