"""``generic_trigger(type="httpTrigger")`` + ``generic_output_binding(type="http")`` behave
exactly like ``@app.route``: each case calls the route twin (/api/r/...) and the generic
twin (/api/g/...) of one fixture app and expects the same answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import StartHost
from http_helpers import Host, Reply, call, invocation_lines, mark, serving

MASTER = "generic-master-key"
KINDS = ("r", "g")


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    with serving("generic_http") as running:
        yield running


def both(host: Host, method: str, path: str, body: bytes | None = None) -> tuple[Reply, Reply]:
    """The same request to the route twin and to the generic twin."""
    route, generic = (call(host, method, f"/api/{kind}/{path}", body=body) for kind in KINDS)
    return route, generic


def test_route_template_query_and_str_return(host: Host) -> None:
    route, generic = both(host, "GET", "hello/Ann?q=7")
    assert (route.status, route.text) == (200, "hello Ann GET 7")
    assert (generic.status, generic.text) == (route.status, route.text)
    assert generic.header("Content-Type") == route.header("Content-Type")
    assert route.header("Content-Type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize(("method", "status"), [("POST", 200), ("PUT", 404), ("DELETE", 404)])
def test_methods(host: Host, method: str, status: int) -> None:
    route, generic = both(host, method, "hello/Bo", body=b"")
    assert route.status == generic.status == status


@pytest.mark.parametrize(("path", "status"), [("items/42", 201), ("items/abc", 404)])
def test_constraint_and_http_response_return(host: Host, path: str, status: int) -> None:
    route, generic = both(host, "GET", path)
    assert route.status == generic.status == status
    assert route.body == generic.body
    if status == 201:
        assert generic.text == "item 42"
        assert route.header("x-item") == generic.header("x-item") == "yes"


def test_out_parameter_http_response(host: Host) -> None:
    route, generic = both(host, "GET", "out")
    assert (route.status, route.text) == (generic.status, generic.text) == (202, "from out")


def test_errors_are_a_bare_500_with_the_traceback_logged(host: Host) -> None:
    for kind in KINDS:
        since = mark(host)
        reply = call(host, "GET", f"/api/{kind}/fails")
        assert (reply.status, reply.body) == (500, b"")
        name = f"{kind}_fails"
        _, executed, new = invocation_lines(host, since, name)
        assert f"Executed 'Functions.{name}' (Failed" in executed
        kind_word = "route" if kind == "r" else "generic"
        assert any(f"ValueError: {kind_word} fails" in line for line in new), new


def test_executing_line_has_the_http_reason(host: Host) -> None:
    since = mark(host)
    assert call(host, "GET", "/api/g/hello/Cy").status == 200
    executing, _, _ = invocation_lines(host, since, "g_hello")
    reason = "This function was programmatically called via the host APIs."
    assert f"Executing 'Functions.g_hello' (Reason='{reason}'" in executing


def test_without_a_route_the_function_name_is_the_path(host: Host) -> None:
    reply = call(host, "GET", "/api/g_noroute")
    assert (reply.status, reply.text) == (200, "no route")
    assert call(host, "POST", "/api/g_noroute").status == 404


def test_startup_report_lines_match(host: Host) -> None:
    base = f"http://localhost:{host.port}"
    for kind in KINDS:
        assert f"\t{kind}_hello: [GET,POST] {base}/api/{kind}/hello/{{name}}" in host.lines
        line = next(x for x in host.lines if x.startswith(f"\t{kind}_item: "))
        assert line.endswith(f"] {base}/api/{kind}/items/{{id:int}}")
    assert f"\tg_noroute: [GET] {base}/api/g_noroute" in host.lines


def test_auth_level_is_honoured_when_enforced(start_host: StartHost, tmp_path: Path) -> None:
    env = {"FUNCTIONS_SECRETS_PATH": str(tmp_path), "FUNCTIONS_MASTER_KEY": MASTER}
    host = start_host("generic_http", "--enable-auth", env=env)
    route, generic = both(host, "GET", "keyed")
    assert route.status == generic.status == 401
    route, generic = both(host, "GET", f"keyed?code={MASTER}")
    assert (route.status, route.text) == (generic.status, generic.text) == (200, "keyed")
    own_key = json.loads((tmp_path / "g_keyed.json").read_text())["keys"][0]["value"]
    assert call(host, "GET", f"/api/g/keyed?code={own_key}").status == 200
    assert call(host, "GET", f"/api/r/keyed?code={own_key}").status == 401
    # Anonymous functions stay open.
    route, generic = both(host, "GET", "hello/Di")
    assert route.status == generic.status == 200
