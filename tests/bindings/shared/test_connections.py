"""Connection names and %Setting% references, resolved as the Functions host resolves them."""

from __future__ import annotations

import pytest

from funchost.bindings.shared.connections import (
    Connection,
    ConnectionNotFound,
    SettingNotFound,
    resolve_connection,
    resolve_setting_refs,
)
from funchost.errors import FunchostError

NOT_FOUND = (
    "connection 'MyConn' resolves to nothing: looked for app settings AzureWebJobsMyConn, "
    "MyConn, ConnectionStrings:MyConn, and MyConn__serviceUri / "
    "MyConn__fullyQualifiedNamespace / MyConn__accountEndpoint (identity)"
)


def test_prefixed_setting_wins() -> None:
    settings = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "Storage": "other"}
    connection = resolve_connection("Storage", settings)
    assert connection == Connection("Storage", "AzureWebJobsStorage", "UseDevelopmentStorage=true")
    assert connection.is_identity is False
    assert dict(connection.identity) == {}


def test_plain_setting() -> None:
    connection = resolve_connection("MyConn", {"MyConn": "Endpoint=sb://x/;SharedAccessKey=k"})
    assert (connection.setting, connection.connection_string) == (
        "MyConn",
        "Endpoint=sb://x/;SharedAccessKey=k",
    )


def test_full_setting_name_is_not_prefixed_twice() -> None:
    settings = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    assert resolve_connection("AzureWebJobsStorage", settings).setting == "AzureWebJobsStorage"
    with pytest.raises(ConnectionNotFound) as caught:
        resolve_connection("AzureWebJobsStorage", {})
    assert str(caught.value).startswith(
        "connection 'AzureWebJobsStorage' resolves to nothing: looked for app settings "
        "AzureWebJobsStorage, ConnectionStrings:AzureWebJobsStorage, and "
    )


def test_connection_strings_section() -> None:
    connection = resolve_connection("Db", {}, {"Db": "Server=x"})
    assert (connection.setting, connection.connection_string) == (
        "ConnectionStrings:Db",
        "Server=x",
    )


@pytest.mark.parametrize("setting", ["ConnectionStrings:Db", "ConnectionStrings__Db"])
def test_connection_string_given_as_an_app_setting(setting: str) -> None:
    connection = resolve_connection("Db", {setting: "Server=x"})
    assert (connection.setting, connection.connection_string) == (setting, "Server=x")


def test_order_value_then_connection_strings_then_identity() -> None:
    settings = {"MyConn__serviceUri": "https://x", "ConnectionStrings:MyConn": "from-setting"}
    assert resolve_connection("MyConn", settings).connection_string == "from-setting"
    strings = {"MyConn": "from-section"}
    assert resolve_connection("MyConn", settings, strings).connection_string == "from-section"
    settings["MyConn"] = "plain"
    assert resolve_connection("MyConn", settings, strings).connection_string == "plain"


def test_identity_form_collects_every_key_under_the_prefix() -> None:
    settings = {
        "MyConn__serviceUri": "https://acct.queue.core.windows.net",
        "MyConn__credential": "managedidentity",
        "MyConn:clientId": "abc",
        "MyConn__nested__key": "v",
        "MyConnOther__x": "not mine",
        "MyConn__": "no key",
        "MyConn__empty": "",
    }
    connection = resolve_connection("MyConn", settings)
    assert connection.is_identity is True
    assert (connection.setting, connection.connection_string) == ("MyConn", None)
    assert dict(connection.identity) == {
        "serviceUri": "https://acct.queue.core.windows.net",
        "credential": "managedidentity",
        "clientId": "abc",
        "nested:key": "v",
    }


def test_prefixed_identity_section_wins() -> None:
    settings = {"AzureWebJobsStorage__accountName": "a", "Storage__accountName": "b"}
    connection = resolve_connection("Storage", settings)
    assert (connection.setting, dict(connection.identity)) == (
        "AzureWebJobsStorage",
        {"accountName": "a"},
    )


def test_names_match_case_insensitively_preferring_the_exact_spelling() -> None:
    assert resolve_connection("MyConn", {"myconn": "x"}).setting == "myconn"
    assert resolve_connection("MyConn", {"myconn": "x", "MyConn": "y"}).connection_string == "y"
    identity = resolve_connection("MyConn", {"MYCONN__serviceUri": "u"}).identity
    assert dict(identity) == {"serviceUri": "u"}


def test_empty_value_counts_as_not_set() -> None:
    settings = {"AzureWebJobsMyConn": "", "MyConn": "", "MyConn__serviceUri": "https://x"}
    assert resolve_connection("MyConn", settings).is_identity is True


def test_nothing_found_lists_what_was_tried() -> None:
    with pytest.raises(ConnectionNotFound) as caught:
        resolve_connection("MyConn", {"Other": "x", "MyConn": ""})
    assert str(caught.value) == NOT_FOUND
    assert caught.value.name == "MyConn"
    assert caught.value.tried == [
        "AzureWebJobsMyConn",
        "MyConn",
        "ConnectionStrings:MyConn",
        "ConnectionStrings__MyConn",
        "AzureWebJobsMyConn__*",
        "MyConn__*",
    ]
    assert isinstance(caught.value, FunchostError)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ConnectionNotFound) as caught:
        resolve_connection("", {"AzureWebJobs": "x"})
    assert str(caught.value) == "a binding's connection name is empty; expected an app setting name"


# --- %Setting% references ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("%QueueName%", "orders"),
        ("prefix-%QueueName%-x", "prefix-orders-x"),
        ("%QueueName%/%Env%", "orders/dev"),
        ("%queuename%", "orders"),
        ("plain", "plain"),
        ("100%%", "100%%"),
        ("a%%b", "a%%b"),
        ("50% off %Env%", "50% off dev"),
        ("", ""),
    ],
)
def test_references_are_replaced(value: str, expected: str) -> None:
    settings = {"QueueName": "orders", "Env": "dev"}
    assert resolve_setting_refs(value, settings, where="w") == expected


@pytest.mark.parametrize("settings", [{}, {"QueueName": ""}])
def test_missing_reference_names_the_setting_and_where(settings: dict[str, str]) -> None:
    where = "function 'x' binding 'msg' property 'queueName'"
    with pytest.raises(SettingNotFound) as caught:
        resolve_setting_refs("in-%QueueName%", settings, where=where)
    assert str(caught.value) == (
        "function 'x' binding 'msg' property 'queueName': app setting 'QueueName' "
        "(referenced as %QueueName%) is not set; "
        "expected it in local.settings.json Values or the environment"
    )
    assert (caught.value.setting, caught.value.where) == ("QueueName", where)
    assert isinstance(caught.value, FunchostError)
