"""The change log behind the peer's change feed: every document write, per container, by LSN.

Cosmos DB's "latest version" change feed shows each document once per read, at its latest
version and at that version's position (LSN); deletes are not in it. The log keeps an
append-only list of (LSN, document key) plus each key's latest entry, so a read after LSN L
is a bisect and a walk over what came after, skipping entries a later write superseded.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A document is one (partition key, id) pair; the partition key is the request header's JSON.
DocKey = tuple[str, str]


@dataclass
class Entry:
    """A document's latest version as the server returned it, with the LSN the log gave it."""

    lsn: int
    doc: dict[str, Any]
    partition_key: str


@dataclass
class ContainerLog:
    """The writes to one container, in the order the server applied them."""

    lsn: int = 0
    _order: list[tuple[int, DocKey]] = field(default_factory=list)
    _latest: dict[DocKey, Entry] = field(default_factory=dict)

    def record(self, partition_key: str, doc: dict[str, Any]) -> int:
        """A create/upsert/replace/patch answered with ``doc``: its new LSN."""
        self.lsn += 1
        doc = {**doc, "_lsn": self.lsn}
        key = (partition_key, str(doc.get("id", "")))
        self._latest[key] = Entry(self.lsn, doc, partition_key)
        self._order.append((self.lsn, key))
        return self.lsn

    def remove(self, partition_key: str, doc_id: str) -> None:
        """A delete: the document leaves the feed (latest-version mode never shows deletes)."""
        self._latest.pop((partition_key, doc_id), None)

    def read(
        self, after: int, limit: int | None, keep: Callable[[Entry], bool]
    ) -> tuple[list[dict[str, Any]], int]:
        """Documents whose latest LSN is above ``after``, in LSN order, and the continuation LSN.

        The continuation is the LSN of the last document returned when ``limit`` cut the page
        short, otherwise the container's current LSN (everything up to it has been seen).
        """
        docs: list[dict[str, Any]] = []
        start = bisect.bisect_right(self._order, after, key=lambda item: item[0])
        for index in range(start, len(self._order)):
            lsn, key = self._order[index]
            entry = self._latest.get(key)
            if entry is None or entry.lsn != lsn or not keep(entry):
                continue
            if limit is not None and len(docs) >= limit:
                return docs, int(docs[-1]["_lsn"])
            docs.append(entry.doc)
        return docs, self.lsn


def normalize_partition_key(header: str | None) -> str:
    """The ``x-ms-documentdb-partitionkey`` header in one canonical spelling ("" when absent)."""
    if not header:
        return ""
    try:
        return json.dumps(json.loads(header), separators=(",", ":"), sort_keys=True)
    except ValueError:
        return header
