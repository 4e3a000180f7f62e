"""RawTable + Dataset -> Validated: typed accepted rows, one rejected entry per bad row.

Columns are checked in schema order; a row is rejected with EVERY failing column (the
first failing check of each column), so one round of corrections fixes it. All
work is vectorised (pyarrow.compute / numpy); Python only loops over columns, unique
category values, and the rows that fail (to word their reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data import idset, matching, parsing, privacy, reading, reference
from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.formatting import fmt_number
from hjo_data.idset import HashCounts
from hjo_data.promise import column_default
from hjo_data.schema import Column, Dataset, normalise_header, normalise_value

REJECTED_COLUMNS = ("line", "column", "value", "reason", "raw")
PROBLEM_COLUMNS = ("line", "column", "value", "reason", "kind")
#: Joins the reasons (and columns, values) of a row failing in several columns.
REASON_SEPARATOR = "; "
#: Kinds of problem whose summary line names no value.
KIND_EMPTY, KIND_TOO_LONG, KIND_NO_PAIR = "tomt värde", "för långt värde", "position utan par"
KIND_STRUCTURAL = "kunde inte läsas"
#: Summary lines per (column, kind) before the rest is counted in one line.
SUMMARY_VALUES = 5
#: Longest header shown in a reason before it is shortened (question texts are long).
_SHOWN_HEADER = 40
MIN_DATE = date(2000, 1, 1)
#: Longest accepted cell (characters). Longer values reject the row (never truncated).
MAX_FIELD_CHARS = 10_000
#: Shown part of an over-long value in reports (the quarantine file keeps the whole row).
_SHOWN_CHARS = 200

#: Datasets whose rows are events/respondents without a natural id: identical rows within
#: one file are distinct records, so the derived ``record_id`` also covers the occurrence
#: number among identical rows of the file (0 for the first: unique rows keep the plain
#: content hash). Aggregated tables (survey, youth) keep the plain content hash: a repeated
#: (year, indicator, group) row there is a true duplicate. See ARCHITECTURE.md "Dedup".
ORDINAL_DATASETS = frozenset({"incidents", "survey_responses", "traffic", "activities"})

#: Optional respondent id headers of survey micro data (not a stored column: it only feeds
#: ``record_id``, together with the year).
RESPONDENT_ID_ALIASES = ("respondent_id", "respondent", "respondentid", "löpnummer",
                         "lopnummer", "svars_id", "svarsid", "id")


@dataclass
class Validated:
    accepted: pd.DataFrame
    #: One row per rejected input row: every reason joined ("; ") in ``reason``.
    rejected: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    #: One row per (rejected row, failing column): line, column, value, reason, kind.
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "line" else "str") for c in PROBLEM_COLUMNS}))
    #: Swedish summary per column and value: "52 rader: okänt värde '30-49 år' i Ålder".
    summary: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- formatting

def _rows_sv(count: int) -> str:
    return f"{fmt_number(count)} rad" if count == 1 else f"{fmt_number(count)} rader"


# --------------------------------------------------------------------------- headers

def _suggestion_text(dataset: Dataset, suggestions: list[matching.HeaderMatch]) -> str:
    """Names every uncertain header suggestion ("'x' liknar 'Trygghet sent en kväll' ...")
    and how to confirm it; "" when there is none."""
    parts = [f"'{m.header.strip()}' liknar '{dataset.column(m.column).label}' ({m.reason}, "
             f"säkerhet {round(m.confidence * 100)} %)"
             for m in suggestions if m.column is not None]
    if not parts:
        return ""
    return (" Osäker tolkning används inte utan att du bekräftar den: " + "; ".join(parts)
            + ". Byt namn på kolumnen i filen, använd importguiden under Datahantering eller "
            "en importprofil (--profile).")


# --------------------------------------------------------------------------- rejections

class _Rejections:
    """Collects every failing column per row (the first failing check of each column)."""

    def __init__(self, n: int) -> None:
        self.rejected = np.zeros(n, dtype=bool)
        self._seen: dict[str, np.ndarray] = {}
        self.positions: list[np.ndarray] = []
        self.labels: list[str] = []
        self.values: list[list[str]] = []
        self.reasons: list[list[str]] = []
        self.kinds: list[str] = []

    def add(self, mask: np.ndarray, label: str, texts: pa.Array | np.ndarray | list[str],
            reason: Any, *, kind: str, clip: int | None = None) -> None:
        """Reject rows in ``mask`` that have no reason for column ``label`` yet.
        ``reason(value) -> str`` words it (from the whole value); ``kind`` names it for the
        summary ("okänt värde"); ``clip`` shortens the value kept for the report."""
        seen = self._seen.get(label)
        new = mask if seen is None else mask & ~seen
        if not new.any():
            return
        self._seen[label] = new if seen is None else seen | new
        pos = np.flatnonzero(new)
        if isinstance(texts, pa.Array):
            vals = [str(v) for v in pc.take(texts, pa.array(pos)).to_pylist()]
        elif isinstance(texts, np.ndarray):
            vals = [str(v) for v in texts[pos]]
        else:
            vals = [str(texts[p]) for p in pos]
        self.rejected[pos] = True
        self.positions.append(pos)
        self.labels.append(label)
        self.kinds.append(kind)
        self.reasons.append([reason(v) for v in vals])
        if clip is not None:
            vals = [v if len(v) <= clip else v[:clip] + "…" for v in vals]
        self.values.append(vals)


def _join_raw(frame: pd.DataFrame, pos: np.ndarray) -> list[str]:
    """The original cells of rows ``pos`` joined with ';'."""
    if frame.shape[1] == 0 or pos.size == 0:
        return [""] * pos.size
    rows = frame.iloc[pos]  # the few rejected rows first, then to Arrow
    cols = [parsing.as_arrow(rows.iloc[:, j]) for j in range(rows.shape[1])]
    if len(cols) == 1:
        return cols[0].to_pylist()
    sep = pa.scalar(";", type=cols[0].type)
    return pc.binary_join_element_wise(*cols, sep).to_pylist()


# --------------------------------------------------------------------------- record ids

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _hash_strings(arr: pa.Array) -> np.ndarray:
    """Stable uint64 per string: siphash (pandas, fixed key) of the unique values only."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.uint64)
    enc = pc.dictionary_encode(arr)
    uniq = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    hashed = pd.util.hash_array(uniq, categorize=False)
    return hashed[enc.indices.to_numpy(zero_copy_only=False)]


_mix64 = idset.mix64


def _hash_numeric(values: np.ndarray) -> np.ndarray:
    """Stable uint64 per value from its canonical bit pattern (NaT/NaN each one value)."""
    if values.dtype.kind == "M":
        bits = values.astype("datetime64[us]").view(np.int64)   # NaT is int64 min
    elif values.dtype.kind == "f":
        clean = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN, no -0.0
        bits = clean.astype(np.float64).view(np.int64)
    else:
        bits = values.astype(np.int64)
    return _mix64(bits.view(np.uint64))


def _combine(hashes: list[np.ndarray], n: int) -> np.ndarray:
    acc = np.full(n, 0x345678, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for h in hashes:
            acc = (acc ^ h) * _MIX
            acc ^= acc >> np.uint64(29)
    return acc


#: byte -> its two lower-case hex digits, packed as one uint16 (memory order)
_HEX_PAIRS = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)


def _hex_ids(h: np.ndarray) -> pa.Array:
    """uint64 -> 'h' + 16 lower-case hex digits, built straight into an arrow buffer."""
    n = len(h)
    as_bytes = h.astype(">u8").view(np.uint8).reshape(n, 8)
    chars = np.empty((n, 17), dtype=np.uint8)
    chars[:, 0] = ord("h")
    chars[:, 1:] = _HEX_PAIRS[as_bytes].view(np.uint8).reshape(n, 16)
    offsets = np.arange(0, 17 * n + 1, 17, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


# --------------------------------------------------------------------------- chunks

@dataclass
class ChunkState:
    """What :func:`validate` gathers over the chunks of one streamed file (see there)."""

    rows_before: int = 0
    occurrences: HashCounts = field(default_factory=HashCounts)
    _reading: list[str] = field(default_factory=list)
    _headers: list[str] = field(default_factory=list)
    _unknown: list[str] = field(default_factory=list)
    _bases: frozenset[int] | None = None
    _dataset: Dataset | None = None
    _uncertain: list[matching.HeaderMatch] = field(default_factory=list)
    _tallies: list[tuple[TallyKey, dict[str, int]]] = field(default_factory=list)
    _problems: list[pd.DataFrame] = field(default_factory=list)

    def header(self, reading_warnings: list[str], headers: list[str], unknown: list[str],
               bases: frozenset[int], dataset: Dataset,
               uncertain: list[matching.HeaderMatch]) -> None:
        if self._bases is None:
            self._reading = list(reading_warnings)
            self._headers, self._unknown = list(headers), list(unknown)
            self._dataset, self._uncertain = dataset, list(uncertain)
            self._bases = bases
        else:  # an index column must count on through every chunk
            self._bases &= bases

    def add(self, rows: int, tallies: list[tuple[TallyKey, dict[str, int]]],
            problems: pd.DataFrame) -> None:
        self.rows_before += rows
        if not self._tallies:
            self._tallies = [(key, dict(counts)) for key, counts in tallies]
        else:
            for (_, total), (_, counts) in zip(self._tallies, tallies, strict=True):
                for value, count in counts.items():
                    total[value] = total.get(value, 0) + count
        if len(problems):
            self._problems.append(problems)

    def finish(self) -> tuple[list[str], list[str]]:
        """(warnings, summary) of the whole file, as :func:`validate` words them."""
        warnings = list(self._reading)
        if self._dataset is not None:
            warnings += _header_warnings(self._headers, self._unknown, bool(self._bases),
                                         self._dataset, self._uncertain)
        warnings += _tally_warnings(self._tallies)
        problems = pd.concat(self._problems, ignore_index=True) if self._problems else None
        return warnings, summarise(problems)


# --------------------------------------------------------------------------- validate

def _reason_empty(label: str):
    return lambda _v: f"Kolumnen '{label}' är tom"


def _reason_too_long(label: str):
    return lambda v: (f"Värdet i kolumnen '{label}' är för långt ({fmt_number(len(v))} tecken; "
                      f"högst {fmt_number(MAX_FIELD_CHARS)}). Korta texten och läs in raden igen")


def _missing_columns_error(raw: Any, dataset: Dataset, headers: list[str],
                           missing: list[str],
                           suggestions: list[matching.HeaderMatch] | None = None
                           ) -> UnreadableFileError:
    """Swedish message for a file that lacks required columns of ``dataset``: names the
    missing and the expected columns, and the dataset the headers look like, if any."""
    labels = [dataset.column(m).label for m in missing]
    found = ", ".join(f"'{h}'" for h in headers) or "(inga)"
    required = ", ".join(f"'{c.label}'" for c in dataset.columns if c.required)
    optional = ", ".join(f"'{c.label}'" for c in dataset.columns if not c.required)
    text = (f"Kolumnen '{labels[0]}' saknas i {raw.file_name}. Filen passar inte "
            f"datamängden '{dataset.label}'")
    if len(labels) > 1:
        text += " (saknade kolumner: " + ", ".join(f"'{x}'" for x in labels) + ")"
    text += f". Förväntade kolumner: {required}"
    if optional:
        text += f" (valfria: {optional})"
    text += f". Hittade kolumner: {found}."
    text += _suggestion_text(dataset, [m for m in suggestions or () if m.column in missing])
    try:
        other = reading.detect_dataset(headers)
        if other.name != dataset.name:
            text += f" Filen liknar snarare datamängden '{other.label}' – välj den i stället."
    except Exception:  # noqa: BLE001 - only a hint
        pass
    return UnreadableFileError(text)


def _respondent_header(dataset: Dataset, unknown: list[str]) -> str | None:
    if dataset.name != "survey_responses":
        return None
    keys = {normalise_header(a) for a in RESPONDENT_ID_ALIASES}
    for header in unknown:
        if normalise_header(header) in keys:
            return header
    return None


def _row_index_bases(frame: pd.DataFrame, headers: list[str], unknown: list[str],
                     start: int = 0) -> frozenset[int]:
    """The first column has no header ("Kolumn 1") and holds the row numbers (R's
    ``write.csv`` / pandas ``to_csv`` with the index): the bases (1: 1..n, 0: 0..n-1) its
    values fit, counted from row ``start`` of the file (a streamed chunk); empty: not an
    index."""
    if not unknown or not headers or unknown[0] != headers[0] or headers[0] != "Kolumn 1":
        return frozenset()
    numbers = parsing.parse_number(frame.iloc[:, 0])
    if not numbers.ok.all() or numbers.missing.any():
        return frozenset()
    values = numbers.values
    return frozenset(base for base in (1, 0) if np.array_equal(
        values, np.arange(start + base, start + base + len(values))))


def _occurrence(h: np.ndarray) -> np.ndarray:
    """0 for the first row with a given hash, 1 for the second identical one, ..."""
    if h.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    start = np.r_[True, sorted_h[1:] != sorted_h[:-1]]
    idx = np.arange(h.size, dtype=np.int64)
    group_start = np.maximum.accumulate(np.where(start, idx, 0))
    occ = np.empty(h.size, dtype=np.int64)
    occ[order] = idx - group_start
    return occ


def _column_label(col: Column, header: str | None) -> str:
    """How reasons name a column: the file's own header, with our label when it differs
    (the user finds "Datum" in the file, "Tidpunkt" in the dashboard)."""
    if header is None or matching.header_key(header) == matching.header_key(col.label):
        return col.label
    header = header.strip()
    if len(header) > _SHOWN_HEADER:
        header = header[:_SHOWN_HEADER - 1].rstrip() + "…"
    return f"{header} ({col.label})"

#: Files with at least this many rows have their columns prepared on two threads (the
#: pyarrow.compute / numpy work releases the GIL); smaller ones are not worth a thread.
PARALLEL_MIN_ROWS = 50_000
_WORKERS = 2


@dataclass
class _Prepared:
    """One column's order-independent work: stripped texts, emptiness, over-long values,
    and the parse result (a masked/defaulted text array for text columns)."""

    texts: pa.Array
    empty: np.ndarray
    too_long: np.ndarray | None
    parsed: Any


def _year_from_dates(texts: pa.Array, res: parsing.NumberParse) -> None:
    """A year column given as a date or time stamp ("Tidstämpel" of a survey tool,
    "2025-03-14 10:22:31"): take the year (in place)."""
    bad = np.flatnonzero(~res.ok)
    if bad.size == 0:
        return
    dates = parsing.parse_datetime(pc.take(texts, pa.array(bad)), stripped=True)
    good = dates.ok & ~dates.missing
    if not good.any():
        return
    hit = bad[good]
    res.values[hit] = dates.values[good].astype("datetime64[Y]").astype(np.int64) + 1970
    res.ok[hit] = True
    res.integral[hit] = True


def _prepare_column(col: Column, frame: pd.DataFrame, position: int | None,
                    n: int, dataset: Dataset | None = None) -> _Prepared:
    """Strip and parse one column. Touches nothing shared, so columns can run in threads;
    the rejections (first failing column per row) are applied afterwards, in order."""
    present = position is not None
    if present:
        texts = parsing.strip(frame.iloc[:, position])
    else:
        texts = pa.array([""] * n, type=pa.large_string()) if n else pa.array(
            [], type=pa.large_string())
    lengths = parsing.value_lengths(texts)
    too_long = None
    if present and lengths.size and lengths.max() > MAX_FIELD_CHARS:
        # bytes >= characters: only values long in bytes need counting characters
        long_rows = np.flatnonzero(lengths > MAX_FIELD_CHARS)
        chars = pc.utf8_length(pc.take(texts, pa.array(long_rows)))
        too_long = np.zeros(n, dtype=bool)
        too_long[long_rows[chars.to_numpy(zero_copy_only=False) > MAX_FIELD_CHARS]] = True
    empty = lengths == 0
    parsed: Any
    if col.kind == "text":
        # Every text column, not only free text: a personnummer typed into Område or an
        # id column must not be stored either.
        parsed = privacy.mask_array(texts)
        if col.name == "area":
            parsed, _ = reference.canonical_areas(parsed)
        default = column_default(col)
        if default not in (None, "") and empty.any():
            parsed = pc.if_else(pa.array(empty), str(default), parsed)
    elif col.kind == "category":
        resolve = (matching.value_resolver(dataset, col.name)
                   if dataset is not None and present else None)
        parsed = parsing.parse_category(texts, col.synonyms, fallback=col.fallback,
                                        stripped=True, resolve=resolve)
    elif col.kind in ("date", "datetime"):
        parsed = parsing.parse_datetime(texts, stripped=True)
    elif col.kind == "share":
        parsed = parsing.parse_share(texts, stripped=True)
    else:
        parsed = parsing.parse_number(texts, stripped=True)
        if col.name == "year" and present:
            _year_from_dates(texts, parsed)
    return _Prepared(texts, empty, too_long, parsed)


def _map_columns(func: Callable[[Column], _Prepared], columns: Sequence[Column],
                 n: int) -> list[_Prepared]:
    """``[func(c) for c in columns]``, on two threads for large files (results in order)."""
    if n < PARALLEL_MIN_ROWS or len(columns) < 2:
        return [func(c) for c in columns]
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="validate") as pool:
        return list(pool.map(func, columns))


def validate(raw: Any, dataset: Dataset, *, today: date | None = None,
             chunks: ChunkState | None = None) -> Validated:
    """Check and type every row of ``raw`` (a reading.RawTable) against ``dataset``.

    ``chunks``: ``raw`` is one chunk of a streamed file; what depends on the whole file
    (warnings, the summary, occurrence numbers of identical rows, the row-index column)
    is gathered there and :meth:`ChunkState.finish` words it exactly as a whole-file
    validation would. The chunk's ``Validated`` then has no warnings and no summary.

    Raises UnreadableFileError when a required column is missing from the file.
    """
    today = today or date.today()
    frame: pd.DataFrame = raw.frame
    headers = [str(h) for h in frame.columns]
    header_mapping = reading.map_headers(headers, dataset)
    mapping, unknown = dict(header_mapping.columns), list(header_mapping.unknown)
    if header_mapping.missing_required:
        raise _missing_columns_error(raw, dataset, headers, header_mapping.missing_required,
                                     header_mapping.uncertain)
    warnings: list[str] = list(getattr(raw, "warnings", None) or [])
    respondent = _respondent_header(dataset, unknown)
    if respondent is not None:
        unknown = [h for h in unknown if h != respondent]
    bases = _row_index_bases(frame, headers, unknown,
                             chunks.rows_before if chunks is not None else 0)
    if chunks is not None:
        chunks.header(warnings, headers, unknown, bases, dataset, header_mapping.uncertain)
        warnings = []
    else:
        warnings.extend(_header_warnings(headers, unknown, bool(bases), dataset,
                                         header_mapping.uncertain))

    # canonical name -> position of the first header mapped to it
    positions: dict[str, int] = {}
    for j, header in enumerate(headers):
        name = mapping.get(header)
        if name is not None and name not in positions:
            positions[name] = j

    n = len(frame)
    rej = _Rejections(n)
    out: dict[str, Any] = {}          # canonical stored column -> arrow/numpy values (all n)
    hash_parts: dict[str, Any] = {}   # normalised values feeding the derived record_id
    unknown_cats: list[tuple[Column, parsing.CategoryParse]] = []
    answers: list[tuple[Column, str, parsing.CategoryParse]] = []
    stripped: dict[str, pa.Array] = {}
    lines = np.asarray(raw.lines, dtype=np.int64)
    max_date = np.datetime64(today + timedelta(days=2), "us")   # allow up to tomorrow
    min_date = np.datetime64(MIN_DATE, "us")

    def prepare(col: Column) -> _Prepared:
        return _prepare_column(col, frame, positions.get(col.name), n, dataset)

    prepared = _map_columns(prepare, dataset.columns, n)

    for col, prep in zip(dataset.columns, prepared, strict=True):
        present = col.name in positions
        label = _column_label(col, headers[positions[col.name]] if present else None)
        texts = prep.texts
        stripped[col.name] = texts
        if prep.too_long is not None:
            rej.add(prep.too_long, label, texts, _reason_too_long(label), kind=KIND_TOO_LONG,
                    clip=_SHOWN_CHARS)
        empty = prep.empty
        if col.required:
            rej.add(empty, label, texts, _reason_empty(label), kind=KIND_EMPTY)

        if col.kind == "text":
            texts = prep.parsed
            out[col.name] = texts
            hash_parts[col.name] = texts

        elif col.kind == "category":
            res = prep.parsed
            if col.fallback is None:
                allowed = ", ".join(col.vocabulary)
                rej.add(res.unknown, label, texts,
                        lambda v, lb=label, al=allowed:
                        f"Okänt värde '{v}' i kolumnen '{lb}' (tillåtna värden: {al})",
                        kind="okänt värde")
            out[col.name] = res.values
            hash_parts[col.name] = res.values
            answers.append((col, label, res))
            if col.fallback is not None:
                raw_txt = pc.if_else(pa.array(res.unknown), privacy.mask_array(texts), "")
                out[f"{col.name}_raw"] = raw_txt
                hash_parts[f"{col.name}_raw"] = pc.utf8_lower(raw_txt)
                unknown_cats.append((col, res))

        elif col.kind in ("date", "datetime"):
            res = prep.parsed
            fmts = parsing.DATE_FORMATS_SV
            rej.add(~res.ok, label, texts,
                    lambda v, lb=label, f=fmts:
                    f"Ogiltigt datum '{v}' i kolumnen '{lb}' (tillåtna format: {f})",
                    kind="ogiltigt datum")
            vals = res.values
            valid = ~np.isnat(vals)
            rej.add(valid & (vals < min_date), label, texts,
                    lambda v, lb=label: f"Datum före 2000 ('{v}') i kolumnen '{lb}'",
                    kind="datum före 2000")
            rej.add(valid & (vals >= max_date), label, texts,
                    lambda v, lb=label: f"Datum i framtiden ('{v}') i kolumnen '{lb}'",
                    kind="datum i framtiden")
            if col.kind == "date":
                vals = vals.astype("datetime64[D]").astype("datetime64[us]")
                out[col.name] = vals
                hash_parts[col.name] = vals
            else:
                out[col.name] = vals
                out[f"{col.name}_has_time"] = res.has_time
                hash_parts[col.name] = vals
                hash_parts[f"{col.name}_has_time"] = res.has_time.astype(np.int64)

        else:  # int, float, share
            res = prep.parsed
            rej.add(~res.ok, label, texts,
                    lambda v, lb=label: f"Ogiltigt tal '{v}' i kolumnen '{lb}'",
                    kind="ogiltigt tal")
            vals = res.values
            has = res.ok & ~res.missing
            if col.kind == "int":
                rej.add(has & ~res.integral, label, texts,
                        lambda v, lb=label: f"Inte ett heltal '{v}' i kolumnen '{lb}'",
                        kind="inte ett heltal")
            if col.kind == "share":
                with np.errstate(invalid="ignore"):
                    bad = has & ((vals < 0) | (vals > 1))
                rej.add(bad, label, texts,
                        lambda v, lb=label:
                        f"Andelen '{v}' i kolumnen '{lb}' ligger utanför 0–100 %",
                        kind="andel utanför 0–100 %")
            with np.errstate(invalid="ignore"):
                # Years are written without thousands separator ("2000", not "2 000").
                fmt = (lambda x: str(int(x))) if col.name == "year" else fmt_number
                if col.minimum is not None:
                    lo = fmt(col.minimum)
                    rej.add(has & (vals < col.minimum), label, texts,
                            lambda v, lb=label, lo=lo:
                            f"Värdet '{v}' i kolumnen '{lb}' är mindre än {lo}",
                            kind="för litet värde")
                if col.maximum is not None:
                    hi = fmt(col.maximum)
                    rej.add(has & (vals > col.maximum), label, texts,
                            lambda v, lb=label, hi=hi:
                            f"Värdet '{v}' i kolumnen '{lb}' är större än {hi}",
                            kind="för stort värde")
            default = column_default(col)
            if default is not None and res.missing.any():
                vals = np.where(res.missing, float(default), vals)  # type: ignore[arg-type]
            if col.kind == "int":
                vals = np.where(np.isnan(vals), 0, vals).astype(np.int64)
            out[col.name] = vals
            hash_parts[col.name] = vals

        # Positions must come in pairs: a latitude without longitude is unusable.
        if col.name == "lon" and "lat" in out:
            lat_has = ~np.isnan(out["lat"])
            lon_has = ~np.isnan(out["lon"])
            rej.add(lat_has & ~lon_has, label, texts,
                    lambda _v: "Latitud angiven utan longitud", kind=KIND_NO_PAIR)
            rej.add(lon_has & ~lat_has, dataset.column("lat").label, stripped["lat"],
                    lambda _v: "Longitud angiven utan latitud", kind=KIND_NO_PAIR)

    respondent_ids = None
    if respondent is not None:
        respondent_ids = parsing.strip(frame.iloc[:, headers.index(respondent)])
    keep = ~rej.rejected
    accepted = _build_accepted(dataset, out, hash_parts, keep, lines, respondent_ids,
                               occurrences=chunks.occurrences if chunks is not None else None)
    tallies = _tallies(unknown_cats, answers, keep)
    problems, rejected = _build_rejected(raw, frame, rej, lines)
    if chunks is not None:
        chunks.add(n, tallies, problems)
        return Validated(accepted=accepted, rejected=rejected, problems=problems)
    warnings.extend(_tally_warnings(tallies))
    return Validated(accepted=accepted, rejected=rejected, warnings=warnings,
                     problems=problems, summary=summarise(problems))


def _take(values: Any, keep: np.ndarray, keep_idx: pa.Array | None) -> Any:
    """The kept rows (``keep_idx``: the boolean mask as Arrow; filter beats take)."""
    if isinstance(values, pa.Array):
        return values if keep_idx is None else pc.filter(values, keep_idx)
    return values if keep_idx is None else values[keep]


def _build_accepted(dataset: Dataset, out: dict[str, Any], hash_parts: dict[str, Any],
                    keep: np.ndarray, lines: np.ndarray,
                    respondent_ids: pa.Array | None = None,
                    occurrences: HashCounts | None = None) -> pd.DataFrame:
    keep_idx = None if keep.all() else pa.array(keep)
    k = int(keep.sum())
    cols: dict[str, pd.Series] = {}

    id_col = dataset.id_column
    derive = np.ones(k, dtype=bool)
    ids: pa.Array | None = None
    if id_col is not None:
        ids = _take(out[id_col], keep, keep_idx)
        derive = parsing._empty_mask(ids)
    record_id = ids if ids is not None else pa.array([""] * k, type=pa.large_string())
    if derive.any():
        sel = None if derive.all() else np.flatnonzero(derive)
        sel_idx = None if sel is None else pa.array(sel)
        hashes = []
        for name in dataset.stored_columns:
            if name in (id_col, "record_id", "batch_id") or name not in hash_parts:
                continue
            if dataset.key_columns and name not in dataset.key_columns:
                continue  # the natural key alone identifies a row (statistik)
            part = _take(hash_parts[name], keep, keep_idx)
            if isinstance(part, pa.Array):
                part = part if sel_idx is None else pc.take(part, sel_idx)
                hashes.append(_hash_strings(part))
            else:
                part = part if sel is None else part[sel]
                hashes.append(_hash_numeric(part))
        combined = _combine(hashes, int(derive.sum()))
        if dataset.name in ORDINAL_DATASETS:
            # identical rows within the file are distinct records (see ORDINAL_DATASETS)
            occ = _occurrence(combined)
            if occurrences is not None:  # identical rows in earlier chunks of the file
                occ = occ + occurrences.lookup(combined)
                occurrences.add(combined)
            later = occ > 0
            if later.any():
                salted = _combine([combined[later], _hash_numeric(occ[later])],
                                  int(later.sum()))
                combined = combined.copy()
                combined[later] = salted
        derived = _hex_ids(combined)
        if respondent_ids is not None:
            resp = _take(respondent_ids, keep, keep_idx)
            resp = resp if sel_idx is None else pc.take(resp, sel_idx)
            has_resp = ~parsing._empty_mask(resp)
            if has_resp.any():
                year = _take(out["year"], keep, keep_idx)
                year = year if sel is None else year[sel]
                rid = _combine([_hash_numeric(year), _hash_strings(resp)], len(resp))
                rid_hex = pc.utf8_replace_slice(_hex_ids(rid), 0, 1, "r")
                derived = pc.if_else(pa.array(has_resp), rid_hex, derived)
        if sel is None:
            record_id = derived
        else:
            pos = np.zeros(k, dtype=np.int64)
            pos[sel] = np.arange(sel.size)
            record_id = pc.if_else(pa.array(derive), pc.take(derived, pa.array(pos)),
                                   record_id)

    for name in dataset.stored_columns:
        if name == "batch_id":
            continue
        if name == "record_id":
            values: Any = record_id
        else:
            values = _take(out[name], keep, keep_idx)
        if isinstance(values, pa.Array):
            series = values.to_pandas()
            if series.dtype != "str":
                series = series.astype("str")
        else:
            series = pd.Series(values, copy=False)  # the arrays are ours: no copy needed
        cols[name] = series.reset_index(drop=True)
    cols["_line"] = pd.Series(lines[keep], dtype=np.int64, copy=False)
    # copy=False also skips consolidating same-dtype columns into 2-D blocks (a copy).
    frame = pd.DataFrame(cols, copy=False)
    for col in dataset.columns:  # enforce the contract's dtypes, also for empty frames
        if col.kind in ("text", "category"):
            frame[col.name] = frame[col.name].astype("str")
        elif col.kind in ("date", "datetime"):
            frame[col.name] = frame[col.name].astype("datetime64[us]")
            if col.kind == "datetime":
                frame[f"{col.name}_has_time"] = frame[f"{col.name}_has_time"].astype(bool)
        elif col.kind == "int":
            frame[col.name] = frame[col.name].astype(np.int64)
        else:
            frame[col.name] = frame[col.name].astype(np.float64)
    for name in dataset.stored_columns:
        if name.endswith("_raw") or name == "record_id":
            frame[name] = frame[name].astype("str")
    return frame


#: A warning's kind and wording keys: ("unknown", label, fallback) for an unknown
#: category kept as the fallback, ("no_answer", label) / ("kept", label) for answers.
TallyKey = tuple[str, ...]


def _tallies(unknown_cats: Iterable[tuple[Column, parsing.CategoryParse]],
             answers: Iterable[tuple[Column, str, parsing.CategoryParse]],
             keep: np.ndarray) -> list[tuple[TallyKey, dict[str, int]]]:
    """Rows per raw value behind each aggregated warning, in warning order (the same
    keys for every chunk of a file, so chunks add up)."""
    out: list[tuple[TallyKey, dict[str, int]]] = []
    for col, res in unknown_cats:
        out.append((("unknown", col.label, str(col.fallback)),
                    _raw_counts(res.raw, res.unknown & keep)))
    for col, label, res in answers:
        no_answer = _raw_counts(res.raw, res.no_answer & keep) \
            if res.no_answer is not None else {}
        kept = _raw_counts(res.raw, res.kept & keep) if res.kept is not None else {}
        out.append((("no_answer", label), no_answer))
        out.append((("kept", col.label), kept))
    return out


def _tally_warnings(tallies: Iterable[tuple[TallyKey, dict[str, int]]]) -> list[str]:
    """Swedish warnings: unknown categories kept as the fallback, "no answer" values
    ("Vet ej") and unknown values kept as written, one line per value."""
    warnings: list[str] = []
    for key, counts in tallies:
        for shown, count in _grouped_counts(counts):
            if key[0] == "unknown":
                warnings.append(f"{_rows_sv(count)}: okänd {key[1].lower()} '{shown}' "
                                f"sparas som '{key[2]}'")
            elif key[0] == "no_answer":
                warnings.append(f"{_rows_sv(count)}: '{shown}' i kolumnen '{key[1]}' räknas "
                                "som saknat svar")
            else:
                warnings.append(
                    f"{_rows_sv(count)}: okänd {key[1].lower()} '{shown}' sparas som den "
                    "står (den finns inte bland de inställda och visas inte i diagrammen)")
    return warnings


def _raw_counts(texts: pa.Array, sel: np.ndarray) -> dict[str, int]:
    """Rows per value among the selected texts, values in order of first appearance."""
    if not sel.any():
        return {}
    counts = pc.value_counts(pc.filter(texts, pa.array(sel))).to_pylist()
    return {item["values"]: int(item["counts"]) for item in counts}


def _grouped_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(shown value, rows), spellings differing only in case or spacing counted
    together (shown as first met); most rows first. Personnummer masked."""
    grouped: dict[str, list[Any]] = {}
    for value, count in counts.items():
        entry = grouped.setdefault(normalise_value(value), [value, 0])
        entry[1] += count
    return [(privacy.mask_text(shown), count)
            for shown, count in sorted(grouped.values(), key=lambda e: (-e[1], e[0]))]


def _header_warnings(headers: list[str], unknown: list[str], row_index: bool,
                     dataset: Dataset, uncertain: list[matching.HeaderMatch]) -> list[str]:
    """The row-index column and the unknown columns (ignored)."""
    warnings: list[str] = []
    if row_index:
        unknown = unknown[1:]
        warnings.append(f"Den första kolumnen ('{headers[0]}') saknar rubrik och innehåller "
                        "bara radnummer 1, 2, 3 … (t.ex. från R:s write.csv): den ignoreras.")
    if unknown:
        warnings.append("Okända kolumner ignoreras: " + ", ".join(f"'{h}'" for h in unknown)
                        + _suggestion_text(dataset, uncertain))
    return warnings


def _build_rejected(raw: Any, frame: pd.DataFrame, rej: _Rejections,
                    lines: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(problems: one row per failing column of a row, rejected: one row per row with its
    reasons joined), both sorted by line (a row's problems in column order)."""
    pos_parts: list[np.ndarray] = []
    column_parts: list[str] = []
    value_parts: list[str] = []
    reason_parts: list[str] = []
    kind_parts: list[str] = []
    for pos, label, vals, reasons, kind in zip(rej.positions, rej.labels, rej.values,
                                               rej.reasons, rej.kinds, strict=True):
        pos_parts.append(pos)
        column_parts.extend([label] * pos.size)
        value_parts.extend(vals)
        reason_parts.extend(reasons)
        kind_parts.extend([kind] * pos.size)
    pos_all = np.concatenate(pos_parts) if pos_parts else np.zeros(0, dtype=np.int64)
    row_pos = np.unique(pos_all)
    raw_texts = dict(zip(row_pos.tolist(), _join_raw(frame, row_pos), strict=True))
    line_all = lines[pos_all] if pos_all.size else np.zeros(0, dtype=np.int64)
    # structural errors: negative positions, after the rows (their lines are unique)
    structural = [err if isinstance(err, RowError) else RowError(**err)
                  for err in getattr(raw, "structural_errors", None) or []]
    for k, err in enumerate(structural):
        raw_texts[-1 - k] = getattr(err, "raw", None) or err.value
    pos_all = np.concatenate([pos_all, -1 - np.arange(len(structural), dtype=np.int64)])
    line_all = np.concatenate([line_all, np.array([e.line for e in structural],
                                                  dtype=np.int64)])
    column_parts.extend(e.column for e in structural)
    value_parts.extend(e.value for e in structural)
    reason_parts.extend(e.reason for e in structural)
    kind_parts.extend([KIND_STRUCTURAL] * len(structural))

    problems = pd.DataFrame({
        "_pos": pd.Series(pos_all, dtype=np.int64),
        "line": pd.Series(line_all, dtype=np.int64),
        "column": pd.Series(column_parts, dtype="str"),
        "value": privacy.mask_personnummer(pd.Series(value_parts, dtype="str")),
        "reason": privacy.mask_personnummer(pd.Series(reason_parts, dtype="str")),
        "kind": pd.Series(kind_parts, dtype="str"),
    }).sort_values(["line", "_pos"], kind="stable").reset_index(drop=True)
    multi = problems["_pos"].duplicated(keep=False).to_numpy()
    single = problems.loc[~multi, ["_pos", "line", "column", "value", "reason"]]
    if multi.any():
        joined = (problems.loc[multi].groupby("_pos", sort=False)
                  .agg(line=("line", "first"),
                       column=("column", REASON_SEPARATOR.join),
                       value=("value", REASON_SEPARATOR.join),
                       reason=("reason", REASON_SEPARATOR.join))
                  .reset_index())
        single = pd.concat([single, joined], ignore_index=True)
    raws = [raw_texts[p] for p in single["_pos"].tolist()]
    rejected = pd.DataFrame({
        "line": single["line"].astype(np.int64).to_numpy(),
        "column": single["column"].astype("str").to_numpy(),
        "value": single["value"].astype("str").to_numpy(),
        "reason": single["reason"].astype("str").to_numpy(),
        "raw": privacy.mask_personnummer(pd.Series(raws, dtype="str")).to_numpy(),
    })
    for name in ("column", "value", "reason", "raw"):
        rejected[name] = rejected[name].astype("str")
    rejected = rejected.sort_values("line", kind="stable").reset_index(drop=True)
    return problems.drop(columns="_pos"), rejected


def summarise(problems: pd.DataFrame, *, per_group: int = SUMMARY_VALUES) -> list[str]:
    """Swedish lines counting rejected rows per column, kind and value:
    "52 rader: okänt värde '30-49 år' i Ålder". Groups (column, kind) with most rows come
    first, within a group the values with most rows; at most ``per_group`` values are
    named, the rest is one line ("… 7 rader till: ogiltigt datum i Datum (4 andra
    värden)")."""
    if problems is None or len(problems) == 0:
        return []
    groups: list[tuple[int, list[str]]] = []
    for (column, kind), group in problems.groupby(["column", "kind"], sort=False):
        rows = len(group)
        where = f" i {column}" if column else ""
        if kind == KIND_STRUCTURAL:
            first = group.iloc[0]
            groups.append((rows, [f"{_rows_sv(rows)}: {kind} (t.ex. rad "
                                  f"{int(first['line'])}: {first['reason']})"]))
            continue
        if kind in (KIND_EMPTY, KIND_TOO_LONG, KIND_NO_PAIR):
            groups.append((rows, [f"{_rows_sv(rows)}: {kind}{where}"]))
            continue
        counts = group["value"].value_counts(sort=False).sort_index(kind="stable")
        counts = counts.sort_values(ascending=False, kind="stable")
        lines = [f"{_rows_sv(int(count))}: {kind} '{value}'{where}"
                 for value, count in list(counts.items())[:per_group]]
        rest = counts.iloc[per_group:]
        if len(rest):
            lines.append(f"… {_rows_sv(int(rest.sum()))} till: {kind}{where} "
                         f"({fmt_number(len(rest))} andra värden)")
        groups.append((rows, lines))
    groups.sort(key=lambda item: -item[0])
    return [line for _, lines in groups for line in lines]


def content_hash(frame: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    """A uint64 per row over ``columns`` of a validated frame: text by its bytes, numbers
    and time stamps by their bit pattern (NaN / NaT each one value). Equal rows, equal
    hashes (within one process and across machines)."""
    hashes = []
    for name in columns:
        values = frame[name]
        if values.dtype == "str" or values.dtype == object:
            hashes.append(_hash_strings(parsing.as_arrow(values)))  # by unique value
        else:
            hashes.append(_hash_numeric(values.to_numpy()))
    return _combine(hashes, len(frame))
