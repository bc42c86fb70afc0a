"""Source readers: one module per publication; this registry says which landed file each reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
from flows.sources.base import ReaderError, ReadResult

__all__ = ["PRODUCTS", "Product", "ReadResult", "ReaderError", "product_for_file"]


@dataclass(frozen=True)
class Product:
    """One published product of a source, recognised in the landing zone by its file name."""

    source: str
    product: str
    file_patterns: tuple[str, ...]
    """Regexes on landed file names, best first (an extracted CSV before the zip it came from)."""
    read: Callable[[Path, str], ReadResult]
    """Reader: (path, vintage) -> normalised tables."""
    label: str
    publisher: str

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
    ),
    Product(
        "gp_registrations",
        "prac_all",
        (r"^gp-reg-pat-prac-all\.csv$", r"^gp-reg-pat-prac-all\.zip$"),
        lambda p, v: gp_registrations.read_prac_all(p),
        "Patients Registered at a GP Practice: list sizes",
        "NHS England",
    ),
    Product(
        "gp_registrations",
        "prac_map",
        (r"^gp-reg-pat-prac-map\.csv$", r"^gp-reg-pat-prac-map\.zip$"),
        lambda p, v: gp_registrations.read_prac_map(p),
        "Patients Registered at a GP Practice: practice map",
        "NHS England",
    ),
    Product(
        "pcn_workforce",
        "individual",
        (r"Primary Care Networks.*Individual Level\.csv$", r"^PCNWFIndividualCSV\.\d{6}\.zip$"),
        lambda p, v: pcn_workforce.read(p),
        "Primary Care Network Workforce (individual level)",
        "NHS England",
    ),
    Product(
        "qof",
        "prevalence",
        (r"^PREVALENCE_\d+(_v\d+)?\.csv$",),
        qof.read,
        "Quality and Outcomes Framework: prevalence",
        "NHS England",
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
    ),
    Product(
        "talking_therapies",
        "annual",
        (
            r"^psych-ther-ann-rep-csv-\d{4}-\d{2}-main.*\.csv$",
            r"^psych-ther-ann.*\d{4}-\d{2}.*\.zip$",
        ),
        lambda p, v: talking_therapies.read_annual(p, talking_therapies.year_of_vintage(v)),
        "NHS Talking Therapies annual report: main measures",
        "NHS England",
    ),
)

PRODUCTS += (
    Product(
        "ods_epraccur",
        "epraccur",
        (r"^epraccur\.csv$", r"^epraccur\.zip$"),
        lambda p, v: ods_epraccur.read(p, v),
        "ODS epraccur (GP practices and their status)",
        "NHS England, Organisation Data Service",
    ),
    Product(
        "imd",
        "practice_scores",
        (r"^indicator-data\.csv$",),
        lambda p, v: imd.read(p),
        "Index of Multiple Deprivation 2019 score by GP practice (Fingertips 93553)",
        "Office for Health Improvement and Disparities (Fingertips)",
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


def product_for_file(source: str, name: str) -> Product | None:
    for product in PRODUCTS:
        if product.source == source and product.matches(name) is not None:
            return product
    return None
