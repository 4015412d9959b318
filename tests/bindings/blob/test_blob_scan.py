"""The container scan in-process on Azurite, with scan info kept as for a real account.

``funchost start`` keeps no scan info on Azurite (the host does not either), so the path a
real account takes is driven here directly: a first scanner sees everything and stores the
newest time minus 1 ms, a second one starts from it and hands over only the blobs at least
that new: the newest ones again (the safety window; receipts make it harmless) and the new.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from azurite import Azurite
from blob_helpers import container, unique

from funchost.bindings.blob.paths import BlobPath
from funchost.bindings.blob.receipts import HOSTS_CONTAINER, ScanInfoStore, parse_iso
from funchost.bindings.blob.scan import BlobScanner
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.singleton import FileListenerLock
from funchost.bindings.shared.storage import blob_service_client, close_clients


class Recorder:
    """A handover that records what it was given and succeeds."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def execute(self, path: BlobPath, poll_id: str | None) -> bool:
        self.seen.append(path.name)
        return True


async def _scan(connection: Connection, name: str, host_id: str, lock: Path) -> list[str]:
    hosts = blob_service_client(connection).get_container_client(HOSTS_CONTAINER)
    locker = FileListenerLock(lock, "lock")
    scanner = BlobScanner(locker, ScanInfoStore(hosts, host_id), interval=60)
    recorder = Recorder()
    scanner.register(connection, name, recorder)
    assert await locker.try_acquire()
    await scanner._poll()  # one poll, as the scan loop runs it
    await locker.release()
    return recorder.seen


def test_scan_info_lets_a_restart_skip_what_was_seen(azurite: Azurite, tmp_path: Path) -> None:
    name, host_id = unique("scan"), unique("h")
    connection = Connection("AzureWebJobsStorage", "AzureWebJobsStorage", azurite.connection_string)
    box = container(azurite, name)
    box.upload_blob("older.txt", b"older")
    time.sleep(1.1)  # blob times have whole seconds
    box.upload_blob("old.txt", b"old")

    async def scenario() -> tuple[list[str], list[str]]:
        try:
            first = await _scan(connection, name, host_id, tmp_path / "lock")
            await asyncio.sleep(1.1)
            box.upload_blob("new.txt", b"new")
            second = await _scan(connection, name, host_id, tmp_path / "lock")
            return first, second
        finally:
            await close_clients()

    first, second = asyncio.run(scenario())
    assert first == ["old.txt", "older.txt"]
    assert second == ["new.txt", "old.txt"]  # not older.txt
    account = "devstoreaccount1"
    info = container(azurite, HOSTS_CONTAINER, create=False).get_blob_client(
        f"blobscaninfo/{host_id}/{account}/{name}/scanInfo"
    )
    stored = parse_iso(json.loads(info.download_blob().readall())["LatestScan"])
    modified = box.get_blob_client("new.txt").get_blob_properties().last_modified
    assert (modified - stored).total_seconds() == 0.001  # the newest time, minus 1 ms
