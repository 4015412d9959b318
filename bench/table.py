"""The one table every group's rows go into, and its JSON form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Target:
    """An issue-7 target: the subject's value against its anchor's, as a ratio bound."""

    op: Literal[">=", "<="]
    ratio: float

    def met(self, ratio: float) -> bool:
        """Whether a measured ratio meets this target."""
        return ratio >= self.ratio if self.op == ">=" else ratio <= self.ratio

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else '≤'}{self.ratio:.2f}×"


@dataclass(frozen=True)
class Row:
    """One line of the table: a measured value, and how it compares with its anchor."""

    group: str
    subject: str
    value: float
    unit: str  # req/s, msg/s, ms or MB
    anchor: str | None = None
    ratio: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_us: float | None = None  # CPU of the subject process per request or message
    rss_mb: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Target met, missed, or None when the row has no target."""
        if self.target is None or self.ratio is None:
            return None
        return self.target.met(self.ratio)

    def to_json(self) -> dict[str, object]:
        """The row as JSON values, the target as its text and whether it was met."""
        doc = dataclasses.asdict(self)
        doc["target"] = str(self.target) if self.target else None
        doc["met"] = self.met
        return doc


@dataclass
class GroupResult:
    """What one group hands the suite: its table rows and its raw per-run details."""

    rows: list[Row]
    details: dict[str, object]


def against(anchor: Row, row: Row, target: Target | None = None) -> Row:
    """``row`` with its ratio to ``anchor`` (same unit) and the target that ratio should meet."""
    ratio = row.value / anchor.value if anchor.value else float("nan")
    return dataclasses.replace(row, anchor=anchor.subject, ratio=ratio, target=target)


HEADER = (
    "group",
    "subject",
    "anchor",
    "value",
    "ratio",
    "p50 ms",
    "p99 ms",
    "CPU µs",
    "RSS MB",
    "target",
    "note",
)
LEFT = {"group", "subject", "anchor", "target", "note"}


def render(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    cells = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    lines = []
    for line in cells:
        padded = [
            text.ljust(width) if name in LEFT else text.rjust(width)
            for name, text, width in zip(HEADER, line, widths, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _cells(row: Row) -> tuple[str, ...]:
    target = f"{row.target} {'met' if row.met else 'MISSED'}" if row.target else ""
    return (
        row.group,
        row.subject,
        row.anchor or "",
        f"{_number(row.value, row.unit)} {row.unit}",
        f"{row.ratio:.2f}×" if row.ratio is not None else "",
        _number(row.p50_ms, "ms"),
        _number(row.p99_ms, "ms"),
        f"{row.cpu_us:.1f}" if row.cpu_us is not None else "",
        f"{row.rss_mb:.1f}" if row.rss_mb is not None else "",
        target,
        row.note,
    )


def _number(value: float | None, unit: str) -> str:
    """Rates whole with thousands separators, MB to 0.1, milliseconds to 0.01 below 100."""
    if value is None:
        return ""
    if unit.endswith("/s"):
        return f"{value:,.0f}"
    return f"{value:.2f}" if unit == "ms" and abs(value) < 100 else f"{value:.1f}"
