"""Independent recomputation of indicators straight from the raw landed files.

Deliberately shares no code with the pipeline: plain csv parsing and statsmodels' Wilson interval.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

MHP_SUFFIX = re.compile(r"\(Mental Health Practitioner - (Adult|Children and Young People)\)$")


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def recompute(landing: Path) -> dict[tuple[str, str], dict]:
    """(pcn_code, indicator_id) -> value, limits and England value, from the raw files."""
    membership = {
        r["PRACTICE_CODE"]: r["PCN_CODE"]
        for r in _rows(landing / "gp_registrations/2026-01/gp-reg-pat-prac-map.csv")
    }
    list_sizes = {
        r["CODE"]: int(r["NUMBER_OF_PATIENTS"])
        for r in _rows(landing / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv")
    }
    qof = [r for r in _rows(landing / "qof/2025-03/PREVALENCE_2425.csv") if r["GROUP_CODE"] == "MH"]
    workforce = _rows(
        landing / "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv"
    )

    results: dict[tuple[str, str], dict] = {}

    register, lists = defaultdict(float), defaultdict(float)
    for r in qof:
        pcn = membership.get(r["PRACTICE_CODE"])
        if pcn and pcn != "U":
            register[pcn] += float(r["REGISTER"])
            lists[pcn] += float(r["PRACTICE_LIST_SIZE"])
    england_smi = sum(float(r["REGISTER"]) for r in qof) / sum(
        float(r["PRACTICE_LIST_SIZE"]) for r in qof
    )
    for pcn, n in register.items():
        low95, up95 = proportion_confint(n, lists[pcn], alpha=0.05, method="wilson")
        low998, up998 = proportion_confint(n, lists[pcn], alpha=0.002, method="wilson")
        results[(pcn, "smi_prevalence")] = {
            "value": 100 * n / lists[pcn],
            "lower_ci95": 100 * low95,
            "upper_ci95": 100 * up95,
            "lower_ci998": 100 * low998,
            "upper_ci998": 100 * up998,
            "england_value": 100 * england_smi,
        }

    fte = defaultdict(float)
    for r in workforce:
        if MHP_SUFFIX.search(r["DETAILED_STAFF_ROLE"].strip()) and float(r["FTE"]) >= 0:
            fte[r["PCN_CODE"]] += float(r["FTE"])
    patients = defaultdict(int)
    for practice, pcn in membership.items():
        if pcn != "U" and practice in list_sizes:
            patients[pcn] += list_sizes[practice]
    england_mhp = 10000 * sum(fte.values()) / sum(list_sizes.values())
    for pcn, n in patients.items():
        results[(pcn, "mhp_fte_per_10k")] = {
            "value": 10000 * fte.get(pcn, 0.0) / n,
            "england_value": england_mhp,
        }
    return results
