"""One line when a service a listener depends on stops answering, one when it answers again.

A listener retries a failing call for as long as the outage lasts (an emulator restarting, a
network blip); a line per retry floods the log and hides what happened. So the first failure
of a streak is a WARNING with the error's type and first line, later ones are DEBUG, and the first
success after it is one INFO line saying how long it lasted. The wait between retries grows
(the WebJobs randomized exponential backoff) up to a cap, so a long outage costs little and
a short one is noticed soon after it ends.
"""

from __future__ import annotations

import logging
import time

from funchost.backoff import ExponentialBackoff
from funchost.bindings.shared.failures import first_line


class Outage:
    """The failure streak of one repeated call: what to log and how long to wait."""

    def __init__(
        self, logger: logging.Logger, minimum: float, maximum: float, category: str | None = None
    ) -> None:
        self._log = logger
        self._backoff = ExponentialBackoff(minimum, maximum)
        self._extra = {"category": category} if category else None
        self._since: float | None = None  # when the streak began; None while it works

    @property
    def failing(self) -> bool:
        """A failure was reported and no success since."""
        return self._since is not None

    def failed(self, what: str, exc: BaseException) -> float:
        """Report a failure (loudly only the first of a streak); the seconds to wait."""
        level = logging.DEBUG if self.failing else logging.WARNING
        if self._since is None:
            self._since = time.monotonic()
        delay = self._backoff.next_delay(succeeded=False)
        name = type(exc).__name__
        error = f"{name}: {first_line(exc)}" if str(exc).strip() else name
        self._log.log(
            level,
            "%s: %s; trying again (every %.1f s at most while it fails).",
            what,
            error,
            self._backoff.maximum,
            extra=self._extra,
        )
        return delay

    def succeeded(self, what: str) -> None:
        """Report the end of a streak, once; the backoff starts over."""
        self._backoff.next_delay(succeeded=True)
        if self._since is None:
            return
        lasted, self._since = time.monotonic() - self._since, None
        self._log.info("%s again after %.1f s.", what, lasted, extra=self._extra)
