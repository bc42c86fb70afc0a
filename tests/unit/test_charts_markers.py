"""Spine and funnel markers are written into a background saved once per batch: they must sit
exactly where matplotlib itself would draw them, with the shapes and colours the legend names."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from flows.charts import (
    QUINTILE_COLOURS,
    SIGNAL_COLOURS,
    FunnelChart,
    FunnelPoint,
    SpineChart,
    SpineIndicator,
    to_svg,
)

pytestmark = pytest.mark.unit

MARKER = re.compile(
    r'<path id="[^"]*pcn-marker-(\d+)" d="([^"]+)" transform="translate\(([-\d.]+) ([-\d.]+)\)" '
    r'style="fill: (#[0-9a-f]{6});'
)


def markers(svg: str) -> dict[int, dict]:
    found = {}
    for slot, d, x, y, fill in MARKER.findall(svg):
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", d)]
        found[int(slot)] = {
            "x": float(x),
            "y": float(y),
            "fill": fill,
            "points": list(zip(numbers[::2], numbers[1::2], strict=True)),
        }
    return found


def funnel_points() -> list[FunnelPoint]:
    return [FunnelPoint(d, 1.0 + (d % 7) / 10, 0.8, 1.2, 0.7, 1.3) for d in range(1000, 60000, 997)]


def test_funnel_marker_sits_where_matplotlib_draws_the_same_point():
    chart = FunnelChart(funnel_points(), 1.0, "SMI prevalence (%)")
    svg = chart.svg(30000, 1.25, "higher", label="Funnel plot")
    (marker,) = markers(svg).values()
    # matplotlib's own drawing of a marker at that data point, on the same axes
    chart._ax.plot([30000], [1.25], "^", gid="reference")
    reference = to_svg(chart._fig, "reference")
    group = reference[reference.index("-reference") :]
    ref_x, ref_y = re.search(r'<use [^>]*x="([\d.]+)" y="([\d.]+)"', group).groups()
    assert (marker["x"], marker["y"]) == pytest.approx((float(ref_x), float(ref_y)), abs=1e-6)
    assert marker["fill"] == SIGNAL_COLOURS["higher"]
    # and the same triangle: apex up (SVG y grows downwards), 8 points across
    apex = min(marker["points"], key=lambda p: p[1])
    assert apex == (0.0, -4.0) and {p[1] for p in marker["points"]} == {-4.0, 4.0}


def test_spine_markers_lowest_at_left_end_highest_at_right_end_england_centre():
    spread = [2.0, 3.0, 4.0, 5.0, 9.0]
    chart = SpineChart(
        [SpineIndicator("A", 5.0, spread), SpineIndicator("B", 5.0, spread)], key="test"
    )
    svg = chart.svg([2.0, 9.0], ["lower", "q5"], label="Spine")
    lowest, highest = markers(svg)[0], markers(svg)[1]
    width = 7.2 * 72  # figure width in points; the axes span 40% to 97% of it
    # England 5 is 3 from the lowest and 4 from the highest: the scale reaches 4 either side
    assert lowest["x"] == pytest.approx(width * (0.40 + 0.57 * (0.5 - 3 / 8)), abs=1e-4)
    assert highest["x"] == pytest.approx(width * 0.97, abs=1e-4)  # the right end of the row
    assert lowest["y"] < highest["y"]  # the first indicator is the top row
    assert chart.svg([5.0, None], ["similar", "q1"], "Spine").count("pcn-marker-") == 1
    centre = markers(chart.svg([5.0, None], ["similar", "q1"], "Spine"))[0]
    assert centre["x"] == pytest.approx(width * (0.40 + 0.57 * 0.5), abs=1e-4)
    assert lowest["fill"] == SIGNAL_COLOURS["lower"]
    assert highest["fill"] == QUINTILE_COLOURS[5]
    assert min(lowest["points"], key=lambda p: p[1])[1] == -4.5  # triangle down: flat top edge
    assert sorted(p[1] for p in lowest["points"]).count(-4.5) == 2
    assert len(set(highest["points"])) == 4  # a diamond


def test_lowest_pcn_on_its_own_row_spans_the_axes_edge():
    chart = SpineChart([SpineIndicator("Only", 1.0, [0.0, 1.0, 2.0])], key="edge")
    (marker,) = markers(chart.svg([0.0], ["lower"], "Spine")).values()
    assert marker["x"] == pytest.approx(7.2 * 72 * 0.40, abs=1e-4)  # the left end of the spine


def test_charts_on_one_page_have_unique_ids_and_pages_are_deterministic():
    spine = SpineChart([SpineIndicator("A", 1.0, [0.5, 1.5])])
    funnels = [FunnelChart(funnel_points(), 1.0, "x", key=f"funnel {i}") for i in ("a", "b")]
    page = spine.svg([1.2], ["higher"], "s") + "".join(
        f.svg(20000, 1.1, "similar", "f") for f in funnels
    )
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert ids and max(ids.values()) == 1
    for target in re.findall(r'(?:href="#|url\(#)([^")]+)', page):
        assert target in ids  # every reference resolves on the page
    again = spine.svg([1.2], ["higher"], "s") + "".join(
        f.svg(20000, 1.1, "similar", "f") for f in funnels
    )
    assert page == again


def test_the_pdf_spine_is_an_image_with_its_labels_as_text_where_matplotlib_put_them():
    import base64

    from flows.render import print_chart

    chart = SpineChart([SpineIndicator("SMI prevalence (%)", 1.0, [0.5, 1.5])], key="print")
    svg = chart.svg([1.2], ["higher"], label="Spine")
    (size, x, y) = re.search(
        r'font-size: ([\d.]+)px;[^>]*text-anchor: end" x="([\d.]+)" y="([\d.]+)"[^>]*>SMI', svg
    ).groups()
    html = print_chart(svg, 0.5, 'Spine chart: "A & B" PCN')
    assert 'alt="Spine chart: &quot;A &amp; B&quot; PCN"' in html
    drawing = base64.b64decode(re.search(r"base64,([^\"]+)", html)[1]).decode()
    assert "<text" not in drawing and "pcn-marker-0" in drawing  # the marker stays in the drawing
    assert 'width="259.20pt"' in drawing  # half size
    span = re.search(r'<span class="chart-text" style="([^"]+)">SMI prevalence \(%\)</span>', html)
    style = dict(part.split(": ") for part in span[1].split("; "))
    width = 7.2 * 72 * 0.5
    # right-aligned in a box the chart's width whose right edge is the label's anchor point
    assert float(style["left"][:-2]) + float(style["width"][:-2]) == pytest.approx(
        float(x) * 0.5, abs=0.01
    )
    assert float(style["width"][:-2]) == pytest.approx(width, abs=0.01)
    assert style["text-align"] == "right"
    assert float(style["font-size"][:-2]) == pytest.approx(float(size) * 0.5, abs=0.01)
    # baseline where the SVG had it: the top of a 1 em line box is 0.846 em above it
    top = float(style["top"][:-2])
    assert top + 0.846 * float(size) * 0.5 == pytest.approx(float(y) * 0.5, abs=0.01)
