"""Swedish formatting: separators, signs, missing values, dates, weeks, months."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from hjo_data import formatting as f

S = "\u00a0"  # the documented thousands / percent separator (no-break space)
M = "\u2212"  # true minus


def test_separator_constants_are_the_documented_characters() -> None:
    assert f.NBSP == "\u00a0"
    assert f.MINUS == "\u2212"
    assert f.MISSING == "\u2013"
    assert f.plotly_separators == ", "
    assert len(f.plotly_separators) == 2 and f.plotly_separators[0] == ","


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1000, f"1{S}000"),
        (1234567, f"1{S}234{S}567"),
        (-1234, f"{M}1{S}234"),
        (np.int64(42), "42"),
        (2.6, "3"),
    ],
)
def test_fmt_int(value: object, expected: str) -> None:
    assert f.fmt_int(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, f"1{S}234,5"),
        (1234.5, 2, f"1{S}234,50"),
        (0.25, 0, "0"),  # round half to even on the binary value
        (-0.04, 1, "0,0"),  # rounds to zero: no minus sign
        (-12.34, 1, f"{M}12,3"),
        (-1234.56, 1, f"{M}1{S}234,6"),
        (1e6, 1, f"1{S}000{S}000,0"),
    ],
)
def test_fmt_float(value: float, decimals: int, expected: str) -> None:
    assert f.fmt_float(value, decimals) == expected


def test_fmt_pct() -> None:
    assert f.fmt_pct(0.123) == f"12,3{S}%"
    assert f.fmt_pct(0.5, decimals=0) == f"50{S}%"
    assert f.fmt_pct(1) == f"100,0{S}%"
    assert f.fmt_pct(12.5) == f"1{S}250,0{S}%"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, math.inf])
def test_missing_values_format_as_dash(missing: object) -> None:
    for fn in (f.fmt_int, f.fmt_float, f.fmt_pct, f.fmt_change, f.fmt_pp):
        assert fn(missing) == "–"
    assert f.fmt_ci(missing, 0.5) == "–"
    assert f.fmt_ci(0.1, missing) == "–"


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT, np.datetime64("NaT"), pd.NA])
def test_missing_dates_format_as_dash(missing: object) -> None:
    for fn in (f.fmt_date, f.fmt_datetime, f.fmt_week, f.fmt_month, f.fmt_quarter,
               f.fmt_weekday):
        assert fn(missing) == "–"


def test_fmt_change_signs() -> None:
    assert f.fmt_change(12) == "+12"
    assert f.fmt_change(-3) == f"{M}3"
    assert f.fmt_change(0) == "0"
    assert f.fmt_change(2.5) == "+2,5"
    assert f.fmt_change(-1500) == f"{M}1{S}500"
    assert f.fmt_change(0.05, pct=True) == f"+5,0{S}%"
    assert f.fmt_change(-0.123, pct=True) == f"{M}12,3{S}%"
    assert f.fmt_change(1.26, decimals=1) == "+1,3"
    assert f.fmt_pp(0.021) == f"+2,1{S}procentenheter"


def test_fmt_ci() -> None:
    assert f.fmt_ci(0.102, 0.145) == f"(10,2–14,5{S}%)"
    assert f.fmt_ci(3.14, 4.0, pct=False) == "(3,1–4,0)"
    assert f.fmt_ci(0.0, 0.27754) == f"(0,0–27,8{S}%)"


def test_dates() -> None:
    d = date(2024, 5, 1)
    for value in (d, datetime(2024, 5, 1, 23, 59), pd.Timestamp("2024-05-01 08:00"),
                  np.datetime64("2024-05-01"), "2024-05-01"):
        assert f.fmt_date(value) == "2024-05-01"
    assert f.fmt_datetime(pd.Timestamp("2024-05-01 14:05:59")) == "2024-05-01 14:05"
    assert f.fmt_month(d) == "maj 2024"
    assert f.fmt_month(date(2023, 12, 31)) == "december 2023"
    assert f.fmt_quarter(d) == "K2 2024"
    assert f.fmt_quarter(date(2024, 12, 31)) == "K4 2024"
    assert f.fmt_weekday(d) == "onsdag"


@pytest.mark.parametrize(
    ("day", "week", "with_year"),
    [
        (date(2024, 5, 1), "v. 18", "v. 18 2024"),
        (date(2024, 12, 30), "v. 1", "v. 1 2025"),  # Monday of ISO week 1 of 2025
        (date(2021, 1, 3), "v. 53", "v. 53 2020"),  # Sunday still in 2020's week 53
        (date(2021, 1, 4), "v. 1", "v. 1 2021"),
        (date(2023, 1, 1), "v. 52", "v. 52 2022"),
    ],
)
def test_fmt_week_iso(day: date, week: str, with_year: str) -> None:
    assert f.fmt_week(day) == week
    assert f.fmt_week(day, with_year=True) == with_year


def test_month_and_weekday_names() -> None:
    assert len(f.SWEDISH_MONTHS) == 12 and f.SWEDISH_MONTHS[4] == "maj"
    assert len(f.SWEDISH_MONTHS_SHORT) == 12
    assert f.SWEDISH_WEEKDAYS[0] == "måndag" and f.SWEDISH_WEEKDAYS[6] == "söndag"
    # weekday index matches date.weekday(): 2024-05-05 was a Sunday
    assert f.SWEDISH_WEEKDAYS[date(2024, 5, 5).weekday()] == "söndag"


@pytest.mark.parametrize(("value", "expected"), [
    (0, "0"), (1234, "1\u00a0234"), (2000.0, "2\u00a0000"), (0.25, "0,25"), (1.5, "1,5"),
    (0.000025, "0,000025"), (-3, "\u22123"), (None, "\u2013")])
def test_fmt_number_is_the_shortest_swedish_form(value, expected) -> None:  # noqa: ANN001
    assert f.fmt_number(value) == expected
