"""The direct ASGI path against the library's AsgiMiddleware: same scope, same answer.

tests/apps/asgi_scope serves one FastAPI app two ways: ``func.AsgiFunctionApp`` (funchost
serves the app itself, streaming) and a function the user wrote around the library's
``AsgiMiddleware`` (the library's path, buffered). Every request of the matrix goes to both,
under routePrefix "api" and "", and the app's view of it (its scope, the body it read) and
what the client gets (status, headers bar framing, bytes) must be the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator

import pytest
from frameworks_helpers import Ask, fetch
from http_helpers import Host, Reply, direct_and_library

APP = "asgi_scope"
# Framing and the server's own headers differ by design: the direct path may stream.
FRAMING = frozenset({"content-length", "transfer-encoding", "date", "server", "connection"})
BODIES = {"0B": b"", "64KiB": os.urandom(64 * 1024), "5MiB": os.urandom(5 * 1024 * 1024)}
QUERIES = ["", "?a=1&a=2&b=x%20y%2Fz&c=&d", "?q=caf%C3%A9&q=%E2%82%AC&plus=a+b"]
# One Host for both servers: the scope's server and host header come from it.
HOST = {"Host": "Example.test:8080"}
HEADERS = {**HOST, "X-Multi": "one", "x-multi": "two", "X-Empty": "", "Cookie": "a=1; b=2"}
FORWARDED = {"Host": "example.test", "X-Forwarded-Port": "x, 8443"}


def matrix(prefix: str) -> list[Ask]:
    base = f"/{prefix}" if prefix else ""
    asks = [
        Ask(method, f"{base}/echo/some/path{query}", headers=HEADERS)
        for method in ("GET", "DELETE", "HEAD", "OPTIONS")
        for query in QUERIES
    ]
    asks += [
        Ask(method, f"{base}/echo/caf%C3%A9/a%20b;p{query}", body, {**HOST, "X-Multi": "x"})
        for method in ("POST", "PUT", "PATCH")
        for query in QUERIES[:2]
        for body in BODIES.values()
    ]
    asks += [Ask("POST", f"{base}/body/x", body, HOST) for body in BODIES.values()]
    asks += [Ask("HEAD", f"{base}/body/x", headers=HOST), Ask("GET", f"{base}/plain", headers=HOST)]
    asks += [Ask("GET", f"{base}/echo/f", headers=FORWARDED), Ask("GET", "/nope", headers=HOST)]
    return asks


@pytest.fixture(scope="module", params=["api", ""], ids=["prefix-api", "prefix-empty"])
def hosts(request: pytest.FixtureRequest) -> Iterator[tuple[str, Host, Host]]:
    prefix = str(request.param)
    with direct_and_library(APP, prefix) as (direct, library):
        yield prefix, direct, library


def answer(reply: Reply) -> dict[str, object]:
    """What the client gets, bar framing; the app's scope parsed when it sent it."""
    headers = [(k.lower(), v) for k, v in reply.headers.items() if k.lower() not in FRAMING]
    body: object = reply.body
    if reply.body.startswith(b'{"scope"'):
        body = json.loads(reply.body)
        # The one value that differs, by the fixture's making: the library's path here is a
        # function the user wrote (its folder is the app's); AsgiFunctionApp's is the library's.
        directory = body["scope"].pop("azure_functions.function_directory")  # type: ignore[index]
        assert directory.endswith(("decorators", "asgi_scope")), directory
    return {"status": reply.status, "headers": headers, "body": body}


@pytest.mark.parametrize("index", range(len(matrix("api"))))
def test_same_scope_and_answer_as_the_library(hosts: tuple[str, Host, Host], index: int) -> None:
    prefix, direct, library = hosts
    ask = matrix(prefix)[index]
    assert answer(fetch(direct.port, ask)) == answer(fetch(library.port, ask)), str(ask)


def test_the_two_ways_are_the_direct_path_and_the_library(
    hosts: tuple[str, Host, Host],
) -> None:
    prefix, direct, library = hosts
    ask = Ask("POST", f"/{prefix}/echo/x".replace("//", "/"), BODIES["5MiB"], HOST)
    got, reference = fetch(direct.port, ask), fetch(library.port, ask)
    # The app read the whole body both ways, and saw the same scope.
    expected = {
        "length": len(ask.body or b""),
        "sha256": hashlib.sha256(ask.body or b"").hexdigest(),
    }
    assert {k: got.json()[k] for k in expected} == expected
    assert answer(got) == answer(reference)
    assert got.json()["scope"]["path"].startswith(f"/{prefix}/echo/x".replace("//", "/"))
    # Framing tells them apart: the library's path had the whole body, the direct path sends
    # a body it did not have whole in chunks.
    stream = fetch(direct.port, Ask("GET", "/nope", headers=HOST))
    assert stream.header("Content-Length") is not None  # a whole answer keeps its length
    # Both are the function http_app_func to the host.
    direct.wait_for("Executed 'Functions.http_app_func' (Succeeded")
    library.wait_for("Executed 'Functions.http_app_func' (Succeeded")


@pytest.mark.parametrize(
    ("host", "target"),
    [
        ("Example.test:8080", "/api/x?a=1&a=2"),
        ("localhost", "/"),
        ("[::1]:7071", "/p%20q?"),
        ("h", "/a;b/c;d?x#frag"),
        ("user@h:1", "/x"),
        ("h:99999", "/x"),  # urlparse reads the port only when asked, and refuses it then
        ("h", "*"),
    ],
)
def test_the_url_is_read_as_urlparse_reads_it(host: str, target: str) -> None:
    from urllib.parse import urlparse

    from funchost.worker import asgi

    expected = urlparse(f"http://{host}{target}")
    got = asgi.parsed_url(host, target)
    assert got == expected
    assert got.hostname == expected.hostname
