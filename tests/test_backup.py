"""Backup and restore (issue 13, docs/DEPLOY.md): `python -m hjo_data backup DEST` takes a
consistent snapshot under the store lock; `restore SRC` gives back identical data, refuses
a damaged backup and never silently overwrites a store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import journal
from hjo_data.audit import read_entries
from hjo_data.backup import MANIFEST
from hjo_data.cli import main
from hjo_data.schema import DATASETS
from hjo_data.store import Store
from tests.test_journal import est, ingest  # the same batches as the crash tests


def state(root: Path) -> dict[str, object]:
    """Everything a reader sees: every dataset, the ingest log, the audit log, and the
    bytes of every file (relative path -> SHA-256; lock files aside)."""
    st = Store(root)
    files = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")}
    return {"data": {n: st.read(n) for n in DATASETS}, "log": st.log_entries(),
            "audit": read_entries(root), "files": files}


def assert_same(a: dict[str, object], b: dict[str, object]) -> None:
    for name in DATASETS:
        pd.testing.assert_frame_equal(a["data"][name], b["data"][name])
    assert a["log"] == b["log"] and a["audit"] == b["audit"] and a["files"] == b["files"]


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    st = Store(root)
    ingest(st, est("A1", "A2", bad=1), "a.csv")  # a quarantine file too
    ingest(st, est("A2", "B1"), "b.csv")     # a claims file
    c = ingest(st, est("C1"), "c.csv")
    st.withdraw(c, user="anna")
    return root


def test_backup_and_restore_give_identical_data(filled: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    before = state(filled)
    # data (one part file per remaining batch: a's A1+A2, b's B1; c's file went with its
    # withdrawal), ingest log, audit log, quarantine, claims:
    assert len(before["files"]) == 6, sorted(before["files"])
    assert len([f for f in before["files"] if f.startswith("incidents/year=2024/")]) == 2
    dest = tmp_path / "kopia"
    assert main(["backup", str(dest), "--store", str(filled)]) == 0
    assert "Säkerhetskopia skriven" in capsys.readouterr().out
    assert (dest / MANIFEST).exists() and not (dest.parent / "kopia.partial").exists()
    # Into a new, empty store: the same data, logs and bytes.
    fresh = tmp_path / "ny"
    assert main(["restore", str(dest), "--store", str(fresh)]) == 0
    assert_same(state(fresh), before)
    # Over the store after more changes: only with --force, and the present content is
    # kept beside it first.
    ingest(Store(filled), est("D1"), "d.csv")
    changed = state(filled)
    assert main(["restore", str(dest), "--store", str(filled)]) == 2
    assert "--force" in capsys.readouterr().err
    assert_same(state(filled), changed)
    assert main(["restore", str(dest), "--store", str(filled), "--force"]) == 0
    assert_same(state(filled), before)
    saved = next(tmp_path.glob("store.fore-aterstallning-*"))
    assert "tidigare innehållet sparades" in capsys.readouterr().out
    assert main(["restore", str(saved), "--store", str(fresh), "--force"]) == 0
    assert_same(state(fresh), changed)  # the saved content is a usable backup too


def test_a_damaged_backup_is_refused(filled: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    dest = tmp_path / "kopia"
    assert main(["backup", str(dest), "--store", str(filled)]) == 0
    data = next((dest / "incidents").rglob("*.parquet"))
    data.write_bytes(data.read_bytes()[:-10])
    target = tmp_path / "ny"
    assert main(["restore", str(dest), "--store", str(target)]) == 2
    err = capsys.readouterr().err
    assert "skadad" in err and data.name in err and not target.exists()
    assert main(["restore", str(tmp_path), "--store", str(target)]) == 2  # no manifest
    assert "ingen säkerhetskopia" in capsys.readouterr().err


def test_backup_refuses_a_used_destination(filled: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    used = tmp_path / "upptagen"
    used.mkdir()
    (used / "fil.txt").write_text("x")
    assert main(["backup", str(used), "--store", str(filled)]) == 2
    assert "inte en tom mapp" in capsys.readouterr().err
    assert main(["backup", str(filled / "inuti"), "--store", str(filled)]) == 2
    assert "kan inte ligga i datalagret" in capsys.readouterr().err


def test_backup_finishes_an_interrupted_commit_first(filled: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup never copies half a commit: the journal is recovered under the lock."""
    class Crash(BaseException):
        pass

    def hook(step: str) -> None:
        if step == "logged":
            raise Crash

    monkeypatch.setattr(journal, "crash_hook", hook)
    st = Store(filled)
    with pytest.raises(Crash):
        ingest(st, est("E1"), "e.csv")
    monkeypatch.setattr(journal, "crash_hook", None)
    assert journal.pending(filled)
    dest = tmp_path / "kopia"
    assert main(["backup", str(dest), "--store", str(filled)]) == 0
    assert not (dest / journal.JOURNAL_DIR).exists() or not any(
        (dest / journal.JOURNAL_DIR).iterdir())
    restored = tmp_path / "ny"
    assert main(["restore", str(dest), "--store", str(restored)]) == 0
    st = Store(restored)
    last = st.log_entries()[-1]
    assert last["file"] == "e.csv" and last["added"] == 1
    assert [e["batch_id"] for e in read_entries(restored) if e["action"] == "upload"][-1] \
        == last["batch_id"]
