"""The HTTP proxy in front of cosmosdb-server: forwards everything, keeps the change log.

Beside forwarding, it (1) points the account's locations at itself so the SDK's endpoint
discovery stays on the proxy, (2) records each document write the server acknowledged,
(3) answers change-feed reads from that record, and (4) turns cosmosdb-server's 500 for a
point read of a missing document into the 404 the service gives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from .changefeed import FeedRequest, FeedRequestError, answer
from .feed import ContainerLog, normalize_partition_key
from .scoping import scope_query

log = logging.getLogger("cosmos-peer")

# Headers that belong to one hop; aiohttp sets its own.
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
DOCS = re.compile(r"^dbs/([^/]+)/colls/([^/]+)/docs$")
DOC = re.compile(r"^dbs/([^/]+)/colls/([^/]+)/docs/([^/]+)$")
PKRANGES = re.compile(r"^dbs/([^/]+)/colls/([^/]+)/pkranges$")
COLL = re.compile(r"^dbs/([^/]+)/colls/([^/]+)$")
DB = re.compile(r"^dbs/([^/]+)$")
# cosmosdb-server 1.0.1 dereferences the missing document while checking the partition key.
MISSING_DOC_500 = "Cannot read properties of undefined"
ContainerKey = tuple[str, str]
# cosmosdb-server has one physical partition: one key range, "0", from "" to "FF".
ONLY_RANGE = "0"


@dataclass
class Forwarded:
    """The inner server's answer, read in full."""

    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (None when it is not)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def response(self) -> web.Response:
        """The answer as the proxy's own response."""
        return web.Response(status=self.status, headers=self.headers, body=self.body)


class CosmosProxy:
    """One proxy, one inner server, one change log per container."""

    def __init__(self, inner_url: str, public_url: str) -> None:
        self.inner_url = inner_url.rstrip("/")
        self.public_url = public_url
        self.logs: dict[ContainerKey, ContainerLog] = {}
        self.definitions: dict[ContainerKey, dict[str, Any]] = {}
        self.locks: dict[ContainerKey, asyncio.Lock] = {}
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the client session to the inner server (inside the running loop)."""
        self.session = aiohttp.ClientSession(auto_decompress=False)

    async def close(self) -> None:
        """Close the client session."""
        if self.session is not None:
            await self.session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every request: route the few the peer treats itself, forward the rest."""
        path = request.rel_url.raw_path.strip("/")
        method = request.method
        if method == "GET" and path == "":
            return await self._account(request)
        if docs := DOCS.match(path):
            key = _names(docs)
            if method == "GET" and "A-IM" in request.headers:
                return await self._change_feed(request, key)
            if method == "POST" and not _is_query(request.headers):
                return await self._write(request, key)
            if method == "POST" and "x-ms-documentdb-partitionkey" in request.headers:
                return await self._scoped_query(request, key)
        if method == "GET" and PKRANGES.match(path):
            return await self._partition_key_ranges(request)
        if doc := DOC.match(path):
            return await self._document(request, _names(doc))
        if method == "DELETE" and (coll := COLL.match(path)):
            return await self._drop(request, lambda key: key == _names(coll))
        if method == "DELETE" and (db := DB.match(path)):
            return await self._drop(request, lambda key: key[0] == unquote(db.group(1)))
        return (await self.forward(request)).response()

    async def forward(self, request: web.Request, body: bytes | None = None) -> Forwarded:
        """Send the request to the inner server unchanged and read its whole answer."""
        assert self.session is not None, "CosmosProxy.start() was not awaited"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        data = await request.read() if body is None else body
        url = self.inner_url + request.rel_url.raw_path_qs
        async with self.session.request(
            request.method, url, headers=headers, data=data, allow_redirects=False
        ) as inner:
            payload = await inner.read()
            return Forwarded(inner.status, _response_headers(inner.headers), payload)

    async def _account(self, request: web.Request) -> web.StreamResponse:
        answer_ = await self.forward(request)
        account = answer_.json()
        if answer_.status == 200 and isinstance(account, dict):
            for kind in ("writableLocations", "readableLocations"):
                for location in account.get(kind, []):
                    location["databaseAccountEndpoint"] = self._url_as_reached(request)
            answer_.body = json.dumps(account).encode()
        return answer_.response()

    def _url_as_reached(self, request: web.Request) -> str:
        """The address the client used (as a reverse proxy answers), so a client reaching the
        peer through a relay (the fault suite's outages) keeps going through it."""
        host = request.headers.get("Host", "")
        return f"http://{host}/" if host.startswith("127.0.0.1:") else self.public_url

    async def _partition_key_ranges(self, request: web.Request) -> web.StreamResponse:
        # cosmosdb-server numbers its one range 0; the service's ids are strings ("0"), and
        # consumers that name leases after them expect strings.
        answer_ = await self.forward(request)
        ranges = answer_.json()
        if answer_.status == 200 and isinstance(ranges, dict):
            for pk_range in ranges.get("PartitionKeyRanges", []):
                pk_range["id"] = str(pk_range.get("id"))
                pk_range["parents"] = [str(parent) for parent in pk_range.get("parents", [])]
            answer_.body = json.dumps(ranges).encode()
        return answer_.response()

    async def _scoped_query(self, request: web.Request, key: ContainerKey) -> web.StreamResponse:
        # cosmosdb-server ignores the partition key header of a query: write it into the query.
        definition = await self._definition(key)
        if isinstance(definition, Forwarded):
            return definition.response()
        query = json.loads(await request.read())
        paths = list(definition["partitionKey"].get("paths", []))
        header = request.headers["x-ms-documentdb-partitionkey"]
        scoped = scope_query(query, header, paths) if isinstance(query, dict) else query
        return (await self.forward(request, json.dumps(scoped).encode())).response()

    async def _write(self, request: web.Request, key: ContainerKey) -> web.StreamResponse:
        body = await _batch_with_partition_keys(request)
        return (await asyncio.shield(self._forward_write(request, key, body))).response()

    async def _forward_write(
        self, request: web.Request, key: ContainerKey, body: bytes | None = None
    ) -> Forwarded:
        """Forward a write and record it; shielded by callers, so a client that hangs up
        cannot leave a write the server applied out of the record."""
        # Writes to one container pass one at a time, so the record's order is the server's.
        async with self._lock(key):
            answer_ = await self.forward(request, body)
            if answer_.status >= 300:
                return answer_
            if request.method == "DELETE":
                pk = normalize_partition_key(request.headers.get("x-ms-documentdb-partitionkey"))
                doc_id = unquote(request.rel_url.raw_path.rstrip("/").rsplit("/", 1)[1])
                self.logs.setdefault(key, ContainerLog()).remove(pk, doc_id)
            else:
                await self._record(request, key, answer_)
        return answer_

    async def _record(self, request: web.Request, key: ContainerKey, answer_: Forwarded) -> None:
        pk = normalize_partition_key(request.headers.get("x-ms-documentdb-partitionkey"))
        body = answer_.json()
        container = self.logs.setdefault(key, ContainerLog())
        if isinstance(body, dict):
            container.record(pk, body)
        elif isinstance(body, list):  # a transactional batch: one result per operation
            operations = json.loads(await request.read())
            for operation, result in zip(operations, body, strict=False):
                _record_batch_result(container, pk, operation, result)

    async def _document(self, request: web.Request, key: ContainerKey) -> web.StreamResponse:
        if request.method == "GET":
            answer_ = await self.forward(request)
            if answer_.status == 500 and MISSING_DOC_500 in answer_.body.decode(errors="replace"):
                return _not_found()
            return answer_.response()
        if request.method not in ("PUT", "PATCH", "DELETE"):
            return (await self.forward(request)).response()
        return (await asyncio.shield(self._forward_write(request, key))).response()

    async def _drop(
        self, request: web.Request, dropped: Callable[[ContainerKey], bool]
    ) -> web.StreamResponse:
        answer_ = await self.forward(request)
        if answer_.status < 300:
            for key in [key for key in self.logs.keys() | self.definitions.keys() if dropped(key)]:
                self.logs.pop(key, None)
                self.definitions.pop(key, None)
        return answer_.response()

    async def _change_feed(self, request: web.Request, key: ContainerKey) -> web.StreamResponse:
        try:
            feed = FeedRequest.parse(request.headers)
        except FeedRequestError as error:
            return _error(400, "BadRequest", str(error))
        range_id = request.headers.get("x-ms-documentdb-partitionkeyrangeid", ONLY_RANGE)
        if range_id != ONLY_RANGE:
            return _range_gone(range_id)
        definition = await self._definition(key)
        if isinstance(definition, Forwarded):
            return definition.response()
        page = answer(feed, self.logs.setdefault(key, ContainerLog()), definition["partitionKey"])
        body = page.body(str(definition.get("_rid", "")))
        return web.Response(status=page.status, headers=page.headers(), body=body)

    async def _definition(self, key: ContainerKey) -> dict[str, Any] | Forwarded:
        """The container's properties (cached), or the server's answer when it has none."""
        if key in self.definitions:
            return self.definitions[key]
        assert self.session is not None
        path = f"/dbs/{quote(key[0], safe='')}/colls/{quote(key[1], safe='')}"
        async with self.session.get(self.inner_url + path) as inner:
            payload = await inner.read()
            if inner.status != 200:
                return Forwarded(inner.status, _response_headers(inner.headers), payload)
        definition: dict[str, Any] = json.loads(payload)
        definition.setdefault("partitionKey", {"paths": [], "kind": "Hash"})
        self.definitions[key] = definition
        return definition

    def _lock(self, key: ContainerKey) -> asyncio.Lock:
        return self.locks.setdefault(key, asyncio.Lock())


def _names(match: re.Match[str]) -> ContainerKey:
    return unquote(match.group(1)), unquote(match.group(2))


async def _batch_with_partition_keys(request: web.Request) -> bytes | None:
    """A batch's body with the header's partition key on each operation, else None.

    The SDK sends a batch's partition key once, as the header (as the service expects);
    cosmosdb-server reads it from each operation and fails without it.
    """
    if request.headers.get("x-ms-cosmos-is-batch-request", "").lower() != "true":
        return None
    operations = json.loads(await request.read())
    pk = request.headers.get("x-ms-documentdb-partitionkey")
    if pk is None or not isinstance(operations, list):
        return None
    for operation in operations:
        if isinstance(operation, dict):
            operation.setdefault("partitionKey", pk)
    return json.dumps(operations).encode()


def _record_batch_result(container: ContainerLog, pk: str, operation: Any, result: Any) -> None:
    if not isinstance(result, dict) or int(result.get("statusCode", 500)) >= 300:
        return
    resource = result.get("resourceBody")
    if isinstance(resource, dict) and "id" in resource:
        container.record(pk, resource)
    elif isinstance(operation, dict) and str(operation.get("operationType")).lower() == "delete":
        container.remove(pk, str(operation.get("id", "")))


def _is_query(headers: CIMultiDictProxy[str]) -> bool:
    return headers.get("x-ms-documentdb-isquery", "").lower() == "true" or headers.get(
        "Content-Type", ""
    ).startswith("application/query+json")


def _response_headers(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in HOP_HEADERS)


def _error(status: int, code: str, message: str) -> web.Response:
    body = json.dumps({"code": code, "message": message}).encode()
    headers = {"content-type": "application/json", "x-ms-activity-id": str(uuid.uuid4())}
    return web.Response(status=status, headers=headers, body=body)


def _range_gone(range_id: str) -> web.Response:
    gone = _error(
        410, "Gone", f"partition key range {range_id!r} does not exist (the peer has '0')"
    )
    gone.headers["x-ms-substatus"] = "1002"  # PartitionKeyRangeGone: the SDK re-reads the ranges
    return gone


def _not_found() -> web.Response:
    return _error(404, "NotFound", "Entity with the specified id does not exist in the system.")
