"""Streaming ingest: a CSV file read, validated and stored chunk by chunk gives exactly
the whole-file ingest's report, stored rows and quarantine (tiny chunks make every
boundary case happen in a small file), and a failure mid-file leaves the store as it
was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import ingest, profiles, reading
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import commit_ingest, ingest_file, prepare_ingest
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Latitud;Longitud;Beskrivning"
X = ";2024-03-01 10:00;klotter;Hamnen;kommun;;;utan id"  # a row without an id

# data row -> physical line(s): header = line 1
ROWS = [
    "EST-1;2024-01-05 12:00;brand;Hamnen;polis;58,30;14,28;",          # line 2
    "EST-2;2024-01-06;klotter;Stadsparken;kommun;;;",                   # 3
    "EST-3;2023-02-30;brand;Hamnen;polis;;;",                           # 4 bad date
    "EST-4;2024-01-07 08:15;skadegörelse;Hamnen;skola;;;",              # 5
    'EST-5;2024-01-08 09:00;brand;Hamnen;polis;;;"rad ett\nrad två"',  # 6-7, chunk end
    "EST-6;2024-01-09 10:00;brand;Hamnen;polis;;;",                     # 8
    "EST-1;2024-01-05 12:00;brand;Hamnen;polis;58,30;14,28;",          # 9 dup of line 2
    "EST-8;2024-01-10 10:00;brand;Hamnen;polis;58,31;;",                # 10 lat, no lon
    X,                                                                  # 11 no id
    "EST-10;2024-01-11 10:00;Okänd typ;Hamnen;polis;;;",                # 12 unknown cat
    X,                                                                  # 13 same again
    "EST-12;2024-01-12 10:00;brand;Hamnen;polis;58,3x;14,28;",         # 14 bad number
    "EST-13;2024-01-13 10:00;okänd  typ;Hamnen;polis;;;",               # 15 unknown cat
    "EST-14;2024-01-14 10:00;brand;Hjo-centrum;polis;;;",               # 16 area alias
    "EST-15;2024-01-15 10:00;brand;;polis;;;",                          # 17 empty area
    'EST-5;2024-01-08 09:00;brand;Hamnen;polis;;;"rad ett\nrad två"',  # 18-19 dup of 6
    X,                                                                  # 20 third time
]
REJECTED_LINES = [4, 10, 14, 17]
DUPLICATES = 2   # lines 9 and 18 (the rows without an id are distinct records)


def _write(path: Path, rows: list[str], *, header: str = HEADER, bom: bool = False,
           encoding: str = "utf-8") -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def _whole(path: Path, root: Path, **kwargs) -> ingest.IngestReport:
    store = Store(root)
    return commit_ingest(prepare_ingest(path, store=store), store, **kwargs)


def _streamed(path: Path, root: Path, chunk_rows: int) -> ingest.IngestReport:
    report = ingest._ingest_streamed(
        path, display=path.name, dataset=None, store=Store(root), today=None,
        profile=None, user=None, chunk_rows=chunk_rows, audit_action=None, role=None,
        audit_detail=None)
    assert report is not None, "the file was expected to stream"
    return report


def _comparable(report: ingest.IngestReport) -> dict:
    out = report.to_dict()
    for key in ("batch_id", "rejected_file"):
        out.pop(key)
    return out


def _rows(root: Path) -> pd.DataFrame:
    frame = Store(root).read("incidents").drop(columns="batch_id")
    return frame.sort_values("record_id", ignore_index=True)


def _same_as_whole(path: Path, tmp_path: Path, chunk_rows: int) -> ingest.IngestReport:
    whole = _whole(path, tmp_path / "whole")
    streamed = _streamed(path, tmp_path / "streamed", chunk_rows)
    assert _comparable(streamed) == _comparable(whole)
    pd.testing.assert_frame_equal(_rows(tmp_path / "streamed"), _rows(tmp_path / "whole"))
    if whole.rejected_file:
        assert Path(streamed.rejected_file).read_bytes() == \
            Path(whole.rejected_file).read_bytes()
    return streamed


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 7, 100])
def test_streamed_equals_whole_file(tmp_path: Path, chunk_rows: int) -> None:
    path = _write(tmp_path / "est.csv", ROWS)
    report = _same_as_whole(path, tmp_path, chunk_rows)
    # expected values counted by hand from ROWS
    assert report.rows_read == 17
    assert report.rejected == 4
    assert report.duplicates == DUPLICATES
    assert report.accepted == 17 - 4 - DUPLICATES
    assert [e.line for e in report.errors] == REJECTED_LINES
    assert any("okänd kategori 'Okänd typ'" in w and w.startswith("2 rader")
               for w in report.warnings), report.warnings
    stored = Store(tmp_path / "streamed").read("incidents")
    assert (stored["description"] == "utan id").sum() == 3  # identical rows, 3 records
    assert "Hjo centrum" in set(stored["area"])  # the alias resolved in a later chunk


def test_quoted_line_break_at_a_chunk_boundary_keeps_line_numbers(tmp_path: Path) -> None:
    rows = ["EST-1;2024-01-05;brand;Hamnen;polis;;;",
            'EST-2;2024-01-05;brand;Hamnen;polis;;;"ett\r\ntvå\ntre"',  # lines 3-5
            "EST-3;2024-13-05;brand;Hamnen;polis;;;"]                     # line 6, bad
    report = _same_as_whole(_write(tmp_path / "q.csv", rows), tmp_path, 2)
    assert [e.line for e in report.errors] == [6]


def test_bom_and_comma_delimiter_stream(tmp_path: Path) -> None:
    rows = [r.replace(";", ",").replace("58,3", "58.3").replace("14,28", "14.28")
            for r in ROWS if "Okänd" not in r and "okänd" not in r]
    path = _write(tmp_path / "c.csv", rows, header=HEADER.replace(";", ","), bom=True)
    report = _same_as_whole(path, tmp_path, 3)
    assert (report.encoding, report.delimiter) == ("utf-8-sig", ",")


def test_row_index_column_is_recognised_over_all_chunks(tmp_path: Path) -> None:
    rows = [f"{i};EST-{i};2024-01-0{1 + i % 9};brand;Hamnen;polis;;;" for i in range(1, 12)]
    path = _write(tmp_path / "r.csv", rows, header=";" + HEADER)
    report = _same_as_whole(path, tmp_path, 4)
    assert any("radnummer" in w for w in report.warnings)
    rows[9] = "99" + rows[9][2:]  # the index breaks in the third chunk: an unknown column
    path = _write(tmp_path / "r2.csv", rows, header=";" + HEADER)
    report = _same_as_whole(path, tmp_path / "2", 4)
    assert any("Okända kolumner ignoreras: 'Kolumn 1'" in w for w in report.warnings)


def test_conflict_with_a_stored_row_in_a_later_chunk(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.csv", ["EST-6;2024-01-09 10:00;brand;Hamnen;polis;;;x"])
    for root in ("whole", "streamed"):
        _whole(first, tmp_path / root)
    path = _write(tmp_path / "est.csv", ROWS)
    report = _same_as_whole(path, tmp_path, 3)
    assert report.conflicts == 1
    assert any(e.line == 8 and "Konflikt" in e.reason for e in report.errors)


def test_id_conflict_across_chunks_gives_the_whole_file_result(tmp_path: Path) -> None:
    rows = ["EST-1;2024-01-05;brand;Hamnen;polis;;;",
            "EST-2;2024-01-05;brand;Hamnen;polis;;;",
            "EST-1;2024-01-06;brand;Hamnen;polis;;;"]  # line 4: other content than line 2
    path = _write(tmp_path / "k.csv", rows)
    whole = _whole(path, tmp_path / "whole")
    report = ingest_file(path, store=Store(tmp_path / "streamed"), chunk_rows=1)
    assert _comparable(report) == _comparable(whole)
    assert report.conflicts == 1
    assert "rad 2" in report.errors[0].reason and report.errors[0].line == 4


def test_reingest_is_all_duplicates(tmp_path: Path) -> None:
    path = _write(tmp_path / "est.csv", ROWS)
    first = _streamed(path, tmp_path / "s", 4)
    again = _streamed(path, tmp_path / "s", 4)
    assert (again.accepted, again.duplicates) == (0, first.accepted + first.duplicates)
    assert len(Store(tmp_path / "s").read("incidents")) == first.accepted


def test_failure_mid_file_leaves_the_store_unchanged(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path / "est.csv", ROWS)
    root = tmp_path / "s"
    _streamed(_write(tmp_path / "a.csv", ROWS[:2]), root, 1)
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()
              and ".lock" not in p.name}
    calls = []
    real = Store.append_new

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "append_new", failing)
    with pytest.raises(OSError, match="disk full"):
        ingest_file(path, store=Store(root), chunk_rows=3)
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()
             and ".lock" not in p.name}
    assert after == before


def test_files_needing_the_whole_file_reader_do_not_stream(tmp_path: Path) -> None:
    cp1252 = _write(tmp_path / "w.csv", ROWS, encoding="cp1252")
    wrong_fields = _write(tmp_path / "f.csv", [*ROWS[:3], "EST-99;2024-01-01", *ROWS[3:]])
    for path in (cp1252, wrong_fields):
        assert ingest._ingest_streamed(
            path, display=path.name, dataset=None, store=Store(tmp_path / path.stem),
            today=None, profile=None, user=None, chunk_rows=2, audit_action=None,
            role=None, audit_detail=None) is None
        assert not (tmp_path / path.stem / "ingest_log.jsonl").exists()
        whole = _whole(path, tmp_path / f"{path.stem}-whole")
        report = ingest_file(path, store=Store(tmp_path / f"{path.stem}-2"), chunk_rows=2)
        assert _comparable(report) == _comparable(whole)


def test_small_files_are_read_whole_unless_asked(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path / "est.csv", ROWS)
    monkeypatch.delenv("HJO_INGEST_CHUNK_ROWS", raising=False)
    assert reading.open_stream(path) is None          # below STREAM_MIN_BYTES
    assert reading.open_stream(path, chunk_rows=5) is not None
    monkeypatch.setenv("HJO_INGEST_CHUNK_ROWS", "5")
    assert reading.open_stream(path).chunk_rows == 5
    assert reading.open_stream(path.read_bytes()) is None  # bytes: an upload, read whole


def test_cli_streams_with_the_env_chunk_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "est.csv", ROWS)
    whole = _whole(path, tmp_path / "whole")
    env = {**os.environ, "HJO_INGEST_CHUNK_ROWS": "3"}
    out = subprocess.run([sys.executable, "-m", "hjo_data", "ingest", str(path), "--store",
                          str(tmp_path / "cli"), "--json"], capture_output=True, text=True,
                         cwd=ROOT, env=env, check=False)
    assert out.returncode == 1, out.stderr  # some rows rejected
    report = json.loads(out.stdout)
    expected = _comparable(whole)
    expected.pop("user")  # the CLI names $USER
    assert {k: report[k] for k in expected} == expected
    pd.testing.assert_frame_equal(_rows(tmp_path / "cli"), _rows(tmp_path / "whole"))
    # streamed: a part file per chunk (the whole file would be one: every row is 2024)
    assert len(Store(tmp_path / "cli").part_files("incidents")) > 1
    log = Store(tmp_path / "cli").log_entries()
    assert len(log) == 1 and log[0]["rows_read"] == 17


def test_a_profile_applies_to_every_chunk(tmp_path: Path) -> None:
    header = "Nr;När;Vad;Var;Vem;Lat;Lon;Text"
    rows = [f"N{i};2024-02-{1 + i:02d} 10:00;{'Sönder' if i % 2 else 'klotter'};Hamnen;"
            f"polis;;;" for i in range(9)]
    rows[6] = "N6;2024-02-30 10:00;Sönder;Hamnen;polis;;;"   # line 8: bad date, chunk 3
    path = _write(tmp_path / "p.csv", rows, header=header)
    profile = profiles.ImportProfile(
        name="egen", dataset="incidents",
        columns={"Nr": "incident_id", "När": "occurred_at", "Vad": "category",
                 "Var": "area", "Vem": "source", "Lat": "ignorera", "Lon": "ignorera",
                 "Text": "description"},
        values={"category": {"Sönder": "skadegörelse"}})
    store = Store(tmp_path / "whole")
    whole = commit_ingest(prepare_ingest(path, store=store, profile=profile), store)
    report = ingest_file(path, store=Store(tmp_path / "streamed"), profile=profile,
                         chunk_rows=3)
    assert _comparable(report) == _comparable(whole)
    assert (report.accepted, report.rejected) == (8, 1) and report.errors[0].line == 8
    stored = _rows(tmp_path / "streamed")
    pd.testing.assert_frame_equal(stored, _rows(tmp_path / "whole"))
    assert (stored["category"] == "skadegörelse").sum() == 4  # N1, N3, N5, N7


def test_header_only_file_gets_the_whole_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", [], header="Okänd;Rubrik")
    with pytest.raises(UnreadableFileError, match="bara en rubrikrad"):
        ingest_file(path, store=Store(tmp_path / "s"), chunk_rows=2)
    assert not (tmp_path / "s" / "ingest_log.jsonl").exists()
