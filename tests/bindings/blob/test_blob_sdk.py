"""SDK-type blob parameters: the extension's own converter builds live clients, as in Azure."""

from __future__ import annotations

import pytest
from azurite import Azurite
from blob_helpers import container, host_env, lines, unique, wait_until
from conftest import APPS, StartHost
from http_helpers import get

pytest.importorskip("azurefunctions.extensions.bindings.blob")
APP = APPS / "blob_sdk"


def test_trigger_and_inputs_get_sdk_clients(start_host: StartHost, azurite: Azurite) -> None:
    sdk = unique("sdk")
    host = start_host(APP, env=host_env(azurite, unique("bt"), B_SDK=sdk))
    inbox = container(azurite, sdk)
    inbox.upload_blob("one.txt", b"first")
    run = wait_until(lambda: lines(host, "SDK"), what="the trigger")[0]
    assert run == {
        "type": "azure.storage.blob._blob_client.BlobClient",
        "container": sdk,
        "name": "one.txt",
        "content": "first",
    }
    reply = get(host, "/api/sdk/one.txt")
    assert reply.status == 200, reply.text
    assert reply.json() == {
        "container": "ContainerClient",
        "names": ["one.txt"],
        "downloader": "StorageStreamDownloader",
        "content": "first",
        "client": "BlobClient",
        "exists": True,
    }
