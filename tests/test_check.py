"""``funchost check`` on every broken app: exit code 3 and every problem, in its exact words.

The messages are the product, so each is asserted whole. The tables here are shared with
test_broken_apps.py, which asserts what ``funchost start`` does with the same apps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BROKEN_APPS, run_funchost

from funchost.bindings.registry import known_types
from funchost.worker.loader import load_app

CHECK_TIMEOUT = 30.0
RULE = "=" * 72
BANNER = "ERROR: the app could not be loaded; no functions are served until it is fixed."
NOT_LOADED = "No functions loaded (the app could not be loaded: see the error above)."
SUPPORTED = ", ".join(known_types())

# Whole-app failures: nothing is served. Case → the one message (the line under the banner).
APP_ERRORS = {
    "import_raises": "function_app.py:11: importing the app raised RuntimeError: boom",
    "import_missing_module": (
        "function_app.py:3: importing the app raised ModuleNotFoundError at helpers.py:3: "
        "No module named 'not_installed_package'; expected 'not_installed_package' to be "
        "importable: installed in the Python environment that runs funchost (listed in "
        "requirements.txt) or a module in the app's folder"
    ),
    "syntax_error": "function_app.py:8: importing the app raised SyntaxError: '(' was never closed",
    "no_app": (
        "function_app.py: no function app found; expected one top-level "
        "'app = func.FunctionApp()' (or AsgiFunctionApp / WsgiFunctionApp)"
    ),
    "two_apps": (
        "function_app.py: 2 function apps found ('app' at function_app.py:3, 'app2' at "
        "function_app.py:4); expected exactly one FunctionApp: register blueprints on it "
        "with app.register_functions(bp)"
    ),
    "duplicate_names": (
        "function_app.py:12: function name 'same' is used 2 times, at function_app.py:6 and "
        "function_app.py:12; expected each name once (change one @app.function_name(...) or "
        "rename one Python function)"
    ),
    "no_functions": (
        "function_app.py: the function app 'app' has no functions; expected at least one "
        'function decorated with a trigger, such as @app.route(route="hello")'
    ),
    "blueprint_not_registered": (
        "function_app.py: the function app 'app' has no functions, but blueprint 'bp' with "
        "functions is not registered on it; expected app.register_functions(bp)"
    ),
}

# Per-function failures: the rest of the app serves. Case → the disabled-function lines.
FUNCTION_ERRORS = {
    "bad_signatures": [
        "function_app.py:6: function 'extra_param': parameter 'extra' has no binding; "
        "expected a binding decorator with arg_name='extra' (found bindings: req), "
        "or remove the parameter",
        "function_app.py:11: function 'missing_param': binding 'nope' (http, out) has no "
        "parameter; expected a parameter named 'nope' (found parameters: req)",
        "function_app.py:17: function 'bad_context': parameter 'context' is annotated str; "
        "expected func.Context",
        "function_app.py:22: function 'out_on_input': parameter 'req' is annotated "
        "func.Out[func.HttpRequest], but binding 'req' (httpTrigger) is an input; "
        "expected a plain annotation (func.HttpRequest), without func.Out",
        "function_app.py:27: function 'wrong_type': parameter 'req' is annotated str; "
        "expected func.HttpRequest for binding 'req' (httpTrigger)",
        "function_app.py:37: function 'queue_without_param': binding 'msg' (queue, out) has no "
        "parameter; expected a parameter named 'msg' (found parameters: req)",
    ],
    "binding_types": [
        "function_app.py:6: function 'foo': binding 'x': unknown binding type 'fooTrigger'; "
        f"expected one of: {SUPPORTED}",
        "function_app.py:11: function 'work': binding 'msg': binding type 'serviceBusTrigger' "
        f"is not supported by funchost yet; supported types: {SUPPORTED}",
    ],
    "missing_settings": [
        "function_app.py:6: function 'missing_conn': binding 'out' (http): connection "
        "'MissingConn' resolves to nothing: looked for app settings AzureWebJobsMissingConn, "
        "MissingConn, ConnectionStrings:MissingConn, and MissingConn__serviceUri / "
        "MissingConn__fullyQualifiedNamespace / MissingConn__accountEndpoint (identity); "
        "expected one of them in local.settings.json Values or the environment",
        "function_app.py:12: function 'missing_route': binding 'req' property 'route': "
        "app setting 'MissingRoute' (referenced as %MissingRoute%) is not set; "
        "expected it in local.settings.json Values or the environment",
    ],
    "route_conflict": [
        "function_app.py:11: function 'fetch_item': route 'Items/{key}' for GET conflicts "
        "with function 'get_item' (route 'items/{id}'); expected one function per route "
        "and method",
    ],
}

# Configuration errors stop both commands before anything is imported. Case → (env, message).
_HOST_JSON = "{app}/host.json"
CONFIG_ERRORS: dict[str, tuple[dict[str, str], str]] = {
    "host_json_missing": (
        {},
        f"{_HOST_JSON}: file not found; expected a host.json containing "
        '{{"version": "2.0"}} in the app root (func start refuses to start without one)',
    ),
    "host_json_no_version": (
        {},
        f"{_HOST_JSON}: 'version' is missing; expected \"2.0\" (the schema of Functions 2.x "
        "and later)",
    ),
    "host_json_invalid": (
        {},
        f"{_HOST_JSON}: invalid JSON at line 8 column 3: Expecting ',' delimiter; "
        "expected JSON (comments allowed)",
    ),
    "settings_encrypted": (
        {},
        "{app}/local.settings.json: 'IsEncrypted' is true: its values were encrypted with a key "
        "bound to the machine that encrypted them, which funchost cannot read; expected plain "
        "values: run `func settings decrypt` on that machine, or recreate the file with "
        '"IsEncrypted": false and plain values',
    ),
    "bad_log_level": (
        {},
        f"{_HOST_JSON}: 'logging.logLevel.Function.hello' is 'Verbose'; expected one of Trace, "
        "Debug, Information, Warning, Error, Critical, None",
    ),
    "bad_timeout_override": (
        {"AzureFunctionsJobHost__functionTimeout": "abc"},
        "AzureFunctionsJobHost__functionTimeout: 'functionTimeout' is 'abc'; expected a "
        'TimeSpan like "00:05:00"',
    ),
}


def config_error(case: str) -> tuple[dict[str, str], str]:
    """The environment and the exact message of a configuration case."""
    env, message = CONFIG_ERRORS[case]
    return env, message.format(app=BROKEN_APPS / case)


def check(case: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``funchost check`` in a broken app's folder."""
    return run_funchost(["check"], BROKEN_APPS / case, env, timeout=CHECK_TIMEOUT)


def banner(output: str) -> tuple[str, list[str]]:
    """The message and the detail lines (a traceback) printed between the two rules."""
    lines = output.splitlines()
    start = lines.index(RULE)
    end = lines.index(RULE, start + 1)
    assert lines[start + 1] == BANNER, output
    return lines[start + 2], lines[start + 3 : end]


def disabled(output: str) -> list[str]:
    """The lines listing disabled functions, without their leading tab."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if "function(s) disabled" in line)
    count = int(lines[header].split()[0])
    assert lines[header] == f"{count} function(s) disabled (the rest are served):"
    listed = [line[1:] for line in lines[header + 1 : header + 1 + count]]
    assert all(lines[header + 1 + i].startswith("\t") for i in range(count)), output
    return listed


def traceback_files(detail: list[str]) -> list[str]:
    """The paths of the frames a traceback shows."""
    return [line.split('"')[1] for line in detail if line.startswith('  File "')]


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
