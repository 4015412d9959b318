"""Import the user's ``function_app.py`` and find its one function app object."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from azure.functions import FunctionRegister

from funchost.errors import AppLoadError

DEFAULT_SCRIPT_FILE = "function_app.py"
_HOST_DIRS = (str(Path(__file__).resolve().parent.parent), "<frozen importlib")


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
    return LoadedApp(module=module, app=find_app(module, script_file), script_file=script_file)


def _import(script_root: Path, script_file: Path) -> ModuleType:
    root = str(script_root.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    module_name = script_file.stem
    # A fresh import each time, so that a reload picks up the edited file.
    sys.modules.pop(module_name, None)
    try:
        return importlib.import_module(module_name)
    except BaseException as exc:  # the user's module may raise anything, even SystemExit
        raise AppLoadError(
            f"{script_file}: importing the app raised {type(exc).__name__}: {exc}",
            detail=user_traceback(exc),
        ) from exc


def find_app(module: ModuleType, script_file: Path) -> FunctionRegister:
    """Return the single top-level FunctionRegister instance of the module."""
    apps: dict[int, tuple[str, FunctionRegister]] = {}
    for name, value in vars(module).items():
        if isinstance(value, FunctionRegister):
            apps.setdefault(id(value), (name, value))
    if not apps:
        raise AppLoadError(
            f"{script_file}: no function app found; expected one top-level "
            f"'app = func.FunctionApp()' (or AsgiFunctionApp / WsgiFunctionApp)"
        )
    if len(apps) > 1:
        names = ", ".join(sorted(name for name, _ in apps.values()))
        raise AppLoadError(
            f"{script_file}: {len(apps)} function apps found ({names}); expected exactly one "
            f"top-level FunctionApp: register blueprints on it with app.register_functions(bp)"
        )
    return next(iter(apps.values()))[1]


def user_traceback(exc: BaseException) -> str:
    """The exception's traceback without funchost's and importlib's frames."""
    te = traceback.TracebackException.from_exception(exc)
    _trim(te)
    return "".join(te.format()).rstrip()


def _trim(te: traceback.TracebackException) -> None:
    frames = [f for f in te.stack if not f.filename.startswith(_HOST_DIRS)]
    te.stack = traceback.StackSummary.from_list(frames)
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _trim(chained)
