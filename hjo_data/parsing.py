"""Vectorised parsers from raw CSV text to typed values.

Every parser takes a string column (``pd.Series`` or pyarrow array), treats the empty
string (after stripping) as *missing*, and returns a small result object with the parsed
values aligned to the input plus boolean numpy masks: ``missing`` (empty input) and ``ok``
(parsed, or missing). Work is done with pyarrow.compute / numpy; Python loops only run
over unique values (categories) or over the rows that the fast path could not parse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data.schema import normalise_value

#: Swedish description of the accepted date formats (used in rejection reasons).
DATE_FORMATS_SV = "ÅÅÅÅ-MM-DD, ÅÅÅÅ-MM-DD TT:MM, ÅÅÅÅMMDD, D.M.ÅÅÅÅ"

_SPACES = "\u0020\u00a0\u202f"
_SEP_BYTES = np.zeros(256, dtype=bool)
_SEP_BYTES[[0x20, 0xA0, 0xAF]] = True
_NUMBER_RE = (
    r"^[+-]?(?:(?:\d+|\d{1,3}(?:[ \x{a0}\x{202f}]\d{3})+)(?:[.,]\d+)?|[.,]\d+)$"
)

# Fallback date formats, tried in turn on rows the ISO fast path did not parse:
# (RE2 shape, strftime-style format for pandas, has_time)
_FALLBACK_FORMATS: tuple[tuple[str, str, bool], ...] = (
    (r"^\d{8}$", "%Y%m%d", False),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y", False),
    (r"^\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}$", "%d.%m.%Y %H:%M", True),
)


# --------------------------------------------------------------------------- helpers

def as_arrow(values: pd.Series | pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    """Any string column as a non-chunked arrow string array with nulls as ""."""
    if isinstance(values, pa.ChunkedArray):
        arr = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif isinstance(values, pa.Array):
        arr = values
    else:
        if isinstance(values, pd.Series) and values.dtype == object:
            values = values.astype("str")
        arr = pa.array(values, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    return arr


#: Whitespace utf8_trim_whitespace removes that we expect in CSV cells, as seen on the raw
#: bytes by ``_needs_trim``: ASCII whitespace (<= 32), NBSP (C2 A0), NEL (C2 85), narrow
#: NBSP (E2 80 AF), the other U+2000..U+200A / U+2028 / U+2029 / U+205F spaces (E2 ..),
#: U+1680 (E1 ..) and U+3000 (E3 80 80): first bytes C2/E1/E2/E3, last bytes 80..8A, 9F,
#: A0, A8, A9, AF.


def _needs_trim(arr: pa.Array) -> bool:
    """Cheap conservative test on the raw bytes: may any value start/end with whitespace?

    An empty value looks at its neighbour's first/last byte: a false alarm at worst."""
    if len(arr) == 0:
        return False
    offsets, data = _string_buffers(arr, pad=0, widen=False)
    if offsets[-1] == offsets[0]:
        return False
    # Empty values point at a neighbour's byte (or, clipped, at some byte of the buffer):
    # at worst a needless trim, never a missed one.
    starts = offsets[:-1].astype(np.intp)
    if starts[-1] >= data.size:
        starts = np.minimum(starts, data.size - 1)
    first = np.take(data, starts)
    # comparisons, not a lookup table: numpy indexes with uint8 slowly
    if ((first <= 32) | (first == 0xC2) | ((first >= 0xE1) & (first <= 0xE3))).any():
        return True
    last = np.take(data, offsets[1:].astype(np.intp) - 1)
    return bool(((last <= 32) | ((last >= 0x80) & (last <= 0x8A)) | (last == 0x9F)
                 | (last == 0xA0) | (last == 0xA8) | (last == 0xA9) | (last == 0xAF)).any())


def strip(values: pd.Series | pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    """Strip surrounding (Unicode) whitespace; nulls become ""."""
    arr = as_arrow(values)
    return pc.utf8_trim_whitespace(arr) if _needs_trim(arr) else arr


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    return arr.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _prepare(values: object, stripped: bool) -> pa.Array:
    return as_arrow(values) if stripped else strip(values)  # type: ignore[arg-type]


def value_lengths(arr: pa.Array) -> np.ndarray:
    """Byte length of every value (int64), straight from the offsets (0 for null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
            or pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        return pc.binary_length(arr).to_numpy(zero_copy_only=False)
    offsets = _string_buffers(arr, pad=0, widen=False, with_data=False)[0]
    lengths = np.diff(offsets).astype(np.int64, copy=False)
    if arr.null_count:
        lengths[~_np_bool(pc.is_valid(arr))] = 0
    return lengths


def _empty_mask(arr: pa.Array) -> np.ndarray:
    """True where the value is "" (or null)."""
    return value_lengths(arr) == 0


# --------------------------------------------------------------------------- dates

@dataclass
class DateParse:
    values: np.ndarray      # datetime64[us], NaT where missing or invalid
    ok: np.ndarray          # parsed or missing
    missing: np.ndarray
    has_time: np.ndarray    # a time of day was given


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _string_buffers(arr: pa.Array, pad: int = 19, *, widen: bool = True,
                    with_data: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(offsets[n + 1], data bytes followed by ``pad`` zero bytes) of a string array.

    ``widen`` converts int32 offsets to int64; ``pad=0`` returns a view of the data
    (no copy); ``with_data=False`` skips the data (an empty array is returned)."""
    off_type = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(
        arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset:arr.offset + len(arr) + 1] \
        if bufs[1] is not None else np.zeros(1, dtype=off_type)
    if widen:
        offsets = offsets.astype(np.int64)
    if not with_data:
        return offsets, np.zeros(0, np.uint8)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(
        0, np.uint8)
    if pad:
        data = np.concatenate([data, np.zeros(pad, np.uint8)])
    return offsets, data


def _iso_fast(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact ISO parser on the raw bytes: ``YYYY-MM-DD`` and ``YYYY-MM-DD[T ]HH:MM[:SS]``.

    Returns (rows, values datetime64[us], has_time, shape_ok) where ``rows`` are the
    positions with an ISO shape, ``values`` NaT where the calendar date/time is invalid.
    """
    offsets, data = _string_buffers(arr)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    rows = np.flatnonzero((lengths == 10) | (lengths == 16) | (lengths == 19))
    if rows.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, "datetime64[us]"), np.zeros(0, bool), np.zeros(0, bool)
    length = lengths[rows]
    base = starts[rows]

    def byte(j: int) -> np.ndarray:
        return data[base + j]

    def digit(j: int) -> tuple[np.ndarray, np.ndarray]:
        v = byte(j) - np.uint8(48)          # wraps for bytes below '0'
        return v.astype(np.int32), v <= 9

    timed = length >= 16
    secs = length == 19
    ok = (byte(4) == 45) & (byte(7) == 45)
    digits: dict[int, np.ndarray] = {}
    for j in (0, 1, 2, 3, 5, 6, 8, 9):
        digits[j], is_digit = digit(j)
        ok &= is_digit
    sep = byte(10)
    time_ok = ((sep == 32) | (sep == 84)) & (byte(13) == 58)
    for j in (11, 12, 14, 15):
        digits[j], is_digit = digit(j)
        time_ok &= is_digit
    sec_ok = byte(16) == 58
    for j in (17, 18):
        digits[j], is_digit = digit(j)
        sec_ok &= is_digit
    ok &= (~timed | time_ok) & (~secs | sec_ok)
    d = digits
    year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
    month = d[5] * 10 + d[6]
    day = d[8] * 10 + d[9]
    hour = np.where(timed, d[11] * 10 + d[12], 0)
    minute = np.where(timed, d[14] * 10 + d[15], 0)
    second = np.where(secs, d[17] * 10 + d[18], 0)
    month_ok = ok & (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + (leap & (month == 2))
    valid = (month_ok & (day >= 1) & (day <= days_in_month) & (hour < 24) & (minute < 60)
             & (second < 60))
    # days since 1970-01-01 (H. Hinnant's days_from_civil), all integer arithmetic
    y = year.astype(np.int64) - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    micros = (days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000
    values = micros.view("datetime64[us]")
    values[~valid] = np.datetime64("NaT")
    return rows, values, timed & valid, ok


def _iso_cast(arr: pa.Array
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Fast path of :func:`_iso_fast` (same result) for a column whose ISO-shaped values
    are all valid: the separators are checked here, arrow's strict ISO-8601 cast checks the
    digits, the calendar and the time of day. None when any ISO-shaped value is invalid
    (then :func:`_iso_fast` words which), or when arrow's parser might be more lenient.

    Only lengths 10, 16 and 19 with '-' at 4 and 7 (and ':' at 13, 16) are cast, so the
    forms arrow accepts beyond ours (``YYYY-MM-DD hh``, zone suffixes, fractions, basic
    ``hhmm``) never reach it.
    """
    offsets, data = _string_buffers(arr, pad=0)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    sized = (lengths == 10) | (lengths == 16) | (lengths == 19)
    rows = np.flatnonzero(sized)
    if rows.size == 0:
        return None
    length = lengths[rows]
    base = starts[rows]
    timed = length >= 16
    secs = length == 19
    shaped = (data[base + 4] == 45) & (data[base + 7] == 45)
    if timed.any():
        shaped[timed] &= data[base[timed] + 13] == 58
    if secs.any():
        shaped[secs] &= data[base[secs] + 16] == 58
    if not shaped.all():
        rows, timed, shaped = rows[shaped], timed[shaped], shaped[shaped]
    if rows.size == 0:
        return None
    sub = arr if rows.size == len(arr) else pc.take(arr, pa.array(rows))
    try:
        cast = pc.cast(sub, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if cast.null_count:  # cannot happen for a null-free input; be safe
        return None
    values = cast.to_numpy(zero_copy_only=False).astype("datetime64[us]", copy=False)
    return rows, values, timed, shaped


def parse_datetime(values: object, *, stripped: bool = False) -> DateParse:
    """Parse dates/datetimes in the accepted formats (see ``DATE_FORMATS_SV``).

    ISO forms (``YYYY-MM-DD``, ``YYYY-MM-DD[T ]HH:MM[:SS]``) are decoded straight from the
    arrow byte buffers with numpy; ``YYYYMMDD`` and ``D.M.YYYY[ HH:MM]`` are tried in turn
    (pandas, explicit format) on the rows still unparsed. Anything else is rejected.
    """
    arr = _prepare(values, stripped)
    n = len(arr)
    missing = _empty_mask(arr)
    out = np.full(n, np.datetime64("NaT", "us"))
    has_time = np.zeros(n, dtype=bool)
    done = missing.copy()
    if n == 0 or missing.all():
        return DateParse(out, done, missing, has_time)

    fast = _iso_cast(arr)
    rows, vals, timed, shaped = fast if fast is not None else _iso_fast(arr)
    good = ~np.isnat(vals)
    out[rows[good]] = vals[good]
    has_time[rows[good]] = timed[good]
    done[rows[good]] = True
    tried = np.zeros(n, dtype=bool)
    tried[rows[shaped]] = True   # ISO-shaped but no calendar date: no other format fits

    rest = np.flatnonzero(~done & ~tried)
    if rest.size:
        sub = pc.take(arr, pa.array(rest))
        for shape, fmt, with_time in _FALLBACK_FORMATS:
            match = _np_bool(pc.match_substring_regex(sub, shape))
            if not match.any():
                continue
            texts = pd.Series(pc.filter(sub, pa.array(match)).to_pylist(), dtype=object)
            parsed = pd.to_datetime(texts, format=fmt, errors="coerce").to_numpy()
            parsed = parsed.astype("datetime64[us]")
            hit = rest[match]
            ok = ~np.isnat(parsed)
            out[hit[ok]] = parsed[ok]
            done[hit[ok]] = True
            has_time[hit[ok]] = with_time
    return DateParse(out, done, missing, has_time)


# --------------------------------------------------------------------------- numbers

@dataclass
class NumberParse:
    values: np.ndarray      # float64, NaN where missing or invalid
    ok: np.ndarray          # syntactically valid number, or missing
    missing: np.ndarray
    integral: np.ndarray    # value is a whole number (False where not ok/missing)
    percent: np.ndarray     # the text ended in "%" (shares only; else all False)


def _parse_number_core(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) for a stripped non-empty string array."""
    n = len(arr)
    values = np.full(n, np.nan)
    # Unicode minus (Excel/Word) -> ASCII hyphen-minus.
    if pc.any(pc.match_substring(arr, "\u2212")).as_py():
        arr = pc.replace_substring(arr, "\u2212", "-")
    ok = _np_bool(pc.match_substring_regex(arr, _NUMBER_RE))
    if not ok.any():
        return values, ok
    good = arr if ok.all() else pc.filter(arr, pa.array(ok))
    data = _string_buffers(good, pad=0)[1]
    # space, or the last byte of NBSP (C2 A0) / narrow NBSP (E2 80 AF); false hits are harmless
    if _SEP_BYTES[data].any():
        good = pc.replace_substring_regex(good, f"[{_SPACES}]", "")
    if (data == ord(",")).any():
        good = pc.replace_substring(good, ",", ".")
    values[ok] = pc.cast(good, pa.float64()).to_numpy(zero_copy_only=False)
    return values, ok


def _plain_numbers(arr: pa.Array, missing: np.ndarray) -> np.ndarray | None:
    """Values (NaN where missing) when every value is a plain number, i.e. matches
    ``[+-]?(\\d+([.,]\\d+)?|[.,]\\d+)``; None when any value needs the exact path.

    On that byte set arrow's float cast accepts ``[+-]?(\\d+(\\.\\d*)?|\\.\\d+)``:
    the only extra form, a trailing separator ("5."), is ruled out first; anything else
    makes the cast fail and the caller falls back to the regular expression.
    """
    offsets, data = _string_buffers(arr, pad=0)
    lo, hi = int(offsets[0]), int(offsets[-1])
    body = data[lo:hi]
    # '+' ',' '-' '.' are 43..46, '/' is 47, digits 48..57 (uint8 wraps below 43)
    if not (((body - np.uint8(43)) <= 14) & (body != 47)).all():
        return None
    present = ~missing
    last = np.take(data, offsets[1:][present] - 1)
    if ((last == 44) | (last == 46)).any():
        return None
    if (body == 44).any():
        body = np.where(body == 44, np.uint8(46), body)
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    plain = pa.Array.from_buffers(
        pa.large_string(), len(arr),
        [validity, pa.py_buffer(offsets - lo), pa.py_buffer(np.ascontiguousarray(body))],
        null_count=int(missing.sum()),
    )
    try:
        cast = pc.cast(plain, pa.float64())
    except pa.ArrowInvalid:
        return None
    return cast.to_numpy(zero_copy_only=False, writable=True)


def parse_number(values: object, *, stripped: bool = False) -> NumberParse:
    """Decimal comma or point, space/nbsp/narrow-nbsp thousands groups, leading sign.

    ``"1,234"`` is 1.234 (Swedish decimal comma), ``"1 234,5"`` is 1234.5.
    """
    arr = _prepare(values, stripped)
    n = len(arr)
    missing = _empty_mask(arr)
    vals = np.full(n, np.nan)
    ok = missing.copy()
    plain = _plain_numbers(arr, missing) if n and not missing.all() else None
    if plain is not None:
        vals = plain
        ok = np.ones(n, dtype=bool)
        present = np.zeros(0, dtype=np.int64)
    else:
        present = np.flatnonzero(~missing)
    if present.size:
        sub = arr if present.size == n else pc.take(arr, pa.array(present))
        v, good = _parse_number_core(sub)
        vals[present] = v
        ok[present] = good
    with np.errstate(invalid="ignore"):
        integral = ok & ~missing & (np.floor(vals) == vals)
    return NumberParse(vals, ok, missing, integral, np.zeros(n, dtype=bool))


def parse_share(values: object, *, stripped: bool = False) -> NumberParse:
    """Proportions: ``"12,3 %"`` -> 0.123; plain numbers are fractions unless the column's
    largest plain value is > 1, in which case the plain values are percent too.

    Range (0..1) is not checked here; ``values`` can lie outside it.
    """
    arr = _prepare(values, stripped)
    percent = _np_bool(pc.match_substring_regex(arr, r"%$"))
    if percent.any():
        arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"%$", ""))
        # "%" alone is not a number: keep it non-empty so it is rejected, not missing.
        arr = pc.if_else(pa.array(percent & _empty_mask(arr)), "%", arr)
    res = parse_number(arr, stripped=True)
    vals = res.values.copy()
    plain = res.ok & ~res.missing & ~percent
    if plain.any() and np.nanmax(vals[plain]) > 1:
        vals[plain] /= 100.0
    vals[percent & res.ok] /= 100.0
    return NumberParse(vals, res.ok, res.missing, res.integral, percent & ~res.missing)


# --------------------------------------------------------------------------- categories

@dataclass
class CategoryParse:
    values: pa.Array        # canonical value; fallback (or "") for unknown; "" for missing
    raw: pa.Array           # stripped input text
    ok: np.ndarray          # known, missing, or unknown with a fallback
    missing: np.ndarray
    unknown: np.ndarray     # non-empty and not in the vocabulary
    #: A "vet ej"-type answer (``resolve`` said so): stored as "" (no answer), never an error.
    no_answer: np.ndarray | None = None
    #: Not in the vocabulary but kept as written (an open vocabulary, ``resolve`` said so).
    kept: np.ndarray | None = None


#: What ``parse_category``'s ``resolve`` returns for a value outside the synonyms:
#: (stored value, kind) with kind "match", "no_answer" or "kept"; None = unknown.
Resolve = Callable[[str], "tuple[str, str] | None"]


def parse_category(
    values: object,
    synonyms: Mapping[str, str],
    *,
    fallback: str | None = None,
    stripped: bool = False,
    resolve: Resolve | None = None,
) -> CategoryParse:
    """Map raw text onto a vocabulary via ``synonyms`` (keys are ``normalise_value`` forms);
    a value not among them is asked to ``resolve`` (matching by meaning), if given.

    Only the unique values are normalised in Python (dictionary encoding).
    """
    arr = _prepare(values, stripped)
    n = len(arr)
    missing = _empty_mask(arr)
    encoded = pc.dictionary_encode(arr)
    uniques = encoded.dictionary.to_pylist()
    mapped: list[str] = []
    known_u = np.zeros(len(uniques), dtype=bool)
    no_answer_u = np.zeros(len(uniques), dtype=bool)
    kept_u = np.zeros(len(uniques), dtype=bool)
    for i, u in enumerate(uniques):
        canonical = synonyms.get(normalise_value(u)) if u else ""
        if canonical is None and resolve is not None:
            found = resolve(u)
            if found is not None:
                canonical, kind = found
                no_answer_u[i] = kind == "no_answer"
                kept_u[i] = kind == "kept"
        if canonical is None:
            mapped.append(fallback if fallback is not None else "")
        else:
            mapped.append(canonical)
            known_u[i] = True
    indices = encoded.indices
    out = pc.take(pa.array(mapped, type=arr.type), indices) if n else arr
    idx_np = indices.to_numpy(zero_copy_only=False)
    known = known_u[idx_np] if n else np.zeros(0, dtype=bool)
    unknown = ~known & ~missing
    ok = known | missing | (unknown if fallback is not None else np.zeros(n, dtype=bool))
    no_answer = no_answer_u[idx_np] if n else np.zeros(0, dtype=bool)
    kept = kept_u[idx_np] if n else np.zeros(0, dtype=bool)
    return CategoryParse(out, arr, ok, missing, unknown, no_answer, kept)
