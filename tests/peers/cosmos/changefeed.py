"""Change-feed reads ("latest version" mode) answered from a ``ContainerLog``.

What the SDK (azure-cosmos 4.17.1) sends on ``GET .../docs`` with ``A-IM: Incremental Feed``:
- ``If-None-Match``: absent = from the beginning, ``*`` = from now, otherwise the ``etag`` of
  the previous answer (the SDK keeps it inside its own base64 continuation token and sends only
  the etag; a V1 continuation is the bare etag, recognised by the SDK because it is digits);
- ``If-Modified-Since``: start time (sent on every request of a point-in-time read, beside the
  etag once there is one: both apply);
- ``x-ms-max-item-count``; ``x-ms-documentdb-partitionkeyrangeid``;
- for a feed range narrower than the physical range (``partition_key=`` or a sub-range):
  ``x-ms-read-key-type: EffectivePartitionKeyRange`` with ``x-ms-start-epk``/``x-ms-end-epk``.
What it reads back: the body's ``Documents`` and the ``etag`` header (its only continuation).
"""

from __future__ import annotations

import email.utils
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.cosmos.partition_key import _get_partition_key_from_partition_key_definition

from .feed import ContainerLog, Entry, normalize_partition_key

INCREMENTAL = "incremental feed"


class FeedRequestError(ValueError):
    """A change-feed request the peer cannot answer (the message says which header)."""


@dataclass(frozen=True)
class FeedRequest:
    """The parts of a change-feed request that choose the window."""

    after: int | None  # None: from now
    since: float | None  # epoch seconds, from If-Modified-Since
    limit: int | None
    epk: tuple[str, str] | None
    partition_key: str | None  # a V1 read scoped to one key sends it as the usual header

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> FeedRequest:
        """Read the window from the request headers."""
        mode = headers.get("A-IM", "").lower()
        if mode != INCREMENTAL:
            raise FeedRequestError(
                f"A-IM {headers.get('A-IM')!r}: the test peer implements only 'Incremental Feed'"
                " (latest version); all-versions-and-deletes is not supported"
            )
        pk = headers.get("x-ms-documentdb-partitionkey")
        scope = normalize_partition_key(pk) if pk else None
        return cls(_after(headers), _since(headers), _limit(headers), _epk(headers), scope)


def _after(headers: Mapping[str, str]) -> int | None:
    etag = headers.get("If-None-Match")
    if etag is None:
        return 0
    if etag.strip() == "*":
        return None
    bare = etag.strip().removeprefix("W/").strip("'\"")
    if not bare.isdigit():
        raise FeedRequestError(f"If-None-Match {etag!r}: expected '*' or an etag this peer gave")
    return int(bare)


def _since(headers: Mapping[str, str]) -> float | None:
    value = headers.get("If-Modified-Since")
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError) as error:
        raise FeedRequestError(f"If-Modified-Since {value!r}: expected an HTTP date") from error


def _limit(headers: Mapping[str, str]) -> int | None:
    value = headers.get("x-ms-max-item-count")
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError as error:
        raise FeedRequestError(f"x-ms-max-item-count {value!r}: expected an integer") from error
    return count if count > 0 else None


def _epk(headers: Mapping[str, str]) -> tuple[str, str] | None:
    if headers.get("x-ms-read-key-type", "").lower() != "effectivepartitionkeyrange":
        return None
    return headers.get("x-ms-start-epk", ""), headers.get("x-ms-end-epk", "FF")


@dataclass(frozen=True)
class FeedAnswer:
    """Status, continuation etag and documents (empty on 304)."""

    status: int
    etag: str
    documents: list[dict[str, Any]]

    def body(self, container_rid: str) -> bytes:
        """The JSON body the SDK reads (nothing on 304)."""
        if self.status == 304:
            return b""
        payload = {
            "_rid": container_rid,
            "Documents": self.documents,
            "_count": len(self.documents),
        }
        return json.dumps(payload).encode()

    def headers(self) -> dict[str, str]:
        """Response headers: the etag is the SDK's continuation."""
        headers = {
            "etag": self.etag,
            "x-ms-activity-id": str(uuid.uuid4()),
            "x-ms-request-charge": "1",
        }
        if self.status != 304:
            headers |= {
                "content-type": "application/json",
                "x-ms-item-count": str(len(self.documents)),
            }
        return headers


def answer(request: FeedRequest, log: ContainerLog, partition_key: dict[str, Any]) -> FeedAnswer:
    """Read one page of the window the request names."""
    if request.after is None:
        return FeedAnswer(304, _etag(log.lsn), [])
    docs, lsn = log.read(request.after, request.limit, _filter(request, partition_key))
    return FeedAnswer(200 if docs else 304, _etag(lsn), docs)


def _etag(lsn: int) -> str:
    # Quoted digits, as the service sends: the SDK tells a V1 continuation by its digits.
    return f'"{lsn}"'


def _filter(request: FeedRequest, partition_key: dict[str, Any]) -> Callable[[Entry], bool]:
    in_range = _epk_filter(request.epk, partition_key)
    since, scope = request.since, request.partition_key

    def keep(entry: Entry) -> bool:
        if since is not None and float(entry.doc.get("_ts", 0)) < since:
            return False
        if scope is not None and entry.partition_key != scope:
            return False
        return in_range(entry)

    return keep


def _epk_filter(
    bounds: tuple[str, str] | None, definition: dict[str, Any]
) -> Callable[[Entry], bool]:
    if bounds is None:
        return lambda entry: True
    start, end = bounds
    hasher = _get_partition_key_from_partition_key_definition(definition)

    def in_range(entry: Entry) -> bool:
        values = json.loads(entry.partition_key) if entry.partition_key else []
        epk = str(hasher._get_effective_partition_key_string(values))
        # The SDK sends a single key's range as start == end (inclusive); others are [start, end).
        return epk == start if start == end else start <= epk < end

    return in_range
