"""Retry policies: parsing, delays and attempt counts, with a fake sleep instead of waiting."""

from __future__ import annotations

import asyncio

import pytest

from funchost.backoff import ExponentialBackoff
from funchost.config_section import Section
from funchost.errors import ConfigError
from funchost.worker.retry import RetryPolicy, host_json_policy, parse_policy, with_retries

WHOLE = "expected a whole number ≥ 0, or -1 for no limit"
FILE = "/app/host.json"


class FakeSleep:
    """Records the delays instead of sleeping (a fake clock: real ones would take seconds)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def failing(times: int) -> tuple[list[int], object]:
    """An attempt that fails ``times`` times, then returns 'ok'; records retry counts."""
    seen: list[int] = []

    async def attempt(retry_count: int) -> str:
        seen.append(retry_count)
        if len(seen) <= times:
            raise ValueError(f"failure {len(seen)}")
        return "ok"

    return seen, attempt


def run(policy: RetryPolicy | None, times: int, sleep: FakeSleep) -> tuple[list[int], str]:
    seen, attempt = failing(times)
    try:
        result = asyncio.run(with_retries(policy, attempt, "Functions.f", sleep))  # type: ignore[arg-type]
    except ValueError as exc:
        result = str(exc)
    return seen, result


def test_decorator_and_host_json_spellings_parse() -> None:
    assert parse_policy(
        {"strategy": "fixed_delay", "max_retry_count": "3", "delay_interval": "00:00:02"}, "s"
    ) == RetryPolicy("fixed_delay", 3, delay=2.0)
    assert parse_policy(
        {
            "strategy": "exponentialBackoff",
            "maxRetryCount": 5,
            "minimumInterval": "00:00:01",
            "maximumInterval": "00:00:10",
        },
        "s",
    ) == RetryPolicy("exponential_backoff", 5, minimum=1.0, maximum=10.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"strategy": "linear", "max_retry_count": "1"},
            "@app.retry: 'strategy' is 'linear'; expected fixed_delay or exponential_backoff",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "many", "delay_interval": "00:00:01"},
            f"@app.retry: 'max_retry_count' is 'many'; {WHOLE}",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "-2", "delay_interval": "00:00:01"},
            f"@app.retry: 'max_retry_count' is '-2'; {WHOLE}",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "1"},
            "@app.retry: 'delay_interval' is None; expected a TimeSpan like \"00:00:05\"",
        ),
        (
            {"strategy": "fixed_delay", "max_retry_count": "1", "delay_interval": "soon"},
            "@app.retry: 'delay_interval' is 'soon'; expected a TimeSpan like \"00:05:00\"",
        ),
        (
            {
                "strategy": "exponential_backoff",
                "max_retry_count": "1",
                "minimum_interval": "00:00:10",
                "maximum_interval": "00:00:01",
            },
            "@app.retry: 'minimum_interval' is '00:00:10'; expected at most maximum_interval",
        ),
    ],
)
def test_bad_policies_say_what_was_expected(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_policy(raw, "@app.retry")
    assert str(err.value) == message


def host_json(retry: object, overrides: dict[tuple[str, ...], str] | None = None) -> Section:
    return Section.root({"version": "2.0", "Retry": retry}, FILE, overrides)


def test_host_json_retry_is_read_ignoring_case_and_from_override_strings() -> None:
    retry = {"Strategy": "FixedDelay", "maxretrycount": "2", "DelayInterval": "00:00:03"}
    assert host_json_policy(host_json(retry)) == RetryPolicy("fixed_delay", 2, delay=3.0)
    backoff = {
        "strategy": "exponentialBackoff",
        "maxRetryCount": -1,
        "minimumInterval": "00:00:01",
        "maximumInterval": "00:15:00",
    }
    assert host_json_policy(host_json(backoff)) == RetryPolicy(
        "exponential_backoff", -1, minimum=1.0, maximum=900.0
    )


def test_without_host_json_retry_there_is_no_default_policy() -> None:
    assert host_json_policy(Section.root({"version": "2.0"}, FILE)) is None
    assert host_json_policy(host_json({})) is None


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        ("fixedDelay", "'retry' is 'fixedDelay'; expected a JSON object"),
        (
            {"strategy": "linear"},
            "'retry.strategy' is 'linear'; expected fixed_delay or exponential_backoff",
        ),
        ({"strategy": "fixedDelay"}, f"'retry.maxRetryCount' is missing; {WHOLE}"),
        (
            {"strategy": "fixedDelay", "maxRetryCount": 1},
            "'retry.delayInterval' is missing; expected a TimeSpan like \"00:00:05\"",
        ),
        (
            {"strategy": "fixedDelay", "maxRetryCount": 1, "delayInterval": "-00:00:01"},
            "'retry.delayInterval' is '-00:00:01'; expected a TimeSpan that is not negative",
        ),
        (
            {
                "strategy": "exponentialBackoff",
                "maxRetryCount": 1,
                "minimumInterval": "00:00:10",
                "maximumInterval": "00:00:01",
            },
            "'retry.minimumInterval' is '00:00:10'; expected at most maximumInterval",
        ),
    ],
)
def test_bad_host_json_retry_names_the_file_and_the_dotted_key(retry: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        host_json_policy(host_json(retry))
    assert str(err.value) == f"{FILE}: {message}"


def test_bad_overridden_host_json_retry_names_the_variable() -> None:
    name = "AzureFunctionsJobHost__retry__maxRetryCount"
    retry = {"strategy": "fixedDelay", "maxRetryCount": "many", "delayInterval": "00:00:01"}
    with pytest.raises(ConfigError) as err:
        host_json_policy(host_json(retry, {("retry", "maxretrycount"): name}))
    assert str(err.value) == f"{name}: 'retry.maxRetryCount' is 'many'; {WHOLE}"


def test_fixed_delay_retries_up_to_the_maximum_then_raises() -> None:
    sleep = FakeSleep()
    seen, result = run(RetryPolicy("fixed_delay", 2, delay=1.5), 5, sleep)
    assert seen == [0, 1, 2]
    assert result == "failure 3"
    assert sleep.delays == [1.5, 1.5]


def test_success_after_retries_returns_the_value() -> None:
    sleep = FakeSleep()
    seen, result = run(RetryPolicy("fixed_delay", 3, delay=0.5), 2, sleep)
    assert (seen, result, sleep.delays) == ([0, 1, 2], "ok", [0.5, 0.5])


def test_minus_one_retries_without_end() -> None:
    sleep = FakeSleep()
    seen, result = run(RetryPolicy("fixed_delay", -1, delay=0.1), 50, sleep)
    assert result == "ok" and len(seen) == 51 and len(sleep.delays) == 50


def test_no_policy_runs_once() -> None:
    sleep = FakeSleep()
    seen, result = run(None, 1, sleep)
    assert (seen, result, sleep.delays) == ([0], "failure 1", [])


def test_exponential_backoff_grows_within_its_bounds() -> None:
    sleep = FakeSleep()
    run(RetryPolicy("exponential_backoff", 6, minimum=1.0, maximum=10.0), 10, sleep)
    delays = sleep.delays
    assert delays[0] == 1.0  # the first retry waits the minimum
    assert 1.8 <= delays[1] <= 2.2  # min + U(0.8, 1.2) * 1 * min
    assert 2.6 <= delays[2] <= 3.4  # min + U(0.8, 1.2) * 2 * min
    assert delays == sorted(delays) and max(delays) <= 10.0 and delays[-1] == 10.0


def test_backoff_resets_on_success() -> None:
    backoff = ExponentialBackoff(0.1, 60.0)
    grown = [backoff.next_delay() for _ in range(8)]
    assert grown[-1] > 1.0
    assert backoff.next_delay(succeeded=True) == 0.1
