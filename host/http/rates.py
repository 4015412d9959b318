"""How slow a client may be: Kestrel's RequestHeadersTimeout, MinRequestBodyDataRate and
MinResponseDataRate.

A request head must arrive whole within ``headers_timeout`` seconds of its first byte (Kestrel:
30 s, then 408; app setting ``FUNCHOST_REQUEST_HEADERS_TIMEOUT``, 0 turns it off).

A client that sends its request body, or reads its answer, slower than
``min_bytes_per_second`` on average once ``grace`` seconds have passed holds a connection (and
a function) for nothing: the body read fails with 408, the answer's connection is aborted.
Kestrel's defaults are 240 bytes/s after a 5 s grace, for each direction; the app settings
``FUNCHOST_MIN_DATA_RATE`` (bytes/s, 0 turns the check off) and ``FUNCHOST_DATA_RATE_GRACE``
(seconds) change both. Time is counted only while the client is the one holding things up:
not while the body waits for the function to read it, nor while nothing is left to send.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from funchost.errors import ConfigError

RATE_SETTING = "FUNCHOST_MIN_DATA_RATE"
GRACE_SETTING = "FUNCHOST_DATA_RATE_GRACE"
HEADERS_SETTING = "FUNCHOST_REQUEST_HEADERS_TIMEOUT"
_SOURCE = "local.settings.json Values or the environment"


@dataclass(frozen=True)
class DataRates:
    """The slowest a client may send or read, after a grace period."""

    min_bytes_per_second: float = 240.0
    grace: float = 5.0
    headers_timeout: float = 30.0


class RateClock:
    """Seconds timed and bytes moved in one direction of one request."""

    __slots__ = ("mark", "moved", "seconds")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.moved = 0
        self.mark = 0  # the write buffer's size at the last tick (answers)

    def reset(self) -> None:
        """A new request, or the client caught up: time from zero."""
        self.seconds, self.moved, self.mark = 0.0, 0, 0

    def too_slow(self, rates: DataRates) -> bool:
        """Whether the average rate so far is under the minimum, past the grace period."""
        if rates.min_bytes_per_second <= 0 or self.seconds <= rates.grace:
            return False
        return self.moved < rates.min_bytes_per_second * self.seconds


def data_rates(settings: Mapping[str, str]) -> DataRates:
    """The minimum rate and grace from the app settings, Kestrel's defaults when unset."""
    default = DataRates()
    rate = _number(settings, RATE_SETTING, default.min_bytes_per_second, "bytes a second")
    grace = _number(settings, GRACE_SETTING, default.grace, "seconds")
    headers = _number(settings, HEADERS_SETTING, default.headers_timeout, "seconds")
    return DataRates(rate, grace, headers)


def _number(settings: Mapping[str, str], name: str, default: float, unit: str) -> float:
    raw = settings.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            _SOURCE, name, raw, f"a number of {unit} of at least 0 (default {default:g})"
        )
    return value
