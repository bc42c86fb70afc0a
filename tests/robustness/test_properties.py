"""Property-based tests (hypothesis) of how the readers parse numbers, counts, dates and codes.

Each property says what a reader promises for every input, not for the few examples the other
tests pick: a number written any way a publisher writes it reads back exactly; anything else is
a ReaderError naming the row and column, never a crash and never a NaN or an infinity."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.sources import gp_registrations, gp_workforce, pcn_workforce, qof, talking_therapies
from flows.sources.base import (
    ICB_CODE,
    PCN_CODE,
    PRACTICE_CODE,
    ReaderError,
    check_codes,
    decode_bytes,
    parse_count,
    parse_date,
    parse_number,
    read_csv_rows,
)

pytestmark = pytest.mark.unit
settings.register_profile(
    "robustness", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("robustness")

finite = st.floats(allow_nan=False, allow_infinity=False)
text_chars = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
cells = st.text(text_chars, max_size=12)


# --- numbers ---------------------------------------------------------------------------------


@given(finite)
def test_every_finite_number_written_by_python_reads_back_exactly(x: float):
    assert parse_number(repr(x), "f.csv", "VALUE", 2) == x
    assert parse_number(f" {x:.6f} ", "f.csv", "VALUE", 2) == pytest.approx(x, rel=1e-6, abs=1e-6)


@given(st.text(max_size=15))
@example("nan")
@example("-inf")
@example("Infinity")
@example("1_000")
@example("\u0661\u0662")  # Arabic-Indic digits: float() takes them
@example("1e999")  # overflows to infinity
def test_any_text_is_a_finite_number_blank_or_a_reader_error_naming_row_and_column(text: str):
    try:
        value = parse_number(text, "f.csv", "VALUE", 7)
    except ReaderError as exc:
        assert "row 7, column VALUE" in str(exc)
        return
    assert value is None or math.isfinite(value)
    if value is not None:
        assert text.strip().isascii()


@given(st.integers(min_value=0, max_value=10**12), st.booleans())
def test_counts_read_as_integers_or_whole_decimals(n: int, decimal: bool):
    text = f"{n}.0" if decimal else str(n)
    assert parse_count(text, "f.csv", "REGISTER", 2) == n
    assert qof._whole_numbers([text], "f.csv", "REGISTER") == [n]
    assert gp_registrations._patients(text, "f.csv", 2) == n


@given(st.integers(max_value=-1) | st.floats(0.001, 1e6).filter(lambda f: f != int(f)))
def test_negative_or_fractional_counts_are_refused_with_row_and_column(value: float):
    with pytest.raises(ReaderError, match=r"row 4, column REGISTER: .* is not a count"):
        parse_count(str(value), "f.csv", "REGISTER", 4)
    with pytest.raises(ReaderError, match=r"row 4, column NUMBER_OF_PATIENTS"):
        gp_registrations._patients(str(value), "f.csv", 4)


@given(st.lists(finite.filter(lambda f: f >= 0) | st.sampled_from(["NA", "ND", ""]), max_size=20))
def test_gp_workforce_numbers_and_markers(values: list):
    texts = [v if isinstance(v, str) else repr(v) for v in values]
    parsed, markers = gp_workforce._numbers(texts, "f.csv", "TOTAL_GP_FTE")
    assert parsed == [None if isinstance(v, str) else v for v in values]
    assert sum(markers.values()) == sum(isinstance(v, str) for v in values)


@given(st.floats(max_value=-1e-9, allow_infinity=False))
def test_gp_workforce_refuses_negative_figures(value: float):
    with pytest.raises(ReaderError, match=r"row 2, column TOTAL_GP_FTE"):
        gp_workforce._numbers([repr(value)], "f.csv", "TOTAL_GP_FTE")


@given(finite | st.sampled_from(["*", "-"]))
def test_talking_therapies_values_and_suppression_markers(value):
    text = value if isinstance(value, str) else repr(value)
    parsed, suppressed = talking_therapies._parse_value(text, "f.csv", "VALUE", 2)
    assert suppressed == isinstance(value, str)
    assert parsed == (None if isinstance(value, str) else value)


@given(st.text(max_size=10).filter(lambda t: t not in ("*", "-")))
def test_talking_therapies_other_text_is_a_number_or_a_reader_error(text: str):
    try:
        value, suppressed = talking_therapies._parse_value(text, "f.csv", "VALUE", 3)
    except ReaderError as exc:
        assert "row 3, column VALUE" in str(exc)
        return
    assert not suppressed and math.isfinite(value)


# --- dates -----------------------------------------------------------------------------------

DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d%b%Y", "%d-%b-%y", "%d/%m/%Y", "%d-%b-%Y", "%d%b%Y")


@given(st.dates(date(1970, 1, 1), date(2068, 12, 31)), st.sampled_from(DATE_FORMATS))
def test_every_published_date_style_reads_back(d: date, fmt: str):
    text = d.strftime(fmt)
    assert parse_date(text, "f.csv", "EXTRACT_DATE") == d
    assert parse_date(text.upper(), "f.csv", "EXTRACT_DATE") == d  # 01JAN2026


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_excel_style_integer_dates_read(d: date):
    assert parse_date(int(d.strftime("%Y%m%d")), "ePCN.xlsx", "Open Date") == d


@given(st.text(max_size=12))
def test_any_text_is_a_date_blank_or_a_reader_error_naming_row_and_column(text: str):
    try:
        parse_date(text, "f.csv", "EXTRACT_DATE", 9)
    except ReaderError as exc:
        assert "row 9, column EXTRACT_DATE" in str(exc)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.sampled_from(["iso", "dmy"]))
def test_talking_therapies_dates_in_the_files_one_style(d: date, style: str):
    text = d.isoformat() if style == "iso" else d.strftime("%d/%m/%Y")
    found = talking_therapies._date_style(text, "f.csv", "REPORTING_PERIOD_START", 2)
    assert talking_therapies._parse_dates([text], [2], found, "f.csv", "R") == [d]


@given(st.integers(2000, 2099), st.integers(1, 12))
def test_a_census_month_ends_on_its_last_day(year: int, month: int):
    end = pcn_workforce._census_end(str(year), str(month), "f.csv")
    assert (end.year, end.month) == (year, month)
    assert (end.toordinal() + 1) == date(year + (month == 12), month % 12 + 1, 1).toordinal()


# --- codes -----------------------------------------------------------------------------------

practice_codes = st.from_regex(re.compile(r"[A-Z]\d{5}", re.ASCII), fullmatch=True)


@given(st.lists(practice_codes, min_size=1, max_size=30), st.data())
def test_one_bad_code_is_named_by_its_row(codes: list[str], data):
    check_codes(codes, PRACTICE_CODE, "f.csv", "CODE")  # all good: no error
    index = data.draw(st.integers(0, len(codes) - 1))
    bad = data.draw(st.text(max_size=8).filter(lambda t: not re.fullmatch(PRACTICE_CODE, t)))
    codes[index] = bad
    with pytest.raises(ReaderError, match=rf"column CODE: 1 value\(s\) .*row {index + 2}:"):
        check_codes(codes, PRACTICE_CODE, "f.csv", "CODE")


@given(st.from_regex(re.compile(PCN_CODE, re.ASCII), fullmatch=True))
def test_pcn_codes_are_never_practice_or_icb_codes(code: str):
    assert re.fullmatch(PCN_CODE, code)
    assert not re.fullmatch(ICB_CODE, code)  # six characters: neither Qxx nor five


# --- text ------------------------------------------------------------------------------------


@given(st.binary(max_size=200))
def test_any_bytes_decode_losslessly_or_are_refused_by_name(raw: bytes):
    try:
        text, encoding = decode_bytes(raw, "f.csv")
    except ReaderError as exc:
        assert str(exc).startswith("f.csv: ")
        return
    body = raw[3:] if encoding == "utf-8-sig" else raw
    assert text.encode("utf-8" if encoding.startswith("utf-8") else encoding) == body


@given(st.text(text_chars, max_size=60), st.booleans())
def test_utf8_text_with_or_without_a_bom_reads_back(text: str, bom: bool):
    raw = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    got, encoding = decode_bytes(raw, "f.csv")
    assert got == text
    assert encoding == ("utf-8-sig" if bom else "utf-8")


@given(
    st.integers(1, 5).flatmap(
        lambda width: st.lists(st.lists(cells, min_size=width, max_size=width), min_size=2)
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_csv_rows_read_back_as_written(rows: list[list[str]], newline: str):
    header, data = rows[0], rows[1:]
    buffer = io.StringIO()
    # quoted as the publishers' quoting writers do (epraccur, names with commas)
    csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_ALL).writerows(rows)
    kept = [r for r in data if any(c.strip() for c in r)]
    try:
        got_header, got_rows = read_csv_rows(buffer.getvalue(), "f.csv")
    except ReaderError as exc:
        message = str(exc)
        assert (
            not kept
            or header in kept
            or "HTML page" in message
            or ("title above the header" in message)
        ), message
        return
    assert got_rows == kept
    assert len(got_header) == len(header)
