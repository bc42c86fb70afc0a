"""The funnel plot's words on a PCN page: "stands out from other PCNs" follows funnel_outlier (dbt,
against the over-dispersion-adjusted 99.8% limits where there are any), and the comparison with
England by the PCN's own 95% interval is said separately, labelled as such; the chart draws the
adjusted limits as lines of their own, with a legend entry."""

from __future__ import annotations

import pytest

from flows.charts import FunnelChart, FunnelPoint
from flows.render import funnel_figure, funnel_position

pytestmark = pytest.mark.unit

ROW = {
    "value": 1.5,
    "denominator": 30000.0,
    "funnel_lower95": 0.91,
    "funnel_upper95": 1.12,
    "funnel_lower998": 0.85,
    "funnel_upper998": 1.19,
    "adjusted_funnel_lower95": 0.6,
    "adjusted_funnel_upper95": 1.5,
    "adjusted_funnel_lower998": 0.45,
    "adjusted_funnel_upper998": 1.8,
    "funnel_outlier": "none",
    "compared_to_england": "higher",
    "indicator": {"title": "SMI prevalence"},
}
UNADJUSTED = {k: None for k in ROW if k.startswith("adjusted_")}


def test_standing_out_follows_the_outlier_flag_and_names_the_limit():
    assert funnel_position(ROW) == (
        "does not stand out from other PCNs (within the over-dispersion-adjusted 99.8% limits)"
    )
    assert funnel_position({**ROW, "value": 1.9, "funnel_outlier": "high"}) == (
        "stands out from other PCNs (above the over-dispersion-adjusted 99.8% limit)"
    )
    assert funnel_position({**ROW, "value": 0.4, "funnel_outlier": "low"}) == (
        "stands out from other PCNs (below the over-dispersion-adjusted 99.8% limit)"
    )
    # no adjustment (phi <= 1): the flag is against the unadjusted 99.8% limits
    assert funnel_position({**ROW, **UNADJUSTED, "funnel_outlier": "high"}) == (
        "stands out from other PCNs (above the 99.8% limit)"
    )
    assert funnel_position({**ROW, "value": None, "funnel_outlier": None}) == "not plotted"


def chart(adjusted: bool) -> FunnelChart:
    points = [
        FunnelPoint(
            d,
            1.0 + (d % 7) / 10,
            0.8,
            1.2,
            0.7,
            1.3,
            *((0.5, 1.6, 0.4, 1.8) if adjusted else ()),
        )
        for d in range(1000, 60000, 997)
    ]
    return FunnelChart(points, 1.0, "SMI prevalence (%)", key=f"funnel test {adjusted}")


def test_the_figure_says_both_comparisons_each_labelled():
    figure = funnel_figure(dict(ROW), chart(True), "A PCN")
    assert figure["sentence"] == (
        "A PCN does not stand out from other PCNs "
        "(within the over-dispersion-adjusted 99.8% limits)"
    )
    assert figure["england"].startswith("higher than England (its 95% confidence interval")
    label = figure["svg"].split('aria-label="', 1)[1].split('"', 1)[0]
    assert "adjusted for over-dispersion" in label
    assert "Compared with England by its 95% confidence interval, it is higher" in label
    plain = funnel_figure({**ROW, **UNADJUSTED, "funnel_outlier": "none"}, chart(False), "A PCN")
    assert plain["sentence"] == "A PCN does not stand out from other PCNs (within the 99.8% limits)"
    assert "over-dispersion" not in plain["svg"].split('aria-label="', 1)[1].split('"', 1)[0]


def test_adjusted_limits_are_lines_of_their_own_in_the_legend():
    adjusted, plain = (
        chart(True).svg(30000, 1.5, "higher", "f"),
        chart(False).svg(30000, 1.5, "higher", "f"),
    )
    for text in ("95% limits, adjusted", "99.8% limits, adjusted", "99.8% limits, unadjusted"):
        assert text in adjusted
    assert "adjusted" not in plain and "99.8% limits" in plain
    assert "#7c2855" in adjusted and "#7c2855" not in plain
