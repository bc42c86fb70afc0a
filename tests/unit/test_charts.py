"""The PCN page's funnel and run charts: the rules readers rely on, and charts that carry text."""

from __future__ import annotations

import re

import pytest

from flows.charts import FunnelChart, FunnelPoint, spc, spc_chart
from flows.render import funnel_position, scale_svg

pytestmark = pytest.mark.unit


def test_run_chart_rules_follow_making_data_count():
    flat = [1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1]
    assert spc(flat).signals == [""] * 10  # common cause only
    spike = spc([1.0, 1.2, 0.9, 1.1, 6.0, 1.0, 0.8, 1.2, 1.0, 0.9])
    assert spike.signals[4] == "outside limits"
    assert not any(spike.signals[:4] + spike.signals[5:])  # runs of 4 and 5 below: no shift
    # 7 points in a row above the mean is a shift; 6 is not
    low, high = [1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.1], [1.5, 1.7, 1.4, 1.6, 1.8, 1.5, 1.6]
    assert spc(low + high).signals == ["shift"] * 14
    assert not any(spc(low[:6] + high[:6]).signals)
    # 6 rising points in a row is a trend
    trend = spc([5, 4, 5, 1, 2, 3, 4, 5, 6, 4, 5])
    assert set(trend.signals[3:9]) <= {"trend", "outside limits"} and "trend" in trend.signals
    assert trend.signals[0] == ""


def test_process_limits_are_the_mean_plus_or_minus_2_66_average_moving_ranges():
    result = spc([10, 12, 11, 13, 12, 14, 13, 15])
    moving = [2, 1, 2, 1, 2, 1, 2]
    assert result.mean == pytest.approx(12.5)
    assert result.upper == pytest.approx(12.5 + 2.66 * sum(moving) / len(moving))
    assert result.lower == pytest.approx(12.5 - 2.66 * sum(moving) / len(moving))


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
    run = spc_chart([f"Q{i}" for i in range(8)], values, spc(values), label="Run chart")
    assert "Run chart" in run and "Q7" in run


def test_print_charts_are_scaled_by_their_size_attributes():
    svg = '<svg role="img" width="518.4pt" height="527.04pt" viewBox="0 0 518.4 527.04"><g/></svg>'
    scaled = scale_svg(svg, 0.5)
    assert 'width="259.20pt" height="263.52pt" viewBox="0 0 518.4 527.04"' in scaled


def test_a_shared_run_chart_draws_each_pcn_as_a_chart_of_its_own():
    labels = [f"Q{i} 2024" for i in range(10)]
    first, second = (
        [1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1],
        [30, 35, 20, 41] * 2 + [9, 60],
    )
    charts: dict = {}
    spc_chart(labels, first, spc(first), "Run chart A", charts)
    shared = spc_chart(labels, second, spc(second), "Run chart B", charts)
    assert len(charts) == 1  # the second PCN reused the first one's drawing
    assert shared == spc_chart(labels, second, spc(second), "Run chart B", {})
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
