"""No silent loss (issue 11): an unterminated quote is a structural error on its own line
and the lines after it are read; an id that exists with other content is a conflict."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from hjo_data import cli, reading
from hjo_data.audit import read_audit
from hjo_data.ingest import IngestReport, ingest_file
from hjo_data.store import Store

TODAY = date(2024, 6, 1)
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"


def est_line(i: int, description: str | None = None) -> str:
    text = f"Händelse {i}" if description is None else description
    return f"E{i};2024-05-{1 + i % 28:02d} 10:00;klotter;Hamnen;polis;{text}"


def invariant(report: IngestReport) -> None:
    skipped = report.skipped
    assert report.accepted + report.rejected + report.duplicates + skipped == report.rows_read


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


# --------------------------------------------------------------------------- quotes

def forty_nine_lines(bad_line: int = 11) -> tuple[bytes, list[str]]:
    """A 49-line EST export (header + 48 events); line ``bad_line`` opens a quote in
    Beskrivning that is never closed."""
    lines = [HEADER] + [est_line(i) for i in range(1, 49)]
    lines[bad_line - 1] = est_line(bad_line - 1, '"Skrev ett citattecken men inget slut')
    return ("\n".join(lines) + "\n").encode("utf-8"), lines


@pytest.mark.parametrize("fast", [True, False])
def test_unterminated_quote_is_an_error_on_its_own_line(fast: bool) -> None:
    data, lines = forty_nine_lines()
    assert len(lines) == 49
    raw = reading._read_raw(data, name="est.csv", allow_fast=fast)
    # 48 data lines: 47 rows, 1 structural error on line 11, nothing swallowed
    assert (raw.rows_read, len(raw.frame), len(raw.structural_errors)) == (48, 47, 1)
    assert raw.lines.tolist() == [n for n in range(2, 50) if n != 11]
    err = raw.structural_errors[0]
    assert (err.line, err.column) == (11, "Beskrivning")
    # the quote is character 43: len("E10;2024-05-11 10:00;klotter;Hamnen;polis;") == 42
    assert "avslutas aldrig" in err.reason and "tecken 43" in err.reason
    assert raw.frame["Händelse-id"].tolist() == [f"E{i}" for i in range(1, 49) if i != 10]
    assert raw.frame["Beskrivning"].tolist()[-1] == "Händelse 48"


def test_unterminated_quote_closed_by_a_later_stray_quote() -> None:
    lines = [HEADER] + [est_line(i) for i in range(1, 21)]
    lines[5] = est_line(5, '"öppnas här')
    lines[15] = est_line(15, 'slutar" här')      # a stray quote ten lines later
    raw = reading.read_raw(("\n".join(lines) + "\n").encode(), name="x.csv")
    assert [e.line for e in raw.structural_errors] == [6]
    assert raw.rows_read == 20 and len(raw.frame) == 19
    assert 'slutar" här' in raw.frame["Beskrivning"].tolist()


def test_multi_line_descriptions_stay_one_record() -> None:
    data = (HEADER + "\n" + est_line(1, '"rad ett\nrad två; med semikolon"') + "\n"
            + est_line(2) + "\n").encode()
    raw = reading.read_raw(data, name="x.csv")
    assert raw.structural_errors == [] and raw.parser == "pyarrow"
    assert raw.frame["Beskrivning"].tolist() == ["rad ett\nrad två; med semikolon",
                                                 "Händelse 2"]
    assert raw.lines.tolist() == [2, 4]


def test_unterminated_quote_ingest_counts_and_cli(tmp_path: Path, st: Store, capsys) -> None:
    data, _ = forty_nine_lines()
    path = tmp_path / "est.csv"
    path.write_bytes(data)
    report = ingest_file(path, store=st, today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates) == (
        48, 47, 1, 0)
    assert [(e.line, e.column) for e in report.errors] == [(11, "Beskrivning")]
    assert len(st.read("incidents")) == 47
    rows = list(csv.reader(io.StringIO(Path(report.rejected_file).read_text("utf-8-sig")),
                           delimiter=";"))
    assert rows[1][0] == "E10" and rows[1][5] == '"Skrev ett citattecken men inget slut'
    # the CLI says so and exits 1 (rows rejected), naming file, line and column
    code = cli.main(["ingest", str(path), "--store", str(tmp_path / "cli_store")])
    out = capsys.readouterr().out
    assert code == 1
    assert "Läste 48 rader ur est.csv: 47 sparade, 1 avvisad" in out
    assert "rad 11, kolumn 'Beskrivning'" in out


# --------------------------------------------------------------------------- conflicts

def est_file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


FIRST = [est_line(1, "Första versionen"), est_line(2), est_line(3)]


def test_same_id_other_content_is_a_conflict_not_a_duplicate(st: Store) -> None:
    invariant(ingest_file(est_file(*FIRST), name="v1.csv", store=st, today=TODAY))
    second = est_file(
        est_line(1, "Rättad beskrivning"),                  # conflict: Beskrivning differs
        est_line(2),                                        # identical: a duplicate
        est_line(3).replace("klotter", "brand").replace("polis", "kommun"),  # 2 columns
        est_line(4),                                        # new
    )
    report = ingest_file(second, name="v2.csv", store=st, today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates,
            report.conflicts, report.replaced) == (4, 1, 2, 1, 2, 0)
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {2, 4}
    assert "id 'E1' finns redan i datalagret" in reasons[2]
    assert "skiljer sig i 'Beskrivning')" in reasons[2]
    assert "skiljer sig i 'Kategori', 'Rapportör')" in reasons[4]
    assert "--replace" in reasons[2]
    assert "2 avvisade (varav 2 konflikter), 1 dubblett" in report.message
    stored = st.read("incidents").set_index("incident_id")
    assert stored.loc["E1", "description"] == "Första versionen"   # nothing overwritten
    assert sorted(stored.index) == ["E1", "E2", "E3", "E4"]
    rows = list(csv.reader(io.StringIO(Path(report.rejected_file).read_text("utf-8-sig")),
                           delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["E1", "E3"]                  # original cells kept
    assert rows[1][5] == "Rättad beskrivning" and "Konflikt" in rows[1][-2]
    entry = st.ingest_log().iloc[-1]
    assert (entry["conflicts"], entry["replaced"], entry["rejected"]) == (2, 0, 2)


def test_conflict_within_one_file(st: Store) -> None:
    data = est_file(est_line(1), est_line(1), est_line(1, "Annan text"), est_line(2))
    report = ingest_file(data, name="a.csv", store=st, today=TODAY)
    invariant(report)
    # line 3 repeats line 2 exactly (duplicate); line 4 has E1 with other content
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates,
            report.conflicts) == (4, 2, 1, 1, 1)
    assert report.errors[0].line == 4
    assert "finns på rad 2 i samma fil" in report.errors[0].reason
    # --replace cannot decide between two rows of one file: still rejected
    again = ingest_file(data, name="a.csv", store=Store(st.root.parent / "other"),
                        today=TODAY, replace=True)
    assert (again.rejected, again.replaced) == (1, 0)


def test_rows_without_a_given_id_never_conflict(st: Store) -> None:
    """Derived ids are content hashes: equal id = equal content (a duplicate)."""
    header = "Tidpunkt;Kategori;Område;Rapportör;Beskrivning"
    row = "2024-05-01 10:00;klotter;Hamnen;polis;Xyz"
    ingest_file(f"{header}\n{row}\n".encode(), name="a.csv", store=st, today=TODAY)
    report = ingest_file(f"{header}\n{row}\n".encode(), name="b.csv", store=st, today=TODAY)
    assert (report.duplicates, report.conflicts) == (1, 0)


def test_replace_via_cli_is_logged_audited_and_undone_by_withdraw(tmp_path: Path,
                                                                  capsys) -> None:
    store_dir = tmp_path / "store"
    (tmp_path / "v1.csv").write_bytes(est_file(*FIRST))
    (tmp_path / "v2.csv").write_bytes(est_file(est_line(1, "Rättad beskrivning"),
                                               est_line(2)))
    assert cli.main(["ingest", str(tmp_path / "v1.csv"), "--store", str(store_dir)]) == 0
    # without --replace: exit 1, the conflict is named
    assert cli.main(["ingest", str(tmp_path / "v2.csv"), "--store", str(store_dir),
                     "--dry-run"]) == 1
    assert "Konflikt: id 'E1'" in capsys.readouterr().out
    assert cli.main(["ingest", str(tmp_path / "v2.csv"), "--store", str(store_dir),
                     "--replace", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_read"], out["accepted"], out["rejected"], out["duplicates"],
            out["conflicts"], out["replaced"]) == (2, 1, 0, 1, 1, 1)
    store = Store(store_dir)
    stored = store.read("incidents").set_index("incident_id")
    assert stored.loc["E1", "description"] == "Rättad beskrivning"
    assert len(stored) == 3
    assert store.read_history("incidents")["description"].tolist() == ["Första versionen"]
    entry = store.ingest_log().iloc[-1]
    assert entry["replaced"] == 1 and list(entry["replaced_ids"]) == ["E1"]
    audit = read_audit(store_dir)
    assert audit["action"].tolist() == ["upload", "upload", "replace"]
    assert audit.iloc[-1]["counts"] == {"replaced": 1}
    assert audit.iloc[-1]["batch_id"] == out["batch_id"]
    # withdrawing the replacing batch brings the replaced row back
    store.withdraw(out["batch_id"])
    stored = store.read("incidents").set_index("incident_id")
    assert stored.loc["E1", "description"] == "Första versionen" and len(stored) == 3
    assert store.read_history("incidents").empty
