"""A national-scale landing zone for the benchmark: real practices and PCNs, N monthly periods.

The base landing zone (the bundled real sample by default) already holds every English practice
and PCN. What it lacks is a run of monthly vintages, so this module lands, for each of the N
months ending at the base's newest vintage:

- `gp_registrations` prac_all (list sizes; a series the pipeline reads in full),
- `gp_registrations` quin_age (5-year age bands; the pipeline reads the newest),
- `pcn_workforce` individual-level CSV in the publisher's zip (a series read in full),
- `talking_therapies` monthly activity_performance (the newest is read),

using the real file where the base has one for that month, otherwise a vintage derived from the
nearest real file of the base, deterministically (seeded), under the publisher's exact header,
encoding, line ends and file names, so the real readers and the landing scan pick them up. Every
derived file is recorded with `"status": "synthetic"` and a `derived_from` note in its manifest
(the way `flows/build_sample.py` records rebuilt files). Every other product (ePCN, the practice
map, QOF, IMD, GP workforce, the Talking Therapies annual file) is landed as it is in the base,
with its manifest entry (status, notes) kept.

Derivations (the figures are synthetic; the shapes and the codes are real):
- prac_all: each practice's list size x (1 + 0.0005 per month from the real file) x
  exp(N(0, 0.002)), rounded; EXTRACT_DATE set to the first of the month;
- quin_age: the real counts re-dated (EXTRACT_DATE only); the pipeline reads only the newest
  vintage, which is real in the bundled sample;
- pcn_workforce: the real records with CENSUS_YEAR / CENSUS_MONTH set to the month; for months
  before the real census each record is kept with probability 1 - 0.005 per month back (staff
  numbers grow over time), FTE as published; the zip carries the real definitions and guide;
- talking_therapies monthly: `flows.synthetic.talking_therapies.generate_monthly` for every
  real sub-ICB of the base's practice map (already synthetic, calibrated on real figures).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import random
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows.landing import MANIFEST, current_files, land_file, read_manifest
from flows.synthetic import talking_therapies

GENERATOR_VERSION = 1  # bump when a derivation changes, so cached zones are rebuilt
LANDED_AT = "2026-11-25T00:00:00Z"  # fixed: identical inputs give identical manifests
STAMP = "_benchmark_zone.json"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed member timestamps: identical zips every build

# (source, file name pattern) of the monthly products this module lands for every month
MONTHLY = {
    ("gp_registrations", "prac_all"): re.compile(r"^gp-reg-pat-prac-all\.(csv|zip)$", re.I),
    ("gp_registrations", "quin_age"): re.compile(r"^gp-reg-pat-prac-quin-age\.(csv|zip)$", re.I),
    ("pcn_workforce", "individual"): re.compile(
        r"(Primary Care Networks.*Individual Level\.csv|^PCNWFIndividualCSV\.\d{6}\.zip)$", re.I
    ),
    ("talking_therapies", "monthly"): re.compile(r"^nhstalkingtherapies_month_", re.I),
}


@dataclass(frozen=True)
class Zone:
    data_dir: Path
    periods: list[str]
    newest: str
    generated: int
    """Files landed that were derived here (status synthetic)."""


def month_range(newest: str, count: int) -> list[str]:
    """The `count` months ending at `newest` (YYYY-MM), oldest first."""
    year, month = (int(x) for x in newest.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def months_between(a: str, b: str) -> int:
    """b - a in months."""
    ya, ma = (int(x) for x in a.split("-"))
    yb, mb = (int(x) for x in b.split("-"))
    return (yb - ya) * 12 + mb - ma


def _monthly_product(source: str, name: str) -> str | None:
    for (src, product), pattern in MONTHLY.items():
        if src == source and pattern.search(name):
            return product
    return None


def _vintages(base: Path, source: str) -> list[Path]:
    folder = base / source
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name)
    )


def _real_files(base: Path, source: str, product: str) -> dict[str, list[Path]]:
    """vintage -> the base's files of one monthly product (as served and extracted)."""
    found: dict[str, list[Path]] = {}
    for vintage_dir in _vintages(base, source):
        files = [
            p
            for name, p in current_files(vintage_dir).items()
            if _monthly_product(source, name) == product
        ]
        if files:
            found[vintage_dir.name] = sorted(files)
    return found


def _entry(path: Path) -> dict:
    """The base manifest's entry for a landed file."""
    manifest = read_manifest(path.parent)
    return next(f for f in manifest.get("files", []) if f["name"] == path.name)


def _land_copy(path: Path, zone: Path, source: str, vintage: str) -> None:
    """Land a base file as it is, with its manifest entry's origin and notes kept."""
    entry = _entry(path)
    origin = entry.get("url") or entry.get("origin", str(path))
    extra = {
        k: v
        for k, v in entry.items()
        if k not in {"name", "url", "origin", "bytes", "sha256", "landed_at"}
    }
    land_file(path, zone, source, vintage, origin=origin, landed_at=LANDED_AT, extra=extra)


def _land_derived(
    path: Path, zone: Path, source: str, vintage: str, derived_from: str, how: str, seed: int
) -> None:
    land_file(
        path,
        zone,
        source,
        vintage,
        origin=f"benchmarks/generate.py (seed {seed}): {how}",
        landed_at=LANDED_AT,
        extra={"status": "synthetic", "derived_from": derived_from},
    )


def _newest_real(real: dict[str, list[Path]], month: str, want_csv: bool = True) -> Path:
    """The real file nearest to the month (either side; the newer on a tie), CSV preferred."""
    vintage = min(real, key=lambda v: (abs(months_between(v, month)), -int(v.replace("-", ""))))
    files = real[vintage]
    csvs = [p for p in files if p.suffix.lower() == ".csv"]
    return (csvs or files)[0] if want_csv else files[0]


def _read_text(path: Path, member: str) -> tuple[str, str]:
    """A CSV's text (a plain file or the zip member matching `member`) and its encoding."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if re.search(member, n, re.I))
            raw = zf.read(name)
    else:
        raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252"), "cp1252"


def _line_end(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _csv_bytes(rows: Iterable[list[str]], encoding: str, line_end: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows(rows)
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def _write_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def _first(month: str) -> str:
    return f"{month}-01"


def derive_prac_all(template: Path, template_vintage: str, month: str, seed: int) -> bytes:
    text, encoding = _read_text(template, r"gp-reg-pat-prac-all.*\.csv$")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    i_date, i_n = header.index("EXTRACT_DATE"), header.index("NUMBER_OF_PATIENTS")
    growth = 1 + 0.0005 * months_between(template_vintage, month)
    rng = random.Random(f"{seed}|{month}|prac_all")
    out = [header]
    for row in rows[1:]:
        if len(row) != len(header):
            continue
        row = list(row)
        row[i_date] = _first(month)
        if row[i_n].strip():
            row[i_n] = str(round(int(row[i_n]) * growth * math.exp(rng.gauss(0, 0.002))))
        out.append(row)
    return _csv_bytes(out, encoding, _line_end(text))


def derive_quin_age(template: Path, month: str) -> bytes:
    """The real counts re-dated: EXTRACT_DATE is the only cell that changes."""
    text, encoding = _read_text(template, r"gp-reg-pat-prac-quin-age.*\.csv$")
    header_end = text.index("\n") + 1
    first_row = next(csv.reader([text[header_end : text.index("\n", header_end)]]))
    header = next(csv.reader([text[:header_end]]))
    i_date = [h.strip() for h in header].index("EXTRACT_DATE")
    prefix = ",".join(first_row[:i_date])
    old, new = f"{prefix},{first_row[i_date]},", f"{prefix},{_first(month)},"
    body = text[header_end:].replace(old, new)
    data = text[:header_end] + body
    return (b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"") + data.encode(
        "utf-8" if encoding == "utf-8-sig" else encoding
    )


def workforce_member_name(template_member: str, month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    label = f"{calendar.month_name[mon]} {year}"
    return re.sub(r"[A-Z][a-z]+ \d{4}(?= Individual Level)", label, template_member)


def derive_workforce(template: Path, template_vintage: str, month: str, seed: int) -> bytes:
    text, encoding = _read_text(template, r"Primary Care Networks.*Individual Level\.csv$")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    i_year, i_month = header.index("CENSUS_YEAR"), header.index("CENSUS_MONTH")
    back = max(0, months_between(month, template_vintage))
    keep = 1 - min(0.5, 0.005 * back)
    rng = random.Random(f"{seed}|{month}|pcn_workforce")
    year, mon = (int(x) for x in month.split("-"))
    out = [header]
    for row in rows[1:]:
        if len(row) != len(header) or rng.random() >= keep:
            continue
        row = list(row)
        row[i_year], row[i_month] = str(year), str(mon)
        out.append(row)
    return _csv_bytes(out, encoding, _line_end(text))


def _sub_icbs(base: Path) -> list[str]:
    """Real sub-ICB codes of the base's newest practice map that the TT calibration knows."""
    maps = [
        p
        for v in _vintages(base, "gp_registrations")
        for name, p in current_files(v).items()
        if re.fullmatch(r"gp-reg-pat-prac-map\.csv", name, re.I)
    ]
    calibration = talking_therapies.load_calibration()
    if not maps:
        return sorted(calibration.sub_icbs)
    text, _ = _read_text(maps[-1], r"\.csv$")
    reader = csv.DictReader(io.StringIO(text))
    column = "SUB_ICB_LOCATION_CODE" if "SUB_ICB_LOCATION_CODE" in reader.fieldnames else "CCG_CODE"
    codes = {row[column] for row in reader}
    return sorted(codes & set(calibration.sub_icbs))


def build_zone(
    base: Path, zone: Path, periods: int, seed: int = 20260801, newest: str | None = None
) -> Zone:
    """Land `periods` monthly vintages ending at `newest` (default: the base's newest vintage)
    into `zone`, with the base's other products. A zone already built with the same parameters
    is reused (its stamp says how it was made)."""
    base = base.resolve()
    if newest is None:
        newest = max(v.name for s in base.iterdir() if s.is_dir() for v in _vintages(base, s.name))
    months = month_range(newest, periods)
    params = {
        "generator_version": GENERATOR_VERSION,
        "base": str(base),
        "periods": periods,
        "newest": newest,
        "seed": seed,
    }
    stamp = zone / STAMP
    if stamp.is_file():
        built = json.loads(stamp.read_text(encoding="utf-8"))
        if built.get("params") == params:
            return Zone(zone, months, newest, built["generated"])
    if zone.exists():
        shutil.rmtree(zone)
    zone.mkdir(parents=True)
    generated = 0
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp_name:
        tmp = Path(tmp_name)
        # every product that is not monthly: as in the base
        for source_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            for vintage_dir in _vintages(base, source_dir.name):
                if vintage_dir.name > newest:
                    continue
                for name, path in current_files(vintage_dir).items():
                    if _monthly_product(source_dir.name, name) is None:
                        _land_copy(path, zone, source_dir.name, vintage_dir.name)
        generated += _land_registrations(base, zone, months, seed, tmp)
        generated += _land_workforce(base, zone, months, seed, tmp)
        generated += _land_talking_therapies(base, zone, months, seed, tmp)
    stamp.write_text(json.dumps({"params": params, "generated": generated}, indent=2) + "\n")
    return Zone(zone, months, newest, generated)


def _land_real_month(files: list[Path], zone: Path, source: str, vintage: str) -> None:
    for path in files:
        _land_copy(path, zone, source, vintage)


def _land_registrations(base: Path, zone: Path, months: list[str], seed: int, tmp: Path) -> int:
    generated = 0
    prac_all = _real_files(base, "gp_registrations", "prac_all")
    # a sub-ICB era template: CCG-era files (before mid 2022) have other columns
    sub_icb_era = {v: f for v, f in prac_all.items() if v >= "2022-07"} or prac_all
    quin_age = _real_files(base, "gp_registrations", "quin_age")
    for month in months:
        if month in prac_all:
            _land_real_month(prac_all[month], zone, "gp_registrations", month)
        elif sub_icb_era:
            template = _newest_real(sub_icb_era, month)
            vintage = template.parent.name
            out = tmp / "gp-reg-pat-prac-all.csv"
            out.write_bytes(derive_prac_all(template, vintage, month, seed))
            _land_derived(
                out,
                zone,
                "gp_registrations",
                month,
                f"gp_registrations/{vintage}/{template.name}",
                "list sizes of the real file drifted 0.05% a month with N(0, 0.2%) noise",
                seed,
            )
            generated += 1
        if month in quin_age:
            _land_real_month(quin_age[month], zone, "gp_registrations", month)
        elif quin_age:
            template = _newest_real(quin_age, month)
            vintage = template.parent.name
            member = "gp-reg-pat-prac-quin-age.csv"
            data = derive_quin_age(template, month)
            how = "the real counts re-dated (EXTRACT_DATE only)"
            derived_from = f"gp_registrations/{vintage}/{template.name}"
            _write_zip(tmp / "gp-reg-pat-prac-quin-age.zip", [(member, data)])
            _land_derived(
                tmp / "gp-reg-pat-prac-quin-age.zip",
                zone,
                "gp_registrations",
                month,
                derived_from,
                how,
                seed,
            )
            (tmp / member).write_bytes(data)
            land_file(
                tmp / member,
                zone,
                "gp_registrations",
                month,
                origin=f"gp-reg-pat-prac-quin-age.zip!{member}",
                landed_at=LANDED_AT,
                extra={
                    "status": "synthetic",
                    "derived_from": derived_from,
                    "extracted_from": "gp-reg-pat-prac-quin-age.zip",
                },
            )
            generated += 2
    return generated


def _land_workforce(base: Path, zone: Path, months: list[str], seed: int, tmp: Path) -> int:
    generated = 0
    real = _real_files(base, "pcn_workforce", "individual")
    if not real:
        return 0
    for month in months:
        if month in real:
            _land_real_month(real[month], zone, "pcn_workforce", month)
            continue
        template = _newest_real(real, month)
        vintage = template.parent.name
        member = workforce_member_name(template.name, month)
        data = derive_workforce(template, vintage, month, seed)
        derived_from = f"pcn_workforce/{vintage}/{template.name}"
        year, mon = month.split("-")
        zip_name = f"PCNWFIndividualCSV.{mon}{year}.zip"
        # the publisher's zip also carries a definitions workbook and a guide: keep the real ones
        extras: list[tuple[str, bytes]] = []
        template_zip = next((p for p in real[vintage] if p.suffix.lower() == ".zip"), None)
        if template_zip is not None:
            with zipfile.ZipFile(template_zip) as zf:
                extras = [(n, zf.read(n)) for n in zf.namelist() if "Individual Level.csv" not in n]
        _write_zip(tmp / zip_name, [*extras[:1], (member, data), *extras[1:]])
        _land_derived(
            tmp / zip_name,
            zone,
            "pcn_workforce",
            month,
            derived_from,
            "the real records re-dated; months before the real census keep each record with "
            "probability 1 - 0.005 per month back",
            seed,
        )
        (tmp / member).write_bytes(data)
        land_file(
            tmp / member,
            zone,
            "pcn_workforce",
            month,
            origin=f"{zip_name}!{member}",
            landed_at=LANDED_AT,
            extra={"status": "synthetic", "derived_from": derived_from, "extracted_from": zip_name},
        )
        (tmp / member).unlink()
        generated += 2
    return generated


def _land_talking_therapies(base: Path, zone: Path, months: list[str], seed: int, tmp: Path) -> int:
    real = _real_files(base, "talking_therapies", "monthly")
    sub_icbs = _sub_icbs(base)
    generated = 0
    calibration = talking_therapies.load_calibration()
    for month in months:
        if month in real:
            _land_real_month(real[month], zone, "talking_therapies", month)
            continue
        (path,) = talking_therapies.generate_monthly(
            seed, [month], sub_icbs, tmp / month, calibration
        )
        land_file(
            path,
            zone,
            "talking_therapies",
            month,
            origin=f"flows.synthetic.talking_therapies.generate_monthly (seed {seed}, "
            f"{len(sub_icbs)} sub-ICBs)",
            landed_at=LANDED_AT,
            extra={"status": "synthetic"},
        )
        generated += 1
    return generated


def landed_bytes(zone: Path) -> int:
    return sum(p.stat().st_size for p in zone.rglob("*") if p.is_file() and p.name != MANIFEST)
