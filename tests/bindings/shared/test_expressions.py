"""Binding expressions as the WebJobs SDK evaluates them: syntax, values, built-ins, messages."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from azure.functions.meta import Datum

from funchost.bindings.base import TriggerEvent
from funchost.bindings.shared.expressions import (
    ExpressionError,
    Template,
    check_names,
    compile_template,
    trigger_values,
)
from funchost.bindings.shared.netformat import FormatError, format_datetime, format_guid
from funchost.errors import BindingError

WHERE = "function 'f' binding 'out' property 'path'"
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STAMP = r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ"


def render(text: str, values: dict[str, object] | None = None) -> str:
    return compile_template(text, WHERE).render(values or {})


def error(text: str, values: dict[str, object] | None = None) -> str:
    with pytest.raises(ExpressionError) as caught:
        render(text, values)
    return str(caught.value)


# --- syntax ---------------------------------------------------------------------------------


def test_a_template_lists_the_names_it_uses() -> None:
    template = compile_template("out/{queueTrigger}-{data.name}/{rand-guid}{{x}}", WHERE)
    assert template == Template("out/{queueTrigger}-{data.name}/{rand-guid}{{x}}", template.names)
    assert template.names == frozenset({"queueTrigger", "data", "rand-guid"})
    assert not template.is_constant
    assert compile_template("plain/{{braces}}", WHERE).is_constant


def test_double_braces_are_literal_braces() -> None:
    assert render("a{{b}}c") == "a{b}c"
    assert render("{{{name}}}", {"name": "x"}) == "{x}"


def test_an_unclosed_brace_is_an_error_with_its_position() -> None:
    assert error("out/{name") == (
        f"{WHERE}: invalid template 'out/{{name': missing closing bracket at position 5"
    )


def test_a_stray_closing_brace_is_an_error_with_its_position() -> None:
    assert error("out/name}") == (
        f"{WHERE}: invalid template 'out/name}}': missing opening bracket at position 9"
    )


def test_empty_braces_are_an_error() -> None:
    assert error("a/{}") == (
        f"{WHERE}: invalid template 'a/{{}}': the parameter name at position 3 is empty"
    )


@pytest.mark.parametrize("expr", ["a-b", "1abc", "a..b", "a b", "a.", "-x"])
def test_an_expression_that_is_not_a_name_or_path_is_an_error(expr: str) -> None:
    assert error(f"{{{expr}}}") == (
        f"{WHERE}: invalid template '{{{expr}}}': '{{{expr}}}' is not a binding expression; "
        "expected {name}, {a.b} (a dotted path), {rand-guid} or {DateTime:yyyy-MM-dd}"
    )


def test_expression_errors_are_binding_errors() -> None:
    assert issubclass(ExpressionError, BindingError)


# --- values ---------------------------------------------------------------------------------


def test_names_are_looked_up_case_insensitively() -> None:
    assert render("{QUEUETRIGGER}/{queuetrigger}", {"queueTrigger": "m"}) == "m/m"


def test_dotted_paths_walk_into_objects_case_insensitively() -> None:
    values = {"data": {"Name": "n", "inner": {"Deep": 3}}}
    assert render("{data.name}-{DATA.Inner.deep}", values) == "n-3"


def test_values_print_as_the_host_prints_them() -> None:
    values = {"s": "x", "i": 42, "f": 1.5, "whole": 2.0, "t": True, "no": False, "null": None}
    assert render("{s}|{i}|{f}|{whole}|{t}|{no}|{null}", values) == "x|42|1.5|2|True|False|"


def test_a_format_applies_to_dates_and_is_ignored_for_strings() -> None:
    when = datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=timezone.utc)
    values = {"when": when, "name": "abc"}
    assert render("{when}|{when:yyyy/MM/dd}|{name:yyyy}", values) == (
        "2024-03-05T07-08-09Z|2024/03/05|abc"
    )


def test_an_unknown_name_names_the_known_ones() -> None:
    values = {"queueTrigger": "m", "DequeueCount": 1, "id": "7"}
    assert error("out/{nope}.txt", values) == (
        f"{WHERE}: no value for named parameter 'nope' (in '{{nope}}'); this invocation has: "
        "DequeueCount, id, queueTrigger"
    )


def test_a_missing_property_names_the_ones_there() -> None:
    assert error("{data.colour}", {"data": {"name": "n", "Size": 2}}) == (
        f"{WHERE}: no value for '{{data.colour}}': 'data' has no property 'colour'; "
        "it has: name, Size"
    )


def test_a_path_through_a_value_says_what_it_is() -> None:
    assert error("{name.first}", {"name": "plain"}) == (
        f"{WHERE}: no value for '{{name.first}}': 'name' is a string, not an object"
    )


def test_an_object_is_not_a_value() -> None:
    assert error("{data}", {"data": {"name": "n"}}) == (
        f"{WHERE}: '{{data}}' is an object, not a value; expected a string, number or boolean "
        "(a property of it, such as {data.name})"
    )
    assert error("{items}", {"items": [1, 2]}) == (
        f"{WHERE}: '{{items}}' is an array, not a value; expected a string, number or boolean"
    )


# --- built-ins ------------------------------------------------------------------------------


def test_rand_guid_is_new_each_time() -> None:
    template = compile_template("{rand-guid}", WHERE)
    first, second = template.render({}), template.render({})
    assert re.fullmatch(GUID, first) and re.fullmatch(GUID, second)
    assert first != second


def test_rand_guid_and_sys_randguid_take_guid_formats() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", render("{rand-guid:N}"))
    assert re.fullmatch(r"[0-9a-f]{32}", render("{sys.randguid:n}"))
    assert re.fullmatch(r"\{" + GUID + r"\}", render("{RAND-GUID:B}"))
    assert re.fullmatch(GUID, render("{sys.RandGuid}"))


def test_datetime_defaults_to_the_hosts_path_safe_format() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    text = render("{DateTime}|{sys.utcnow}|{datetime}")
    first, second, third = text.split("|")
    for stamp in (first, second, third):
        assert re.fullmatch(STAMP, stamp)
        parsed = datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%SZ").replace(tzinfo=timezone.utc)
        assert before <= parsed <= before + timedelta(seconds=5)


def test_datetime_takes_a_dotnet_format() -> None:
    text = render("{DateTime:yyyy-MM-dd}/{sys.utcnow:HH:mm:ss.fff}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d/\d\d:\d\d:\d\d\.\d{3}", text)


def test_a_trigger_value_named_datetime_wins_over_the_clock_without_a_format() -> None:
    values = {"DateTime": "from-trigger", "sys": {"utcnow": "mine"}}
    assert render("{DateTime}", values) == "from-trigger"
    assert re.fullmatch(r"\d{4}", render("{DateTime:yyyy}", values))
    assert render("{sys.utcnow}", values) == "mine"


def test_a_bad_builtin_format_fails_at_compile_time() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_template("{rand-guid:Q}", WHERE)
    assert str(caught.value) == (
        f"{WHERE}: invalid template '{{rand-guid:Q}}': '{{rand-guid:Q}}': the Guid format 'Q' "
        "is not supported; expected N, D, B or P"
    )
    with pytest.raises(ExpressionError) as caught:
        compile_template("{DateTime:x}", WHERE)
    assert str(caught.value) == (
        f"{WHERE}: invalid template '{{DateTime:x}}': '{{DateTime:x}}': the standard format "
        "'x' is not supported; expected o, s or u, or a custom format such as yyyy-MM-dd"
    )


# --- .NET formats ---------------------------------------------------------------------------

WHEN = datetime(2024, 3, 5, 17, 8, 9, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (None, "2024-03-05T17-08-09Z"),
        ("yyyy-MM-dd", "2024-03-05"),
        ("yy/M/d H:m:s", "24/3/5 17:8:9"),
        ("hh tt h t", "05 PM 5 P"),
        ("fff|ffffff|fffffff|FFFF", "123|123456|1234560|1234"),
        ("ddd dddd MMM MMMM", "Tue Tuesday Mar March"),
        ("yyyy'T'HH 'lit' \\y \"q\"", "2024T17 lit y q"),
        ("%d", "5"),
        ("K zzz zz z", "Z +00:00 +00 +0"),
        ("o", "2024-03-05T17:08:09.1234560Z"),
        ("s", "2024-03-05T17:08:09"),
        ("u", "2024-03-05 17:08:09Z"),
        ("yyyyMMddTHHmmss", "20240305T170809"),
    ],
)
def test_dotnet_datetime_formats(fmt: str | None, expected: str) -> None:
    assert format_datetime(WHEN, fmt) == expected


def test_an_offset_prints_as_dotnet_does() -> None:
    when = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    assert format_datetime(when, "K|zzz|zz") == "-05:30|-05:30|-05"


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("'open", "the quoted literal 'open has no closing quote"),
        ("yyyy\\", "the format ends with an escape character (\\)"),
        ("ffffffff", "'ffffffff' has more than 7 fraction digits"),
    ],
)
def test_bad_datetime_formats(fmt: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        format_datetime(WHEN, fmt)
    assert str(caught.value) == message


def test_guid_formats() -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert format_guid(value, None) == "12345678-1234-5678-1234-567812345678"
    assert format_guid(value, "N") == "12345678123456781234567812345678"
    assert format_guid(value, "P") == "(12345678-1234-5678-1234-567812345678)"


# --- trigger values -------------------------------------------------------------------------


def test_trigger_values_are_metadata_and_json_payload_properties() -> None:
    event = TriggerEvent(
        data=Datum('{"id": 7, "data": {"name": "n"}, "queueTrigger": "payload"}', "json"),
        metadata={
            "QueueTrigger": Datum('{"id": 7}', "string"),
            "DequeueCount": Datum(2, "int"),
            "Properties": Datum('{"a": "b"}', "json"),
        },
    )
    values = trigger_values(event)
    assert values == {
        "id": 7,
        "data": {"name": "n"},
        "queueTrigger": "payload",
        "QueueTrigger": '{"id": 7}',
        "DequeueCount": 2,
        "Properties": {"a": "b"},
    }
    # Metadata is added last: the trigger's own names win over payload properties.
    assert compile_template("{queuetrigger}", WHERE).render(values) == '{"id": 7}'
    assert compile_template("{id}-{data.name}-{properties.a}", WHERE).render(values) == "7-n-b"


def test_a_string_payload_that_is_a_json_object_adds_its_properties() -> None:
    event = TriggerEvent(data=Datum(b'{"name": "from-bytes"}', "bytes"))
    assert trigger_values(event) == {"name": "from-bytes"}
    assert trigger_values(TriggerEvent(data=Datum("[1, 2]", "string"))) == {}
    assert trigger_values(TriggerEvent(data=Datum("not json {", "string"))) == {}


def test_http_requests_give_query_headers_and_json_body_properties() -> None:
    import azure.functions as func

    request = func.HttpRequest(
        "POST",
        "http://localhost/api/x?code=1",
        headers={"X-Thing": "t"},
        params={"code": "1"},
        route_params={},
        body=b'{"order": {"id": "o-1"}}',
    )
    event = TriggerEvent(data=Datum(request, "http"), metadata={"id": Datum("r", "string")})
    values = trigger_values(event)
    template = compile_template("{Query.code}/{headers.x-thing}/{order.id}/{id}", WHERE)
    assert template.names == frozenset({"Query", "headers", "order", "id"})
    assert template.render(values) == "1/t/o-1/r"


# --- names known at load --------------------------------------------------------------------


def test_check_names_accepts_known_names_and_builtins() -> None:
    template = compile_template("{Name}/{rand-guid}/{DateTime:yyyy}/{sys.utcnow}", WHERE)
    check_names(template, {"name", "BlobTrigger"}, WHERE)
    check_names(compile_template("{anything}", WHERE), None, WHERE)  # open: not checked


def test_check_names_fails_on_an_unknown_name_listing_the_known_ones() -> None:
    with pytest.raises(ExpressionError) as caught:
        check_names(compile_template("out/{nmae}.txt", WHERE), {"name", "BlobTrigger"}, WHERE)
    assert str(caught.value) == (
        f"{WHERE}: no binding parameter exists for 'nmae' (in '{{nmae}}'); the trigger "
        "provides: BlobTrigger, name, and the built-ins rand-guid, DateTime, sys.randguid and "
        "sys.utcnow"
    )
