"""Storage connections: which setting a binding uses, development storage, identity forms."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.shared import storage
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.storage import (
    DEV_KEY,
    development_connection_string,
    is_development,
    service_uri,
    storage_connection,
)
from funchost.config_section import Section
from funchost.errors import BindingError

DEV = "UseDevelopmentStorage=true"


def spec(connection: str | None = None, type_: str = "queueTrigger") -> BindingSpec:
    props = {"queueName": "q"} if connection is None else {"connection": connection}
    return BindingSpec(name="msg", type=type_, direction="in", properties=props)


def ctx(settings: dict[str, str]) -> BindingContext:
    return BindingContext("f", Path("."), settings, Section.root({}, "host.json"))


def string(value: str, setting: str = "AzureWebJobsStorage") -> Connection:
    return Connection("AzureWebJobsStorage", setting, value)


def identity(**settings: str) -> Connection:
    return Connection("MyStorage", "MyStorage", None, MappingProxyType(settings))


def test_no_connection_means_azurewebjobsstorage() -> None:
    found = storage_connection(spec(), ctx({"AzureWebJobsStorage": DEV}))
    assert found == Connection("AzureWebJobsStorage", "AzureWebJobsStorage", DEV)
    assert storage_connection(spec(""), ctx({"AzureWebJobsStorage": DEV})).setting == (
        "AzureWebJobsStorage"
    )


def test_a_named_connection_prefers_the_azurewebjobs_prefix() -> None:
    settings = {"AzureWebJobsMine": DEV, "Mine": "x=y", "AzureWebJobsStorage": "a=b"}
    assert storage_connection(spec("Mine"), ctx(settings)).setting == "AzureWebJobsMine"


def test_nothing_found_names_function_binding_and_lookup_order() -> None:
    with pytest.raises(BindingError) as caught:
        storage_connection(spec("Mine"), ctx({}))
    assert str(caught.value) == (
        "function 'f': binding 'msg' (queueTrigger): connection 'Mine' resolves to nothing: "
        "looked for app settings AzureWebJobsMine, Mine, ConnectionStrings:Mine, and "
        "Mine__serviceUri / Mine__fullyQualifiedNamespace / Mine__accountEndpoint (identity); "
        "expected one of them in local.settings.json Values or the environment"
    )
    with pytest.raises(BindingError) as caught:
        storage_connection(spec(), ctx({"AzureWebJobsStorage": ""}))
    assert str(caught.value).startswith(
        "function 'f': binding 'msg' (queueTrigger): connection 'AzureWebJobsStorage' resolves "
        "to nothing: looked for app settings AzureWebJobsStorage, ConnectionStrings:"
    )


def test_a_malformed_connection_string_names_the_setting_not_the_value() -> None:
    with pytest.raises(BindingError) as caught:
        storage_connection(spec(), ctx({"AzureWebJobsStorage": "secret-without-equals"}))
    assert str(caught.value) == (
        "function 'f': binding 'msg' (queueTrigger): app setting 'AzureWebJobsStorage' is not a "
        "storage connection string; expected 'UseDevelopmentStorage=true' or "
        "'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...'"
    )


def test_identity_settings_need_a_service_for_the_bindings_kind() -> None:
    settings = {"MyStorage__blobServiceUri": "https://a.blob.core.windows.net"}
    blob = storage_connection(spec("MyStorage", "blob"), ctx(settings))
    assert blob.is_identity
    with pytest.raises(BindingError) as caught:
        storage_connection(spec("MyStorage", "queueTrigger"), ctx(settings))
    assert str(caught.value) == (
        "function 'f': binding 'msg' (queueTrigger): connection 'MyStorage' has identity "
        "settings (MyStorage__blobServiceUri) but no queue service; expected "
        "MyStorage__queueServiceUri, MyStorage__serviceUri or MyStorage__accountName"
    )


def test_service_uris_in_the_hosts_order() -> None:
    both = identity(queueServiceUri="https://q.example", serviceUri="https://s.example")
    assert service_uri(both, "queue") == "https://q.example"
    assert service_uri(both, "blob") == "https://s.example"
    account = identity(accountName="acct", credential="managedidentity")
    assert service_uri(account, "queue") == "https://acct.queue.core.windows.net"
    assert service_uri(account, "blob") == "https://acct.blob.core.windows.net"
    assert service_uri(identity(QUEUESERVICEURI="https://upper"), "queue") == "https://upper"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DEV, True),
        ("usedevelopmentstorage=TRUE;", True),
        (f"{DEV};DevelopmentStorageProxyUri=http://other", False),
        (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
            "QueueEndpoint=http://localhost:10001/devstoreaccount1;",
            True,
        ),
        (
            "AccountName=devstoreaccount1;AccountKey=k;"
            "BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;",
            False,
        ),
        ("DefaultEndpointsProtocol=https;AccountName=real;AccountKey=k", False),
        ("AccountName=devstoreaccount1;AccountKey=k", False),
        ("not a connection string", False),
    ],
)
def test_is_development(value: str, expected: bool) -> None:
    assert is_development(string(value)) is expected


def test_is_development_is_false_for_identity() -> None:
    assert is_development(identity(accountName="devstoreaccount1")) is False


def test_development_storage_is_spelled_out() -> None:
    assert development_connection_string(string(DEV)) == (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
        "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
        "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
    )
    proxied = development_connection_string(
        string(f"{DEV};DevelopmentStorageProxyUri=http://emulator")
    )
    assert "BlobEndpoint=http://emulator:10000/devstoreaccount1;" in proxied
    assert development_connection_string(string("AccountName=a;AccountKey=k")) == (
        "AccountName=a;AccountKey=k"
    )


def test_the_retry_is_short_and_exponential() -> None:
    from azure.storage.blob.aio import ExponentialRetry

    policy = storage._retry_policy(ExponentialRetry)
    assert policy.total_retries == 3
    random.seed(1)
    delays = [policy.get_backoff_time({"count": n}) for n in (1, 2, 3)]
    for delay, nominal in zip(delays, (0.8, 1.6, 3.2), strict=True):
        assert nominal * 0.8 <= delay <= nominal * 1.2


def test_identity_clients_use_the_service_uri_and_a_credential() -> None:
    async def main() -> None:
        connection = identity(accountName="acct")
        queue = storage.queue_service_client(connection)
        blob = storage.blob_service_client(connection)
        assert queue.url == "https://acct.queue.core.windows.net/"
        assert blob.url == "https://acct.blob.core.windows.net/"
        assert type(queue.credential).__name__ == "DefaultAzureCredential"
        assert queue.credential is blob.credential  # one credential per identity settings
        await storage.close_clients()

    asyncio.run(main())


def test_a_client_secret_selects_client_secret_credential() -> None:
    async def main() -> None:
        connection = identity(
            queueServiceUri="https://acct.queue.core.windows.net",
            tenantId="t",
            clientId="c",
            clientSecret="s",
        )
        client = storage.queue_service_client(connection)
        assert type(client.credential).__name__ == "ClientSecretCredential"
        await storage.close_clients()

    asyncio.run(main())


def test_an_http_only_app_imports_no_storage_sdk() -> None:
    import subprocess

    code = (
        "import sys, funchost.bindings.shared.storage, funchost.bindings.shared.expressions, "
        "funchost.host.app_host, funchost.host.azurite; "
        "print(sorted(m for m in sys.modules if m.startswith(('azure.storage', 'azure.identity'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
