"""host/http/resolver.py: the one decision of where a request goes, for both ways of answering.

The short way and aiohttp's way call the same ``RouteResolver.resolve``; these tests hold its
precedence: system routes, webhooks, the admin API, then function routes below routePrefix.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.http import RawRequestMessage
from yarl import URL

from funchost.host.http.framing import Answer, HostAnswer
from funchost.host.http.keys import ADMIN, ANONYMOUS, SYSTEM
from funchost.host.http.resolver import RouteResolver, kestrel_path
from funchost.host.http.routing import RouteError


async def _answer(message: RawRequestMessage, body: bytes, params: dict[str, str]) -> Answer:
    return HostAnswer(200)


async def _handler(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    return web.Response()


async def _admin_api(request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
    return web.Response()


def resolver(prefix: str = "api") -> RouteResolver:
    routes = RouteResolver(prefix, _admin_api)
    routes.add_route("{*rest}", None, _answer, "catchall", "anonymous")
    routes.add_route("items/{id:int}", frozenset({"GET"}), _answer, "item", "function")
    routes.add_system_route("/admin/warmup", frozenset({"POST"}), _handler, "warm", "admin")
    routes.add_system_route("/Health", frozenset({"GET"}), _handler, "health", "anonymous")
    routes.add_webhook("EventGrid", "onEvent", _handler)
    return routes


def reached(routes: RouteResolver, target: str, method: str = "GET") -> tuple[str, str] | None:
    """(function name, auth level) of what the request reaches; None for a 404."""
    route = routes.resolve(method, URL(target))
    return None if route is None else (route[0].function_name, route[0].auth_level)


def test_function_routes_below_the_prefix_most_specific_first() -> None:
    routes = resolver()
    assert reached(routes, "/api/items/7") == ("item", "function")
    assert reached(routes, "/API/items/x") == ("catchall", "anonymous")
    assert reached(routes, "/api") == ("catchall", "anonymous")
    assert reached(routes, "/other/items/7") is None


def test_the_resolved_function_route_carries_its_values_and_handler() -> None:
    route = resolver().resolve("GET", URL("/api/items/7"))
    assert route is not None
    target, params = route
    assert (params, target.function, target.handler) == ({"id": "7"}, _answer, None)


def test_a_system_route_comes_first_for_its_methods() -> None:
    routes = resolver("")
    assert reached(routes, "/health/") == ("health", ANONYMOUS)
    # Another method: the path is not the system route's, and the function routes get it.
    assert reached(routes, "/health", "POST") == ("catchall", ANONYMOUS)
    assert reached(routes, "/admin/warmup", "POST") == ("warm", ADMIN)


def test_webhooks_and_the_admin_api_come_before_a_catch_all_under_an_empty_prefix() -> None:
    routes = resolver("")
    assert reached(routes, "/runtime/webhooks/eventgrid?FunctionName=onevent") == (
        "onEvent",
        SYSTEM,
    )
    # A known extension, an unknown function: still the extension's (key first, then 404).
    assert reached(routes, "/runtime/webhooks/eventgrid?functionName=nope") == ("nope", SYSTEM)
    assert reached(routes, "/runtime/webhooks/blobs?functionName=x") is None
    assert reached(routes, "/admin/warmup") == ("", ADMIN)  # GET: the admin API's
    assert reached(routes, "/admin/host/status") == ("", ADMIN)
    assert reached(routes, "/admin/host/ping") == ("", ANONYMOUS)
    assert reached(routes, "/anything/else") == ("catchall", ANONYMOUS)


def test_the_admin_api_gets_the_lowered_path_and_no_100_continue() -> None:
    route = resolver().resolve("GET", URL("/Admin/Host/Status/"))
    assert route is not None
    target, params = route
    assert (params, target.handler, target.continues) == (
        {"path": "/admin/host/status"},
        _admin_api,
        False,
    )


def test_webhooks_name_their_system_key() -> None:
    routes = resolver()
    route = routes.resolve("POST", URL("/runtime/webhooks/EventGrid?functionName=onEvent"))
    assert route is not None and route[0].system_key == "eventgrid_extension"
    assert routes.system_key_names() == ["eventgrid_extension"]


def test_paths_are_decoded_as_kestrel_does() -> None:
    assert kestrel_path("/api/a%20b/c%2Fd") == "/api/a b/c%2Fd"
    routes = resolver()
    assert reached(routes, "/api/items/%37") == ("item", "function")


def test_registration_refuses_a_bad_auth_level_and_a_second_system_route() -> None:
    routes = resolver()
    with pytest.raises(RouteError, match="authLevel is 'public'"):
        routes.add_route("x", None, _answer, "x", "public")
    with pytest.raises(RouteError, match="already served by 'warm'"):
        routes.add_system_route("/ADMIN/warmup/", None, _handler, "other", "admin")


def test_clear_forgets_every_route() -> None:
    routes = resolver()
    routes.clear()
    assert reached(routes, "/api/items/7") is None
    assert reached(routes, "/health") is None
    assert routes.system_key_names() == []
    assert reached(routes, "/admin/host/status") == ("", ADMIN)  # the host's own stay
