"""CSV export that Swedish Excel opens correctly and that cannot carry a formula.

File format: UTF-8 with BOM (Excel then detects UTF-8, so å ä ö survive), ``;`` as the
delimiter and decimal comma (the Swedish list separator / decimal sign), CRLF line ends,
dates ISO (``2024-05-01``; ``2024-05-01 14:30`` when a column carries times), missing
values as empty cells, booleans ``ja``/``nej``.

Formula (CSV) injection, following OWASP: every *text* cell - and every header - that
starts with ``= + - @``, a tab or a carriage return (or the full-width ``＝ ＋ － ＠``) gets a
leading single quote, so a spreadsheet shows it as text instead of evaluating it.
Numbers are not touched: they are written by this module from numeric dtypes, so a cell
like ``-5`` or ``-2,5`` only ever holds digits, a sign and a comma, which no spreadsheet
evaluates as a formula. A *string* ``"-5"`` is text from a file and is neutralised.

Public mode never exports row-level data (``export_dataset`` refuses it, except for the
survey/youth datasets whose rows are already aggregates); ``export_aggregate`` gives
suppressed counts instead.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import date, datetime
from numbers import Integral, Real

import numpy as np
import pandas as pd

from hjo_data.disclosure import AGGREGATE_DATASETS as _AGGREGATE_DATASETS
from hjo_data.disclosure import (
    KEY_MOD,
    DisclosureError,
    DisclosureSettings,
    RowLevelNotPublicError,
    assert_public_safe,
    check_audience,
    perturb_counts,
    public_columns,
    public_frame,
    record_keys,
    suppress_counts,
)
from hjo_data.disclosure import SHARE_COLUMNS as _SHARE_COLUMNS
from hjo_data.schema import DATASETS, Dataset, get_dataset, stored_column_labels

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r",
                                     "\uff1d", "\uff0b", "\uff0d", "\uff20")
DELIMITER = ";"
TOTAL_LABEL_SV = "Totalt"
#: Temporary column holding the record keys while cell keys are summed.
_KEY = "_record_key"
COUNT_LABEL_SV = "Antal"


def neutralise_cell(value: str) -> str:
    """Prefix a text cell that a spreadsheet would read as a formula with ``'``."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _format_number(value: float) -> str:
    """Positional notation (never 1e-05), shortest exact form, decimal comma, no grouping."""
    if not math.isfinite(value):
        return ""
    return np.format_float_positional(value, trim="-").replace(".", ",")


def _format_cell(value: object, *, with_time: bool) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "ja" if value else "nej"
    if isinstance(value, (Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (Real, np.floating)):
        return _format_number(float(value))
    if isinstance(value, (datetime, np.datetime64)):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return ""
        return ts.strftime("%Y-%m-%d %H:%M") if with_time else ts.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):  # pragma: no cover - caught above
        return ""
    return neutralise_cell(str(value))


def _column_has_time(values: pd.Series) -> bool:
    if not pd.api.types.is_datetime64_any_dtype(values):
        return any(isinstance(v, datetime) and (v.hour, v.minute, v.second) != (0, 0, 0)
                   for v in values if v is not None and v is not pd.NaT)
    clean = values.dropna()
    return bool((clean != clean.dt.normalize()).any())


def _format_column(values: pd.Series, with_time: bool) -> list[str]:
    """One column as cell texts; vectorised for the common dtypes, per cell otherwise.
    ``with_time`` is decided for the whole column (see ``_time_flags``)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) and not values.isna().any():
        return np.where(values.to_numpy(dtype=bool), "ja", "nej").tolist()
    if pd.api.types.is_integer_dtype(dtype) and not values.isna().any():
        return values.astype("int64").astype("str").tolist()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        pattern = "%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d"
        return values.dt.strftime(pattern).fillna("").astype("str").tolist()
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        text = values.fillna("").astype("str")
        risky = text.str.startswith(FORMULA_PREFIXES)
        return ("'" + text).where(risky, text).tolist()
    return [_format_cell(v, with_time=with_time) for v in values.tolist()]


def _time_flags(data: pd.DataFrame) -> list[bool]:
    """Per column: are times of day written? One decision per column, so every chunk of
    a large export formats a column the same way."""
    flags = []
    for pos in range(data.shape[1]):
        values = data.iloc[:, pos]
        dated = (pd.api.types.is_datetime64_any_dtype(values.dtype)
                 or pd.api.types.is_object_dtype(values.dtype))
        flags.append(_column_has_time(values) if dated else False)
    return flags


#: Rows formatted at a time: the Python strings of one chunk, not of the whole export,
#: are in memory at once (an export of every incident can hold a million rows).
CHUNK_ROWS = 50_000


def to_csv_bytes(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    """The frame as Excel-ready CSV bytes (see the module docstring for the format)."""
    data = frame.reset_index() if index else frame
    out = io.BytesIO()

    def write(rows: Sequence[Sequence[str]] | zip) -> None:
        text = io.StringIO()
        csv.writer(text, delimiter=DELIMITER, lineterminator="\r\n",
                   quoting=csv.QUOTE_MINIMAL).writerows(rows)
        out.write(text.getvalue().encode("utf-8"))

    out.write("\ufeff".encode())  # BOM: Excel then reads UTF-8
    write([[neutralise_cell(str(c)) for c in data.columns]])
    flags = _time_flags(data)
    for start in range(0, len(data), CHUNK_ROWS):
        chunk = data.iloc[start:start + CHUNK_ROWS]
        columns = [_format_column(chunk.iloc[:, pos], flags[pos])
                   for pos in range(chunk.shape[1])]
        write(zip(*columns, strict=True) if columns else [[] for _ in range(len(chunk))])
    return out.getvalue()


# --------------------------------------------------------------------------- datasets


def _labelled(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Rename canonical columns to their Swedish labels (which ingest accepts as headers)."""
    labels = stored_column_labels(dataset)
    return frame.rename(columns=lambda c: labels.get(c, c))


def _clock_where_given(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Date-time columns as text with the clock only on rows that had one
    (``<column>_has_time``): a re-imported export keeps which incidents had a time."""
    out = frame
    for col in dataset.columns:
        flag = f"{col.name}_has_time"
        if col.kind != "datetime" or col.name not in frame or flag not in frame:
            continue
        values = pd.to_datetime(frame[col.name])
        has_time = frame[flag].fillna(False).astype(bool)
        text = values.dt.strftime("%Y-%m-%d %H:%M").where(has_time,
                                                          values.dt.strftime("%Y-%m-%d"))
        out = out.assign(**{col.name: text.fillna("").astype("str")})
    return out


def export_dataset(frame: pd.DataFrame, dataset_name: str, audience: str,
                   settings: DisclosureSettings | None = None) -> bytes:
    """A whole dataset as CSV.

    official: every column, canonical columns under their Swedish labels.
    public: only for datasets whose rows are already aggregates (survey, youth): public
    columns, and share values based on fewer than ``min_survey_n`` answers left empty.
    Row-level datasets raise RowLevelNotPublicError: use ``export_aggregate``.
    """
    aud = check_audience(audience)
    dataset = get_dataset(dataset_name)
    if aud == "official":
        return to_csv_bytes(_labelled(_clock_where_given(frame, dataset), dataset))
    if dataset.name not in _AGGREGATE_DATASETS:
        raise RowLevelNotPublicError()
    s = settings or DisclosureSettings()
    safe = public_frame(frame, dataset)
    n = pd.to_numeric(safe["n"], errors="coerce") if "n" in safe.columns else None
    if n is not None:
        hidden = n.isna() | (n < s.min_survey_n)
        for col in _SHARE_COLUMNS:
            if col in safe.columns:
                safe[col] = pd.to_numeric(safe[col], errors="coerce").astype(
                    "float64").where(~hidden)
    assert_public_safe(safe, dataset)
    return to_csv_bytes(_labelled(safe, dataset))


def aggregate_counts(frame: pd.DataFrame, by: Sequence[str], *,
                     value: str | None = None) -> pd.DataFrame:
    """Count rows (or sum ``value``) by one or two columns, with "Totalt" margins.

    One column -> a table with one count column; two -> rows by ``by[0]``, columns by
    ``by[1]``. Categories keep the schema's vocabulary order when the values fit it.
    """
    by = list(by)
    if not 1 <= len(by) <= 2:
        raise ValueError("by måste vara en eller två kolumner")
    missing = [c for c in [*by, *([value] if value else [])] if c not in frame.columns]
    if missing:
        raise KeyError(f"Kolumner saknas: {missing}")
    weights = (pd.to_numeric(frame[value], errors="coerce").fillna(0) if value
               else pd.Series(1, index=frame.index, dtype="int64"))
    keys = [frame[c].astype("str").where(frame[c].notna(), "(saknas)") for c in by]
    if len(by) == 1:
        table = weights.groupby(keys[0]).sum().to_frame(COUNT_LABEL_SV)
        table.index.name = by[0]
    else:
        table = pd.crosstab(keys[0], keys[1], values=weights, aggfunc="sum").fillna(0)
        table.index.name, table.columns.name = by[0], by[1]
    table = table.astype("int64")
    table = table.loc[_ordered(table.index, by[0])]
    if len(by) == 2:
        table = table.loc[:, _ordered(table.columns, by[1])]
        table[TOTAL_LABEL_SV] = table.sum(axis=1)
    table.loc[TOTAL_LABEL_SV] = table.sum(axis=0)
    return table


def _ordered(labels: pd.Index, column: str) -> list[str]:
    vocab: tuple[str, ...] = ()
    for ds in DATASETS.values():
        if column in ds.column_names and ds.column(column).vocabulary:
            vocab = ds.column(column).vocabulary
            break
    rank = {v: i for i, v in enumerate(vocab)}
    return sorted(labels, key=lambda v: (rank.get(v, len(rank)), str(v)))


def export_aggregate(frame: pd.DataFrame, dataset_name: str, by: Sequence[str],
                     audience: str, settings: DisclosureSettings | None = None, *,
                     value: str | None = None) -> bytes:
    """Counts by ``by`` (one or two columns) as CSV; suppressed in public mode.

    Public mode allows grouping only by public-safe columns (or derived columns the caller
    added, such as a week label), never by a datetime column (per-timestamp groups would
    be row-level) nor by free text, positions or ids.
    """
    aud = check_audience(audience)
    dataset = get_dataset(dataset_name)
    s = settings or DisclosureSettings()
    if aud == "public":
        allowed = set(public_columns(dataset))
        known = set(dataset.stored_columns) | {"_line"}
        for col in [*by, *([value] if value else [])]:
            if col in known and col not in allowed:
                raise DisclosureError(f"Kolumnen {col} får inte användas i publikt läge.")
            if col in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[col]):
                raise DisclosureError(
                    f"Gruppera inte på tidpunkt ({col}) i publikt läge – använd vecka, "
                    "månad eller år.")
    table = aggregate_counts(frame, by, value=value)
    if aud == "public" and value is not None:  # a sum, not a count of records
        result = suppress_counts(table, s.threshold, suppress_zero=s.suppress_zero)
        out = table.astype("object").where(~result.suppressed, result.display)
    elif aud == "public":
        # Cell-key perturbation (docs/PRIVACY.md): every cell and every "Totalt" published
        # on its own from its records' keys, so a total minus the shown cells is noise.
        keys = aggregate_counts(frame.assign(**{_KEY: record_keys(frame)}), by,
                                value=_KEY) % KEY_MOD
        result = perturb_counts(table, keys, s.threshold)
        # Published counts stay numbers in the file; hidden cells carry the marker text.
        out = result.numeric.astype("object").where(~result.suppressed, result.display)
        out = out.map(lambda v: int(v) if isinstance(v, float) else v)
    else:
        out = table
    labels = {c.name: c.label for c in dataset.columns}
    out = out.rename_axis(index=labels.get(by[0], by[0]), columns=None)
    return to_csv_bytes(out, index=True)
