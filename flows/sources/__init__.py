"""Source readers: one module per publication; this registry says which landed file each reads."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from flows.sources import (
    gp_registrations,
    gp_workforce,
    imd,
    ods_epcn,
    ods_epraccur,
    pcn_workforce,
    qof,
    talking_therapies,
)
from flows.sources.base import ReaderError, ReadResult, clean_header, decode_bytes

__all__ = ["PRODUCTS", "Product", "ReadResult", "ReaderError", "identify"]


@dataclass(frozen=True)
class Product:
    """One published product of a source, recognised in the landing zone by its file name."""

    source: str
    product: str
    file_patterns: tuple[str, ...]
    """Regexes on landed file names, best first (an extracted CSV before the zip it came from)."""
    read: Callable[[Path, str | None], ReadResult]
    """Reader: (path, vintage or None when unknown) -> normalised tables."""
    label: str
    publisher: str
    tables: dict[str, pa.Schema] = field(default_factory=dict)
    """Normalised tables the reader writes, with their schemas (empty ones stand in for a
    product with no vintage landed on or before the period)."""
    header_signature: frozenset[str] = frozenset()
    """Header cells that identify the product when the file was renamed (inspect)."""
    series: bool = False
    """Every landed vintage on or before the period is read (for trends), not only the latest."""
    table_prefix: str = ""
    """Prefix of the Parquet table names where two products of a source share table names."""

    def parquet_name(self, table: str) -> str:
        return f"{self.source}__{self.table_prefix}{table}"

    def matches(self, name: str) -> int | None:
        """Preference rank of a file name for this product, or None."""
        for rank, pattern in enumerate(self.file_patterns):
            if re.search(pattern, name, re.I):
                return rank
        return None


PRODUCTS: tuple[Product, ...] = (
    Product(
        "ods_epcn",
        "epcn",
        (r"^epcn\.xlsx$", r"^epcn\.zip$"),
        lambda p, v: ods_epcn.read(p, v),
        "ODS ePCN (PCNs and practice-to-PCN relationships)",
        "NHS England, Organisation Data Service",
        {"pcns": ods_epcn._PCN_SCHEMA, "relationships": ods_epcn._REL_SCHEMA},
    ),
    Product(
        "gp_registrations",
        "prac_all",
        (r"^gp-reg-pat-prac-all\.csv$", r"^gp-reg-pat-prac-all\.zip$"),
        lambda p, v: gp_registrations.read_prac_all(p),
        "Patients Registered at a GP Practice: list sizes",
        "NHS England",
        {"list_sizes": gp_registrations.LIST_SIZES_SCHEMA},
        header_signature=frozenset({"CODE", "NUMBER_OF_PATIENTS", "SEX", "AGE"}),
        series=True,
    ),
    Product(
        "gp_registrations",
        "prac_map",
        (r"^gp-reg-pat-prac-map\.csv$", r"^gp-reg-pat-prac-map\.zip$"),
        lambda p, v: gp_registrations.read_prac_map(p),
        "Patients Registered at a GP Practice: practice map",
        "NHS England",
        {"practice_mappings": gp_registrations.PRAC_MAP_SCHEMA},
        header_signature=frozenset({"PRACTICE_CODE", "PCN_CODE", "EXTRACT_DATE"}),
    ),
    Product(
        "pcn_workforce",
        "individual",
        (r"Primary Care Networks.*Individual Level\.csv$", r"^PCNWFIndividualCSV\.\d{6}\.zip$"),
        lambda p, v: pcn_workforce.read(p),
        "Primary Care Network Workforce (individual level)",
        "NHS England",
        {"staff_records": pcn_workforce.SCHEMA},
        header_signature=frozenset({"STAFF_ROLE", "DETAILED_STAFF_ROLE", "FTE"}),
        series=True,
    ),
    Product(
        "qof",
        "prevalence",
        (r"^PREVALENCE_\d+(_v\d+)?\.csv$",),
        lambda p, v: qof.read(p, v or qof_vintage_from_name(p)),
        "Quality and Outcomes Framework: prevalence",
        "NHS England",
        {"prevalence": qof.SCHEMA},
        header_signature=frozenset(
            {"PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE"}
        ),
    ),
)

PRODUCTS += (
    Product(
        "talking_therapies",
        "monthly",
        (r"^nhstalkingtherapies_month_[a-z]{3}_\d{4}_activity_(performance|final)\.csv$",),
        lambda p, v: talking_therapies.read_monthly(p),
        "NHS Talking Therapies: monthly activity and performance",
        "NHS England",
        {
            "measures": talking_therapies.MONTHLY_SCHEMA,
            "unknown_group_types": talking_therapies.UNKNOWN_GROUPS_SCHEMA,
        },
        header_signature=frozenset({"GROUP_TYPE", "MEASURE_ID", "MEASURE_NAME"}),
        table_prefix="monthly_",
    ),
    Product(
        "talking_therapies",
        "annual",
        (
            r"^psych-ther-ann-rep-csv-\d{4}-\d{2}-main.*\.csv$",
            r"^psych-ther-ann.*\d{4}-\d{2}.*\.zip$",
        ),
        lambda p, v: talking_therapies.read_annual(
            p, talking_therapies.year_of_vintage(v) if v else None
        ),
        "NHS Talking Therapies annual report: main measures",
        "NHS England",
        {
            "measures": talking_therapies.ANNUAL_SCHEMA,
            "unknown_org_types": talking_therapies.UNKNOWN_ORGS_SCHEMA,
        },
        header_signature=frozenset({"OrgType", "OrgCode", "VariableType", "VariableA"}),
        table_prefix="annual_",
    ),
)

PRODUCTS += (
    Product(
        "gp_registrations",
        "quin_age",
        (r"^gp-reg-pat-prac-quin-age\.csv$", r"^gp-reg-pat-prac-quin-age\.zip$"),
        lambda p, v: gp_registrations.read_quin_age(p),
        "Patients Registered at a GP Practice: 5-year age bands by sex",
        "NHS England",
        {"age_bands": gp_registrations.QUIN_AGE_SCHEMA},
        header_signature=frozenset({"ORG_TYPE", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"}),
    ),
    Product(
        "ods_epraccur",
        "epraccur",
        (r"^epraccur\.csv$", r"^epraccur\.zip$"),
        lambda p, v: ods_epraccur.read(p, v),
        "ODS epraccur (GP practices and their status)",
        "NHS England, Organisation Data Service",
        {"practices": ods_epraccur.SCHEMA},
    ),
    Product(
        "imd",
        "practice_scores",
        (r"^indicator-data\.csv$",),
        lambda p, v: imd.read(p),
        "Index of Multiple Deprivation 2019 score by GP practice (Fingertips 93553)",
        "Office for Health Improvement and Disparities (Fingertips)",
        {"practice_scores": imd.SCHEMA, "england_scores": imd.ENGLAND_SCHEMA},
        header_signature=frozenset({"Indicator ID", "Area Code", "Area Type", "Value"}),
    ),
    Product(
        "gp_workforce",
        "practice_detailed",
        (
            r"General Practice.*Practice Level( - Detailed)?\.csv$",
            r"^GPWPracticeCSV\.\d{4}(\d{2})?\.zip$",
        ),
        lambda p, v: gp_workforce.read(p, v),
        "General Practice Workforce (practice level, detailed)",
        "NHS England",
        {"practice_fte": gp_workforce.SCHEMA, "missing_markers": gp_workforce.MISSING_SCHEMA},
        header_signature=frozenset({"PRAC_CODE", "TOTAL_GP_FTE", "TOTAL_PATIENTS"}),
    ),
)

SOURCES: tuple[str, ...] = (
    "ods_epcn",
    "ods_epraccur",
    "gp_registrations",
    "pcn_workforce",
    "gp_workforce",
    "talking_therapies",
    "qof",
    "imd",
)


def qof_vintage_from_name(path: Path) -> str:
    """QOF vintage (the March its year ends) from a name like PREVALENCE_2425.csv."""
    found = re.search(r"PREVALENCE_(\d{2})(\d{2})", path.name)
    if not found:
        raise ReaderError(path, "no QOF year in the file name and no vintage given")
    return f"20{found.group(2)}-03"


def _first_line(path: Path) -> list[str]:
    """Header cells of a CSV (or of the first CSV inside a zip), folded; [] if not text."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
                if not names:
                    return []
                with zf.open(names[0]) as fh:
                    raw = fh.readline()
        else:
            with path.open("rb") as fh:
                raw = fh.readline()
        text, _ = decode_bytes(raw, path)
    except (OSError, zipfile.BadZipFile, ReaderError):
        return []
    return [clean_header(c) for c in next(csv.reader([text.strip()]), [])]


def _is_epcn_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "xl/workbook.xml" in names:
                return b"PCN Core Partner Details" in zf.read("xl/workbook.xml")
            return any(n.lower().endswith("epcn.xlsx") for n in names)
    except (OSError, zipfile.BadZipFile):
        return False


def identify(path: Path) -> Product | None:
    """The product a file is: by its published name, else by its contents (renamed copies)."""
    ranked = [(rank, p) for p in PRODUCTS if (rank := p.matches(path.name)) is not None]
    if ranked:
        return min(ranked, key=lambda rp: rp[0])[1]
    if zipfile.is_zipfile(path) and _is_epcn_workbook(path):
        return next(p for p in PRODUCTS if p.source == "ods_epcn")
    cells = _first_line(path)
    for product in PRODUCTS:
        if product.header_signature and product.header_signature <= set(cells):
            return product
    # epraccur has no header: 27 fields, the first a practice-like code
    if len(cells) == 27 and re.fullmatch(r"[A-Z0-9]{3,6}", cells[0] or ""):
        return next(p for p in PRODUCTS if p.source == "ods_epraccur")
    return None
