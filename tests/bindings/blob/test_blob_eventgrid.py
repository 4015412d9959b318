"""A blob trigger with ``source="EventGrid"``: the blobs webhook queues, nothing is scanned."""

from __future__ import annotations

import json
import time
from typing import Any

from azurite import Azurite
from blob_helpers import container, host_env, lines, unique, wait_until
from conftest import APPS, Host, StartHost
from http_helpers import Reply, call

APP = APPS / "blob_triggers"


def webhook(host: Host, body: Any, kind: str = "Notification", name: str = "") -> Reply:
    """POST to /runtime/webhooks/blobs as Event Grid does."""
    function = name or "Host.Functions.from_event_grid"
    headers = {"Content-Type": "application/json", "aeg-event-type": kind}
    path = f"/runtime/webhooks/blobs?functionName={function}"
    return call(host, "POST", path, body=json.dumps(body), headers=headers)


def blob_created(url: str, etag: str) -> dict[str, Any]:
    """A Microsoft.Storage.BlobCreated event in the Event Grid schema."""
    return {
        "id": "8d7a1f3c-0001-0002-0003-000000000004",
        "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "subject": "/blobServices/default/containers/c/blobs/b",
        "eventType": "Microsoft.Storage.BlobCreated",
        "eventTime": "2026-01-01T00:00:00.0000000Z",
        "dataVersion": "",
        "metadataVersion": "1",
        "data": {
            "api": "PutBlob",
            "contentType": "text/plain",
            "contentLength": 5,
            "blobType": "BlockBlob",
            "eTag": etag.strip('"'),  # Event Grid sends it without quotes
            "url": url,
            "sequencer": "00000000000000000000000000000000000000000000000a",
        },
    }


def test_blob_created_events_run_the_function_and_scans_do_not(
    start_host: StartHost, azurite: Azurite
) -> None:
    grid = unique("eg")
    env = host_env(azurite, unique("bt"), B_EG=grid)
    host = start_host(APP, "--functions", "from_event_grid", env=env)
    host.wait_for(
        "from_event_grid: blobTrigger: http://localhost:"
        f"{host.port}/runtime/webhooks/blobs?functionName=Host.Functions.from_event_grid"
    )
    inbox = container(azurite, grid)
    inbox.upload_blob("unannounced.txt", b"never")
    announced = inbox.upload_blob("announced.txt", b"event")
    etag = announced.get_blob_properties().etag

    handshake = webhook(
        host, [{"data": {"validationCode": "512d38b6"}}], kind="SubscriptionValidation"
    )
    assert (handshake.status, handshake.json()) == (200, {"validationResponse": "512d38b6"})
    assert webhook(host, [blob_created(announced.url, etag)]).status == 202
    run = wait_until(lambda: lines(host, "EVENTGRID"), what="the run")[0]
    assert run["name"] == f"{grid}/announced.txt" and run["content"] == "event"
    assert f"(Reason='New blob detected(EventGrid): {grid}/announced.txt', Id=" in host.output

    # The short name is accepted too; an event for a blob that is gone runs nothing.
    gone = blob_created(announced.url.replace("announced", "deleted"), etag)
    assert webhook(host, gone, name="from_event_grid").status == 202
    assert webhook(host, {"data": {}}).status == 500  # not a blob event
    assert webhook(host, [], kind="Unsubscribe").status == 202
    time.sleep(2.0)  # many scan intervals: unannounced.txt is never found by a scan
    assert [r["name"] for r in lines(host, "EVENTGRID")] == [f"{grid}/announced.txt"]
