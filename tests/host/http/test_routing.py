"""Route templates and the route table, as ASP.NET Core / the Functions host read them."""

from __future__ import annotations

import pytest

from funchost.errors import FunctionLoadError
from funchost.host.http.routing import CompiledRoute, RouteError, RouteTable, compile_route

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def route(template: str) -> CompiledRoute:
    return compile_route(template, "fn")


def table(*routes: tuple[str, frozenset[str] | None]) -> RouteTable[str]:
    """A table whose targets are the templates themselves."""
    result: RouteTable[str] = RouteTable()
    for index, (template, methods) in enumerate(routes):
        result.add(route(template), methods, template, f"f{index}")
    return result


def winner(routes: RouteTable[str], path: str, method: str = "GET") -> str | None:
    found = routes.match(method, path)
    return None if found is None else found[0]


# --- matching a single template ----------------------------------------------------------


def test_template_is_normalized() -> None:
    assert route("/items/{id}/").template == "items/{id}"


def test_literals_match_case_insensitively_and_ignore_a_trailing_slash() -> None:
    assert route("api/Items").match("API/items/") == {}
    assert route("api/items").match("api/item") is None
    assert route("api/items").match("api/items/x") is None


def test_empty_template_matches_only_the_empty_path() -> None:
    assert route("").match("") == {}
    assert route("").match("x") is None


def test_parameter_takes_one_nonempty_segment() -> None:
    assert route("items/{id}").match("items/42") == {"id": "42"}
    assert route("items/{id}").match("items") is None
    assert route("items/{id}").match("items/1/2") is None


def test_optional_parameter_is_omitted_when_absent() -> None:
    assert route("items/{id?}").match("items") == {}
    assert route("items/{id?}").match("items/7") == {"id": "7"}


def test_defaults_fill_absent_trailing_segments() -> None:
    compiled = route("{controller=Home}/{action=Index}/{id?}")
    assert compiled.match("") == {"controller": "Home", "action": "Index"}
    assert compiled.match("shop") == {"controller": "shop", "action": "Index"}
    assert compiled.match("shop/buy/3") == {"controller": "shop", "action": "buy", "id": "3"}


def test_default_before_a_required_segment_makes_it_required() -> None:
    assert route("{a=x}/b").match("b") is None
    assert route("{a=x}/b").match("y/b") == {"a": "y"}


def test_constrained_default_and_optional() -> None:
    assert route("items/{id:int=5}").match("items") == {"id": "5"}
    assert route("items/{id:int?}").match("items") == {}
    assert route("items/{id:int?}").match("items/x") is None


@pytest.mark.parametrize("star", ["*", "**"])
def test_catch_all_matches_absent_one_or_many_segments(star: str) -> None:
    compiled = route(f"files/{{{star}path}}")
    assert compiled.match("files") == {}
    assert compiled.match("files/") == {}
    assert compiled.match("files/a") == {"path": "a"}
    assert compiled.match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert compiled.match("other/a") is None


def test_catch_all_alone_matches_everything_and_takes_a_default() -> None:
    assert route("{*all}").match("") == {}
    assert route("{*all}").match("x/y") == {"all": "x/y"}
    assert route("docs/{*page=index}").match("docs") == {"page": "index"}


def test_complex_segments_split_at_the_last_literal() -> None:
    assert route("{a}.{b}").match("x.y.z") == {"a": "x.y", "b": "z"}
    assert route("files/file-{name}").match("files/FILE-report") == {"name": "report"}
    assert route("files/file-{name}").match("files/file-") is None
    assert route("v{major}.{minor}/x").match("v1.2/x") == {"major": "1", "minor": "2"}


def test_complex_segment_with_optional_extension() -> None:
    compiled = route("files/{name}.{ext?}")
    assert compiled.match("files/report.pdf") == {"name": "report", "ext": "pdf"}
    assert compiled.match("files/a.b.c") == {"name": "a.b", "ext": "c"}
    assert compiled.match("files/readme") == {"name": "readme"}


def test_escaped_braces_are_literal() -> None:
    assert route("a{{b}}/{id}").match("a{b}/1") == {"id": "1"}


def test_regex_argument_may_hold_braces_and_parentheses() -> None:
    compiled = route(r"x/{id:regex(^(\d{{3}})$)}")
    assert compiled.match("x/123") == {"id": "123"}
    assert compiled.match("x/1234") is None


# --- constraints -------------------------------------------------------------------------

CONSTRAINTS = [
    ("int", ["5", "-7", "+3", "2147483647", "-2147483648"], ["2147483648", "x", "1.5", "1e3"]),
    ("long", ["2147483648", "-9223372036854775808"], ["9223372036854775808", "1" * 5000]),
    ("bool", ["true", "FALSE", "True"], ["yes", "1", "truee"]),
    ("guid", [GUID, GUID.replace("-", ""), "{" + GUID + "}", f"({GUID.upper()})"], ["123"]),
    ("guid", [GUID], [GUID[:-1] + "g", "{" + GUID, GUID + "0"]),
    ("alpha", ["abcXYZ"], ["abc1", "é", "a-b"]),
    ("double", ["1.5", "-2e10", "1,000.25", ".5", "NaN", "-Infinity"], ["abc", "1.2.3", "e5"]),
    ("float", ["3", "3.", "+1E-3"], ["3f", "0x10"]),
    ("decimal", ["1.5", "-1,000", "79228162514264337593543950335"], ["1e5", "7" + "0" * 29]),
    ("datetime", ["2024-01-31", "2024-01-31T10:20:30"], ["2024-13-01", "tomorrow"]),
    ("minlength(3)", ["abc", "abcd"], ["ab"]),
    ("maxlength(3)", ["abc", "a"], ["abcd"]),
    ("length(3)", ["abc"], ["ab", "abcd"]),
    ("length(2,3)", ["ab", "abc"], ["a", "abcd"]),
    ("min(1)", ["1", "100"], ["0", "-1", "x"]),
    ("max(10)", ["10", "-5"], ["11", "ten"]),
    ("range(1,10)", ["1", "10"], ["0", "11"]),
    ("regex(^[a-c]+$)", ["abc", "CAB"], ["abcd", "xabc"]),
    ("regex(ab)", ["xaby", "AB"], ["xy"]),  # unanchored, like ASP.NET's Regex.IsMatch
    ("int:min(1)", ["1", "99"], ["0", "x"]),
    ("INT", ["1"], ["x"]),
]


@pytest.mark.parametrize(("constraint", "accepted", "rejected"), CONSTRAINTS)
def test_constraint(constraint: str, accepted: list[str], rejected: list[str]) -> None:
    compiled = route(f"v/{{value:{constraint}}}")
    assert [value for value in accepted if compiled.match(f"v/{value}") is None] == []
    assert [value for value in rejected if compiled.match(f"v/{value}") is not None] == []


def test_constraint_applies_to_the_whole_catch_all_value() -> None:
    assert route("x/{*rest:maxlength(3)}").match("x/a/b") == {"rest": "a/b"}
    assert route("x/{*rest:maxlength(3)}").match("x/a/bc") is None


# --- precedence --------------------------------------------------------------------------


def test_precedence_orders_segment_kinds() -> None:
    kinds = ["a/b", "a/x{b}", "a/{b:int}", "a/{b}", "a/{b:int?}", "a/{b?}", "a/{*b:int}", "a/{*b}"]
    precedences = [route(template).precedence for template in kinds]
    assert precedences == sorted(precedences)
    assert len(set(precedences)) == len(kinds)


def test_literal_beats_parameter_beats_catch_all() -> None:
    routes = table(("items/{*rest}", None), ("items/{id}", None), ("items/new", None))
    assert winner(routes, "items/new") == "items/new"
    assert winner(routes, "items/5") == "items/{id}"
    assert winner(routes, "items/5/6") == "items/{*rest}"


def test_constrained_beats_unconstrained() -> None:
    routes = table(("items/{id}", None), ("items/{id:int}", None))
    assert winner(routes, "items/5") == "items/{id:int}"
    assert winner(routes, "items/x") == "items/{id}"


def test_complex_beats_parameter_and_required_beats_optional() -> None:
    routes = table(("items/{id?}", None), ("items/{id}", None), ("items/{name}.json", None))
    assert winner(routes, "items/a.json") == "items/{name}.json"
    assert winner(routes, "items/a") == "items/{id}"
    assert winner(routes, "items") == "items/{id?}"


def test_catch_all_at_the_root_is_the_last_resort() -> None:
    routes = table(("{*all}", None), ("items/{id}", None))
    assert winner(routes, "items/5") == "items/{id}"
    assert winner(routes, "other/5") == "{*all}"
    assert winner(routes, "") == "{*all}"


def test_earlier_literal_segment_wins() -> None:
    routes = table(("{a}/b", None), ("a/{b}", None))
    assert winner(routes, "a/b") == "a/{b}"
    assert winner(routes, "z/b") == "{a}/b"


@pytest.mark.parametrize("order", [1, -1])
def test_declaration_order_breaks_ties(order: int) -> None:
    templates = ["{n:int}", "{n:min(1)}"][::order]
    routes = table(*((template, None) for template in templates))
    assert winner(routes, "5") == templates[0]


# --- methods -----------------------------------------------------------------------------


def test_method_filtering_picks_the_most_specific_route_allowing_it() -> None:
    routes = table(
        ("items/{id:int}", frozenset({"GET"})),
        ("items/{id}", frozenset({"POST"})),
        ("items/new", frozenset({"PUT"})),
    )
    assert winner(routes, "items/5", "GET") == "items/{id:int}"
    assert winner(routes, "items/5", "post") == "items/{id}"
    assert winner(routes, "items/new", "POST") == "items/{id}"
    assert winner(routes, "items/new", "PUT") == "items/new"


def test_no_route_or_no_allowed_method_gives_none() -> None:
    routes = table(("items/{id}", frozenset({"GET"})), ("about", frozenset({"GET"})))
    assert winner(routes, "items/5", "DELETE") is None
    assert winner(routes, "about", "POST") is None
    assert winner(routes, "nothing/here") is None


def test_match_returns_target_and_values() -> None:
    routes: RouteTable[int] = RouteTable()
    routes.add(route("users/{user}/posts/{post:int}"), None, 7, "posts")
    assert routes.match("GET", "Users/ann/POSTS/3/") == (7, {"user": "ann", "post": "3"})
    assert len(routes) == 1


# --- conflicts ---------------------------------------------------------------------------


def test_same_route_and_method_in_two_functions_is_an_error() -> None:
    routes: RouteTable[str] = RouteTable()
    routes.add(compile_route("items/{id}", "get_item"), frozenset({"GET", "POST"}), "a", "get_item")
    with pytest.raises(RouteError) as caught:
        routes.add(compile_route("Items/{key}", "put"), frozenset({"post", "PUT"}), "b", "put")
    assert str(caught.value) == (
        "function 'put': route 'Items/{key}' for POST conflicts with function 'get_item' "
        "(route 'items/{id}'); expected one function per route and method"
    )
    assert len(routes) == 1


def test_conflict_between_any_method_routes() -> None:
    routes = table(("docs/{page?}", None))
    with pytest.raises(RouteError) as caught:
        routes.add(route("docs/{name=index}"), None, "x", "other")
    assert str(caught.value) == (
        "function 'other': route 'docs/{name=index}' for any method conflicts with function "
        "'f0' (route 'docs/{page?}'); expected one function per route and method"
    )


def test_disjoint_methods_or_different_constraints_do_not_conflict() -> None:
    routes = table(
        ("items/{id}", frozenset({"GET"})),
        ("items/{key}", frozenset({"POST"})),
        ("items/{id:int}", None),
        ("about", frozenset({"GET"})),
        ("About", frozenset({"POST"})),
    )
    assert len(routes) == 5
    assert winner(routes, "about", "POST") == "About"


# --- bad templates -----------------------------------------------------------------------

KNOWN = (
    "int, long, bool, guid, alpha, double, float, decimal, datetime, "
    "minlength, maxlength, length, min, max, range, regex"
)

BAD_TEMPLATES = [
    ("items/{id", "unclosed '{' at position 6; expected '}' to end the parameter"),
    ("items/{a{b}", "unclosed '{' at position 6; expected '}' to end the parameter"),
    ("items/id}", "unmatched '}' at position 8; write '}}' for a literal brace"),
    ("a//b", "has an empty segment; expected no '//' inside a route"),
    ("a?b", "literal 'a?b' contains '?'; a query is not part of a route"),
    (
        "items/{}",
        "parameter '{}' has an invalid name ''; expected a non-empty name without / { } ? * : =",
    ),
    (
        "items/{a*b}",
        "parameter '{a*b}' has an invalid name 'a*b'; "
        "expected a non-empty name without / { } ? * : =",
    ),
    (
        "items/{id:foo}",
        f"unknown constraint 'foo' on parameter 'id'; expected one of {KNOWN}",
    ),
    ("items/{id:}", f"unknown constraint '' on parameter 'id'; expected one of {KNOWN}"),
    ("{*rest}/x", "catch-all parameter 'rest' must be in the last segment"),
    ("x/a-{*rest}", "catch-all parameter 'rest' must be a whole segment, not part of 'a-{*rest}'"),
    ("x/{*rest?}", "catch-all parameter 'rest' cannot be optional; it may be empty anyway"),
    (
        "{id?}/x",
        "optional parameter 'id' must be in a trailing segment; "
        "found required segment 'x' after it",
    ),
    (
        "{id?}/{x=1}/{y}",
        "optional parameter 'id' must be in a trailing segment; "
        "found required segment '{y}' after it",
    ),
    ("{id}/{ID}", "parameter 'ID' appears twice; names ignore case"),
    ("{a}/{b}.{A}", "parameter 'A' appears twice; names ignore case"),
    ("{a=1?}", "parameter 'a' is optional and has a default; expected one or the other"),
    ("{a}{b}", "segment '{a}{b}' has two parameters in a row; expected text between them"),
    (
        "x-{a=1}",
        "parameter 'a' in segment 'x-{a=1}' has a default; only a whole-segment parameter may",
    ),
    (
        "{a}-{b?}",
        "optional parameter 'b' in segment '{a}-{b?}' must end the segment right after a '.'",
    ),
    (
        "{a?}.{b}",
        "optional parameter 'a' in segment '{a?}.{b}' must end the segment right after a '.'",
    ),
    ("{id:int(3)}", "constraint 'int(3)' on parameter 'id' takes no arguments"),
    ("{id:min}", "constraint 'min' on parameter 'id' expects min(n) with an integer n"),
    ("{id:min(x)}", "constraint 'min(x)' on parameter 'id' expects min(n) with an integer n"),
    ("{id:max(1,2)}", "constraint 'max(1,2)' on parameter 'id' expects max(n) with an integer n"),
    ("{id:min(1}", "constraint 'min' on parameter 'id' has no closing ')'"),
    (
        "{id:range(5,1)}",
        "constraint 'range(5,1)' on parameter 'id' expects range(min,max) with min <= max",
    ),
    (
        "{id:length(3,1)}",
        "constraint 'length(3,1)' on parameter 'id' expects "
        "length(n) or length(min,max) with integers 0 <= min <= max",
    ),
    (
        "{id:minlength(-1)}",
        "constraint 'minlength(-1)' on parameter 'id' expects minlength(n) with n >= 0",
    ),
    ("{id:regex()}", "constraint 'regex()' on parameter 'id' expects regex(expression)"),
    (
        "{id:regex(()}",
        "constraint 'regex(()' on parameter 'id' expects a valid regular expression "
        "(missing ), unterminated subpattern at position 0)",
    ),
    ("{id:int=abc}", "default 'abc' of parameter 'id' fails constraint 'int'"),
]


@pytest.mark.parametrize(("template", "message"), BAD_TEMPLATES)
def test_bad_template_message(template: str, message: str) -> None:
    with pytest.raises(RouteError) as caught:
        compile_route(template, "get_item")
    assert str(caught.value) == f"function 'get_item': route '{template}': {message}"


def test_route_error_is_a_function_load_error() -> None:
    with pytest.raises(FunctionLoadError) as caught:
        compile_route("{x:nope}", "orders")
    assert isinstance(caught.value, RouteError)
    assert caught.value.function_name == "orders"
