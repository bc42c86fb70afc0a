"""Is every watched source on time? Compares the newest landed vintage of each source with the
month it should have published by the configured day (settings: source_lag_months,
expected_by_day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.landing import LandedFile


@dataclass(frozen=True)
class SourceCheck:
    source: str
    expected: str
    latest: str | None

    @property
    def late(self) -> bool:
        return self.latest is None or self.latest < self.expected

    def line(self) -> str:
        state = "LATE" if self.late else "ok"
        return (
            f"{self.source:18} expected {self.expected}  landed {self.latest or 'nothing'}  {state}"
        )


def expected_vintage(today: date, lag_months: int, by_day: int) -> str:
    """By `by_day` of month M a source should have published reference month M - lag; before
    that day only the month before is due."""
    index = today.year * 12 + today.month - 1 - lag_months - (today.day < by_day)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_sources(
    landed: list[LandedFile], today: date, lags: dict[str, int], by_day: int
) -> list[SourceCheck]:
    checks = []
    for source, lag in sorted(lags.items()):
        vintages = [f.vintage for f in landed if f.source == source]
        checks.append(
            SourceCheck(
                source=source,
                expected=expected_vintage(today, lag, by_day),
                latest=max(vintages) if vintages else None,
            )
        )
    return checks
