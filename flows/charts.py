"""Charts as inline SVG, drawn with matplotlib's object API (thread-safe; no pyplot state).

Text stays text in the SVG (`svg.fonttype = none`): smaller files, faster PDFs, readable by
screen readers and pdftotext. Output is deterministic (fixed hash salt, no date metadata).
"""

from __future__ import annotations

import hashlib
import io
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
            (marker,) = ax.plot([], [], linestyle="none", markersize=9, markeredgecolor="#212b32")
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
