"""The PCN page's funnel and run charts: the rules readers rely on, and charts that carry text."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest

from flows.charts import FunnelChart, FunnelPoint, spc, spc_chart, spc_series
from flows.render import funnel_position, scale_svg

pytestmark = pytest.mark.unit


def test_run_chart_rules_follow_making_data_count():
    flat = [1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1, 1.0, 1.2, 0.9, 1.1, 1.0, 0.9]
    assert spc(flat).signals == [""] * 16  # common cause only
    spike = spc([*flat[:8], 2.5, *flat[9:]])
    assert spike.signals[8] == "outside limits" and len(spike.phases) == 1  # no shift at it
    assert not any(spike.signals[:8] + spike.signals[9:])
    # a step: 8 low then 8 high is one shift, limits recalculated at the step, not 16 signals
    low, high = flat[:8], [v + 0.6 for v in flat[8:]]
    step = spc(low + high)
    assert step.signals == [""] * 8 + ["shift: limits recalculated"] + [""] * 7
    assert [(p.start, p.end) for p in step.phases] == [(0, 8), (8, 16)]
    # 6 rising points in a row is a trend
    trend = spc([5, 4, 5, 4, 5, 1, 2, 3, 4, 5, 6, 4, 5, 4, 5, 4])
    assert trend.signals[5:11] == ["trend"] * 6 and trend.signals[0] == ""
    # fewer than 15 points: no limits, nothing flagged, whatever the values
    assert spc([1.0] * 7 + [2.0] * 7).signals == [""] * 14
    assert not spc([1.0] * 7 + [2.0] * 7).phases


def test_process_limits_are_the_mean_plus_or_minus_2_66_average_moving_ranges():
    values = [10, 12, 11, 13, 12, 14, 13, 15, 12, 11, 13, 12, 14, 11, 13]
    (phase,) = spc(values).phases
    moving = [abs(b - a) for a, b in itertools.pairwise(values)]
    mean = sum(values) / len(values)
    assert phase.mean == pytest.approx(mean)
    assert phase.upper == pytest.approx(mean + 2.66 * sum(moving) / len(moving))
    assert phase.lower == pytest.approx(mean - 2.66 * sum(moving) / len(moving))


def test_funnel_position_in_words():
    row = {
        "value": 0.71,
        "funnel_lower95": 0.91,
        "funnel_upper95": 1.12,
        "funnel_lower998": 0.85,
        "funnel_upper998": 1.19,
    }
    assert funnel_position(row) == "below the 99.8% limit"
    assert funnel_position({**row, "value": 0.88}) == "below the 95% limit"
    assert funnel_position({**row, "value": 1.0}) == "within the 95% limits"
    assert funnel_position({**row, "value": 1.15}) == "above the 95% limit"
    assert funnel_position({**row, "value": None}) == "not plotted"


def test_charts_are_labelled_svg_with_text_kept_as_text():
    points = [
        FunnelPoint(d, 1.0 + (d % 7) / 10, 0.8, 1.2, 0.7, 1.3) for d in range(1000, 60000, 997)
    ]
    chart = FunnelChart(points, 1.0, "SMI prevalence (%)")
    svg = chart.svg(30000, 0.6, "lower", label='Funnel plot: "A & B" PCN')
    assert svg.startswith('<svg role="img" aria-label="Funnel plot: &quot;A &amp; B&quot; PCN"')
    assert "SMI prevalence (%)" in svg  # axis text is text, not paths
    assert svg == chart.svg(30000, 0.6, "lower", label='Funnel plot: "A & B" PCN')  # deterministic
    values = [1, 2, 1, 2, 1, 2, 1, 2]
    quarters = [date(2024 + q // 4, 3 * (q % 4) + 3, 28) for q in range(8)]
    run = spc_chart(spc_series(quarters, values), label="Run chart")
    assert "Run chart" in run and "Dec 2025" in run


def test_print_charts_are_scaled_by_their_size_attributes():
    svg = '<svg role="img" width="518.4pt" height="527.04pt" viewBox="0 0 518.4 527.04"><g/></svg>'
    scaled = scale_svg(svg, 0.5)
    assert 'width="259.20pt" height="263.52pt" viewBox="0 0 518.4 527.04"' in scaled


def test_a_shared_run_chart_draws_each_pcn_as_a_chart_of_its_own():
    months = [date(2024 + m // 12, m % 12 + 1, 28) for m in range(16)]
    first = [1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1, 1.0, 1.2, 0.9, 1.1, 1.0, 0.9]
    second = [30, 35, 20, 41] * 3 + [30, 35, 9, 60]
    charts: dict = {}
    spc_chart(spc_series(months, first), "Run chart A", charts=charts)
    shared = spc_chart(spc_series(months, second), "Run chart B", charts=charts)
    assert len(charts) == 1  # the second PCN reused the first one's drawing
    assert shared == spc_chart(spc_series(months, second), "Run chart B", charts={})
    # its own y axis: ticks follow its data (30s and 40s), not the first PCN's (around 1)
    ticks = re.findall(r">([\d.\u2212]+)</text>", shared)
    assert "40" in ticks and "1.0" not in ticks
    assert len(re.findall(r'\bid="([^"]+)"', shared)) == len(
        set(re.findall(r'\bid="([^"]+)"', shared))
    )


def test_a_long_series_labels_every_third_period_back_from_the_newest():
    from flows.charts import period_tick_labels

    months = [f"M{i:02d}" for i in range(24)]
    shown = period_tick_labels(months)
    assert len(shown) == 24  # every period keeps its tick
    assert shown[-1] == "M23" and shown[-4] == "M20" and shown[-2] == shown[-3] == ""
    assert [s for s in shown if s] == months[2::3]
    assert period_tick_labels(months[:12]) == months[:12]  # a year or less: every label
