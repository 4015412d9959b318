"""The command keeps the garbage collector off during start-up and on once the host serves."""

from __future__ import annotations

import gc
import json
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import StartHost

from funchost.host import cli, startup


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Whatever a test does to the collector, the next test finds it as usual."""
    yield
    gc.unfreeze()
    gc.enable()


def test_the_served_app_runs_with_the_collector_on_and_start_up_frozen(
    start_host: StartHost,
) -> None:
    host = start_host("gc_state")
    with urllib.request.urlopen(host.base_url + "/api/gc", timeout=10) as resp:
        state = json.loads(resp.read())
    assert state["enabled"] is True
    # aiohttp, azure.functions and funchost alone are tens of thousands of objects.
    assert state["frozen"] > 10_000


def test_the_command_imports_with_the_collector_off_and_restores_it_on_exit(
    monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    seen: list[bool] = []

    def run() -> int:  # stands in for the CLI: the test is about what surrounds it
        seen.append(gc.isenabled())
        return 3

    monkeypatch.setattr(cli, "main", run)
    assert startup.main() == 3  # the CLI's exit code goes through unchanged
    assert seen == [False]
    assert gc.isenabled()


def test_serving_leaves_the_collector_alone_outside_the_command(
    collector_restored: None,
) -> None:
    gc.disable()  # as a test or an embedding program might have it
    startup.serving()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
