"""CORS through the real ``funchost start``, as ASP.NET Core's CorsMiddleware answers in func start.

Hosts: no CORS; a list of origins (written with a trailing slash, upper case and a default
port, plus a wildcard subdomain that cannot match); ``*``; and local.settings.json's Host.CORS
with Host.CORSCredentials. Then the policy's pieces on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import APPS, Host, free_port, run_funchost
from http_helpers import Reply, call, get, lines_since, mark, serving

from funchost.errors import ConfigError
from funchost.host.http import cors
from funchost.host.http.cors import build_policy, normalize_origin
from funchost.host.options import StartOptions

LOCAL = "http://localhost:3000"
APP = "https://app.example.com"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
)


def preflight(host: Host, origin: str, method: str = "PUT", headers: str = "") -> Reply:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return call(host, "OPTIONS", "/api/hello", headers=asked)


def cors_headers(reply: Reply) -> dict[str, str]:
    return {name: value for name in CORS_HEADERS if (value := reply.header(name)) is not None}


@pytest.fixture(scope="module")
def plain() -> Iterator[Host]:
    with serving("cors_basic") as host:
        yield host


@pytest.fixture(scope="module")
def listed() -> Iterator[Host]:
    origins = f"{LOCAL}/,HTTPS://App.Example.com:443,https://*.example.com"
    with serving("cors_basic", "--cors", origins) as host:
        yield host


@pytest.fixture(scope="module")
def anyone() -> Iterator[Host]:
    with serving("cors_basic", "--cors", "*") as host:
        yield host


@pytest.fixture(scope="module")
def credentialed() -> Iterator[Host]:
    with serving("cors_settings") as host:
        yield host


# --- no CORS configured ------------------------------------------------------------------


def test_without_cors_nothing_is_added(plain: Host) -> None:
    reply = get(plain, "/api/hello", headers={"Origin": LOCAL})
    assert (reply.status, reply.text) == (200, "GET")
    assert cors_headers(reply) == {}
    assert reply.header("Vary") is None


def test_without_cors_a_preflight_reaches_the_function(plain: Host) -> None:
    reply = preflight(plain, LOCAL)
    assert (reply.status, reply.text) == (200, "OPTIONS")
    assert cors_headers(reply) == {}


# --- a list of origins -------------------------------------------------------------------


def test_preflight_from_an_allowed_origin(listed: Host) -> None:
    since = mark(listed)
    reply = preflight(listed, LOCAL, "DELETE", "X-Custom, content-type,,  X-Other")
    assert (reply.status, reply.body) == (204, b"")
    assert cors_headers(reply) == {
        "Access-Control-Allow-Origin": LOCAL,
        "Access-Control-Allow-Methods": "DELETE",
        "Access-Control-Allow-Headers": "X-Custom,content-type,X-Other",
    }
    assert reply.header("Vary") == "Origin"
    # The preflight is answered by CORS: the function never runs.
    get(listed, "/api/hello")
    new = lines_since(listed, since, r"Executed 'Functions\.hello'")
    assert sum("Executing 'Functions.hello'" in line for line in new) == 1


def test_preflight_without_requested_headers_has_no_allow_headers(listed: Host) -> None:
    reply = preflight(listed, APP, "PATCH")
    assert cors_headers(reply) == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Methods": "PATCH",
    }


def test_preflight_from_another_origin_is_204_without_cors_headers(listed: Host) -> None:
    reply = preflight(listed, "http://evil.example", headers="X-Custom")
    assert (reply.status, reply.body) == (204, b"")
    assert cors_headers(reply) == {}
    assert reply.header("Vary") is None


def test_options_without_request_method_is_not_a_preflight(listed: Host) -> None:
    reply = call(listed, "OPTIONS", "/api/hello", headers={"Origin": LOCAL})
    assert (reply.status, reply.text) == (200, "OPTIONS")
    assert reply.header("Access-Control-Allow-Origin") == LOCAL


@pytest.mark.parametrize(
    ("path", "status"), [("/api/hello", 200), ("/api/fail", 500), ("/api/missing", 404)]
)
def test_every_answer_to_an_allowed_origin_carries_cors_headers(
    listed: Host, path: str, status: int
) -> None:
    reply = get(listed, path, headers={"Origin": LOCAL})
    assert reply.status == status
    assert cors_headers(reply) == {"Access-Control-Allow-Origin": LOCAL}
    assert reply.header("Vary") == "Origin"


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:3001",  # another port
        "https://localhost:3000",  # another scheme
        "http://localhost",  # no port
        "https://a.example.com",  # *.example.com matches nothing, as in func start
        "null",
    ],
)
def test_other_origins_are_served_without_cors_headers(listed: Host, origin: str) -> None:
    reply = get(listed, "/api/hello", headers={"Origin": origin})
    assert (reply.status, reply.text) == (200, "GET")
    assert cors_headers(reply) == {}


def test_origins_match_case_insensitively_and_are_echoed_as_sent(listed: Host) -> None:
    reply = get(listed, "/api/hello", headers={"Origin": "HTTPS://APP.example.COM"})
    assert reply.header("Access-Control-Allow-Origin") == "HTTPS://APP.example.COM"


def test_cors_overrides_the_functions_own_allow_origin(listed: Host) -> None:
    reply = get(listed, "/api/own", headers={"Origin": LOCAL})
    assert reply.header("Access-Control-Allow-Origin") == LOCAL
    assert reply.headers.get_all("Vary") == ["Accept-Encoding", "Origin"]
    untouched = get(listed, "/api/own", headers={"Origin": "http://evil.example"})
    assert untouched.header("Access-Control-Allow-Origin") == "https://other.example"


def test_a_wildcard_subdomain_is_reported_at_start_up(listed: Host) -> None:
    warned = [line for line in listed.lines if "never matches" in line]
    assert len(warned) == 1, listed.output
    assert "'https://*.example.com'" in warned[0]
    assert "wildcard subdomains" in warned[0]


def test_a_413_carries_cors_headers_too() -> None:
    # Raised by the body limit, not returned: CORS still labels it, so the page can read it.
    with serving("limits_protocol", "--cors", LOCAL) as host:
        reply = call(host, "POST", "/api/echo", body=b"x" * 2048, headers={"Origin": LOCAL})
    assert reply.status == 413
    assert cors_headers(reply) == {"Access-Control-Allow-Origin": LOCAL}


# --- any origin --------------------------------------------------------------------------


def test_any_origin_answers_star_without_vary(anyone: Host) -> None:
    reply = get(anyone, "/api/hello", headers={"Origin": "http://whoever.example:8080"})
    assert cors_headers(reply) == {"Access-Control-Allow-Origin": "*"}
    assert reply.header("Vary") is None


def test_any_origin_preflight(anyone: Host) -> None:
    reply = preflight(anyone, "http://whoever.example", "POST", "Authorization")
    assert reply.status == 204
    assert cors_headers(reply) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Authorization",
    }


def test_a_request_without_origin_gets_nothing(anyone: Host) -> None:
    reply = get(anyone, "/api/hello")
    assert (reply.status, cors_headers(reply)) == (200, {})


# --- credentials, from local.settings.json -----------------------------------------------


def test_credentials_from_local_settings_on_requests_and_preflights(credentialed: Host) -> None:
    expected = {
        "Access-Control-Allow-Origin": LOCAL,
        "Access-Control-Allow-Credentials": "true",
    }
    reply = get(credentialed, "/api/hello", headers={"Origin": LOCAL})
    assert (reply.status, reply.text, cors_headers(reply)) == (200, "hello", expected)
    assert cors_headers(preflight(credentialed, LOCAL, "GET")) == {
        **expected,
        "Access-Control-Allow-Methods": "GET",
    }
    assert cors_headers(get(credentialed, "/api/hello", headers={"Origin": APP})) == {}


@pytest.mark.parametrize("origins", ["*", "http://localhost:3000,*"])
def test_any_origin_with_credentials_refuses_to_start(origins: str) -> None:
    args = ["start", "--port", str(free_port()), "--cors", origins, "--cors-credentials"]
    result = run_funchost(args, APPS / "cors_basic", timeout=30)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"'--cors (Host.CORS)' is '{origins}'" in result.stderr
    assert "func start refuses this policy too" in result.stderr


# --- the policy on its own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "normalized"),
    [
        ("http://localhost:3000", "http://localhost:3000"),
        ("  HTTP://LocalHost:3000/ ", "http://localhost:3000"),
        ("http://example.com:80", "http://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("https://example.com:80", "https://example.com:80"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("capacitor://localhost", "capacitor://localhost"),
        ("null", "null"),
    ],
)
def test_normalize_origin(configured: str, normalized: str) -> None:
    assert normalize_origin(configured) == normalized


def test_no_origins_means_no_policy_and_no_middleware() -> None:
    assert build_policy((), credentials=True) is None
    assert cors.middlewares(StartOptions(script_root=Path("."))) == []


def test_configured_origins_install_one_middleware() -> None:
    options = StartOptions(script_root=Path("."), cors=(LOCAL,), cors_credentials=True)
    assert len(cors.middlewares(options)) == 1


def test_star_anywhere_in_the_list_allows_any_origin() -> None:
    policy = build_policy(("http://a.example", "*"), credentials=False)
    assert policy is not None and policy.any_origin
    assert policy.allows("http://b.example")


def test_star_with_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        build_policy(("*",), credentials=True)
    assert caught.value.value == "*"


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("https://*.example.com", "wildcards are not supported"),
        ("localhost:3000", "an origin starts with its scheme"),
        ("http://localhost:3000/app", "without a path"),
    ],
)
def test_origins_that_can_never_match_are_reported(
    caplog: pytest.LogCaptureFixture, origin: str, reason: str
) -> None:
    with caplog.at_level("WARNING", logger="funchost.host"):
        policy = build_policy((origin, LOCAL), credentials=False)
    assert policy is not None and policy.allows(LOCAL)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith(f"CORS origin '{origin}' never matches: ")
    assert reason in messages[0]


def test_plain_origins_are_not_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="funchost.host"):
        build_policy((LOCAL, "*", "null", "capacitor://localhost", f"{APP}/"), credentials=False)
    assert caplog.records == []
