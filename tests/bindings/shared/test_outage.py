"""The Outage helper: one warning per failure streak, one line at its end, a capped backoff."""

from __future__ import annotations

import logging

import pytest

from funchost.bindings.shared.outage import Outage

log = logging.getLogger("funchost.test.outage")


def _records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == log.name]


def test_a_streak_is_one_warning_then_debug_then_one_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=log.name)
    outage = Outage(log, 0.5, 4.0, category="Host.Triggers.Test")
    outage.succeeded("The scan works")  # nothing failed: nothing to say
    delays = [outage.failed("The scan failed", OSError("refused\nsecond line")) for _ in range(6)]
    assert outage.failing
    outage.succeeded("The scan works")
    outage.succeeded("The scan works")
    levels = [level for level, _ in _records(caplog)]
    assert levels == ["WARNING"] + ["DEBUG"] * 5 + ["INFO"]
    first, last = _records(caplog)[0][1], _records(caplog)[-1][1]
    assert first == (
        "The scan failed: OSError: refused; trying again (every 4.0 s at most while it fails)."
    )
    assert last.startswith("The scan works again after ") and last.endswith(" s.")
    assert all(0.5 <= delay <= 4.0 for delay in delays)
    assert delays[-1] == 4.0  # grown to the cap
    assert not outage.failing
    assert caplog.records[0].category == "Host.Triggers.Test"  # type: ignore[attr-defined]


def test_a_new_streak_warns_again_from_the_minimum_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=log.name)
    outage = Outage(log, 0.5, 4.0)
    for _ in range(5):
        outage.failed("Reading failed", TimeoutError())
    outage.succeeded("Reading works")
    assert outage.failed("Reading failed", TimeoutError()) < 4.0
    warnings = [msg for level, msg in _records(caplog) if level == "WARNING"]
    assert len(warnings) == 2
    assert warnings[1].startswith("Reading failed: TimeoutError; trying again")
