"""The fault suite: each test is marked ``faults`` and may record a row for the closing table."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

# Rows land here (one JSON object a line) so a run's figures can be read after it. Not build/:
# scripts/test empties that before the Python 3.13 run.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REPORT = Path(os.environ.get("FUNCHOST_FAULT_REPORT", ARTIFACTS / "faults.jsonl"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/faults, so ``-m faults`` runs the suite alone."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.faults)


@dataclass(frozen=True)
class FaultRow:
    """One line of the closing note's table: what was done, and what came out of it."""

    fault: str
    action: str
    sent: int
    processed: int
    lost: int
    duplicates: int
    recovery_s: float | None


@pytest.fixture
def fault_report() -> Callable[[FaultRow], None]:
    """Append a row to the fault report (after the test's own assertions hold)."""

    def record(row: FaultRow) -> None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        with REPORT.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(row)) + "\n")

    return record
