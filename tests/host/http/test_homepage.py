"""``/`` with no function on it: the Functions host's home page, as ``func start`` serves it.

The host's HomepageMiddleware answers after the rest of the pipeline found no function: a
request whose path is exactly ``/``, whatever its method, gets the page (``text/html``), or
204 when the app setting ``AzureWebJobsDisableHomepage`` is true.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import APPS, free_port, run_funchost
from http_helpers import Host, call, get, serving

from funchost.errors import ConfigError
from funchost.host.http import homepage

HEADLINE = b"Your Functions 4.0 app is up and running"


@pytest.fixture(scope="module", params=["short way", "aiohttp's way"])
def host(request: pytest.FixtureRequest) -> Iterator[Host]:
    # The page always goes aiohttp's way; with CORS on, so does everything else.
    cors = ("--cors", "http://example.test") if request.param == "aiohttp's way" else ()
    with serving("http_responses", *cors) as running:
        yield running


def test_get_slash_is_the_home_page(host: Host) -> None:
    reply = get(host, "/")
    assert (reply.status, reply.header("Content-Type")) == (200, "text/html")
    assert reply.body.startswith(b"<!DOCTYPE html>") and HEADLINE in reply.body
    assert reply.header("Content-Length") == str(len(reply.body))
    assert get(host, "/?from=probe").body == reply.body


def test_head_slash_has_the_same_headers_and_no_body(host: Host) -> None:
    page = get(host, "/")
    reply = call(host, "HEAD", "/")
    assert (reply.status, reply.body) == (200, b"")
    for name in ("Content-Type", "Content-Length"):
        assert reply.header(name) == page.header(name)


def test_any_method_on_slash_gets_the_page_as_in_the_host(host: Host) -> None:
    reply = call(host, "POST", "/", body=b"x")
    assert reply.status == 200 and HEADLINE in reply.body


@pytest.mark.parametrize("path", ["/api", "/api/", "/index.html"])
def test_only_slash_itself_is_the_home_page(host: Host, path: str) -> None:
    assert get(host, path).status == 404


def test_a_function_that_claims_slash_wins() -> None:
    with serving("http_home_claimed") as host:
        reply = get(host, "/")
        assert (reply.status, reply.text) == (200, "the function at /")
        # The function takes GET only: a HEAD finds no function and gets the page's head.
        head = call(host, "HEAD", "/")
        assert (head.status, head.header("Content-Type")) == (200, "text/html")


def test_the_home_page_can_be_disabled_by_app_setting() -> None:
    with serving("http_responses", env={"AzureWebJobsDisableHomepage": "True"}) as host:
        reply = get(host, "/")
        assert (reply.status, reply.body) == (204, b"")


@pytest.mark.parametrize(("raw", "disabled"), [("", False), ("false", False), ("TRUE", True)])
def test_the_setting_reads_true_or_false_in_any_case(raw: str, disabled: bool) -> None:
    page, no_content = homepage.handler({}), homepage.handler({homepage.DISABLE_SETTING: "true"})
    assert page is not no_content
    expected = no_content if disabled else page
    assert homepage.handler({homepage.DISABLE_SETTING: raw}) is expected


def test_a_setting_that_is_neither_stops_the_host() -> None:
    # The host would show the page for "yes"; funchost says what it expected instead.
    with pytest.raises(ConfigError):
        homepage.handler({"AzureWebJobsDisableHomepage": "yes"})
    args = ["start", "--port", str(free_port())]
    env = {"AzureWebJobsDisableHomepage": "yes"}
    result = run_funchost(args, APPS / "http_responses", env=env, timeout=30)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "'AzureWebJobsDisableHomepage' is 'yes'; expected true or false" in result.stderr
