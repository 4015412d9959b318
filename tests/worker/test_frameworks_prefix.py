"""routePrefix and the path a framework app sees, with the default prefix "api".

What the Functions host and the library do, and funchost mirrors: AsgiFunctionApp registers
one function with the route "{*route}" under routePrefix, so it answers /api/<anything>.
The host hands the function the request's whole URL, and AsgiMiddleware (WsgiMiddleware
alike) passes its path to the framework unchanged, with an empty root_path: the framework
sees /api/items/1, prefix included. A FastAPI route "/items/{id}" is therefore NOT at
/api/items/1 (FastAPI answers 404 there); apps declare their routes under /api, mount a
sub-app at /api, or set routePrefix to "" (tests/apps/fastapi_app, test_frameworks_fastapi).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from frameworks_helpers import Ask, Uvicorn, fetch, reply_view, uvicorn_serving
from http_helpers import Host, serving


@pytest.fixture(scope="module")
def funchost() -> Iterator[Host]:
    with serving("fastapi_prefix") as host:
        yield host


@pytest.fixture(scope="module")
def uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uvicorn]:
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with uvicorn_serving("fastapi_prefix", "function_app:api", log) as server:
        yield server


def test_the_framework_sees_the_whole_path(funchost: Host) -> None:
    reply = fetch(funchost.port, Ask("GET", "/api/items/1"))
    assert reply.json() == {"item_id": 1, "path": "/api/items/1", "root_path": ""}


def test_an_unprefixed_route_is_not_under_the_prefix(funchost: Host, uvicorn: Uvicorn) -> None:
    assert fetch(uvicorn.port, Ask("GET", "/things/1")).json() == {"thing_id": 1}
    # The function answers /api/things/1 (it owns api/{*route}), but FastAPI is handed
    # /api/things/1, for which it has no route.
    under = fetch(funchost.port, Ask("GET", "/api/things/1"))
    assert (under.status, under.json()) == (404, {"detail": "Not Found"})
    # Outside the prefix no function matches: the host's own empty 404.
    outside = fetch(funchost.port, Ask("GET", "/things/1"))
    assert (outside.status, outside.body) == (404, b"")


def test_a_sub_app_mounted_at_the_prefix_keeps_its_routes_prefix_free(funchost: Host) -> None:
    reply = fetch(funchost.port, Ask("GET", "/api/v2/items/7"))
    assert reply.json() == {"item_id": 7, "mounted": True, "root_path": "/api/v2"}


def test_the_report_shows_the_catch_all_under_the_prefix(funchost: Host) -> None:
    assert (
        f"http_app_func: [GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS] http://localhost:{funchost.port}/api/{{*route}}"
        in funchost.output
    )


@pytest.mark.parametrize(
    "ask",
    [Ask("GET", "/api/items/1"), Ask("GET", "/api/v2/items/7"), Ask("GET", "/api/nope")],
    ids=str,
)
def test_same_paths_same_answers_as_uvicorn(funchost: Host, uvicorn: Uvicorn, ask: Ask) -> None:
    # A user's tests against uvicorn (or TestClient) use the same /api/... paths.
    assert reply_view(fetch(funchost.port, ask)) == reply_view(fetch(uvicorn.port, ask))
