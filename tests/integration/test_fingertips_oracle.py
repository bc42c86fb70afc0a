"""The Fingertips methods as the oracle of every published limit, on the national database built
from the bundled real sample (the slow tests' shared national run, tests/national.py).

PHStatsMethods (DHSC's Python package of the methods approved for Fingertips indicators, pinned
in constraints.txt) gives, independently of the project's SQL:
- Wilson score limits of proportions: `wilson_lower` / `wilson_upper` (as `ph_proportion`);
- limits of rates of counted events: `byars_lower` / `byars_upper` (what `ph_rate` applies), which
  use the exact Poisson limits (`exact_lower` / `exact_upper`, chi-square) below 10 events;
- funnel plot limits of proportions: `utils_funnel.sigma_adjustment`, the function
  `calculate_funnel_limits` evaluates at each population, here at each PCN's denominator with
  England's value as the average (the project's funnels are drawn around England).
Every published limit must equal it to 1e-6 (display units). statsmodels stays the second oracle
of the Wilson limits (tests/recompute.py).

The same database also checks the over-dispersion adjustment (fct_funnel_dispersion and the
adjusted limits of fct_pcn_indicators) against a recomputation here, in numpy, from the
published counts (tests/unit/test_funnel_dispersion.py has the method and a worked example).

Set PCN_BENCHMARK_ORACLE_DB to the pcn_benchmark.duckdb of such a run to reuse it.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from pathlib import Path

import duckdb
import numpy as np
import PHStatsMethods as ph
import pytest
from PHStatsMethods.utils_funnel import sigma_adjustment

from flows.settings import DUCKDB_OFFLINE
from tests.unit.test_funnel_dispersion import adjusted_limit, dispersion

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = str(Path(sys.executable).with_name("pcn-benchmark"))
TOLERANCE = 1e-6
LEVELS = ((0.95, "95"), (0.998, "998"))


@pytest.fixture(scope="module")
def national(request: pytest.FixtureRequest) -> duckdb.DuckDBPyConnection:
    """The national database: the shared national run's, or PCN_BENCHMARK_ORACLE_DB's."""
    reuse = os.environ.get("PCN_BENCHMARK_ORACLE_DB")
    db_path = Path(reuse) if reuse else request.getfixturevalue("national_first")["database"]
    con = duckdb.connect(str(db_path), read_only=True, config=DUCKDB_OFFLINE)
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def published_limits(con: duckdb.DuckDBPyConnection, method: str) -> list[dict]:
    """Every row with limits: PCN rows, ICB rows and the England benchmarks."""
    columns = "numerator, denominator, lower_ci95, upper_ci95, lower_ci998, upper_ci998"
    return _rows(
        con,
        f"""
        select 'pcn ' || pcn_code as area, indicator_id, {columns}, i.multiplier
        from fct_pcn_indicators join dim_indicators i using (indicator_id)
        where i.method = '{method}' and lower_ci95 is not null
        union all
        select 'icb ' || icb_code, indicator_id, {columns}, i.multiplier
        from fct_icb_indicators join dim_indicators i using (indicator_id)
        where i.method = '{method}' and lower_ci95 is not null
        union all
        select 'england', indicator_id, {columns}, i.multiplier
        from int_indicator_values join dim_indicators i using (indicator_id)
        where geography_type = 'england' and i.method = '{method}' and lower_ci95 is not null
        """,
    )


def test_every_published_wilson_limit_equals_phstatsmethods(national):
    rows = published_limits(national, "wilson")
    assert len(rows) > 2 * 1290  # both prevalences for every PCN, and more
    for row in rows:
        x, n, m = row["numerator"], row["denominator"], row["multiplier"]
        for confidence, suffix in LEVELS:
            expected = (
                ph.wilson_lower(x, n, confidence) * m,
                ph.wilson_upper(x, n, confidence) * m,
            )
            got = (row[f"lower_ci{suffix}"], row[f"upper_ci{suffix}"])
            assert got == pytest.approx(expected, abs=TOLERANCE), (row, confidence)


def fingertips_rate_limits(count: float, confidence: float) -> tuple[float, float]:
    """PHStatsMethods' limits of a count: Byar's method, exact below 10. byars_upper refuses 0
    events, whose exact upper limit is exact_upper(0); the lower limit of 0 events is 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if count == 0:
            return 0.0, float(ph.exact_upper(0, confidence))
        return float(ph.byars_lower(count, confidence)), float(ph.byars_upper(count, confidence))


def test_every_published_byar_limit_equals_phstatsmethods(national):
    rows = published_limits(national, "byar")
    assert len(rows) > 1290  # Talking Therapies referrals of every PCN, ICB and England
    for row in rows:
        x, n, m = row["numerator"], row["denominator"], row["multiplier"]
        for confidence, suffix in LEVELS:
            lower, upper = fingertips_rate_limits(x, confidence)
            got = (row[f"lower_ci{suffix}"], row[f"upper_ci{suffix}"])
            assert got == pytest.approx((lower / n * m, upper / n * m), abs=TOLERANCE), row


def test_every_funnel_limit_equals_phstatsmethods(national):
    rows = _rows(
        national,
        """
        select pcn_code, indicator_id, denominator, england_value, i.method, i.multiplier,
            funnel_lower95, funnel_upper95, funnel_lower998, funnel_upper998
        from fct_pcn_indicators join dim_indicators i using (indicator_id)
        where funnel_lower95 is not null or funnel_upper998 is not null
        """,
    )
    assert len(rows) > 2 * 1290
    # Funnels of rates (PHStatsMethods: exact Poisson control limits, plotted against events)
    # are not drawn: no PCN-level rate of counted events is published. One published here would
    # need that method first.
    assert {r["method"] for r in rows} == {"wilson"}
    for row in rows:
        n, m, average = (
            row["denominator"],
            row["multiplier"],
            row["england_value"] / row["multiplier"],
        )
        for p, suffix in ((0.975, "95"), (0.999, "998")):
            # calculate_funnel_limits' own clamping: at 0 and at 100 (percent; the multiplier here)
            lower = max(0.0, sigma_adjustment(p, n, average, "low", m))
            upper = min(m, sigma_adjustment(p, n, average, "high", m))
            got = (row[f"funnel_lower{suffix}"], row[f"funnel_upper{suffix}"])
            assert got == pytest.approx((lower, upper), abs=TOLERANCE), (row, p)


def test_funnel_limits_are_where_a_pcns_wilson_interval_reaches_england(national):
    """Fingertips' funnel and its confidence intervals agree: a PCN's Wilson 95% interval excludes
    England exactly when its value lies outside the 95% funnel limits (so the England
    comparison and the unadjusted 95% funnel tell the same story)."""
    rows = _rows(
        national,
        "select value, compared_to_england, funnel_lower95, funnel_upper95 "
        "from fct_pcn_indicators where funnel_lower95 is not null and value is not null",
    )
    for row in rows:
        outside = (
            "higher"
            if row["value"] > row["funnel_upper95"]
            else "lower"
            if row["value"] < row["funnel_lower95"]
            else "similar"
        )
        assert outside == row["compared_to_england"], row


# ---------------------------------------------------------------------------------------------
# Over-dispersion, recomputed from the published counts


def test_over_dispersion_equals_a_recomputation_from_the_published_counts(national):
    published = _rows(national, "select * from fct_funnel_dispersion")
    assert {r["indicator_id"] for r in published} >= {"smi_prevalence", "depression_prevalence"}
    for summary in published:
        rows = _rows(
            national,
            f"""
            select f.*, i.multiplier from fct_pcn_indicators f
            join dim_indicators i using (indicator_id)
            where indicator_id = '{summary["indicator_id"]}'
                and period_start = '{summary["period_start"]}' and funnel_lower998 is not null
            """,
        )
        plotted = [r for r in rows if r["value"] is not None]
        assert summary["pcn_count"] == len(plotted) > 1000
        if summary["method"] != "wilson":
            assert summary["phi"] is None and not summary["is_adjusted"]
            continue
        multiplier = plotted[0]["multiplier"]
        target = summary["england_value"] / multiplier
        n = np.array([r["denominator"] for r in plotted], float)
        x = np.array([r["numerator"] for r in plotted], float)
        stats = dispersion(n, x, target)
        assert summary["phi"] == pytest.approx(stats["phi"], rel=1e-9)
        assert summary["tau2"] == pytest.approx(stats["tau2"], rel=1e-9)
        assert summary["winsor_lower_z"] == pytest.approx(stats["winsor_lower_z"], rel=1e-9)
        assert summary["winsor_upper_z"] == pytest.approx(stats["winsor_upper_z"], rel=1e-9)
        assert summary["is_adjusted"] == (stats["phi"] > 1)
        above = below = above_adjusted = below_adjusted = 0
        for row in rows:
            for level, suffix in ((95, "95"), (99.8, "998")):
                for side in ("lower", "upper"):
                    got = row[f"adjusted_funnel_{side}{suffix}"]
                    if not summary["is_adjusted"]:
                        assert got is None
                        continue
                    want = multiplier * adjusted_limit(
                        row["denominator"], target, stats["tau2"], level, side
                    )
                    assert got == pytest.approx(want, abs=TOLERANCE), (row["pcn_code"], side)
            value = row["value"]
            if value is None:
                assert row["funnel_outlier"] is None
                continue
            above += value > row["funnel_upper998"]
            below += value < row["funnel_lower998"]
            if summary["is_adjusted"]:
                upper, lower = row["adjusted_funnel_upper998"], row["adjusted_funnel_lower998"]
            else:
                upper, lower = row["funnel_upper998"], row["funnel_lower998"]
            expected = "high" if value > upper else "low" if value < lower else "none"
            assert row["funnel_outlier"] == expected, row["pcn_code"]
            above_adjusted += expected == "high"
            below_adjusted += expected == "low"
        assert (summary["pcns_above_upper998"], summary["pcns_below_lower998"]) == (above, below)
        if summary["is_adjusted"]:
            assert (
                summary["pcns_above_adjusted_upper998"],
                summary["pcns_below_adjusted_lower998"],
            ) == (above_adjusted, below_adjusted)
            # the adjustment is what it is for: far fewer PCNs stand out than differ from England
            assert above_adjusted + below_adjusted < (above + below) / 5
        assert math.isfinite(summary["phi"])
