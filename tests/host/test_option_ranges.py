"""Every numeric option and its FUNCHOST_* variable: out of range is a usage error (exit 2)
naming the option or variable, the value and the range."""

from __future__ import annotations

from pathlib import Path

import pytest

from funchost.host import cli
from funchost.host.option_ranges import PORT, SECONDS

START = ["start", "--no-azurite"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([*START, "--port", "70000"], "argument --port: 70000 is out of range; expected 0 (any"),
        ([*START, "--port", "-1"], "argument --port: -1 is out of range"),
        ([*START, "--port", "7071.5"], "argument --port: '7071.5' is not 0 (any free port)"),
        ([*START, "--shutdown-timeout", "-5"], "--shutdown-timeout: -5 is out of range"),
        ([*START, "--shutdown-timeout", "nan"], "--shutdown-timeout: nan is out of range"),
        ([*START, "--shutdown-timeout", "inf"], "--shutdown-timeout: inf is out of range"),
        (["wait-ready", "--timeout", "-0.5"], "argument --timeout: -0.5 is out of range"),
        (["deploy", "kubernetes", "--max-replicas", "0"], "--max-replicas: 0 is out of range"),
        ([*START, "--workers", "0"], "argument --workers: 0 is out of range; expected a whole"),
    ],
)
def test_an_option_out_of_range_is_a_usage_error(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == cli.EXIT_USAGE
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "argv"),
    [
        ("FUNCHOST_PORT", "70000", START),
        ("FUNCHOST_PORT", "-1", START),
        ("FUNCHOST_SHUTDOWN_TIMEOUT", "nan", START),
        ("FUNCHOST_SHUTDOWN_TIMEOUT", "-5", START),
        ("FUNCHOST_WAIT_TIMEOUT", "-1", ["wait-ready"]),
        ("FUNCHOST_WORKERS", "0", START),
    ],
)
def test_a_variable_out_of_range_is_a_usage_error(
    variable: str,
    value: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)  # nothing to load: the check comes first
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"'{variable}' is '{value}'; expected " in err


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("65535", 65535), (" 8080 ", 8080)])
def test_ports_in_range_are_taken(raw: str, value: int) -> None:
    assert PORT(raw) == value


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("2.5", 2.5), ("30", 30.0)])
def test_seconds_in_range_are_taken(raw: str, value: float) -> None:
    assert SECONDS(raw) == value
