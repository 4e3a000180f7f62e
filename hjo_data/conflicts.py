"""Id conflicts: a record whose given id already exists — in the store or earlier in the
same file — with OTHER content. Never a duplicate (that would silently drop the new
content): the row is rejected with the differing columns named, or, when the caller asks
for it (``ingest --replace``, the upload page's checkbox), replaces the stored row.

Only ids the file gives count (``incident_id``, a survey respondent id): a derived id is
a hash of the content, so an equal derived id means equal content (a duplicate). Datasets
with ``revision_columns`` (statistik) have their own rule (revisions, ``Store.upsert``).

Pure: frames and Arrow tables in, results out (``Store`` supplies the stored rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data.formatting import fmt_int
from hjo_data.schema import Dataset, stored_column_labels

__all__ = ["Conflicts", "compared_columns", "explicit_ids", "find_conflicts",
           "rejected_rows"]

_DERIVED = r"^h[0-9a-f]{16}$"
_SHOWN_COLUMNS = 4


@dataclass(frozen=True)
class Conflicts:
    """Conflicting rows of an accepted frame (positions into it, in frame order)."""

    positions: np.ndarray                 # int64 row positions
    columns: tuple[tuple[str, ...], ...]  # differing stored columns (canonical names)
    in_file: np.ndarray                   # bool: with an earlier row of the same file
    other_line: np.ndarray                # int64: that earlier row's line (else 0)

    def __len__(self) -> int:
        return int(self.positions.size)

    @property
    def with_store(self) -> np.ndarray:
        """Positions of the conflicts with a stored row (the ones ``--replace`` replaces)."""
        return self.positions[~self.in_file]

    def mask(self, n: int, *, with_store: bool = True, in_file: bool = True) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        out[self.positions[(~self.in_file & with_store) | (self.in_file & in_file)]] = True
        return out


NONE = Conflicts(np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=bool),
                 np.zeros(0, dtype=np.int64))


def compared_columns(ds: Dataset) -> list[str]:
    """The stored columns whose values make a record's content."""
    return [c for c in ds.stored_columns if c not in ("record_id", "batch_id")]


def explicit_ids(ds: Dataset, frame: pd.DataFrame) -> np.ndarray:
    """Rows whose ``record_id`` the file gave (not derived from the content)."""
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    ids = pa.array(frame["record_id"], type=pa.string(), from_pandas=True)
    derived = pc.fill_null(pc.match_substring_regex(ids, _DERIVED), True)
    return ~np.asarray(derived.to_numpy(zero_copy_only=False), dtype=bool)


def _same(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise equality where null == null and NaN == NaN."""
    equal = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    same = pc.or_(equal, both_null)
    if pa.types.is_floating(a.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)


def _differences(new: pa.Table, old: pa.Table, columns: list[str]) -> list[tuple[str, ...]]:
    """Per row pair: the columns whose values differ."""
    diff = np.zeros((new.num_rows, len(columns)), dtype=bool)
    for j, name in enumerate(columns):
        a = new[name].combine_chunks()
        b = old[name].combine_chunks().cast(a.type)
        diff[:, j] = ~_same(a, b)
    return [tuple(columns[j] for j in np.flatnonzero(row)) for row in diff]


def find_conflicts(ds: Dataset, frame: pd.DataFrame, table: pa.Table, stored: pa.Table
                   ) -> Conflicts:
    """Conflicts of ``frame`` (validated rows; ``table`` = the same rows in the stored
    schema) against ``stored`` (the stored rows with any of the frame's ids)."""
    n = len(frame)
    if n == 0 or ds.revision_columns:
        return NONE
    explicit = explicit_ids(ds, frame)
    if not explicit.any():
        return NONE
    columns = compared_columns(ds)
    ids = frame["record_id"].astype("str")
    lines = frame["_line"].to_numpy(dtype=np.int64) if "_line" in frame else np.zeros(n, int)
    # the first row of the file with each id
    codes, uniques = pd.factorize(ids)
    first = np.full(len(uniques), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
    first_pos = first[codes]
    later = explicit & (first_pos != np.arange(n))
    positions: list[np.ndarray] = []
    diffs: list[tuple[str, ...]] = []
    in_file: list[np.ndarray] = []
    other: list[np.ndarray] = []
    if later.any():
        rows = np.flatnonzero(later)
        pairs = _differences(table.take(pa.array(rows)),
                             table.take(pa.array(first_pos[rows])), columns)
        hit = np.array([bool(d) for d in pairs], dtype=bool)
        positions.append(rows[hit])
        diffs.extend(d for d in pairs if d)
        in_file.append(np.ones(int(hit.sum()), dtype=bool))
        other.append(lines[first_pos[rows[hit]]])
    if stored.num_rows:
        stored_ids = stored["record_id"].combine_chunks().cast(pa.string())
        arr = pa.array(ids, type=pa.string())
        in_store = np.asarray(pc.is_in(arr, value_set=stored_ids).to_numpy(
            zero_copy_only=False), dtype=bool)
        rows = np.flatnonzero(explicit & in_store & (first_pos == np.arange(n)))
        if rows.size:
            where = pc.index_in(pc.take(arr, pa.array(rows)), value_set=stored_ids)
            old = stored.take(where)
            pairs = _differences(table.take(pa.array(rows)), old, columns)
            hit = np.array([bool(d) for d in pairs], dtype=bool)
            positions.append(rows[hit])
            diffs.extend(d for d in pairs if d)
            in_file.append(np.zeros(int(hit.sum()), dtype=bool))
            other.append(np.zeros(int(hit.sum()), dtype=np.int64))
    if not positions:
        return NONE
    pos = np.concatenate(positions)
    order = np.argsort(pos, kind="stable")
    return Conflicts(pos[order], tuple(diffs[i] for i in order),
                     np.concatenate(in_file)[order], np.concatenate(other)[order])


def _reason(ds: Dataset, record_id: str, names: tuple[str, ...], in_file: bool,
            other_line: int, replace_hint: bool) -> str:
    labels = stored_column_labels(ds)
    shown = [f"'{labels.get(c, c)}'" for c in names[:_SHOWN_COLUMNS]]
    if len(names) > _SHOWN_COLUMNS:
        shown.append(f"{fmt_int(len(names) - _SHOWN_COLUMNS)} till")
    where = (f"på rad {fmt_int(other_line)} i samma fil" if in_file
             else "redan i datalagret")
    text = (f"Konflikt: id '{record_id}' finns {where} med annat innehåll (skiljer sig i "
            f"{', '.join(shown)}). Raden sparas inte")
    if not in_file and replace_hint:
        text += "; välj 'Ersätt' (python -m hjo_data ingest --replace) för att ersätta den " \
                "lagrade raden"
    return text + "."


def rejected_rows(ds: Dataset, frame: pd.DataFrame, conflicts: Conflicts, mask: np.ndarray
                  ) -> pd.DataFrame:
    """Rejected-row entries (validation's columns line, column, value, reason, raw) for the
    conflicts selected by ``mask`` (aligned with ``conflicts.positions``)."""
    labels = stored_column_labels(ds)
    out = {"line": [], "column": [], "value": [], "reason": [], "raw": []}
    ids = frame["record_id"].astype("str").to_numpy(dtype=object)
    lines = frame["_line"].to_numpy(dtype=np.int64)
    for k in np.flatnonzero(mask):
        pos = int(conflicts.positions[k])
        names = conflicts.columns[k]
        out["line"].append(int(lines[pos]))
        out["column"].append(labels.get(names[0], names[0]) if names else "")
        out["value"].append(str(ids[pos]))
        out["reason"].append(_reason(ds, str(ids[pos]), names, bool(conflicts.in_file[k]),
                                     int(conflicts.other_line[k]), True))
        out["raw"].append("")
    return pd.DataFrame({
        "line": pd.Series(out["line"], dtype=np.int64),
        **{k: pd.Series(out[k], dtype="str") for k in ("column", "value", "reason", "raw")},
    })
