"""The direct WSGI path against the library's WsgiMiddleware: same environ, same answer.

tests/apps/wsgi_environ serves one WSGI app as ``func.WsgiFunctionApp`` (funchost serves it
itself, a fresh environ per request) and through a function wrapping the library's
``WsgiMiddleware``. Every request of the matrix must give the app the same environ and the
client the same status, headers (bar framing) and bytes; the one difference is the library's
shared ``wsgi.errors`` buffer, which fails every request after one wrote to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from frameworks_helpers import Ask, fetch
from http_helpers import Host, Reply, direct_and_library

APP = "wsgi_environ"
FRAMING = frozenset({"content-length", "transfer-encoding", "date", "server", "connection"})
HOST = {"Host": "Example.test:8080"}
BODIES = [b"", os.urandom(64 * 1024), os.urandom(5 * 1024 * 1024)]
QUERIES = ["", "?a=1&a=2&b=x%20y%2Fz&c=&d", "?q=caf%C3%A9&plus=a+b"]
HEADERS = {**HOST, "X-Multi": "one", "x-multi": "two", "Content-Type": "text/plain"}


def matrix(prefix: str) -> list[Ask]:
    base = f"/{prefix}" if prefix else ""
    asks = [
        Ask(method, f"{base}/echo/caf%C3%A9/a%20b{query}", headers=HEADERS)
        for method in ("GET", "DELETE", "HEAD")
        for query in QUERIES
    ]
    asks += [
        Ask(method, f"{base}/echo/x{query}", body, HEADERS)
        for method in ("POST", "PUT")
        for query in QUERIES[:2]
        for body in BODIES
    ]
    asks += [Ask("POST", f"{base}/body/x", body, HOST) for body in BODIES]
    asks += [Ask("GET", f"{base}/echo/f", headers={"Host": "h", "X-Forwarded-Port": "8443"})]
    return asks


@pytest.fixture(scope="module", params=["api", ""], ids=["prefix-api", "prefix-empty"])
def hosts(request: pytest.FixtureRequest) -> Iterator[tuple[str, Host, Host]]:
    prefix = str(request.param)
    with direct_and_library(APP, prefix) as (direct, library):
        yield prefix, direct, library


def answer(reply: Reply) -> dict[str, object]:
    """What the client gets, bar framing; the app's environ parsed when it sent it."""
    headers = [(k.lower(), v) for k, v in reply.headers.items() if k.lower() not in FRAMING]
    body: object = reply.body
    if reply.body.startswith(b'{"environ"'):
        body = json.loads(reply.body)
        # The wrapped function lives in the app's folder, WsgiFunctionApp's in the library's.
        body["environ"].pop("azure_functions.function_directory")  # type: ignore[index]
    return {"status": reply.status, "headers": headers, "body": body}


@pytest.mark.parametrize("index", range(len(matrix("api"))))
def test_same_environ_and_answer_as_the_library(hosts: tuple[str, Host, Host], index: int) -> None:
    prefix, direct, library = hosts
    ask = matrix(prefix)[index]
    assert answer(fetch(direct.port, ask)) == answer(fetch(library.port, ask)), str(ask)


def test_a_request_writing_to_wsgi_errors_fails_only_itself(
    hosts: tuple[str, Host, Host],
) -> None:
    prefix, direct, library = hosts
    base = f"/{prefix}" if prefix else ""
    logged = Ask("GET", f"{base}/log", headers=HOST)
    after = Ask("GET", f"{base}/echo/after", headers=HOST)
    # As the library has it, the request that wrote to wsgi.errors fails (an empty 500)...
    assert fetch(direct.port, logged).status == fetch(library.port, logged).status == 500
    # ...but only that one: the library's buffer is shared, so it fails every later request.
    assert fetch(direct.port, after).status == 200
    assert fetch(library.port, after).status == 500
    direct.wait_for("RuntimeError: something went wrong")
