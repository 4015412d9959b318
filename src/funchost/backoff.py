"""Randomized exponential backoff, as the WebJobs SDK computes it.

Used by retry policies (exponential_backoff) and by polling listeners that back off when
idle. Each failure grows the delay by ``delta * 2^(n-1) * U(0.8, 1.2)`` above the minimum,
until the maximum; a success resets it to the minimum.
"""

from __future__ import annotations

import random

RANDOMIZATION = 0.2


class ExponentialBackoff:
    """Delays that grow on failure and reset on success; one instance per retry sequence."""

    def __init__(self, minimum: float, maximum: float, delta: float | None = None) -> None:
        if minimum < 0 or maximum < 0:
            raise ValueError("intervals must not be negative")
        if minimum > maximum:
            raise ValueError("the minimum interval must not be greater than the maximum")
        self.minimum = minimum
        self.maximum = maximum
        self._delta = minimum if delta is None else delta
        self._current = minimum
        self._exponent = 0

    def next_delay(self, succeeded: bool = False) -> float:
        """The delay before the next attempt (or poll), in seconds."""
        if succeeded:
            self._current, self._exponent = self.minimum, 1
        elif self._current != self.maximum:
            self._grow()
        return self._current

    def _grow(self) -> None:
        interval = self.minimum
        if self._exponent > 0:
            factor = random.uniform(1 - RANDOMIZATION, 1 + RANDOMIZATION)
            interval += factor * 2 ** (self._exponent - 1) * self._delta
        if interval < self.maximum:
            self._current = interval
            self._exponent += 1
        else:
            self._current = self.maximum
