"""Where a request goes: the one route resolver both ways of answering use.

The short way (a function's answer written as bytes) and aiohttp's way (middlewares, the
admin API, webhooks) ask the same ``RouteResolver.resolve``, so they cannot disagree on
which target a request reaches. Precedence:

1. a system route (e.g. ``/admin/warmup``) at its exact path, for its methods;
2. ``/runtime/webhooks/<extension>``, the extension's webhooks (by ``functionName``);
3. ``/admin/...``, the admin API (``/admin/host/ping`` without a key);
4. the function routes, below routePrefix;
5. ``/`` itself, when no function claims it: the host's home page (host/http/homepage.py).

Paths are matched as ``kestrel_path`` decodes them, case-insensitively, without their outer
slashes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http import RawRequestMessage
from multidict import MultiDictProxy
from yarl import URL

from funchost.bindings.base import HttpHandler
from funchost.bindings.http.stream import StreamHandler
from funchost.host.http.framing import Answer
from funchost.host.http.keys import ADMIN, ANONYMOUS, AUTH_LEVELS, SYSTEM
from funchost.host.http.routing import RouteError, RouteTable, compile_route

if TYPE_CHECKING:
    from funchost.bindings.http.router import FunctionRouter

# A function route: the request as aiohttp parsed it, its whole body and the route values.
# The HTTP binding's AnswerHandler is one (it answers an HttpAnswer, which is an Answer).
FunctionHandler = Callable[[RawRequestMessage, bytes, dict[str, str]], Awaitable[Answer]]

# Paths as resolve() compares them: without their outer slashes, lower-cased.
_WEBHOOKS = "runtime/webhooks/"
_ADMIN = "admin/"
_HOST_PREFIXES = (_WEBHOOKS, _ADMIN)
_PING = "admin/host/ping"
_UI = "admin/ui"
_UI_API = "admin/ui/api/"
_PING_METHODS = frozenset({"GET", "POST"})
_ENCODED_SLASH = re.compile("(%2[fF])")


def kestrel_path(raw_path: str) -> str:
    """The path percent-decoded except ``%2F``, as Kestrel decodes it for routing.

    An encoded slash stays encoded, so it is data inside one segment (and one route value)
    rather than a separator, as in the Functions host.
    """
    if "%" not in raw_path:
        return raw_path  # the common case: nothing to decode
    parts = _ENCODED_SLASH.split(raw_path)
    return "".join(part if index % 2 else unquote(part) for index, part in enumerate(parts))


@dataclass(frozen=True, slots=True)
class Target:
    """What a request reaches: who answers it, whose it is, and the key it needs there."""

    function_name: str  # '' for the admin API
    auth_level: str
    # A function route's: answers the parsed request, the short way or under aiohttp's.
    function: FunctionHandler | None = None
    # A streamed function route: reads the body as it arrives, writes its own response.
    stream: StreamHandler | None = None
    # Everything else answers aiohttp's request: system routes, webhooks, the admin API.
    handler: HttpHandler | None = None
    system_key: str = ""  # a webhook's: the one system key that opens it
    # Whether a request with Expect: 100-continue gets its 100 (the admin API never sent one).
    continues: bool = True
    # The admin API and the dashboard: with keys bypassed, only this machine's pages may
    # reach them (host/http/origin.py).
    local_only: bool = False


# A resolved request: its target and route values.
Route = tuple[Target, dict[str, str]]


@dataclass(frozen=True, slots=True)
class _SystemRoute:
    methods: frozenset[str] | None  # None: any method
    target: Target


class RouteResolver:
    """The routes of the host and of the app's functions, and ``resolve`` over all of them."""

    def __init__(
        self,
        route_prefix: str,
        admin_api: HttpHandler,
        home: HttpHandler | None = None,
        ui: HttpHandler | None = None,
    ) -> None:
        self.route_prefix = route_prefix.strip("/")
        self._prefix_lower = self.route_prefix.lower()
        self._prefix_slash = self._prefix_lower + "/"
        self._functions: RouteTable[Target] = RouteTable()
        self._system: dict[str, _SystemRoute] = {}
        self._webhooks: dict[tuple[str, str], Target] = {}
        # The admin API gets the whole lowered path ("/admin/...") as its route value "path".
        self._admin = Target("", ADMIN, handler=admin_api, continues=False, local_only=True)
        # The dashboard's files (/admin/ui/...) need no key: they hold none, and the page asks
        # for the master key its data needs (under /admin/ui/api/, the admin API's). None: 404.
        self._ui = (
            None
            if ui is None
            else Target("", ANONYMOUS, handler=ui, continues=False, local_only=True)
        )
        # The home page needs no key and reads no body (None: "/" is a 404).
        self._home = None if home is None else Target("", ANONYMOUS, handler=home, continues=False)

    # --- registering -----------------------------------------------------------------

    def add_route(
        self,
        template: str,
        methods: frozenset[str] | None,
        function: FunctionHandler,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """A function route under routePrefix; a conflicting route raises RouteError."""
        level = _level(auth_level, function_name)
        self._add_function(template, methods, Target(function_name, level, function=function))

    def add_stream_route(
        self,
        template: str,
        methods: frozenset[str] | None,
        stream: StreamHandler,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """A streamed function route under routePrefix; a conflicting route raises RouteError."""
        level = _level(auth_level, function_name)
        self._add_function(template, methods, Target(function_name, level, stream=stream))

    def _add_function(self, template: str, methods: frozenset[str] | None, target: Target) -> None:
        """Both kinds of function route: compiled, checked for conflicts, added."""
        name = target.function_name
        self._functions.add(compile_route(template, name), methods, target, name)

    def add_webhook(self, extension: str, function_name: str, handler: HttpHandler) -> None:
        """Serve /runtime/webhooks/<extension>?functionName=<function_name>."""
        name = extension.lower()
        target = Target(function_name, SYSTEM, handler=handler, system_key=f"{name}_extension")
        self._webhooks[(name, function_name.lower())] = target

    def add_system_route(
        self,
        path: str,
        methods: frozenset[str] | None,
        handler: HttpHandler,
        function_name: str,
        auth_level: str = "admin",
    ) -> None:
        """An exact path outside routePrefix; one function per path."""
        key = path.strip("/").lower()
        if key in self._system:
            other = self._system[key].target.function_name
            raise RouteError(function_name, f"path '/{key}' is already served by '{other}'")
        target = Target(function_name, _level(auth_level, function_name), handler=handler)
        self._system[key] = _SystemRoute(methods, target)

    def clear(self) -> None:
        """Forget every function route, webhook and system route (the app was unloaded)."""
        self._functions = RouteTable()
        self._system.clear()
        self._webhooks.clear()

    def system_key_names(self) -> list[str]:
        """The system keys the registered webhooks need (<extension>_extension)."""
        return sorted({f"{ext}_extension" for ext, _ in self._webhooks})

    # --- resolving -------------------------------------------------------------------

    def resolve(self, method: str, url: URL) -> Route | None:
        """The target and route values of a request, or None: nothing here, 404."""
        path = kestrel_path(url.raw_path).strip("/")
        lowered = path.lower()  # once, for every comparison below
        if lowered in self._system or lowered.startswith(_HOST_PREFIXES):
            return self._host_route(method, url, path, lowered)
        route = self._function_route(method, path, lowered)
        if route is None and url.raw_path == "/" and self._home is not None:
            return self._home, {}
        return route

    def _host_route(self, method: str, url: URL, path: str, lowered: str) -> Route | None:
        """Precedence 1 to 3: the paths the host serves before any function route."""
        system = self._system.get(lowered)
        if system is not None and (system.methods is None or method in system.methods):
            return system.target, {}
        if lowered.startswith(_WEBHOOKS):
            return self._webhook(lowered.removeprefix(_WEBHOOKS), url.query)
        if lowered.startswith(_ADMIN):
            if lowered == _PING and method in _PING_METHODS:
                return _PING_TARGET, {}
            if self._ui is not None and _is_ui_file(lowered):
                return self._ui, {"path": "/" + lowered}
            return self._admin, {"path": "/" + lowered}
        return self._function_route(method, path, lowered)  # a system route's path, another method

    def _function_route(self, method: str, path: str, lowered: str) -> Route | None:
        """The function route below routePrefix (matched case-insensitively, as ASP.NET does)."""
        if self._prefix_lower:
            if lowered == self._prefix_lower:
                path = ""
            elif lowered.startswith(self._prefix_slash):
                path = path[len(self.route_prefix) + 1 :]
            else:
                return None
        return self._functions.match(method, path)

    def _webhook(self, extension: str, query: MultiDictProxy[str]) -> Route | None:
        # Query names are case-insensitive in the Functions host (ParseQueryString).
        name = next((v for k, v in query.items() if k.lower() == "functionname"), "")
        webhook = self._webhooks.get((extension, name.lower()))
        if webhook is not None:
            return webhook, {}
        if not any(ext == extension for ext, _ in self._webhooks):
            return None
        # A known extension, an unknown function: checked for the key first, then 404.
        key = f"{extension}_extension"
        return Target(name, SYSTEM, handler=_no_function(name), system_key=key), {}


def _is_ui_file(lowered: str) -> bool:
    """/admin/ui/ and the files below it; its data (/admin/ui/api/...) is the admin API's."""
    return lowered == _UI or (lowered.startswith(_UI + "/") and not lowered.startswith(_UI_API))


def _level(auth_level: str, function_name: str) -> str:
    level = auth_level.lower()
    if level not in AUTH_LEVELS:
        raise RouteError(
            function_name,
            f"authLevel is {auth_level!r}; expected one of anonymous, function, admin",
        )
    return level


def _no_function(name: str) -> HttpHandler:
    async def handler(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        return web.Response(status=404, text=f"cannot find function: '{name}'")

    return handler


async def _pong(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    return web.Response(status=200)


_PING_TARGET = Target("", ANONYMOUS, handler=_pong, continues=False)  # ping needs no key


if TYPE_CHECKING:
    # The HTTP trigger checks its router with isinstance(), which sees method names only;
    # this has mypy hold the resolver to the whole contract, without importing the binding.
    def _serves_functions(routes: RouteResolver) -> FunctionRouter:
        return routes
