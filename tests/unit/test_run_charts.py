"""Run charts as NHS England's "Making Data Count" draws them: consecutive, equally spaced
periods only, limits from at least 15 points, and a step change shown once, as a shift."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

import pytest

from flows.charts import (
    SPC_LIMIT_FACTOR,
    SPC_MIN_POINTS,
    SPC_NEAR,
    SPC_OUTSIDE,
    SPC_RECALCULATED,
    SPC_SHIFT,
    SPC_SHIFT_POINTS,
    SPC_TREND,
    SPC_TREND_POINTS,
    spc,
    spc_chart,
    spc_segments,
    spc_series,
)
from flows.render import trend_figure

pytestmark = pytest.mark.unit

# U00070 (West Merton PCN), social prescribing link workers, FTE per 10,000 registered patients:
# fct_pcn_indicators of `pcn-benchmark run --pcn U00070` on the bundled sample
# (data/sample/pcn_workforce/: the 11 quarterly censuses of 2020-22 and June 2026), queried with
# select period_end, value, england_value from fct_pcn_indicators
# where pcn_code = 'U00070' and indicator_id = 'splw_fte_per_10k' order by period_start
# (Mar 2020 has no value: the PCN has no staff record in that census; an earlier build of the
# same sample gave 0.0 there, see U00070_SPLW_ZERO_MAR_2020)
U00070_SPLW = [
    (date(2020, 3, 31), None, 0.018533505),
    (date(2020, 6, 30), 0.0, 0.0711627581),
    (date(2020, 9, 30), 0.0, 0.1015900233),
    (date(2020, 12, 31), 0.0, 0.14065359),
    (date(2021, 3, 31), 0.0, 0.1803988235),
    (date(2021, 6, 30), 0.0, 0.2080263158),
    (date(2021, 9, 30), 0.0, 0.2355343268),
    (date(2021, 12, 31), 0.2048823464, 0.2659747039),
    (date(2022, 3, 31), 0.2048823464, 0.2872537741),
    (date(2022, 6, 30), 0.2048823464, 0.3139525848),
    (date(2022, 9, 30), 0.2048823464, 0.3377518531),
    (date(2026, 6, 30), 0.1996486185, 0.4147722675),
]
U00070_SPLW_ZERO_MAR_2020 = [(date(2020, 3, 31), 0.0, 0.018533505), *U00070_SPLW[1:]]

INDICATOR = {
    "title": "Social prescribing link workers, FTE per 10,000 registered patients",
    "decimals": 2,
    "is_headline": True,
}

# 12 months at 1.0 then 12 at 2.0, the same small noise on each (no run of 7 on one side of
# either level, no 6 rising or falling, nothing near a limit)
NOISE = [0.05, -0.04, 0.03, -0.05, 0.02, -0.03, 0.04, -0.02, 0.05, -0.04, 0.01, -0.03]
MONTHS = [date(2023 + m // 12, m % 12 + 1, 28) for m in range(24)]


def points(series):
    return [{"period_end": d, "value": v, "england_value": e} for d, v, e in series]


@pytest.mark.parametrize(
    ("series", "segments"),
    [(U00070_SPLW, [(1, 11), (11, 12)]), (U00070_SPLW_ZERO_MAR_2020, [(0, 11), (11, 12)])],
)
def test_u00070_is_two_segments_too_short_for_limits_so_nothing_is_flagged(series, segments):
    dates = [d for d, _, _ in series]
    values = [v for _, v, _ in series]
    # the 45-month gap after Sep 2022 ends the quarterly segment: June 2026 stands alone
    assert spc_segments(dates, values) == segments
    result = spc_series(dates, values)
    assert not result.has_limits
    assert result.signals == [None] * 12  # not assessed: at most 11 consecutive, 15 needed
    assert result.longest < SPC_MIN_POINTS
    assert result.phases() == []


def test_u00070_page_shows_a_plain_line_chart_with_england():
    trend = points(U00070_SPLW)
    figure = trend_figure(INDICATOR, trend, "WEST MERTON PCN", {})
    assert figure["has_limits"] is False and figure["special_count"] == 0
    assert all(p["spc_signal"] is None for p in trend)  # the table has no signal row
    svg = figure["svg"]
    assert svg.startswith('<svg role="img" aria-label="Line chart of Social prescribing')
    label = re.search(r'aria-label="([^"]+)"', svg)[1]
    assert "and England" in label and "no point is flagged" in label and "longest has 10" in label
    assert "Jun 2020 to Sep 2022; Jun 2026" in label  # the two runs, the gap between them said
    assert ">England<" in svg and ">This PCN<" in svg  # the legend
    assert ">Mean<" not in svg and "Process limits" not in svg and "Special cause" not in svg
    assert ">No data<" in svg  # the gap is shaded and labelled
    # the time axis is proportional to the dates: the 45-month gap is wider than the 30 months
    # of the quarterly censuses (years as labels)
    assert ">2022<" in svg and ">2026<" in svg


def test_a_gap_is_a_break_in_the_time_axis_drawn_at_its_dates():
    trend = points(U00070_SPLW)
    chart = trend_figure(INDICATOR, trend, "PCN", charts := {})["svg"]
    (run_chart,) = charts.values()
    x = {d: run_chart._ax.transData.transform((d.toordinal(), 0))[0] for d, _, _ in U00070_SPLW}
    quarter = x[date(2020, 6, 30)] - x[date(2020, 3, 31)]
    gap = x[date(2026, 6, 30)] - x[date(2022, 9, 30)]
    assert gap / quarter == pytest.approx(45 / 3, rel=0.02)  # not one step, as before
    assert chart.count("<svg") == 1


def test_a_missing_value_or_a_change_of_step_ends_a_segment():
    quarters = [date(2020, 3 * q + 3, 28) for q in range(4)] + [date(2021, 3, 28)]
    assert spc_segments(quarters, [1, 2, 3, 4, 5]) == [(0, 5)]
    assert spc_segments(quarters, [1, 2, None, 4, 5]) == [(0, 2), (3, 5)]
    monthly = [*MONTHS[:12], *MONTHS[14:]]  # two months not in the series
    assert spc_segments(monthly, [1.0] * 22) == [(0, 12), (12, 22)]


def test_a_step_change_is_one_shift_with_limits_recalculated_and_an_outlier_is_flagged():
    values = [1.0 + n for n in NOISE] + [2.0 + n for n in NOISE]
    values[18] = 3.0  # a single outlier after the step
    result = spc(values)
    first, second = result.phases
    assert (first.start, first.end, second.start, second.end) == (0, 12, 12, 24)
    # each phase's limits from its own points: the step is in neither moving range
    level_one = values[:12]
    moving = [abs(b - a) for a, b in itertools.pairwise(level_one)]
    assert first.mean == pytest.approx(sum(level_one) / 12)
    assert first.upper == pytest.approx(first.mean + SPC_LIMIT_FACTOR * sum(moving) / 11)
    assert first.upper < 1.2 and second.lower > 1.2  # the step is beyond the old limits
    expected = [""] * 24
    expected[12] = SPC_RECALCULATED  # the shift, reported once
    expected[18] = SPC_OUTSIDE
    assert result.signals == expected
    # and through the series, dated monthly
    series = spc_series(MONTHS, values)
    assert series.has_limits and series.signals == expected
    svg = spc_chart(series, "Run chart")
    assert ">Special cause<" in svg and ">Common cause<" in svg and ">Mean<" in svg
    assert ">England<" not in svg


def test_the_page_says_where_the_limits_were_recalculated():
    values = [1.0 + n for n in NOISE] + [2.0 + n for n in NOISE]
    values[18] = 3.0
    trend = [
        {"period_end": d, "value": v, "england_value": 1.5}
        for d, v in zip(MONTHS, values, strict=True)
    ]
    figure = trend_figure(INDICATOR, trend, "A PCN")
    assert figure["has_limits"] and figure["special_count"] == 2
    assert "2 of 24 points show special cause variation" in figure["caption"]
    assert "limits recalculated after a shift from Jan 2024" in figure["caption"]
    assert trend[12]["spc_signal"] == SPC_RECALCULATED and trend[0]["spc_signal"] == ""


def test_a_series_without_a_signal_flags_nothing():
    values = [1.0 + n for n in NOISE] + [1.0 - n for n in reversed(NOISE)]
    result = spc(values)
    assert len(result.phases) == 1 and result.signals == [""] * 24
    assert spc(values[:14]).signals == [""] * 14 and not spc(values[:14]).phases


def test_fewer_than_15_points_flag_nothing_even_a_spike():
    spike = [1.0, 1.2, 0.9, 1.1, 6.0, 1.0, 0.8, 1.2, 1.0, 0.9, 1.1, 1.0, 0.9, 1.2]
    assert len(spike) == SPC_MIN_POINTS - 1
    assert spc(spike).signals == [""] * 14 and not spc(spike).has_limits
    assert spc([*spike, 1.0]).signals[4] == SPC_OUTSIDE  # the 15th point brings the limits


def test_the_other_rules_trend_shift_and_two_of_three():
    base = [1.0 + n for n in NOISE] + [1.0 - n for n in reversed(NOISE)]
    # 6 rising in a row is a trend; 5 is not
    rising = [*base[:9], 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, *base[15:]]
    assert spc(rising).signals[9:15] == [SPC_TREND] * SPC_TREND_POINTS
    assert not any(spc(rising).signals[:9] + spc(rising).signals[15:])
    five = [*base[:9], 0.9, 0.95, 1.0, 1.05, 1.1, *base[14:]]
    assert not any(spc(five).signals)
    # 7 high in a row where a new phase would have fewer than 7 points on one side: a shift
    middle = [*base[:3], 1.06, 1.07, 1.06, 1.08, 1.06, 1.07, 1.06, *base[10:15]]
    assert spc(middle).signals == [""] * 3 + [SPC_SHIFT] * SPC_SHIFT_POINTS + [""] * 5
    assert len(spc(middle).phases) == 1
    # the last 7 at a new level, with 17 before: a new phase, the step marked once
    tail = [*base[:17], 1.26, 1.27, 1.26, 1.28, 1.26, 1.27, 1.26]
    assert spc(tail).signals == [""] * 17 + [SPC_RECALCULATED] + [""] * 6
    assert [(p.start, p.end) for p in spc(tail).phases] == [(0, 17), (17, 24)]
    # 2 of 3 beyond 2 sigma on one side, within the limits: those 2 flagged, not the middle one
    near = list(base)
    near[8], near[10] = 1.2, 1.2
    result = spc(near)
    phase = result.phases[0]
    assert phase.mean + 2 / 3 * (phase.upper - phase.mean) < 1.2 < phase.upper
    assert result.signals[8] == result.signals[10] == SPC_NEAR and result.signals[9] == ""


def test_a_flat_series_has_no_signal_from_float_noise():
    # the mean of equal values is not always exactly that value
    assert spc([0.2048823464] * 20).signals == [""] * 20
    assert spc([0.1] * 7 + [0.2] * 13).signals == [""] * 7 + [SPC_RECALCULATED] + [""] * 12


def test_the_methods_page_states_the_rules_the_code_applies():
    methods = (Path(__file__).parents[2] / "report_templates" / "methods.html").read_text()
    section = methods[methods.index('id="run-charts"') : methods.index('id="peers"')]
    text = " ".join(section.split())
    assert f"fewer than {SPC_MIN_POINTS} points" in text
    assert f"{SPC_LIMIT_FACTOR} &times; the mean moving range" in text
    assert f"{SPC_SHIFT_POINTS} or more points in a row on the same side of the mean" in text
    assert f"{SPC_TREND_POINTS} or more points in a row, each higher" in text
    assert "2 or 3 of any 3 points in a row beyond 2 sigma" in text
    assert "1.77 &times; the mean moving range" in text
    assert f"leaves at least {SPC_SHIFT_POINTS} points on each side" in text
    assert "the median of the points before it and the median of the points from it" in text
