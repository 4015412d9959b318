"""funchost's pytest plugin (entry point ``pytest11``): ``funchost_app`` and ``azurite``.

Loading it costs next to nothing: the host, aiohttp and the Azure SDKs are imported when a
test first asks for a fixture, not before, so a session that uses neither pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from funchost.host.azurite import RunningAzurite
    from funchost.host.testing.app import FunchostApp


@pytest.fixture(scope="session")
def funchost_app() -> Iterator[Callable[..., FunchostApp]]:
    """``funchost_app(path=".", *, settings=, record_outputs=, triggers=, args=)``: the app
    in ``path``, served in-process by the real host; started once per session and options."""
    from funchost.host.testing.session import AppSession

    session = AppSession()
    try:
        yield session.app
    finally:
        session.close()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAzurite]:
    """Azurite in memory on free loopback ports for the session; ``.connection_string``.

    Skips the test when Azurite is not installed (PATH, or node_modules/.bin of the current
    folder and its parents).
    """
    from funchost.host.testing.storage import start_azurite

    started = start_azurite(tmp_path_factory.mktemp("azurite"))
    if isinstance(started, str):
        pytest.skip(started)
    try:
        yield started
    finally:
        started.stop()
