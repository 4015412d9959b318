"""Import the user's ``function_app.py`` and find its one function app object."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextlib
import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from azure.functions import Blueprint, FunctionRegister

import funchost
from funchost.errors import AppLoadError

DEFAULT_SCRIPT_FILE = "function_app.py"


def _host_dirs() -> tuple[str, ...]:
    """Where funchost's and importlib's frames come from (raw and resolved spellings)."""
    here = Path(__file__).parent
    # The layers are siblings both installed and in the source tree, where they sit
    # beside src/funchost rather than inside it.
    dirs = {here, here.parent / "host", here.parent / "bindings", Path(funchost.__file__).parent}
    dirs.add(Path(importlib.__file__).parent)  # importlib/__init__.py calls _bootstrap
    spelled = {str(d) for d in dirs} | {str(d.resolve()) for d in dirs}
    return (*(d + os.sep for d in sorted(spelled)), "<frozen importlib")


_HOST_DIRS = _host_dirs()
# The thread pool and asyncio frames that start every invocation's stack: noise to a user.
_RUNNER_DIRS = tuple(
    str(Path(module.__file__ or "").parent) + os.sep for module in (asyncio, concurrent.futures)
)


@dataclass(frozen=True)
class LoadedApp:
    """The imported module and the FunctionRegister it defines."""

    module: ModuleType
    app: FunctionRegister
    script_file: Path


def script_file_name(environ: dict[str, str] | os._Environ[str]) -> str:
    """The entry file, as the worker reads it from PYTHON_SCRIPT_FILE_NAME."""
    return environ.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT_FILE


def load_app(script_root: Path, script_name: str = DEFAULT_SCRIPT_FILE) -> LoadedApp:
    """Import the entry file with the script root on sys.path, as the official worker does."""
    script_file = script_root / script_name
    if not script_file.is_file():
        raise AppLoadError(
            f"{script_file}: file not found; expected the app's entry file "
            f"(set PYTHON_SCRIPT_FILE_NAME if it has another name)"
        )
    module = _import(script_root, script_file)
    app = find_app(module, script_file)
    _check_has_functions(module, app, script_file)
    return LoadedApp(module=module, app=app, script_file=script_file)


def _import(script_root: Path, script_file: Path) -> ModuleType:
    root = str(script_root.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    module_name = script_file.stem
    # A fresh import each time, so that a reload picks up the edited file.
    sys.modules.pop(module_name, None)
    try:
        return importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise  # Ctrl+C during a slow import means stop, not "serve without the app"
    except BaseException as exc:  # the user's module may raise anything, even SystemExit
        raise AppLoadError(
            import_error_message(exc, script_file), detail=user_traceback(exc)
        ) from exc


def import_error_message(exc: BaseException, script_file: Path) -> str:
    """``function_app.py:3: importing the app raised X at helpers.py:5: message; expected``."""
    root = script_file.parent.resolve()
    entry, origin = _import_places(exc, script_file.resolve(), root)
    where = _place(entry, root) if entry else _place(origin, root) if origin else script_file.name
    at = f" at {_place(origin, root)}" if origin and origin != entry else ""
    text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    message = f"{where}: importing the app raised {type(exc).__name__}{at}: {text}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        message += (
            f"; expected '{exc.name}' to be importable: installed in the Python environment "
            f"that runs funchost (listed in requirements.txt) or a module in the app's folder"
        )
    return message


_Place = tuple[Path, int]


def _import_places(
    exc: BaseException, script_file: Path, root: Path
) -> tuple[_Place | None, _Place | None]:
    """The failing line of the entry file, and the innermost failing line under the app root."""
    places = [(Path(f.filename), f.lineno or 0) for f in traceback.extract_tb(exc.__traceback__)]
    if isinstance(exc, SyntaxError) and exc.filename:
        places.append((Path(exc.filename), exc.lineno or 0))
    places = [(p.resolve(), line) for p, line in places if not str(p).startswith("<")]
    entry = next((p for p in reversed(places) if p[0] == script_file), None)
    origin = next((p for p in reversed(places) if _is_app_code(p[0], root)), None)
    return entry, origin


def _is_app_code(path: Path, root: Path) -> bool:
    # A virtual environment inside the app folder holds libraries, not the app's code.
    prefix = Path(sys.prefix).resolve()
    in_venv = prefix.is_relative_to(root) and path.is_relative_to(prefix)
    libraries = {"site-packages", "dist-packages"} & set(path.parts)
    return path.is_relative_to(root) and not in_venv and not libraries


def _place(place: _Place, root: Path) -> str:
    path, line = place
    with contextlib.suppress(ValueError):
        path = path.relative_to(root)
    return f"{path}:{line}"


def find_app(module: ModuleType, script_file: Path) -> FunctionRegister:
    """Return the single top-level FunctionRegister instance of the module."""
    apps: dict[int, tuple[str, FunctionRegister]] = {}
    for name, value in vars(module).items():
        if isinstance(value, FunctionRegister):
            apps.setdefault(id(value), (name, value))
    if not apps:
        raise AppLoadError(
            f"{script_file.name}: no function app found; expected one top-level "
            f"'app = func.FunctionApp()' (or AsgiFunctionApp / WsgiFunctionApp)"
        )
    if len(apps) > 1:
        lines = _assignment_lines(script_file)
        found = ", ".join(
            f"'{name}' at {script_file.name}:{lines[name]}" if name in lines else f"'{name}'"
            for name, _ in apps.values()
        )
        raise AppLoadError(
            f"{script_file.name}: {len(apps)} function apps found ({found}); expected exactly "
            f"one FunctionApp: register blueprints on it with app.register_functions(bp)"
        )
    return next(iter(apps.values()))[1]


def _assignment_lines(script_file: Path) -> dict[str, int]:
    """The line of each top-level name's first binding, for messages (best effort)."""
    try:
        tree = ast.parse(script_file.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    lines: dict[str, int] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                lines.setdefault(target.id, node.lineno)
        if isinstance(node, ast.ImportFrom | ast.Import):
            for alias in node.names:
                lines.setdefault(alias.asname or alias.name, node.lineno)
    return lines


def _check_has_functions(module: ModuleType, app: FunctionRegister, script_file: Path) -> None:
    """An app with no functions is a mistake worth an error, not a silent empty host."""
    builders = getattr(app, "_function_builders", None)
    if builders is None or builders:
        return
    name = next(n for n, v in vars(module).items() if v is app)
    unregistered = [
        n for n, v in vars(module).items() if isinstance(v, Blueprint) and v._function_builders
    ]
    if unregistered:
        many = len(unregistered) > 1
        raise AppLoadError(
            f"{script_file.name}: the function app '{name}' has no functions, but "
            f"blueprint{'s' if many else ''} {', '.join(repr(n) for n in unregistered)} with "
            f"functions {'are' if many else 'is'} not registered on it; expected "
            + " and ".join(f"{name}.register_functions({n})" for n in unregistered)
        )
    raise AppLoadError(
        f"{script_file.name}: the function app '{name}' has no functions; expected at least "
        f'one function decorated with a trigger, such as @{name}.route(route="hello")'
    )


def user_traceback(exc: BaseException) -> str:
    """The exception's traceback without funchost's, importlib's and the runner's frames."""
    te = traceback.TracebackException.from_exception(exc)
    _trim(te)
    return "".join(te.format()).rstrip()


def _trim(te: traceback.TracebackException) -> None:
    frames = [f for f in te.stack if not f.filename.startswith(_HOST_DIRS)]
    while frames and frames[0].filename.startswith(_RUNNER_DIRS):
        del frames[0]
    te.stack = traceback.StackSummary.from_list(frames)
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _trim(chained)
