"""The shape of the package: dependencies point one way, binding packages stay apart and lazy.

Read from the installed package's sources with ``ast``, so a test fails on the import a
change adds, wherever it sits in a module (inside a function or under TYPE_CHECKING too).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import funchost.bindings

BINDINGS = Path(funchost.bindings.__file__).parent
PACKAGE = BINDINGS.parent
# What a binding package may import from funchost besides itself.
BINDING_MAY_USE = ("funchost.bindings.base", "funchost.bindings.shared")
BASE_LAYER = ("funchost.errors", "funchost.timespan", "funchost.backoff", "funchost.config_section")
EXTENSIONS = sorted(
    p.name for p in BINDINGS.iterdir() if (p / "__init__.py").exists() and p.name != "shared"
)
# SDKs an app pays for only when it uses a binding that needs them.
SDKS = (
    *("azure.storage", "azure.servicebus", "azure.eventhub", "azure.cosmos", "azure.identity"),
    *("azure.eventgrid", "azure.data.tables"),
)


def funchost_imports(path: Path) -> Iterator[str]:
    """Every funchost module a source file imports, relative imports resolved."""
    package = ".".join(("funchost", *path.relative_to(PACKAGE).with_suffix("").parts[:-1]))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (name for name in names if name.startswith("funchost"))


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_the_layout_was_found() -> None:
    assert {"http", "timer", "queue", "blob", "eventgrid", "warmup", "table"} <= set(EXTENSIONS)
    assert sources("bindings") and sources("worker") and sources("host")


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_a_binding_package_imports_no_sibling_but_shared(extension: str) -> None:
    own = f"funchost.bindings.{extension}"
    allowed = (own, *BINDING_MAY_USE, *BASE_LAYER)
    wrong = {
        f"{path.name}: {name}"
        for path in sources(f"bindings/{extension}")
        for name in funchost_imports(path)
        if name not in ("funchost", "funchost.bindings") and not name.startswith(allowed)
    }
    assert not wrong


def test_shared_bindings_import_no_extension() -> None:
    allowed = (*BINDING_MAY_USE, *BASE_LAYER)
    wrong = {
        f"{path.name}: {name}"
        for path in sources("bindings/shared")
        for name in funchost_imports(path)
        if name not in ("funchost", "funchost.bindings") and not name.startswith(allowed)
    }
    assert not wrong


@pytest.mark.parametrize(
    ("layer", "forbidden"), [("bindings", ("host", "worker")), ("worker", ("host",))]
)
def test_dependencies_point_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    prefixes = tuple(f"funchost.{name}" for name in forbidden)
    wrong = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sources(layer)
        for name in funchost_imports(path)
        if name.startswith(prefixes)
    }
    assert not wrong


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_importing_a_binding_package_loads_no_sdk(extension: str) -> None:
    # A fresh interpreter: this one has imported the SDKs through other tests.
    code = (
        "import sys, importlib\n"
        f"importlib.import_module('funchost.bindings.{extension}')\n"
        f"print(sorted(m for m in sys.modules if m.startswith({SDKS!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
