"""host.json: defaults, TimeSpans, log levels, overrides from the environment, and the errors."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from funchost.config_section import MISSING
from funchost.errors import ConfigError
from funchost.host.hostjson import (
    LOG_LEVELS,
    ConfigFileError,
    HostConfig,
    HttpConfig,
    LoggingConfig,
    load_host_config,
)
from funchost.timespan import parse_timespan

REPO = Path(__file__).resolve().parents[2]
LEVELS_EXPECTED = "one of Trace, Debug, Information, Warning, Error, Critical, None"


def write(root: Path, doc: Any) -> Path:
    path = root / "host.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def load(root: Path, doc: Any, environ: dict[str, str] | None = None) -> HostConfig:
    write(root, doc)
    return load_host_config(root, environ or {})


def error(root: Path, doc: Any, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(root, doc, environ)
    return caught.value


# --- defaults and the file itself -----------------------------------------------------------


def test_minimal_host_json_gives_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, {"version": "2.0"})
    assert config.path == tmp_path / "host.json"
    assert config.version == "2.0"
    assert config.function_timeout == 1800.0
    assert config.http == HttpConfig(route_prefix="api")
    assert dict(config.logging.levels) == {}
    assert config.section.raw("extensions") is MISSING
    assert dict(config.section.node) == {"version": "2.0"}


def test_missing_host_json_says_what_func_start_expects(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_host_config(tmp_path, {})
    assert str(caught.value) == (
        f"{tmp_path / 'host.json'}: file not found; expected a host.json containing "
        '{"version": "2.0"} in the app root (func start refuses to start without one)'
    )


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    err = error(tmp_path, '{\n  "version": "2.0",\n  "logging": }\n')
    assert str(err) == (
        f"{tmp_path / 'host.json'}: invalid JSON at line 3 column 14: Expecting value; "
        "expected JSON (comments allowed)"
    )


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    err = error(tmp_path, '["version", "2.0"]')
    assert (
        str(err) == f"{tmp_path / 'host.json'}: the top level is an array; expected a JSON object"
    )


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_bytes(b'{"version": "2.0\xff"}')
    with pytest.raises(ConfigFileError) as caught:
        load_host_config(tmp_path, {})
    assert (
        str(caught.value)
        == f"{tmp_path / 'host.json'}: the byte at offset 16 is not UTF-8; expected UTF-8 JSON"
    )


def test_comments_are_ignored_but_comment_markers_in_strings_are_kept(tmp_path: Path) -> None:
    text = """{
      // line comment with a "quote"
      "version": "2.0", /* block
      comment */ "extensions": {"http": {"routePrefix": "//not/a/comment/*"}},
      "note": "http://example.com"
    }"""
    config = load(tmp_path, text)
    assert config.version == "2.0"
    assert config.section.raw("note") == "http://example.com"
    assert config.http.route_prefix == "not/a/comment/*"


def test_error_position_counts_the_comment_text(tmp_path: Path) -> None:
    err = error(tmp_path, '{"version": "2.0", /* comment */ "x": ]}')
    assert "at line 1 column 39:" in str(err)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_bytes(b'\xef\xbb\xbf{"version": "2.0"}')
    assert load_host_config(tmp_path, {}).version == "2.0"


def test_unknown_top_level_keys_are_kept_in_the_section(tmp_path: Path) -> None:
    config = load(tmp_path, {"version": "2.0", "managedDependency": {"enabled": True}})
    assert config.section.raw("managedDependency")["enabled"] is True


# --- version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "shown"),
    [({}, "missing"), ({"version": "1.0"}, "'1.0'"), ({"version": 2.0}, "2.0")],
)
def test_version_must_be_the_string_2_0(tmp_path: Path, doc: dict[str, Any], shown: str) -> None:
    err = error(tmp_path, doc)
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'version' is {shown}; "
        'expected "2.0" (the schema of Functions 2.x and later)'
    )
    assert err.key == "version"


# --- functionTimeout and TimeSpans -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:05:00", 300.0),
        ("01:02:03", 3723.0),
        ("1.02:03:04", 93784.0),
        ("00:00:01.5", 1.5),
        ("00:00:00.1234567", 0.1234567),
        ("00:05", 300.0),
        ("5", 432000.0),
        (" 00:00:10 ", 10.0),
        ("-00:01:00", -60.0),
        ("-1", -86400.0),
    ],
)
def test_parse_timespan_reads_dotnet_formats(text: str, seconds: float) -> None:
    assert parse_timespan(text, source="s", key="k") == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "5s",
        "300.0",
        "24:00:00",
        "00:60:00",
        "00:00:60",
        "1:2:3:4",
        "00:00:00.12345678",
        "١",
    ],
)
def test_parse_timespan_rejects_other_text(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_timespan(text, source="host.json", key="functionTimeout")
    assert str(caught.value) == (
        f"host.json: 'functionTimeout' is {text!r}; expected a TimeSpan like \"00:05:00\""
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:10:00", 600.0), ("00:00:01", 1.0), ("-1", None), ("-1.00:00:00", None)],
)
def test_function_timeout(tmp_path: Path, text: str, seconds: float | None) -> None:
    config = load(tmp_path, {"version": "2.0", "functionTimeout": text})
    assert config.function_timeout == seconds


@pytest.mark.parametrize("text", ["00:00:00", "0", "-00:00:01", "00:00:00.5", "-2"])
def test_function_timeout_under_one_second_is_refused(tmp_path: Path, text: str) -> None:
    err = error(tmp_path, {"version": "2.0", "functionTimeout": text})
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'functionTimeout' is {text!r}; "
        'expected a TimeSpan of at least "00:00:01", or "-1" for no limit'
    )


def test_function_timeout_as_a_number_is_refused(tmp_path: Path) -> None:
    err = error(tmp_path, {"version": "2.0", "functionTimeout": 300})
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'functionTimeout' is 300; expected a TimeSpan like \"00:05:00\""
    )


# --- logging ----------------------------------------------------------------------------------


def test_log_levels_map_dotnet_names_to_python_levels() -> None:
    assert dict(LOG_LEVELS) == {
        "Trace": 5,
        "Debug": logging.DEBUG,
        "Information": logging.INFO,
        "Warning": logging.WARNING,
        "Error": logging.ERROR,
        "Critical": logging.CRITICAL,
        "None": logging.CRITICAL + 10,
    }


def test_log_levels_are_read_case_insensitively(tmp_path: Path) -> None:
    levels = {"default": "warning", "Function": "DEBUG", "Host.Results": "None"}
    config = load(tmp_path, {"version": "2.0", "logging": {"logLevel": levels}})
    assert dict(config.logging.levels) == {
        "default": logging.WARNING,
        "Function": logging.DEBUG,
        "Host.Results": logging.CRITICAL + 10,
    }


def test_level_for_takes_the_most_specific_dotted_prefix() -> None:
    config = LoggingConfig(
        {"Function": logging.ERROR, "Function.hello": logging.DEBUG, "Default": logging.WARNING}
    )
    assert config.level_for("Function.hello.User") == logging.DEBUG
    assert config.level_for("Function.hello") == logging.DEBUG
    assert config.level_for("function.HELLO.user") == logging.DEBUG
    assert config.level_for("Function.other.User") == logging.ERROR
    assert config.level_for("Function.helloworld") == logging.ERROR
    assert config.level_for("Host.Startup") == logging.WARNING


def test_level_for_falls_back_to_information() -> None:
    assert LoggingConfig({"Function": logging.ERROR}).level_for("Host.Startup") == logging.INFO


@pytest.mark.parametrize(
    ("levels", "lowest"),
    [
        ({}, logging.INFO),
        # Every other category still falls back to Information.
        ({"Function": logging.WARNING}, logging.INFO),
        ({"Function.hello.User": logging.DEBUG}, logging.DEBUG),
        ({"DEFAULT": logging.ERROR, "Function": logging.WARNING}, logging.WARNING),
        ({"default": logging.CRITICAL + 10}, logging.CRITICAL + 10),
    ],
)
def test_lowest_is_the_least_level_any_category_can_get(
    levels: dict[str, int], lowest: int
) -> None:
    assert LoggingConfig(levels).lowest == lowest


def test_bad_level_name_is_refused(tmp_path: Path) -> None:
    doc = {"version": "2.0", "logging": {"logLevel": {"Function.hello": "Verbose"}}}
    err = error(tmp_path, doc)
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'logging.logLevel.Function.hello' is 'Verbose'; "
        f"expected {LEVELS_EXPECTED}"
    )
    assert (err.source, err.key, err.value) == (
        str(tmp_path / "host.json"),
        "logging.logLevel.Function.hello",
        "Verbose",
    )


def test_level_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    err = error(tmp_path, {"version": "2.0", "logging": {"logLevel": {"default": 2}}})
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'logging.logLevel.default' is 2; expected {LEVELS_EXPECTED}"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"logging": "Debug"}, "'logging' is 'Debug'; expected a JSON object"),
        (
            {"logging": {"logLevel": ["Debug"]}},
            "'logging.logLevel' is ['Debug']; expected a JSON object",
        ),
        ({"extensions": []}, "'extensions' is []; expected a JSON object"),
        ({"extensions": {"http": "api"}}, "'extensions.http' is 'api'; expected a JSON object"),
        ({"extensions": {"queues": 5}}, "'extensions.queues' is 5; expected a JSON object"),
    ],
)
def test_sections_must_be_objects(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    err = error(tmp_path, {"version": "2.0", **doc})
    assert str(err) == f"{tmp_path / 'host.json'}: {message}"


# --- http and extensions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"), [("", ""), ("/v1/", "v1"), ("a/b", "a/b"), ("/", "")]
)
def test_route_prefix(tmp_path: Path, prefix: str, expected: str) -> None:
    doc = {"version": "2.0", "extensions": {"http": {"routePrefix": prefix}}}
    assert load(tmp_path, doc).http.route_prefix == expected


def test_route_prefix_must_be_a_string(tmp_path: Path) -> None:
    err = error(tmp_path, {"version": "2.0", "extensions": {"http": {"routePrefix": None}}})
    assert str(err) == (
        f"{tmp_path / 'host.json'}: 'extensions.http.routePrefix' is None; "
        'expected a string such as "api", or "" for no prefix'
    )


def test_extensions_are_kept_as_written_and_read_only(tmp_path: Path) -> None:
    queues = {"batchSize": 16, "visibilityTimeout": "00:00:30", "hosts": ["a", "b"]}
    config = load(tmp_path, {"version": "2.0", "extensions": {"queues": queues}})
    extensions = config.section.raw("extensions")
    assert dict(extensions["queues"]) == {**queues, "hosts": ("a", "b")}
    with pytest.raises(TypeError):
        extensions["queues"]["batchSize"] = 1
    with pytest.raises(TypeError):
        config.section.node["version"] = "3.0"  # type: ignore[index]


# --- environment overrides -------------------------------------------------------------------


def test_override_creates_missing_objects(tmp_path: Path) -> None:
    environ = {
        "AzureFunctionsJobHost__logging__logLevel__Function": "Debug",
        "AzureFunctionsJobHost__extensions__http__routePrefix": "v2",
        "AzureFunctionsJobHost__functionTimeout": "00:02:00",
        "UNRELATED": "x",
    }
    config = load(tmp_path, {"version": "2.0"}, environ)
    assert config.logging.level_for("Function.hello") == logging.DEBUG
    assert config.http.route_prefix == "v2"
    assert config.function_timeout == 120.0
    assert config.section.section("extensions", "http").raw("routePrefix") == "v2"
    assert "UNRELATED" not in config.section


def test_override_matches_prefix_and_existing_keys_case_insensitively(tmp_path: Path) -> None:
    doc = {"version": "2.0", "Logging": {"LogLevel": {"Function": "Error"}}}
    config = load(tmp_path, doc, {"AZUREFUNCTIONSJOBHOST__logging__loglevel__function": "Trace"})
    assert dict(config.logging.levels) == {"Function": 5}


def test_override_replaces_a_scalar_and_keeps_array_items(tmp_path: Path) -> None:
    doc = {"version": "2.0", "custom": "flat", "list": ["a", "b"]}
    environ = {"AzureFunctionsJobHost__custom__x": "1", "AzureFunctionsJobHost__list__1__y": "2"}
    config = load(tmp_path, doc, environ)
    assert dict(config.section.raw("custom")) == {"x": "1"}
    assert config.section.raw("list")["0"] == "a"
    assert dict(config.section.raw("list")["1"]) == {"y": "2"}


def test_error_in_an_overridden_key_names_the_variable(tmp_path: Path) -> None:
    name = "AzureFunctionsJobHost__logging__logLevel__default"
    err = error(tmp_path, {"version": "2.0"}, {name: "Verbose"})
    assert (
        str(err) == f"{name}: 'logging.logLevel.default' is 'Verbose'; expected {LEVELS_EXPECTED}"
    )
    assert err.source == name


def test_error_in_a_file_key_still_names_the_file(tmp_path: Path) -> None:
    doc = {"version": "2.0", "logging": {"logLevel": {"Host": "Loud"}}}
    err = error(tmp_path, doc, {"AzureFunctionsJobHost__logging__logLevel__default": "Debug"})
    assert err.source == str(tmp_path / "host.json")


def test_overridden_timeout_error_names_the_variable(tmp_path: Path) -> None:
    name = "AzureFunctionsJobHost__functionTimeout"
    err = error(tmp_path, {"version": "2.0", "functionTimeout": "00:05:00"}, {name: "5m"})
    assert str(err) == f"{name}: 'functionTimeout' is '5m'; expected a TimeSpan like \"00:05:00\""


def test_version_can_come_from_the_environment(tmp_path: Path) -> None:
    config = load(tmp_path, {"version": "1.0"}, {"AzureFunctionsJobHost__version": "2.0"})
    assert config.version == "2.0"


def test_override_with_an_empty_segment_is_refused(tmp_path: Path) -> None:
    name = "AzureFunctionsJobHost__logging____default"
    err = error(tmp_path, {"version": "2.0"}, {name: "Debug"})
    assert str(err) == (
        f"environment: '{name}' is 'Debug'; "
        "expected a name like AzureFunctionsJobHost__logging__logLevel__default"
    )


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path, {"version": "2.0"})
    with pytest.raises(AttributeError):
        config.version = "3.0"  # type: ignore[misc]


# --- the documented example --------------------------------------------------------------------


def _leaf_keys(node: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        keys += _leaf_keys(value, f"{path}.") if isinstance(value, dict) else [path]
    return keys


def test_host_json_example_holds_the_defaults(tmp_path: Path) -> None:
    example = (REPO / "host.json.example").read_text(encoding="utf-8")
    config = load(tmp_path, example)
    defaults = load(tmp_path, {"version": "2.0"})
    assert config.function_timeout == defaults.function_timeout
    assert config.http == defaults.http
    assert config.logging.level_for("Anything.at.all") == defaults.logging.level_for("Anything")


def test_docs_table_lists_every_key_of_the_example() -> None:
    example = json.loads((REPO / "host.json.example").read_text(encoding="utf-8"))
    table = (REPO / "docs" / "host-json.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE))
    assert set(_leaf_keys(example)) <= documented
