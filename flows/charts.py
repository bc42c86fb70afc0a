"""Charts as inline SVG, drawn with matplotlib's object API (thread-safe; no pyplot state).

Text stays text in the SVG (`svg.fonttype = none`): smaller files, faster PDFs, readable by
screen readers and pdftotext. Output is deterministic (fixed hash salt, no date metadata).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import matplotlib

matplotlib.use("svg")
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import Affine2D

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "pcn-benchmark",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

# Fingertips' signals; the blue scheme is the colour-blind-safe one
# (docs/ARCHITECTURE.md "Publication conventions")
SIGNAL_COLOURS = {
    "higher": "#1f4e8c",  # dark blue: higher, polarity not judged
    "lower": "#8fc1e3",  # light blue
    "similar": "#f5b335",  # amber
    "not compared": "#ffffff",
}
SIGNAL_MARKERS = {"higher": "^", "lower": "v", "similar": "o", "not compared": "o"}
QUINTILE_COLOURS = {1: "#eff3ff", 2: "#bdd7e7", 3: "#6baed6", 4: "#3182bd", 5: "#08519c"}
ENGLAND_COLOUR = "#d5281b"
PCN_COLOUR = "#003087"
GREY = "#4c6272"


def _figure_svg(fig: Figure, prefix: str) -> str:
    """The figure as SVG markup with every element id prefixed (so several charts share a page)."""
    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and doctype for inlining
    # matplotlib numbers element ids per figure
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#", f"url(#{prefix}-", svg)
    return _lighter(re.sub(r'href="#', f'href="#{prefix}-', svg))


# matplotlib's default stroke style, as a <style> rule for every element ("*"): inline in a page,
# that rule joins the page's own stylesheet and is matched against every element of it
_DEFAULT_STYLE = re.compile(
    r'\s*<defs>\s*<style type="text/css">\*\{stroke-linejoin: round; stroke-linecap: butt\}'
    r"</style>\s*</defs>"
)
_ID_ONLY_GROUP = re.compile(r'<g(?: id="[^"]*")?>((?:(?!<g[ >]).)*?)</g>', re.S)
_EMPTY_GROUP = re.compile(r'<g id="(?![^"]*-pcn-)[^"]*"/>')  # not the per-PCN slots


def _lighter(svg: str) -> str:
    """The same drawing with fewer nodes: what a browser or WeasyPrint walks per chart.

    Drops the metadata, the whitespace between tags, and the groups that only carry matplotlib's
    element ids (nothing refers to a group); the default stroke style becomes inherited
    attributes of the <svg> element instead of a "*" rule."""
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg, found = _DEFAULT_STYLE.subn("", svg, count=1)
    if found:
        svg = svg.replace("<svg ", '<svg stroke-linejoin="round" stroke-linecap="butt" ', 1)
    svg = _EMPTY_GROUP.sub("", re.sub(r">\s+<", "><", svg))
    while True:  # innermost groups first
        svg, flattened = _ID_ONLY_GROUP.subn(r"\1", svg)
        if not flattened:
            return svg


def _id_prefix(key: str) -> str:
    return "c" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]


def _labelled(svg: str, label: str) -> str:
    """The <svg> element labelled for assistive technology."""
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'<svg role="img" aria-label="{label}" ' + svg.removeprefix("<svg ")


def to_svg(fig: Figure, label: str) -> str:
    """The figure as an inline <svg> element labelled for assistive technology."""
    return _labelled(_figure_svg(fig, _id_prefix(label)), label)


def _number(value: float) -> str:
    """A coordinate as matplotlib's SVG backend writes it (so ours match its output)."""
    return f"{value:f}".rstrip("0").rstrip(".")


@cache
def _marker_path(shape: str, size: float) -> tuple[str, str]:
    """A matplotlib marker as SVG path data around (0, 0) in points, and its stroke style.

    The same path and transform matplotlib's SVG backend writes for a Line2D marker, y flipped
    because SVG's y axis points down."""
    style = MarkerStyle(shape)
    path = style.get_path().transformed(style.get_transform() + Affine2D().scale(size, -size))
    commands = {Path.MOVETO: "M", Path.LINETO: "L", Path.CURVE3: "Q", Path.CURVE4: "C"}
    parts = []
    for vertices, code in path.iter_segments(simplify=False, curves=True):
        if code == Path.CLOSEPOLY:
            parts.append("z")
        else:
            coords = " ".join(_number(v) for v in vertices)
            parts.append(f"{commands[code]} {coords}")
    stroke = ""
    if style.get_joinstyle() != "round":
        stroke += f"; stroke-linejoin: {style.get_joinstyle()}"
    if style.get_capstyle() != "butt":
        stroke += f"; stroke-linecap: {style.get_capstyle()}"
    return " ".join(parts), stroke


MARKER_EDGE = "#212b32"


class _MarkerLayer:
    """A figure saved to SVG once; per PCN only its markers are written into the saved markup.

    Each marker slot is an empty Line2D whose group matplotlib writes as `<g id="..."/>` at the
    slot's place in the drawing order; `svg()` fills the slots with one <path> each, placed by
    the axes' data transform (display pixels at the figure's dpi -> SVG points, y down). No
    per-PCN savefig: text layout, the rasterised dots and every other artist are done once.
    """

    def _freeze(self, fig: Figure, ax: Any, slots: Sequence[Line2D], key: str) -> None:
        for i, slot in enumerate(slots):
            slot.set_gid(f"pcn-marker-{i}")
        self._fig, self._ax = fig, ax
        self._prefix = _id_prefix(key)
        svg = _figure_svg(fig, self._prefix)
        self._parts = re.split(rf'<g id="{self._prefix}-pcn-marker-\d+"/>', svg)
        if len(self._parts) != len(slots) + 1:  # matplotlib changed how it writes an empty line
            raise RuntimeError(f"chart {key!r}: expected {len(slots)} empty marker groups")

    def marker_xy(self, x: float, y: float) -> tuple[float, float]:
        """Where data point (x, y) is drawn, in the SVG's user units (points from top left)."""
        px, py = self._ax.transData.transform((x, y))
        to_points = 72.0 / self._fig.dpi
        return px * to_points, self._fig.get_figheight() * 72.0 - py * to_points

    def _marker(self, slot: int, x: float, y: float, shape: str, size: float, fill: str) -> str:
        d, stroke = _marker_path(shape, size)
        sx, sy = self.marker_xy(x, y)
        return (
            f'<path id="{self._prefix}-pcn-marker-{slot}" d="{d}" '
            f'transform="translate({_number(sx)} {_number(sy)})" '
            f'style="fill: {fill}; stroke: {MARKER_EDGE}{stroke}"/>'
        )

    def _compose(self, markers: Sequence[str], label: str) -> str:
        pieces = [self._parts[0]]
        for marker, part in zip(markers, self._parts[1:], strict=True):
            pieces += [marker, part]
        return _labelled("".join(pieces), label)


@dataclass(frozen=True)
class SpineIndicator:
    """One spine row's background: the indicator's national spread and England value."""

    label: str
    england: float | None
    values: Sequence[float]
    """Every PCN's value for the indicator (the national spread)."""


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


class SpineChart(_MarkerLayer):
    """Fingertips' spine: each indicator's national spread centred on England, a PCN a marker.

    The background (spreads, England line, axes) is drawn and saved once; `svg()` only writes
    this PCN's markers into it, so a batch of PCN pages shares one figure.
    """

    MARKER_SIZE = 9.0  # points

    def __init__(self, indicators: Sequence[SpineIndicator], key: str = "spine") -> None:
        self.indicators = list(indicators)
        n = len(self.indicators)
        height = 0.42 * n + 0.6
        fig = Figure(figsize=(7.2, height))
        fig.subplots_adjust(left=0.40, right=0.97, top=1 - 0.1 / height, bottom=0.45 / height)
        ax = fig.add_subplot()
        self.scales: list[tuple[float, float] | None] = []
        slots = []
        for i, indicator in enumerate(self.indicators):
            y = n - 1 - i
            values = sorted(v for v in indicator.values if v is not None)
            # the marker's place in the drawing order (over its row's bars)
            slots.append(ax.plot([], [], linestyle="none")[0])
            if not values or indicator.england is None:
                self.scales.append(None)
                continue
            england = indicator.england
            reach = max(abs(values[0] - england), abs(values[-1] - england)) or 1.0
            self.scales.append((england, reach))
            low, high = self._scale(i, values[0]), self._scale(i, values[-1])
            ax.barh(y, high - low, left=low, height=0.5, color="#d8dde0")
            q1, q3 = (
                self._scale(i, _quantile(values, 0.25)),
                self._scale(i, _quantile(values, 0.75)),
            )
            ax.barh(y, max(q3 - q1, 0.004), left=q1, height=0.5, color="#aeb7bd")
        ax.axvline(0.5, color=ENGLAND_COLOUR, linewidth=1.5)
        ax.set_yticks(range(n), [ind.label for ind in reversed(self.indicators)])
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xticks([0, 0.5, 1], ["lowest PCN", "England", "highest PCN"])
        first, _, last = ax.get_xticklabels()
        first.set_horizontalalignment("left")
        last.set_horizontalalignment("right")
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        self._freeze(fig, ax, slots, key)

    def _scale(self, i: int, x: float) -> float:
        england, reach = self.scales[i]  # type: ignore[misc]
        return 0.5 + (x - england) / (2 * reach)

    def svg(self, values: Sequence[float | None], signals: Sequence[str], label: str) -> str:
        """This PCN's markers: shape and colour by significance, a diamond by quintile, or a grey
        diamond where the PCN is placed by percentile rank (no interval).
        Not clipped: the lowest and highest PCN sit on the axes' edges."""
        n = len(self.indicators)
        markers = []
        for i, (value, signal) in enumerate(zip(values, signals, strict=True)):
            if value is None or self.scales[i] is None:
                markers.append("")
                continue
            if signal.startswith("q"):
                colour, shape = QUINTILE_COLOURS[int(signal[1])], "D"
            elif signal == "rank":  # placed by percentile rank: no significance to colour
                colour, shape = GREY, "D"
            else:
                colour, shape = SIGNAL_COLOURS[signal], SIGNAL_MARKERS[signal]
            x = self._scale(i, value)
            markers.append(self._marker(i, x, n - 1 - i, shape, self.MARKER_SIZE, colour))
        return self._compose(markers, label)


def distribution_chart(
    values: Sequence[float], england: float | None, x_label: str, label: str, decimals: int = 2
) -> str:
    """Histogram of all PCNs' values with England marked."""
    fig = Figure(figsize=(6.4, 2.4))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.2)
    ax = fig.add_subplot()
    clean = [v for v in values if v is not None]
    ax.hist(clean, bins=40, color="#7c98b6", edgecolor="white", linewidth=0.4)
    if england is not None:
        ax.axvline(
            england, color=ENGLAND_COLOUR, linewidth=1.5, label=f"England {england:,.{decimals}f}"
        )
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("Number of PCNs")
    return to_svg(fig, label)


# ---------------------------------------------------------------------------------------------
# Funnel plot: where a PCN sits nationally for a proportion or a rate of counted events


@dataclass(frozen=True)
class FunnelPoint:
    denominator: float
    value: float
    lower95: float | None
    upper95: float | None
    lower998: float | None
    upper998: float | None
    # the over-dispersion-adjusted limits (fct_pcn_indicators adjusted_funnel_*), where drawn
    adjusted_lower95: float | None = None
    adjusted_upper95: float | None = None
    adjusted_lower998: float | None = None
    adjusted_upper998: float | None = None


ADJUSTED_COLOUR = "#7c2855"  # NHS plum: apart from the grey limits, England's red and the signals


class FunnelChart(_MarkerLayer):
    """All PCNs' values against their denominators, with the 95% and 99.8% limits around England
    and, where the points carry them (over-dispersed proportions), the limits adjusted for
    over-dispersion: solid and dash-dot plum lines beside the dashed and dotted grey ones, so
    line style alone tells the four apart.

    Like the spine chart, the background is drawn and saved once per batch and `svg()` only
    writes this PCN's marker into it. The other PCNs' dots are drawn as one small image inside
    the SVG: 1,300 vector dots would make each page ten times heavier, and the dots carry no text.
    """

    MARKER_SIZE = 8.0  # points

    def __init__(
        self, points: Sequence[FunnelPoint], england: float, y_label: str, key: str | None = None
    ) -> None:
        ordered = sorted(points, key=lambda p: p.denominator)
        adjusted = any(p.adjusted_lower998 is not None for p in ordered)
        # a third legend row for the adjusted limits
        fig = Figure(figsize=(3.6, 3.2 if adjusted else 2.9))
        fig.subplots_adjust(left=0.17, right=0.97, top=0.97, bottom=0.44 if adjusted else 0.38)
        ax = fig.add_subplot()
        xs = [p.denominator for p in ordered]
        ax.scatter(
            xs, [p.value for p in ordered], s=4, color="#aeb7bd", linewidths=0, rasterized=True
        )
        lines = [("", GREY, (("95", "--", 0.9), ("998", ":", 0.9)))]
        if adjusted:
            lines.append(("adjusted_", ADJUSTED_COLOUR, (("95", "-", 0.9), ("998", "-.", 1.1))))
        for prefix, colour, styles in lines:
            for attr, style, width in styles:
                for side in ("lower", "upper"):
                    limits = [(p.denominator, getattr(p, prefix + side + attr)) for p in ordered]
                    limits = [(x, y) for x, y in limits if y is not None]
                    if not limits:
                        continue
                    label = None
                    if side == "lower":
                        label = "95% limits" if attr == "95" else "99.8% limits"
                        if adjusted:
                            label += ", adjusted" if prefix else ", unadjusted"
                    ax.plot(*zip(*limits, strict=True), style, color=colour, lw=width, label=label)
        ax.axhline(england, color=ENGLAND_COLOUR, lw=1.2, label="England")
        # the legend's key for the PCN's marker; the marker itself is written in per PCN
        (slot,) = ax.plot(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=self.MARKER_SIZE,
            markerfacecolor="#ffffff",
            markeredgecolor=MARKER_EDGE,
            label="This PCN",
        )
        ax.set_xscale("log")
        # denominators as plain counts at 1, 2 and 5 per decade: the default labels (2x10^4 on
        # every minor tick) ran into each other when PCNs span less than a decade
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.xaxis.set_minor_locator(LogLocator(subs=(3.0, 4.0, 6.0, 7.0, 8.0, 9.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("Denominator (log scale)", fontsize=8)
        ax.set_ylabel(y_label, fontsize=8)
        ax.tick_params(labelsize=7)
        # below the axes, so it never hides a PCN; two columns fit the figure's width, filled
        # column by column: the unadjusted limits and England, then the adjusted limits and the PCN
        handles, labels = ax.get_legend_handles_labels()
        if adjusted:
            order = sorted(
                range(len(labels)),
                key=lambda i: (", adjusted" in labels[i] or labels[i] == "This PCN", i),
            )
            handles, labels = [handles[i] for i in order], [labels[i] for i in order]
        ax.legend(
            handles,
            labels,
            frameon=False,
            fontsize=6.5,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.25 if adjusted else -0.28),
            ncols=2,
        )
        self._freeze(fig, ax, [slot], key or f"funnel {y_label}")

    def svg(self, denominator: float | None, value: float | None, signal: str, label: str) -> str:
        marker = ""
        if denominator is not None and value is not None:
            shape = SIGNAL_MARKERS.get(signal, "o")
            colour = SIGNAL_COLOURS.get(signal, "#ffffff")
            marker = self._marker(0, denominator, value, shape, self.MARKER_SIZE, colour)
        return self._compose([marker], label)


# ---------------------------------------------------------------------------------------------
# SPC run chart (NHS England "Making Data Count"): XmR limits and the special-cause rules
#
# A series is charted at its dates. It is split into segments of consecutive, equally spaced
# periods with a value (the spacing is the series' most common step; a longer or shorter step,
# or a period without a value, ends a segment). Only a segment of SPC_MIN_POINTS or more points
# gets process limits and signals; it is divided into phases where a sustained shift is found
# (see `_phases`), each phase with its own mean and limits.

SPC_MIN_POINTS = 15  # consecutive periods before any limit is drawn or any point is flagged
SPC_SHIFT_POINTS = 7  # points in a row on one side of the mean: a shift (and a phase's minimum)
SPC_TREND_POINTS = 6  # points in a row each higher (or each lower) than the one before: a trend
SPC_LIMIT_FACTOR = 2.66  # limits: mean +/- 2.66 mean moving ranges (3 sigma, sigma = mR / 1.128)
SPC_NEAR_FACTOR = 2.66 * 2 / 3  # 2 sigma: 2 of 3 points in a row beyond it on one side

SPC_OUTSIDE = "outside limits"
SPC_SHIFT = "shift"
SPC_TREND = "trend"
SPC_NEAR = "2 of 3 near a limit"
SPC_RECALCULATED = "shift: limits recalculated"


def _compare(a: float, b: float) -> int:
    """-1, 0 or 1 as a is below, at or above b, float noise counted as equal (a mean of equal
    values is not always exactly that value)."""
    if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
        return 0
    return 1 if a > b else -1


@dataclass(frozen=True)
class SpcPhase:
    """Points start..end-1 of a segment and the mean and limits computed from them alone."""

    start: int
    end: int
    mean: float
    moving_range: float
    """The mean of the phase's moving ranges (between its own consecutive points only)."""

    @property
    def lower(self) -> float:
        return self.mean - SPC_LIMIT_FACTOR * self.moving_range

    @property
    def upper(self) -> float:
        return self.mean + SPC_LIMIT_FACTOR * self.moving_range


def _phase(values: Sequence[float], start: int, end: int) -> SpcPhase:
    points = values[start:end]
    moving = [abs(b - a) for a, b in itertools.pairwise(points)]
    return SpcPhase(start, end, math.fsum(points) / len(points), math.fsum(moving) / len(moving))


def _side_runs(values: Sequence[float], phase: SpcPhase) -> list[tuple[int, int]]:
    """(start, end) of each run of SPC_SHIFT_POINTS or more points in a row on one side of the
    phase's mean; a point on the mean ends a run."""
    runs = []
    run_start, run_side = phase.start, 0
    for i in range(phase.start, phase.end + 1):
        side = _compare(values[i], phase.mean) if i < phase.end else 0
        if side != run_side:
            if run_side and i - run_start >= SPC_SHIFT_POINTS:
                runs.append((run_start, i))
            run_start, run_side = i, side
    return runs


def _phases(values: Sequence[float], start: int, end: int) -> list[SpcPhase]:
    """The segment's phases: limits are recalculated where a sustained shift begins or ends.

    From the limits of all the points start..end-1, each shift (SPC_SHIFT_POINTS or more in a
    row on one side of their mean) is a candidate change at its first point and just after its
    last. The earliest candidate that leaves SPC_SHIFT_POINTS or more points on both sides, and
    where the medians of the points before and from it lie on opposite sides of the mean (the
    level moved: not one extreme point dragging the mean away from all the others), divides the
    points; each part is treated the same way until none divides. A step change is so found
    once, as the start of a phase with its own limits, and its moving range - the step itself -
    enters neither phase's limits."""
    phase = _phase(values, start, end)

    def moved(cut: int) -> bool:
        before = statistics.median(values[start:cut])
        after = statistics.median(values[cut:end])
        return _compare(before, phase.mean) * _compare(after, phase.mean) < 0

    cuts = [
        cut
        for run in _side_runs(values, phase)
        for cut in run
        if start + SPC_SHIFT_POINTS <= cut <= end - SPC_SHIFT_POINTS and moved(cut)
    ]
    if not cuts:
        return [phase]
    cut = min(cuts)
    return _phases(values, start, cut) + _phases(values, cut, end)


@dataclass(frozen=True)
class SpcResult:
    """One segment of consecutive, equally spaced periods."""

    signals: list[str]
    """Per point: "" (common cause, or not assessed when there are no phases) or the first rule
    that flags it: "shift: limits recalculated" (the first point of a phase after a shift),
    "outside limits", "shift" (7 or more in a row on one side of the phase's mean), "trend" (6
    or more rising or falling) or "2 of 3 near a limit"."""
    phases: list[SpcPhase]
    """Empty when the segment has fewer than SPC_MIN_POINTS points: no limits, no signals."""

    @property
    def has_limits(self) -> bool:
        return bool(self.phases)


def spc(values: Sequence[float]) -> SpcResult:
    """XmR statistics of one segment: its phases' means and limits, and each point's signal."""
    n = len(values)
    signals = [""] * n
    if n < SPC_MIN_POINTS:
        return SpcResult(signals, [])
    phases = _phases(values, 0, n)

    def mark(start: int, end: int, rule: str) -> None:
        for i in range(start, end):
            signals[i] = signals[i] or rule

    for phase in phases:
        for i in range(phase.start, phase.end):
            if _compare(values[i], phase.upper) > 0 or _compare(values[i], phase.lower) < 0:
                signals[i] = SPC_OUTSIDE
    for phase in phases:
        for run in _side_runs(values, phase):
            mark(*run, SPC_SHIFT)
    # trend: across the segment (it needs no mean); a repeated value ends a run
    run_start, run_dir = 0, 0
    for i in range(1, n + 1):
        direction = _compare(values[i], values[i - 1]) if i < n else 0
        if direction != run_dir or direction == 0:
            if run_dir and i - run_start >= SPC_TREND_POINTS:
                mark(run_start, i, SPC_TREND)
            run_start, run_dir = i - 1, direction
    # 2 of 3 points in a row beyond 2 sigma on the same side: the points beyond it
    for phase in phases:
        near = SPC_NEAR_FACTOR * phase.moving_range
        for i in range(phase.start, phase.end - 2):
            for side in (1, -1):
                beyond = [
                    j
                    for j in range(i, i + 3)
                    if _compare(side * (values[j] - phase.mean), near) > 0
                ]
                if len(beyond) >= 2:
                    for j in beyond:
                        mark(j, j + 1, SPC_NEAR)
    for phase in phases[1:]:
        signals[phase.start] = SPC_RECALCULATED
    return SpcResult(signals, phases)


def _months(day: date) -> int:
    return day.year * 12 + day.month - 1


def spc_segments(dates: Sequence[date], values: Sequence[float | None]) -> list[tuple[int, int]]:
    """(start, end) of each run of consecutive, equally spaced periods with a value.

    The spacing is the most common step in months between successive periods (the shorter on a
    tie): quarterly censuses are 3 months apart, a monthly series 1. Any other step, or a period
    without a value, ends a segment."""
    months = [_months(d) for d in dates]
    steps = [b - a for a, b in itertools.pairwise(months)]
    step = min(set(steps), key=lambda s: (-steps.count(s), s)) if steps else 1
    segments: list[tuple[int, int]] = []
    start = None
    for i, value in enumerate([*values, None]):
        if start is not None and (value is None or months[i] - months[i - 1] != step):
            segments.append((start, i))
            start = None
        if value is not None and start is None:
            start = i
    return segments


@dataclass(frozen=True)
class SpcSeries:
    """A series at its dates, split into segments, each with its own SPC."""

    dates: list[date]
    values: list[float | None]
    segments: list[tuple[int, int]]
    results: list[SpcResult]

    @property
    def has_limits(self) -> bool:
        return any(r.has_limits for r in self.results)

    @property
    def signals(self) -> list[str | None]:
        """Per period: its segment's signal, or None where not assessed (no value, or a segment
        of fewer than SPC_MIN_POINTS points)."""
        signals: list[str | None] = [None] * len(self.dates)
        for (start, end), result in zip(self.segments, self.results, strict=True):
            if result.has_limits:
                signals[start:end] = result.signals
        return signals

    @property
    def longest(self) -> int:
        """Points in the longest segment."""
        return max((end - start for start, end in self.segments), default=0)

    def phases(self) -> list[SpcPhase]:
        """Every phase, start and end counted in the series' periods."""
        return [
            SpcPhase(start + p.start, start + p.end, p.mean, p.moving_range)
            for (start, _), result in zip(self.segments, self.results, strict=True)
            for p in result.phases
        ]


def spc_series(dates: Sequence[date], values: Sequence[float | None]) -> SpcSeries:
    """Segments of consecutive, equally spaced periods, and the SPC of each."""
    segments = spc_segments(dates, values)
    results = [spc([v for v in values[start:end] if v is not None]) for start, end in segments]
    return SpcSeries(list(dates), list(values), segments, results)


SPC_COLOURS = {"": "#aeb7bd", "special": "#490092"}  # grey common cause; purple: no judgement


def period_tick_labels(labels: Sequence[str], most: int = 12) -> list[str]:
    """Every period keeps its tick; beyond `most` periods only every third is labelled, counted
    back from the newest (always labelled), so 24 monthly labels do not overlap. The chart's
    data table lists every period."""
    step = 1 if len(labels) <= most else 3
    last = len(labels) - 1
    return [label if (last - i) % step == 0 else "" for i, label in enumerate(labels)]


def _broken(xs: Sequence[float], ys: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """A line's data with a NaN wherever a value is missing: matplotlib breaks the line there."""
    return list(xs), [math.nan if y is None else y for y in ys]


def _segment_line(
    xs: Sequence[float], ys: Sequence[float | None], segments: Sequence[tuple[int, int]]
) -> tuple[list[float], list[float]]:
    """One line through the points of each segment (start, end), broken between segments."""
    line_xs: list[float] = []
    line_ys: list[float | None] = []
    for start, end in segments:
        if line_xs:
            line_xs.append(math.nan)
            line_ys.append(None)
        line_xs += xs[start:end]
        line_ys += ys[start:end]
    return _broken(line_xs, line_ys)


class RunChart:
    """Run charts that share their time axis, gaps and legend: those are drawn and saved once;
    per PCN matplotlib redraws only what changes - the y axis (limits and ticks from the PCN's
    own data, as autoscaling gives them), the series, the points, England, and the phases' mean
    and limit lines - into the saved markup.

    The x axis is proportional to the periods' dates; the gaps between segments are shaded. A
    chart without limits is a plain line chart of the PCN (diamonds) with England (red)."""

    GAP_COLOUR = "#e8edee"

    def __init__(
        self,
        dates: Sequence[date],
        segments: Sequence[tuple[int, int]],
        has_limits: bool,
        has_plain: bool,
        has_common: bool,
        has_special: bool,
        has_england: bool,
    ) -> None:
        self.xs = [float(d.toordinal()) for d in dates]
        self.has_england = has_england
        xs = self.xs
        long_span = _months(dates[-1]) - _months(dates[0]) > 36
        legend_items = sum(
            [has_plain, has_england, has_common, has_special, has_limits, has_limits]
        )
        legend_rows = -(-legend_items // 3)
        fig = Figure(figsize=(3.6, 2.45 + 0.2 * legend_rows), dpi=72)  # 72 points per inch
        height = fig.get_figheight()
        ticks_space = 0.22 if long_span else 0.5  # inches: year labels, or rotated periods
        bottom = (ticks_space + 0.2 * legend_rows + 0.04) / height
        top = 1 - 0.08 / height
        fig.subplots_adjust(left=0.14, right=0.97, top=top, bottom=bottom)
        ax = fig.add_subplot()
        span = xs[-1] - xs[0]
        pad = max(span * 0.03, 12.0)
        ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        width = span + 2 * pad
        for (_, end), (start, _) in itertools.pairwise(segments):
            ax.axvspan(xs[end - 1], xs[start], color=self.GAP_COLOUR, lw=0, zorder=0)
            if (xs[start] - xs[end - 1]) / width > 0.15:
                ax.text(
                    (xs[end - 1] + xs[start]) / 2,
                    0.97,
                    "No data",
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    va="top",
                    fontsize=6.5,
                    color=GREY,
                )
        limit_style = {"color": GREY, "lw": 0.8, "ls": "--"}
        self.limits = [
            ax.plot([], [], **limit_style, label="Process limits" if has_limits else None)[0],
            ax.plot([], [], **limit_style)[0],
        ]
        (self.mean,) = ax.plot(
            [], [], color="#212b32", lw=0.9, label="Mean" if has_limits else None
        )
        (self.england,) = ax.plot(
            [],
            [],
            color=ENGLAND_COLOUR,
            lw=1.1,
            marker="_",
            ms=6,
            mew=1.4,
            label="England" if has_england else None,
        )
        (self.series,) = ax.plot([], [], color=PCN_COLOUR if not has_limits else GREY, lw=1)
        # present in the legend only when the chart has such points, as in a chart of its own
        (self.plain,) = ax.plot(
            [],
            [],
            "D",
            color=PCN_COLOUR,
            ms=3.5,
            label=("This PCN" if not has_limits else "Too few periods for limits")
            if has_plain
            else None,
        )
        (self.common,) = ax.plot(
            [], [], "o", color=SPC_COLOURS[""], ms=4, label="Common cause" if has_common else None
        )
        (self.special,) = ax.plot(
            [],
            [],
            "s",
            color=SPC_COLOURS["special"],
            ms=5,
            label="Special cause" if has_special else None,
        )
        if long_span:
            years = [
                y
                for y in range(dates[0].year, dates[-1].year + 2)
                if xs[0] - pad <= date(y, 1, 1).toordinal() <= xs[-1] + pad
            ]
            ax.set_xticks([date(y, 1, 1).toordinal() for y in years], [str(y) for y in years])
            ax.set_xticks(xs, minor=True)  # where the periods are
            ax.tick_params(axis="x", labelsize=7)
        else:
            labels = period_tick_labels([d.strftime("%b %Y") for d in dates])
            ax.set_xticks(xs, labels, rotation=45, ha="right", fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
        # the PCN's points first, England last
        ordered = [self.plain, self.common, self.special, self.mean, self.limits[0], self.england]
        ax.legend(
            handles=[h for h in ordered if not h.get_label().startswith("_")],
            frameon=False,
            fontsize=6.5,
            loc="upper center",
            bbox_to_anchor=(0.5, -ticks_space / (height * (top - bottom))),
            ncols=3,
        )
        self._data = [
            *self.limits,
            self.mean,
            self.england,
            self.series,
            self.plain,
            self.common,
            self.special,
        ]
        slot = ax.plot([], [], gid="pcn-data")[0]  # where the PCN's part goes in the drawing
        for artist in [*self._data, ax.yaxis]:
            artist.set_visible(False)
        self._fig, self._ax = fig, ax
        key = "|".join(d.isoformat() for d in dates) + repr(
            (list(segments), has_limits, has_plain, has_common, has_special, has_england)
        )
        self._prefix = _id_prefix("run chart " + key)
        svg = _figure_svg(fig, self._prefix)
        self._head, self._tail = svg.split(f'<g id="{self._prefix}-pcn-data"/>')
        slot.remove()
        for artist in [*self._data, ax.yaxis]:
            artist.set_visible(True)
            artist.set_clip_on(False)  # the PCN's part references no clip path of the background

    def svg(self, series: SpcSeries, england: Sequence[float | None], label: str) -> str:
        xs = self.xs
        # a line per segment: a value missing, or a break in the periods, ends it
        self.series.set_data(*_segment_line(xs, series.values, series.segments))
        england_segments = spc_segments(series.dates, england) if self.has_england else []
        self.england.set_data(*_segment_line(xs, england, england_segments))
        signals = series.signals
        for line, wanted in (
            (self.plain, lambda s: s is None),
            (self.common, lambda s: s == ""),
            (self.special, lambda s: bool(s)),
        ):
            points = [
                (x, v)
                for x, v, s in zip(xs, series.values, signals, strict=True)
                if v is not None and wanted(s)
            ]
            line.set_data([x for x, _ in points], [v for _, v in points])
        phase_xs: list[float] = []
        levels: dict[str, list[float]] = {"mean": [], "lower": [], "upper": []}
        for phase in series.phases():
            phase_xs += [xs[phase.start], xs[phase.end - 1], math.nan]
            for name in levels:
                level = getattr(phase, name)
                levels[name] += [level, level, math.nan]
        self.mean.set_data(phase_xs, levels["mean"])
        for line, name in zip(self.limits, ("lower", "upper"), strict=True):
            line.set_data(phase_xs, levels[name])
        # y limits as a chart of its own gets them: every line's data, with the usual margins
        self._ax.relim()
        self._ax.autoscale_view(scalex=False)
        buffer = io.StringIO()
        renderer = RendererSVG(*(self._fig.get_size_inches() * 72), buffer)
        start = buffer.tell()
        for artist in [*self._data, self._ax.yaxis]:
            artist.draw(renderer)
        drawn = buffer.getvalue()[start:]
        # ids of this part: their own prefix, so they never meet the background's
        prefix = self._prefix + "d"
        drawn = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', drawn)
        drawn = _lighter(re.sub(r'href="#', f'href="#{prefix}-', drawn))
        return _labelled(self._head + drawn + self._tail, label)


def spc_chart(
    series: SpcSeries,
    label: str,
    england: Sequence[float | None] | None = None,
    charts: dict[tuple, RunChart] | None = None,
) -> str:
    """The series at its dates: with limits, the run chart (points, each phase's mean and
    process limits, special causes purple squares); without, a plain line chart of the PCN with
    England. Gaps between segments are shaded.

    `charts` keeps the drawn backgrounds for a batch: charts with the same periods, segments and
    legend share one."""
    england = list(england) if england is not None else [None] * len(series.dates)
    signals = series.signals
    present = [s for v, s in zip(series.values, signals, strict=True) if v is not None]
    has_limits = series.has_limits
    key = (
        tuple(series.dates),
        tuple(series.segments),
        has_limits,
        any(s is None for s in present),
        any(s == "" for s in present),
        any(s for s in present),
        not has_limits and any(e is not None for e in england),
    )
    charts = {} if charts is None else charts
    if key not in charts:
        charts[key] = RunChart(*key)
    return charts[key].svg(series, england, label)
