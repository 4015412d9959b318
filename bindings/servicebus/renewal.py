"""Lock renewal while a Service Bus function runs: the SDK's ``AutoLockRenewer``, registered
only once half a message's lock has passed, up to ``maxAutoLockRenewalDuration``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from funchost.bindings.shared.failures import first_line

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusReceivedMessage
    from azure.servicebus.aio import AutoLockRenewer, ServiceBusReceiver

log = logging.getLogger("funchost.servicebus")
CATEGORY = "Host.Triggers.ServiceBus"
# None (renew for as long as the function runs) as a duration: longer than any run.
_FOREVER = 86400.0 * 365


class LockKeeper:
    """Renews the locks of one trigger's messages and sessions while their functions run.

    Most functions end long before half their lock has passed; a message is registered with
    the renewer (a task of the SDK's per message) only then, by a timer.
    """

    def __init__(self, function_name: str, limit: float | None) -> None:
        """``limit``: maxAutoLockRenewalDuration in seconds (None: no limit, 0: no renewal)."""
        self._function_name = function_name
        self._limit = limit
        self._renewer: AutoLockRenewer | None = None
        self._stopping = False

    def start(self) -> None:
        """Make the renewer (on the running loop)."""
        from azure.servicebus.aio import AutoLockRenewer

        self._renewer = AutoLockRenewer(on_lock_renew_failure=self._failed)

    def stop(self) -> None:
        """Register nothing more: the trigger is stopping."""
        self._stopping = True

    async def close(self) -> None:
        """Stop renewing (after every message was settled)."""
        if self._renewer is not None:
            await self._renewer.close()

    def keep(
        self, receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage
    ) -> asyncio.TimerHandle | None:
        """Renew the message's lock once half of it has passed; cancel the timer when done."""
        limit = self._limit
        locked_until = message.locked_until_utc
        if limit == 0 or locked_until is None:
            return None
        loop = asyncio.get_running_loop()
        started = loop.time()
        remaining = locked_until.timestamp() - time.time()

        def begin() -> None:
            left = None if limit is None else limit - (loop.time() - started)
            if left is None or left > 0:
                self.register(receiver, message, left)

        return loop.call_later(max(0.0, remaining / 2), begin)

    def register(
        self, receiver: ServiceBusReceiver, renewable: Any, limit: float | None = -1
    ) -> None:
        """Renew a message's or session's lock from now, for ``limit`` seconds (-1: the
        option's)."""
        if self._renewer is None or self._stopping or self._limit == 0:
            return
        if limit == -1:
            limit = self._limit
        duration = _FOREVER if limit is None else limit
        with contextlib.suppress(Exception):  # a message settled meanwhile is not renewable
            self._renewer.register(receiver, renewable, max_lock_renewal_duration=duration)

    async def _failed(self, renewable: Any, error: Exception | None) -> None:
        if error is None or type(error).__name__ == "AutoLockRenewTimeout":
            return
        log.warning(
            "Function '%s': renewing a lock failed (%s); the message may be delivered again.",
            self._function_name,
            first_line(error),
            extra={"category": CATEGORY},
        )
