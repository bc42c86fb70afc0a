from __future__ import annotations

from datetime import date

import pytest

from flows.charts import SpineChart, SpineIndicator
from flows.release_info import default_release_date, next_update, vintage_label
from flows.render import _cell, format_number, format_period, jinja_env

pytestmark = pytest.mark.unit


def test_csv_cells_neutralise_formulas_and_keep_numbers():
    assert _cell('=HYPERLINK("http://x")').startswith("'=")
    assert _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell(-1.5) == "-1.5"
    assert _cell(648282.0) == "648282"
    assert _cell(None) == ""
    assert _cell(True) == "true"


def test_numbers_and_periods_for_people():
    assert format_number(63707358) == "63,707,358"
    assert format_number(1.016647, 2) == "1.02"
    assert format_number(None) == "-"
    # a financial year as its publishers name it, written in full
    assert format_period(date(2024, 4, 1), date(2025, 3, 31)) == (
        "2024-25 (April 2024 to March 2025)"
    )
    assert format_period(date(2024, 1, 1), date(2024, 12, 31)) == "Jan 2024 to Dec 2024"
    assert format_period(date(2026, 6, 1), date(2026, 6, 30)) == "June 2026"


def test_release_dates_are_derived_from_the_period():
    assert default_release_date("2026-06") == date(2026, 7, 9)  # second Thursday of July
    assert default_release_date("2026-12") == date(2027, 1, 14)
    assert next_update(date(2026, 7, 9)) == date(2026, 8, 13)
    assert vintage_label("qof", "2025-03") == "2024-25 (April 2024 to March 2025)"
    assert vintage_label("talking_therapies", "2025-03", "annual") == (
        "2024-25 (April 2024 to March 2025)"
    )
    assert vintage_label("talking_therapies", "2025-03", "monthly") == "March 2025"


def test_templates_escape_untrusted_names():
    html = jinja_env().from_string("<p>{{ name }}</p>").render(name="<script>alert(1)</script>")
    assert "<script>" not in html


def test_spine_chart_is_deterministic_svg_with_escaped_label():
    chart = SpineChart([SpineIndicator("SMI prevalence (%)", 1.0, [0.5, 1.0, 1.5, 2.0])])
    first = chart.svg([1.2], ["higher"], label='A & B "PCN" <x>')
    chart.svg([0.6], ["lower"], label="another PCN")
    assert first == chart.svg([1.2], ["higher"], label='A & B "PCN" <x>')
    assert first.startswith('<svg role="img" aria-label="A &amp; B &quot;PCN&quot; &lt;x>"')
    assert "SMI prevalence (%)" in first  # text stays text


def test_float_noise_never_changes_a_csv_cell():
    assert _cell(0.9999999999999999) == _cell(1.0) == "1"
    assert _cell(0.30000000000000004) == _cell(0.3) == "0.3"


def test_large_sums_lose_their_last_bits_in_the_csv():
    assert _cell(870383.9300456066) == _cell(870383.9300456065) == "870383.930046"
