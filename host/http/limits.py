"""The Functions host's HTTP limits: the request queue of extensions.http and the body size.

``maxConcurrentRequests`` and ``maxOutstandingRequests`` behave as the host's
``HttpRequestQueue`` (azure-functions-host ``WebJobs.Script.WebHost/HttpRequestQueue.cs``): a
Dataflow ``ActionBlock`` whose ``MaxDegreeOfParallelism`` is the first and ``BoundedCapacity``
the second. Requests beyond the concurrency limit wait their turn in order; one that would make
running plus waiting exceed the outstanding limit is answered 429 at once, with the host's
``X-FUNCTION-SCALEOUT: 1`` header and log line. ``HttpThrottleMiddleware`` skips /admin, so
does this; everything else counts, including a 404. Both default to -1 (unbounded) everywhere
but Windows Consumption, where the host picks 100 and 200 (``HttpOptionsSetup``).

The body limit is the host's app setting ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`` (bytes, default
104857600 = 100 MB, Kestrel's MaxRequestBodySize as ``HttpRequestSizeMiddleware`` sets it).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping

from aiohttp import web

from funchost.errors import ConfigError
from funchost.host.hostjson import UNBOUNDED, HttpConfig
from funchost.host.http.server import MAX_BODY_BYTES, Middleware, WebHandler

log = logging.getLogger("funchost.host")

BODY_LIMIT_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
_BODY_LIMIT_EXPECTED = f"a whole number of bytes of at least 1 (default {MAX_BODY_BYTES}: 100 MB)"
_THROTTLE_CATEGORY = {"category": "Host.HttpThrottleMiddleware"}
_SCALE_OUT = {"X-FUNCTION-SCALEOUT": "1"}  # what the host adds to its 429 for the front end


def middlewares(http: HttpConfig, settings: Mapping[str, str]) -> list[Middleware]:
    """The request queue and the body limit, each only when configured."""
    if http.dynamic_throttles_enabled:
        log.warning(
            "extensions.http.dynamicThrottlesEnabled is true, but funchost does not implement "
            "dynamic throttles (429 while the instance's CPU, memory, threads or connections "
            "are over their thresholds) and ignores it."
        )
    configured: list[Middleware] = []
    if http.max_concurrent_requests != UNBOUNDED or http.max_outstanding_requests != UNBOUNDED:
        queue = RequestQueue(http.max_concurrent_requests, http.max_outstanding_requests)
        configured.append(queue)
    limit = body_limit(settings)
    if limit != MAX_BODY_BYTES:
        configured.append(BodyLimit(limit))
    return configured


def body_limit(settings: Mapping[str, str]) -> int:
    """FUNCTIONS_REQUEST_BODY_SIZE_LIMIT in bytes, or the host's 100 MB default."""
    raw = settings.get(BODY_LIMIT_SETTING, "")
    text = raw.strip()
    if not text:
        return MAX_BODY_BYTES
    # The host ignores a value long.TryParse rejects; funchost says so instead.
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        source = "local.settings.json Values or the environment"
        raise ConfigError(source, BODY_LIMIT_SETTING, raw, _BODY_LIMIT_EXPECTED)
    return int(text)


def is_admin_path(path: str) -> bool:
    """/admin and below, case-insensitively, as the host's IsAdminRequest() tells them."""
    head = path[:7].lower()
    return head in ("/admin/", "/admin")


class RequestQueue:
    """maxConcurrentRequests running at once, maxOutstandingRequests running plus waiting."""

    def __init__(self, max_concurrent: int, max_outstanding: int) -> None:
        self.max_outstanding = max_outstanding
        self._capacity = sys.maxsize if max_outstanding == UNBOUNDED else max_outstanding
        # A FIFO semaphore: waiters are let in in the order they came.
        self._slots = None if max_concurrent == UNBOUNDED else asyncio.Semaphore(max_concurrent)
        self.outstanding = 0

    async def __call__(self, request: web.BaseRequest, handler: WebHandler) -> web.StreamResponse:
        """Run the request when a slot is free; 429 when the queue is full."""
        if is_admin_path(request.path):
            return await handler(request)
        if self.outstanding >= self._capacity:
            log.info(
                "Http request queue limit of %d has been exceeded.",
                self.max_outstanding,
                extra=_THROTTLE_CATEGORY,
            )
            return web.Response(status=429, headers=_SCALE_OUT)
        self.outstanding += 1
        try:
            if self._slots is None:
                return await handler(request)
            async with self._slots:
                return await handler(request)
        finally:
            self.outstanding -= 1


class BodyLimit:
    """413 for a body over the limit: at once when Content-Length says so, else as it is read."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def __call__(self, request: web.BaseRequest, handler: WebHandler) -> web.StreamResponse:
        """Refuse a declared oversize body unread; bound the reading of the others."""
        length = request.content_length
        if length is None:
            if request.body_exists:  # chunked: aiohttp counts while the function's body is read
                request = request.clone(client_max_size=self.limit)
        elif length > self.limit:
            raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=length)
        elif length > MAX_BODY_BYTES:  # a limit above the server's default: lift that cap
            request = request.clone(client_max_size=self.limit)
        return await handler(request)
