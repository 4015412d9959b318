"""CORS from ``--cors`` / Host.CORS and ``--cors-credentials``, as ``func start`` applies it.

Core Tools (``Actions/HostActions/Startup.cs``) calls ASP.NET Core's
``UseCors(b => b.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod()[.AllowCredentials()])``
ahead of the whole host, so this follows ASP.NET Core's ``CorsMiddleware`` and ``CorsService``:

- A request without ``Origin`` passes untouched. Without ``--cors`` no middleware is installed
  at all, and an OPTIONS request is routed to the functions like any other verb.
- A preflight (OPTIONS with ``Origin`` and ``Access-Control-Request-Method``) never reaches a
  function: it is answered 204, with the CORS headers only when the origin is allowed.
- Any other request from an allowed origin gets ``Access-Control-Allow-Origin`` (and
  ``Access-Control-Allow-Credentials: true``) on whatever answers it: the function, a 404,
  a 500, a 413 or a 429. A disallowed origin gets a response without CORS headers.
- ``*`` sends ``Access-Control-Allow-Origin: *``; ``*`` with credentials is refused at
  start-up, as ASP.NET refuses that policy (Core Tools then fails to start with an unrelated
  "Cannot access a disposed object" error, azure-functions-core-tools#2471 and #2810).
- No wildcard subdomains: Core Tools never calls ``SetIsOriginAllowedToAllowWildcardSubdomains``,
  so ``https://*.example.com`` matches nothing; funchost says so at start-up.

Where ``func start`` silently matches nothing, funchost matches what was meant: origins compare
case-insensitively, a trailing ``/`` and a default port (``:80``, ``:443``) in the configuration
are ignored, and ``*`` anywhere in the list allows any origin (ASP.NET only treats a lone ``*``
so). ``Vary: Origin`` goes with every echoed origin (ASP.NET leaves it out when one origin is
configured), so a cache never serves one origin's answer to another.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from multidict import CIMultiDict

from funchost.errors import ConfigError
from funchost.host.http.server import Middleware, WebHandler
from funchost.host.options import StartOptions

log = logging.getLogger("funchost.host")

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CREDENTIALS_EXPECTED = (
    "a list of origins such as http://localhost:3000 while --cors-credentials "
    "(Host.CORSCredentials) is on: browsers refuse credentials with "
    "'Access-Control-Allow-Origin: *', and func start refuses this policy too"
)


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may call the host, and whether they may send credentials."""

    origins: frozenset[str]  # as normalize_origin() leaves them
    any_origin: bool
    credentials: bool

    def allows(self, origin: str) -> bool:
        """Whether a request's Origin header is allowed (case-insensitively)."""
        return self.any_origin or origin in self.origins or origin.lower() in self.origins


def build_policy(origins: Sequence[str], credentials: bool) -> CorsPolicy | None:
    """The policy for the configured origins; None when CORS is off (no origins)."""
    if not origins:
        return None
    any_origin = ANY_ORIGIN in (origin.strip() for origin in origins)
    if any_origin and credentials:
        raise ConfigError("CORS", "--cors (Host.CORS)", ",".join(origins), _CREDENTIALS_EXPECTED)
    for origin in origins:
        problem = _never_matches(origin.strip())
        if problem:
            log.warning("CORS origin '%s' never matches: %s.", origin, problem)
    normalized = frozenset(normalize_origin(origin) for origin in origins)
    return CorsPolicy(normalized, any_origin, credentials)


def normalize_origin(origin: str) -> str:
    """Lower case, no trailing slash, no default port, an IDN host in punycode."""
    text = origin.strip().rstrip("/").lower()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or parts.path or parts.query:
        return text  # another scheme (capacitor://, app://) or not an origin: kept as written
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return text
    if ":" in host:
        host = f"[{host}]"  # IPv6
    suffix = "" if port is None or port == _DEFAULT_PORTS[parts.scheme] else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def _never_matches(origin: str) -> str:
    """Why a configured origin can never equal a browser's Origin header, or ''."""
    if origin == ANY_ORIGIN or origin.lower() == "null":
        return ""
    if "*" in origin:
        return (
            "wildcards are not supported (func start does not enable wildcard subdomains); "
            "list each origin"
        )
    if "://" not in origin:
        return "an origin starts with its scheme, like http://localhost:3000"
    parts = urlsplit(origin.rstrip("/"))
    if parts.scheme.lower() in _DEFAULT_PORTS and (parts.path or parts.query):
        return "an origin is scheme://host[:port], without a path"
    return ""


def middlewares(options: StartOptions) -> list[Middleware]:
    """The CORS middleware for these options; none when CORS is not configured."""
    policy = build_policy(options.cors, options.cors_credentials)
    return [] if policy is None else [CorsMiddleware(policy)]


class CorsMiddleware:
    """An aiohttp middleware applying one policy; what does not depend on the request is fixed."""

    def __init__(self, policy: CorsPolicy) -> None:
        self._policy = policy
        self._allow_origin = ANY_ORIGIN if policy.any_origin else None  # None: echo the origin
        self._fixed = {hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS: "true"} if policy.credentials else {}

    async def __call__(self, request: web.BaseRequest, handler: WebHandler) -> web.StreamResponse:
        """Answer a preflight; put the CORS headers on the answer to an allowed origin."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return await handler(request)
        if request.method == hdrs.METH_OPTIONS and (
            hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        ):
            return self._preflight(request, origin)
        if not self._policy.allows(origin):
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a 413 and the like: the page should see it too
            self._apply(exc.headers, origin)
            raise
        if not response.prepared:
            self._apply(response.headers, origin)
        return response

    def _preflight(self, request: web.BaseRequest, origin: str) -> web.Response:
        response = web.Response(status=204)
        if not self._policy.allows(origin):
            # ASP.NET answers every preflight once a policy exists, just without CORS headers.
            return response
        self._apply(response.headers, origin)
        method = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD, "")
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = method
        asked = _requested_headers(request)
        if asked:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = asked
        return response

    def _apply(self, headers: CIMultiDict[str], origin: str) -> None:
        headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = self._allow_origin or origin
        if self._fixed:
            headers.update(self._fixed)
        if self._allow_origin is None:
            headers.add(hdrs.VARY, "Origin")


def _requested_headers(request: web.BaseRequest) -> str:
    """Access-Control-Request-Headers, every line split, trimmed and joined with ','."""
    names = (
        name.strip()
        for line in request.headers.getall(hdrs.ACCESS_CONTROL_REQUEST_HEADERS, ())
        for name in line.split(",")
    )
    return ",".join(name for name in names if name)
