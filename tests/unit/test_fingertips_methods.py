"""The statistics macros (dbt_project/macros/statistics.sql, poisson.sql) against PHStatsMethods,
DHSC's package of the methods approved for Fingertips indicators, on a grid of counts: fast, no
dbt. tests/integration/test_fingertips_oracle.py checks every published limit the same way.

- Wilson: PHStatsMethods.wilson_lower / wilson_upper (ph_proportion's functions).
- Counts of events: byars_lower / byars_upper (ph_rate's functions): Byar's method from 10 events,
  the exact Poisson limits (exact_lower / exact_upper) below 10. Whole counts only: a non-whole
  count below 10 exists only in a blend of areas, which publishes no interval; the macros take the
  nearest whole count's limits there (poisson.sql), PHStatsMethods a chi-square of fractional
  degrees of freedom.
- Funnel limits of proportions: utils_funnel.sigma_adjustment (calculate_funnel_limits' function).
"""

from __future__ import annotations

import warnings

import duckdb
import PHStatsMethods as ph
import pytest
from PHStatsMethods.utils_funnel import sigma_adjustment

from tests.unit.test_funnel_dispersion import render as render_statistics
from tests.unit.test_poisson_limits import macro_limits

pytestmark = pytest.mark.unit

CONFIDENCE = {95: 0.95, 99.8: 0.998}


@pytest.mark.parametrize("level", [95, 99.8])
def test_poisson_macros_equal_phstatsmethods_for_whole_counts(level: float):
    confidence = CONFIDENCE[level]
    checked = 0
    for observed, lower, upper in macro_limits(level):
        if observed is None or observed < 0 or observed != int(observed):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if observed == 0:  # byars_upper refuses 0; its exact upper limit, and a lower of 0
                expected = (0.0, ph.exact_upper(0, confidence))
            else:
                expected = (
                    ph.byars_lower(observed, confidence),
                    ph.byars_upper(observed, confidence),
                )
        assert (lower, upper) == pytest.approx(expected, rel=1e-12, abs=1e-12), observed
        checked += 1
    assert checked >= 16  # 0-11 and the real sizes


def test_wilson_and_funnel_macros_equal_phstatsmethods():
    cases = [(0, 50), (1, 10), (48, 3904), (182, 18758), (236, 33392), (7317368, 51293187), (9, 9)]
    targets = [0.0101664708, 0.14265769838, 0.5]
    sql = render_statistics(
        "select x, n, t, "
        "{% for level in [95, 99.8] %}{% for side in ['lower', 'upper'] %}"
        "{{ funnel_limit(\"'wilson'\", 't', 'n', level, side) }}, "
        "{% endfor %}{% endfor %} 0 "
        "from (select unnest(?::double[]) as x, unnest(?::double[]) as n), "
        "(select unnest(?::double[]) as t)"
    )
    rows = (
        duckdb.connect()
        .execute(sql, [[x for x, _ in cases], [n for _, n in cases], targets])
        .fetchall()
    )
    assert len(rows) == len(cases) * len(targets)
    for _x, n, t, l95, u95, l998, u998, _ in rows:
        expected = [
            max(0.0, sigma_adjustment(0.975, n, t, "low", 1)),
            min(1.0, sigma_adjustment(0.975, n, t, "high", 1)),
            max(0.0, sigma_adjustment(0.999, n, t, "low", 1)),
            min(1.0, sigma_adjustment(0.999, n, t, "high", 1)),
        ]
        assert [l95, u95, l998, u998] == pytest.approx(expected, abs=1e-12), (n, t)
    wilson = render_statistics(
        "select {% for level in [95, 99.8] %}{{ wilson_lower('x', 'n', level) }}, "
        "{{ wilson_upper('x', 'n', level) }}, {% endfor %} 0 "
        "from (select unnest(?::double[]) as x, unnest(?::double[]) as n)",
        names=("wilson_lower", "wilson_upper"),
    )
    got = duckdb.connect().execute(wilson, [[x for x, _ in cases], [n for _, n in cases]])
    for (x, n), (l95, u95, l998, u998, _) in zip(cases, got.fetchall(), strict=True):
        assert [l95, u95, l998, u998] == pytest.approx(
            [
                ph.wilson_lower(x, n, 0.95),
                ph.wilson_upper(x, n, 0.95),
                ph.wilson_lower(x, n, 0.998),
                ph.wilson_upper(x, n, 0.998),
            ],
            abs=1e-12,
        ), (x, n)
