"""Retry policies (``@app.retry`` and host.json ``retry``), applied as the Functions host does.

Whether a trigger honours them is its provider's ``honours_retry`` (bindings/base.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from funchost.backoff import ExponentialBackoff
from funchost.errors import ConfigError
from funchost.timespan import parse_timespan

T = TypeVar("T")
log = logging.getLogger("funchost.function")

_STRATEGIES = {
    "fixed_delay": "fixed_delay",
    "fixeddelay": "fixed_delay",
    "exponential_backoff": "exponential_backoff",
    "exponentialbackoff": "exponential_backoff",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long apart a failed invocation is tried again."""

    strategy: str  # fixed_delay | exponential_backoff
    max_retry_count: int  # -1: without end
    delay: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0

    def delays(self) -> Callable[[], float]:
        """A fresh source of delays for one retry sequence."""
        if self.strategy == "fixed_delay":
            return lambda: self.delay
        backoff = ExponentialBackoff(self.minimum, self.maximum)
        return backoff.next_delay

    def allows(self, retry_count: int) -> bool:
        """Whether attempt number ``retry_count`` (1 = first retry) may run."""
        return self.max_retry_count == -1 or retry_count <= self.max_retry_count


def parse_policy(raw: Mapping[str, Any], source: str) -> RetryPolicy:
    """Validate a retry policy from the decorator's settings or host.json's ``retry``."""
    get = {k.lower().replace("_", ""): v for k, v in raw.items()}.get
    strategy = _STRATEGIES.get(str(get("strategy", "")).lower())
    if strategy is None:
        raise ConfigError(source, "strategy", get("strategy"), "fixed_delay or exponential_backoff")
    count = _count(get("maxretrycount"), source)
    if strategy == "fixed_delay":
        delay = _interval(get("delayinterval"), source, "delay_interval")
        return RetryPolicy(strategy, count, delay=delay)
    minimum = _interval(get("minimuminterval"), source, "minimum_interval")
    maximum = _interval(get("maximuminterval"), source, "maximum_interval")
    if minimum > maximum:
        raise ConfigError(
            source, "minimum_interval", get("minimuminterval"), "at most maximum_interval"
        )
    return RetryPolicy(strategy, count, minimum=minimum, maximum=maximum)


def _count(value: object, source: str) -> int:
    try:
        count = int(str(value))
    except ValueError:
        count = -2
    if count < -1:
        raise ConfigError(
            source, "max_retry_count", value, "a whole number ≥ 0, or -1 for no limit"
        )
    return count


def _interval(value: object, source: str, key: str) -> float:
    if not isinstance(value, str):
        raise ConfigError(source, key, value, 'a TimeSpan like "00:00:05"')
    seconds = parse_timespan(value, source=source, key=key)
    if seconds < 0:
        raise ConfigError(source, key, value, "a TimeSpan that is not negative")
    return seconds


async def with_retries(
    policy: RetryPolicy | None,
    attempt: Callable[[int], Awaitable[T]],
    qualified_name: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``attempt(retry_count)`` until it succeeds or the policy gives up."""
    if policy is None:
        return await attempt(0)
    next_delay = policy.delays()
    retry_count = 0
    while True:
        try:
            return await attempt(retry_count)
        except Exception:
            retry_count += 1
            if not policy.allows(retry_count):
                raise
            delay = next_delay()
            log.info(
                "Waiting for %s before retrying function execution. Next attempt: '%d'. "
                "Max number of retries: '%d'",
                _span(delay),
                retry_count,
                policy.max_retry_count,
                extra={"category": f"Function.{qualified_name.removeprefix('Functions.')}"},
            )
            await sleep(delay)


def _span(seconds: float) -> str:
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{millis:03d}" if millis else text
