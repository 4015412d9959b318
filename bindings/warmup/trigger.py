"""Warmup trigger: runs once when the host starts, and again on ``GET /admin/warmup``.

The Functions host calls the warmup function with a ``WarmupContext``, which reaches a
Python worker as the ``json`` TypedData ``{}``; the library's converter ignores it and hands
the function a ``WarmUpContext``. The host runs only a function named ``warmup``.
"""

from __future__ import annotations

import logging

from aiohttp import web
from azure.functions.meta import Datum

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    Description,
    Dispatch,
    TriggerEvent,
    TriggerProvider,
)

log = logging.getLogger("funchost.warmup")

# The name the Functions host looks for (ScriptJobHostExtensions.GetWarmupFunctionOrNull).
_HOST_NAME = "warmup"
_METHODS = frozenset({"GET", "POST"})


class WarmupTriggerListener:
    """Runs one warmup function at start-up and on the admin endpoint."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch) -> None:
        self._dispatch = dispatch
        self._name = ctx.function_name
        if ctx.http is not None:
            ctx.http.add_system_route(
                "/admin/warmup", _METHODS, self.handle, ctx.function_name, auth_level="admin"
            )

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("warmupTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """The admin API may run it too; the payload is ignored, as the converter does."""
        return warmup_event()

    async def start(self) -> None:
        """Run the function before the host reports ready; a failure is logged, not fatal."""
        if self._name.lower() != _HOST_NAME:
            log.warning(
                "Function '%s' has a warmup trigger but is not named 'warmup': the Functions "
                "host in Azure never runs it (funchost does); rename it to 'warmup'.",
                self._name,
            )
        await self.run()

    async def stop(self, deadline: float) -> None:
        """Nothing to stop: the trigger only fires when asked."""

    async def run(self) -> bool:
        """Invoke the function once; whether it succeeded (a failure is already logged)."""
        try:
            await self._dispatch(warmup_event())
        except Exception:
            return False
        return True

    async def handle(self, request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        """``/admin/warmup``: 200 once the function has run, 500 when it failed."""
        return web.Response(status=200 if await self.run() else 500)


def warmup_event() -> TriggerEvent:
    """The Functions host's WarmupContext, serialised as the worker receives it."""
    return TriggerEvent(data=Datum("{}", "json"))


# The listener registers /admin/warmup; the host starts it, which runs the function once.
WARMUP_TRIGGER = TriggerProvider("warmupTrigger", WarmupTriggerListener)
