"""hjo_data.audit: append-only JSON lines log and its reader."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import audit
from hjo_data.audit import AUDIT_FIELDS, log_event, read_audit
from hjo_data.store import Store


def test_round_trip(tmp_path: Path) -> None:
    when = datetime(2024, 5, 1, 8, 30, 15)
    log_event("login_ok", "anna", role="redaktor", root=tmp_path, when=when)
    log_event("upload", "anna", role="redaktor", dataset="incidents", batch_id="b-1",
              counts={"accepted": 120, "rejected": 3}, detail="est_v18.csv", root=tmp_path,
              when=when.replace(minute=31))
    frame = read_audit(tmp_path)
    assert list(frame.columns) == list(AUDIT_FIELDS)
    assert frame["action"].tolist() == ["login_ok", "upload"]
    assert frame["time"].tolist() == [pd.Timestamp("2024-05-01 08:30:15"),
                                      pd.Timestamp("2024-05-01 08:31:15")]
    assert frame.loc[1, "counts"] == {"accepted": 120, "rejected": 3}
    assert frame.loc[1, "batch_id"] == "b-1" and frame.loc[1, "dataset"] == "incidents"
    assert pd.isna(frame.loc[0, "batch_id"]) and frame.loc[0, "counts"] is None
    lines = (tmp_path / "audit_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["time"] == "2024-05-01T08:30:15"


def test_empty_log_has_columns(tmp_path: Path) -> None:
    frame = read_audit(tmp_path / "saknas")
    assert frame.empty and list(frame.columns) == list(AUDIT_FIELDS)


def test_root_from_store_and_default(tmp_path: Path, isolated_store: Path) -> None:
    log_event("logout", "bo", root=Store(tmp_path))
    assert (tmp_path / "audit_log.jsonl").exists()
    log_event("logout", "bo")  # None -> $HJO_DATA_DIR (the test store)
    assert read_audit()["user"].tolist() == ["bo"]
    assert audit.audit_path() == isolated_store / "audit_log.jsonl"


def test_append_only_existing_bytes_never_change(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    log_event("login_ok", "anna", root=tmp_path)
    before = (tmp_path / "audit_log.jsonl").read_bytes()
    flags_seen: list[int] = []
    real_open = os.open

    def spy(path, flags, *args):  # noqa: ANN001, ANN202
        flags_seen.append(flags)
        return real_open(path, flags, *args)

    monkeypatch.setattr(audit.os, "open", spy)
    log_event("logout", "anna", root=tmp_path)
    after = (tmp_path / "audit_log.jsonl").read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    assert flags_seen and all(f & os.O_APPEND and not f & os.O_TRUNC for f in flags_seen)


def test_torn_last_line_is_skipped_and_next_entry_survives(tmp_path: Path) -> None:
    log_event("login_ok", "anna", root=tmp_path)
    with (tmp_path / "audit_log.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"time": "2024-05-01T08:00:00", "user": "bo", "act')  # crash mid-write
    log_event("logout", "anna", root=tmp_path)
    frame = read_audit(tmp_path)
    assert frame["action"].tolist() == ["login_ok", "logout"]


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    def worker(i: int) -> None:
        for j in range(40):
            log_event("upload", f"user{i}", dataset="incidents", batch_id=f"{i}-{j}",
                      counts={"accepted": j}, detail="x" * 300, root=tmp_path)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "audit_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 160
    parsed = [json.loads(line) for line in lines]  # every line is one whole entry
    assert sorted(p["batch_id"] for p in parsed) == sorted(
        f"{i}-{j}" for i in range(4) for j in range(40))


def test_field_hygiene(tmp_path: Path) -> None:
    entry = log_event("register", "a\x00nna\n", detail="<script>x</script>" + "y" * 2000,
                      counts={"accepted": "7", "bad": "sju"}, root=tmp_path)
    assert entry["user"] == "anna\n"
    assert len(entry["detail"]) == 500 and entry["detail"].endswith("…")
    assert entry["counts"] == {"accepted": 7}
    raw = (tmp_path / "audit_log.jsonl").read_text(encoding="utf-8")
    assert raw.count("\n") == 1  # a newline in a field cannot forge a second entry
    for bad in ("Login OK", "", "x" * 40, "drop;table"):
        with pytest.raises(ValueError):
            log_event(bad, "anna", root=tmp_path)
