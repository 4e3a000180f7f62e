"""Personnummer masking: applied to free text before anything is written to disk.

Masks Swedish personnummer and samordningsnummer (day of month + 60) written as
``YYMMDD-NNNN``, ``YYMMDD+NNNN``, ``YYMMDDNNNN``, ``YYYYMMDD-NNNN`` or ``YYYYMMDDNNNN``.
A candidate is only masked when its date part is a real calendar date, and it must not be
part of a longer digit run: a 9- or 14-digit number, an ISO date, a phone number such as
``0503-123 45`` or a 10-digit number whose first six digits are no date stay untouched.
The check digit is deliberately *not* required: a mistyped personnummer is still personal.
"""

from __future__ import annotations

import calendar
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MASK = "[personnummer]"

# Python regex (look-arounds keep the match from being part of a longer digit run).
_PNR = re.compile(
    r"(?<!\d)"
    r"(?:(?P<century>1[89]|20)(?P<yy4>\d{2})|(?P<yy2>\d{2}))"
    r"(?P<month>\d{2})(?P<day>\d{2})"
    r"(?P<sep>[-+\u2010\u2011\u2012\u2013]?)"
    r"\d{4}"
    r"(?!\d)"
)
# Cheap prefilter (RE2 in pyarrow, also valid Python): a 10- or 12-digit group with a
# plausible month and day, not part of a longer digit run. Exact checks follow in Python.
_CANDIDATE = (
    r"(?:^|\D)(?:\d{2}|\d{4})(?:0[1-9]|1[0-2])(?:[0-36-9]\d)"
    r"[-+\x{2010}-\x{2013}]?\d{4}(?:\D|$)"
)
_CANDIDATE_PY = re.compile(_CANDIDATE.replace("\\x{2010}-\\x{2013}", "\u2010-\u2013"))


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int | None, month: int, day: int) -> bool:
    """Is (year, month, day) a calendar date? day > 60 is a samordningsnummer (day + 60)."""
    if day > 60:
        day -= 60
    if not 1 <= month <= 12 or day < 1 or day > _DAYS[month - 1]:
        return False
    if month == 2 and day == 29 and year is not None:
        # Two-digit years leave the century open, so 29 February is then always allowed.
        return calendar.isleap(year)
    return True


def _replace(match: re.Match[str]) -> str:
    month = int(match["month"])
    day = int(match["day"])
    if match["century"] is not None:
        year: int | None = int(match["century"] + match["yy4"])
    else:
        year = None
    return MASK if _valid_date(year, month, day) else match.group(0)


def mask_text(text: str) -> str:
    """Mask every personnummer/samordningsnummer in one string."""
    if not isinstance(text, str) or not text:
        return text
    if not _CANDIDATE_PY.search(text):
        return text
    return _PNR.sub(_replace, text)


def mask_personnummer(series: pd.Series) -> pd.Series:
    """Vectorised :func:`mask_text` for a string Series (index and dtype kept).

    A fast RE2 prefilter finds the few values with six consecutive digits; only those
    (as unique values) go through the exact Python regex.
    """
    if len(series) == 0:
        return series.copy()
    arr = pa.array(series, from_pandas=True)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.large_string())
    masked = mask_array(arr)
    out = masked.to_pandas()
    out.index = series.index
    out.name = series.name
    if out.dtype != series.dtype and series.dtype == object:
        out = out.astype(object)
    return out


def mask_array(arr: pa.Array) -> pa.Array:
    """Arrow variant of :func:`mask_personnummer` (used by validation; nulls kept)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return arr
    cand = pc.fill_null(pc.match_substring_regex(arr, _CANDIDATE), False)
    idx = np.flatnonzero(cand.to_numpy(zero_copy_only=False))
    if idx.size == 0:
        return arr
    values = pc.take(arr, pa.array(idx)).to_pylist()
    masked = {v: mask_text(v) for v in set(values)}  # loop over unique values only
    replaced = [masked[v] for v in values]
    if replaced == values:
        return arr
    # Scatter the masked values back (positions without a candidate keep their value).
    pos = np.full(len(arr), -1, dtype=np.int64)
    pos[idx] = np.arange(idx.size)
    patch = pa.array(replaced, type=arr.type)
    taken = pc.take(patch, pa.array(np.where(pos >= 0, pos, 0)))
    return pc.if_else(pa.array(pos >= 0), taken, arr)
