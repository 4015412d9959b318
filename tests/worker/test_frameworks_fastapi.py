"""A FastAPI app through funchost (func.AsgiFunctionApp) answers as it does on uvicorn.

One funchost and one uvicorn serve the same ``api`` of tests/apps/fastapi_app (host.json
routePrefix "", so the framework's routes are at the root). Each request goes to both and
the replies must look the same to a user's test. Where they differ by design (the library's
AsgiMiddleware and the Functions host, as on Azure), a test names the difference.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import azure.functions as func
import pytest
from frameworks_helpers import (
    Ask,
    Uvicorn,
    cookie_header,
    fetch,
    reply_view,
    uvicorn_serving,
)
from http_helpers import Host, lines_since, mark, serving

TOKEN = {"X-Token": "secret"}


@pytest.fixture(scope="module")
def funchost() -> Iterator[Host]:
    with serving("fastapi_app") as host:
        yield host


@pytest.fixture(scope="module")
def uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uvicorn]:
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with uvicorn_serving("fastapi_app", "function_app:api", log) as server:
        yield server


SAME = [
    # path, query (repeated, percent-encoded) and a dependency's query parameters
    Ask("GET", "/items/5?q=hello%20world&tags=a&tags=b&limit=3&offset=2"),
    Ask("GET", "/items/5?q=&tags="),  # empty values reach the app, as in the URL
    Ask("GET", "/items/abc"),  # 422: path parameter validation
    Ask("GET", "/items/5?limit=1000"),  # 422: a dependency's parameter validation
    Ask.json("POST", "/items", {"name": "tea", "price": 2.5, "tags": ["hot"]}, TOKEN),
    Ask.json("POST", "/items", {"name": "", "price": -1}, TOKEN),  # 422: pydantic
    Ask("POST", "/items", b"{not json", {"Content-Type": "application/json", **TOKEN}),
    Ask.json("POST", "/items", {"name": "tea", "price": 1}),  # 401 + WWW-Authenticate
    Ask("GET", "/users/me", headers=TOKEN),
    Ask("GET", "/users/me", headers={"X-Token": "wrong"}),
    Ask("GET", "/teapot?brew=green"),  # custom exception handler: 418 + X-Error
    Ask("GET", "/nope"),  # FastAPI's 404
    Ask("GET", "/nope/deeper/still?x=1"),
    Ask("PUT", "/items/1"),  # 405 with Allow
    Ask("GET", "/cookies/set"),  # two Set-Cookie headers and a custom header
    Ask(
        "GET", "/cookies/read", headers={"Cookie": "session=abc123; theme=dark", "X-Custom-In": "v"}
    ),
    Ask("GET", "/state"),  # state yielded by the lifespan startup
    Ask("GET", "/names/caf%C3%A9%20au%20lait"),
    Ask("GET", "/names/a%2Fb"),  # an encoded slash is decoded by both: no route matches
    Ask("GET", "/names/a%3Fb%23c"),  # an encoded ? and # stay in the path parameter
    Ask("GET", "/bytes?n=2000000"),
    Ask("HEAD", "/items/3"),
    Ask("OPTIONS", "/items/3"),
]


@pytest.mark.parametrize("ask", SAME, ids=str)
def test_same_reply_as_uvicorn(funchost: Host, uvicorn: Uvicorn, ask: Ask) -> None:
    expected = reply_view(fetch(uvicorn.port, ask))
    assert reply_view(fetch(funchost.port, ask)) == expected


def test_the_requests_reach_the_app_and_are_not_all_alike(funchost: Host) -> None:
    # Guards the comparison above against two servers that agree on nothing useful.
    assert fetch(funchost.port, SAME[0]).json() == {
        "item_id": 5,
        "q": "hello world",
        "tags": ["a", "b"],
        "page": {"offset": 2, "limit": 3},
    }
    created = fetch(funchost.port, SAME[4])
    assert created.status == 201
    assert created.json()["owner"] == "alice"
    teapot = fetch(funchost.port, Ask("GET", "/teapot?brew=green"))
    assert (teapot.status, teapot.header("X-Error")) == (418, "teapot")
    assert teapot.json() == {"error": "teapot", "brew": "green", "path": "/teapot"}
    assert fetch(funchost.port, Ask("GET", "/nope")).json() == {"detail": "Not Found"}


def test_large_body_arrives_whole(funchost: Host, uvicorn: Uvicorn) -> None:
    body = os.urandom(5 * 1024 * 1024)
    ask = Ask("POST", "/echo-size", body, {"Content-Type": "application/octet-stream"})
    expected = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert fetch(funchost.port, ask).json() == expected
    assert fetch(uvicorn.port, ask).json() == expected


def test_streaming_response_arrives_complete(funchost: Host, uvicorn: Uvicorn) -> None:
    ask = Ask("GET", "/stream?n=5000")
    got, reference = fetch(funchost.port, ask), fetch(uvicorn.port, ask)
    expected = "".join(f"line {i}\n" for i in range(5000))
    assert got.text == reference.text == expected
    assert got.header("Content-Type") == reference.header("Content-Type")
    # funchost serves the app directly and streams it as uvicorn does (on Azure the library's
    # AsgiMiddleware collects the whole body and it goes out with a length).
    assert got.header("Transfer-Encoding") == reference.header("Transfer-Encoding") == "chunked"
    assert got.header("Content-Length") is None


def test_cookies_round_trip(funchost: Host) -> None:
    set_reply = fetch(funchost.port, Ask("GET", "/cookies/set"))
    assert set_reply.header("X-Custom") == "custom value"
    cookie = cookie_header(set_reply)
    read = fetch(funchost.port, Ask("GET", "/cookies/read", headers={"Cookie": cookie}))
    assert read.json() == {"session": "abc123", "theme": "dark", "x_custom_in": None}


def test_concurrent_requests_get_their_own_answers(funchost: Host) -> None:
    def one(n: int) -> object:
        return fetch(funchost.port, Ask("GET", f"/items/{n}?q=n{n}")).json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(64)))
    assert [a["item_id"] for a in answers] == list(range(64))  # type: ignore[index]
    assert [a["q"] for a in answers] == [f"n{n}" for n in range(64)]  # type: ignore[index]


def test_route_prefix_empty_puts_the_framework_routes_at_the_root(funchost: Host) -> None:
    assert fetch(funchost.port, Ask("GET", "/items/1")).json()["item_id"] == 1
    # /api is nothing special here: the path reaches FastAPI, which has no such route.
    under_api = fetch(funchost.port, Ask("GET", "/api/items/1"))
    assert (under_api.status, under_api.json()) == (404, {"detail": "Not Found"})
    assert "http_app_func: [GET,POST" in funchost.output
    assert f"{funchost.base_url.replace('127.0.0.1', 'localhost')}/{{*route}}" in funchost.output


@pytest.mark.skipif(
    not hasattr(func.HttpMethod, "QUERY"), reason="azure-functions 1.x has no HttpMethod.QUERY"
)
def test_query_method_reaches_the_app(funchost: Host, uvicorn: Uvicorn) -> None:
    # azure-functions 2.x registers the ASGI function for every func.HttpMethod, QUERY too.
    ask = Ask("QUERY", "/search", b"name:tea", {"Content-Type": "text/plain"})
    reply = fetch(funchost.port, ask)
    assert reply.json() == {"method": "QUERY", "query": "name:tea"}
    assert reply_view(reply) == reply_view(fetch(uvicorn.port, ask))


# --- where funchost differs from uvicorn, by the library's or the Functions host's design ---


@pytest.mark.parametrize("ask", [Ask("GET", "/redirect"), Ask("DELETE", "/items/3")], ids=str)
def test_a_reply_without_content_type_gets_the_library_default(
    funchost: Host, uvicorn: Uvicorn, ask: Ask
) -> None:
    got, reference = reply_view(fetch(funchost.port, ask)), reply_view(fetch(uvicorn.port, ask))
    # AsgiMiddleware builds a func.HttpResponse, whose mimetype defaults to text/plain, and
    # the library's converter writes it as Content-Type (the Python worker on Azure does too).
    assert "content-type" not in reference["headers"]
    assert got["headers"].pop("content-type") == "text/plain; charset=utf-8"
    # A 204 has no Content-Length on either (funchost drops it, uvicorn never sends it).
    reference["headers"].pop("content-length", None)
    got["headers"].pop("content-length", None)
    assert got == reference


def test_unhandled_exception_is_a_failed_invocation(funchost: Host, uvicorn: Uvicorn) -> None:
    since = mark(funchost)
    got, reference = (
        fetch(funchost.port, Ask("GET", "/boom")),
        fetch(uvicorn.port, Ask("GET", "/boom")),
    )
    assert got.status == reference.status == 500
    # Starlette answers "Internal Server Error" and re-raises; the exception fails the
    # function, and the Functions host answers a failed function with an empty 500.
    assert reference.body == b"Internal Server Error"
    assert got.body == b""
    new = lines_since(funchost, since, r"Executed 'Functions\.http_app_func' \(Failed")
    assert any("RuntimeError: unhandled in the route" in line for line in new), new
