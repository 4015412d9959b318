"""The ``funchost`` command's first module: it keeps the garbage collector out of start-up.

Start-up imports aiohttp, azure.functions, funchost and the app: some hundred thousand
objects that live as long as the process (modules, classes, functions) and next to no
garbage, yet every collector pass walks the young ones again and promotes them: a visible
share of the start (bench/README.md has the figure). So the command turns the collector
off before it imports anything, and the host turns it back on once it listens, with every
start-up object frozen out of later passes: a full collection under load does not walk the
import graph either.
The same pattern as the ``gc.freeze()`` documentation's for servers that fork workers.
"""

from __future__ import annotations

import gc


class _Deferred:
    """Whether this process's start-up turned the collector off (the command, not a test)."""

    active = False


def main() -> int:
    """Entry point of the ``funchost`` command (``python -m funchost`` too)."""
    gc.disable()
    _Deferred.active = True
    try:
        from funchost.host.cli import main as run  # the heavy imports, collector off

        return run()
    finally:
        serving()  # exits before the host listened (check, bad config) restore it too


def serving() -> None:
    """The host listens: collect from now on, with the start-up objects frozen.

    A no-op unless :func:`main` turned the collector off, so an in-process host (tests)
    leaves the collector as it found it.
    """
    if not _Deferred.active:
        return
    _Deferred.active = False
    gc.freeze()
    gc.enable()
