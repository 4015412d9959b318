"""``funchost check`` on every broken app: exit code 3 and every problem, in its exact words.

The messages are the product, so each is asserted whole. The tables are in
broken_app_cases.py, shared with test_broken_apps.py, which asserts what ``funchost start``
does with the same apps.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from broken_app_cases import (
    APP_ERRORS,
    CHECK_TIMEOUT,
    CONFIG_ERRORS,
    FUNCTION_ERRORS,
    NOT_LOADED,
    banner,
    check,
    config_error,
    disabled,
    traceback_files,
)
from conftest import BROKEN_APPS, run_funchost

from funchost.worker.loader import load_app


@pytest.mark.parametrize("case", sorted(APP_ERRORS))
def test_check_reports_the_whole_app_error(case: str) -> None:
    result = check(case)
    assert result.returncode == 3, result.stdout + result.stderr
    message, _ = banner(result.stdout)
    assert message == APP_ERRORS[case]
    assert result.stdout.splitlines()[-2:] == [NOT_LOADED, ""]
    assert result.stderr == "funchost check: 1 problem(s) found.\n"


@pytest.mark.parametrize("case", sorted(FUNCTION_ERRORS))
def test_check_lists_every_disabled_function(case: str) -> None:
    result = check(case)
    assert result.returncode == 3, result.stdout + result.stderr
    assert disabled(result.stdout) == FUNCTION_ERRORS[case]
    count = len(FUNCTION_ERRORS[case])
    assert result.stderr == f"funchost check: {count} problem(s) found.\n"


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_check_stops_on_a_configuration_error(case: str) -> None:
    env, message = config_error(case)
    result = check(case, env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == f"funchost: {message}\n"
    assert result.stdout == ""


def test_traceback_of_a_raising_import_shows_only_the_users_frames() -> None:
    app = BROKEN_APPS / "import_raises"
    _, detail = banner(check("import_raises").stdout)
    assert detail == [
        "Traceback (most recent call last):",
        f'  File "{app / "function_app.py"}", line 11, in <module>',
        '    raise RuntimeError("boom")',
        "RuntimeError: boom",
    ]


def test_traceback_through_a_helper_module_names_both_files() -> None:
    app = BROKEN_APPS / "import_missing_module"
    _, detail = banner(check("import_missing_module").stdout)
    assert traceback_files(detail) == [str(app / "function_app.py"), str(app / "helpers.py")]
    assert detail[0] == "Traceback (most recent call last):"
    assert detail[-1] == "ModuleNotFoundError: No module named 'not_installed_package'"
    assert not [line for line in detail if "importlib" in line or "site-packages" in line]


def test_syntax_error_shows_file_line_and_caret() -> None:
    app = BROKEN_APPS / "syntax_error"
    _, detail = banner(check("syntax_error").stdout)
    assert detail[0] == f'  File "{app / "function_app.py"}", line 8'
    assert detail[1] == '    return func.HttpResponse("hello"'
    assert detail[2].strip() == "^"
    assert detail[-1] == "SyntaxError: '(' was never closed"


def test_one_app_under_two_names_is_not_an_error() -> None:
    result = check("app_alias")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\thello: [GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS,TRACE] " in result.stdout
    assert result.stdout.splitlines()[-1] == "funchost check: OK, 1 function(s)."


def test_a_function_returning_without_return_binding_passes_check() -> None:
    # Only the invocation can tell that a value was returned (test_broken_apps.py).
    result = check("return_without_binding")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "funchost check: OK, 1 function(s)."


def test_generic_http_trigger_gets_no_return_binding_from_the_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unlike @app.route, generic_trigger adds no '$return' http output: a returned value
    # has nowhere to go. (Imported in-process: sys.path and sys.modules are restored after.)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    loaded = load_app(BROKEN_APPS / "return_without_binding")
    [function] = loaded.app.get_functions()
    assert json.loads(function.get_function_json())["bindings"] == [
        {
            "direction": "IN",
            "type": "httpTrigger",
            "name": "req",
            "route": "gen",
            "authLevel": "FUNCTION",
        }
    ]


def test_every_broken_app_is_covered() -> None:
    cases = {p.name for p in BROKEN_APPS.iterdir() if (p / "function_app.py").is_file()}
    covered = {*APP_ERRORS, *FUNCTION_ERRORS, *CONFIG_ERRORS, "app_alias"}
    # Covered elsewhere: timer_schedules in test_timer_errors.py.
    elsewhere = {"return_without_binding", "invocation_raises", "timer_schedules"}
    assert cases == covered | elsewhere


def test_problems_are_listed_together_with_the_app_path_kept_relative(tmp_path: Path) -> None:
    # Two broken functions and a good one in an app outside the repository: every problem
    # is listed in one run, each at function_app.py:<line> (not an absolute path).
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "\n"
        "app = func.FunctionApp()\n"
        "\n"
        '@app.route(route="a")\n'
        "def a(req: func.HttpRequest, extra: int) -> func.HttpResponse:\n"
        '    return func.HttpResponse("a")\n'
        "\n"
        '@app.route(route="b")\n'
        "def b(request: func.HttpRequest) -> func.HttpResponse:\n"
        '    return func.HttpResponse("b")\n'
    )
    result = run_funchost(["check"], tmp_path, timeout=CHECK_TIMEOUT)
    assert result.returncode == 3
    assert disabled(result.stdout) == [
        "function_app.py:5: function 'a': parameter 'extra' has no binding; expected a binding "
        "decorator with arg_name='extra' (found bindings: req), or remove the parameter",
        "function_app.py:9: function 'b': 2 problems: (1) parameter 'request' has no binding; "
        "expected a binding decorator with arg_name='request' (found bindings: req), or "
        "remove the parameter; (2) binding 'req' (httpTrigger, in) has no parameter; "
        "expected a parameter named 'req' (found parameters: request)",
    ]
    assert "No functions loaded (every function is disabled: see the errors below)." in (
        result.stdout
    )
