"""A Flask app through funchost (func.WsgiFunctionApp) answers as Flask's test client does.

funchost serves tests/apps/flask_app under the default routePrefix "api" (the blueprints are
mounted at /api, since the framework sees the whole path); the test process imports the same
``flask_app`` and asks its test client the same requests. A fresh client per request, without
a cookie jar, so one request's cookies never leak into the next.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from frameworks_helpers import Ask, cookie_header, fetch, load_fixture_module, reply_view, view
from http_helpers import Host, lines_since, mark, serving

BOUNDARY = "funchost-test-boundary"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def funchost() -> Iterator[Host]:
    with serving("flask_app") as host:
        yield host


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    app: Flask = load_fixture_module("flask_app", "flask_app_fixture").flask_app
    return app


def client_view(flask_app: Flask, ask: Ask) -> dict[str, Any]:
    """The reply of Flask's test client, in the shape of ``reply_view``."""
    client = flask_app.test_client(use_cookies=False)
    response = client.open(ask.path, method=ask.method, data=ask.body, headers=dict(ask.headers))
    return view(response.status_code, list(response.headers.items()), response.get_data())


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> Ask:
    """A multipart/form-data POST to /api/upload, built by hand."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return Ask(
        "POST", "/api/upload", body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )


SAME = [
    Ask("GET", "/api/hello?name=a&name=b%20c"),  # repeated, percent-encoded query values
    Ask("GET", "/api/hello"),
    Ask.json("POST", "/api/json", {"a": [1, 2], "b": None}),  # 201 from a (body, status) tuple
    Ask("POST", "/api/json", b"{bad", {"Content-Type": "application/json"}),  # Flask's 400
    Ask("POST", "/api/login", b"user=alice", FORM),  # sets the session cookie
    Ask("GET", "/api/me"),  # no session: abort(401)
    Ask("GET", "/api/old"),  # redirect(url_for(...)): 302 with a relative Location
    Ask("GET", "/api/items/5"),
    Ask("GET", "/api/items/500"),  # abort(404, description=...)
    Ask("GET", "/api/missing"),  # no route: Flask's 404 page
    Ask("GET", "/api/teapot"),  # a blueprint's errorhandler: 418 JSON + X-Error
    Ask("GET", "/api/cookie"),  # two cookies with attributes, a custom header
    Ask("GET", "/api/shop/cart"),  # a blueprint nested in a blueprint
    Ask("DELETE", "/api/hello"),  # 405 with Allow
    Ask("OPTIONS", "/api/hello"),
    multipart({"note": "hi there"}, {"file": ("data.bin", bytes(range(256)) * 64)}),
]


@pytest.mark.parametrize("ask", SAME, ids=str)
def test_same_reply_as_the_test_client(funchost: Host, flask_app: Flask, ask: Ask) -> None:
    assert reply_view(fetch(funchost.port, ask)) == client_view(flask_app, ask)


def test_the_requests_reach_the_app(funchost: Host) -> None:
    # Guards the comparison above against two sides that agree on nothing useful.
    hello = fetch(funchost.port, SAME[0]).json()
    assert hello == {"hello": ["a", "b c"], "path": "/api/hello", "script_root": ""}
    redirect = fetch(funchost.port, Ask("GET", "/api/old"))
    assert (redirect.status, redirect.header("Location")) == (302, "/api/hello?name=redirected")
    missing = fetch(funchost.port, Ask("GET", "/api/items/500"))
    assert missing.status == 404
    assert b"no item 500" in missing.body
    cart = fetch(funchost.port, Ask("GET", "/api/shop/cart")).json()
    assert cart == {"cart": [], "endpoint": "api.shop.cart"}


def test_file_upload(funchost: Host, flask_app: Flask) -> None:
    data = os.urandom(3 * 1024 * 1024)
    ask = multipart({"note": "caf\u00e9"}, {"file": ("report.pdf", data)})
    reply = fetch(funchost.port, ask)
    assert reply.json() == {
        "filename": "report.pdf",
        "content_type": "application/octet-stream",
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": "caf\u00e9",
    }
    assert reply_view(reply) == client_view(flask_app, ask)


def test_session_cookie_set_on_one_request_is_read_on_the_next(
    funchost: Host, flask_app: Flask
) -> None:
    login = fetch(funchost.port, Ask("POST", "/api/login", b"user=alice", FORM))
    assert login.json() == {"logged_in": "alice"}
    cookie = cookie_header(login)
    assert cookie.startswith("session=")
    me = Ask("GET", "/api/me", headers={"Cookie": cookie})
    assert fetch(funchost.port, me).json() == {"user": "alice"}
    # The cookie is Flask's own signed session: the test client's app accepts it too.
    assert client_view(flask_app, me)["body"] == {"user": "alice"}
    assert fetch(funchost.port, Ask("GET", "/api/me")).status == 401


def test_unhandled_exception_is_a_failed_invocation(funchost: Host, flask_app: Flask) -> None:
    since = mark(funchost)
    ask = Ask("GET", "/api/boom")
    reply, reference = fetch(funchost.port, ask), client_view(flask_app, ask)
    assert reply.status == reference["status"] == 500
    # WsgiMiddleware raises on any status >= 500 (as on Azure): the function fails and the
    # Functions host answers an empty 500 instead of Flask's error page.
    assert b"Internal Server Error" in reference["body"]
    assert reply.body == b""
    new = lines_since(funchost, since, r"Executed 'Functions\.http_app_func' \(Failed")
    assert any("RuntimeError: unhandled in the view" in line for line in new), new


def test_head_reply_keeps_the_content_length(funchost: Host, flask_app: Flask) -> None:
    ask = Ask("HEAD", "/api/hello")
    assert reply_view(fetch(funchost.port, ask)) == client_view(flask_app, ask)
