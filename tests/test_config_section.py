"""The host.json section reader: keys ignoring case, sources, and each getter's bounds and words."""

from __future__ import annotations

from typing import Any

import pytest

from funchost.config_section import MISSING, REQUIRED, Section, parse_bool
from funchost.errors import ConfigError
from funchost.timespan import format_timespan

FILE = "/app/host.json"
VAR = "AzureFunctionsJobHost__extensions__queues__batchSize"


def queues(values: dict[str, Any], overrides: dict[tuple[str, ...], str] | None = None) -> Section:
    doc = {"version": "2.0", "Extensions": {"Queues": values}}
    return Section.root(doc, FILE, overrides).section("extensions", "queues")


def refused(read: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        read()
    return caught.value


# --- keys, paths, sources ------------------------------------------------------------------------


def test_keys_match_ignoring_case_and_paths_keep_the_readers_spelling() -> None:
    section = queues({"BATCHSIZE": 4})
    assert section.key == "extensions.queues"
    assert section.integer("batchSize", 16, low=1) == 4
    assert "batchsize" in section and "visibilityTimeout" not in section
    assert section.names() == ("BATCHSIZE",)
    assert section.full_key("batchSize") == "extensions.queues.batchSize"


def test_an_absent_section_is_empty_and_gives_the_defaults() -> None:
    section = Section.root({"version": "2.0"}, FILE).section("singleton")
    assert (section.key, section.names()) == ("singleton", ())
    assert section.raw("listenerLockPeriod") is MISSING
    assert section.timespan("listenerLockPeriod", 60.0) == 60.0


def test_a_section_that_is_not_an_object_is_refused() -> None:
    root = Section.root({"logging": {"logLevel": ["Debug"]}}, FILE)
    err = refused(lambda: root.section("logging", "logLevel"))
    assert str(err) == f"{FILE}: 'logging.logLevel' is ['Debug']; expected a JSON object"


def test_the_document_is_a_read_only_copy() -> None:
    doc: dict[str, Any] = {"extensions": {"queues": {"hosts": ["a"]}}}
    root = Section.root(doc, FILE)
    doc["extensions"]["queues"]["batchSize"] = 1
    section = root.section("extensions", "queues")
    assert "batchSize" not in section
    assert section.raw("hosts") == ("a",)
    with pytest.raises(TypeError):
        section.node["batchSize"] = 1  # type: ignore[index]


def test_an_overridden_key_names_its_variable_and_the_others_the_file() -> None:
    overrides = {("extensions", "queues", "batchsize"): VAR}
    section = queues({"batchSize": "64", "maxDequeueCount": 0}, overrides)
    err = refused(lambda: section.integer("batchSize", 16, low=1, high=32))
    assert (
        str(err)
        == f"{VAR}: 'extensions.queues.batchSize' is '64'; expected a whole number from 1 to 32"
    )
    assert (err.source, err.key, err.value) == (VAR, "extensions.queues.batchSize", "64")
    assert refused(lambda: section.integer("maxDequeueCount", 5, low=1)).source == FILE


def test_a_variable_that_set_an_object_is_the_source_of_its_keys() -> None:
    name = "AzureFunctionsJobHost__singleton"
    root = Section.root({"singleton": {"x": "1"}}, FILE, {("singleton",): name})
    assert root.section("singleton").source("x") == name


# --- whole numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "number"), [(3, 3), ("3", 3), (" +3 ", 3), ("-1", -1), (0, 0)])
def test_whole_numbers_as_json_or_as_override_strings(value: object, number: int) -> None:
    assert queues({"n": value}).integer("n", 9, low=-1) == number


@pytest.mark.parametrize("value", [True, 2.0, "2.5", "ten", "--5", "", None, "١"])
def test_what_is_not_a_whole_number_is_refused(value: object) -> None:
    err = refused(lambda: queues({"n": value}).integer("n", 9, low=0))
    assert (
        str(err)
        == f"{FILE}: 'extensions.queues.n' is {value!r}; expected a whole number of at least 0"
    )


def test_whole_number_bounds_and_their_words() -> None:
    section = queues({"low": 0, "high": 33, "custom": 0})
    err = refused(lambda: section.integer("low", 16, low=1, high=32))
    assert err.expected == "a whole number from 1 to 32"
    assert refused(lambda: section.integer("high", 16, low=1, high=32)).value == 33
    assert (
        refused(lambda: section.integer("custom", 1, low=1, expected="at least one")).expected
        == "at least one"
    )
    assert section.integer("absent", 16, low=1) == 16


def test_a_required_key_that_is_absent_is_refused_as_missing() -> None:
    err = refused(lambda: queues({}).integer("maxRetryCount", REQUIRED, low=-1))
    assert str(err) == (
        f"{FILE}: 'extensions.queues.maxRetryCount' is missing; "
        "expected a whole number of at least -1"
    )


# --- TimeSpans -----------------------------------------------------------------------------------


def test_timespans_within_bounds() -> None:
    section = queues({"a": "00:00:02", "b": " 1.00:00:00 "})
    assert section.timespan("a", 60.0, low=0.1) == 2.0
    assert section.timespan("b", 0.0, low=0.0, high=7 * 86400.0) == 86400.0
    assert section.timespan("absent", None) is None


@pytest.mark.parametrize("value", ["soon", "24:00:00", 30, None, True])
def test_what_is_not_a_timespan_string_is_refused(value: object) -> None:
    err = refused(lambda: queues({"t": value}).timespan("t", 0.0))
    assert (
        str(err)
        == f"{FILE}: 'extensions.queues.t' is {value!r}; expected a TimeSpan like \"00:05:00\""
    )


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.1, None, 'a TimeSpan of at least "00:00:00.100"'),
        (0.0, 1.0, 'a TimeSpan from "00:00:00" to "00:00:01"'),
        (None, 1.0, 'a TimeSpan of at most "00:00:01"'),
    ],
)
def test_timespan_bounds_say_them_as_timespans(
    low: float | None, high: float | None, expected: str
) -> None:
    value = "-00:00:01" if low is not None else "00:00:02"
    err = refused(lambda: queues({"t": value}).timespan("t", 0.0, low=low, high=high))
    assert (err.value, err.expected) == (value, expected)


def test_timespan_bounds_with_their_own_words() -> None:
    err = refused(
        lambda: queues({"t": "00:00:05"}).timespan("t", 0.0, low=15.0, expected="15 s or more")
    )
    assert str(err) == f"{FILE}: 'extensions.queues.t' is '00:00:05'; expected 15 s or more"


def test_an_overridden_timespan_that_does_not_parse_names_the_variable() -> None:
    name = "AzureFunctionsJobHost__singleton__listenerLockPeriod"
    doc = {"singleton": {"listenerLockPeriod": "soon"}}
    section = Section.root(doc, FILE, {("singleton", "listenerlockperiod"): name})
    err = refused(lambda: section.section("singleton").timespan("listenerLockPeriod", 60.0))
    assert str(err) == (
        f"{name}: 'singleton.listenerLockPeriod' is 'soon'; expected a TimeSpan like \"00:05:00\""
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "00:00:00"),
        (0.1, "00:00:00.100"),
        (3723.5, "01:02:03.500"),
        (7 * 86400.0, "7.00:00:00"),
        (-1.0, "-00:00:01"),
    ],
)
def test_format_timespan(seconds: float, text: str) -> None:
    assert format_timespan(seconds) == text


# --- booleans and choices ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "flag"), [(True, True), (False, False), (" TRUE ", True), ("false", False)]
)
def test_booleans_as_dotnet_reads_them(value: object, flag: bool) -> None:
    assert queues({"f": value}).boolean("f") is flag
    assert parse_bool(value) is flag


@pytest.mark.parametrize("value", ["yes", 1, None, ""])
def test_what_is_not_a_boolean_is_refused(value: object) -> None:
    err = refused(lambda: queues({"f": value}).boolean("f"))
    assert str(err) == f"{FILE}: 'extensions.queues.f' is {value!r}; expected true or false"
    assert parse_bool(value) is None


def test_an_absent_boolean_is_its_default() -> None:
    assert queues({}).boolean("f") is False
    assert queues({}).boolean("f", True) is True
    assert parse_bool(MISSING) is False


def test_choices_match_ignoring_case_and_come_back_as_spelled() -> None:
    section = queues({"encoding": " None ", "level": "warning"})
    assert section.choice("encoding", "base64", choices=("base64", "none")) == "none"
    assert section.choice("level", REQUIRED, choices=("Debug", "Warning")) == "Warning"
    assert section.choice("absent", "base64", choices=("base64", "none")) == "base64"


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        (("base64", "none"), "base64 or none"),
        (("Debug", "Error", "None"), "one of Debug, Error, None"),
    ],
)
def test_a_value_outside_the_choices_is_refused(choices: tuple[str, ...], expected: str) -> None:
    err = refused(lambda: queues({"c": 2}).choice("c", REQUIRED, choices=choices))
    assert str(err) == f"{FILE}: 'extensions.queues.c' is 2; expected {expected}"


def test_a_required_choice_that_is_absent_is_refused_as_missing() -> None:
    err = refused(
        lambda: queues({}).choice(
            "strategy", REQUIRED, choices=("a", "b"), expected="a or b, please"
        )
    )
    assert str(err) == f"{FILE}: 'extensions.queues.strategy' is missing; expected a or b, please"
