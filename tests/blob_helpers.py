"""Helpers for the blob tests (no tests here): names, Azurite clients, waiting for a host."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import QueueServiceClient
from azurite import Azurite
from conftest import Host

T = TypeVar("T")
HOSTS = "azure-webjobs-hosts"
POISON = "webjobs-blobtrigger-poison"


def unique(prefix: str) -> str:
    """A container (or host id) name no other test uses: lower case, at most 63 characters."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def blob_service(azurite: Azurite) -> BlobServiceClient:
    """A synchronous client of Azurite's blob service, without the SDK's long retries."""
    return BlobServiceClient.from_connection_string(azurite.connection_string, retry_total=0)


def queue_service(azurite: Azurite) -> QueueServiceClient:
    """A synchronous client of Azurite's queue service."""
    return QueueServiceClient.from_connection_string(azurite.connection_string, retry_total=0)


def container(azurite: Azurite, name: str, *, create: bool = True) -> ContainerClient:
    """A container client; the container is created unless ``create`` is False."""
    client = blob_service(azurite).get_container_client(name)
    if create and not client.exists():
        client.create_container()
    return client


def host_env(azurite: Azurite, host_id: str, **settings: str) -> dict[str, str]:
    """The environment of a host on Azurite, with its own host id and container settings."""
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": host_id,
        **settings,
    }


def wait_until(check: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def lines(host: Host, marker: str) -> list[dict[str, Any]]:
    """The JSON documents the app logged after ``marker`` (e.g. 'BLOB'), in order."""
    found = []
    for line in host.drain(0.05).splitlines():
        if f" {marker} " in line:
            found.append(json.loads(line.split(f" {marker} ", 1)[1]))
    return found


def poison_messages(azurite: Azurite, container_name: str) -> list[dict[str, Any]]:
    """The messages in webjobs-blobtrigger-poison for blobs of one container, decoded."""
    queue = queue_service(azurite).get_queue_client(POISON)
    found = []
    try:
        peeked = queue.peek_messages(max_messages=32)
    except Exception:  # the queue does not exist yet
        return []
    for message in peeked:
        doc = json.loads(base64.b64decode(message.content))
        if doc.get("ContainerName") == container_name:
            found.append(doc)
    return found
