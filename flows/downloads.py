"""The data downloads: each published table as CSV, Parquet and ODS, and a dictionary of every
column (docs/ARCHITECTURE.md "Outputs"). One query per table feeds all three formats, so they hold
the same rows in the same order. Identical inputs give byte-identical files: numbers carry 12
significant digits (as in the CSV), archives (Parquet has none; ODS is a zip) carry fixed
timestamps.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

# ---------------------------------------------------------------------------------------------
# Cells

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet could run as a formula is shown as text instead (numbers stay numbers)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def round12(value: float) -> float:
    """12 significant digits (at most 10 decimals): more than any source's precision, and never
    the last bits of a double, which depend on the order numbers were added."""
    return float(f"{round(value, 10):.12g}")


def csv_cell(value: Any) -> str:
    """CSV cells for people and spreadsheets: integers without '.0', text never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        value = round12(value)
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def column_formatters(fmt: Callable[[Any], str], width: int) -> list[Callable[[Any], str]]:
    """One memoised formatter per column: most cells of a download repeat a value already seen
    in their column (codes, names, periods, benchmarks), and a column holds one type, so equal
    values format the same."""

    def memoised() -> Callable[[Any], str]:
        seen: dict[Any, str] = {}

        def cell(value: Any) -> str:
            text = seen.get(value)
            if text is None:
                text = seen[value] = fmt(value)
            return text

        return cell

    return [memoised() for _ in range(width)]


# ---------------------------------------------------------------------------------------------
# Tables and their dictionary


@dataclass(frozen=True)
class Download:
    name: str
    """File stem under data/."""
    sql: str
    formats: tuple[str, ...]
    description: str


DOWNLOADS = (
    Download(
        "indicators",
        "select * from fct_pcn_indicators order by pcn_code, indicator_id, period_start",
        ("csv", "parquet", "ods"),
        "One row per PCN x indicator x period.",
    ),
    Download(
        "icb_indicators",
        "select * from fct_icb_indicators order by icb_code, indicator_id, period_start",
        ("csv", "parquet", "ods"),
        "One row per ICB x indicator x period.",
    ),
    Download(
        "funnel_dispersion",
        "select * from fct_funnel_dispersion order by indicator_id, period_start",
        ("csv",),
        "Over-dispersion of PCNs on each funnel plot (phi, tau2) and the PCNs outside its limits.",
    ),
    Download(
        "practice_pcn_lookup",
        "select * from dim_practices order by practice_code",
        ("csv",),
        "The practice-to-PCN lookup used for the period.",
    ),
)

_VALUE_UNIT = "the indicator's display unit (column unit)"

# name: (description, unit). A column missing here stops the run (every column is explained).
COLUMNS: dict[str, tuple[str, str]] = {
    "pcn_code": ("ODS code of the Primary Care Network", ""),
    "pcn_name": ("PCN name as the membership source writes it", ""),
    "icb_code": ("ODS code of the Integrated Care Board the PCN (or practice) belongs to", ""),
    "icb_name": ("Integrated Care Board name", ""),
    "sub_icb_code": ("ODS code of the sub-ICB location (former CCG)", ""),
    "indicator_id": ("Indicator identifier; definitions on methods.html", ""),
    "period_start": ("First day of the period the figure covers", "date"),
    "period_end": ("Last day of the period the figure covers", "date"),
    "numerator": (
        "Count (or FTE for workforce indicators) as counted; for an attributed figure the "
        "area's own count, empty for a blend of areas",
        "count or FTE",
    ),
    "denominator": ("Population or count the numerator is divided by", "count"),
    "value": ("The indicator value (numerator / denominator x multiplier)", _VALUE_UNIT),
    "lower_ci95": ("Lower 95% confidence limit (Wilson or Byar)", _VALUE_UNIT),
    "upper_ci95": ("Upper 95% confidence limit", _VALUE_UNIT),
    "lower_ci998": ("Lower 99.8% confidence limit", _VALUE_UNIT),
    "upper_ci998": ("Upper 99.8% confidence limit", _VALUE_UNIT),
    "england_value": ("England value for the same indicator and period", _VALUE_UNIT),
    "icb_value": ("Value for the PCN's ICB", _VALUE_UNIT),
    "peer_group_value": ("Pooled value of the PCN's 10 most similar PCNs", _VALUE_UNIT),
    "pcn_median_value": (
        "Median of all PCNs with a value (the benchmark for context counts, whose England value "
        "is a total); empty for attributed area figures",
        _VALUE_UNIT,
    ),
    "compared_to_england": (
        "The PCN's own value against England: higher / lower when its 95% interval excludes "
        "England, else similar; not compared without an interval and for attributed area figures",
        "",
    ),
    "area_compared_to_england": (
        "Attributed (area) figures only: the area's own comparison with England from the area's "
        "own interval; not compared for a blend of areas; empty for PCN-level figures",
        "",
    ),
    "percentile_rank": (
        "Indicators without an interval: share of PCNs with a value whose value is strictly "
        "lower (ties share a rank)",
        "percent (0-100)",
    ),
    "geography_code": (
        "Whose figure it is: the PCN's code, or the sub-ICB / ICB code it is attributed from "
        "(several joined by '+', largest share first, for a blend); empty with no figure",
        "",
    ),
    "geography_name": ("Name of that PCN or area (areas joined by ' + ')", ""),
    "compared_to_icb": ("As compared_to_england, against the ICB value", ""),
    "compared_to_peers": ("As compared_to_england, against the peer group value", ""),
    "quintile": (
        "IMD only: quintile by OHID's method for deprivation categories (1 the most deprived "
        "fifth of PCNs, 5 the least)",
        "",
    ),
    "funnel_lower95": (
        "Funnel plot 95% lower limit around England for this denominator",
        _VALUE_UNIT,
    ),
    "funnel_upper95": ("Funnel plot 95% upper limit", _VALUE_UNIT),
    "funnel_lower998": ("Funnel plot 99.8% lower limit", _VALUE_UNIT),
    "funnel_upper998": ("Funnel plot 99.8% upper limit", _VALUE_UNIT),
    "adjusted_funnel_lower95": (
        "Over-dispersion-adjusted (random-effects) funnel plot 95% lower limit around England for "
        "this denominator; proportions whose PCNs are over-dispersed (phi > 1) only",
        _VALUE_UNIT,
    ),
    "adjusted_funnel_upper95": (
        "Over-dispersion-adjusted funnel plot 95% upper limit",
        _VALUE_UNIT,
    ),
    "adjusted_funnel_lower998": (
        "Over-dispersion-adjusted funnel plot 99.8% lower limit",
        _VALUE_UNIT,
    ),
    "adjusted_funnel_upper998": (
        "Over-dispersion-adjusted funnel plot 99.8% upper limit",
        _VALUE_UNIT,
    ),
    "funnel_outlier": (
        "high / low: above / below the adjusted 99.8% funnel limits (the unadjusted ones where "
        "there is no adjustment), so the PCN stands out from other PCNs; none: within them; "
        "empty when the PCN is not on a funnel plot",
        "",
    ),
    "method": ("Confidence interval method: wilson (a proportion) or byar (a rate of events)", ""),
    "pcn_count": ("Number of PCNs on the funnel plot (with a published value)", "PCNs"),
    "phi": (
        "Over-dispersion factor: mean squared z-score of the PCNs (arcsine-square-root scale, "
        "around England) after winsorising at 10% in each tail; 1 is chance alone",
        "ratio",
    ),
    "tau2": (
        "Between-PCN variance (DerSimonian-Laird additive form) added to each PCN's own "
        "variance by the adjusted limits",
        "arcsine-square-root scale (radians squared)",
    ),
    "winsor_lower_z": ("10th percentile of the z-scores (lower ones raised to it)", "z-score"),
    "winsor_upper_z": ("90th percentile of the z-scores (higher ones lowered to it)", "z-score"),
    "is_adjusted": ("true when phi > 1: the plot draws the adjusted limits", ""),
    "pcns_above_upper998": ("PCNs above the unadjusted 99.8% upper funnel limit", "PCNs"),
    "pcns_below_lower998": ("PCNs below the unadjusted 99.8% lower funnel limit", "PCNs"),
    "pcns_above_adjusted_upper998": (
        "PCNs above the adjusted 99.8% upper funnel limit; empty when not adjusted",
        "PCNs",
    ),
    "pcns_below_adjusted_lower998": (
        "PCNs below the adjusted 99.8% lower funnel limit; empty when not adjusted",
        "PCNs",
    ),
    "geography_level": ("Where the figure is measured: pcn, sub_icb or icb", ""),
    "is_suppressed": ("true when a count of 1 to 4 (or its complement) is withheld", ""),
    "is_synthetic_source": ("true when any input to the figure is synthetic", ""),
    "unit": ("Display unit of value and its limits", ""),
    "source_status": ("real, rebuilt (real figures re-serialised) or synthetic", ""),
    "practice_code": ("ODS code of the GP practice", ""),
    "practice_name": ("Practice name", ""),
    "registered_patients": ("Patients registered at the practice", "patients"),
    "membership_source": ("Source deciding PCN membership: gp_registrations or ods_epcn", ""),
    "membership_vintage": ("Landed vintage (YYYY-MM) of the membership source", ""),
}

_TYPE_WORDS = {
    "VARCHAR": "text",
    "DOUBLE": "number",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "DATE": "date (YYYY-MM-DD)",
    "BOOLEAN": "true/false",
}
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
}


class DictionaryError(ValueError):
    """A download has a column the dictionary does not explain."""


# ---------------------------------------------------------------------------------------------
# Writers


def _atomic(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")


def _publish(tmp: str, path: Path) -> None:
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_csv(names: list[str], rows: list[tuple], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    cells = column_formatters(csv_cell, len(names))
    for row in rows:
        writer.writerow([cell(v) for cell, v in zip(cells, row, strict=True)])
    fd, tmp = _atomic(path)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(buffer.getvalue())
    _publish(tmp, path)


def write_parquet(names: list[str], types: list[str], rows: list[tuple], path: Path) -> None:
    columns = []
    for i, type_name in enumerate(types):
        values = [row[i] for row in rows]
        if type_name == "DOUBLE":
            values = [None if v is None or v != v else round12(v) for v in values]
        columns.append(pa.array(values, _ARROW_TYPES[type_name]))
    table = pa.Table.from_arrays(columns, names=names)
    fd, tmp = _atomic(path)
    os.close(fd)
    pq.write_table(table, tmp, compression="zstd")
    _publish(tmp, path)


# ODS: a zip of XML parts. odfpy (which pandas' ODS writer uses) builds a DOM: measured here at
# about 12 s per 1,000 rows of 30 columns, over 15 minutes for indicators.ods. So the sheet's XML
# is streamed into the zip instead, with the parts the OpenDocument 1.2 package format requires.
_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip timestamps: identical inputs, identical bytes
_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'office:version="1.2"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODS_MIME}" '
    'manifest:version="1.2"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {_NS}>'
    "<office:styles/></office:document-styles>"
)


def _ods_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "<table:table-cell/>"
    if isinstance(value, bool):
        word = "true" if value else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{word}">'
            f"<text:p>{word.upper()}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        text = csv_cell(value)
        return (
            f'<table:table-cell office:value-type="float" office:value="{text}">'
            f"<text:p>{text}</text:p></table:table-cell>"
        )
    if isinstance(value, date):
        text = value.isoformat()
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{text}" '
            f'table:style-name="date"><text:p>{text}</text:p></table:table-cell>'
        )
    text = escape(neutralise(str(value)))
    return (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )


def write_ods(sheet: str, names: list[str], rows: list[tuple], path: Path) -> None:
    fd, tmp = _atomic(path)
    os.close(fd)
    with zipfile.ZipFile(tmp, "w") as archive:
        # the mimetype comes first and uncompressed, so tools recognise the package by its bytes
        archive.writestr(zipfile.ZipInfo("mimetype", _FIXED_TIME), _ODS_MIME, zipfile.ZIP_STORED)
        for part, text in (("META-INF/manifest.xml", _MANIFEST), ("styles.xml", _STYLES)):
            archive.writestr(zipfile.ZipInfo(part, _FIXED_TIME), text, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("content.xml", _FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
            out.write(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_NS} '
                'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0">'
                "<office:automatic-styles>"
                '<number:date-style style:name="iso-date"><number:year number:style="long"/>'
                "<number:text>-</number:text>"
                '<number:month number:style="long"/><number:text>-</number:text>'
                '<number:day number:style="long"/></number:date-style>'
                '<style:style style:name="date" style:family="table-cell" '
                'style:data-style-name="iso-date"/></office:automatic-styles>'
                f"<office:body><office:spreadsheet><table:table table:name={quoteattr(sheet)}>"
                "<table:table-header-rows><table:table-row>"
            )
            out.write("".join(_ods_cell(name) for name in names))
            out.write("</table:table-row></table:table-header-rows>")
            cells = column_formatters(_ods_cell, len(names))
            for row in rows:
                out.write("<table:table-row>")
                out.write("".join([cell(v) for cell, v in zip(cells, row, strict=True)]))
                out.write("</table:table-row>")
            out.write("</table:table></office:spreadsheet></office:body></office:document-content>")
    _publish(tmp, path)


def dictionary_rows(columns_by_file: dict[str, list[tuple[str, str]]]) -> list[list[str]]:
    """One row per column of each download file: file, column, type, description, unit."""
    rows = []
    for file_name, columns in columns_by_file.items():
        for name, type_name in columns:
            if name not in COLUMNS:
                raise DictionaryError(
                    f"data/{file_name}: column {name!r} has no entry in flows/downloads.py "
                    "COLUMNS (every published column must be explained)"
                )
            description, unit = COLUMNS[name]
            rows.append([file_name, name, _TYPE_WORDS[type_name], description, unit])
    return rows


def write_downloads(con: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, int]:
    """Every download and data/dictionary.csv; returns the row count of each file written."""
    written: dict[str, int] = {}
    columns_by_file: dict[str, list[tuple[str, str]]] = {}
    for download in DOWNLOADS:
        cursor = con.execute(download.sql)
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        rows = cursor.fetchall()
        for fmt in download.formats:
            file_name = f"{download.name}.{fmt}"
            path = data_dir / file_name
            if fmt == "csv":
                write_csv(names, rows, path)
            elif fmt == "parquet":
                write_parquet(names, types, rows, path)
            else:
                write_ods(download.name, names, rows, path)
            written[file_name] = len(rows)
            columns_by_file[file_name] = list(zip(names, types, strict=True))
    dictionary = dictionary_rows(columns_by_file)
    header = ["file", "column", "type", "description", "unit"]
    write_csv(header, dictionary, data_dir / "dictionary.csv")
    written["dictionary.csv"] = len(dictionary)
    return written
