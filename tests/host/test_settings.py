"""local.settings.json: values, connection strings, Host options, export, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from funchost.errors import ConfigError
from funchost.host.settings import LocalSettings, export_values, load_local_settings


def load(root: Path, doc: Any) -> LocalSettings:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (root / "local.settings.json").write_text(text, encoding="utf-8")
    return load_local_settings(root)


def message(root: Path, doc: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(root, doc)
    return str(caught.value)


def src(root: Path) -> str:
    return str(root / "local.settings.json")


def test_missing_file_means_empty_settings(tmp_path: Path) -> None:
    settings = load_local_settings(tmp_path)
    assert settings.path is None
    assert dict(settings.values) == {}
    assert dict(settings.connection_strings) == {}
    assert (settings.local_http_port, settings.cors, settings.cors_credentials) == (None, (), False)


def test_file_as_core_tools_writes_it(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        {
            "IsEncrypted": False,
            "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": ""},
            "ConnectionStrings": {
                "Sql": "Server=x",
                "Db": {"ConnectionString": "Server=y", "ProviderName": "System.Data.SqlClient"},
            },
            "Host": {
                "LocalHttpPort": 7072,
                "CORS": "http://localhost:3000, https://example.com ,",
                "CORSCredentials": True,
            },
        },
    )
    assert settings.path == tmp_path / "local.settings.json"
    assert dict(settings.values) == {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": "",
    }
    assert dict(settings.connection_strings) == {"Sql": "Server=x", "Db": "Server=y"}
    assert settings.local_http_port == 7072
    assert settings.cors == ("http://localhost:3000", "https://example.com")
    assert settings.cors_credentials is True


def test_sections_and_keys_are_matched_case_insensitively(tmp_path: Path) -> None:
    settings = load(tmp_path, {"values": {"A": "1"}, "host": {"localHttpPort": "8080"}})
    assert dict(settings.values) == {"A": "1"}
    assert settings.local_http_port == 8080


def test_comments_are_tolerated(tmp_path: Path) -> None:
    settings = load(tmp_path, '{\n  // local only\n  "Values": {"A": "http://x"} /* end */\n}')
    assert dict(settings.values) == {"A": "http://x"}


def test_scalar_values_become_the_strings_dotnet_would_write(tmp_path: Path) -> None:
    doc = {"Values": {"N": 5, "F": 1.5, "T": True, "B": False}}
    assert dict(load(tmp_path, doc).values) == {"N": "5", "F": "1.5", "T": "true", "B": "false"}


@pytest.mark.parametrize(("value", "shown"), [(None, "None"), ({"a": 1}, "{'a': 1}"), ([1], "[1]")])
def test_values_that_are_not_scalars_are_refused(tmp_path: Path, value: Any, shown: str) -> None:
    assert message(tmp_path, {"Values": {"X": value}}) == (
        f"{src(tmp_path)}: 'Values.X' is {shown}; expected a string, number or boolean"
    )


@pytest.mark.parametrize("flag", [True, "true", "True"])
def test_encrypted_file_is_refused_with_the_way_out(tmp_path: Path, flag: Any) -> None:
    assert message(tmp_path, {"IsEncrypted": flag, "Values": {"A": "xyz"}}) == (
        f"{src(tmp_path)}: 'IsEncrypted' is true: its values were encrypted with a key bound "
        "to the machine that encrypted them, which funchost cannot read; expected plain "
        "values: run `func settings decrypt` on that machine, or recreate the file with "
        '"IsEncrypted": false and plain values'
    )


def test_is_encrypted_must_be_a_boolean(tmp_path: Path) -> None:
    assert message(tmp_path, {"IsEncrypted": "no"}) == (
        f"{src(tmp_path)}: 'IsEncrypted' is 'no'; expected true or false"
    )


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    # A missing comma: the same message on every Python (3.13 reworded trailing commas).
    assert message(tmp_path, '{\n  "Values": {"A": "1" "B": "2"}\n}') == (
        f"{src(tmp_path)}: invalid JSON at line 2 column 23: Expecting ',' delimiter; "
        "expected JSON (comments allowed)"
    )


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    assert message(tmp_path, '"Values"') == (
        f"{src(tmp_path)}: the top level is a string; expected a JSON object"
    )


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"Values": ["A=1"]}, "'Values' is ['A=1']"),
        ({"ConnectionStrings": "x"}, "'ConnectionStrings' is 'x'"),
        ({"Host": 7071}, "'Host' is 7071"),
    ],
)
def test_sections_must_be_objects(tmp_path: Path, doc: dict[str, Any], problem: str) -> None:
    assert message(tmp_path, doc) == f"{src(tmp_path)}: {problem}; expected a JSON object"


@pytest.mark.parametrize("value", [5, {"ProviderName": "x"}, {"ConnectionString": None}])
def test_connection_string_must_be_a_string(tmp_path: Path, value: Any) -> None:
    assert message(tmp_path, {"ConnectionStrings": {"Db": value}}) == (
        f"{src(tmp_path)}: 'ConnectionStrings.Db' is {value!r}; "
        'expected a string, or an object with a "ConnectionString" string'
    )


@pytest.mark.parametrize("port", [0, 65536, -1, True, "abc", "", 7071.5, None, "٧٠٧١"])
def test_local_http_port_must_be_a_port(tmp_path: Path, port: Any) -> None:
    assert message(tmp_path, {"Host": {"LocalHttpPort": port}}) == (
        f"{src(tmp_path)}: 'Host.LocalHttpPort' is {port!r}; expected a port number from 1 to 65535"
    )


@pytest.mark.parametrize("port", [1, 65535, "7071"])
def test_local_http_port_bounds(tmp_path: Path, port: Any) -> None:
    assert load(tmp_path, {"Host": {"LocalHttpPort": port}}).local_http_port == int(port)


def test_cors_must_be_a_string(tmp_path: Path) -> None:
    assert message(tmp_path, {"Host": {"CORS": ["*"]}}) == (
        f"{src(tmp_path)}: 'Host.CORS' is ['*']; expected a comma-separated string of origins, "
        'like "http://localhost:3000,https://x.com"'
    )


@pytest.mark.parametrize(("value", "expected"), [("TRUE", True), ("false", False), (False, False)])
def test_cors_credentials_accepts_strings(tmp_path: Path, value: Any, expected: bool) -> None:
    assert load(tmp_path, {"Host": {"CORSCredentials": value}}).cors_credentials is expected


def test_cors_credentials_must_be_a_boolean(tmp_path: Path) -> None:
    assert message(tmp_path, {"Host": {"CORSCredentials": 1}}) == (
        f"{src(tmp_path)}: 'Host.CORSCredentials' is 1; expected true or false"
    )


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path, {"Values": {"A": "1"}})
    with pytest.raises(TypeError):
        settings.values["A"] = "2"  # type: ignore[index]
    with pytest.raises(AttributeError):
        settings.cors = ()  # type: ignore[misc]


def test_export_sets_only_what_the_environment_lacks(tmp_path: Path) -> None:
    settings = load(tmp_path, {"Values": {"A": "file", "B": "file", "C": "file"}})
    environ = {"B": "env", "C": ""}
    assert export_values(settings, environ) == ["A"]
    assert environ == {"A": "file", "B": "env", "C": ""}


def test_export_of_empty_settings_sets_nothing(tmp_path: Path) -> None:
    environ: dict[str, str] = {"X": "1"}
    assert export_values(load_local_settings(tmp_path), environ) == []
    assert environ == {"X": "1"}
