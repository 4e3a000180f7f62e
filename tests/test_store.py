"""Store: roundtrip, dtypes, dedup, atomicity, lock, log, quarantine."""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import export
from hjo_data import store as store_mod
from hjo_data.schema import DATASETS, INCIDENTS, TRAFFIC
from hjo_data.store import QUARANTINE_COLUMNS, Store, safe_cell
from tests.conftest import stored_bytes

EXPECTED_DTYPES = {
    "text": "str", "category": "str", "date": "datetime64[us]", "datetime": "datetime64[us]",
    "int": "int64", "float": "float64", "share": "float64",
}


def expected_dtype(dataset, name: str) -> str:
    """Reference mapping from ARCHITECTURE.md (independent of store's own table)."""
    if name in ("record_id", "batch_id") or name.endswith("_raw"):
        return "str"
    if name.endswith("_has_time"):
        return "bool"
    return EXPECTED_DTYPES[dataset.column(name).kind]


def incidents(ids: list[str], *, day: int = 1) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "incident_id": ids,
        "occurred_at": pd.to_datetime([f"2024-05-{day:02d} 10:{i % 60:02d}" for i in range(n)]),
        "occurred_at_has_time": [i % 2 == 0 for i in range(n)],
        "category": ["klotter"] * n,
        "category_raw": [""] * n,
        "area": [f"område {i % 3}" for i in range(n)],
        "source": ["polis"] * n,
        "source_raw": [""] * n,
        "lat": [58.3 + i / 1000 if i % 2 else np.nan for i in range(n)],
        "lon": [14.2] * n,
        "description": [f"text {i}" for i in range(n)],
        "record_id": ids,
        "_line": np.arange(2, n + 2, dtype="int64"),
    })


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_empty_read_has_schema(st: Store) -> None:
    for name, ds in DATASETS.items():
        frame = st.read(name)
        assert len(frame) == 0
        assert tuple(frame.columns) == ds.stored_columns
        for col in ds.stored_columns:
            assert str(frame[col].dtype) == expected_dtype(ds, col), (name, col)
    assert not st.has_data()
    assert st.ingest_log().empty


def test_roundtrip_values_and_dtypes(st: Store) -> None:
    frame = incidents(["a", "b", "c"])
    assert st.append("incidents", frame, "batch-1") == (3, 0)
    back = st.read("incidents")
    assert tuple(back.columns) == INCIDENTS.stored_columns
    for col in INCIDENTS.stored_columns:
        assert str(back[col].dtype) == expected_dtype(INCIDENTS, col), col
    for col in INCIDENTS.stored_columns:
        if col == "batch_id":
            continue
        left, right = back[col].tolist(), frame[col].tolist()
        if col == "lat":
            np.testing.assert_allclose(back[col], frame[col])
        else:
            assert left == right, col
    assert set(back["batch_id"]) == {"batch-1"}
    assert "_line" not in back.columns
    assert st.has_data()


def test_int_and_date_dataset_roundtrip(st: Store) -> None:
    frame = pd.DataFrame({
        "date": pd.to_datetime(["2024-03-01", "2024-03-08"]),
        "area": ["Centrum", "Hamnen"],
        "control_type": ["hastighet", "nykterhet"],
        "control_type_raw": ["", ""],
        "vehicles_checked": [40, 12],
        "record_id": ["t1", "t2"],
    })
    assert st.append("traffic", frame, "b") == (2, 0)
    back = st.read("traffic")
    for col in TRAFFIC.stored_columns:
        assert str(back[col].dtype) == expected_dtype(TRAFFIC, col), col
    assert back["vehicles_checked"].tolist() == [40, 12]
    assert back["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-01", "2024-03-08"]


def test_dedup_within_frame_and_across_appends(st: Store) -> None:
    first = incidents(["a", "b", "b", "c", "a"])
    assert st.append("incidents", first, "b1") == (3, 2)
    second = incidents(["c", "d", "d", "e"], day=2)
    assert st.append("incidents", second, "b2") == (2, 2)
    back = st.read("incidents")
    assert sorted(back["record_id"]) == ["a", "b", "c", "d", "e"]
    assert back["record_id"].is_unique
    by_batch = back.groupby("batch_id")["record_id"].apply(sorted).to_dict()
    assert by_batch == {"b1": ["a", "b", "c"], "b2": ["d", "e"]}
    # the first occurrence in a file wins: row "a" keeps line 2's description
    assert back.loc[back["record_id"] == "a", "description"].item() == "text 0"


def test_idempotent_append_leaves_file_unchanged(st: Store) -> None:
    frame = incidents(["a", "b", "c"])
    st.append("incidents", frame, "b1")
    files = st.part_files("incidents")
    before = stored_bytes(st, "incidents")
    mtimes = [p.stat().st_mtime_ns for p in files]
    assert st.append("incidents", frame, "b2") == (0, 3)
    assert stored_bytes(st, "incidents") == before
    assert [p.stat().st_mtime_ns for p in st.part_files("incidents")] == mtimes


def test_split_new_is_dry_run(st: Store) -> None:
    st.append("incidents", incidents(["a"]), "b1")
    before = stored_bytes(st, "incidents")
    mask, dups = st.split_new("incidents", incidents(["a", "b", "b"]))
    assert mask.tolist() == [False, True, False]
    assert dups == 2
    assert stored_bytes(st, "incidents") == before


@pytest.mark.parametrize("target", ["write_table", "replace"])
def test_crash_mid_write_keeps_old_store(st: Store, monkeypatch, target: str) -> None:
    st.append("incidents", incidents(["a", "b"]), "b1")
    before = stored_bytes(st, "incidents")

    def boom(*args, **kwargs):
        if target == "write_table":  # write half a file first, then crash
            Path(args[1]).write_bytes(b"PAR1 partial")
        raise OSError("simulerad krasch")

    if target == "write_table":
        monkeypatch.setattr(store_mod.pq, "write_table", boom)
    else:
        monkeypatch.setattr(store_mod.os, "replace", boom)
    with pytest.raises(OSError, match="simulerad"):
        st.append("incidents", incidents(["c"]), "b2")
    monkeypatch.undo()
    assert stored_bytes(st, "incidents") == before
    assert sorted(st.read("incidents")["record_id"]) == ["a", "b"]
    leftovers = [p.name for p in st.root.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    # the lock was released: a later append works
    assert st.append("incidents", incidents(["c"]), "b3") == (1, 0)


def test_crash_on_first_write_leaves_no_file(st: Store, monkeypatch) -> None:
    monkeypatch.setattr(store_mod.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError):
        st.append("incidents", incidents(["a"]), "b1")
    monkeypatch.undo()
    assert stored_bytes(st, "incidents") == {}
    assert [p.name for p in st.root.iterdir() if p.suffix == ".tmp"] == []
    assert len(st.read("incidents")) == 0


def test_lock_serialises_threads(st: Store) -> None:
    """Many concurrent appends of disjoint ids all land whole."""
    n_threads, per = 6, 50
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            ids = [f"t{k}-{i}" for i in range(per)]
            assert st.append("incidents", incidents(ids), f"b{k}") == (per, 0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    back = st.read("incidents")
    assert len(back) == n_threads * per
    assert back.groupby("batch_id").size().tolist() == [per] * n_threads


def test_lock_is_exclusive(st: Store) -> None:
    """While one Store object holds the lock, another one (other fd) cannot take it."""
    import fcntl

    other = Store(st.root)
    with st.lock():
        fd = os.open(other.root / ".lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        with st.lock():  # re-entrant in the same thread
            pass
    fd = os.open(other.root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    finally:
        os.close(fd)


def test_version_changes_on_every_write(st: Store) -> None:
    versions = {st.version()}
    st.append("incidents", incidents(["a"]), "b1")
    versions.add(st.version())
    st.log({"batch_id": "b1", "file": "x.csv"})
    versions.add(st.version())
    st.append("incidents", incidents(["b"]), "b2")
    versions.add(st.version())
    assert len(versions) == 4
    assert st.version() == st.version()


def test_log_roundtrip(st: Store) -> None:
    st.log({"batch_id": "b1", "file": "å.csv", "rows_read": 3, "extra": "ja"})
    st.log({"batch_id": "b2", "file": "b.csv", "rows_read": 5})
    # a torn trailing line (crash during a write) is ignored
    with st.log_path.open("a", encoding="utf-8") as fh:
        fh.write('{"batch_id": "b3", "fi')
    log = st.ingest_log()
    assert log["batch_id"].tolist() == ["b1", "b2"]
    assert log["file"].tolist() == ["å.csv", "b.csv"]
    assert log["rows_read"].tolist() == [3, 5]
    assert "extra" in log.columns


def test_root_from_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HJO_DATA_DIR", str(tmp_path / "envstore"))
    assert Store().root == tmp_path / "envstore"
    monkeypatch.delenv("HJO_DATA_DIR")
    assert Store().root == Path(store_mod.__file__).resolve().parent.parent / "data" / "store"
    assert Store(tmp_path / "x").root == tmp_path / "x"


def test_safe_cell() -> None:
    # the same rule as the CSV export, full-width signs included
    for bad in ("=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx", "\uff1dSUM(A1)", "\uff20x"):
        assert safe_cell(bad) == "'" + bad == export.neutralise_cell(bad)
    assert safe_cell("ok") == "ok"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"


def test_quarantine_csv(st: Store) -> None:
    rejected = pd.DataFrame({
        "line": [3, 7],
        "column": ["Tidpunkt", "Kategori"],
        "value": ["=HYPERLINK(\"x\")", "hej; då"],
        "reason": ["ogiltigt datum", "-saknas"],
        "raw": ["=HYPERLINK(\"x\");klotter", "2024-01-01;\"hej; då\""],
    })
    path = st.write_quarantine("incidents", "../../etc/evil name.csv", rejected)
    assert path is not None and path.parent == st.quarantine_dir
    assert path.name.endswith("_incidents_evil_name.csv.rejected.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == QUARANTINE_COLUMNS
    assert rows[1] == ["3", "Tidpunkt", "'=HYPERLINK(\"x\")", "ogiltigt datum",
                       "'=HYPERLINK(\"x\");klotter"]
    assert rows[2] == ["7", "Kategori", "hej; då", "'-saknas", "2024-01-01;\"hej; då\""]
    assert st.write_quarantine("incidents", "x.csv", rejected.iloc[:0]) is None


def test_lock_across_processes(st: Store) -> None:
    """Two processes appending different batches at the same time both land whole."""
    import subprocess
    import sys

    script = (
        "import sys, pandas as pd\n"
        "from hjo_data.store import Store\n"
        "k = sys.argv[2]\n"
        "ids = [f'p{k}-{i}' for i in range(900)]\n"
        "f = pd.DataFrame({'incident_id': ids, 'occurred_at': pd.Timestamp('2024-01-01'),\n"
        "  'occurred_at_has_time': False, 'category': 'klotter', 'area': 'x',\n"
        "  'source': 'polis', 'record_id': ids})\n"
        "for j in range(3):\n"
        "    part = f.iloc[j * 300:(j + 1) * 300]\n"
        "    assert Store(sys.argv[1]).append('incidents', part, f'b{k}-{j}')[0] == 300\n"
    )
    repo = Path(store_mod.__file__).resolve().parent.parent
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(st.root), str(k)], cwd=repo)
        for k in range(2)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    back = st.read("incidents")
    assert len(back) == 1800 and back["record_id"].is_unique
    assert back["batch_id"].nunique() == 6


@pytest.mark.parametrize(
    "ids",
    [["a", "b", "c", "d"], ["a", "b", "b", "c"], ["d", "c", "b", "a"], ["a", "c", "b", "a"]],
)
def test_split_new_sorted_and_unsorted(st: Store, ids: list[str]) -> None:
    """Fast path (sorted ids) and general path agree with a plain reference."""
    seen: set[str] = set()
    expected = []
    for i in ids:
        expected.append(i not in seen)
        seen.add(i)
    mask, dups = st.split_new("incidents", incidents(ids))
    assert mask.tolist() == expected
    assert dups == expected.count(False)


def test_stale_temp_file_of_killed_writer_is_removed(st: Store) -> None:
    st.append("incidents", incidents(["a"]), "b1")
    stale = st.root / ".incidents.parquet.abc123.tmp"
    stale.write_bytes(b"half a parquet file")
    other = st.root / ".traffic.parquet.abc123.tmp"
    other.write_bytes(b"x")
    assert st.append("incidents", incidents(["b"]), "b2") == (1, 0)
    assert not stale.exists()
    assert other.exists()  # only the dataset being written is touched
    assert sorted(st.read("incidents")["record_id"]) == ["a", "b"]


def test_an_ingest_after_a_torn_log_line_is_still_logged(tmp_path) -> None:  # noqa: ANN001
    """A crash mid-append leaves half a JSON line; the next entry must not be glued to it
    (it would be lost as one unreadable line)."""
    st = store_mod.Store(tmp_path)
    st.log({"batch_id": "b1", "dataset": "incidents"})
    with st.log_path.open("a", encoding="utf-8") as fh:
        fh.write('{"batch_id": "b2", "datas')  # the torn line, no newline
    st.log({"batch_id": "b3", "dataset": "incidents"})
    assert [e["batch_id"] for e in st.log_events()] == ["b1", "b3"]
