"""The admin API's view of a running host: function metadata, invoke, drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from funchost.host.listeners import stop_all
from funchost.worker.invoker import InvocationFailed
from funchost.worker.wiring import LoadedFunction

if TYPE_CHECKING:
    from funchost.host.app_host import LoadState
    from funchost.host.ui.dashboard import Dashboard

log = logging.getLogger("funchost.host")


class HostControl:
    """Implements ``admin.AdminBackend`` over the host's load state."""

    def __init__(self, state: LoadState, base_url: Callable[[], str]) -> None:
        self._state = state
        self._base_url = base_url
        self._started = time.monotonic()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._drain = "Disabled"
        self.dashboard: Dashboard | None = None  # None: --no-ui

    def status(self) -> dict[str, Any]:
        """State, uptime, functions and every problem."""
        state = "Error" if self._state.app_error else "Running"
        return {
            "state": state,
            "processUptime": int((time.monotonic() - self._started) * 1000),
            "functions": sorted(f.spec.name for f in self._state.functions),
            "errors": self._state.problems,
        }

    def function_names(self) -> list[str]:
        """Loaded functions first, then the disabled ones, each group by name."""
        loaded = sorted(f.spec.name for f in self._state.functions)
        failed = sorted({e.function_name for e in self._state.function_errors} - set(loaded))
        return loaded + failed + sorted(self._state.disabled)

    def function_info(self, name: str) -> dict[str, Any] | None:
        """Metadata shaped like the Functions host's /admin/functions/{name}."""
        function = self.find(name)
        if function is not None:
            return self._loaded_info(function)
        errors = [str(e) for e in self._state.function_errors if _same(e.function_name, name)]
        disabled = next((n for n in self._state.disabled if _same(n, name)), None)
        if not errors and disabled is None:
            return None
        return {
            "name": disabled or name,
            "language": "python",
            "isDisabled": True,
            "errors": errors,
        }

    def _loaded_info(self, function: LoadedFunction) -> dict[str, Any]:
        spec = function.spec
        description = function.listener.describe(self._base_url())
        bindings = [
            {"name": b.name, "type": b.type, "direction": b.direction, **b.properties}
            for b in spec.bindings
        ]
        info: dict[str, Any] = {
            "name": spec.name,
            "language": "python",
            "isDisabled": False,
            "config": {"bindings": bindings, "scriptFile": spec.where.rsplit(":", 1)[0]},
            "trigger": spec.trigger.type,
            "description": description.text,
        }
        if description.url is not None:
            info["invoke_url_template"] = description.url
        return info

    def invoke(self, name: str, payload: str) -> str:
        """Start the function in the background with this input as its trigger payload."""
        function = self.find(name)
        if function is None:
            return "not_found"
        event = function.listener.admin_event(payload)
        if event is None:
            return "not_invocable"
        task = asyncio.get_running_loop().create_task(_invoke(function, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return "accepted"

    async def dashboard_data(self, path: str, query: Mapping[str, str]) -> Any | None:
        """The dashboard's document at /admin/ui/api/<path>; None: 404 (or --no-ui)."""
        if self.dashboard is None:
            return None
        return await self.dashboard.answer(path, query)

    def start_drain(self) -> None:
        """Stop every trigger listener; HTTP keeps answering, as in the Functions host."""
        if self._drain != "Disabled":
            return
        self._drain = "InProgress"
        task = asyncio.get_running_loop().create_task(self._run_drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def drain_state(self) -> str:
        """Disabled, InProgress or Completed."""
        return self._drain

    async def _run_drain(self) -> None:
        log.info("Drain mode: stopping trigger listeners.")
        # Each listener returns once its own invocations are done; no deadline, as the host's.
        await stop_all(self._state.functions, math.inf)
        invoked = [task for task in self._tasks if task is not asyncio.current_task()]
        await asyncio.gather(*invoked, return_exceptions=True)  # started by the admin API
        self._drain = "Completed"
        log.info("Drain mode: completed, no invocations in flight.")

    def find(self, name: str) -> LoadedFunction | None:
        """The loaded function of this name, compared case-insensitively as the host does."""
        return next((f for f in self._state.functions if _same(f.spec.name, name)), None)


async def _invoke(function: LoadedFunction, event: Any) -> None:
    with contextlib.suppress(InvocationFailed):  # the worker has logged it
        await function.invoker(event)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()
