"""The dashboard's data, under ``/admin/ui/api/`` (the admin API's rules: master key, origin).

Everything is computed when a page asks for it; the only work done without a page open is
the invoker's append to the ring of recent invocations (worker/history.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from funchost import __version__
from funchost.bindings.shared.localtime import zone_from_settings, zone_name
from funchost.bindings.shared.storage import AZURITE
from funchost.host import azurite
from funchost.host.logs import utc_stamp
from funchost.host.ui import views
from funchost.host.ui.capture import InvocationLines
from funchost.host.ui.queues import queue_depths
from funchost.worker.history import RING_SIZE, Ended, new_ring

if TYPE_CHECKING:
    from funchost.host.app_host import Host


class Dashboard:
    """Answers the page's requests from the host's own state."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self.history = new_ring()  # every invoker appends to it (Host._wire)
        self.lines = InvocationLines()

    async def answer(self, path: str, query: Mapping[str, str]) -> Any | None:
        """The document for ``/admin/ui/api/<path>``; None: no such document (404)."""
        self.lines.page_open()
        if path == "state":
            return await self.state()
        if path == "invocations":
            return self.invocations(query)
        if path == "queues":
            return await queue_depths(self._host.state.functions)
        return None

    async def state(self) -> dict[str, Any]:
        """The host's state and every function, served or not."""
        return {"host": await self._host_state(), "functions": self._functions(), **self._app()}

    async def _host_state(self) -> dict[str, Any]:
        host = self._host
        uptime = host.control.status()["processUptime"] / 1000
        return {
            "version": __version__,
            "state": "Error" if host.state.app_error else "Running",
            "url": host.options.base_url,
            "startedAt": utc_stamp(time.time() - uptime),
            "uptimeSeconds": round(uptime),
            "timeZone": zone_name(zone_from_settings(host.config.settings)),
            "auth": "keys checked" if host.server.keys is not None else "keys bypassed (loopback)",
            "drain": host.control.drain_state(),
            "storage": await self._storage(),
            # Filled in once the host can reload or run several workers.
            "reloads": None,
            "workers": None,
        }

    async def _storage(self) -> dict[str, Any]:
        """Azurite: the settings that use the development storage and whether it answers."""
        settings = self._host.local_services(AZURITE)
        if not settings:
            return {"azurite": "not used (no connection is UseDevelopmentStorage=true)"}
        listening = await asyncio.to_thread(azurite.ports_in_use)
        state = f"listening on {', '.join(map(str, listening))}" if listening else "not reachable"
        return {"azurite": state, "usedBy": settings}

    def _app(self) -> dict[str, Any]:
        error = self._host.state.app_error
        if error is None:
            return {"appError": None}
        return {"appError": {"message": str(error), "detail": error.detail or None}}

    def _functions(self) -> list[dict[str, Any]]:
        from funchost.host.report import disabled_by_setting  # report imports app_host

        state, base_url = self._host.state, self._host.options.base_url
        shown = [views.loaded_function(f, base_url) for f in state.functions]
        indexed = {spec.name.lower(): spec for spec in state.indexed}
        reasons: dict[str, list[str]] = {}
        for error in state.function_errors:
            reasons.setdefault(error.function_name, []).append(str(error))
        for name in state.disabled:
            reasons.setdefault(name, []).append(disabled_by_setting(name))
        for name, why in reasons.items():
            shown.append(views.disabled_function(name, why, indexed.get(name.lower())))
        return sorted(shown, key=lambda view: str(view["name"]).lower())

    def invocations(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Newest first; ``after`` (an id) gives only the newer ones, ``function`` and
        ``outcome`` filter. ``complete`` says the list replaces what the page had."""
        entries = list(self.history)
        newer, complete = _after(entries, query.get("after", ""))
        function = query.get("function", "").lower()
        outcome = query.get("outcome", "").lower()
        offset = time.time() - time.perf_counter()  # once: every entry moves by the same
        shown = [
            views.invocation(e, offset, self.lines.lines_of(e.invocation_id))
            for e in reversed(newer)
            if (not function or e.function_name.lower() == function)
            and (not outcome or e.outcome.lower() == outcome)
        ]
        return {"invocations": shown, "complete": complete, "kept": RING_SIZE}


def _after(entries: list[Ended], invocation_id: str) -> tuple[list[Ended], bool]:
    """The entries after the one with this id; all of them (complete) when it is gone."""
    if invocation_id:
        for index in range(len(entries) - 1, -1, -1):
            if entries[index].invocation_id == invocation_id:
                return entries[index + 1 :], False
    return entries, True
