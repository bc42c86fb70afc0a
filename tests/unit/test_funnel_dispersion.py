"""Over-dispersion of PCN proportions on the funnel plots (int_pcn_funnel_limits): a worked example
computed here, independently of the project's SQL, with plain numpy and the published method:

- Spiegelhalter DJ (2005) "Funnel plots for comparing institutional performance", Stat Med
  24:1185-1202, with the choices NHS-R FunnelPlotR makes for proportions (data_type "PR"):
  z = (asin(sqrt(x/n)) - asin(sqrt(target))) / s with s = 1 / (2 sqrt(n)); z-scores winsorised at
  their 10th and 90th percentiles (R's default quantile, linear interpolation); phi = mean of the
  squared winsorised z-scores; tau2 = max(0, (N phi - (N - 1)) / (sum w - sum w^2 / sum w)),
  w = 1 / s^2 (0 when N phi < N - 1); adjusted limits sin(asin(sqrt(target)) -/+ z sqrt(s^2 +
  tau2))^2, truncated at 0 and 1; drawn only where phi > 1.
- The target is the England value (the centre line of the project's funnel plots).

The dbt unit test `funnel_adjustment_worked_example` (_intermediate__models.yml) feeds the same
PCNs to the model; this module checks that its expected rows are the ones computed here, and
renders the macros (statistics.sql) with plain Jinja to check them against the same formulas.
To print the expected rows again: .venv/bin/python -m tests.unit.test_funnel_dispersion
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STATISTICS = ROOT / "dbt_project" / "macros" / "statistics.sql"
MODELS_YML = ROOT / "dbt_project" / "models" / "intermediate" / "_intermediate__models.yml"
UNIT_TEST = "funnel_adjustment_worked_example"
Z = {95: 1.959963984540054, 99.8: 3.090232306167813}
LIMITS = [(95, "95"), (99.8, "998")]

pytestmark = pytest.mark.unit

# The worked example: England 10%; twelve PCNs with a value (so the 10th and 90th percentiles fall
# between two z-scores; one PCN has 0 of 10) and one suppressed (no count: on the limits, not on
# the plot, not in phi).
TARGET = 0.10
PCNS = [
    ("U00001", 1000, 20),
    ("U00002", 2000, 150),
    ("U00003", 5000, 450),
    ("U00004", 10000, 1000),
    ("U00005", 20000, 2100),
    ("U00006", 40000, 4400),
    ("U00007", 3000, 360),
    ("U00008", 8000, 1040),
    ("U00009", 15000, 1200),
    ("U00010", 50000, 9000),
    ("U00011", 30000, None),
    ("U00012", 10, 0),
    ("U00013", 25000, 2600),
]


def dispersion(n: np.ndarray, x: np.ndarray, target: float) -> dict:
    """phi and tau2 of proportions x/n around target, FunnelPlotR's way."""
    s = 1 / (2 * np.sqrt(n))
    z = (np.arcsin(np.sqrt(x / n)) - np.arcsin(np.sqrt(target))) / s
    lower_z, upper_z = np.quantile(z, [0.1, 0.9])  # numpy's default is R's type 7
    winsorised = np.where(z < lower_z, lower_z, np.where(z > upper_z, upper_z, z))
    count = len(z)
    phi = float(np.sum(winsorised**2) / count)
    w = 1 / s**2
    if count * phi < count - 1:
        tau2 = 0.0
    else:
        tau2 = max(0.0, (count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return {
        "z": dict(zip(range(count), z, strict=True)),
        "phi": phi,
        "tau2": float(tau2),
        "winsor_lower_z": float(lower_z),
        "winsor_upper_z": float(upper_z),
        "count": count,
    }


def adjusted_limit(n: float, target: float, tau2: float, level: float, side: str) -> float:
    """As FunnelPlotR's calculate_limits() for "PR", truncated at 0 and 1 (a proportion)."""
    sign = -1 if side == "lower" else 1
    angle = math.asin(math.sqrt(target)) + sign * Z[level] * math.sqrt(1 / (4 * n) + tau2)
    if angle <= 0:
        return 0.0
    if angle >= math.pi / 2:
        return 1.0
    return math.sin(angle) ** 2


def unadjusted_limit(n: float, target: float, level: float, side: str) -> float:
    sign = -1 if side == "lower" else 1
    return min(1.0, max(0.0, target + sign * Z[level] * math.sqrt(target * (1 - target) / n)))


def _outlier(value: float | None, lower: float, upper: float) -> str | None:
    if value is None:
        return None
    return "high" if value > upper else "low" if value < lower else "none"


def worked_example() -> dict[str, dict]:
    """Expected model rows of the example, by PCN code (display units: percent)."""
    plotted = [(code, n, x) for code, n, x in PCNS if x is not None]
    stats = dispersion(
        np.array([n for _, n, _ in plotted], float),
        np.array([x for _, _, x in plotted], float),
        TARGET,
    )
    z_of = {code: stats["z"][i] for i, (code, _, _) in enumerate(plotted)}
    rows = {}
    for code, n, x in PCNS:
        value = None if x is None else 100 * x / n
        row: dict = {
            "z_score": None if x is None else round(z_of[code], 10),
            "pcn_count": stats["count"],
            "phi": round(stats["phi"], 10),
            "tau2": round(stats["tau2"], 14),
            "winsor_lower_z": round(stats["winsor_lower_z"], 10),
            "winsor_upper_z": round(stats["winsor_upper_z"], 10),
            "is_adjusted": stats["phi"] > 1,
        }
        for level, suffix in LIMITS:
            for side in ("lower", "upper"):
                row[f"funnel_{side}{suffix}"] = round(
                    100 * unadjusted_limit(n, TARGET, level, side), 10
                )
                row[f"adjusted_funnel_{side}{suffix}"] = round(
                    100 * adjusted_limit(n, TARGET, stats["tau2"], level, side), 10
                )

        row["funnel_outlier"] = _outlier(
            value, row["adjusted_funnel_lower998"], row["adjusted_funnel_upper998"]
        )
        row["unadjusted_funnel_outlier"] = _outlier(
            value, row["funnel_lower998"], row["funnel_upper998"]
        )
        rows[code] = row
    return rows


def _unit_test() -> dict:
    spec = yaml.safe_load(MODELS_YML.read_text(encoding="utf-8"))
    (test,) = [t for t in spec["unit_tests"] if t["name"] == UNIT_TEST]
    return test


def test_the_example_is_over_dispersed_and_winsorising_matters():
    rows = worked_example()
    stats = rows["U00004"]
    assert stats["phi"] > 1 and stats["tau2"] > 0 and stats["is_adjusted"]
    # the two extreme PCNs are pulled in to the 10th / 90th percentiles before phi
    assert rows["U00010"]["z_score"] > stats["winsor_upper_z"]
    assert rows["U00001"]["z_score"] < stats["winsor_lower_z"]
    # unadjusted, most PCNs are outliers; adjusted, only the two extremes are
    unadjusted = {c for c, r in rows.items() if r["unadjusted_funnel_outlier"] in ("high", "low")}
    adjusted = {c: r["funnel_outlier"] for c, r in rows.items() if r["funnel_outlier"] != "none"}
    assert len(unadjusted) == 7
    assert adjusted == {"U00001": "low", "U00010": "high", "U00011": None}
    assert rows["U00012"]["adjusted_funnel_lower998"] == 0.0  # the angle passes 0: truncated


def test_the_dbt_unit_test_expects_the_rows_computed_here():
    test = _unit_test()
    given = {g["input"]: g for g in test["given"]}
    counts = {
        r["geography_code"]: (r["denominator"], r.get("numerator"))
        for r in given["ref('int_indicator_values')"]["rows"]
        if r["indicator_id"] == "p_test"
        and r["geography_type"] == "pcn"
        and r["geography_level"] == "pcn"
    }
    assert counts == {code: (n, x) for code, n, x in PCNS}
    expected = worked_example()
    rows = [r for r in test["expect"]["rows"] if r["indicator_id"] == "p_test"]
    assert {r["pcn_code"] for r in rows} == set(expected)
    for row in rows:
        want = expected[row["pcn_code"]]
        for column, value in row.items():
            if column in ("pcn_code", "indicator_id"):
                continue
            if isinstance(value, float):
                assert value == pytest.approx(want[column], abs=1e-9), (row["pcn_code"], column)
            else:
                assert value == want[column], (row["pcn_code"], column)


class _CompilerError(Exception):
    pass


def _raise(message: str) -> None:
    raise _CompilerError(message)


def render(
    expression: str,
    names: tuple[str, ...] = ("arcsine_z", "adjusted_funnel_limit", "funnel_limit"),
    **variables: object,
) -> str:
    """An expression rendered with the project's statistics macros (plain Jinja, no dbt)."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(STATISTICS.read_text(encoding="utf-8")).make_module(
        {"exceptions": {"raise_compiler_error": _raise}}
    )
    return env.from_string(expression).render(
        **{name: getattr(module, name) for name in names}, **variables
    )


@pytest.mark.parametrize("level", [95, 99.8])
def test_the_macros_give_the_independent_formulas(level: float):
    tau2 = worked_example()["U00004"]["tau2"]
    cases = [(n, x) for _, n, x in PCNS if x is not None] + [(3, 0), (5, 5), (1_000_000, 1)]
    sql = render(
        "select n, x, {{ arcsine_z('x', 'n', 't') }}, "
        "{{ adjusted_funnel_limit('t', 'n', 'tau2', level, 'lower') }}, "
        "{{ adjusted_funnel_limit('t', 'n', 'tau2', level, 'upper') }}, "
        "{{ funnel_limit(\"'wilson'\", 't', 'n', level, 'lower') }}, "
        "{{ funnel_limit(\"'wilson'\", 't', 'n', level, 'upper') }} "
        "from (select unnest(?::double[]) as n, unnest(?::double[]) as x, ?::double as t, "
        "?::double as tau2)",
        level=level,
    )
    rows = (
        duckdb.connect()
        .execute(sql, [[n for n, _ in cases], [x for _, x in cases], TARGET, tau2])
        .fetchall()
    )
    assert len(rows) == len(cases)
    for n, x, z, lower, upper, funnel_lower, funnel_upper in rows:
        expected_z = (math.asin(math.sqrt(x / n)) - math.asin(math.sqrt(TARGET))) * 2 * math.sqrt(n)
        assert z == pytest.approx(expected_z, rel=1e-12, abs=1e-12), n
        assert lower == pytest.approx(adjusted_limit(n, TARGET, tau2, level, "lower"), abs=1e-14)
        assert upper == pytest.approx(adjusted_limit(n, TARGET, tau2, level, "upper"), abs=1e-14)
        assert funnel_lower == pytest.approx(unadjusted_limit(n, TARGET, level, "lower"), abs=1e-14)
        assert funnel_upper == pytest.approx(unadjusted_limit(n, TARGET, level, "upper"), abs=1e-14)
    # tiny denominators: the limits stop at 0 and 1 rather than folding back
    tiny = {n: (lower, upper) for n, _, _, lower, upper, _, _ in rows}
    assert tiny[3][0] == 0.0 and 0 < tiny[3][1] <= 1


def test_without_a_target_or_a_denominator_there_is_no_limit():
    sql = render(
        "select {{ adjusted_funnel_limit('t', 'n', '0.001', 95, 'lower') }}, "
        "{{ arcsine_z('1', 'n', 't') }} "
        "from (values (null::double, 100.0), (0.1, 0.0), (0.1, null)) v(t, n)"
    )
    assert duckdb.connect().execute(sql).fetchall() == [(None, None)] * 3


def expected_yaml_rows() -> str:
    """The unit test's expected rows of the example, as _intermediate__models.yml lists them."""
    columns = [
        "z_score",
        "adjusted_funnel_lower95",
        "adjusted_funnel_upper95",
        "adjusted_funnel_lower998",
        "adjusted_funnel_upper998",
        "funnel_outlier",
        "unadjusted_funnel_outlier",
        "phi",
        "tau2",
        "winsor_lower_z",
        "winsor_upper_z",
        "is_adjusted",
    ]

    def cell(value: object) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return str(value).lower()
        return repr(float(value)) if isinstance(value, float) else str(value)

    lines = []
    for code, row in worked_example().items():
        cells = ", ".join(f"{c}: {cell(row[c])}" for c in columns)
        lines.append(f"        - {{pcn_code: {code}, indicator_id: p_test, {cells}}}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(expected_yaml_rows())
