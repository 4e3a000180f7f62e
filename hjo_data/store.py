"""Parquet store: Hive-partitioned datasets, journaled writes, dedup, ingest log,
quarantine, lock.

Layout under the store root (the data layout: hjo_data/layout.py)::

    <root>/<dataset>/year=YYYY/part-*.parquet   stored rows of one dataset and year
                                      (schema.stored_columns; immutable once written)
    <root>/ingest_log.jsonl           append-only, one JSON object per ingest
    <root>/quarantine/<ts>_<dataset>_<file>.rejected.csv   rejected rows of one ingest
    <root>/.lock                      fcntl.flock target around every read-modify-write
    <root>/claims/<dataset>/<batch>.parquet  record_ids a batch contained that were
                                      already stored (deduplicated against older batches)
    <root>/history/<dataset>.parquet  earlier values of revised rows (statistik)
    <root>/journal/                   write-ahead journal of a running commit

Withdrawing a batch (:meth:`Store.withdraw`) removes the rows it added — except rows a later,
still active batch also contained (its claims file lists them): those stay and are handed
over to the earliest such batch, so the store equals what it would be had the withdrawn
batch never been ingested. The claims file is written before the dataset file; a claim
counts only for a batch that is in the log or has stored rows, so a crash in between
leaves no false claim.

Every change goes through the journal (hjo_data/journal.py; a write outside
:meth:`Store.transaction` runs in one of its own): an append stages new part files only,
a withdrawal / replacement / compaction rewrites or removes only the affected part files,
and a kill at any step rolls the whole change forward or back. Each stored row carries the
``batch_id`` of the ingest that added it so that a batch can be withdrawn later.
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

from hjo_data import conflicts, journal, jsonl, layout
from hjo_data.errors import HjoDataError
from hjo_data.export import neutralise_cell
from hjo_data.formatting import fmt_int
from hjo_data.layout import PartFile, arrow_schema
from hjo_data.layout import conform as _conform
from hjo_data.privacy import mask_text
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
    "frame_from_table",
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
#: Store.compact merges a partition's files when it has more than this many.
COMPACT_MAX_FILES = 64
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


def frame_from_table(dataset: Dataset, table: pa.Table) -> pd.DataFrame:
    """A stored table (``arrow_schema``) as a frame with the canonical dtypes."""
    if table.num_rows == 0:
        return empty_frame(dataset)
    frame = table.to_pandas()
    for field in table.schema:
        want = _pandas_dtype(field.type)
        if str(frame[field.name].dtype) != want:
            if want == "bool":
                frame[field.name] = frame[field.name].fillna(False).astype(bool)
            else:
                frame[field.name] = frame[field.name].astype(want)
    return frame


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
            arr = layout.filler(dataset, field, n)
        arrays.append(arr)
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
        # A writer was killed mid-commit (finish or undo it), or the store still has the
        # old one-file-per-dataset layout (migrate it): both run under the lock.
        if journal.pending(self.root) or self._legacy_files():
            with self.lock():
                pass

    # ------------------------------------------------------------------ paths
    def path(self, dataset: str | Dataset) -> Path:
        """The dataset's directory ``<root>/<dataset>`` (``year=YYYY/*.parquet`` below)."""
        return self.root / get_dataset(dataset).name

    def legacy_path(self, dataset: str | Dataset) -> Path:
        """Where the old layout kept a dataset: one file ``<root>/<dataset>.parquet``."""
        return self.root / f"{get_dataset(dataset).name}.parquet"

    def part_files(self, dataset: str | Dataset) -> list[Path]:
        """The dataset's stored Parquet files in write order."""
        return [p.path for p in self._parts(get_dataset(dataset))]

    def _parts(self, ds: Dataset) -> list[PartFile]:
        return layout.scan(self.path(ds), self.legacy_path(ds))

    def _legacy_files(self) -> list[str]:
        return [name for name in DATASETS if self.legacy_path(name).exists()]

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
                if self._legacy_files():
                    self._migrate_legacy()
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
        see the store as it was before the block, except that :meth:`split_new` and
        :meth:`stored_ids` count the rows appended earlier in the block (appends
        accumulate: a file ingested in chunks is one transaction)."""
        with self.lock():
            if self._txn() is not None:
                raise RuntimeError("nested store transaction")
            txn = journal.Transaction(self.root, name, log_path=self.log_path,
                                      audit_path=self.root / AUDIT_LOG_NAME)
            self._local.txn = txn
            self._local.ids = {}
            self._local.touched = set()
            try:
                yield txn
            except Exception:
                txn.abort()
                raise
            finally:
                self._local.txn = None
                self._local.ids = {}
                touched, self._local.touched = self._local.touched, set()
            txn.commit()
            for dataset in sorted(touched):  # its own transaction: a kill in between
                self.compact(dataset)       # leaves the committed change, uncompacted

    def _txn(self) -> journal.Transaction | None:
        return getattr(self._local, "txn", None)

    @contextlib.contextmanager
    def _writing(self, name: str) -> Iterator[None]:
        """The running transaction, or one of its own for a write outside any."""
        if self._txn() is not None:
            yield
            return
        with self.transaction(name):
            yield

    def _write_file(self, path: Path, write: Any) -> None:
        """Replace ``path`` atomically, or stage it in the running transaction."""
        txn = self._txn()
        if txn is not None:
            txn.stage(path, write)
        else:
            _atomic_write_bytes(path, write)

    def _remove_file(self, path: Path) -> None:
        """Remove a data file in the running transaction (caller runs one)."""
        txn = self._txn()
        assert txn is not None, "data files are removed only inside a transaction"
        txn.stage_removal(path)

    # ------------------------------------------------------------------ reading
    def read_table(self, dataset: str | Dataset, columns: list[str] | None = None
                   ) -> pa.Table:
        """Stored rows as an Arrow table with the current schema (empty when none);
        ``columns``: only these stored columns (cheaper)."""
        ds = get_dataset(dataset)
        full = arrow_schema(ds)
        schema = full if columns is None else pa.schema([full.field(c) for c in columns])
        for _ in range(5):  # lock-free: retry when a writer changed the files meanwhile
            parts = self._parts(ds)
            try:
                table = self._read_parts(ds, parts, schema)
            except FileNotFoundError:
                continue
            if self._parts(ds) == parts:
                return table
        with self.lock():
            return self._read_parts(ds, self._parts(ds), schema)

    def _read_parts(self, ds: Dataset, parts: list[PartFile], schema: pa.Schema) -> pa.Table:
        tables = [layout.read_part(ds, p, schema) for p in parts]
        if not tables:
            return schema.empty_table()
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def read(self, dataset: str | Dataset) -> pd.DataFrame:
        """Stored rows with ``stored_columns`` and their canonical dtypes."""
        ds = get_dataset(dataset)
        return frame_from_table(ds, self.read_table(ds))

    def row_count(self, dataset: str | Dataset) -> int:
        """Stored rows of a dataset (from the files' footers, cached per file version)."""
        return sum(_file_rows(p.path) for p in self._parts(get_dataset(dataset)))

    def has_data(self) -> bool:
        """True when any dataset has at least one stored row."""
        return any(self.row_count(name) > 0 for name in DATASETS)

    def datasets(self) -> list[str]:
        """Names of datasets with stored rows."""
        return [name for name in DATASETS if self.row_count(name) > 0]

    def version(self) -> str:
        """Cache key that changes whenever stored data or the log changes: the log's
        stat and every part file's name and inode (a directory listing per partition,
        no file is opened)."""
        parts: list[str] = [str(self.root.resolve())]
        try:
            st = self.log_path.stat()
            parts.append(f"log:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        except OSError:
            parts.append("log:-")
        for name in DATASETS:
            for part in self._parts(DATASETS[name]):
                parts.append(f"{part.path.relative_to(self.root)}:{part.inode}")
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
    def stored_ids(self, dataset: str | Dataset) -> pa.ChunkedArray:
        """The ``record_id`` of every stored row (string). Inside a transaction: read
        once per dataset, plus the ids appended earlier in the transaction."""
        ds = get_dataset(dataset)
        index = self._id_index(ds)
        if index is None:
            return self.read_table(ds, ["record_id"])["record_id"]
        return index.ids

    def _id_index(self, ds: Dataset) -> layout.IdIndex | None:
        """The running transaction's id index of ``ds`` (built on first use)."""
        cache = getattr(self._local, "ids", None)
        if self._txn() is None or cache is None:
            return None
        if ds.name not in cache:
            parts = self._parts(ds)
            schema = pa.schema([("record_id", pa.string())])
            ids = [layout.read_part(ds, p, schema)["record_id"] for p in parts]
            index = layout.IdIndex(pa.chunked_array(
                [c for col in ids for c in col.chunks], type=pa.string()))
            # where each committed part's rows start in index.ids (find_conflicts reads
            # only the parts holding a known id)
            index.parts = parts
            index.offsets = np.cumsum([0, *(len(col) for col in ids)])
            cache[ds.name] = index
        return cache[ds.name]

    def _known(self, ds: Dataset, ids: pa.Array) -> np.ndarray:
        """Bool per id: stored (inside a transaction: or appended earlier in it)."""
        index = self._id_index(ds)
        if index is not None:
            return index.contains(ids)
        stored = self.read_table(ds, ["record_id"])["record_id"]
        if not len(stored) or not len(ids):
            return np.zeros(len(ids), dtype=bool)
        found = pc.is_in(ids.cast(pa.string()), value_set=stored, skip_nulls=True)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)

    def _note_ids(self, ds: Dataset, ids: pa.Array | pa.ChunkedArray) -> None:
        """Ids added in the running transaction (see :meth:`stored_ids`)."""
        cache = getattr(self._local, "ids", None)
        if self._txn() is not None and cache is not None and ds.name in cache:
            cache[ds.name].add(ids)

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
        first &= ~self._known(ds, arr)
        return first, int(len(frame) - first.sum())

    def _rows_with_ids(self, ds: Dataset, ids: pa.Array) -> pa.Table:
        """Stored rows whose record_id is in ``ids`` (only files holding one are read;
        inside a transaction the id index names them)."""
        out = [arrow_schema(ds).empty_table()]
        parts = self._parts(ds)
        index = self._id_index(ds)
        if index is not None:
            where = index.locate(ids)
            where = where[(where >= 0) & (where < index.offsets[-1])]
            holding = np.unique(np.searchsorted(index.offsets, where, side="right") - 1)
            parts = [index.parts[i] for i in holding]
        for part in parts:
            rid = layout.read_part(ds, part, pa.schema([("record_id", pa.string())]))
            hit = pc.is_in(rid["record_id"], value_set=ids)
            if pc.any(hit).as_py():
                out.append(layout.read_part(ds, part, arrow_schema(ds)).filter(hit))
        return pa.concat_tables(out)

    def find_conflicts(self, dataset: str | Dataset, frame: pd.DataFrame
                       ) -> conflicts.Conflicts:
        """Rows of ``frame`` (validated, with ``_line``) whose given id exists — stored or
        earlier in the frame — with other content (see :mod:`hjo_data.conflicts`)."""
        ds = get_dataset(dataset)
        if len(frame) == 0 or ds.revision_columns or \
                not conflicts.explicit_ids(ds, frame).any():
            return conflicts.NONE
        ids = pa.array(frame["record_id"].drop_duplicates(), type=pa.string())
        known = ids.filter(pa.array(self._known(ds, ids)))
        table = self._rows_with_ids(ds, known) if len(known) else \
            arrow_schema(ds).empty_table()
        return conflicts.find_conflicts(ds, frame, _to_arrow(ds, frame), table)

    def append(
        self, dataset: str | Dataset, accepted: pd.DataFrame, batch_id: str, *,
        replace: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """Store the rows of ``accepted`` whose ``record_id`` is new; returns (added, dups).

        Rows repeated inside ``accepted`` or already stored are counted as duplicates and
        stored once. ``replace`` (bool mask over ``accepted``): rows that replace the
        stored row with their id (a conflict resolved by the user); the replaced row moves
        to the history file (restored if this batch is withdrawn). New rows go to NEW part
        files (no stored file is rewritten, except the files of replaced rows); inside a
        transaction appends accumulate (call it once per chunk of a large file).
        """
        ds = get_dataset(dataset)
        if "record_id" not in accepted.columns:
            raise ValueError("accepted frame needs a record_id column")
        with self.lock(), self._writing(f"append-{batch_id}"):
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
            new_table = _to_arrow(ds, new.assign(batch_id=batch_id))
            if replace_ids is not None:
                replaced = self._drop_rows(ds, replace_ids)
                self._append_history(ds, replaced, batch_id)
            self._write_parts(ds, new_table)
        return added, duplicates

    def append_new(self, dataset: str | Dataset, rows: pd.DataFrame, batch_id: str, *,
                   claimed: pd.Series | None = None) -> int:
        """Stage ``rows`` the caller already deduplicated as new part files and record
        ``claimed`` (ids of the batch's rows stored before it) in the batch's claims file;
        returns the rows added. For the streaming ingest (one call per chunk inside ONE
        transaction): it dedups against :meth:`stored_ids` read once and its own ids
        (hjo_data.idset), so neither ``split_new``'s per-chunk lookup over every stored
        id nor the transaction's id cache (memory) is used for these rows."""
        ds = get_dataset(dataset)
        with self.lock(), self._writing(f"append-{batch_id}"):
            if claimed is not None and len(claimed):
                self._write_claims(ds, pd.DataFrame({"record_id": claimed}), batch_id,
                                   stored=True)
            if len(rows):
                self._write_parts(ds, _to_arrow(ds, rows.assign(batch_id=batch_id)),
                                  note=False)
        return len(rows)

    def _write_parts(self, ds: Dataset, table: pa.Table, *, note: bool = True) -> None:
        """Stage ``table``'s rows as new part files (one per year it touches); ``note``:
        count them in the transaction's :meth:`stored_ids`."""
        if table.num_rows == 0:
            return
        name = layout.new_part_name()
        for year, rows in layout.split_by_year(ds, table):
            target = self.path(ds) / layout.partition_dir_name(year) / name
            self._write_file(target, lambda tmp, rows=rows: layout.write_part(ds, rows, tmp))
        if note:
            self._note_ids(ds, table["record_id"])
        touched = getattr(self._local, "touched", None)
        if touched is not None:
            touched.add(ds.name)

    def _rewrite(self, ds: Dataset, part: PartFile, table: pa.Table) -> None:
        """Replace one part file by ``table`` (removed when empty), in the transaction."""
        if table.num_rows == 0:
            self._remove_file(part.path)
        else:
            self._write_file(part.path, lambda tmp: layout.write_part(ds, table, tmp))

    def _current_parts(self, ds: Dataset) -> Iterator[tuple[PartFile, Path]]:
        """(part, file to read) of every stored part as this transaction sees it
        (a part rewritten earlier in the transaction: its staged content)."""
        txn = self._txn()
        for part in self._parts(ds):
            source = part.path if txn is None else txn.staged(part.path)
            if source is not None:
                yield part, source

    def _drop_rows(self, ds: Dataset, ids: pa.Array) -> pa.Table:
        """Remove the stored rows whose record_id is in ``ids`` (rewriting only the files
        holding one); returns the removed rows."""
        removed = [arrow_schema(ds).empty_table()]
        for part, source in self._current_parts(ds):
            rid = layout.read_part(ds, part, pa.schema([("record_id", pa.string())]), source)
            hit = pc.is_in(rid["record_id"], value_set=ids)
            if not pc.any(hit).as_py():
                continue
            table = layout.read_part(ds, part, arrow_schema(ds), source)
            removed.append(table.filter(hit))
            self._rewrite(ds, part, table.filter(pc.invert(hit)))
        return pa.concat_tables(removed)

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
        if not n or not self.row_count(ds):
            return first, np.zeros(n, dtype=bool)
        cols = ["record_id", *ds.revision_columns]
        stored = self.read_table(ds, cols).to_pandas().drop_duplicates("record_id")
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
        with self.lock(), self._writing(f"upsert-{batch_id}"):
            self._remove_stale_temp_files(ds)
            new, revised = self.split_revisions(ds, accepted)
            added, n_revised = int(new.sum()), int(revised.sum())
            duplicates = len(accepted) - added - n_revised
            if duplicates:
                self._write_claims(ds, accepted, batch_id)
            if added + n_revised == 0:
                return 0, 0, duplicates
            rows = _to_arrow(ds, accepted.loc[new | revised].assign(batch_id=batch_id))
            if n_revised:
                ids = pa.array(accepted.loc[revised, "record_id"], type=pa.string())
                self._append_history(ds, self._drop_rows(ds, ids), batch_id)
            self._write_parts(ds, rows)
        return added, n_revised, duplicates

    def _append_history(self, ds: Dataset, old: pa.Table, batch_id: str) -> None:
        if old.num_rows == 0:
            return
        time = datetime.now().astimezone().isoformat(timespec="seconds")
        old = old.append_column("replaced_by", pa.array([batch_id] * old.num_rows,
                                                        type=pa.string()))
        old = old.append_column("replaced_at", pa.array([time] * old.num_rows,
                                                        type=pa.string()))
        path = self.history_path(ds)
        path.parent.mkdir(parents=True, exist_ok=True)
        txn = self._txn()
        source = path if txn is None else txn.staged(path)
        if source is not None and source.exists():
            old = pa.concat_tables([pq.read_table(source), old.cast(pq.read_schema(source))])
        self._write_file(path, lambda tmp: pq.write_table(old, tmp))

    def _remove_stale_temp_files(self, ds: Dataset) -> None:
        """Temp files left by a killed writer (safe: every writer holds the lock)."""
        for tmp in [*self.root.glob(f".{ds.name}.parquet.*.tmp"),
                    *self.path(ds).glob("*/.*.tmp")]:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _write_claims(self, ds: Dataset, accepted: pd.DataFrame, batch_id: str, *,
                      stored: bool = False) -> None:
        """Record which of ``accepted``'s ids are already stored (see module docstring);
        ``stored``: the caller knows they all are (no lookup, no id index built)."""
        ids = pa.array(accepted["record_id"].drop_duplicates(), type=pa.string(),
                       from_pandas=True)
        claimed = ids if stored else ids.filter(pa.array(self._known(ds, ids)))
        if len(claimed) == 0:
            return
        target = self.claims_path(ds, batch_id)
        txn = self._txn()
        source = None if txn is None else txn.staged(target)
        if source is not None and source.exists():  # an earlier chunk of this batch
            claimed = pa.concat_arrays([pq.read_table(source)["record_id"].combine_chunks(),
                                        claimed])
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table({"record_id": claimed})
        self._write_file(target, lambda tmp: pq.write_table(table, tmp))

    def batch_ids(self, dataset: str | Dataset) -> list[str]:
        """Distinct batch ids with rows in ``dataset``."""
        col = self.read_table(dataset, ["batch_id"])["batch_id"]
        if not len(col):
            return []
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

    def _claims(self, ds: Dataset, order: Mapping[str, int]) -> list[tuple[int, str, pa.Array]]:
        """(rank, claimant, claimed ids) of every active batch's claims file."""
        claims_dir = self.root / _CLAIMS_DIR / ds.name
        out = []
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
                out.append((order[claimant], claimant, claimed.cast(pa.string())))
        return out

    def _withdraw_rows(self, ds: Dataset, batch_id: str, order: Mapping[str, int]
                       ) -> tuple[int, int]:
        """Drop ``batch_id``'s rows of one dataset, rewriting only the part files holding
        one; rows claimed by an active batch are handed to the earliest claimant instead.
        Returns (removed, kept)."""
        claims = self._claims(ds, order)
        removed = kept = 0
        remaining: list[pa.Array] = []
        batch_schema = pa.schema([("batch_id", pa.string())])
        for part, source in list(self._current_parts(ds)):
            batch_col = layout.read_part(ds, part, batch_schema, source)["batch_id"]
            if not pc.any(pc.equal(batch_col, batch_id)).as_py():
                remaining.append(layout.read_part(ds, part, pa.schema(
                    [("record_id", pa.string())]), source)["record_id"].combine_chunks())
                continue
            table = layout.read_part(ds, part, arrow_schema(ds), source)
            table, r, k = _without_batch(table, batch_id, claims)
            removed += r
            kept += k
            self._rewrite(ds, part, table)
            remaining.append(table["record_id"].combine_chunks())
        stored = pa.chunked_array(remaining, type=pa.string())
        back, history = self._restore_replaced(ds, batch_id, stored, order)
        if back is not None and back.num_rows:
            self._write_parts(ds, back)
        if history is not None:  # in the withdrawal's transaction, with the data files
            self._write_file(self.history_path(ds), lambda tmp: pq.write_table(history, tmp))
        return removed, kept

    def _restore_replaced(self, ds: Dataset, batch_id: str, stored: pa.ChunkedArray,
                          order: Mapping[str, int]) -> tuple[pa.Table | None, pa.Table | None]:
        """Rows ``batch_id`` replaced (history, ``replaced_by``) come back when it is
        withdrawn: those of a still active batch whose id is no longer stored (``stored``:
        the ids left). Returns (rows to store again, the history without them); (None,
        None): unchanged."""
        path = self.history_path(ds)
        if not path.exists():
            return None, None
        history = pq.read_table(path)
        mine = np.asarray(pc.equal(history["replaced_by"], batch_id).to_numpy(
            zero_copy_only=False), dtype=bool)
        if not mine.any():
            return None, None
        old = history.filter(pa.array(mine))
        active = np.asarray(pc.is_in(old["batch_id"], value_set=pa.array(
            list(order), type=pa.string())).to_numpy(zero_copy_only=False), dtype=bool)
        free = ~np.asarray(pc.is_in(old["record_id"], value_set=stored)
                           .to_numpy(zero_copy_only=False), dtype=bool)
        back = old.filter(pa.array(active & free)).drop_columns(["replaced_by",
                                                                  "replaced_at"])
        rest = history.filter(pa.array(~mine))
        return _conform(ds, back), rest

    def write_table(self, dataset: str | Dataset, table: pa.Table) -> None:
        """Replace a dataset's stored rows with ``table`` (every part file rewritten),
        as one transaction."""
        ds = get_dataset(dataset)
        table = _conform(ds, table)
        with self.lock(), self._writing(f"write-{ds.name}"):
            for part, _source in list(self._current_parts(ds)):
                self._remove_file(part.path)
            self._write_parts(ds, table)

    # ------------------------------------------------------------------ maintenance
    def compact(self, dataset: str | Dataset, *, max_files: int | None = None) -> int:
        """Merge the part files of every partition of ``dataset`` that has more than
        ``max_files`` into one (row order kept, one file in memory at a time), as one
        transaction; returns the number of files merged away. Runs after every
        transaction that added part files: many small appends (a file ingested in
        chunks, one form entry at a time) otherwise leave thousands of tiny files."""
        ds = get_dataset(dataset)
        max_files = COMPACT_MAX_FILES if max_files is None else max_files
        merged = 0
        with self.lock(), self._writing(f"compact-{ds.name}"):
            by_dir: dict[Path, list[tuple[PartFile, Path]]] = {}
            for part, source in self._current_parts(ds):
                if not part.legacy:
                    by_dir.setdefault(part.path.parent, []).append((part, source))
            for group in by_dir.values():
                if len(group) <= max_files:
                    continue
                first = group[0][0]
                self._write_file(first.path,  # the earliest name keeps the row order
                                 lambda tmp, group=group: layout.merge_parts(ds, group, tmp))
                for part, _src in group[1:]:
                    self._remove_file(part.path)
                merged += len(group) - 1
        return merged

    def _migrate_legacy(self) -> None:
        """Move every old-layout file ``<root>/<dataset>.parquet`` into the partitioned
        layout, as one journaled transaction (caller holds the lock): the partition files
        are staged, then the old file is removed at commit — a kill at any step leaves
        the old file or the migrated files, never neither or both."""
        with self.transaction("migrate-layout"):
            for name in self._legacy_files():
                ds = DATASETS[name]
                legacy = self.legacy_path(ds)
                table = _conform(ds, pq.read_table(legacy))
                self._write_parts(ds, table)
                self._remove_file(legacy)

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

_ROWS_CACHE: dict[tuple[str, int, int, int], int] = {}


def _file_rows(path: Path) -> int:
    """Rows of a Parquet file from its footer, cached per file version (path, inode,
    size, mtime): part files are immutable, so row_count reads each footer once."""
    try:
        st = path.stat()
    except OSError:
        return 0
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    rows = _ROWS_CACHE.get(key)
    if rows is None:
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except (OSError, pa.ArrowException):
            return 0
        if len(_ROWS_CACHE) > 100_000:
            _ROWS_CACHE.clear()
        _ROWS_CACHE[key] = rows
    return rows


def _without_batch(table: pa.Table, batch_id: str,
                   claims: list[tuple[int, str, pa.Array]]) -> tuple[pa.Table, int, int]:
    """``table`` without ``batch_id``'s rows, except rows a claim keeps (handed to the
    earliest claimant). Returns (table, removed, kept)."""
    batch_col = table["batch_id"].combine_chunks()
    mine = np.asarray(pc.equal(batch_col, pa.scalar(batch_id, type=batch_col.type))
                      .to_numpy(zero_copy_only=False), dtype=bool)
    if not mine.any():
        return table, 0, 0
    ids = table["record_id"].combine_chunks().cast(pa.string())
    heir = np.full(len(ids), None, dtype=object)
    heir_rank = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    for rank, claimant, claimed in claims:
        hit = mine & np.asarray(pc.is_in(ids, value_set=claimed)
                                .to_numpy(zero_copy_only=False), dtype=bool)
        better = hit & (heir_rank > rank)
        heir[better] = claimant
        heir_rank[better] = rank
    inherited = mine & (heir != None)  # noqa: E711 - elementwise on an object array
    drop = mine & ~inherited
    new_batch = batch_col.to_pandas().to_numpy(dtype=object)
    new_batch[inherited] = heir[inherited]
    table = table.set_column(
        table.schema.get_field_index("batch_id"), "batch_id",
        pa.array(new_batch, type=pa.string()),
    ).take(pa.array(np.flatnonzero(~drop)))
    return table, int(drop.sum()), int(inherited.sum())


def safe_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)
