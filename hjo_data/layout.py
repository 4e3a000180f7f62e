"""The store's physical layout: Hive-partitioned Parquet, one directory per dataset.

::

    <root>/<dataset>/year=2024/part-<time_ns>-<random>.parquet
    <root>/<dataset>/year=__HIVE_DEFAULT_PARTITION__/part-....parquet   rows without a year

The year is the year of the dataset's time column (``Dataset.time_column``): a date or
datetime's calendar year, an int year as it is, a statistik period's last four-digit year
("2019–2022" -> 2022). Datasets whose time column *is* ``year`` (survey, youth) keep it in
the directory name only — a Hive partition column is never also a file column, so DuckDB,
Spark and Trino see one ``year`` column of one type. Every file of a dataset has exactly
:func:`file_schema` (same Arrow types), so the directory can be read as is::

    SELECT year, count(*) FROM read_parquet('<root>/incidents/**/*.parquet',
                                            hive_partitioning = true) GROUP BY year

A part file is immutable once written: an append adds new part files (one per year it
touches); only a withdrawal, a conflict/revision replacement and compaction rewrite (or
remove) the affected files, always through the store's journal. File names sort in
write order (nanosecond time stamp first), so reading the files in name order gives the
rows in the order they were stored. Names starting with "." (journal and writer temps)
are ignored by every reader (ours, DuckDB's ``*.parquet`` glob, Spark, Trino).

Before this layout each dataset was one file ``<root>/<dataset>.parquet`` (the *legacy*
file); the store migrates it on first open (``Store._migrate_legacy``) and reads it as an
extra part file until then.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hjo_data.promise import column_default
from hjo_data.schema import Dataset

__all__ = [
    "DEFAULT_PARTITION",
    "IdIndex",
    "PARTITION_KEY",
    "PartFile",
    "arrow_schema",
    "conform",
    "file_schema",
    "hash_ids",
    "merge_parts",
    "filler",
    "new_part_name",
    "partition_dir_name",
    "partition_in_path",
    "partition_years",
    "read_part",
    "scan",
    "split_by_year",
    "write_part",
]

#: The partition key of every dataset directory (Hive style: ``year=2024``).
PARTITION_KEY = "year"
#: The partition of rows without a year: Hive's null partition, which Spark, Trino,
#: DuckDB and pyarrow all read as NULL.
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PART_SUFFIX = ".parquet"
#: The last four-digit year in a period text ("2019–2022" -> 2022, "2023K1" -> 2023).
_PERIOD_YEAR = r"^.*(?P<year>(?:19|20)\d\d)"


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
    """The Arrow schema of a dataset's stored table (as :meth:`Store.read_table` returns
    it, ``year`` included)."""
    return pa.schema([(n, _column_type(dataset, n)) for n in dataset.stored_columns])


def partition_in_path(dataset: Dataset) -> bool:
    """True when the dataset's time column is the partition key itself (``year``): it is
    then kept in the directory name only."""
    return dataset.time_column == PARTITION_KEY


def file_schema(dataset: Dataset) -> pa.Schema:
    """The schema of every part file of ``dataset`` (the stored schema without a
    partition column)."""
    schema = arrow_schema(dataset)
    if partition_in_path(dataset):
        schema = schema.remove(schema.get_field_index(PARTITION_KEY))
    return schema


def filler(dataset: Dataset, field: pa.Field, n: int) -> pa.Array:
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


def conform(dataset: Dataset, table: pa.Table, schema: pa.Schema | None = None) -> pa.Table:
    """Stored table -> ``schema`` (default: the stored schema); tolerates files written
    by an older schema (missing columns filled, types cast)."""
    schema = arrow_schema(dataset) if schema is None else schema
    if table.schema.equals(schema, check_metadata=False):
        return table.replace_schema_metadata(None)
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            arrays.append(table[field.name].cast(field.type))
        else:
            arrays.append(filler(dataset, field, table.num_rows))
    return pa.Table.from_arrays(arrays, schema=schema)


def partition_years(dataset: Dataset, table: pa.Table) -> pa.Array:
    """The partition year (int64, null: none) of every row of a stored table."""
    col = table[dataset.time_column].combine_chunks()
    if pa.types.is_timestamp(col.type):
        return pc.year(col).cast(pa.int64())
    if pa.types.is_integer(col.type):
        return col.cast(pa.int64())
    found = pc.extract_regex(col.cast(pa.string()), _PERIOD_YEAR)
    return pc.struct_field(found, "year").cast(pa.int64())


def partition_dir_name(year: int | None) -> str:
    return f"{PARTITION_KEY}={DEFAULT_PARTITION if year is None else int(year)}"


def _dir_year(name: str) -> int | None:
    value = name.partition("=")[2]
    return None if value == DEFAULT_PARTITION else int(value)


def new_part_name() -> str:
    """A fresh part file name that sorts after every earlier one of this host."""
    return f"part-{time.time_ns():020d}-{secrets.token_hex(3)}{PART_SUFFIX}"


@dataclass(frozen=True)
class PartFile:
    """One stored Parquet file of a dataset."""

    path: Path
    #: Partition year (None: the default partition, or the legacy file).
    year: int | None
    #: Inode (cheap change detection: a rewritten file is a new inode).
    inode: int
    legacy: bool = False


def scan(dataset_dir: Path, legacy: Path | None = None) -> list[PartFile]:
    """The part files under ``dataset_dir`` in write order (the legacy file first)."""
    out: list[PartFile] = []
    if legacy is not None:
        with contextlib.suppress(OSError):
            out.append(PartFile(legacy, None, legacy.stat().st_ino, legacy=True))
    parts: list[PartFile] = []
    for entry in _entries(dataset_dir):
        if not entry.name.startswith(f"{PARTITION_KEY}=") or not entry.is_dir():
            continue
        try:
            year = _dir_year(entry.name)
        except ValueError:
            continue  # not ours
        for item in _entries(Path(entry.path)):
            if item.name.endswith(PART_SUFFIX) and not item.name.startswith((".", "_")):
                parts.append(PartFile(Path(item.path), year, item.inode()))
    parts.sort(key=lambda p: (p.path.name, p.path.parent.name))
    return out + parts


def _entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            yield from it
    except OSError:
        return


def read_part(dataset: Dataset, part: PartFile, schema: pa.Schema,
              source: Path | None = None) -> pa.Table:
    """One part file as ``schema`` (a subset of the stored schema); the partition column
    comes from the directory name. ``source``: read this file instead (a staged temp)."""
    path = source if source is not None else part.path
    wanted = [n for n in schema.names if not (n == PARTITION_KEY and partition_in_path(dataset)
                                              and not part.legacy)]
    try:  # pq.read_table: ~2x faster than ParquetFile.read (pre-buffered, threaded)
        table = pq.read_table(path, columns=wanted)
    except (pa.ArrowInvalid, KeyError):  # a file of an older schema lacks a column
        present = set(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[n for n in wanted if n in present])
    if PARTITION_KEY in schema.names and PARTITION_KEY not in table.column_names \
            and partition_in_path(dataset):
        years = pa.array(np.full(table.num_rows, part.year or 0, dtype=np.int64),
                         mask=np.full(table.num_rows, part.year is None))
        table = table.append_column(PARTITION_KEY, years)
    return conform(dataset, table, schema)


def split_by_year(dataset: Dataset, table: pa.Table) -> list[tuple[int | None, pa.Table]]:
    """The rows of ``table`` per partition year (row order kept within a year)."""
    if table.num_rows == 0:
        return []
    years = partition_years(dataset, table)
    distinct = pc.unique(years).to_pylist()
    if len(distinct) == 1:
        return [(distinct[0], table)]
    order = pc.sort_indices(years)  # stable; nulls last
    ordered = table.take(order)
    sorted_years = years.take(order)
    out: list[tuple[int | None, pa.Table]] = []
    start = 0
    counts = pc.value_counts(sorted_years)  # first-seen order = sorted order
    for item in counts:
        n = item["counts"].as_py()
        out.append((item["values"].as_py(), ordered.slice(start, n)))
        start += n
    return out


def _write_options(dataset: Dataset, names: list[str]) -> dict[str, object]:
    # Ids, positions and time stamps are (nearly) unique: dictionary encoding them only
    # costs time and space. Statistics are kept for the time column only (period
    # filters may push down). lz4, not zstd: ~20 % less CPU per write (1M-row bench),
    # faster reads; files are about twice as large (~20 MB per million events).
    unique = {"record_id", dataset.id_column}
    unique.update(c.name for c in dataset.columns if c.kind in ("datetime", "float"))
    stats = [c for c in (dataset.time_column,) if c in names]
    return {"compression": "lz4", "use_dictionary": [n for n in names if n not in unique],
            "write_statistics": stats or False}


def _file_table(dataset: Dataset, table: pa.Table) -> pa.Table:
    table = conform(dataset, table)
    if partition_in_path(dataset):
        table = table.drop_columns([PARTITION_KEY])
    return table


def write_part(dataset: Dataset, table: pa.Table, path: Path | str) -> None:
    """Write ``table`` (stored schema) as a part file with :func:`file_schema`."""
    table = _file_table(dataset, table)
    pq.write_table(table, path, **_write_options(dataset, table.column_names))


def merge_parts(dataset: Dataset, sources: list[tuple[PartFile, Path]],
                path: Path | str) -> None:
    """Write the rows of several part files (in order) into one, one file in memory at a
    time (compaction of a large partition stays memory-bounded)."""
    schema = file_schema(dataset)
    with pq.ParquetWriter(path, schema, **_write_options(dataset, schema.names)) as writer:
        for part, source in sources:
            writer.write_table(_file_table(dataset, read_part(
                dataset, part, arrow_schema(dataset), source)))


_HASH_SLICE = 1 << 20


def hash_ids(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A uint64 hash per id (pandas' fixed-key siphash), computed in slices so a few
    million ids never become Python strings all at once."""
    out = np.empty(len(ids), dtype=np.uint64)
    for start in range(0, len(ids), _HASH_SLICE):
        part = ids.slice(start, _HASH_SLICE)
        values = part.to_numpy(zero_copy_only=False) if isinstance(part, pa.Array) else \
            part.to_numpy()
        out[start:start + len(part)] = pd.util.hash_array(values.astype(object),
                                                          categorize=False)
    return out


class IdIndex:
    """Exact membership of record ids, built once and grown per appended chunk: the ids'
    64-bit hashes sorted (binary search per lookup, an O(n) merge per added chunk — no
    hash table rebuilt over every stored id per chunk) plus the ids themselves, which
    confirm every hash hit (a collision never makes a new row a duplicate)."""

    def __init__(self, ids: pa.ChunkedArray) -> None:
        self.ids = ids.cast(pa.string())
        hashes = hash_ids(self.ids)
        order = np.argsort(hashes, kind="stable")
        self._keys = hashes[order]
        self._pos = order.astype(np.int64)
        #: Optional: the part files the ids were read from, and where each one's ids
        #: start in :attr:`ids` (set by the store).
        self.parts: list[PartFile] = []
        self.offsets = np.zeros(1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def contains(self, ids: pa.Array) -> np.ndarray:
        """Bool per id of ``ids``: stored (null ids never are)."""
        return self.locate(ids) >= 0

    def locate(self, ids: pa.Array) -> np.ndarray:
        """Per id of ``ids``: its position in :attr:`ids` (-1: not stored)."""
        ids = ids.cast(pa.string())
        where = np.full(len(ids), -1, dtype=np.int64)
        if not len(ids) or not len(self._keys):
            return where
        hashes = hash_ids(ids)
        order = np.argsort(hashes, kind="stable")  # sorted probes: cache-friendly search
        left = np.empty(len(ids), dtype=np.int64)
        left[order] = np.searchsorted(self._keys, hashes[order], side="left")
        inside = left < len(self._keys)
        cand = np.flatnonzero(inside)
        cand = cand[self._keys[left[cand]] == hashes[cand]]
        if not cand.size:
            return where
        right = np.zeros(len(ids), dtype=np.int64)
        right[cand] = np.searchsorted(self._keys, hashes[cand], side="right")
        stored = self.ids.take(pa.array(self._pos[left[cand]]))
        same = pc.equal(stored, ids.take(pa.array(cand))).fill_null(False)
        same = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
        where[cand[same]] = self._pos[left[cand[same]]]
        for i in cand[~same & (right[cand] - left[cand] > 1)]:  # rare: a hash collision
            want = ids[int(i)].as_py()
            for j in range(left[i] + 1, right[i]):
                if self.ids[int(self._pos[j])].as_py() == want:
                    where[i] = self._pos[j]
                    break
        return where

    def add(self, ids: pa.Array | pa.ChunkedArray) -> None:
        """Ids stored since the index was built."""
        ids = ids.cast(pa.string())
        if not len(ids):
            return
        chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
        base = len(self.ids)
        hashes = hash_ids(ids)
        order = np.argsort(hashes, kind="stable")
        at = np.searchsorted(self._keys, hashes[order], side="right")
        self._keys = np.insert(self._keys, at, hashes[order])
        self._pos = np.insert(self._pos, at, base + order.astype(np.int64))
        self.ids = pa.chunked_array([*self.ids.chunks, *chunks], type=pa.string())
