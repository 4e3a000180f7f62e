"""Crash consistency (issue 13): an ingest (and a withdrawal) commits data, quarantine,
ingest-log and audit lines as one. The writer is killed at every step of the commit
(in-process by an exception from the crash hook, and in a subprocess with os._exit, as
kill -9 would); opening the store afterwards must show either no batch or the whole
batch, logged, audited and undoable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import journal
from hjo_data.audit import read_entries
from hjo_data.ingest import commit_ingest, prepare_ingest
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2024, 6, 1)
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"


def est(*ids: str, bad: int = 0) -> bytes:
    rows = [f"{i};2024-05-0{1 + sum(map(ord, i)) % 9} 10:00;klotter;Centrum;polis;text {i}"
            for i in ids]
    rows += [f"X{k};inget datum;klotter;Centrum;polis;fel" for k in range(bad)]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


#: The second batch: A2 is stored already (-> claims file), 2 new rows, 1 rejected row
#: (-> quarantine file): three files are staged (claims, dataset, quarantine).
SECOND = est("A2", "B1", "B2", bad=1)


def ingest(st: Store, data: bytes, name: str) -> str:
    prepared = prepare_ingest(data, name=name, store=st, today=TODAY)
    return commit_ingest(prepared, st, user="anna", role="redaktor",
                         audit_action="upload").batch_id


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may clean up)."""


@pytest.fixture
def crash_at(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    def arm(step: str, nth: int = 1) -> None:
        seen = Counter()

        def hook(name: str) -> None:
            seen[name] += 1
            if name == step and seen[name] == nth:
                raise Crash(step)

        monkeypatch.setattr(journal, "crash_hook", hook)
    return arm


def rows(st: Store) -> pd.DataFrame:
    return st.read("incidents").sort_values("record_id").reset_index(drop=True)


def leftovers(root: Path) -> list[str]:
    names = [p.name for p in root.rglob("*") if p.name.endswith((".hjo-new", ".hjo-old"))]
    journal_dir = root / journal.JOURNAL_DIR
    return names + ([p.name for p in journal_dir.iterdir()] if journal_dir.exists() else [])


def assert_consistent(root: Path) -> Store:
    """Open the store (recovery runs) and check: rows per batch in the data = the log's
    count for every active batch, every batch with rows is logged and audited once."""
    st = Store(root)
    assert leftovers(root) == []
    data = st.read("incidents")
    log = [e for e in st.log_entries() if not e.get("withdrawn")]
    in_data = data["batch_id"].value_counts().to_dict()
    assert in_data == {e["batch_id"]: e["added"] for e in log if e["added"]}
    logged = [e["batch_id"] for e in st.log_entries()]
    assert len(logged) == len(set(logged))  # no batch logged twice by the recovery
    uploads = [e["batch_id"] for e in read_entries(root) if e["action"] == "upload"]
    assert uploads == logged  # audited exactly once each, in log order
    return st


def first_batch(root: Path) -> tuple[str, pd.DataFrame]:
    st = Store(root)
    a = ingest(st, est("A1", "A2"), "a.csv")
    return a, rows(st)


CASES = [("staged", 1, False), ("intent", 1, True), ("installed", 1, True),
         ("installed", 2, True), ("installed", 3, True), ("logged", 1, True),
         ("audited", 1, True), ("committed", 1, True)]


def test_the_cases_cover_every_step() -> None:
    assert {step for step, _, _ in CASES} == set(journal.STEPS)


@pytest.mark.parametrize(("step", "nth", "kept"), CASES)
def test_kill_at_every_step_of_an_ingest(tmp_path: Path, crash_at, step: str, nth: int,  # noqa: ANN001
                                         kept: bool) -> None:
    root = tmp_path / "store"
    a, after_a = first_batch(root)
    crash_at(step, nth)
    with pytest.raises(Crash):
        ingest(Store(root), SECOND, "b.csv")
    journal.crash_hook = None  # (monkeypatch restores it too)
    st = assert_consistent(root)
    batches = [e["batch_id"] for e in st.log_entries()]
    if not kept:  # killed before the intent: no batch at all
        assert batches == [a]
        pd.testing.assert_frame_equal(rows(st), after_a)
        assert not list((root / "quarantine").glob("*.csv"))
        return
    assert len(batches) == 2
    b = batches[1]
    assert sorted(rows(st)["record_id"]) == ["A1", "A2", "B1", "B2"]
    entry = st.log_entries()[1]
    assert (entry["added"], entry["duplicates"], entry["rejected"]) == (2, 1, 1)
    assert Path(entry["rejected_file"]).exists()
    assert st.claims_path("incidents", b).exists()
    # Undoable: withdrawing the batch gives the store after the first batch back.
    assert st.withdraw(b).removed == 2
    pd.testing.assert_frame_equal(rows(st), after_a)
    assert_consistent(root)


def test_an_incomplete_new_file_rolls_back(tmp_path: Path, crash_at) -> None:  # noqa: ANN001
    root = tmp_path / "store"
    a, after_a = first_batch(root)
    crash_at("installed", 1)  # the claims file is in place, the dataset not yet
    with pytest.raises(Crash):
        ingest(Store(root), SECOND, "b.csv")
    journal.crash_hook = None
    temp = next(root.glob("incidents/year=*/.part-*.hjo-new"))
    temp.write_bytes(temp.read_bytes()[:100])  # e.g. a disk that lost the tail
    st = assert_consistent(root)
    assert [e["batch_id"] for e in st.log_entries()] == [a]
    pd.testing.assert_frame_equal(rows(st), after_a)
    assert not list((root / "claims").rglob("*.parquet"))  # the installed claim is undone


@pytest.mark.parametrize(("step", "withdrawn"), [("staged", False), ("installed", True),
                                                  ("logged", True)])
def test_kill_during_a_withdrawal(tmp_path: Path, crash_at, step: str,  # noqa: ANN001
                                  withdrawn: bool) -> None:
    root = tmp_path / "store"
    a, after_a = first_batch(root)
    b = ingest(Store(root), SECOND, "b.csv")
    crash_at(step)
    with pytest.raises(Crash):
        Store(root).withdraw(b)
    journal.crash_hook = None
    st = assert_consistent(root)
    if withdrawn:
        assert st.log_entries()[1]["withdrawn"]
        pd.testing.assert_frame_equal(rows(st), after_a)
    else:
        assert "withdrawn" not in st.log_entries()[1]
        assert len(st.read("incidents")) == 4
        st.withdraw(b)  # still possible
        pd.testing.assert_frame_equal(rows(st), after_a)


KILLER = """
import os, sys
from collections import Counter
from datetime import date
from hjo_data import journal
from hjo_data.ingest import commit_ingest, prepare_ingest
from hjo_data.store import Store

root, path, step, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = Counter()
def hook(name):
    seen[name] += 1
    if name == step and seen[name] == nth:
        os._exit(137)  # as kill -9: no cleanup, no flush, no finally
journal.crash_hook = hook
st = Store(root)
prepared = prepare_ingest(path, store=st, today=date(2024, 6, 1))
commit_ingest(prepared, st, user="anna", role="redaktor", audit_action="upload")
sys.exit(0)
"""


@pytest.mark.parametrize(("step", "nth", "kept"), [("installed", 2, True),
                                                    ("staged", 1, False)])
def test_os_exit_in_a_subprocess(tmp_path: Path, step: str, nth: int, kept: bool) -> None:
    """The issue's case: the process dies right after the dataset file is replaced."""
    root = tmp_path / "store"
    a, after_a = first_batch(root)
    source = tmp_path / "b.csv"
    source.write_bytes(SECOND)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", KILLER, str(root), str(source), step,
                           str(nth)], env=env, cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 137, done.stderr.decode()
    assert journal.pending(root)  # an intent or staging marker is left (not committed)
    st = assert_consistent(root)
    assert not journal.pending(root)
    assert len(st.log_entries()) == (2 if kept else 1)
    assert len(st.read("incidents")) == (4 if kept else 2)
    if kept:
        st.withdraw(st.log_entries()[1]["batch_id"])
    pd.testing.assert_frame_equal(rows(st), after_a)
