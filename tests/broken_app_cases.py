"""The broken apps under tests/broken_apps and what funchost says of each, in its exact words.

It holds no tests: test_check.py asserts these messages through ``funchost check``,
test_broken_apps.py through ``funchost start``, test_timer_errors.py reads the disabled list.
"""

from __future__ import annotations

import subprocess

from conftest import BROKEN_APPS, run_funchost

from funchost.bindings.registry import known_types

CHECK_TIMEOUT = 30.0
RULE = "=" * 72
BANNER = "ERROR: the app could not be loaded; no functions are served until it is fixed."
NOT_LOADED = "No functions loaded (the app could not be loaded: see the error above)."
SUPPORTED = ", ".join(known_types())
PLUGINS = "or a type an installed package adds through a 'funchost.bindings' entry point"

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
        f"expected one of: {SUPPORTED}, {PLUGINS}",
        "function_app.py:11: function 'work': binding 'docs': binding type 'kafkaTrigger' "
        f"is not supported by funchost yet; supported types: {SUPPORTED}",
    ],
    "generic_unsupported": [
        "function_app.py:6: function 'reads': binding 'doc': unknown binding type 'fooInput'; "
        f"expected one of: {SUPPORTED}, {PLUGINS}",
        "function_app.py:12: function 'relays': 2 problems: (1) binding 'out': binding type "
        f"'sql' is not supported by funchost yet; supported types: {SUPPORTED}; "
        "(2) binding 'item': unknown binding type 'barTrigger'; expected one of: "
        f"{SUPPORTED}, {PLUGINS}",
    ],
    "table_bindings": [
        "function_app.py:6: function 'no_name': binding 'rows' (table): 'tableName' is missing; "
        "expected table_name='mytable'",
        "function_app.py:12: function 'negative_take': binding 'rows' (table): 'take' is -1; "
        "expected a whole number of entities, 0 or more (0: no limit)",
        "function_app.py:18: function 'text_take': binding 'rows' (table): 'take' is 'ten'; "
        "expected a whole number of entities, 0 or more (0: no limit)",
        "function_app.py:26: function 'bad_name': binding 'row' (table): tableName 'my-table' "
        "gave 'my-table': not a valid table name; expected 3 to 63 letters and digits, "
        "starting with a letter",
        "function_app.py:32: function 'filter_and_row': binding 'row' (table): filter cannot be "
        "used with 'rowKey' (one entity is read by its keys); expected rowKey, or filter/take "
        "without it",
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
