"""The pure parts of the Cosmos DB bindings: properties, connections, SQL parameters, leases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from funchost.bindings.base import BindingSpec
from funchost.bindings.cosmosdb.client import cosmos_connection
from funchost.bindings.cosmosdb.config import binding_config, trigger_config
from funchost.bindings.cosmosdb.leases import Lease
from funchost.bindings.cosmosdb.listener import _documents_json
from funchost.bindings.cosmosdb.query import sql_query
from funchost.bindings.shared.expressions import compile_template
from funchost.errors import BindingError

KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def spec(kind: str = "cosmosDB", direction: str = "in", **props: Any) -> BindingSpec:
    base = {"databaseName": "db", "containerName": "items", "connection": "Cosmos"}
    return BindingSpec("docs", kind, direction, {**base, **props})


def trigger(**props: Any) -> BindingSpec:
    return spec("cosmosDBTrigger", **props)


def test_an_input_with_both_id_and_query_is_refused() -> None:
    with pytest.raises(BindingError, match=r"'id' and 'sqlQuery' are both set; expected one"):
        binding_config(spec(id="{id}", sqlQuery="SELECT * FROM c"))


def test_a_missing_database_names_the_property_and_an_example() -> None:
    with pytest.raises(BindingError, match=r"binding 'docs' \(cosmosDB\): 'databaseName' is "):
        binding_config(spec(databaseName=None))


def test_the_connection_defaults_to_the_setting_cosmosdb() -> None:
    assert binding_config(spec(connection=None)).connection == "CosmosDB"
    assert trigger_config(trigger(connection=None)).lease_connection == "CosmosDB"


def test_a_connection_string_in_place_of_a_setting_name_is_refused_redacted() -> None:
    with pytest.raises(BindingError) as caught:
        binding_config(spec(connection=f"AccountEndpoint=https://a/;AccountKey={KEY};"))
    assert KEY not in str(caught.value) and "REDACTED" in str(caught.value)


def test_an_output_partition_key_is_a_path_without_expressions() -> None:
    assert binding_config(spec(direction="out", partitionKey="/pk")).partition_key is not None
    with pytest.raises(BindingError, match="partition key path of a container it creates"):
        binding_config(spec(direction="out", partitionKey="{pk}"))


def test_trigger_defaults_are_the_extensions() -> None:
    config = trigger_config(trigger())
    assert (config.lease_container, config.lease_database) == ("leases", "db")
    assert config.lease_connection == "Cosmos" and config.lease_prefix == ""
    assert (config.feed_poll_delay, config.lease_acquire_interval) == (5.0, 13.0)
    assert (config.lease_expiration_interval, config.lease_renew_interval) == (60.0, 17.0)
    assert config.max_items == 0 and not config.start_from_beginning


def test_trigger_start_options_are_one_or_the_other() -> None:
    with pytest.raises(BindingError, match="only one of 'startFromBeginning' and 'startFromTime'"):
        trigger_config(trigger(startFromBeginning=True, startFromTime="2021-02-16T14:19:29Z"))
    moment = trigger_config(trigger(startFromTime="2021-02-16T14:19:29Z")).start_from_time
    assert moment is not None and moment.isoformat() == "2021-02-16T14:19:29+00:00"
    with pytest.raises(BindingError, match="'startFromTime' is 'yesterday'; expected ISO 8601"):
        trigger_config(trigger(startFromTime="yesterday"))


def test_the_leases_cannot_live_in_the_monitored_container() -> None:
    with pytest.raises(BindingError, match="cannot be the same as the container storing"):
        trigger_config(trigger(leaseContainerName="ITEMS"))
    # Another connection makes it another container.
    assert trigger_config(trigger(leaseContainerName="items", leaseConnection="Other"))


def test_leases_must_be_renewed_before_they_expire() -> None:
    with pytest.raises(BindingError, match=r"'leaseRenewInterval' .* must be shorter"):
        trigger_config(trigger(leaseRenewInterval=5000, leaseExpirationInterval=5000))


def test_query_values_become_typed_parameters_never_text() -> None:
    query = sql_query(compile_template("SELECT * FROM c WHERE c.a = {a} AND c.n > {n}", "q"))
    text, parameters = query({"a": "x' OR 1=1 --", "n": 3})
    assert text == "SELECT * FROM c WHERE c.a = @a AND c.n > @n"
    assert parameters == [{"name": "@a", "value": "x' OR 1=1 --"}, {"name": "@n", "value": 3}]


def test_a_repeated_expression_is_one_parameter_and_doubled_braces_are_literal() -> None:
    query = sql_query(compile_template("SELECT {{}} FROM c WHERE c.a = {a} OR c.b = {a}", "q"))
    text, parameters = query({"A": 1})  # looked up case-insensitively
    assert text == "SELECT {} FROM c WHERE c.a = @a OR c.b = @a"
    assert parameters == [{"name": "@a", "value": 1}]


def test_a_query_value_the_invocation_lacks_is_named() -> None:
    query = sql_query(compile_template("SELECT * FROM c WHERE c.a = {a}", "binding 'docs'"))
    with pytest.raises(BindingError, match="no value for named parameter 'a'"):
        query({"b": 1})


def test_a_connection_string_is_parsed_and_never_echoed() -> None:
    settings = {"Cosmos": f"AccountEndpoint=http://127.0.0.1:8081/;AccountKey={KEY};"}
    connection = cosmos_connection("Cosmos", settings, "binding 'docs'")
    assert (connection.endpoint, connection.key) == ("http://127.0.0.1:8081/", KEY)
    assert connection.where == "Cosmos DB account '127.0.0.1:8081'"
    with pytest.raises(BindingError) as caught:
        cosmos_connection("Bad", {"Bad": f"Endpoint=sb://x/;AccountKey={KEY}"}, "b")
    assert "app setting 'Bad' is not a Cosmos DB connection string" in str(caught.value)
    assert KEY not in str(caught.value)


def test_an_identity_connection_needs_its_account_endpoint() -> None:
    found = cosmos_connection("Cosmos", {"Cosmos__accountEndpoint": "https://a:443/"}, "b")
    assert (found.endpoint, found.key) == ("https://a:443/", None)
    with pytest.raises(BindingError, match="no Cosmos__accountEndpoint"):
        cosmos_connection("Cosmos", {"Cosmos__clientId": "x"}, "b")
    with pytest.raises(BindingError, match="connection 'Nope' resolves to nothing"):
        cosmos_connection("Nope", {}, "b")


def test_a_lease_timestamp_is_read_as_dotnet_writes_it() -> None:
    lease = Lease({"timestamp": "2026-12-03T10:00:00.1234567Z", "_ts": 1})
    assert lease.touched() == pytest.approx(1796292000.1234567, abs=1e-6)
    assert Lease({"_ts": 42}).touched() == 42.0


def test_the_admin_api_input_becomes_a_list_of_documents() -> None:
    assert json.loads(_documents_json('{"id": "1"}')) == [{"id": "1"}]
    assert json.loads(_documents_json('[{"id": "1"}, {"id": "2"}]')) == [{"id": "1"}, {"id": "2"}]
    assert json.loads(_documents_json("plain text")) == ["plain text"]
