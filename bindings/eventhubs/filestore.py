"""Event Hubs checkpoints and partition ownership in local files, for apps without storage.

With ``AzureWebJobsStorage`` unset (or the development storage not to be had), the trigger keeps
what the blob checkpoint store would keep in ``azure-webjobs-eventhub`` in files under the state
folder (``.funchost/state/eventhubs/``), one JSON file per blob, named as the blob is:
``<namespace>/<hub>/<consumer group>/ownership/<partition>`` and ``.../checkpoint/<partition>``
(lower case; characters a file name cannot hold are %-escaped). It implements the SDK's
``CheckpointStore``, so the SDK's own load balancer runs over it: ownership is claimed with
the same optimistic concurrency as blobs (an etag per file, compared and replaced under an
exclusive ``flock`` of the consumer group's folder), so several processes on one machine share
the partitions as they would over storage.

This module imports the SDK: the listener imports it only when it builds a store.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from azure.eventhub.aio import CheckpointStore

try:
    import fcntl
except ImportError:  # Windows: one process per state folder (nothing else to lock against)
    fcntl = None  # type: ignore[assignment]

OWNERSHIP = "ownership"
CHECKPOINT = "checkpoint"


class FileCheckpointStore(CheckpointStore):
    """The SDK's CheckpointStore over JSON files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- ownership -------------------------------------------------------------------------

    async def list_ownership(
        self, fully_qualified_namespace: str, eventhub_name: str, consumer_group: str, **kwargs: Any
    ) -> Iterable[dict[str, Any]]:
        """Every ownership record of the consumer group."""
        folder = self._folder(fully_qualified_namespace, eventhub_name, consumer_group)
        with self._locked(folder):
            return [
                {**record, **_names(fully_qualified_namespace, eventhub_name, consumer_group)}
                for record in _records(folder / OWNERSHIP)
            ]

    async def claim_ownership(
        self, ownership_list: Iterable[dict[str, Any]], **kwargs: Any
    ) -> Iterable[dict[str, Any]]:
        """Claim each partition whose stored etag is the one given (or none is stored yet)."""
        claimed = []
        for wanted in ownership_list:
            folder = self._folder(
                wanted["fully_qualified_namespace"],
                wanted["eventhub_name"],
                wanted["consumer_group"],
            )
            with self._locked(folder):
                record = self._claim_one(folder / OWNERSHIP, wanted)
            if record is not None:
                claimed.append(record)
        return claimed

    def _claim_one(self, folder: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
        path = folder / _file_name(wanted["partition_id"])
        current = _read(path)
        stored_etag = None if current is None else current.get("etag")
        if stored_etag != wanted.get("etag"):
            return None  # somebody claimed it since it was listed: lost, as a 412 would say
        record = dict(wanted)
        record["etag"] = uuid.uuid4().hex
        record["last_modified_time"] = time.time()
        _write(
            path,
            {k: record[k] for k in ("partition_id", "owner_id", "etag")}
            | {"last_modified_time": record["last_modified_time"]},
        )
        return record

    # --- checkpoints -----------------------------------------------------------------------

    async def update_checkpoint(self, checkpoint: dict[str, Any], **kwargs: Any) -> None:
        """Write the partition's checkpoint (offset as a string, as the blob store keeps it)."""
        folder = self._folder(
            checkpoint["fully_qualified_namespace"],
            checkpoint["eventhub_name"],
            checkpoint["consumer_group"],
        )
        record = {
            "partition_id": checkpoint["partition_id"],
            "offset": str(checkpoint["offset"]),
            "sequence_number": int(checkpoint["sequence_number"]),
        }
        _write(folder / CHECKPOINT / _file_name(str(checkpoint["partition_id"])), record)

    async def list_checkpoints(
        self, fully_qualified_namespace: str, eventhub_name: str, consumer_group: str, **kwargs: Any
    ) -> Iterable[dict[str, Any]]:
        """Every checkpoint of the consumer group."""
        folder = self._folder(fully_qualified_namespace, eventhub_name, consumer_group)
        names = _names(fully_qualified_namespace, eventhub_name, consumer_group)
        return [{**record, **names} for record in _records(folder / CHECKPOINT)]

    # --- files -----------------------------------------------------------------------------

    def _folder(self, namespace: str, hub: str, group: str) -> Path:
        return self.root.joinpath(*(_file_name(part) for part in (namespace, hub, group)))

    @contextlib.contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        """An exclusive flock of the consumer group's folder: claims compare and swap in it."""
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _names(namespace: str, hub: str, group: str) -> dict[str, str]:
    return {
        "fully_qualified_namespace": namespace,
        "eventhub_name": hub,
        "consumer_group": group,
    }


def _file_name(part: str) -> str:
    """Lower case as the blob names are; what a file name cannot hold (``:``, ``/``) escaped."""
    return quote(part.lower(), safe="$-_.")


def _records(folder: Path) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    found = (_read(path) for path in sorted(folder.iterdir()) if not path.name.startswith("."))
    return [record for record in found if record is not None]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None  # a file cut short cannot be: writes are atomic; unreadable is absent
    return record if isinstance(record, dict) else None


def _write(path: Path, record: dict[str, Any]) -> None:
    """Atomically: a crash mid-write leaves the previous record, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(record), encoding="utf-8")
    os.replace(partial, path)
