"""Set-Cookie headers of a func.HttpResponse arrive as the Functions host writes them.

In Azure the Python worker parses each Set-Cookie header into cookies (name, value, domain,
path, expires, secure, httpOnly, sameSite, maxAge) and the host appends each cookie to the
ASP.NET Core response, which writes it again: attributes in lower case and in its order, the
value escaped, an empty domain and path kept, a date as RFC 1123. Every case runs on both
ways of answering: the short way and aiohttp's (with --cors).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_helpers import Host, get, lines_since, mark, serving


@pytest.fixture(scope="module", params=["short way", "aiohttp's way"])
def host(request: pytest.FixtureRequest) -> Iterator[Host]:
    # CORS puts every request on aiohttp's way; without an Origin it changes nothing.
    cors = ("--cors", "http://example.test") if request.param == "aiohttp's way" else ()
    with serving("http_responses", *cors) as running:
        yield running


def set_cookies(host: Host, path: str) -> list[str]:
    reply = get(host, path)
    assert reply.status == 200, reply
    return reply.headers.get_all("Set-Cookie") or []


CASES = {
    "every": [
        "foo3=42; expires=Thu, 12 Jan 2017 13:55:08 GMT; max-age=10000000; "
        "domain=example.com; path=/; secure; samesite=lax; httponly"
    ],
    # The worker sends the empty domain and path of an unset attribute; the host writes them.
    "default": ["foo=bar; domain=; path="],
    "samesite": [
        "a=1; domain=; path=; samesite=strict",
        "b=2; domain=; path=; secure; samesite=none",
        "c=3; domain=; path=",
    ],
    # One header, two cookies: each is written on its own.
    "oneheader": ["d=4; domain=; path=", "e=5; domain=; path="],
    # The value as Python reads it, escaped as Uri.EscapeDataString escapes it.
    "values": ["q=x%20y; domain=; path=", "p=%2Fx%2Fy%3Fz; domain=; path=", "t=; domain=; path="],
    # Max-Age is seconds as a double; the host writes whole seconds.
    "fraction": ["f=1; max-age=1; domain=; path="],
    # An empty header is no cookie; one the parser refuses ('SecureFalse') is dropped whole.
    "empty": ["kept=1; domain=; path="],
    "badsecure": ["kept=1; domain=; path="],
}


@pytest.mark.parametrize("case", CASES)
def test_cookies_are_written_as_the_host_writes_them(host: Host, case: str) -> None:
    assert set_cookies(host, f"/api/cookie/{case}") == CASES[case]


def test_two_headers_stay_two_after_the_functions_own_headers(host: Host) -> None:
    reply = get(host, "/api/cookies")
    assert reply.headers.get_all("Set-Cookie") == [
        "a=1; domain=; path=/",
        "b=2; domain=; path=/; httponly",
    ]
    assert reply.text == "two cookies"
    names = [name.lower() for name in reply.headers]
    assert names.index("set-cookie") > names.index("content-type")


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("badexpires", "expires 'Dummy' is not a date"),
        ("badmaxage", "max-age 'Dummy' is not a number"),
        ("badname", "cookie name 'a:b' is not an HTTP token"),
        ("illegalname", "Illegal key 'a@b'"),
    ],
)
def test_a_cookie_that_cannot_be_sent_is_a_500_naming_the_function(
    host: Host, case: str, reason: str
) -> None:
    since = mark(host)
    reply = get(host, f"/api/cookie/{case}")
    assert (reply.status, reply.body, reply.header("Set-Cookie")) == (500, b"", None)
    new = lines_since(host, since, r"Functions\.cookie answered a cookie")
    errors = [line for line in new if "Functions.cookie answered a cookie" in line]
    assert len(errors) == 1 and reason in errors[0], new
    assert "s3cret-value" not in host.drain(0.2)  # the cookie's value is never logged
