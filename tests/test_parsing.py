"""Vectorised value parsers: dates, numbers, shares, categories."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hjo_data import parsing
from hjo_data.schema import INCIDENT_CATEGORY_SYNONYMS, INCIDENTS, SURVEY_RESPONSES


def s(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


# --------------------------------------------------------------------------- dates

DATE_CASES = [
    ("2024-05-01", datetime(2024, 5, 1), False),
    ("2024-05-01 14:30", datetime(2024, 5, 1, 14, 30), True),
    ("2024-05-01T14:30", datetime(2024, 5, 1, 14, 30), True),
    ("2024-05-01 14:30:15", datetime(2024, 5, 1, 14, 30, 15), True),
    ("2024-05-01T14:30:15", datetime(2024, 5, 1, 14, 30, 15), True),
    ("20240501", datetime(2024, 5, 1), False),
    ("1.5.2024", datetime(2024, 5, 1), False),
    ("01.05.2024", datetime(2024, 5, 1), False),
    ("1.5.2024 7:05", datetime(2024, 5, 1, 7, 5), True),
    ("01.05.2024 17:05", datetime(2024, 5, 1, 17, 5), True),
    ("  2024-02-29  ", datetime(2024, 2, 29), False),
    ("2000-02-29", datetime(2000, 2, 29), False),
    ("1999-12-31 23:59:59", datetime(1999, 12, 31, 23, 59, 59), True),
]

BAD_DATES = [
    "31/31/2024", "2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10",
    "2024-5-1", "2024-05-01 25:00", "2024-05-01 12:60", "2024-05-01 12:30:60",
    "2024-05-01X12:30", "20241301", "32.1.2024", "1.13.2024", "2024/05/01", "maj 2024",
    "2024-05-01 12", "2024-05", "45000", "2024-05-01+02:00",
]


@pytest.mark.parametrize(("text", "expected", "timed"), DATE_CASES)
def test_date_formats(text: str, expected: datetime, timed: bool) -> None:
    res = parsing.parse_datetime(s(text))
    assert res.ok[0] and not res.missing[0]
    assert res.values[0] == np.datetime64(expected, "us")
    assert bool(res.has_time[0]) is timed
    assert res.values.dtype == np.dtype("datetime64[us]")


@pytest.mark.parametrize("text", BAD_DATES)
def test_bad_dates_rejected(text: str) -> None:
    res = parsing.parse_datetime(s(text, "2024-05-01"))
    assert not res.ok[0]
    assert np.isnat(res.values[0])
    assert res.ok[1]  # a good neighbour is unaffected


def test_empty_date_is_missing_not_error() -> None:
    res = parsing.parse_datetime(s("", "   ", "2024-01-01"))
    assert res.missing.tolist() == [True, True, False]
    assert res.ok.tolist() == [True, True, True]
    assert np.isnat(res.values[:2]).all()


def test_mixed_formats_in_one_column_match_reference() -> None:
    """Random instants, each written in a random accepted format, parse back exactly."""
    rng = np.random.default_rng(7)
    base = datetime(2001, 1, 1)
    texts, expected, timed = [], [], []
    for k in range(3000):
        ts = pd.Timestamp(base) + pd.Timedelta(minutes=int(rng.integers(0, 24 * 60 * 365 * 24)))
        kind = k % 6
        if kind == 0:
            texts.append(ts.strftime("%Y-%m-%d %H:%M"))
            expected.append(ts)
            timed.append(True)
        elif kind == 1:
            texts.append(ts.strftime("%Y-%m-%dT%H:%M:%S"))
            expected.append(ts)
            timed.append(True)
        elif kind == 2:
            texts.append(ts.strftime("%Y-%m-%d"))
            expected.append(ts.normalize())
            timed.append(False)
        elif kind == 3:
            texts.append(ts.strftime("%Y%m%d"))
            expected.append(ts.normalize())
            timed.append(False)
        elif kind == 4:
            texts.append(f"{ts.day}.{ts.month}.{ts.year}")
            expected.append(ts.normalize())
            timed.append(False)
        else:
            texts.append(f"{ts.day:02d}.{ts.month:02d}.{ts.year} {ts.hour}:{ts.minute:02d}")
            expected.append(ts)
            timed.append(True)
    res = parsing.parse_datetime(pd.Series(texts, dtype="str"))
    assert res.ok.all()
    assert (res.values == np.array(expected, dtype="datetime64[us]")).all()
    assert res.has_time.tolist() == timed


def test_parsers_accept_arrow_and_sliced_arrays() -> None:
    arr = pa.array(["x", "2024-05-01", "2024-05-02 10:00"], type=pa.string()).slice(1)
    res = parsing.parse_datetime(arr)
    assert res.values.tolist() == [datetime(2024, 5, 1), datetime(2024, 5, 2, 10)]
    chunked = pa.chunked_array([["1,5"], ["2"]])
    assert parsing.parse_number(chunked).values.tolist() == [1.5, 2.0]


# --------------------------------------------------------------------------- numbers

NUMBER_CASES = [
    ("0", 0.0), ("42", 42.0), ("-5", -5.0), ("+3.5", 3.5), ("3,5", 3.5), ("-0,25", -0.25),
    ("1,234", 1.234), ("1.234", 1.234), ("1 234", 1234.0), ("3 456,7", 3456.7),
    ("1\u00a0234", 1234.0), ("12\u202f345", 12345.0), ("1 234 567,5", 1234567.5),
    ("\u22127", -7.0), (",5", 0.5), (" 58,31 ", 58.31), ("007", 7.0),
]

BAD_NUMBERS = ["abc", "1 2 3", "12 34", "1,2,3", "1.234,5", "-", "+", ",", "1e5", "nan",
               "inf", "5 st", "12 %", "0x10", "1..2", "1 2345"]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_numbers(text: str, expected: float) -> None:
    res = parsing.parse_number(s(text))
    assert res.ok[0] and not res.missing[0]
    assert res.values[0] == pytest.approx(expected)
    assert bool(res.integral[0]) is float(expected).is_integer()


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_bad_numbers(text: str) -> None:
    res = parsing.parse_number(s(text, "1"))
    assert not res.ok[0]
    assert np.isnan(res.values[0])
    assert res.ok[1] and res.values[1] == 1.0


def test_number_missing_and_integral_flags() -> None:
    res = parsing.parse_number(s("", "2,0", "2,5", "10 000"))
    assert res.missing.tolist() == [True, False, False, False]
    assert res.ok.all()
    assert res.integral.tolist() == [False, True, False, True]
    assert np.isnan(res.values[0])


def test_numbers_match_python_reference() -> None:
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0, 50_000, 2000), 2)
    texts = []
    for v in values:
        # Reference formatter: Swedish decimal comma and nbsp thousands groups.
        sign = "-" if v < 0 else ""
        whole, frac = f"{abs(v):.2f}".split(".")
        groups = []
        while whole:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        texts.append(sign + "\u00a0".join(groups) + "," + frac)
    res = parsing.parse_number(pd.Series(texts, dtype="str"))
    assert res.ok.all()
    np.testing.assert_allclose(res.values, values)


# --------------------------------------------------------------------------- shares

def test_share_with_percent_sign() -> None:
    res = parsing.parse_share(s("12,3 %", "12,3%", "100 %", "0 %", "7,5\u00a0%"))
    np.testing.assert_allclose(res.values, [0.123, 0.123, 1.0, 0.0, 0.075])
    assert res.ok.all() and res.percent.all()


def test_share_fraction_column() -> None:
    res = parsing.parse_share(s("0,123", "0.5", "1", ""))
    np.testing.assert_allclose(res.values[:3], [0.123, 0.5, 1.0])
    assert res.missing.tolist() == [False, False, False, True]


def test_share_percent_column_without_sign() -> None:
    res = parsing.parse_share(s("12,3", "45", "0,5"))
    np.testing.assert_allclose(res.values, [0.123, 0.45, 0.005])


def test_share_out_of_range_and_garbage() -> None:
    res = parsing.parse_share(s("150 %", "-5 %", "%", "x"))
    assert res.values[0] == pytest.approx(1.5)
    assert res.values[1] == pytest.approx(-0.05)
    assert res.ok.tolist() == [True, True, False, False]
    assert not res.missing.any()


# --------------------------------------------------------------------------- categories

@pytest.mark.parametrize("raw", ["mopedbuskörning", "EPA-traktor", "bilkörning",
                                 "  Buskörning ", "MOPEDER", "motorburen  problematik"])
def test_category_synonyms_motor(raw: str) -> None:
    res = parsing.parse_category(s(raw), INCIDENT_CATEGORY_SYNONYMS, fallback="övrigt")
    assert res.values.to_pylist() == ["motorburen problematik"]
    assert res.ok.all() and not res.unknown.any()


def test_category_unknown_with_fallback_keeps_raw() -> None:
    res = parsing.parse_category(s("Klotter", "tjuvjakt", "", " Tjuvjakt "),
                                 INCIDENT_CATEGORY_SYNONYMS, fallback="övrigt")
    assert res.values.to_pylist() == ["klotter", "övrigt", "", "övrigt"]
    assert res.raw.to_pylist() == ["Klotter", "tjuvjakt", "", "Tjuvjakt"]
    assert res.unknown.tolist() == [False, True, False, True]
    assert res.missing.tolist() == [False, False, True, False]
    assert res.ok.all()


def test_category_unknown_without_fallback_not_ok() -> None:
    gender = SURVEY_RESPONSES.column("gender")
    res = parsing.parse_category(s("K", "Pojkar", "vet ej", "alla"), gender.synonyms)
    assert res.values.to_pylist() == ["kvinna", "man", "", "alla"]
    assert res.ok.tolist() == [True, True, False, True]
    assert res.unknown.tolist() == [False, False, True, False]


def test_category_every_synonym_maps_to_vocabulary() -> None:
    col = INCIDENTS.column("category")
    keys = list(col.synonyms)
    res = parsing.parse_category(pd.Series([k.upper() for k in keys], dtype="str"),
                                 col.synonyms, fallback=col.fallback)
    assert res.values.to_pylist() == [col.synonyms[k] for k in keys]
    assert set(res.values.to_pylist()) <= set(col.vocabulary)


def test_empty_inputs() -> None:
    empty = pd.Series([], dtype="str")
    assert len(parsing.parse_datetime(empty).values) == 0
    assert len(parsing.parse_number(empty).values) == 0
    assert len(parsing.parse_share(empty).values) == 0
    assert len(parsing.parse_category(empty, INCIDENT_CATEGORY_SYNONYMS).values) == 0


@pytest.mark.parametrize("ws", [" ", "\t", "\u00a0", "\u202f", "\u2009", "\u3000", "\r"])
def test_strip_unicode_whitespace(ws: str) -> None:
    out = parsing.strip(pd.Series([f"{ws}a{ws}", f"b{ws}", f"{ws}c", "d", "", f"{ws}"],
                                  dtype="str"))
    assert out.to_pylist() == ["a", "b", "c", "d", "", ""]


def test_strip_untouched_values_and_nulls() -> None:
    out = parsing.strip(pd.Series(["å ä", None, "x y"], dtype=object))
    assert out.to_pylist() == ["å ä", "", "x y"]


# --------------------------------------------------------------------------- fast paths

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)")


def _reference_number(text: str) -> float | None:
    """Plain numbers only (no thousands groups): the documented grammar, by hand."""
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return float(text.replace(",", "."))


def test_plain_numbers_fast_path_matches_reference() -> None:
    """Columns of sign/digit/separator text take the regex-free fast path; whatever the
    path, each value gets the same verdict as when parsed alone and as the grammar says."""
    rng = random.Random(7)
    alphabet = "0123456789.,+-"
    for _ in range(300):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
                 for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.5:  # mostly valid columns, so the fast path is really taken
            texts = [t if _reference_number(t) is not None else "12,5" for t in texts]
        arr = pa.array(["x", *texts], type=rng.choice([pa.string(), pa.large_string()]))
        res = parsing.parse_number(arr.slice(1), stripped=True)
        for i, text in enumerate(texts):
            expected = _reference_number(text)
            assert bool(res.missing[i]) is (text == "")
            if text == "":
                assert res.ok[i] and np.isnan(res.values[i])
            elif expected is None:
                assert not res.ok[i] and np.isnan(res.values[i]), text
            else:
                assert res.ok[i] and res.values[i] == pytest.approx(expected), text


def test_trailing_separator_and_exponent_rejected_in_clean_columns() -> None:
    for bad in ("5.", "5,", "1e5", "-.", "+-1", "1-2"):
        res = parsing.parse_number(s("1,5", bad, "2"))
        assert res.ok.tolist() == [True, False, True], bad
        assert res.values[0] == 1.5 and res.values[2] == 2.0


def test_iso_fast_and_exact_paths_agree() -> None:
    """A clean ISO column is parsed by arrow's cast; one invalid value sends the column
    through the numpy parser. Both must give datetime.fromisoformat's values."""
    rng = np.random.default_rng(5)
    minutes = rng.integers(0, 60 * 24 * 365 * 3, 500)
    texts = []
    for i, m in enumerate(minutes.tolist()):
        ts = datetime(2022, 1, 1) + timedelta(minutes=m, seconds=i % 60)
        texts.append([ts.strftime("%Y-%m-%d"), ts.strftime("%Y-%m-%d %H:%M"),
                      ts.strftime("%Y-%m-%dT%H:%M:%S")][i % 3])
    expected = np.array([datetime.fromisoformat(t) for t in texts], dtype="datetime64[us]")
    timed = [len(t) > 10 for t in texts]
    clean = parsing.parse_datetime(pd.Series(texts, dtype="str"))
    mixed = parsing.parse_datetime(pd.Series([*texts, "2023-02-29"], dtype="str"))
    for res in (clean, mixed):
        assert res.ok[:500].all()
        assert (res.values[:500] == expected).all()
        assert res.has_time[:500].tolist() == timed
    assert not mixed.ok[500] and np.isnat(mixed.values[500])


@pytest.mark.parametrize("text", ["2024-05-01 12", "2024-05-01 12:30Z", "2024-05-01 12:30+01",
                                  "2024-05-01 1230Z", "2024-05-01 23:59:60",
                                  "2024-05-01 24:00", "2024-05-01t12:30", "2024-05-01 12+01"])
def test_forms_arrow_would_accept_or_reject_are_ours(text: str) -> None:
    """Forms outside our formats stay rejected next to clean ISO values (fast path)."""
    res = parsing.parse_datetime(s("2024-05-01", text, "2024-05-02 10:00"))
    assert res.ok.tolist() == [True, False, True]
    assert res.values[2] == np.datetime64("2024-05-02T10:00", "us")


def test_strip_does_not_depend_on_neighbours() -> None:
    """Each value is stripped like pyarrow's utf8_trim_whitespace, whatever the other
    values of the column are (the trim is skipped only when provably unneeded)."""
    values = ["\x1c", "a\x1f", "\u3000b", "c\u2028", "Ö", "ä", "d"]
    reference = pc.utf8_trim_whitespace(pa.array(values)).to_pylist()
    for i, value in enumerate(values):
        assert parsing.strip(pa.array([value])).to_pylist() == [reference[i]]
    assert parsing.strip(pa.array(values)).to_pylist() == reference


def test_value_lengths_from_offsets() -> None:
    arr = pa.array(["x", "", "åäö", None, "abc"], type=pa.string()).slice(1)
    assert parsing.value_lengths(arr).tolist() == [0, 6, 0, 3]
    assert parsing._empty_mask(arr).tolist() == [True, False, True, False]
