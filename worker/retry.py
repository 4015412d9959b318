"""Retry policies (``@app.retry`` and host.json ``retry``), applied as the Functions host does.

Whether a trigger honours them is its provider's ``honours_retry`` (bindings/base.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import astuple, dataclass
from typing import Any, TypeVar

from funchost.backoff import ExponentialBackoff
from funchost.config_section import REQUIRED, Section

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


@dataclass(frozen=True)
class _Keys:
    """How a policy's keys are spelled where it is written."""

    count: str
    delay: str
    minimum: str
    maximum: str


_DECORATOR = _Keys("max_retry_count", "delay_interval", "minimum_interval", "maximum_interval")
_HOST_JSON = _Keys("maxRetryCount", "delayInterval", "minimumInterval", "maximumInterval")
_STRATEGY_EXPECTED = "fixed_delay or exponential_backoff"
_COUNT_EXPECTED = "a whole number ≥ 0, or -1 for no limit"
_INTERVAL_EXPECTED = 'a TimeSpan like "00:00:05"'


def parse_policy(settings: Mapping[str, Any], source: str) -> RetryPolicy:
    """Validate the policy of ``@app.retry`` (its settings; host.json's spellings work too)."""
    return _policy(Section.root(_decorator_spelling(settings), source), _DECORATOR)


def host_json_policy(host_json: Section) -> RetryPolicy | None:
    """host.json's ``retry``, for functions without a policy of their own; None without one."""
    section = host_json.section("retry")
    return _policy(section, _HOST_JSON) if section.names() else None


def _decorator_spelling(settings: Mapping[str, Any]) -> dict[str, Any]:
    # The decorator leaves out an interval it was not given: that is the None it defaults to.
    by_plain = {key.lower().replace("_", ""): value for key, value in settings.items()}
    names = ("strategy", *astuple(_DECORATOR))
    return {name: by_plain.get(name.replace("_", "")) for name in names}


def _policy(section: Section, keys: _Keys) -> RetryPolicy:
    choice = section.choice(
        "strategy", REQUIRED, choices=tuple(_STRATEGIES), expected=_STRATEGY_EXPECTED
    )
    strategy = _STRATEGIES[choice]
    count = section.integer(keys.count, REQUIRED, low=-1, expected=_COUNT_EXPECTED)
    if strategy == "fixed_delay":
        return RetryPolicy(strategy, count, delay=_interval(section, keys.delay))
    minimum = _interval(section, keys.minimum)
    maximum = _interval(section, keys.maximum)
    if minimum > maximum:
        raise section.error(keys.minimum, section.raw(keys.minimum), f"at most {keys.maximum}")
    return RetryPolicy(strategy, count, minimum=minimum, maximum=maximum)


def _interval(section: Section, key: str) -> float:
    value = section.raw(key)
    if not isinstance(value, str):  # absent too: an interval has no default
        raise section.error(key, value, _INTERVAL_EXPECTED)
    return section.timespan(key, REQUIRED, low=0.0, expected="a TimeSpan that is not negative")


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
