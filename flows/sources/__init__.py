"""Source readers: one module per publication; this registry says which landed file each reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flows.sources import gp_registrations, ods_epcn, pcn_workforce, qof
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
        lambda p, v: ods_epcn.read(p),
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
