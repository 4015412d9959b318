"""Binding types from a third-party package: the test plugin tests/plugins/funchost_echo_binding
is installed into a temporary folder that the ``funchost`` subprocess gets on PYTHONPATH, as a
user's ``pip install`` would put it on the interpreter's path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from broken_app_cases import disabled
from conftest import APPS, TESTS, StartHost, run_funchost
from http_helpers import get

from funchost.bindings import registry

PLUGIN = TESTS / "plugins" / "funchost_echo_binding"
APP = APPS / "entry_points"
DISABLED = [
    "function_app.py:18: function 'broken': binding 'x': binding type 'brokenEcho': entry "
    "point 'brokenEcho = funchost_echo_binding.missing:ECHO' from funchost-echo-binding 0.1.0 "
    "failed to load: ModuleNotFoundError: No module named 'funchost_echo_binding.missing'; "
    "expected 'funchost_echo_binding.missing:ECHO' to be an importable module and attribute",
    "function_app.py:24: function 'not_provider': binding 'x': binding type 'notProvider': "
    "entry point 'notProvider = funchost_echo_binding:NOT_A_PROVIDER' from "
    "funchost-echo-binding 0.1.0 is a dict, not an instance of "
    "funchost.bindings.base.BindingProvider",
    "function_app.py:30: function 'a_class': binding 'x': binding type 'echoClass': entry point "
    "'echoClass = funchost_echo_binding:EchoProvider' from funchost-echo-binding 0.1.0 is the "
    "class EchoProvider, not an instance of funchost.bindings.base.BindingProvider; expected "
    "the entry point to name an instance, such as PROVIDER = EchoProvider()",
]


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The plugin, pip-installed (no index, no network) into a folder of its own."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(PLUGIN, source)  # pip builds in the source folder: not in the repository
    target = work / "site"
    offline = ["--no-deps", "--no-index", "--no-build-isolation", "--disable-pip-version-check"]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *offline, "--target", str(target), source],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield target


def test_a_binding_type_from_an_installed_package_works(
    start_host: StartHost, plugin_path: Path, tmp_path: Path
) -> None:
    echoed = tmp_path / "echoed.txt"
    env = {"PYTHONPATH": str(plugin_path), "ECHO_FILE": str(echoed)}
    host = start_host(APP, env=env)
    reply = get(host, "/api/echo/ada")
    assert (reply.status, reply.text) == (200, "hello ada")
    assert echoed.read_text() == "HELLO ADA\n"
    assert disabled(host.output) == DISABLED


def test_check_reports_a_plugin_that_does_not_load(plugin_path: Path) -> None:
    result = run_funchost(["check"], APP, {"PYTHONPATH": str(plugin_path), "ECHO_FILE": "x"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert disabled(result.stdout) == DISABLED


def test_without_the_package_the_type_is_unknown() -> None:
    result = run_funchost(["check"], APP, {"ECHO_FILE": "x"})
    assert "function 'echo': 2 problems: (1) binding 'out': unknown binding type 'echo'" in (
        result.stdout
    )


def test_a_built_in_type_is_never_replaced_by_an_entry_point(
    plugin_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plugin declares 'queue' too: the registry never reads entry points for a type it has.
    monkeypatch.syspath_prepend(str(plugin_path))
    monkeypatch.setattr(registry, "_loaded", {})  # this process's registry, left as it was
    assert registry.unsupported_reason("queue") is None
    assert type(registry.get_provider("queue")).__module__ == "funchost.bindings.queue.provider"
    assert registry.unsupported_reason("echo") is None  # found through the entry point
    assert type(registry.get_provider("ECHO")).__name__ == "EchoProvider"
