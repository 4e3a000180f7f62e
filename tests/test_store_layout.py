"""The Hive-partitioned store layout (issue 14): ``<root>/<dataset>/year=YYYY/*.parquet``
read as is by DuckDB, new part files per append, only affected files rewritten, old
single-file stores migrated through the journal, compaction, a cheap version."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hjo_data import demo, journal, layout
from hjo_data import store as store_mod
from hjo_data.backup import MANIFEST, restore
from hjo_data.schema import DATASETS
from hjo_data.store import Store, arrow_schema
from tests.conftest import stored_bytes


class Crash(BaseException):
    """Stands for the process dying (nothing may clean up)."""


def incidents(ids: list[str], times: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "incident_id": ids,
        "occurred_at": pd.to_datetime(times, format="ISO8601"),
        "occurred_at_has_time": [True] * n,
        "category": ["klotter"] * n,
        "category_raw": [""] * n,
        "area": ["Centrum"] * n,
        "source": ["polis"] * n,
        "source_raw": [""] * n,
        "lat": [np.nan] * n,
        "lon": [np.nan] * n,
        "description": [f"text {i}" for i in ids],
        "record_id": ids,
    })


#: 2 rows in 2022, 3 in 2023, 1 in 2024 (counted by hand).
FIRST = incidents(["a", "b", "c", "d", "e", "f"],
                  ["2023-01-05", "2022-12-31 23:59", "2023-06-01", "2024-02-29",
                   "2022-01-01", "2023-12-31"])
BY_YEAR = {2022: 2, 2023: 3, 2024: 1}


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def files(st: Store, name: str = "incidents") -> list[str]:
    return [p.relative_to(st.path(name)).as_posix() for p in st.part_files(name)]


def duck_counts(st: Store, name: str) -> dict[object, int]:
    glob = (st.path(name) / "**" / "*.parquet").as_posix()
    rows = duckdb.sql(f"SELECT year, count(*) FROM read_parquet('{glob}', "
                      "hive_partitioning = true) GROUP BY year").fetchall()
    return {year: n for year, n in rows}


def arm(monkeypatch: pytest.MonkeyPatch, step: str, nth: int = 1) -> None:
    seen: Counter[str] = Counter()

    def hook(name: str) -> None:
        seen[name] += 1
        if name == step and seen[name] == nth:
            raise Crash(step)

    monkeypatch.setattr(journal, "crash_hook", hook)


# --------------------------------------------------------------------------- layout

def test_rows_go_to_one_directory_per_year(st: Store) -> None:
    assert st.append("incidents", FIRST, "b1") == (6, 0)
    names = files(st)
    assert [n.split("/")[0] for n in names] == ["year=2022", "year=2023", "year=2024"]
    assert len({n.split("/")[1] for n in names}) == 1  # one append = one part name
    for part in st.part_files("incidents"):
        ids = pq.read_table(part)["record_id"].to_pylist()
        year = int(part.parent.name.split("=")[1])
        assert {i for i in ids} == set(FIRST.loc[FIRST["occurred_at"].dt.year == year,
                                                 "record_id"])
    assert st.row_count("incidents") == 6
    assert st.read("incidents")["occurred_at"].dt.year.value_counts().to_dict() == BY_YEAR


def test_duckdb_reads_the_store_as_is(st: Store) -> None:
    st.append("incidents", FIRST, "b1")
    st.append("incidents", incidents(["g", "h"], ["2024-03-01", "2021-07-07"]), "b2")
    expected = {2021: 1, 2022: 2, 2023: 3, 2024: 2}  # BY_YEAR + g (2024) + h (2021)
    assert duck_counts(st, "incidents") == expected
    ours = st.read("incidents")["occurred_at"].dt.year.value_counts().to_dict()
    assert ours == expected
    glob = (st.path("incidents") / "**" / "*.parquet").as_posix()
    # Partition pruning: one year's filter reads one directory.
    one = duckdb.sql(f"SELECT list_sort(list(record_id)) FROM read_parquet('{glob}', "
                     "hive_partitioning = true) WHERE year = 2023").fetchall()[0][0]
    assert one == ["a", "c", "f"]
    cols = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{glob}', "
                                     "hive_partitioning = true)").fetchall()]
    assert cols == [*DATASETS["incidents"].stored_columns, "year"]


def test_every_dataset_reads_the_same_in_duckdb(st: Store) -> None:
    """Demo data for every dataset: DuckDB's count per year = Store.read's, and every
    file of a dataset has the one file schema (no second ``year`` column anywhere)."""
    frames = demo.generate(rows=400)
    for name, frame in frames.items():
        st.append(name, frame, "demo")
    for name, ds in DATASETS.items():
        assert st.row_count(name) == len(frames[name]) > 0
        schema = layout.file_schema(ds)
        for part in st.part_files(name):
            assert pq.read_schema(part).remove_metadata().equals(schema), part
        table = st.read_table(name)
        years = layout.partition_years(ds, table).to_pylist()
        assert duck_counts(st, name) == dict(Counter(years))
        assert table.schema.equals(arrow_schema(ds))
    # survey/youth keep the year in the path only: DuckDB sees one BIGINT column
    glob = (st.path("survey") / "**" / "*.parquet").as_posix()
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{glob}', "
                           "hive_partitioning = true)").fetchall()
    assert [(c, t) for c, t, *_ in described if c == "year"] == [("year", "BIGINT")]
    assert "year" not in pq.read_schema(st.part_files("survey")[0]).names
    pd.testing.assert_frame_equal(
        st.read("survey").sort_values("record_id").reset_index(drop=True),
        frames["survey"].assign(batch_id="demo").sort_values("record_id").reset_index(
            drop=True)[list(DATASETS["survey"].stored_columns)],
        check_dtype=False)


def test_rows_without_a_year_go_to_the_default_partition(st: Store) -> None:
    frame = demo.generate(rows=50)["traffic"].head(3).copy()
    frame["date"] = pd.to_datetime(["2024-05-01", None, "2023-05-01"])
    st.append("traffic", frame, "b1")
    assert sorted(p.parent.name for p in st.part_files("traffic")) == [
        "year=2023", "year=2024", "year=__HIVE_DEFAULT_PARTITION__"]
    assert duck_counts(st, "traffic") == {2023: 1, 2024: 1, None: 1}
    assert st.read("traffic")["date"].isna().sum() == 1


def test_statistik_period_partitions_by_its_last_year(st: Store) -> None:
    frame = demo.generate(rows=50)["statistik"].head(3).copy()
    frame["period"] = ["2019–2022", "2023", "2021-2023"]
    frame["record_id"] = ["s1", "s2", "s3"]
    st.upsert("statistik", frame, "b1")
    assert duck_counts(st, "statistik") == {2022: 1, 2023: 2}


# --------------------------------------------------------------------------- appends

def test_append_writes_new_files_only(st: Store) -> None:
    st.append("incidents", FIRST, "b1")
    before = {p: (p.read_bytes(), p.stat().st_ino) for p in st.part_files("incidents")}
    assert st.append("incidents", incidents(["a", "x"], ["2023-01-05", "2023-03-03"]),
                     "b2") == (1, 1)
    after = st.part_files("incidents")
    assert {p: (p.read_bytes(), p.stat().st_ino) for p in before} == before
    new = [p for p in after if p not in before]
    assert [p.parent.name for p in new] == ["year=2023"]
    assert pq.read_table(new[0])["record_id"].to_pylist() == ["x"]
    assert st.read("incidents")["record_id"].tolist()[-1] == "x"  # write order kept


def test_appends_in_one_transaction_accumulate(st: Store) -> None:
    st.append("incidents", FIRST, "b0")
    with st.transaction("chunks"):
        assert st.append("incidents", incidents(["g", "h"], ["2024-01-01"] * 2), "b1") \
            == (2, 0)
        # the second chunk repeats h (this file) and a (stored): both duplicates
        assert st.append("incidents", incidents(["h", "a", "i"], ["2024-01-02"] * 3),
                         "b1") == (1, 2)
        assert sorted(st.stored_ids("incidents").to_pylist()) == list("abcdefghi")
        mask, dups = st.split_new("incidents", incidents(["i", "j"], ["2024-01-03"] * 2))
        assert (mask.tolist(), dups) == ([False, True], 1)
        assert len(st.read("incidents")) == 6  # reads see the store before the block
    assert sorted(st.read("incidents")["record_id"]) == list("abcdefghi")
    assert st.stored_ids("incidents").type == pa.string()
    assert len(st.part_files("incidents")) == 3 + 2  # two chunks, one year each


def test_a_killed_chunked_transaction_stores_nothing(st: Store, monkeypatch) -> None:
    st.append("incidents", FIRST, "b0")
    before = stored_bytes(st, "incidents")
    arm(monkeypatch, "installed", 1)
    with pytest.raises(Crash), st.transaction("chunks"):
        st.append("incidents", incidents(["g"], ["2024-01-01"]), "b1")
        st.append("incidents", incidents(["h"], ["2020-01-01"]), "b1")
        st.log({"batch_id": "b1", "file": "x.csv"})
    monkeypatch.setattr(journal, "crash_hook", None)
    reopened = Store(st.root)  # recovery: both part files staged + intent -> forward
    assert sorted(reopened.read("incidents")["record_id"]) == list("abcdefgh")
    assert [e["batch_id"] for e in reopened.log_entries()] == ["b1"]
    arm(monkeypatch, "staged", 1)
    with pytest.raises(Crash), reopened.transaction("more"):
        reopened.append("incidents", incidents(["k"], ["2019-01-01"]), "b2")
    monkeypatch.setattr(journal, "crash_hook", None)
    again = Store(st.root)  # killed before its intent: rolled back
    assert sorted(again.read("incidents")["record_id"]) == list("abcdefgh")
    assert set(before) < set(stored_bytes(again, "incidents"))
    assert not [p for p in st.root.rglob("*") if p.name.endswith((".hjo-new", ".hjo-old"))]


# --------------------------------------------------------------------------- rewrites

def test_withdraw_rewrites_only_the_affected_files(st: Store) -> None:
    st.append("incidents", FIRST, "b1")
    st.append("incidents", incidents(["g", "h"], ["2024-01-01", "2023-02-02"]), "b2")
    st.log({"batch_id": "b1", "file": "a.csv", "dataset": "incidents"})
    st.log({"batch_id": "b2", "file": "b.csv", "dataset": "incidents"})
    b1_files = {p: p.read_bytes() for p in st.part_files("incidents")[:3]}
    result = st.withdraw("b2")
    assert (result.removed, result.kept) == (2, 0)
    assert {p: p.read_bytes() for p in st.part_files("incidents")} == b1_files
    assert duck_counts(st, "incidents") == BY_YEAR


def test_replace_rewrites_the_file_of_the_replaced_row(st: Store) -> None:
    st.append("incidents", FIRST, "b1")
    untouched = {p: p.read_bytes() for p in st.part_files("incidents")
                 if p.parent.name != "year=2023"}
    changed = incidents(["c"], ["2023-06-01"]).assign(description="ny text")
    assert st.append("incidents", changed, "b2", replace=np.array([True])) == (1, 0)
    stored = st.read("incidents").set_index("record_id")
    assert stored.loc["c", "description"] == "ny text" and len(stored) == 6
    assert {p: p.read_bytes() for p in untouched} == untouched
    assert st.read_history("incidents")["description"].tolist() == ["text c"]


def test_compaction_merges_small_files_and_keeps_the_rows(st: Store, monkeypatch) -> None:
    for k in range(5):
        st.append("incidents", incidents([f"r{k}"], [f"2024-0{k + 1}-01"]), f"b{k}")
    st.append("incidents", incidents(["old"], ["2020-01-01"]), "b9")
    assert len(st.part_files("incidents")) == 6
    order = st.read("incidents")["record_id"].tolist()
    v0 = st.version()
    arm(monkeypatch, "installed", 2)  # killed half-way: rolled forward on reopen
    with pytest.raises(Crash):
        st.compact("incidents", max_files=2)
    monkeypatch.setattr(journal, "crash_hook", None)
    st = Store(st.root)
    # the merged 2024 file keeps its earliest name (r0's), so it sorts before 2020's
    assert [f.split("/")[0] for f in files(st)] == ["year=2024", "year=2020"]
    assert sorted(st.read("incidents")["record_id"]) == sorted(order)
    assert st.read("incidents")["record_id"].tolist() == ["r0", "r1", "r2", "r3", "r4",
                                                          "old"]  # 2024's first name first
    assert st.version() != v0
    assert st.compact("incidents", max_files=2) == 0  # nothing left to merge
    # a withdrawal now rewrites the merged file (b2's row out, the rest kept)
    for k in range(5):
        st.log({"batch_id": f"b{k}", "file": f"{k}.csv", "dataset": "incidents"})
    assert st.withdraw("b2").removed == 1
    assert sorted(st.read("incidents")["record_id"]) == ["old", "r0", "r1", "r3", "r4"]
    assert duck_counts(st, "incidents") == {2020: 1, 2024: 4}


def test_a_failed_rewrite_leaves_the_files(st: Store, monkeypatch) -> None:
    for k in range(3):
        st.append("incidents", incidents([f"r{k}"], ["2024-01-01"]), f"b{k}")
        st.log({"batch_id": f"b{k}", "file": f"{k}.csv", "dataset": "incidents"})
    st.compact("incidents", max_files=1)
    before = stored_bytes(st, "incidents")

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(layout.pq, "write_table", boom)
    with pytest.raises(OSError):
        st.withdraw("b1")
    monkeypatch.undo()
    assert stored_bytes(Store(st.root), "incidents") == before
    assert "withdrawn" not in st.ingest_log().columns


# --------------------------------------------------------------------------- migration

def legacy_store(root: Path) -> dict[str, pd.DataFrame]:
    """A store in the old layout: one <dataset>.parquet per dataset (survey with its
    year column inside the file), as the earlier Store wrote it."""
    root.mkdir(parents=True, exist_ok=True)
    frames = demo.generate(rows=300)
    for name in ("incidents", "survey"):
        ds = DATASETS[name]
        frame = frames[name].assign(batch_id="gammal")[list(ds.stored_columns)]
        table = pa.Table.from_pandas(frame, schema=arrow_schema(ds), preserve_index=False)
        pq.write_table(table, root / f"{name}.parquet")
        frames[name] = frame
    return frames


def test_an_old_single_file_store_is_migrated_on_open(tmp_path: Path) -> None:
    root = tmp_path / "store"
    frames = legacy_store(root)
    st = Store(root)
    assert not (root / "incidents.parquet").exists() and not (root / "survey.parquet").exists()
    for name in ("incidents", "survey"):
        assert st.part_files(name) and all("year=" in p.parent.name
                                           for p in st.part_files(name))
        got = st.read(name).sort_values("record_id").reset_index(drop=True)
        want = frames[name].sort_values("record_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    by_year = frames["incidents"]["occurred_at"].dt.year.value_counts().to_dict()
    assert duck_counts(st, "incidents") == by_year
    assert duck_counts(st, "survey") == frames["survey"]["year"].value_counts().to_dict()
    assert not (root / journal.JOURNAL_DIR).exists() or \
        not list((root / journal.JOURNAL_DIR).iterdir())


@pytest.mark.parametrize(("step", "nth"), [("staged", 1), ("intent", 1), ("installed", 1),
                                           ("installed", 3), ("logged", 1),
                                           ("committed", 1)])
def test_a_killed_migration_loses_nothing(tmp_path: Path, monkeypatch, step: str,
                                          nth: int) -> None:
    root = tmp_path / "store"
    frames = legacy_store(root)
    arm(monkeypatch, step, nth)
    with pytest.raises(Crash):
        Store(root)
    monkeypatch.setattr(journal, "crash_hook", None)
    # Before recovery a reader sees the old file and/or the new parts, never nothing.
    st = Store(root)  # recovery, then (when rolled back) the migration again
    assert not (root / "incidents.parquet").exists()
    assert st.row_count("incidents") == len(frames["incidents"])
    assert st.row_count("survey") == len(frames["survey"])
    assert sorted(st.read("incidents")["record_id"]) == sorted(frames["incidents"]["record_id"])


def test_legacy_file_is_read_until_migrated(tmp_path: Path) -> None:
    root = tmp_path / "store"
    frames = legacy_store(root)
    st = Store.__new__(Store)  # an instance made before the file appeared
    st.root = root
    st._local = threading.local()
    assert st.row_count("incidents") == len(frames["incidents"])
    assert len(st.read("incidents")) == len(frames["incidents"])


# --------------------------------------------------------------------------- version

def test_version_is_cheap_and_changes_on_every_change(st: Store, monkeypatch) -> None:
    seen = {st.version()}
    st.append("incidents", FIRST, "b1")
    seen.add(st.version())
    st.append("incidents", incidents(["g"], ["2023-03-03"]), "b2")  # same partitions
    seen.add(st.version())
    st.log({"batch_id": "b2", "file": "b.csv", "dataset": "incidents"})
    seen.add(st.version())
    st.withdraw("b2")
    seen.add(st.version())
    assert len(seen) == 5

    def no_open(*_a, **_k):
        raise AssertionError("version() opened a Parquet file")

    monkeypatch.setattr(pq, "ParquetFile", no_open)
    monkeypatch.setattr(pq, "read_table", no_open)
    assert st.version() == st.version()


# --------------------------------------------------------------------------- id index

def test_id_index_is_exact_even_when_hashes_collide(monkeypatch) -> None:
    index = layout.IdIndex(pa.chunked_array([["a", "b"], ["c"]]))
    index.add(pa.array(["d", "e"]))
    probe = pa.array(["a", "x", "e", None, "c", "dd"])
    assert index.contains(probe).tolist() == [True, False, True, False, True, False]
    # every id hashing to one value: lookups must still compare the ids themselves
    monkeypatch.setattr(layout, "hash_ids", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    same = layout.IdIndex(pa.chunked_array([["a", "b", "c"]]))
    same.add(pa.array(["d"]))
    assert same.contains(probe).tolist() == [True, False, False, False, True, False]
    assert same.ids.to_pylist() == ["a", "b", "c", "d"] and len(same) == 4


def test_an_old_layout_backup_restores_and_is_migrated(tmp_path: Path) -> None:
    old = tmp_path / "gammal"
    frames = legacy_store(old)
    files = [p for p in sorted(old.rglob("*")) if p.is_file()]
    manifest = {"format": 1, "files": [
        {"path": p.relative_to(old).as_posix(), "size": p.stat().st_size,
         "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files]}
    (old / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    target = Store(tmp_path / "ny")
    restore(old, target)
    st = Store(target.root)  # the next start migrates
    assert not (target.root / "incidents.parquet").exists()
    assert sorted(st.read("incidents")["record_id"]) == sorted(frames["incidents"]["record_id"])
    assert st.row_count("survey") == len(frames["survey"])


def test_many_small_appends_are_compacted_after_their_transaction(st: Store,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(store_mod, "COMPACT_MAX_FILES", 3)
    for k in range(5):
        st.append("incidents", incidents([f"r{k}"], ["2024-01-01"]), f"b{k}")
    # appends 1-3: 3 files (not more than 3); the 4th makes 4 -> merged into 1; the 5th: 2
    assert len(st.part_files("incidents")) == 2
    assert st.read("incidents")["record_id"].tolist() == ["r0", "r1", "r2", "r3", "r4"]
    assert duck_counts(st, "incidents") == {2024: 5}


def test_conflict_lookup_in_a_transaction_reads_only_the_files_holding_the_ids(
        st: Store, monkeypatch) -> None:
    st.append("incidents", FIRST, "b1")  # 3 files: 2022 (b, e), 2023 (a, c, f), 2024 (d)
    read: list[str] = []
    real = layout.read_part

    def spy(ds, part, schema, source=None):
        read.append(part.path.parent.name)
        return real(ds, part, schema, source)

    with st.transaction("t"):
        st.stored_ids("incidents")  # the index: every file's ids once
        monkeypatch.setattr(layout, "read_part", spy)
        rows = st._rows_with_ids(DATASETS["incidents"], pa.array(["d", "zz"]))
        assert rows["record_id"].to_pylist() == ["d"]
        assert read == ["year=2024", "year=2024"]  # ids, then the row: one file only
        read.clear()
        found = st.find_conflicts("incidents", incidents(["e"], ["2022-01-01"]).assign(
            description="annan text", _line=2))
        assert set(read) == {"year=2022"}
    # e is stored with "text e": the other description is a conflict with the store
    assert found.positions.tolist() == [0] and found.columns == (("description",),)
    assert found.with_store.tolist() == [0]
