"""Personnummer masking: many positive and negative cases, scalar and vectorised."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from hjo_data.privacy import MASK, mask_personnummer, mask_text

POSITIVE = [
    "19800101-1234",          # YYYYMMDD-NNNN
    "198001011234",           # YYYYMMDDNNNN
    "800101-1234",            # YYMMDD-NNNN
    "800101+1234",            # YYMMDD+NNNN (over 100 years old)
    "8001011234",             # YYMMDDNNNN
    "800161-1234",            # samordningsnummer: day 01 + 60
    "19800191-1234",          # samordningsnummer: day 31 + 60
    "20000229-1234",          # leap day in a leap year
    "000229-1234",            # two-digit year: century unknown, 29 Feb allowed
    "800101\u20131234",       # en dash, as Word turns "-" into
    "20240501-1234",          # a child born 2024
]

NEGATIVE = [
    "123456789",              # 9 digits
    "12345678901234",         # 14 digits
    "2024-05-01",             # ISO date
    "0503-123 45",            # phone number (Hjo area code)
    "1234567890",             # 10 digits, "123456" is no date
    "801301-1234",            # month 13
    "800100-1234",            # day 00
    "800132-1234",            # day 32 (not a samordningsnummer either)
    "800431-1234",            # 31 April
    "19800231-1234",          # 31 February
    "19000229-1234",          # 1900 was no leap year
    "800192-1234",            # day 92 (= 32 + 60)
    "80010-11234",            # separator in the wrong place
    "1980010112345",          # 13 digits
    "Ärende 2024-1234",       # case number
    "kl. 12.30 den 1/5",
]


@pytest.mark.parametrize("pnr", POSITIVE)
def test_personnummer_masked_alone_and_in_text(pnr: str) -> None:
    assert mask_text(pnr) == MASK
    assert mask_text(f"Anmälare {pnr} ringde.") == f"Anmälare {MASK} ringde."
    assert mask_text(f"({pnr})") == f"({MASK})"
    assert mask_text(f"pnr:{pnr}") == f"pnr:{MASK}"


@pytest.mark.parametrize("text", NEGATIVE)
def test_non_personnummer_kept(text: str) -> None:
    assert mask_text(text) == text
    assert mask_text(f"Se {text} i rapporten") == f"Se {text} i rapporten"


def test_several_and_adjacent_numbers() -> None:
    text = "800101-1234,850505-1111 och 19700101-0000;8001011234"
    assert mask_text(text) == f"{MASK},{MASK} och {MASK};{MASK}"


def test_generated_valid_dates_all_masked() -> None:
    """Every calendar day (and its samordningsnummer) is masked; a reference loop builds them."""
    day = date(1996, 1, 1)
    texts = []
    while day < date(2000, 1, 1):
        texts.append(f"{day:%Y%m%d}-1234")
        texts.append(f"{day:%y%m}{day.day + 60:02d}-5678")
        day += timedelta(days=1)
    out = mask_personnummer(pd.Series(texts, dtype="str"))
    assert (out == MASK).all()
    assert len(out) == 2 * (date(2000, 1, 1) - date(1996, 1, 1)).days


def test_series_matches_scalar_and_keeps_index_and_dtype() -> None:
    values = [f"x {p} y" for p in POSITIVE] + NEGATIVE + ["", "ingen siffra"]
    series = pd.Series(values, dtype="str", index=range(100, 100 + len(values)), name="t")
    out = mask_personnummer(series)
    assert out.tolist() == [mask_text(v) for v in values]
    assert list(out.index) == list(series.index)
    assert out.name == "t"
    assert out.dtype == series.dtype
    assert out.iloc[0] == f"x {MASK} y"
    assert out.iloc[len(POSITIVE)] == NEGATIVE[0]


def test_series_edge_cases() -> None:
    assert mask_personnummer(pd.Series([], dtype="str")).empty
    obj = mask_personnummer(pd.Series(["800101-1234", None], dtype=object))
    assert obj.iloc[0] == MASK
    assert pd.isna(obj.iloc[1])
    untouched = pd.Series(["a", "b"], dtype="str")
    assert mask_personnummer(untouched).tolist() == ["a", "b"]


def test_mask_text_non_strings_passthrough() -> None:
    assert mask_text("") == ""
    assert mask_text(None) is None  # type: ignore[arg-type]


def test_vectorised_matches_scalar_on_random_tokens() -> None:
    """The RE2 (vectorised) rule and the Python (scalar) rule are written independently;
    they must agree on random digit strings around the personnummer shape."""
    import numpy as np

    rng = np.random.default_rng(11)
    n = 6000
    digit_rows = rng.integers(0, 10, size=(n, 13)).astype(str)
    lengths = rng.choice([9, 10, 11, 12, 13], size=n)
    plausible = rng.random(n) < 0.6  # bias towards real dates
    centuries = rng.choice(["18", "19", "20", ""], size=n)
    months = rng.integers(0, 14, size=n)
    days = np.where(rng.random(n) < 0.5, rng.integers(0, 33, size=n), rng.integers(59, 93, n))
    years = rng.integers(0, 100, size=n)
    seps = rng.choice(["", "", "-", "+", " ", "/"], size=n)
    heads = rng.choice(["", "a ", "x", "1"], size=n)
    tails = rng.choice(["", " b", "9", ",800101-1234"], size=n)
    texts = []
    for i in range(n):
        digits = "".join(digit_rows[i, :lengths[i]])
        if plausible[i]:
            digits = (f"{centuries[i]}{years[i]:02d}{months[i]:02d}{days[i]:02d}"
                      + "".join(digit_rows[i, :4]))
        cut = len(digits) - 4
        texts.append(f"{heads[i]}{digits[:cut]}{seps[i]}{digits[cut:]}{tails[i]}")
    out = mask_personnummer(pd.Series(texts, dtype="str"))
    expected = [mask_text(t) for t in texts]
    assert out.tolist() == expected
    assert sum(MASK in e for e in expected) > 600  # the sample really exercises masking


def test_arrow_masking_digit_prefilter_edges() -> None:
    """mask_array only runs the regex on rows with six digits in a row. Runs that cross a
    row boundary, sliced arrays, both offset widths and nulls must not change the result:
    every value is masked exactly as mask_text masks it alone."""
    import pyarrow as pa

    from hjo_data.privacy import mask_array

    values = ["text 800101", "-1234 mer", None, "", "19800101-1234", "123", "456789",
              "kl 12:30, 3 st", "Ring 0503-123 45", "800101-1234 och 8001011234", "åäö"]
    expected = [v if v is None else mask_text(v) for v in values]
    assert expected[4] == MASK and expected[0] == values[0]  # the sample has both kinds
    for typ in (pa.string(), pa.large_string()):
        arr = pa.array(["000000", *values], type=typ).slice(1)
        assert mask_array(arr).to_pylist() == expected
    no_digits = pa.array(["Krossad ruta", "", None])
    assert mask_array(no_digits) is no_digits  # nothing to look at: returned untouched
