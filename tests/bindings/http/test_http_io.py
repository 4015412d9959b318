"""HTTP trigger end to end: what reaches a function, what it sends back, and how it runs."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from http_helpers import (
    APPS,
    REASON,
    REQUEST_TIMEOUT,
    STAMP,
    UUID,
    Host,
    call,
    get,
    invocation_id,
    invocation_lines,
    mark,
    serving,
)


@pytest.fixture(scope="module")
def responses() -> Iterator[Host]:
    with serving("http_responses") as host:
        yield host


@pytest.fixture(scope="module")
def requests() -> Iterator[Host]:
    with serving("http_requests") as host:
        yield host


@pytest.fixture(scope="module")
def context() -> Iterator[Host]:
    with serving("http_context") as host:
        yield host


@pytest.fixture(scope="module")
def blueprint() -> Iterator[Host]:
    with serving("http_blueprint") as host:
        yield host


@pytest.fixture(scope="module")
def errors() -> Iterator[Host]:
    with serving("http_errors") as host:
        yield host


# --- responses -----------------------------------------------------------------------


def test_str_return_is_200_text_plain(responses: Host) -> None:
    reply = get(responses, "/api/text")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert reply.body.decode("utf-8") == "plain text é"


def test_none_from_a_function_whose_response_is_its_return_value_fails_it(
    responses: Host,
) -> None:
    # The Python worker encodes $return even when it is None, and the library's http
    # converter refuses None: the invocation fails, and the host answers a bare 500.
    since = mark(responses)
    reply = get(responses, "/api/nothing")
    assert (reply.status, reply.body) == (500, b"")
    _, executed, new = invocation_lines(responses, since, "nothing")
    assert "(Failed, " in executed
    text = "\n".join(new)
    assert "Exception while executing function: Functions.nothing" in text
    assert "returned None" in text and "$return" in text


def test_out_never_set_is_204(responses: Host) -> None:
    # Nothing reaches the host's http output, so its trigger hands ASP.NET Core a null
    # result, which MVC's ObjectResult answers with 204 No Content.
    since = mark(responses)
    reply = get(responses, "/api/outnotset")
    assert (reply.status, reply.body) == (204, b"")
    _, executed, _ = invocation_lines(responses, since, "outnotset")
    assert "(Succeeded, " in executed


def test_empty_http_response_is_200_with_no_body(responses: Host) -> None:
    reply = get(responses, "/api/empty")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.header("Content-Length") == "0"


def test_custom_headers_and_mimetype(responses: Host) -> None:
    reply = get(responses, "/api/custom")
    assert reply.status == 200
    assert reply.header("X-Custom") == "value-1"
    assert reply.header("Cache-Control") == "no-store"
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {"ok": True}


def test_charset_encodes_the_body(responses: Host) -> None:
    reply = get(responses, "/api/latin")
    assert reply.header("Content-Type") == "text/html; charset=latin-1"
    assert reply.body == "café".encode("latin-1")


def test_201_with_location(responses: Host) -> None:
    reply = call(responses, "POST", "/api/created", body=b"{}")
    assert (reply.status, reply.text) == (201, "made")
    assert reply.header("Location") == "/api/things/1"


def test_302_redirect_is_not_followed_by_the_host(responses: Host) -> None:
    reply = get(responses, "/api/redirect")
    assert reply.status == 302
    assert reply.header("Location") == "https://example.com/next"


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/api/accepted", 202, "queued"),
        ("/api/teapot", 418, "short and stout"),
        ("/api/notfound", 404, "no such thing"),
    ],
)
def test_status_codes_keep_their_body(responses: Host, path: str, status: int, body: str) -> None:
    reply = get(responses, path)
    assert (reply.status, reply.text) == (status, body)


def test_out_http_response_binding(responses: Host) -> None:
    reply = get(responses, "/api/out")
    assert (reply.status, reply.text) == (202, "from Out")
    assert reply.header("X-Via") == "out"


@pytest.mark.parametrize("kind", ["length", "chunked"])
def test_framing_headers_from_the_function_cannot_corrupt_the_connection(
    responses: Host, kind: str
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", responses.port, timeout=REQUEST_TIMEOUT)
    try:
        for _ in range(2):  # the second response on the same connection must be intact too
            conn.request("GET", f"/api/framing?kind={kind}")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"hello world")
    finally:
        conn.close()


# --- requests ------------------------------------------------------------------------


def test_binary_body_round_trips(requests: Host) -> None:
    payload = os.urandom(256 * 1024)
    reply = call(
        requests,
        "POST",
        "/api/echo",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/octet-stream"
    assert reply.body == payload


def test_compressed_body_arrives_as_sent(requests: Host) -> None:
    payload = gzip.compress(b"compressed by the client")
    reply = call(requests, "POST", "/api/echo", body=payload, headers={"Content-Encoding": "gzip"})
    assert (reply.status, reply.body) == (200, payload)


def test_empty_body(requests: Host) -> None:
    reply = call(requests, "PUT", "/api/echo", body=b"")
    assert (reply.status, reply.body) == (200, b"")


def test_get_json(requests: Host) -> None:
    doc = {"name": "Zoë", "n": [1, 2.5, None, True]}
    reply = call(
        requests,
        "POST",
        "/api/json",
        body=json.dumps(doc),
        headers={"Content-Type": "application/json"},
    )
    assert reply.json() == {"got": doc}


def test_get_json_on_invalid_json_raises_value_error(requests: Host) -> None:
    reply = call(requests, "POST", "/api/json", body=b"{not json")
    assert reply.status == 400
    assert reply.text.startswith("bad json: ")


def test_form_data(requests: Host) -> None:
    body = urlencode([("a", "1"), ("b", "x y"), ("a", "2")])
    reply = call(
        requests,
        "POST",
        "/api/form",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.json() == {"a": ["1", "2"], "b": ["x y"]}


def test_query_headers_url_and_route_params(requests: Host) -> None:
    reply = get(
        requests,
        "/api/inspect/thing1?x=1&y=two%20words&plus=a+b",
        headers={"X-Test": "header value"},
    )
    doc = reply.json()
    assert doc["method"] == "GET"
    assert doc["url"] == (
        f"http://127.0.0.1:{requests.port}/api/inspect/thing1?x=1&y=two%20words&plus=a+b"
    )
    assert doc["params"] == {"x": "1", "y": "two words", "plus": "a b"}
    assert doc["route_params"] == {"thing": "thing1"}
    assert doc["x_test_lower"] == doc["x_test_upper"] == "header value"
    assert doc["content_type"] is None


def test_url_uses_the_host_header(requests: Host) -> None:
    doc = get(requests, "/api/inspect/t?q=1", headers={"Host": "example.org:8080"}).json()
    assert doc["url"] == "http://example.org:8080/api/inspect/t?q=1"


def test_repeated_query_parameter_is_joined_with_commas(requests: Host) -> None:
    # As the host's StringValues.ToString(): names ignore case, empty values are skipped.
    doc = get(requests, "/api/inspect/t?a=1&A=2&a=&b=x").json()
    assert doc["params"] == {"a": "1,2", "b": "x"}


def test_empty_query_values_are_left_out(requests: Host) -> None:
    doc = get(requests, "/api/inspect/t?empty=&flag&kept=1").json()
    assert doc["params"] == {"kept": "1"}


def test_repeated_and_empty_headers(requests: Host) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", requests.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.putrequest("GET", "/api/inspect/t")
        conn.putheader("X-Multi", "one")
        conn.putheader("x-multi", "two")
        conn.putheader("X-Empty", "")
        conn.endheaders()
        doc = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert doc["x_multi"] == "one,two"
    assert doc["x_empty"] == ""


# --- context, sync and async ---------------------------------------------------------


def test_context_matches_the_log(context: Host) -> None:
    since = mark(context)
    doc = get(context, "/api/ctx").json()
    executing, executed, _ = invocation_lines(context, since, "ctx")
    assert doc["invocation_id"] == invocation_id(executing)
    assert f"Id={doc['invocation_id']}," in executed
    assert doc["function_name"] == "ctx"
    assert os.path.samefile(doc["function_directory"], APPS / "http_context")
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", doc["trace_parent"])
    assert doc["retry_count"] == 0


def test_context_continues_the_callers_trace(context: Host) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    incoming = f"00-{trace_id}-00f067aa0ba902b7-01"
    doc = get(context, "/api/ctx", headers={"traceparent": incoming}).json()
    assert doc["trace_parent"].split("-")[1] == trace_id
    assert doc["trace_parent"] != incoming  # a span of its own


def test_each_invocation_has_its_own_id(context: Host) -> None:
    first = get(context, "/api/ctx").json()["invocation_id"]
    second = get(context, "/api/ctx").json()["invocation_id"]
    assert re.fullmatch(UUID, first) and first != second


def test_sync_function_runs_in_a_worker_thread_and_logs(context: Host) -> None:
    since = mark(context)
    reply = get(context, "/api/sync")
    assert reply.status == 200
    assert reply.text != "MainThread"
    executing, executed, new = invocation_lines(context, since, "sync")
    assert re.fullmatch(rf"{STAMP} sync function says hello", _one(new, "says hello"))
    assert re.fullmatch(rf"{STAMP} sync warning from my.module", _one(new, "my.module"))
    invocation = invocation_id(executing)
    assert re.fullmatch(
        rf"{STAMP} Executing 'Functions.sync' \(Reason='{re.escape(REASON)}', Id={invocation}\)",
        executing,
    )
    assert re.fullmatch(
        rf"{STAMP} Executed 'Functions.sync' \(Succeeded, Id={invocation}, Duration=\d+ms\)",
        executed,
    )
    assert new.index(executing) < new.index(_one(new, "says hello")) < new.index(executed)


def test_async_function_runs_on_the_event_loop_and_logs(context: Host) -> None:
    since = mark(context)
    reply = get(context, "/api/async")
    assert (reply.status, reply.text) == (200, "MainThread")
    _, _, new = invocation_lines(context, since, "asyncfn")
    assert re.fullmatch(rf"{STAMP} async function says hello", _one(new, "says hello"))


@pytest.mark.parametrize("path", ["/api/sleepy", "/api/asleep"])
def test_concurrent_requests_overlap(context: Host, path: str) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: get(context, path), range(4)))
    elapsed = time.monotonic() - started
    assert [r.text for r in replies] == ["rested"] * 4
    assert elapsed < 1.5, f"4 calls of 0.5 s took {elapsed:.2f} s: they did not overlap"


def _one(lines: list[str], text: str) -> str:
    found = [line for line in lines if text in line]
    assert len(found) == 1, "\n".join(lines)
    return found[0]


# --- blueprints ----------------------------------------------------------------------


def test_blueprint_functions_are_served(blueprint: Host) -> None:
    reply = get(blueprint, "/api/bp/hello/ann")
    assert (reply.status, reply.text) == (200, "hello ann from the blueprint")
    reply = call(blueprint, "POST", "/api/bp/echo", body=b"\x00\x01bp")
    assert (reply.status, reply.body) == (200, b"\x00\x01bp")
    assert get(blueprint, "/api/main").text == "from the app"
    assert call(blueprint, "POST", "/api/bp/hello/ann", body=b"").status == 404


def test_blueprint_functions_are_in_the_report(blueprint: Host) -> None:
    base = f"http://localhost:{blueprint.port}/api"
    assert f"\tbp_hello: [GET] {base}/bp/hello/{{name}}" in blueprint.lines
    assert f"\tbp_echo: [POST] {base}/bp/echo" in blueprint.lines


# --- failures ------------------------------------------------------------------------


def test_exception_is_500_with_empty_body_and_logged(errors: Host) -> None:
    since = mark(errors)
    reply = get(errors, "/api/fails?v=oops")
    assert (reply.status, reply.body) == (500, b"")
    executing, executed, new = invocation_lines(errors, since, "fails")
    invocation = invocation_id(executing)
    assert re.fullmatch(
        rf"{STAMP} Executed 'Functions.fails' \(Failed, Id={invocation}, Duration=\d+ms\)",
        executed,
    )
    text = "\n".join(new)
    assert "Exception: ValueError: bad value 'oops'" in text
    assert re.search(r'File ".*function_app\.py", line \d+, in fails', text), text
    assert re.search(r'File ".*function_app\.py", line \d+, in check_value', text), text
    assert "funchost" not in text.split("Exception: ValueError", 1)[1], text


def test_async_exception_is_500(errors: Host) -> None:
    since = mark(errors)
    assert get(errors, "/api/afails").status == 500
    _, executed, new = invocation_lines(errors, since, "afails")
    assert "(Failed, " in executed
    assert "Exception: KeyError: 'missing-key'" in "\n".join(new)


def test_unencodable_return_value_is_500(errors: Host) -> None:
    since = mark(errors)
    assert get(errors, "/api/wrongtype").status == 500
    _, executed, new = invocation_lines(errors, since, "wrongtype")
    assert "(Failed, " in executed
    assert "int" in "\n".join(new[new.index(executed) :])


def test_the_host_keeps_serving_after_failures(errors: Host) -> None:
    for path in ("/api/fails", "/api/afails", "/api/wrongtype"):
        get(errors, path)
    reply = get(errors, "/api/fine")
    assert (reply.status, reply.text) == (200, "still serving")


def test_with_two_http_outputs_the_one_set_answers(responses: Host) -> None:
    # Setting the Out parameter does not excuse a None return: $return is encoded anyway.
    since = mark(responses)
    reply = get(responses, "/api/two_outputs/out")
    assert (reply.status, reply.body) == (500, b"")
    _, executed, _ = invocation_lines(responses, since, "two_outputs")
    assert "(Failed, " in executed
    reply = get(responses, "/api/two_outputs/return")
    assert (reply.status, reply.text) == (200, "from $return")
