"""Charts as inline SVG, drawn with matplotlib's object API (thread-safe; no pyplot state).

Text stays text in the SVG (`svg.fonttype = none`): smaller files, faster PDFs, readable by
screen readers and pdftotext. Output is deterministic (fixed hash salt, no date metadata).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
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

# Fingertips' signals; the blue scheme is the colour-blind-safe one (PUBLICATION.md)
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
        """This PCN's markers: shape and colour by significance, or a diamond by quintile.
        Not clipped: the lowest and highest PCN sit on the axes' edges."""
        n = len(self.indicators)
        markers = []
        for i, (value, signal) in enumerate(zip(values, signals, strict=True)):
            if value is None or self.scales[i] is None:
                markers.append("")
                continue
            if signal.startswith("q"):
                colour, shape = QUINTILE_COLOURS[int(signal[1])], "D"
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


class FunnelChart(_MarkerLayer):
    """All PCNs' values against their denominators, with the 95% and 99.8% limits around England.

    Like the spine chart, the background is drawn and saved once per batch and `svg()` only
    writes this PCN's marker into it. The other PCNs' dots are drawn as one small image inside
    the SVG: 1,300 vector dots would make each page ten times heavier, and the dots carry no text.
    """

    MARKER_SIZE = 8.0  # points

    def __init__(
        self, points: Sequence[FunnelPoint], england: float, y_label: str, key: str | None = None
    ) -> None:
        fig = Figure(figsize=(3.6, 2.9))
        fig.subplots_adjust(left=0.17, right=0.97, top=0.97, bottom=0.38)
        ax = fig.add_subplot()
        ordered = sorted(points, key=lambda p: p.denominator)
        xs = [p.denominator for p in ordered]
        ax.scatter(
            xs, [p.value for p in ordered], s=4, color="#aeb7bd", linewidths=0, rasterized=True
        )
        for attr, style in (("95", "--"), ("998", ":")):
            for side in ("lower", "upper"):
                limits = [(p.denominator, getattr(p, side + attr)) for p in ordered]
                limits = [(x, y) for x, y in limits if y is not None]
                label = (
                    ("95% limits" if attr == "95" else "99.8% limits") if side == "lower" else None
                )
                ax.plot(*zip(*limits, strict=True), style, color=GREY, lw=0.9, label=label)
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
        # below the axes, so it never hides a PCN; two columns fit the figure's width
        ax.legend(
            frameon=False, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=2
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

SPC_MIN_POINTS = 8  # fewer points than this: a plain table, no limits


@dataclass(frozen=True)
class SpcResult:
    mean: float
    lower: float
    upper: float
    signals: list[str]
    """Per point: "" (common cause) or the rule that flags it: "outside limits", "shift"
    (7 or more in a row on one side of the mean) or "trend" (6 or more rising or falling)."""


def spc(values: Sequence[float]) -> SpcResult:
    """XmR chart statistics: mean, mean +/- 2.66 x mean moving range, and each point's signal."""
    n = len(values)
    mean = sum(values) / n
    moving = [abs(b - a) for a, b in itertools.pairwise(values)]
    spread = 2.66 * (sum(moving) / len(moving)) if moving else 0.0
    lower, upper = mean - spread, mean + spread
    signals = ["outside limits" if v > upper or v < lower else "" for v in values]

    def mark(start: int, end: int, rule: str) -> None:
        for i in range(start, end):
            signals[i] = signals[i] or rule

    # shift: 7 or more consecutive points above (or below) the mean; a point on it breaks a run
    run_start, run_side = 0, 0
    for i, v in enumerate([*values, mean]):
        side = (v > mean) - (v < mean)
        if side != run_side or i == n:
            if run_side and i - run_start >= 7:
                mark(run_start, i, "shift")
            run_start, run_side = i, side
    # trend: 6 or more consecutive points each higher (or lower) than the one before
    run_start, run_dir = 0, 0
    for i in range(1, n + 1):
        direction = 0 if i == n else (values[i] > values[i - 1]) - (values[i] < values[i - 1])
        if direction != run_dir or direction == 0:
            if run_dir and i - run_start >= 6:
                mark(run_start, i, "trend")
            run_start, run_dir = i - 1, direction
    return SpcResult(mean, lower, upper, signals)


SPC_COLOURS = {"": "#aeb7bd", "special": "#490092"}  # grey common cause; purple: no judgement


def period_tick_labels(labels: Sequence[str], most: int = 12) -> list[str]:
    """Every period keeps its tick; beyond `most` periods only every third is labelled, counted
    back from the newest (always labelled), so 24 monthly labels do not overlap. The chart's
    data table lists every period."""
    step = 1 if len(labels) <= most else 3
    last = len(labels) - 1
    return [label if (last - i) % step == 0 else "" for i, label in enumerate(labels)]


class RunChart:
    """Run charts that share their x axis (the periods) and legend: those are drawn and saved
    once; per PCN matplotlib redraws only what changes - the y axis (limits and ticks from the
    PCN's own data, as autoscaling gives them), the series, the points and the mean and limit
    lines - into the saved markup. Text layout of the rotated period labels and the legend, most
    of a savefig, is done once per batch.
    """

    def __init__(self, labels: Sequence[str], has_common: bool, has_special: bool) -> None:
        fig = Figure(figsize=(3.6, 2.6), dpi=72)  # SVG user units are points: 72 per inch
        fig.subplots_adjust(left=0.14, right=0.97, top=0.97, bottom=0.36)
        ax = fig.add_subplot()
        xs = list(range(len(labels)))
        (self.series,) = ax.plot(xs, [0.0] * len(xs), color=GREY, lw=1)
        # present in the legend only when the chart has such points, as in a chart of its own
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
        self.mean = ax.axhline(0.0, color="#212b32", lw=0.9, label="Mean")
        self.limits = [ax.axhline(0.0, color=GREY, lw=0.8, ls="--") for _ in range(2)]
        ax.set_xticks(xs, period_tick_labels(labels), rotation=45, ha="right", fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(
            frameon=False, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=3
        )
        ax.set_xlim(ax.get_xlim())  # the periods' axis is fixed; only y follows each PCN
        self._data = [self.series, self.common, self.special, self.mean, *self.limits]
        slot = ax.plot([], [], gid="pcn-data")[0]  # where the PCN's part goes in the drawing
        for artist in [*self._data, ax.yaxis]:
            artist.set_visible(False)
        self._fig, self._ax = fig, ax
        self._prefix = _id_prefix("run chart " + "|".join(labels))
        svg = _figure_svg(fig, self._prefix)
        self._head, self._tail = svg.split(f'<g id="{self._prefix}-pcn-data"/>')
        slot.remove()
        for artist in [*self._data, ax.yaxis]:
            artist.set_visible(True)
            artist.set_clip_on(False)  # the PCN's part references no clip path of the background

    def svg(self, values: Sequence[float], result: SpcResult, label: str) -> str:
        xs = list(range(len(values)))
        self.series.set_ydata(values)
        for line, special in ((self.common, False), (self.special, True)):
            points = [(x, v) for x, v, s in zip(xs, values, result.signals, strict=True)]
            points = [p for p, s in zip(points, result.signals, strict=True) if bool(s) == special]
            line.set_data([x for x, _ in points], [v for _, v in points])
        self.mean.set_ydata([result.mean] * 2)
        for line, limit in zip(self.limits, (result.lower, result.upper), strict=True):
            line.set_ydata([limit] * 2)
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
    labels: Sequence[str],
    values: Sequence[float],
    result: SpcResult,
    label: str,
    charts: dict[tuple, RunChart] | None = None,
) -> str:
    """The run chart: points in order, mean and process limits; special causes purple squares.

    `charts` keeps the drawn backgrounds for a batch: charts with the same periods and legend
    share one."""
    has_special = any(result.signals)
    key = (tuple(labels), not all(result.signals), has_special)
    charts = {} if charts is None else charts
    if key not in charts:
        charts[key] = RunChart(*key)
    return charts[key].svg(values, result, label)
