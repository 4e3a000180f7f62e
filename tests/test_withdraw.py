"""Undo: Store.withdraw(batch_id) returns the store exactly to its state without the batch,
also with batches in between and rows that later batches deduplicated against it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hjo_data.cli import main
from hjo_data.ingest import ingest_file
from hjo_data.store import Store, WithdrawError
from tests.conftest import stored_bytes

TODAY = date(2024, 6, 1)
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"


def est(*ids: str) -> bytes:
    # the content depends on the id only: the same id is the same row in every file
    rows = [f"{i};2024-05-0{1 + sum(map(ord, i)) % 9} 10:00;klotter;Centrum;polis;text {i}"
            for i in ids]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def snapshot(st: Store) -> dict[str, pd.DataFrame]:
    """Every dataset, rows sorted by record_id (order of rows is not part of the state)."""
    return {name: st.read(name).sort_values("record_id").reset_index(drop=True)
            for name in ("incidents", "traffic", "survey_responses")}


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True)


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def ingest(st: Store, data: bytes, name: str = "est.csv"):
    return ingest_file(data, name=name, store=st, today=TODAY)


def test_withdraw_restores_previous_state(st: Store) -> None:
    ingest(st, est("A1", "A2"))
    before = snapshot(st)
    b = ingest(st, est("B1", "B2", "B3"))
    assert len(st.read("incidents")) == 5
    result = st.withdraw(b.batch_id, user="redaktör1")
    assert (result.removed, result.kept, result.dataset) == (3, 0, "incidents")
    assert_same(snapshot(st), before)
    entry = st.ingest_log().set_index("batch_id").loc[b.batch_id]
    assert entry["withdrawn"] and entry["withdrawn_by"] == "redaktör1"
    assert len(st.ingest_log()) == 2  # the withdrawal is folded into the batch's entry
    assert "3 rader togs bort" in result.message


def test_withdraw_first_batch_with_another_in_between(st: Store) -> None:
    """Withdrawing an older batch leaves a later, unrelated batch untouched."""
    empty = snapshot(st)
    a = ingest(st, est("A1", "A2"))
    traffic = (b"Datum;Plats;Kontrolltyp;Kontrollerade fordon\n"
               b"2024-05-01;Centrum;hastighet;40\n")
    ingest(st, traffic, "trafik.csv")
    b = ingest(st, est("B1"))
    expected = snapshot(st)
    st.withdraw(a.batch_id)
    after = snapshot(st)
    # What we expect: the store as if A had never been read in.
    reference = Store(st.root.parent / "reference")
    ingest_file(traffic, name="trafik.csv", store=reference, today=TODAY)
    ingest_file(est("B1"), name="est.csv", store=reference, today=TODAY)
    ref = snapshot(reference)
    for name in after:
        cols = [c for c in after[name].columns if c != "batch_id"]
        pd.testing.assert_frame_equal(after[name][cols], ref[name][cols])
    assert set(after["incidents"]["batch_id"]) == {b.batch_id}
    assert len(after["traffic"]) == len(expected["traffic"]) == 1
    assert_same({"x": after["traffic"]}, {"x": expected["traffic"]})
    assert empty["incidents"].empty


def test_rows_also_in_a_later_batch_survive(st: Store) -> None:
    """B repeats A2 (deduplicated against A). Withdrawing A keeps A2, now owned by B; the
    store then equals a store that only ever saw B."""
    a = ingest(st, est("A1", "A2"))
    b = ingest(st, est("A2", "B1"))
    assert (b.accepted, b.duplicates) == (1, 1)
    result = st.withdraw(a.batch_id)
    assert (result.removed, result.kept) == (1, 1)
    reference = Store(st.root.parent / "reference")
    ref_b = ingest_file(est("A2", "B1"), name="est.csv", store=reference, today=TODAY)
    got, ref = snapshot(st)["incidents"], snapshot(reference)["incidents"]
    ref["batch_id"] = ref["batch_id"].replace(ref_b.batch_id, b.batch_id)
    pd.testing.assert_frame_equal(got, ref)
    # and withdrawing B now empties the store
    st.withdraw(b.batch_id)
    assert st.read("incidents").empty


def test_earliest_active_claimant_inherits(st: Store) -> None:
    a = ingest(st, est("X"))
    b = ingest(st, est("X", "B"))
    c = ingest(st, est("X", "C"))
    st.withdraw(b.batch_id)  # B owns nothing of X: no change for X
    st.withdraw(a.batch_id)  # B is withdrawn, so C inherits X
    owners = st.read("incidents").set_index("record_id")["batch_id"].to_dict()
    assert owners == {"X": c.batch_id, "C": c.batch_id}


def test_withdraw_then_reingest_is_possible(st: Store) -> None:
    a = ingest(st, est("A1"))
    st.withdraw(a.batch_id)
    again = ingest(st, est("A1"))
    assert again.accepted == 1 and st.read("incidents")["record_id"].tolist() == ["A1"]


def test_unknown_and_repeated_withdrawal(st: Store) -> None:
    a = ingest(st, est("A1"))
    with pytest.raises(WithdrawError, match=r"Okänd batch 'finns-inte'.*" + a.batch_id):
        st.withdraw("finns-inte")
    st.withdraw(a.batch_id)
    with pytest.raises(WithdrawError, match="redan återkallad"):
        st.withdraw(a.batch_id)


def test_strict_batch_has_nothing_to_withdraw(st: Store) -> None:
    bad = est("A1") + b"A2;inte ett datum;klotter;Centrum;polis;x\n"
    report = ingest_file(bad, name="est.csv", store=st, strict=True, today=TODAY)
    assert not report.stored
    with pytest.raises(WithdrawError, match="sparade inga rader"):
        st.withdraw(report.batch_id)


def test_withdraw_is_atomic_on_crash(st: Store, monkeypatch) -> None:
    a = ingest(st, est("A1", "A2"))
    before = stored_bytes(st, "incidents")

    def boom(*_a, **_k):
        raise OSError("disk full")

    # Withdrawing every row of a part file removes the file (no data file is written):
    # the failure is at the commit's intent, before anything is installed.
    monkeypatch.setattr("hjo_data.journal._write_intent", boom)
    with pytest.raises(OSError):
        st.withdraw(a.batch_id)
    assert stored_bytes(st, "incidents") == before
    assert "withdrawn" not in st.ingest_log().columns


def test_cli_withdraw(st: Store, capsys) -> None:
    a = ingest(st, est("A1", "A2"))
    assert main(["withdraw", a.batch_id, "--store", str(st.root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["removed"] == 2 and out["withdrawn"] is True
    assert main(["withdraw", a.batch_id, "--store", str(st.root)]) == 2
    assert "redan återkallad" in capsys.readouterr().err
    assert st.read("incidents").empty
