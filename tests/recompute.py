"""Independent recomputation of indicators straight from the raw landed files.

Deliberately shares no code with the pipeline: plain csv parsing and statsmodels' Wilson interval.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import openpyxl
from statsmodels.stats.proportion import proportion_confint

MHP_SUFFIX = re.compile(r"\(Mental Health Practitioner - (Adult|Children and Young People)\)$")
OTHER_MENTAL_HEALTH = {
    "Mental Health and Wellbeing Practitioner",
    "Trainee Mental Health and Wellbeing Practitioner",
    "Community Mental Health Nurse",
    "NHS Talking Therapies Therapist",
    "Trainee NHS Talking Therapies Therapist",
    "Applied Psychologist \u2013 Clinical",
    "Clinical Associate in Psychology",
    "Therapist- Counsellor",
    "Peer Support Worker",
}


def workforce_group(detailed_role: str) -> set[str]:
    """The FTE indicators a staff record counts towards, from its detailed role alone."""
    role = detailed_role.strip()
    if MHP_SUFFIX.search(role):
        return {"mhp_fte_per_10k", "mh_roles_fte_per_10k"}
    if role in OTHER_MENTAL_HEALTH:
        return {"mh_roles_fte_per_10k"}
    return {
        "Social Prescribing Link Worker": {"splw_fte_per_10k"},
        "Health and Wellbeing Coach": {"hwbc_fte_per_10k"},
        "Care Coordinator": {"care_coordinator_fte_per_10k"},
    }.get(role, set())


WORKFORCE_INDICATORS = (
    "mhp_fte_per_10k",
    "mh_roles_fte_per_10k",
    "splw_fte_per_10k",
    "hwbc_fte_per_10k",
    "care_coordinator_fte_per_10k",
)
ALL_INDICATORS = {
    *WORKFORCE_INDICATORS,
    "mh_roles_fte_per_1k_mh_register",
    "smi_prevalence",
    "depression_prevalence",
    "list_size",
    "gp_fte_per_10k",
    "imd_score",
    "tt_referrals_per_100k",
    "tt_entered_treatment_per_100k",
    "tt_recovery_rate",
    "tt_reliable_improvement_rate",
    "tt_first_treatment_6wk_pct",
    "tt_first_treatment_18wk_pct",
}
# not in the bundled 2024-25 annual file (no Count_AccessingServices): every row must say
# "not available"
NOT_AVAILABLE = {"tt_entered_treatment_per_100k"}


def _rows(path: Path, encoding: str = "utf-8-sig") -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


def recompute(landing: Path) -> dict[tuple[str, str], dict]:
    """(pcn_code, indicator_id) -> value, limits and England value, from the raw files."""
    practice_map = _rows(landing / "gp_registrations/2026-01/gp-reg-pat-prac-map.csv")
    membership = {r["PRACTICE_CODE"]: r["PCN_CODE"] for r in practice_map}
    icb_of = {r["PRACTICE_CODE"]: r["ICB_CODE"] for r in practice_map}
    list_sizes = {
        r["CODE"]: int(r["NUMBER_OF_PATIENTS"])
        for r in _rows(landing / "gp_registrations/2026-03/gp-reg-pat-prac-all.csv")
    }
    qof_rows = _rows(landing / "qof/2025-03/PREVALENCE_2425.csv")
    workforce = _rows(
        landing / "pcn_workforce/2026-06/1.Primary Care Networks - June 2026 Individual Level.csv"
    )

    results: dict[tuple[str, str], dict] = {}

    for indicator, group, list_type in (
        ("smi_prevalence", "MH", "TOTAL"),
        ("depression_prevalence", "DEP", "18OV"),
    ):
        qof = [
            r for r in qof_rows if r["GROUP_CODE"] == group and r["PATIENT_LIST_TYPE"] == list_type
        ]
        register, lists = defaultdict(float), defaultdict(float)
        for r in qof:
            pcn = membership.get(r["PRACTICE_CODE"])
            if pcn and pcn != "U":
                register[pcn] += float(r["REGISTER"])
                lists[pcn] += float(r["PRACTICE_LIST_SIZE"])
        england = sum(float(r["REGISTER"]) for r in qof) / sum(
            float(r["PRACTICE_LIST_SIZE"]) for r in qof
        )
        for pcn, n in register.items():
            low95, up95 = proportion_confint(n, lists[pcn], alpha=0.05, method="wilson")
            low998, up998 = proportion_confint(n, lists[pcn], alpha=0.002, method="wilson")
            results[(pcn, indicator)] = {
                "value": 100 * n / lists[pcn],
                "lower_ci95": 100 * low95,
                "upper_ci95": 100 * up95,
                "lower_ci998": 100 * low998,
                "upper_ci998": 100 * up998,
                "england_value": 100 * england,
            }

    fte: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in workforce:
        value = float(r["FTE"])
        for indicator in workforce_group(r["DETAILED_STAFF_ROLE"]):
            if value >= 0:
                fte[indicator][r["PCN_CODE"]] += value
    # a PCN with no staff record in the census is not reported (no value), never 0
    in_census = {r["PCN_CODE"] for r in workforce}
    patients = defaultdict(int)
    for practice, pcn in membership.items():
        if pcn != "U" and practice in list_sizes:
            patients[pcn] += list_sizes[practice]
    england_patients = sum(list_sizes.values())
    for indicator in WORKFORCE_INDICATORS:
        england = 10000 * sum(fte[indicator].values()) / england_patients
        for pcn, n in patients.items():
            if pcn in in_census:
                results[(pcn, indicator)] = {
                    "value": 10000 * fte[indicator].get(pcn, 0.0) / n,
                    "england_value": england,
                }
    # mental-health-role FTE per 1,000 patients on the QOF MH and DEP registers combined
    registers: dict[str, float] = defaultdict(float)
    for r in qof_rows:
        if (r["GROUP_CODE"], r["PATIENT_LIST_TYPE"]) in (("MH", "TOTAL"), ("DEP", "18OV")):
            pcn = membership.get(r["PRACTICE_CODE"])
            if pcn and pcn != "U":
                registers[pcn] += float(r["REGISTER"])
    england_registers = sum(
        float(r["REGISTER"])
        for r in qof_rows
        if (r["GROUP_CODE"], r["PATIENT_LIST_TYPE"]) in (("MH", "TOTAL"), ("DEP", "18OV"))
    )
    mh_fte = fte["mh_roles_fte_per_10k"]
    for pcn, n in registers.items():
        if pcn in in_census and n > 0:
            results[(pcn, "mh_roles_fte_per_1k_mh_register")] = {
                "value": 1000 * mh_fte.get(pcn, 0.0) / n,
                "england_value": 1000 * sum(mh_fte.values()) / england_registers,
            }
    # England's registered patients: every practice in the list-size file
    for pcn, n in patients.items():
        results[(pcn, "list_size")] = {"value": n, "england_value": england_patients}

    # GP FTE per 10,000: the GP workforce file's own FTE and patients, practices with a figure
    gp_rows = _rows(
        landing
        / "gp_workforce/2026-05/1 General Practice \u2013 May 2026 Practice Level - Detailed.csv"
    )
    gp_fte, gp_patients = defaultdict(float), defaultdict(float)
    england_fte = england_gp_patients = 0.0
    for r in gp_rows:
        if r["TOTAL_GP_FTE"] in ("NA", "ND", "") or r["TOTAL_PATIENTS"] in ("NA", "ND", ""):
            continue
        if float(r["TOTAL_PATIENTS"]) <= 0:
            continue
        england_fte += float(r["TOTAL_GP_FTE"])
        england_gp_patients += float(r["TOTAL_PATIENTS"])
        pcn = membership.get(r["PRAC_CODE"])
        if pcn and pcn != "U":
            gp_fte[pcn] += float(r["TOTAL_GP_FTE"])
            gp_patients[pcn] += float(r["TOTAL_PATIENTS"])
    for pcn, n in gp_patients.items():
        results[(pcn, "gp_fte_per_10k")] = {
            "value": 10000 * gp_fte[pcn] / n,
            "england_value": 10000 * england_fte / england_gp_patients,
        }

    # IMD 2019: practice scores weighted by registered patients
    scores = {
        r["Area Code"]: float(r["Value"])
        for r in _rows(landing / "imd/2019-09/indicator-data.csv")
        if r["Area Type"] == "GP" and r["Value"]
    }
    weighted, weights = defaultdict(float), defaultdict(float)
    for practice, score in scores.items():
        if practice in list_sizes:
            pcn = membership.get(practice)
            if pcn and pcn != "U":
                weighted[pcn] += score * list_sizes[practice]
                weights[pcn] += list_sizes[practice]
    # England: OHID's own England score, the export's England row
    england_imd = next(
        float(r["Value"])
        for r in _rows(landing / "imd/2019-09/indicator-data.csv")
        if r["Area Type"] == "England"
    )
    for pcn, w in weights.items():
        results[(pcn, "imd_score")] = {"value": weighted[pcn] / w, "england_value": england_imd}

    # Talking Therapies: a PCN carries its ICB's annual figure (blended by registered patients
    # when its practices span ICBs); adults are the QOF 18OV lists of the ICB's practices
    adults_by_icb: dict[str, float] = defaultdict(float)
    all_adults = 0.0
    for r in qof_rows:
        if r["GROUP_CODE"] == "DEP" and r["PATIENT_LIST_TYPE"] == "18OV":
            all_adults += float(r["PRACTICE_LIST_SIZE"])
            if r["PRACTICE_CODE"] in icb_of:
                adults_by_icb[icb_of[r["PRACTICE_CODE"]]] += float(r["PRACTICE_LIST_SIZE"])
    annual = _rows(landing / "talking_therapies/2025-03/psych-ther-ann-rep-csv-2024-25-main2.csv")
    tt = {r["OrgCode"]: r for r in annual if r["VariableType"] == "Total"}
    # finished a course having waited up to 6 / 18 weeks from referral to first treatment: the
    # publisher's `Waiting Time` rows (VariableA 'Accessing services' in 2024-25)
    waited = {
        (r["OrgCode"], r["VariableB"]): float(r["Count_FinishedCourseTreatment"])
        for r in annual
        if r["VariableType"] == "Waiting Time"
        and r["VariableA"] == "Accessing services"
        and r["VariableB"] in ("<6 weeks", "<18 weeks")
    }
    england = next(r for r in tt.values() if r["OrgType"] == "England")

    def counts(row: dict, adults: float) -> dict[str, tuple[float, float]]:
        finished = float(row["Count_FinishedCourseTreatment"])
        return {
            "tt_referrals_per_100k": (float(row["Count_ReferralsReceived"]), adults),
            "tt_recovery_rate": (
                float(row["Count_Recovery"]),
                finished - float(row["Count_NotAtCaseness"]),
            ),
            "tt_reliable_improvement_rate": (float(row["Count_Improvement"]), finished),
            "tt_first_treatment_6wk_pct": (waited[(row["OrgCode"], "<6 weeks")], finished),
            "tt_first_treatment_18wk_pct": (waited[(row["OrgCode"], "<18 weeks")], finished),
        }

    scale = {
        "tt_referrals_per_100k": 100000,
        "tt_recovery_rate": 100,
        "tt_reliable_improvement_rate": 100,
        "tt_first_treatment_6wk_pct": 100,
        "tt_first_treatment_18wk_pct": 100,
    }
    england_counts = counts(england, all_adults)
    pcn_icb_weights: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for practice, pcn in membership.items():
        if pcn != "U" and practice in list_sizes:
            pcn_icb_weights[pcn][icb_of[practice]] += list_sizes[practice]
    # one ICB: that ICB's own count and rate; several: the mean of their rates weighted by the
    # PCN's registered patients in each (a blend, with no count of its own)
    for pcn, by_icb in pcn_icb_weights.items():
        total = sum(by_icb.values())
        icb_counts = {i: counts(tt[i], adults_by_icb[i]) for i in by_icb}
        for indicator, multiplier in scale.items():
            rate = 0.0
            for i, w in by_icb.items():
                numerator, denominator = icb_counts[i][indicator]
                rate += w * numerator / denominator
            num, den = england_counts[indicator]
            want = {"value": multiplier * rate / total, "england_value": multiplier * num / den}
            if len(by_icb) == 1:
                want["numerator"] = numerator
            results[(pcn, indicator)] = want
    return results


def latest_rows(rows: list[dict]) -> list[dict]:
    """Each indicator's latest period (the headline rows; earlier periods are the trend)."""
    latest: dict[str, str] = {}
    for r in rows:
        latest[r["indicator_id"]] = max(latest.get(r["indicator_id"], ""), r["period_start"])
    return [r for r in rows if r["period_start"] == latest[r["indicator_id"]]]


def recompute_splw_at(landing: Path, census: date, census_file: str, list_file: str) -> dict:
    """SPLW FTE per 10,000 at an earlier census: membership from ePCN's spells in force on the
    census date, list sizes from the given (nearest) registrations file."""
    book = openpyxl.load_workbook(landing / "ods_epcn/2025-01/ePCN.xlsx", read_only=True)
    spells: dict[str, tuple[date, str]] = {}
    for row in list(book["PCN Core Partner Details"].iter_rows(values_only=True))[1:]:
        practice, pcn, start, end = row[0], row[4], row[8], row[9]
        starts = date(int(start[:4]), int(start[4:6]), int(start[6:8]))
        ends = date(int(end[:4]), int(end[4:6]), int(end[6:8])) if end else None
        in_force = starts <= census and (ends is None or ends >= census)
        if in_force and (practice not in spells or (starts, pcn) > spells[practice]):
            spells[practice] = (starts, pcn)
    sizes = {r["CODE"]: int(r["NUMBER_OF_PATIENTS"]) for r in _rows(landing / list_file)}
    patients: dict[str, int] = defaultdict(int)
    for practice, (_, pcn) in spells.items():
        if practice in sizes:
            patients[pcn] += sizes[practice]
    fte: dict[str, float] = defaultdict(float)
    in_census: set[str] = set()
    for r in _rows(landing / census_file, "cp1252"):
        in_census.add(r["PCN_CODE"])
        link_worker = r["DETAILED_STAFF_ROLE"].strip() == "Social Prescribing Link Worker"
        if link_worker and float(r["FTE"]) >= 0:
            fte[r["PCN_CODE"]] += float(r["FTE"])
    england = 10000 * sum(fte.values()) / sum(sizes.values())
    # a PCN absent from the census is not reported: no value
    return {
        pcn: {"value": 10000 * fte.get(pcn, 0.0) / n, "england_value": england}
        for pcn, n in patients.items()
        if n > 0 and pcn in in_census
    }
