"""Parquet store: one file per dataset, atomic writes, dedup, ingest log, quarantine, lock.

Layout under the store root::

    <root>/<dataset>.parquet          all stored rows of one dataset (schema.stored_columns)
    <root>/ingest_log.jsonl           append-only, one JSON object per ingest
    <root>/quarantine/<ts>_<dataset>_<file>.rejected.csv   rejected rows of one ingest
    <root>/.lock                      fcntl.flock target around every read-modify-write
    <root>/claims/<dataset>/<batch>.parquet  record_ids a batch contained that were
                                      already stored (deduplicated against older batches)

Withdrawing a batch (:meth:`Store.withdraw`) removes the rows it added — except rows a later,
still active batch also contained (its claims file lists them): those stay and are handed
over to the earliest such batch, so the store equals what it would be had the withdrawn
batch never been ingested. The claims file is written before the dataset file; a claim
counts only for a batch that is in the log or has stored rows, so a crash in between
leaves no false claim.

Every write replaces the whole file atomically (temp file in the same directory, fsync,
``os.replace``), so a crash at any point leaves either the old or the new file, never a
mix. Each stored row carries the ``batch_id`` of the ingest that added it so that a batch
can be withdrawn later by rewriting the file without those rows.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hjo_data import conflicts, journal, jsonl
from hjo_data.errors import HjoDataError
from hjo_data.export import neutralise_cell
from hjo_data.formatting import fmt_int
from hjo_data.privacy import mask_text
from hjo_data.promise import column_default
from hjo_data.schema import DATASETS, Dataset, get_dataset

__all__ = [
    "LOG_FIELDS",
    "QUARANTINE_COLUMNS",
    "QUARANTINE_EXTRA",
    "Store",
    "WithdrawError",
    "WithdrawResult",
    "arrow_schema",
    "default_root",
    "empty_frame",
    "safe_cell",
]

#: Columns of a quarantine CSV when the original rows are unknown (Swedish: they are
#: opened by the people who fix the data).
QUARANTINE_COLUMNS = ("rad", "kolumn", "värde", "orsak", "originalrad")
#: Columns appended after the original columns (original headers) of a quarantine CSV, so
#: a corrected file can be read in again as it is (these columns are then ignored).
#: ``originalrad`` is filled only for rows that could not be split into fields.
QUARANTINE_EXTRA = ("rad", "kolumn", "orsak", "originalrad")

#: Keys of every ingest log entry, in order.
LOG_FIELDS = (
    "batch_id", "file", "sha256", "dataset", "time", "rows_read", "accepted", "rejected",
    "duplicates", "added", "warnings", "rejected_file", "stored",
)

_LOG_NAME = "ingest_log.jsonl"
#: The audit log (hjo_data.audit) lives beside the ingest log; a transaction appends to it.
AUDIT_LOG_NAME = "audit_log.jsonl"
_LOCK_NAME = ".lock"
_QUARANTINE_DIR = "quarantine"
_CLAIMS_DIR = "claims"
_HISTORY_DIR = "history"
_WITHDRAW_EVENT = "withdraw"


class WithdrawError(HjoDataError):
    """A batch cannot be withdrawn (unknown, already withdrawn, nothing stored)."""
_PACKAGE_DIR = Path(__file__).resolve().parent


def default_root() -> Path:
    """$HJO_DATA_DIR when set, else <repo>/data/store."""
    env = os.environ.get("HJO_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    return _PACKAGE_DIR.parent / "data" / "store"


def _column_type(dataset: Dataset, name: str) -> pa.DataType:
    if name in ("record_id", "batch_id") or name.endswith("_raw"):
        return pa.string()
    if name.endswith("_has_time"):
        return pa.bool_()
    kind = dataset.column(name).kind
    if kind in ("date", "datetime"):
        return pa.timestamp("us")
    if kind == "int":
        return pa.int64()
    if kind in ("float", "share"):
        return pa.float64()
    return pa.string()


def arrow_schema(dataset: Dataset) -> pa.Schema:
    """The Parquet schema of a dataset's stored table."""
    return pa.schema([(n, _column_type(dataset, n)) for n in dataset.stored_columns])


def _pandas_dtype(typ: pa.DataType) -> Any:
    if pa.types.is_string(typ):
        return "str"
    if pa.types.is_boolean(typ):
        return "bool"
    if pa.types.is_timestamp(typ):
        return "datetime64[us]"
    if pa.types.is_int64(typ):
        return "int64"
    return "float64"


def empty_frame(dataset: Dataset) -> pd.DataFrame:
    """A zero-row frame with the stored columns and dtypes of ``dataset``."""
    schema = arrow_schema(dataset)
    return pd.DataFrame(
        {f.name: pd.Series([], dtype=_pandas_dtype(f.type)) for f in schema}
    )


def _to_arrow(dataset: Dataset, frame: pd.DataFrame) -> pa.Table:
    """Canonical frame -> Arrow table with exactly the stored schema (extra columns dropped)."""
    schema = arrow_schema(dataset)
    arrays = []
    n = len(frame)
    for field in schema:
        if field.name in frame.columns:
            col = frame[field.name]
            if pa.types.is_timestamp(field.type):
                col = pd.to_datetime(col).astype("datetime64[us]")
            elif pa.types.is_boolean(field.type):
                col = col.fillna(False).astype(bool)
            elif pa.types.is_int64(field.type):
                col = col.astype("int64")
            arr = pa.array(col, type=field.type, from_pandas=True)
        else:
            arr = _filler(dataset, field, n)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def _filler(dataset: Dataset, field: pa.Field, n: int) -> pa.Array:
    """Values for a column absent from a frame/file: the schema default, False, or null."""
    if pa.types.is_boolean(field.type):
        return pa.array(np.zeros(n, dtype=bool))
    default = None
    if field.name in dataset.column_names:
        default = column_default(dataset.column(field.name))
    if default is None and pa.types.is_int64(field.type):
        raise ValueError(f"column {field.name!r} is missing and has no default")
    if default is None:
        return pa.nulls(n, type=field.type)
    return pa.array([default] * n, type=field.type)


def _conform(dataset: Dataset, table: pa.Table) -> pa.Table:
    """Stored table -> current schema (tolerates files written by an older schema)."""
    schema = arrow_schema(dataset)
    if table.schema.equals(schema, check_metadata=False):
        return table.replace_schema_metadata(None)
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            arrays.append(table[field.name].cast(field.type))
        else:
            arrays.append(_filler(dataset, field, table.num_rows))
    return pa.Table.from_arrays(arrays, schema=schema)


def _strictly_increasing(arr: pa.Array) -> bool:
    """True when every value is greater than the one before (hence all are distinct)."""
    if len(arr) < 2:
        return True
    if arr.null_count:
        return False
    return bool(pc.all(pc.less(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


_fsync_dir = journal.fsync_path


def _atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)``, fsync it, then atomically move it over ``path``.

    Any exception before ``os.replace`` removes the temp file and leaves ``path`` as it was.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def safe_cell(value: object) -> str:
    """Text for a quarantine CSV cell (missing -> ""), formula-neutralised by
    ``export.neutralise_cell`` (the one rule for CSV cells)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return neutralise_cell(text)


def _safe_file_part(name: str) -> str:
    stem = Path(str(name)).name
    stem = re.sub(r"[^0-9A-Za-zÅÄÖåäö._-]+", "_", stem).strip("._") or "fil"
    return stem[:80]


@dataclass
class WithdrawResult:
    """What :meth:`Store.withdraw` did."""

    batch_id: str
    dataset: str | None
    removed: int
    #: Rows kept because a later active batch also contained them (now owned by it).
    kept: int
    time: str = ""

    @property
    def message(self) -> str:
        text = f"Batch {self.batch_id} återkallades: {fmt_int(self.removed)} " + (
            "rad togs bort" if self.removed == 1 else "rader togs bort")
        if self.kept:
            text += (f"; {fmt_int(self.kept)} " + ("rad" if self.kept == 1 else "rader")
                     + " finns kvar eftersom en senare inläsning också innehöll dem")
        return text + "."


def _safe_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", str(name))[:120] or "batch"


def _mask(text: str) -> str:
    """Defence in depth: validation masks personnummer already; masking twice is harmless."""
    return mask_text(text)


class Store:
    """Parquet store rooted at ``root`` (None -> $HJO_DATA_DIR or <repo>/data/store)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self._local = threading.local()
        if journal.pending(self.root):  # a writer was killed mid-commit: finish or undo
            with self.lock():
                pass

    # ------------------------------------------------------------------ paths
    def path(self, dataset: str | Dataset) -> Path:
        return self.root / f"{get_dataset(dataset).name}.parquet"

    @property
    def log_path(self) -> Path:
        return self.root / _LOG_NAME

    @property
    def quarantine_dir(self) -> Path:
        return self.root / _QUARANTINE_DIR

    def claims_path(self, dataset: str | Dataset, batch_id: str) -> Path:
        name = get_dataset(dataset).name
        return self.root / _CLAIMS_DIR / name / f"{_safe_name(batch_id)}.parquet"

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ------------------------------------------------------------------ lock
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive inter-process lock on <root>/.lock; re-entrant within one thread."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.depth = 1
            try:
                if journal.pending(self.root):
                    self._recover()
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ transactions
    def _recover(self) -> list[str]:
        return journal.recover(self.root, log_path=self.log_path,
                               audit_path=self.root / AUDIT_LOG_NAME)

    @contextlib.contextmanager
    def transaction(self, name: str) -> Iterator[journal.Transaction]:
        """Under the lock: every file written and every log line in the block commits as
        one (write-ahead journal, see hjo_data/journal.py), or not at all. Reads inside
        see the store as it was before the block."""
        with self.lock():
            if getattr(self._local, "txn", None) is not None:
                raise RuntimeError("nested store transaction")
            txn = journal.Transaction(self.root, name, log_path=self.log_path,
                                      audit_path=self.root / AUDIT_LOG_NAME)
            self._local.txn = txn
            try:
                yield txn
            except Exception:
                txn.abort()
                raise
            finally:
                self._local.txn = None
            txn.commit()

    def _write_file(self, path: Path, write: Any) -> None:
        """Replace ``path`` atomically, or stage it in the running transaction."""
        txn = getattr(self._local, "txn", None)
        if txn is not None:
            txn.stage(path, write)
        else:
            _atomic_write_bytes(path, write)

    # ------------------------------------------------------------------ reading
    def read_table(self, dataset: str | Dataset) -> pa.Table:
        """Stored rows as an Arrow table with the current schema (empty when none)."""
        ds = get_dataset(dataset)
        path = self.path(ds)
        if not path.exists():
            return arrow_schema(ds).empty_table()
        return _conform(ds, pq.read_table(path))

    def read(self, dataset: str | Dataset) -> pd.DataFrame:
        """Stored rows with ``stored_columns`` and their canonical dtypes."""
        ds = get_dataset(dataset)
        table = self.read_table(ds)
        if table.num_rows == 0:
            return empty_frame(ds)
        frame = table.to_pandas()
        for field in table.schema:
            want = _pandas_dtype(field.type)
            if str(frame[field.name].dtype) != want:
                if want == "bool":
                    frame[field.name] = frame[field.name].fillna(False).astype(bool)
                else:
                    frame[field.name] = frame[field.name].astype(want)
        return frame

    def row_count(self, dataset: str | Dataset) -> int:
        path = self.path(dataset)
        if not path.exists():
            return 0
        return pq.ParquetFile(path).metadata.num_rows

    def has_data(self) -> bool:
        """True when any dataset has at least one stored row."""
        return any(self.row_count(name) > 0 for name in DATASETS)

    def datasets(self) -> list[str]:
        """Names of datasets with stored rows."""
        return [name for name in DATASETS if self.row_count(name) > 0]

    def version(self) -> str:
        """Cache key that changes whenever stored data or the log changes."""
        parts: list[str] = [str(self.root.resolve())]
        for name in (_LOG_NAME, *(f"{n}.parquet" for n in DATASETS)):
            try:
                st = (self.root / name).stat()
            except OSError:
                parts.append(f"{name}:-")
                continue
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def ingest_log(self) -> pd.DataFrame:
        """All ingest log entries, oldest first (columns ``LOG_FIELDS``)."""
        records = self.log_entries()
        frame = pd.DataFrame(records, columns=list(LOG_FIELDS)) if records else pd.DataFrame(
            {k: pd.Series([], dtype="object") for k in LOG_FIELDS}
        )
        if records:
            extra = [c for r in records for c in r if c not in LOG_FIELDS]
            for col in dict.fromkeys(extra):
                frame[col] = [r.get(col) for r in records]
        return frame

    def log_entries(self) -> list[dict[str, Any]]:
        """Ingest entries, oldest first. Withdrawal events are not entries of their own:
        they set ``withdrawn`` (time) and ``withdrawn_by`` on the batch's entry."""
        entries: list[dict[str, Any]] = []
        by_batch: dict[str, dict[str, Any]] = {}
        for record in self.log_events():
            if record.get("event") == _WITHDRAW_EVENT:
                target = by_batch.get(str(record.get("batch_id")))
                if target is not None:
                    target["withdrawn"] = record.get("time")
                    target["withdrawn_by"] = record.get("user")
                continue
            entries.append(record)
            by_batch[str(record.get("batch_id"))] = record
        return entries

    def log_events(self) -> list[dict[str, Any]]:
        """Every line of the ingest log as written (ingests and withdrawals)."""
        return jsonl.read(self.log_path)

    def withdrawn_batches(self) -> set[str]:
        return {str(e.get("batch_id")) for e in self.log_events()
                if e.get("event") == _WITHDRAW_EVENT}

    # ------------------------------------------------------------------ writing
    def split_new(
        self, dataset: str | Dataset, frame: pd.DataFrame
    ) -> tuple[np.ndarray, int]:
        """Mask of rows in ``frame`` that are new (first in the frame and not yet stored).

        Returns (mask, duplicates). Does not write anything.
        """
        ds = get_dataset(dataset)
        if len(frame) == 0:
            return np.zeros(0, dtype=bool), 0
        ids = frame["record_id"]
        arr = pa.array(ids, from_pandas=True)
        if _strictly_increasing(arr):  # common for exports sorted by id: no hashing needed
            first = np.ones(len(frame), dtype=bool)
        else:
            first = ~ids.duplicated(keep="first").to_numpy()
        path = self.path(ds)
        if path.exists():
            stored_ids = pq.read_table(path, columns=["record_id"])["record_id"]
            if len(stored_ids):
                in_store = pc.is_in(
                    arr, value_set=stored_ids.combine_chunks().cast(arr.type), skip_nulls=True
                )
                first &= ~in_store.to_numpy(zero_copy_only=False)
        return first, int(len(frame) - first.sum())

    def find_conflicts(self, dataset: str | Dataset, frame: pd.DataFrame
                       ) -> conflicts.Conflicts:
        """Rows of ``frame`` (validated, with ``_line``) whose given id exists — stored or
        earlier in the frame — with other content (see :mod:`hjo_data.conflicts`)."""
        ds = get_dataset(dataset)
        if len(frame) == 0 or ds.revision_columns or \
                not conflicts.explicit_ids(ds, frame).any():
            return conflicts.NONE
        stored = self.read_table(ds)
        if stored.num_rows:
            ids = pa.array(frame["record_id"].drop_duplicates(), type=pa.string())
            stored = stored.filter(pc.is_in(stored["record_id"], value_set=ids))
        return conflicts.find_conflicts(ds, frame, _to_arrow(ds, frame), stored)

    def append(
        self, dataset: str | Dataset, accepted: pd.DataFrame, batch_id: str, *,
        replace: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """Store the rows of ``accepted`` whose ``record_id`` is new; returns (added, dups).

        Rows repeated inside ``accepted`` or already stored are counted as duplicates and
        stored once. ``replace`` (bool mask over ``accepted``): rows that replace the
        stored row with their id (a conflict resolved by the user); the replaced row moves
        to the history file (restored if this batch is withdrawn). The dataset file is
        rewritten atomically under the store lock.
        """
        ds = get_dataset(dataset)
        if "record_id" not in accepted.columns:
            raise ValueError("accepted frame needs a record_id column")
        with self.lock():
            self._remove_stale_temp_files(ds)
            mask, duplicates = self.split_new(ds, accepted)
            replace_ids = None
            if replace is not None and replace.any():
                mask = mask | replace
                duplicates = int(len(accepted) - mask.sum())
                replace_ids = pa.array(accepted.loc[replace, "record_id"], type=pa.string())
            added = int(mask.sum())
            if duplicates:
                self._write_claims(ds, accepted, batch_id)
            if added == 0:
                return 0, duplicates
            new = accepted if added == len(accepted) else accepted.loc[mask]
            new = new.assign(batch_id=batch_id)
            new_table = _to_arrow(ds, new)
            path = self.path(ds)
            if path.exists():
                table = self.read_table(ds)
                if replace_ids is not None:
                    replaced = pc.is_in(table["record_id"], value_set=replace_ids)
                    self._append_history(ds, table.filter(replaced), batch_id)
                    table = table.filter(pc.invert(replaced))
                table = pa.concat_tables([table, new_table])
            else:
                table = new_table
            self.write_table(ds, table)
        return added, duplicates

    # ------------------------------------------------------------------ revisions
    def history_path(self, dataset: str | Dataset) -> Path:
        """Earlier values of revised rows: ``<root>/history/<dataset>.parquet``."""
        return self.root / _HISTORY_DIR / f"{get_dataset(dataset).name}.parquet"

    def read_history(self, dataset: str | Dataset) -> pd.DataFrame:
        """Replaced rows (stored columns + ``replaced_by`` batch, ``replaced_at`` time),
        oldest replacement first; empty when none."""
        ds = get_dataset(dataset)
        path = self.history_path(ds)
        if not path.exists():
            frame = empty_frame(ds)
            return frame.assign(replaced_by=pd.Series([], dtype="str"),
                                replaced_at=pd.Series([], dtype="str"))
        return pq.read_table(path).to_pandas()

    def split_revisions(self, dataset: str | Dataset, frame: pd.DataFrame
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(new, revised) masks of ``frame``'s rows (first of their record_id in the
        frame): new = key not stored; revised = key stored with other values in the
        dataset's ``revision_columns``. Every other row is a duplicate."""
        ds = get_dataset(dataset)
        n = len(frame)
        first = ~frame["record_id"].duplicated(keep="first").to_numpy() if n else \
            np.zeros(0, dtype=bool)
        path = self.path(ds)
        if not n or not path.exists():
            return first, np.zeros(n, dtype=bool)
        cols = ["record_id", *ds.revision_columns]
        stored = pq.read_table(path, columns=cols).to_pandas().drop_duplicates("record_id")
        stored = stored.set_index("record_id")
        ids = frame["record_id"].to_numpy(dtype=object)
        in_store = pd.Series(ids).isin(stored.index).to_numpy()
        revised = np.zeros(n, dtype=bool)
        pos = np.flatnonzero(first & in_store)
        if pos.size:
            old = stored.loc[ids[pos]]
            differs = np.zeros(pos.size, dtype=bool)
            for col in ds.revision_columns:
                a = frame[col].to_numpy()[pos]
                b = old[col].to_numpy()
                same = (pd.isna(a) & pd.isna(b)) | (a.astype(object) == b.astype(object))
                differs |= ~np.asarray(same, dtype=bool)
            revised[pos[differs]] = True
        return first & ~in_store, revised

    def upsert(self, dataset: str | Dataset, accepted: pd.DataFrame, batch_id: str
               ) -> tuple[int, int, int]:
        """Store a dataset with ``revision_columns`` (statistik): new keys are added, a
        revised row replaces the stored one, whose earlier values move to the history
        file (with the replacing batch and the time). Returns (added, revised,
        duplicates); identical rows are duplicates, as in :meth:`append`."""
        ds = get_dataset(dataset)
        with self.lock():
            self._remove_stale_temp_files(ds)
            new, revised = self.split_revisions(ds, accepted)
            added, n_revised = int(new.sum()), int(revised.sum())
            duplicates = len(accepted) - added - n_revised
            if duplicates:
                self._write_claims(ds, accepted, batch_id)
            if added + n_revised == 0:
                return 0, 0, duplicates
            rows = _to_arrow(ds, accepted.loc[new | revised].assign(batch_id=batch_id))
            table = self.read_table(ds)
            if n_revised:
                ids = pa.array(accepted.loc[revised, "record_id"], type=pa.string())
                replaced = pc.is_in(table["record_id"], value_set=ids)
                self._append_history(ds, table.filter(replaced), batch_id)
                table = table.filter(pc.invert(replaced))
            self.write_table(ds, pa.concat_tables([table, rows]))
        return added, n_revised, duplicates

    def _append_history(self, ds: Dataset, old: pa.Table, batch_id: str) -> None:
        time = datetime.now().astimezone().isoformat(timespec="seconds")
        old = old.append_column("replaced_by", pa.array([batch_id] * old.num_rows,
                                                        type=pa.string()))
        old = old.append_column("replaced_at", pa.array([time] * old.num_rows,
                                                        type=pa.string()))
        path = self.history_path(ds)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            old = pa.concat_tables([pq.read_table(path), old.cast(pq.read_schema(path))])
        self._write_file(path, lambda tmp: pq.write_table(old, tmp))

    def _remove_stale_temp_files(self, ds: Dataset) -> None:
        """Temp files left by a killed writer (safe: every writer holds the lock)."""
        for tmp in self.root.glob(f".{ds.name}.parquet.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _write_claims(self, ds: Dataset, accepted: pd.DataFrame, batch_id: str) -> None:
        """Record which of ``accepted``'s ids are already stored (see module docstring)."""
        path = self.path(ds)
        if not path.exists():
            return
        stored_ids = pq.read_table(path, columns=["record_id"])["record_id"].combine_chunks()
        ids = pa.array(accepted["record_id"].drop_duplicates(), type=pa.string(),
                       from_pandas=True)
        claimed = ids.filter(pc.is_in(ids, value_set=stored_ids.cast(pa.string()),
                                      skip_nulls=True))
        if len(claimed) == 0:
            return
        target = self.claims_path(ds, batch_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table({"record_id": claimed})
        self._write_file(target, lambda tmp: pq.write_table(table, tmp))

    def batch_ids(self, dataset: str | Dataset) -> list[str]:
        """Distinct batch ids with rows in ``dataset``."""
        path = self.path(dataset)
        if not path.exists():
            return []
        col = pq.read_table(path, columns=["batch_id"])["batch_id"]
        return [str(b) for b in pc.unique(col.combine_chunks()).to_pylist()]

    def withdraw(self, batch_id: str, *, user: str | None = None) -> WithdrawResult:
        """Remove exactly the rows batch ``batch_id`` added, atomically and under the lock,
        and mark it withdrawn in the ingest log.

        Rows that a later, still active batch also contained stay (handed over to the
        earliest such batch). Raises :class:`WithdrawError` (Swedish) for an unknown,
        already withdrawn or never stored batch.
        """
        batch_id = str(batch_id).strip()
        with self.transaction(f"withdraw-{batch_id}"):  # rows and log event as one
            events = self.log_events()
            withdrawn = {str(e.get("batch_id")) for e in events
                         if e.get("event") == _WITHDRAW_EVENT}
            if batch_id in withdrawn:
                raise WithdrawError(f"Batch {batch_id} är redan återkallad.")
            ingests = [e for e in events if e.get("event") != _WITHDRAW_EVENT]
            entry = next((e for e in ingests if str(e.get("batch_id")) == batch_id), None)
            with_rows = {name: self.batch_ids(name) for name in DATASETS}
            datasets = [n for n, ids in with_rows.items() if batch_id in ids]
            if entry is None and not datasets:
                recent = [str(e.get("batch_id")) for e in ingests
                          if str(e.get("batch_id")) not in withdrawn][-5:]
                hint = (" Senaste inlästa batcher: " + ", ".join(recent) + ".") if recent else ""
                raise WithdrawError(f"Okänd batch '{batch_id}'. Ingen inläsning med det "
                                    f"id:t finns i inläsningsloggen.{hint}")
            if entry is not None and entry.get("stored") is False and not datasets:
                raise WithdrawError(f"Batch {batch_id} sparade inga rader (strikt läge) – "
                                    "det finns inget att återkalla.")
            # Active batches in log order (the earliest claimant inherits a row).
            order: dict[str, int] = {}
            for e in ingests:
                b = str(e.get("batch_id"))
                if b not in withdrawn and b != batch_id and e.get("stored") is not False:
                    order.setdefault(b, len(order))
            for ids in with_rows.values():
                for b in ids:
                    if b not in withdrawn and b != batch_id:
                        order.setdefault(b, len(order))
            removed = kept = 0
            ds_name = entry.get("dataset") if entry is not None else None
            for name in datasets:
                ds_name = name
                r, k = self._withdraw_rows(DATASETS[name], batch_id, order)
                removed += r
                kept += k
            time = datetime.now().astimezone().isoformat(timespec="seconds")
            self.log({"event": _WITHDRAW_EVENT, "batch_id": batch_id, "dataset": ds_name,
                      "time": time, "user": user, "removed": removed, "kept": kept})
        for name in DATASETS:  # after the commit: a rolled-back withdrawal keeps its claims
            with contextlib.suppress(OSError):
                self.claims_path(name, batch_id).unlink()
        return WithdrawResult(batch_id=batch_id, dataset=ds_name, removed=removed, kept=kept,
                              time=time)

    def _withdraw_rows(self, ds: Dataset, batch_id: str, order: Mapping[str, int]
                       ) -> tuple[int, int]:
        """Drop ``batch_id``'s rows of one dataset; rows claimed by an active batch are
        handed to the earliest claimant instead. Returns (removed, kept)."""
        table = self.read_table(ds)
        batch_col = table["batch_id"].combine_chunks()
        mine = np.asarray(pc.equal(batch_col, pa.scalar(batch_id, type=batch_col.type))
                          .to_numpy(zero_copy_only=False), dtype=bool)
        if not mine.any():
            return 0, 0
        ids = table["record_id"].combine_chunks().to_pandas().to_numpy(dtype=object)
        heir = np.full(len(ids), None, dtype=object)
        heir_rank = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
        claims_dir = self.root / _CLAIMS_DIR / ds.name
        if claims_dir.exists():
            by_name = {_safe_name(b): b for b in order}
            for path in sorted(claims_dir.glob("*.parquet")):
                claimant = by_name.get(path.stem)
                if claimant is None:
                    continue  # withdrawn, this batch, or never committed: no claim
                try:
                    claimed = pq.read_table(path)["record_id"].combine_chunks()
                except (OSError, pa.ArrowException):
                    continue
                hit = mine & np.asarray(pc.is_in(pa.array(ids, type=pa.string()),
                                                 value_set=claimed.cast(pa.string()))
                                        .to_numpy(zero_copy_only=False), dtype=bool)
                better = hit & (heir_rank > order[claimant])
                heir[better] = claimant
                heir_rank[better] = order[claimant]
        inherited = mine & (heir != None)  # noqa: E711 - elementwise on an object array
        drop = mine & ~inherited
        new_batch = batch_col.to_pandas().to_numpy(dtype=object)
        new_batch[inherited] = heir[inherited]
        table = table.set_column(
            table.schema.get_field_index("batch_id"), "batch_id",
            pa.array(new_batch, type=pa.string()),
        ).take(pa.array(np.flatnonzero(~drop)))
        table, history = self._restore_replaced(ds, batch_id, table, order)
        self.write_table(ds, table)
        if history is not None:  # in the withdrawal's transaction, with the data file
            self._write_file(self.history_path(ds), lambda tmp: pq.write_table(history, tmp))
        return int(drop.sum()), int(inherited.sum())

    def _restore_replaced(self, ds: Dataset, batch_id: str, table: pa.Table,
                          order: Mapping[str, int]) -> tuple[pa.Table, pa.Table | None]:
        """Rows ``batch_id`` replaced (history, ``replaced_by``) come back when it is
        withdrawn: those of a still active batch whose id is no longer stored. Returns the
        table with them and the history without them (None: unchanged)."""
        path = self.history_path(ds)
        if not path.exists():
            return table, None
        history = pq.read_table(path)
        mine = np.asarray(pc.equal(history["replaced_by"], batch_id).to_numpy(
            zero_copy_only=False), dtype=bool)
        if not mine.any():
            return table, None
        old = history.filter(pa.array(mine))
        active = np.asarray(pc.is_in(old["batch_id"], value_set=pa.array(
            list(order), type=pa.string())).to_numpy(zero_copy_only=False), dtype=bool)
        free = ~np.asarray(pc.is_in(old["record_id"], value_set=table["record_id"]
                                    .combine_chunks()).to_numpy(zero_copy_only=False),
                           dtype=bool)
        back = old.filter(pa.array(active & free)).drop_columns(["replaced_by",
                                                                  "replaced_at"])
        rest = history.filter(pa.array(~mine))
        if back.num_rows:
            table = pa.concat_tables([table, _conform(ds, back)])
        return table, rest

    def write_table(self, dataset: str | Dataset, table: pa.Table) -> None:
        """Atomically replace a dataset's file with ``table`` (caller holds the lock)."""
        ds = get_dataset(dataset)
        table = _conform(ds, table)
        self.root.mkdir(parents=True, exist_ok=True)
        # Ids, positions and time stamps are (nearly) unique: dictionary encoding them only
        # costs time and space. Statistics are kept for the time column only (period
        # filters may push down). lz4, not zstd: ~20 % less CPU per write (1M-row bench),
        # faster reads; the file is about twice as large (~20 MB per million events).
        unique = {"record_id", ds.id_column}
        unique.update(c.name for c in ds.columns if c.kind in ("datetime", "float"))
        dictionary = [n for n in table.column_names if n not in unique]
        self._write_file(
            self.path(ds), lambda tmp: pq.write_table(
                table, tmp, compression="lz4", use_dictionary=dictionary,
                write_statistics=[ds.time_column],
            ),
        )

    def write_quarantine(
        self, dataset: str | Dataset, file_name: str, rejected: pd.DataFrame,
        *, stamp: str | None = None, original: pd.DataFrame | None = None,
        unsplit: np.ndarray | None = None,
    ) -> Path | None:
        """Write rejected rows as a ';'-separated UTF-8 (BOM) CSV; None when there are none.

        ``rejected`` has the validation columns line, column, value, reason, raw. With
        ``original`` (the rejected rows' original cells, one column per original header,
        aligned with ``rejected``) the file has the original columns followed by
        ``QUARANTINE_EXTRA``, so a corrected copy can be read in again directly;
        ``unsplit`` marks rows whose fields are unknown (``originalrad`` holds their text).
        Without ``original`` the columns are ``QUARANTINE_COLUMNS``. Cells are masked again
        (defence in depth) and made formula-injection safe.
        """
        ds = get_dataset(dataset)
        if rejected is None or len(rejected) == 0:
            return None
        stamp = stamp or datetime.now().strftime("%Y%m%dT%H%M%S%f")
        path = self.quarantine_dir / f"{stamp}_{ds.name}_{_safe_file_part(file_name)}.rejected.csv"
        cols = ("line", "column", "value", "reason", "raw")
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        values = [rejected[c].tolist() if c in rejected.columns else [""] * len(rejected)
                  for c in cols]
        if original is not None:
            if len(original) != len(rejected):
                raise ValueError("original must have one row per rejected row")
            flags = (np.zeros(len(rejected), dtype=bool) if unsplit is None
                     else np.asarray(unsplit, dtype=bool))
            writer.writerow([safe_cell(_mask(str(h))) for h in original.columns]
                            + list(QUARANTINE_EXTRA))
            cells = original.astype(object).where(original.notna(), "").to_numpy()
            for i, (line, column, _value, reason, raw) in enumerate(zip(*values, strict=True)):
                writer.writerow([
                    *(safe_cell(_mask(safe_text(c))) for c in cells[i]),
                    safe_cell(line),
                    safe_cell(column),
                    safe_cell(_mask(safe_text(reason))),
                    safe_cell(_mask(safe_text(raw))) if flags[i] else "",
                ])
        else:
            writer.writerow(QUARANTINE_COLUMNS)
            for line, column, value, reason, raw in zip(*values, strict=True):
                writer.writerow([
                    safe_cell(line),
                    safe_cell(column),
                    safe_cell(_mask(safe_text(value))),
                    safe_cell(_mask(safe_text(reason))),
                    safe_cell(_mask(safe_text(raw))),
                ])
        data = ("\ufeff" + buf.getvalue()).encode("utf-8")
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        self._write_file(path, lambda tmp: Path(tmp).write_bytes(data))
        return path

    def log(self, entry: Mapping[str, Any]) -> None:
        """Append one JSON line to the ingest log (under the lock, fsynced); inside a
        transaction the line is appended at its commit."""
        record = {k: entry.get(k) for k in LOG_FIELDS}
        record.update({k: v for k, v in entry.items() if k not in record})
        txn = getattr(self._local, "txn", None)
        if txn is not None:
            txn.log(record)
            return
        with self.lock():
            jsonl.append(self.log_path, record)


def safe_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)
