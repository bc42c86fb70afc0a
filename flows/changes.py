"""What changed in the landed inputs since the previous period (docs/ARCHITECTURE.md "Outputs":
the changes page depends only on inputs). Sources: which product has a newer vintage than the
previous period used, and which file in use is a publisher's revision. PCN openings, closures and
mergers are computed in dbt from ODS ePCN (`fct_pcn_changes`)."""

from __future__ import annotations

from datetime import date, timedelta

from flows.landing import LandedFile, select_for_period


def previous_period(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"


def reference_date(period: str) -> date:
    """The last day of the period's month (the date membership is decided at)."""
    year, month = (int(x) for x in period.split("-"))
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def _revision_news(file: LandedFile, period: str) -> str | None:
    """The landing date of a publisher's revision in use, when it is news for this period: a
    revision lands in <vintage>/revisions/<landed-date>[-n]/ (landing.land_file) and counts when
    it landed after the previous period ended."""
    if file.path.parent.parent.name != "revisions":
        return None
    landed = file.path.parent.name[:10]  # a second revision the same day lands in <date>-2/
    return landed if landed > reference_date(previous_period(period)).isoformat() else None


def revisions_in_use(used: list[LandedFile], period: str) -> list[dict]:
    """Every file this period uses, trend series included, that is a publisher's revision which
    landed after the previous period ended: the changes log's record of why it was republished."""
    rows = [
        {"label": f.spec.label, "vintage": f.vintage, "file": f.path.name, "revised_on": landed}
        for f in used
        if (landed := _revision_news(f, period))
    ]
    return sorted(rows, key=lambda r: (r["label"], r["vintage"], r["file"]))


def source_changes(landed: list[LandedFile], period: str) -> list[dict]:
    """One row per source product used this period: its vintage now and at the previous period,
    whether that is a new release, and the publisher's revision in use (if any)."""
    now = select_for_period(landed, period)
    before = select_for_period(landed, previous_period(period))
    rows = []
    for key in sorted(now):
        current, previous = now[key], before.get(key)
        revised_on = _revision_news(current, period)
        if previous is None:
            change = "first used"
        elif previous.vintage != current.vintage:
            change = "new release"
        else:
            change = "unchanged"
        rows.append(
            {
                "source": current.source,
                "product": current.product,
                "label": current.spec.label,
                "vintage": current.vintage,
                "previous_vintage": previous.vintage if previous else None,
                "change": change,
                "revised_on": revised_on,
                "file": current.path.name,
            }
        )
    return rows
