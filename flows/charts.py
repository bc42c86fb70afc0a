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

import matplotlib

matplotlib.use("svg")
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

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


def to_svg(fig: Figure, label: str) -> str:
    """The figure as an inline <svg> element labelled for assistive technology."""
    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and doctype for inlining
    # matplotlib numbers element ids per figure; prefix them so several charts share a page
    prefix = "c" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:8]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#", f"url(#{prefix}-", svg)
    svg = re.sub(r'href="#', f'href="#{prefix}-', svg)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return re.sub(r"^<svg ", f'<svg role="img" aria-label="{label}" ', svg, count=1)


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


class SpineChart:
    """Fingertips' spine: each indicator's national spread centred on England, a PCN a marker.

    The background (spreads, England line, axes) is drawn once; `svg()` only moves the markers,
    so a batch of PCN pages shares one figure.
    """

    def __init__(self, indicators: Sequence[SpineIndicator]) -> None:
        self.indicators = list(indicators)
        n = len(self.indicators)
        height = 0.42 * n + 0.6
        self.fig = Figure(figsize=(7.2, height))
        self.fig.subplots_adjust(left=0.40, right=0.97, top=1 - 0.1 / height, bottom=0.45 / height)
        ax = self.fig.add_subplot()
        self.scales: list[tuple[float, float] | None] = []
        self.markers = []
        for i, indicator in enumerate(self.indicators):
            y = n - 1 - i
            values = sorted(v for v in indicator.values if v is not None)
            # not clipped: the lowest and highest PCN sit on the axes' edges
            (marker,) = ax.plot(
                [], [], linestyle="none", markersize=9, markeredgecolor="#212b32", clip_on=False
            )
            self.markers.append(marker)
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

    def _scale(self, i: int, x: float) -> float:
        england, reach = self.scales[i]  # type: ignore[misc]
        return 0.5 + (x - england) / (2 * reach)

    def svg(self, values: Sequence[float | None], signals: Sequence[str], label: str) -> str:
        """This PCN's markers: shape and colour by significance, or a diamond by quintile."""
        n = len(self.indicators)
        for i, (value, signal) in enumerate(zip(values, signals, strict=True)):
            marker = self.markers[i]
            if value is None or self.scales[i] is None:
                marker.set_data([], [])
                continue
            if signal.startswith("q"):
                colour, shape = QUINTILE_COLOURS[int(signal[1])], "D"
            else:
                colour, shape = SIGNAL_COLOURS[signal], SIGNAL_MARKERS[signal]
            marker.set_data([self._scale(i, value)], [n - 1 - i])
            marker.set_marker(shape)
            marker.set_markerfacecolor(colour)
        return to_svg(self.fig, label)


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


class FunnelChart:
    """All PCNs' values against their denominators, with the 95% and 99.8% limits around England.

    Like the spine chart, the background is drawn once per batch and `svg()` only moves this
    PCN's marker. The other PCNs' dots are drawn as one small image inside the SVG: 1,300
    vector dots would make each page ten times heavier, and the dots carry no text.
    """

    def __init__(self, points: Sequence[FunnelPoint], england: float, y_label: str) -> None:
        self.fig = Figure(figsize=(3.6, 2.9))
        self.fig.subplots_adjust(left=0.17, right=0.97, top=0.97, bottom=0.38)
        ax = self.fig.add_subplot()
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
        (self.marker,) = ax.plot(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="#ffffff",
            markeredgecolor="#212b32",
            label="This PCN",
        )
        ax.set_xscale("log")
        ax.set_xlabel("Denominator (log scale)", fontsize=8)
        ax.set_ylabel(y_label, fontsize=8)
        ax.tick_params(labelsize=7)
        # below the axes, so it never hides a PCN
        ax.legend(
            frameon=False, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=4
        )
        self.ax = ax

    def svg(self, denominator: float | None, value: float | None, signal: str, label: str) -> str:
        if denominator is None or value is None:
            self.marker.set_data([], [])
        else:
            self.marker.set_data([denominator], [value])
            self.marker.set_marker(SIGNAL_MARKERS.get(signal, "o"))
            self.marker.set_markerfacecolor(SIGNAL_COLOURS.get(signal, "#ffffff"))
        return to_svg(self.fig, label)


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


def spc_chart(labels: Sequence[str], values: Sequence[float], result: SpcResult, label: str) -> str:
    """The run chart: points in order, mean and process limits; special causes purple squares."""
    fig = Figure(figsize=(3.6, 2.6))
    fig.subplots_adjust(left=0.14, right=0.97, top=0.97, bottom=0.36)
    ax = fig.add_subplot()
    xs = list(range(len(values)))
    ax.plot(xs, values, color=GREY, lw=1)
    common = [(x, v) for x, v, s in zip(xs, values, result.signals, strict=True) if not s]
    special = [(x, v) for x, v, s in zip(xs, values, result.signals, strict=True) if s]
    if common:
        ax.plot(*zip(*common, strict=True), "o", color=SPC_COLOURS[""], ms=4, label="Common cause")
    if special:
        ax.plot(
            *zip(*special, strict=True),
            "s",
            color=SPC_COLOURS["special"],
            ms=5,
            label="Special cause",
        )
    ax.axhline(result.mean, color="#212b32", lw=0.9, label="Mean")
    for limit in (result.lower, result.upper):
        ax.axhline(limit, color=GREY, lw=0.8, ls="--")
    ax.set_xticks(xs, labels, rotation=45, ha="right", fontsize=6)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(frameon=False, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=3)
    return to_svg(fig, label)
