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


def _re2_pattern() -> str:
    """The exact personnummer rule as one RE2 pattern (no look-arounds in RE2).

    Calendar validity is spelled out: months with 31/30 days, February with 29 only in
    leap years when the century is known (two-digit years always allow 29), and the
    samordningsnummer days (+60). The surrounding ``(^|\\D)`` / ``(\\D|$)`` groups stand
    in for the look-arounds and are written back by the replacement.
    """
    d31 = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    d30 = r"(?:0[1-9]|[12]\d|30|6[1-9]|[78]\d|90)"
    d29 = r"(?:0[1-9]|1\d|2\d|6[1-9]|7\d|8\d)"
    d28 = r"(?:0[1-9]|1\d|2[0-8]|6[1-9]|7\d|8[0-8])"
    m31 = r"(?:0[13578]|1[02])"
    m30 = r"(?:0[469]|11)"
    md_short = rf"(?:{m31}{d31}|{m30}{d30}|02{d29})"         # two-digit year
    md_long = rf"(?:{m31}{d31}|{m30}{d30}|02{d28})"          # four-digit year, not 29 Feb
    leap = r"(?:(?:1[89]|20)(?:0[48]|[2468][048]|[13579][26])|2000)"
    long = rf"(?:(?:1[89]|20)\d\d{md_long}|{leap}02(?:29|89))"
    short = rf"\d\d{md_short}"
    sep = r"[-+\x{2010}-\x{2013}]?"
    return rf"(^|\D)(?:{long}|{short}){sep}\d{{4}}(\D|$)"


_RE2_PNR = _re2_pattern()


def _digit_run_rows(arr: pa.Array) -> np.ndarray:
    """Rows that may hold a personnummer, found with numpy on the raw bytes: a run of at
    least ten ASCII digits (RE2's ``\\d``), or a run of at least six followed, after at
    most three other bytes (a dash, also a UTF-8 one), by a run of at least four. A
    superset of the candidate pattern; ids such as "EST-00012345" are not in it. A run
    spanning two adjacent values flags both (harmless)."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    bufs = arr.buffers()
    if bufs[1] is None or bufs[2] is None:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)[
        arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    body = np.frombuffer(bufs[2], dtype=np.uint8)[lo:hi]
    digits = np.flatnonzero((body - np.uint8(48)) < 10)   # uint8 wraps below '0'
    if digits.size < 10:
        return np.zeros(0, dtype=np.int64)
    cut = np.flatnonzero(np.diff(digits) != 1)
    starts = digits[np.concatenate([[0], cut + 1])]
    ends = digits[np.concatenate([cut, [digits.size - 1]])]   # inclusive
    lengths = ends - starts + 1
    long = lengths >= 10
    pair = (lengths[:-1] >= 6) & (starts[1:] - ends[:-1] <= 4) & (lengths[1:] >= 4)
    first = np.concatenate([starts[long], starts[:-1][pair]])
    last = np.concatenate([ends[long], ends[1:][pair]])
    # every row from the one where a run starts to the one where it ends (a run may
    # span values that lie next to each other in the buffer)
    n = len(arr)
    marks = np.zeros(n + 1, dtype=np.int64)
    for at, step in ((first, 1), (last, -1)):
        rows = np.clip(np.searchsorted(offsets, at + lo, side="right") - 1, 0, n - 1)
        np.add.at(marks, rows + (step < 0), step)
    return np.flatnonzero(np.cumsum(marks[:n]) > 0)


def mask_array(arr: pa.Array) -> pa.Array:
    """Arrow variant of :func:`mask_personnummer` (used by validation; nulls kept).

    Fully vectorised (RE2). Two passes: a match consumes the character after the number,
    so a personnummer directly following another one is only found in the second pass.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return arr
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        # Free text is mostly without numbers: every personnummer form holds six digits
        # in a row (YYMMDD), so only those rows are looked at.
        rows = _digit_run_rows(arr)
    else:  # pragma: no cover - defensive, validation passes strings
        long_enough = pc.fill_null(pc.greater_equal(pc.binary_length(arr), 10), False)
        rows = np.flatnonzero(long_enough.to_numpy(zero_copy_only=False))
    if rows.size == 0:
        return arr
    sub = arr if rows.size == len(arr) else pc.take(arr, pa.array(rows))
    cand = pc.fill_null(pc.match_substring_regex(sub, _CANDIDATE), False)
    hit = cand.to_numpy(zero_copy_only=False)
    if not hit.any():
        return arr
    rows = rows[hit]
    sub = pc.filter(sub, cand)
    for _ in range(2):
        sub = pc.replace_substring_regex(sub, _RE2_PNR, rf"\1{MASK}\2")
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(arr, pa.array(mask), sub.cast(arr.type))
