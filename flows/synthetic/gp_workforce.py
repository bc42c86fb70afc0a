"""Rebuild the May 2026 General Practice Workforce "Detailed" practice-level CSV (maintainers only).

No copy of the publisher's CSV could be had (every stored copy was over the size limit). What
exists: the official column dictionary (805 columns, November 2025) and a third party's extract of
the May 2026 file (`gp_composition_may26.csv`: GP FTE by type, nurse, direct patient care and admin
FTE, 6,153 practices). This module writes `GPWPracticeCSV.052026.zip` holding
`1 General Practice – May 2026 Practice Level - Detailed.csv` in the publisher's schema: every
dictionary column in the dictionary's order, one row per practice of the extract (sorted by code),
'NA' (the publisher's "not available") in every cell it cannot fill honestly.

Column status (`RebuildResult` lists them; the lead marks indicators built on synthetic ones):
- rebuilt (real May 2026 values from the extract, re-serialised): TOTAL_GP_FTE = partner +
  salaried + locum + registrar + foundation/other; TOTAL_GP_EXTG_FTE (fully qualified) = partner +
  salaried + locum; TOTAL_GP_EXL_FTE (excl. locums) = TOTAL_GP_FTE - locum; TOTAL_GP_EXTGL_FTE =
  partner + salaried; TOTAL_NURSES_FTE, TOTAL_DPC_FTE, TOTAL_ADMIN_FTE as given. Sums are rounded
  to 4 decimals (the extract's precision). Each GP type of the extract spans several dictionary
  columns (partner = senior partner + partner/provider, registrar = ST1-ST4, foundation/other =
  F1/F2 + other training grades, locum = three locum types), so those finer GP columns stay 'NA'.
  Assumption: the five GP types partition TOTAL_GP_FTE (their national sum, 37,975 FTE, is the
  figure the extract's owner reports for the practice file's TOTAL_GP_FTE; retainers are taken to
  sit inside partner/salaried).
- real, other publications: PRAC_NAME, PCN_CODE/PCN_NAME (the map's `U`/`Unallocated` written as
  the workforce file's 'Unaligned'), SUB_ICB_CODE/NAME, ICB_CODE/NAME, REGION_CODE/NAME from the
  practice map passed in (January 2026); TOTAL_PATIENTS from gp-reg-pat-prac-all (March 2026).
  Practices missing from those files get 'NA' there (15 and 16 of 6,153 with the bundled sample).
- synthetic (seeded): TOTAL_DPC_SPLW_HC/FTE, TOTAL_DPC_THERA_COU_HC/FTE,
  TOTAL_DPC_NHS_TALKING_THERA_HC/FTE (practice-employed social prescribing link workers,
  therapist-counsellors, NHS Talking Therapies therapists).

Calibration of the synthetic columns (assumptions, not measurements, unless marked real):
- only practices with TOTAL_DPC_FTE > 0 can have any (0 otherwise: the publisher writes 0 for a
  practice with valid returns but no such staff); a missing TOTAL_DPC_FTE gives 'NA';
- chance that a practice employs the role = share x size, size = TOTAL_DPC_FTE / 2.12 clamped to
  [0.25, 3] (2.12 FTE: the real median TOTAL_DPC_FTE of the 5,473 practices with any DPC staff in
  the extract). Shares 0.072 (SPLW), 0.037 (counsellors), 0.012 (Talking Therapies) aim at about
  8%, 4% and 1% of practices with any (`RebuildResult.practices_with_any` gives what a run got).
  Most link workers and mental health roles are employed by PCNs under ARRS, not by practices,
  hence the small shares; they are not fitted to a published national total;
- headcount when present: SPLW 1/2/3 people with probability 0.85/0.13/0.02, counsellors 1/2 with
  0.9/0.1, Talking Therapies 1/2 with 0.95/0.05;
- each person's FTE = weekly hours / 37.5, rounded to 4 decimals like the publisher's figures;
  hours drawn equally from 20 points: the 5%..95% quantiles (to a quarter-hour) of the real FTE of
  PCN-employed staff in the PCN Workforce June 2026 file (SPLW: 3,011 records; NHS Talking
  Therapies therapists: 36; counsellors: all 215 `Therapists` records, 3 counsellors being too
  few), plus 37.5;
- consistency: every person works at most 37.5 hours, so HC >= FTE, and FTE > 0 exactly when
  HC > 0; roles are filled in the order above and a person who would take the three roles' FTE
  above TOTAL_DPC_FTE is dropped, so the finer columns never exceed TOTAL_DPC_FTE. Male/female
  splits of these roles and TOTAL_DPC_HC stay 'NA';
- determinism: each practice draws from its own generator seeded with (seed, practice code), so a
  practice's values do not depend on which other practices are in the file; the zip has one member
  with a fixed timestamp (the census date), so a seed gives a byte-identical zip.

Format (assumptions where no real copy exists): UTF-8 with a byte-order mark and CRLF line ends, as
the same publisher's PCN Workforce CSV of June 2026; quoting only where a value needs it; integers
as integers. The publisher's zip also holds definitions files and a High level CSV; only the
Detailed CSV is written (no file the publisher does not publish).

Run: python -m flows.synthetic.gp_workforce --dictionary <tsv> --composition <csv> --out <zip>
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flows.sources import gp_registrations
from flows.sources.base import PRACTICE_CODE, ReaderError

PERIOD = "2026-05"
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ZIP_TIME = (2026, 5, 31, 0, 0, 0)  # the census date: fixed, so the zip is byte-identical
DEFAULT_SEED = 20260531
NA = "NA"
FULL_TIME_HOURS = 37.5

COMPOSITION_CODE = "gp_code"
GP_TYPES = ("partner_fte", "salaried_fte", "locum_fte", "registrar_fte", "foundation_other_fte")
COMPOSITION_NUMBERS = (*GP_TYPES, "nurse_fte", "dpc_fte", "admin_fte")

# Dictionary column <- sum of composition columns: real values, re-serialised ("rebuilt").
REBUILT: dict[str, tuple[str, ...]] = {
    "TOTAL_GP_FTE": GP_TYPES,
    "TOTAL_GP_EXTG_FTE": ("partner_fte", "salaried_fte", "locum_fte"),
    "TOTAL_GP_EXL_FTE": ("partner_fte", "salaried_fte", "registrar_fte", "foundation_other_fte"),
    "TOTAL_GP_EXTGL_FTE": ("partner_fte", "salaried_fte"),
    "TOTAL_NURSES_FTE": ("nurse_fte",),
    "TOTAL_DPC_FTE": ("dpc_fte",),
    "TOTAL_ADMIN_FTE": ("admin_fte",),
}
# Dictionary column <- practice map column (real, January 2026 registrations map).
FROM_MAP: dict[str, str] = {
    "PRAC_NAME": "practice_name",
    "PCN_CODE": "pcn_code",
    "PCN_NAME": "pcn_name",
    "SUB_ICB_CODE": "sub_icb_code",
    "SUB_ICB_NAME": "sub_icb_name",
    "ICB_CODE": "icb_code",
    "ICB_NAME": "icb_name",
    "REGION_CODE": "region_code",
    "REGION_NAME": "region_name",
}
PATIENTS = "TOTAL_PATIENTS"
UNALIGNED = "Unaligned"
DPC_REFERENCE_FTE = 2.12  # real median TOTAL_DPC_FTE of practices with any DPC staff, May 2026


@dataclass(frozen=True)
class Role:
    """One seeded mental-health role of the direct patient care staff group."""

    hc_column: str
    fte_column: str
    share: float
    headcounts: tuple[tuple[int, float], ...]
    hours: tuple[float, ...]


ROLES = (
    Role(
        "TOTAL_DPC_SPLW_HC",
        "TOTAL_DPC_SPLW_FTE",
        0.072,
        ((1, 0.85), (2, 0.13), (3, 0.02)),
        (13.5, 18.0, 20.0, 22.5, 25.0, 30.0, 30.0, 34.5, 37.0) + (37.5,) * 11,
    ),
    Role(
        "TOTAL_DPC_THERA_COU_HC",
        "TOTAL_DPC_THERA_COU_FTE",
        0.037,
        ((1, 0.9), (2, 0.1)),
        (15.0, 18.75, 22.5, 24.0, 29.75, 30.0, 30.0, 30.0, 32.5, 35.5) + (37.5,) * 10,
    ),
    Role(
        "TOTAL_DPC_NHS_TALKING_THERA_HC",
        "TOTAL_DPC_NHS_TALKING_THERA_FTE",
        0.012,
        ((1, 0.95), (2, 0.05)),
        (11.75, 24.75, 30.0, 37.25) + (37.5,) * 16,
    ),
)
SYNTHETIC_COLUMNS = tuple(c for role in ROLES for c in (role.hc_column, role.fte_column))


@dataclass
class RebuildResult:
    """What was written, and the status of every filled column."""

    out_zip: Path
    member: str
    practices: int
    columns: int
    rebuilt_columns: tuple[str, ...]
    reference_columns: dict[str, str]
    synthetic_columns: tuple[str, ...]
    na_only_columns: int
    not_in_practice_map: tuple[str, ...]
    not_in_list_sizes: tuple[str, ...]
    csv_bytes: int
    zip_bytes: int
    practices_with_any: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "out_zip": str(self.out_zip),
            "member": self.member,
            "practices": self.practices,
            "columns": self.columns,
            "csv_bytes": self.csv_bytes,
            "zip_bytes": self.zip_bytes,
            "rebuilt_columns": list(self.rebuilt_columns),
            "reference_columns": self.reference_columns,
            "synthetic_columns": list(self.synthetic_columns),
            "na_only_columns": self.na_only_columns,
            "not_in_practice_map": list(self.not_in_practice_map),
            "not_in_list_sizes": list(self.not_in_list_sizes),
            "practices_with_any": self.practices_with_any,
        }


def member_name(period: str) -> str:
    year, month = period.split("-")
    return (
        f"1 General Practice – {MONTH_NAMES[int(month) - 1]} {year} Practice Level - Detailed.csv"
    )


def zip_name(period: str) -> str:
    year, month = period.split("-")
    return f"GPWPracticeCSV.{month}{year}.zip"


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - ord("A") + 1
    return number


def read_dictionary(path: Path) -> list[str]:
    """Field names of the Detailed CSV in order, from the dictionary's tab-separated dump."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise ReaderError(path, "empty dictionary")
    header = [h.strip() for h in rows[0]]
    try:
        letter_at, name_at = header.index("Columns"), header.index("Name of Field")
    except ValueError as exc:
        raise ReaderError(path, f"expected 'Columns' and 'Name of Field'; header {header}") from exc
    names: list[str] = []
    for number, row in enumerate(rows[1:], start=1):
        letters, name = row[letter_at].strip(), row[name_at].strip()
        # The letters prove no field is missing or out of order.
        if not re.fullmatch(r"[A-Z]+", letters) or _column_number(letters) != number:
            raise ReaderError(
                path, f"line {number + 1}: column {letters!r} is not column number {number}"
            )
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            raise ReaderError(path, f"line {number + 1}: field name {name!r}")
        names.append(name)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ReaderError(path, f"field names repeated: {repeated}")
    return names


def read_composition(path: Path) -> dict[str, dict[str, float]]:
    """The per-practice extract, by practice code, its columns picked by name."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        wanted = (COMPOSITION_CODE, *COMPOSITION_NUMBERS)
        missing = [c for c in wanted if c not in (reader.fieldnames or [])]
        if missing:
            raise ReaderError(path, f"missing column(s) {missing}; header {reader.fieldnames}")
        practices: dict[str, dict[str, float]] = {}
        for number, row in enumerate(reader, start=2):
            code = row[COMPOSITION_CODE].strip()
            if not re.fullmatch(PRACTICE_CODE, code):
                raise ReaderError(path, f"row {number}, column {COMPOSITION_CODE}: {code!r}")
            if code in practices:
                raise ReaderError(path, f"row {number}: practice {code} repeated")
            values: dict[str, float] = {}
            for column in COMPOSITION_NUMBERS:
                try:
                    values[column] = float(row[column])
                except ValueError as exc:
                    raise ReaderError(
                        path, f"row {number}, column {column}: {row[column]!r} is not a number"
                    ) from exc
                if values[column] < 0:
                    raise ReaderError(path, f"row {number}, column {column}: negative FTE")
            practices[code] = values
    return practices


def fte_text(value: float) -> str:
    """An FTE as the publisher's figures look: at most 4 decimals, no trailing zeros."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _draw_headcount(rng: random.Random, choices: tuple[tuple[int, float], ...]) -> int:
    u = rng.random()
    for heads, probability in choices:
        u -= probability
        if u < 0:
            return heads
    return choices[-1][0]


def finer_roles(code: str, dpc_fte: float | None, seed: int) -> dict[str, str]:
    """Seeded HC and FTE of the mental-health DPC roles of one practice (see the docstring)."""
    if dpc_fte is None:
        return dict.fromkeys(SYNTHETIC_COLUMNS, NA)
    rng = random.Random(f"gp_workforce:{seed}:{code}")
    size = min(max(dpc_fte / DPC_REFERENCE_FTE, 0.25), 3.0) if dpc_fte > 0 else 0.0
    room = round(dpc_fte, 4)
    values: dict[str, str] = {}
    for role in ROLES:
        # Always the same draws per role, so one role's outcome does not shift the next role's.
        present = rng.random() < role.share * size
        heads = _draw_headcount(rng, role.headcounts)
        hours = [rng.choice(role.hours) for _ in range(heads)]
        people = [round(h / FULL_TIME_HOURS, 4) for h in hours] if present else []
        while people and round(sum(people), 4) > room:
            people.pop()
        fte = round(sum(people), 4)
        room = round(room - fte, 4)
        values[role.hc_column] = str(len(people))
        values[role.fte_column] = fte_text(fte)
    return values


def _practice_rows(
    header: list[str],
    composition: dict[str, dict[str, float]],
    practice_map: dict[str, dict[str, str | None]],
    list_sizes: dict[str, int],
    seed: int,
) -> list[list[str]]:
    rows = []
    for code in sorted(composition):
        values = dict.fromkeys(header, NA)
        values["PRAC_CODE"] = code
        mapped = practice_map.get(code)
        if mapped is not None:
            for column, source in FROM_MAP.items():
                values[column] = mapped.get(source) or NA
        if code in list_sizes:
            values[PATIENTS] = str(list_sizes[code])
        given = composition[code]
        for column, parts in REBUILT.items():
            values[column] = fte_text(sum(given[p] for p in parts))
        values.update(finer_roles(code, given["dpc_fte"], seed))
        rows.append([values[c] for c in header])
    return rows


def _read_map(path: Path) -> dict[str, dict[str, str | None]]:
    table = gp_registrations.read_prac_map(path).tables["practice_mappings"].to_pylist()
    practices = {}
    for row in table:
        if row["pcn_code"] == "U":  # the registrations map's marker; the workforce file's word
            row["pcn_code"] = row["pcn_name"] = UNALIGNED
        practices[row["practice_code"]] = row
    return practices


def _read_list_sizes(path: Path) -> dict[str, int]:
    table = gp_registrations.read_prac_all(path).tables["list_sizes"].to_pydict()
    return {
        code: int(n)
        for code, n in zip(table["practice_code"], table["registered_patients"], strict=True)
        if n is not None
    }


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_zip(out_zip: Path, member: str, data: bytes) -> None:
    """One member, fixed timestamp and attributes: byte-identical for identical data."""
    info = zipfile.ZipInfo(member, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_zip.parent, prefix=f".{out_zip.name}-")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(info, data, compresslevel=9)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the zip is meant to be shared
        os.replace(tmp, out_zip)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def rebuild_detailed_csv(
    dictionary_tsv: Path,
    composition_csv: Path,
    practices_csv: Path,
    seed: int,
    out_zip: Path,
    *,
    patients_csv: Path | None = None,
    period: str = PERIOD,
) -> RebuildResult:
    """Write the Detailed CSV of `period` (zipped as published) for the extract's practices."""
    header = read_dictionary(Path(dictionary_tsv))
    needed = ["PRAC_CODE", PATIENTS, *FROM_MAP, *REBUILT, *SYNTHETIC_COLUMNS]
    absent = [c for c in needed if c not in header]
    if absent:
        raise ReaderError(dictionary_tsv, f"dictionary lacks field(s) {absent}")
    composition = read_composition(Path(composition_csv))
    practice_map = _read_map(Path(practices_csv))
    list_sizes = _read_list_sizes(Path(patients_csv)) if patients_csv else {}
    rows = _practice_rows(header, composition, practice_map, list_sizes, seed)
    data = csv_bytes(header, rows)
    member = member_name(period)
    out_zip = Path(out_zip)
    write_zip(out_zip, member, data)

    filled = {"PRAC_CODE", *FROM_MAP, *REBUILT, *SYNTHETIC_COLUMNS}
    if patients_csv:
        filled.add(PATIENTS)
    reference = dict.fromkeys(FROM_MAP, f"practice map {Path(practices_csv).name}")
    if patients_csv:
        reference[PATIENTS] = f"list sizes {Path(patients_csv).name}"
    fte_at = {c: header.index(c) for c in SYNTHETIC_COLUMNS if c.endswith("_FTE")}
    return RebuildResult(
        out_zip=out_zip,
        member=member,
        practices=len(rows),
        columns=len(header),
        rebuilt_columns=tuple(REBUILT),
        reference_columns=reference,
        synthetic_columns=SYNTHETIC_COLUMNS,
        na_only_columns=len(header) - len(filled),
        not_in_practice_map=tuple(sorted(set(composition) - set(practice_map))),
        not_in_list_sizes=tuple(sorted(set(composition) - set(list_sizes))),
        csv_bytes=len(data),
        zip_bytes=out_zip.stat().st_size,
        practices_with_any={
            c: sum(1 for r in rows if r[i] not in ("0", NA)) for c, i in fte_at.items()
        },
    )


def main(argv: Sequence[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    sample = root / "data" / "sample" / "gp_registrations"
    parser = argparse.ArgumentParser(
        prog="python -m flows.synthetic.gp_workforce",
        description="Rebuild the GP Workforce Detailed practice-level CSV (real totals, "
        "seeded mental-health roles) as the publisher's zip.",
    )
    parser.add_argument("--dictionary", type=Path, required=True, help="column dictionary TSV")
    parser.add_argument("--composition", type=Path, required=True, help="per-practice extract")
    parser.add_argument(
        "--practices", type=Path, default=sample / "2026-01" / "gp-reg-pat-prac-map.csv"
    )
    parser.add_argument(
        "--patients", type=Path, default=sample / "2026-03" / "gp-reg-pat-prac-all.csv"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--period", default=PERIOD)
    parser.add_argument("--out", type=Path, required=True, help="zip to write (or a folder)")
    args = parser.parse_args(argv)
    out = args.out / zip_name(args.period) if args.out.is_dir() else args.out
    try:
        result = rebuild_detailed_csv(
            args.dictionary,
            args.composition,
            args.practices,
            args.seed,
            out,
            patients_csv=args.patients,
            period=args.period,
        )
    except (ReaderError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.summary(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
