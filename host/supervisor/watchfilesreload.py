"""Hot reload: saves under the script root become reload requests (watchfiles)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

log = logging.getLogger("funchost.supervisor")
WATCHED_NAMES = ("host.json", "local.settings.json")
# Beside watchfiles' own (.git, .venv, __pycache__, node_modules, ...): funchost's state and
# Azurite's data, which change while the host runs and are no code.
IGNORED_DIRS = (".funchost", "__blobstorage__", "__queuestorage__", "__tablestorage__")
# An editor's save is often several events (write, rename, chmod): wait this long (ms) for
# the last one, so that one save is one reload.
STEP_MS = 50


class ReloadFilter(DefaultFilter):
    """Python files, host.json and local.settings.json, outside ignored folders."""

    def __init__(self) -> None:
        super().__init__(ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS))

    def __call__(self, change: Change, path: str) -> bool:
        """Whether a change to this path reloads the app."""
        name = Path(path).name
        wanted = name.endswith(".py") or name in WATCHED_NAMES
        return wanted and super().__call__(change, path)


async def watch(root: Path, reload: Callable[[str], None]) -> None:
    """Call ``reload`` with what changed, after each save, until cancelled."""
    log.info("Watching %s for changes (--reload).", root)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "1 change detected": ours says more
    async for changes in awatch(root, watch_filter=ReloadFilter(), step=STEP_MS):
        names = sorted({_relative(root, path) for _, path in changes})
        reload(f"{', '.join(names)} changed")


def _relative(root: Path, path: str) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
