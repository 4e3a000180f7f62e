"""Swedish number, date and week formatting for the UI.

Conventions (used consistently by every function here):

* Thousands separator: NO-BREAK SPACE U+00A0 (``NBSP``), so "1 234" never wraps
  between digits. (The narrow no-break space U+202F is typographically nicer but missing
  from several UI fonts.) The space before "%" is also U+00A0.
* Decimal separator: comma.
* Negative numbers and negative changes use the true minus sign U+2212 (``MINUS``).
* Ranges use the en dash U+2013: "(10,2–14,5 %)".
* Missing values (None, NaN, NaT, pd.NA) format as ``MISSING`` = "–" (en dash).
* Dates are ISO (2024-05-01); weeks are ISO weeks ("v. 18"); months are lower case
  Swedish ("maj 2024"); quarters "K2 2024".
"""

from __future__ import annotations

import math
from datetime import date, datetime
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

NBSP = "\u00a0"
MINUS = "\u2212"
EN_DASH = "\u2013"
MISSING = EN_DASH

#: For plotly ``layout.separators``: decimal comma, space as thousands separator.
#: (A plain space is fine in SVG text, which never wraps.)
plotly_separators = ", "

SWEDISH_MONTHS: tuple[str, ...] = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)
SWEDISH_MONTHS_SHORT: tuple[str, ...] = (
    "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
)
#: Index = ``date.weekday()`` (Monday = 0).
SWEDISH_WEEKDAYS: tuple[str, ...] = (
    "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag",
)
SWEDISH_WEEKDAYS_SHORT: tuple[str, ...] = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA (scalars only)."""
    if value is None:
        return True
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if isinstance(result, (bool, np.bool_)) else False


def _number(value: Any) -> float | None:
    """Float value of a real scalar, or None for missing / non-finite / non-numbers."""
    if is_missing(value) or isinstance(value, bool):
        return None
    if not isinstance(value, (Real, np.number)):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _grouped(x: float, decimals: int) -> str:
    """Absolute value with Swedish separators; the sign is handled by the caller."""
    text = f"{abs(x):,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def _signed(x: float, decimals: int, *, plus: bool = False) -> str:
    body = _grouped(x, decimals)
    # A value that rounds to zero gets no sign ("0,0", never "−0,0" or "+0,0").
    if round(abs(x), decimals) == 0:
        return body
    if x < 0:
        return MINUS + body
    return "+" + body if plus else body


def fmt_int(value: Any) -> str:
    """1234567 -> "1 234 567" (rounded to a whole number)."""
    x = _number(value)
    return MISSING if x is None else _signed(x, 0)


def fmt_float(value: Any, decimals: int = 1) -> str:
    """1234.5 -> "1 234,5"."""
    x = _number(value)
    return MISSING if x is None else _signed(x, decimals)


def fmt_number(value: Any, max_decimals: int = 6) -> str:
    """Shortest Swedish form, for messages: 1234 -> "1 234", 0.25 -> "0,25", 1.5 -> "1,5"
    (no trailing zeros; at most ``max_decimals`` decimals)."""
    x = _number(value)
    if x is None:
        return MISSING
    text = _signed(x, max_decimals)
    return text.rstrip("0").rstrip(",") if "," in text else text


def fmt_megabytes(n_bytes: float) -> str:
    """Bytes as MB for messages: whole MB from 10 MB, else one decimal ("2,5", "51")."""
    mb = float(n_bytes) / (1024 * 1024)
    return fmt_float(mb, 0 if mb >= 10 or mb.is_integer() else 1)


def fmt_pct(share: Any, decimals: int = 1) -> str:
    """A proportion 0..1 as percent: 0.123 -> "12,3 %"."""
    x = _number(share)
    return MISSING if x is None else _signed(x * 100, decimals) + NBSP + "%"


def fmt_change(diff: Any, pct: bool = False, decimals: int | None = None) -> str:
    """A signed change: 12 -> "+12", -3 -> "−3"; with ``pct`` a proportion 0.05 -> "+5,0 %".

    ``decimals`` defaults to 1 for percent, and for numbers to 0 when the value is whole,
    else 1. Zero has no sign.
    """
    x = _number(diff)
    if x is None:
        return MISSING
    if pct:
        return _signed(x * 100, 1 if decimals is None else decimals, plus=True) + NBSP + "%"
    if decimals is None:
        decimals = 0 if float(x).is_integer() else 1
    return _signed(x, decimals, plus=True)


def fmt_pp(diff: Any, decimals: int = 1) -> str:
    """A difference of two proportions in percentage points: 0.021 -> "+2,1 procentenheter"."""
    x = _number(diff)
    if x is None:
        return MISSING
    return _signed(x * 100, decimals, plus=True) + NBSP + "procentenheter"


def fmt_ci(low: Any, high: Any, pct: bool = True, decimals: int = 1) -> str:
    """Confidence interval: (0.102, 0.145) -> "(10,2–14,5 %)"; ``pct=False`` -> "(3,1–4,0)"."""
    lo, hi = _number(low), _number(high)
    if lo is None or hi is None:
        return MISSING
    if pct:
        return f"({_signed(lo * 100, decimals)}{EN_DASH}{_signed(hi * 100, decimals)}{NBSP}%)"
    return f"({_signed(lo, decimals)}{EN_DASH}{_signed(hi, decimals)})"


def _as_date(value: Any) -> date | None:
    if is_missing(value):
        return None
    if isinstance(value, datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (np.datetime64, str)):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.date()
    return None


def fmt_date(value: Any) -> str:
    """ISO date: "2024-05-01"."""
    d = _as_date(value)
    return MISSING if d is None else d.isoformat()


def fmt_datetime(value: Any) -> str:
    """"2024-05-01 14:05" (minutes; no seconds)."""
    if is_missing(value):
        return MISSING
    ts = pd.Timestamp(value)
    return MISSING if pd.isna(ts) else ts.strftime("%Y-%m-%d %H:%M")


def fmt_week(value: Any, with_year: bool = False) -> str:
    """ISO week of a date: "v. 18"; ``with_year`` adds the ISO year: "v. 1 2025"."""
    d = _as_date(value)
    if d is None:
        return MISSING
    iso_year, week, _ = d.isocalendar()
    return f"v. {week} {iso_year}" if with_year else f"v. {week}"


def fmt_month(value: Any) -> str:
    """"maj 2024"."""
    d = _as_date(value)
    return MISSING if d is None else f"{SWEDISH_MONTHS[d.month - 1]} {d.year}"


def fmt_quarter(value: Any) -> str:
    """"K2 2024"."""
    d = _as_date(value)
    return MISSING if d is None else f"K{(d.month - 1) // 3 + 1} {d.year}"


def fmt_weekday(value: Any) -> str:
    """"onsdag"."""
    d = _as_date(value)
    return MISSING if d is None else SWEDISH_WEEKDAYS[d.weekday()]
