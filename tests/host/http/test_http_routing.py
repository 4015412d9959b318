"""HTTP trigger end to end: verbs, route templates, constraints, precedence and routePrefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_helpers import Host, call, get, serving

ALL_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.fixture(scope="module")
def verbs() -> Iterator[Host]:
    with serving("http_verbs") as host:
        yield host


@pytest.fixture(scope="module")
def routes() -> Iterator[Host]:
    with serving("http_routes") as host:
        yield host


@pytest.fixture(scope="module")
def precedence() -> Iterator[Host]:
    with serving("http_precedence") as host:
        yield host


@pytest.fixture(scope="module")
def prefix_empty() -> Iterator[Host]:
    with serving("http_prefix_empty") as host:
        yield host


@pytest.fixture(scope="module")
def prefix_custom() -> Iterator[Host]:
    with serving("http_prefix_custom") as host:
        yield host


# --- verbs ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_declared_methods_are_accepted(verbs: Host, method: str) -> None:
    reply = call(verbs, method, "/api/getpost", body=b"")
    assert (reply.status, reply.text) == (200, method)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_other_methods_get_404(verbs: Host, method: str) -> None:
    reply = call(verbs, method, "/api/getpost")
    assert reply.status == 404
    assert reply.body == b""


@pytest.mark.parametrize("method", ALL_VERBS)
def test_no_methods_accepts_every_verb(verbs: Host, method: str) -> None:
    reply = call(verbs, method, "/api/anyverb", body=b"")
    assert (reply.status, reply.text) == (200, method)


def test_head_runs_the_function_and_sends_no_body(verbs: Host) -> None:
    reply = call(verbs, "HEAD", "/api/anyverb")
    assert reply.status == 200
    assert reply.header("X-Method") == "HEAD"
    assert reply.body == b""


def test_methods_as_enum_and_lower_case(verbs: Host) -> None:
    assert call(verbs, "PUT", "/api/lower", body=b"").text == "PUT"
    assert call(verbs, "DELETE", "/api/lower").text == "DELETE"
    assert call(verbs, "GET", "/api/lower").status == 404


def test_startup_report_lists_methods_and_urls(verbs: Host) -> None:
    base = f"http://localhost:{verbs.port}"
    assert f"\tgetpost: [GET,POST] {base}/api/getpost" in verbs.lines
    assert f"\tlower: [PUT,DELETE] {base}/api/lower" in verbs.lines
    anyverb = next(line for line in verbs.lines if line.startswith("\tanyverb: "))
    assert anyverb.endswith(f" {base}/api/anyverb")


# "/" is the host's home page (tests/host/http/test_homepage.py).
@pytest.mark.parametrize("path", ["/api/nope", "/api", "/getpost", "/api/getpost/extra"])
def test_unknown_path_is_404(verbs: Host, path: str) -> None:
    assert get(verbs, path).status == 404


# --- templates -----------------------------------------------------------------------


def values(host: Host, path: str) -> tuple[int, str | None, dict[str, str] | None]:
    """Status, the function that answered and its route values (None on a miss)."""
    reply = get(host, path)
    if reply.status != 200:
        return reply.status, None, None
    doc = reply.json()
    return 200, doc["function"], doc["params"]


def test_named_parameter_reaches_route_params(routes: Host) -> None:
    assert values(routes, "/api/hello/world") == (200, "hello", {"name": "world"})


def test_route_values_are_percent_decoded(routes: Host) -> None:
    assert values(routes, "/api/hello/J%C3%BCrgen%20M") == (200, "hello", {"name": "Jürgen M"})


def test_encoded_slash_stays_inside_its_segment(routes: Host) -> None:
    # Kestrel decodes every escape in the path except %2F, so it cannot split a segment.
    assert values(routes, "/api/hello/a%2Fb%20c") == (200, "hello", {"name": "a%2Fb c"})
    assert values(routes, "/api/files/x%2fy/z") == (200, "files", {"rest": "x%2fy/z"})


def test_routes_ignore_case_and_trailing_slash(routes: Host) -> None:
    assert values(routes, "/API/Hello/World/") == (200, "hello", {"name": "World"})


def test_two_parameters(routes: Host) -> None:
    assert values(routes, "/api/two/a/and/b") == (200, "two", {"first": "a", "second": "b"})
    assert values(routes, "/api/two/a/or/b")[0] == 404


def test_parameter_inside_a_segment(routes: Host) -> None:
    assert values(routes, "/api/report.pdf") == (200, "report", {"ext": "pdf"})


def test_optional_parameter(routes: Host) -> None:
    assert values(routes, "/api/opt/7") == (200, "optional", {"id": "7"})
    assert values(routes, "/api/opt") == (200, "optional", {})


def test_default_value(routes: Host) -> None:
    assert values(routes, "/api/lang/fr") == (200, "defaulted", {"code": "fr"})
    assert values(routes, "/api/lang") == (200, "defaulted", {"code": "en"})


def test_catch_all_takes_the_rest_of_the_path(routes: Host) -> None:
    assert values(routes, "/api/files/a/b/c.txt") == (200, "files", {"rest": "a/b/c.txt"})
    assert values(routes, "/api/files/one") == (200, "files", {"rest": "one"})
    assert values(routes, "/api/files") == (200, "files", {})


def test_route_defaults_to_the_function_name(routes: Host) -> None:
    assert values(routes, "/api/defaultroute") == (200, "defaultroute", {})
    assert values(routes, "/api/Renamed") == (200, "Renamed", {})
    assert values(routes, "/api/renamed_python_name")[0] == 404


CONSTRAINTS = [
    # (constraint, accepted value, rejected value)
    ("int", "/api/items/42", "/api/items/4x2"),
    ("int range", "/api/items/-2147483648", "/api/items/2147483648"),
    ("bool", "/api/c/bool/TRUE", "/api/c/bool/yes"),
    ("guid", "/api/c/guid/0f8fad5b-d9cb-469f-a165-70867728950e", "/api/c/guid/0f8fad5b-d9cb"),
    ("alpha", "/api/c/alpha/abcXYZ", "/api/c/alpha/abc1"),
    ("long", "/api/c/long/9223372036854775807", "/api/c/long/9223372036854775808"),
    ("double", "/api/c/double/-1.5e3", "/api/c/double/1.5.3"),
    ("datetime", "/api/c/datetime/2024-02-29", "/api/c/datetime/2023-02-29"),
    ("minlength", "/api/c/minlength/abc", "/api/c/minlength/ab"),
    ("maxlength", "/api/c/maxlength/abc", "/api/c/maxlength/abcd"),
    ("length low", "/api/c/length/ab", "/api/c/length/a"),
    ("length high", "/api/c/length/abcd", "/api/c/length/abcde"),
    ("min", "/api/c/min/10", "/api/c/min/9"),
    ("max", "/api/c/max/10", "/api/c/max/11"),
    ("range", "/api/c/range/5", "/api/c/range/6"),
    ("regex", "/api/c/regex/ab12", "/api/c/regex/abc12"),
    ("int:min", "/api/c/combined/5", "/api/c/combined/4"),
]


@pytest.mark.parametrize(
    ("accepted", "rejected"), [c[1:] for c in CONSTRAINTS], ids=[c[0] for c in CONSTRAINTS]
)
def test_constraint_accepts_and_rejects(routes: Host, accepted: str, rejected: str) -> None:
    status, _, params = values(routes, accepted)
    assert status == 200
    assert params == {"v" if "/c/" in accepted else "id": accepted.rsplit("/", 1)[1]}
    assert values(routes, rejected)[0] == 404


# --- precedence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "winner"),
    [
        ("/api/p/literal", "literal"),
        ("/api/P/LITERAL", "literal"),
        ("/api/p/other", "param"),
        ("/api/p/a/b", "catchall"),
        ("/api/p", "catchall"),
        ("/api/items/5", "item_int"),
        ("/api/items/five", "item_any"),
        ("/api/tie/abc", "tie_first"),
        ("/api/tie/a", "tie_second"),
    ],
)
def test_most_specific_route_wins(precedence: Host, path: str, winner: str) -> None:
    reply = get(precedence, path)
    assert (reply.status, reply.text) == (200, winner)


def test_same_route_split_by_method(precedence: Host) -> None:
    assert get(precedence, "/api/split").text == "split_get"
    assert call(precedence, "POST", "/api/split", body=b"").text == "split_post"
    assert call(precedence, "PUT", "/api/split", body=b"").status == 404


def test_a_route_that_refuses_the_method_gives_way(precedence: Host) -> None:
    assert call(precedence, "POST", "/api/m/fixed", body=b"").text == "method_literal"
    assert get(precedence, "/api/m/fixed").text == "method_param"


# --- routePrefix ---------------------------------------------------------------------


def test_empty_route_prefix(prefix_empty: Host) -> None:
    assert (get(prefix_empty, "/ping").status, get(prefix_empty, "/ping").text) == (200, "pong")
    assert get(prefix_empty, "/users/3").text == "user 3"
    assert get(prefix_empty, "/api/ping").status == 404
    # No function claims "/": the host's home page answers it, as under any routePrefix.
    assert get(prefix_empty, "/").status == 200
    assert f"\tping: [GET] http://localhost:{prefix_empty.port}/ping" in prefix_empty.lines


def test_custom_route_prefix(prefix_custom: Host) -> None:
    reply = get(prefix_custom, "/v1/x/ping")
    assert (reply.status, reply.text) == (200, "pong")
    assert get(prefix_custom, "/V1/X/users/8").text == "user 8"
    assert get(prefix_custom, "/api/ping").status == 404
    assert get(prefix_custom, "/v1/ping").status == 404
    assert get(prefix_custom, "/v1/xping").status == 404
    assert f"\tping: [GET] http://localhost:{prefix_custom.port}/v1/x/ping" in prefix_custom.lines


def test_admin_endpoints_are_not_under_the_prefix(prefix_empty: Host) -> None:
    assert get(prefix_empty, "/admin/host/ping").status == 200
