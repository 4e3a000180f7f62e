"""Dry run then commit: prepare_ingest writes nothing; commit_ingest recounts duplicates under
the lock; quarantine files can be corrected and read in again as they are."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from hjo_data.cli import main
from hjo_data.ingest import IGNORED, commit_ingest, ingest_file, prepare_ingest
from hjo_data.store import QUARANTINE_EXTRA, Store

TODAY = date(2024, 6, 1)
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning;Handläggare"
ROWS = [
    "E1;2024-05-01 10:00;klotter;Centrum;polis;Tag;Anna",
    "E2;2024-05-32;brand;Hamnen;kommun;Fel datum;Bo",          # line 3: bad date
    "E3;2024-05-03;skadegörelse;Hamnen;skola;Ruta;Cia",
    "E4;2024-05-04;brand;;polis;Område saknas;Dan",            # line 5: empty area
    "E5;2024-05-05;brand;Torget;polis;x;y;för många",         # line 6: too many fields
]


def file_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_prepare_writes_nothing_and_previews(st: Store) -> None:
    ingest_file(file_bytes(ROWS[0]), name="old.csv", store=st, today=TODAY)
    before = tree(st.root)
    prepared = prepare_ingest(file_bytes(*ROWS), name="../../ny fil.csv", store=st,
                              today=TODAY)
    assert tree(st.root) == before
    assert prepared.file == "ny fil.csv" and prepared.dataset.name == "incidents"
    assert prepared.header_preview == [
        ("Händelse-id", "Händelse-id"), ("Tidpunkt", "Tidpunkt"), ("Kategori", "Kategori"),
        ("Område", "Område"), ("Rapportör", "Rapportör"), ("Beskrivning", "Beskrivning"),
        ("Handläggare", IGNORED),
    ]
    assert (prepared.rows_read, prepared.new_rows, prepared.duplicates, prepared.rejected) \
        == (5, 1, 1, 3)
    rej = prepared.rejected_rows()
    assert list(rej.columns) == ["rad", "kolumn", "värde", "orsak"]
    assert rej["rad"].tolist() == [3, 5, 6]
    assert "Ogiltigt datum '2024-05-32'" in rej["orsak"].iloc[0]
    assert "Fel antal fält: 8 i stället för 7" in rej["orsak"].iloc[2]
    assert prepared.header_frame().shape == (7, 2)
    assert "1 ny rad kan sparas" in prepared.message


def test_commit_recounts_duplicates_under_the_lock(st: Store) -> None:
    prepared = prepare_ingest(file_bytes(ROWS[0], ROWS[2]), name="a.csv", store=st,
                              today=TODAY)
    assert (prepared.new_rows, prepared.duplicates) == (2, 0)
    # someone else stores E3 between the preview and the commit
    ingest_file(file_bytes(ROWS[2]), name="b.csv", store=st, today=TODAY)
    fractions: list[float] = []
    report = commit_ingest(prepared, st, user="redaktör", progress=fractions.append)
    assert (report.accepted, report.duplicates, report.rows_read) == (1, 1, 2)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert sorted(st.read("incidents")["record_id"]) == ["E1", "E3"]
    entry = st.ingest_log().iloc[-1]
    assert entry["user"] == "redaktör" and entry["batch_id"] == report.batch_id


def test_log_and_quarantine_use_a_sanitised_base_name(st: Store) -> None:
    report = ingest_file(file_bytes(*ROWS), name="../../etc/<script>x y.csv", store=st,
                         today=TODAY)
    entry = st.ingest_log().iloc[-1]
    assert entry["file"] == "script_x_y.csv"
    q = Path(report.rejected_file)
    assert q.parent == st.quarantine_dir and q.name.endswith("_incidents_script_x_y.csv"
                                                             ".rejected.csv")


def test_quarantine_round_trip(st: Store) -> None:
    """Download the quarantine file, fix the values, read it in again as it is."""
    first = ingest_file(file_bytes(*ROWS), name="est.csv", store=st, today=TODAY)
    assert (first.accepted, first.rejected) == (2, 3)
    text = Path(first.rejected_file).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert header == [*HEADER.split(";"), *QUARANTINE_EXTRA]
    body = {r[header.index("rad")]: r for r in rows[1:]}
    assert set(body) == {"3", "5", "6"}
    # the rows that could be split keep their original cells
    assert body["3"][:7] == ROWS[1].split(";")
    assert body["5"][:7] == ROWS[3].split(";")
    assert body["5"][header.index("orsak")].startswith("Kolumnen 'Område' är tom")
    # the unsplittable row: cells empty, the whole text in originalrad
    assert body["6"][:7] == [""] * 7 and body["6"][header.index("originalrad")] == ROWS[4]

    # the user corrects the values in the original columns and deletes row 6
    body["3"][1] = "2024-05-02"
    body["5"][3] = "Torget"
    fixed = io.StringIO()
    writer = csv.writer(fixed, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerow(body["3"])
    writer.writerow(body["5"])
    second = ingest_file(("\ufeff" + fixed.getvalue()).encode(), name="rättad.csv", store=st,
                         today=TODAY)
    assert (second.rows_read, second.accepted, second.rejected) == (2, 2, 0)
    assert any("Okända kolumner ignoreras" in w and "'orsak'" in w for w in second.warnings)
    stored = st.read("incidents").set_index("record_id")
    assert sorted(stored.index) == ["E1", "E2", "E3", "E4"]
    assert stored.loc["E4", "area"] == "Torget"
    assert str(stored.loc["E2", "occurred_at"].date()) == "2024-05-02"


def test_only_header_and_empty_file(st: Store) -> None:
    from hjo_data.errors import UnreadableFileError

    with pytest.raises(UnreadableFileError, match=r"h\.csv: .*bara en rubrikrad"):
        prepare_ingest(file_bytes(), name="h.csv", store=st)
    with pytest.raises(UnreadableFileError, match=r"tom\.csv: Filen är tom"):
        prepare_ingest(b"", name="tom.csv", store=st)
    assert tree(st.root) == {}


def test_cli_dry_run_writes_nothing(st: Store, tmp_path: Path, capsys) -> None:
    path = tmp_path / "est.csv"
    path.write_bytes(file_bytes(*ROWS))
    code = main(["ingest", str(path), "--store", str(st.root), "--dry-run", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["dry_run"] is True and out["stored"] is False
    assert (out["new_rows"], out["rejected"]) == (2, 3)
    assert ["Handläggare", IGNORED] in out["headers"]
    assert tree(st.root) == {}
    # the real ingest takes the same two steps and stores the same rows
    assert main(["ingest", str(path), "--store", str(st.root), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["accepted"] == 2
