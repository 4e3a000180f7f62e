"""Formats (issue 11): generic JSON / JSON lines, legacy .xls, and unreadable or hostile
workbooks -> UnreadableFileError with a Swedish reason (CLI exit 2, never a traceback)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from hjo_data import cli, excel
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import ingest_file
from hjo_data.reading import read_raw
from hjo_data.store import Store
from tests.workbooks import hostile_xlsx, xls_bytes, xlsx_with

TODAY = date(2024, 6, 1)
HEADER = ["Händelse-id", "Tidpunkt", "Kategori", "Område", "Rapportör", "Beskrivning"]
ROWS = [
    HEADER,
    ["E1", "2024-05-01 10:00", "klotter", "Hamnen", "polis", "Tag på vägg"],
    ["E2", "2024-05-02", "brand", "Hamnen", "kommun", ""],
]


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def invariant(report) -> None:
    skipped = report.skipped
    assert report.accepted + report.rejected + report.duplicates + skipped == report.rows_read


# --------------------------------------------------------------------------- JSON

def event(i: int, **extra: object) -> dict[str, object]:
    return {"Händelse-id": f"E{i}", "Tidpunkt": f"2024-05-{i:02d} 10:00",
            "Kategori": "klotter", "Område": "Hamnen", "Rapportör": "polis", **extra}


@pytest.mark.parametrize("wrap", [None, "data", "records", "values"])
def test_json_list_of_records_is_ingested(wrap: str | None, st: Store) -> None:
    records = [event(1), event(2, Beskrivning="Krossad ruta"), event(3, Beskrivning=None)]
    doc = records if wrap is None else {"meta": {"källa": "test"}, wrap: records}
    report = ingest_file(json.dumps(doc, ensure_ascii=False).encode(), name="est.json",
                         store=st, today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected) == (3, 3, 0)
    stored = st.read("incidents").set_index("incident_id")
    assert stored.loc["E2", "description"] == "Krossad ruta"
    assert stored.loc["E3", "description"] == ""
    assert str(stored.loc["E1", "occurred_at"]) == "2024-05-01 10:00:00"


def test_json_line_numbers_are_record_numbers_and_nothing_is_lost(st: Store) -> None:
    records = [
        event(1, plats={"lat": 58.3, "lon": 14.29}),   # nested object: flattened
        event(2, taggar=["a", "b"]),                    # a list: refused, named
        "inte ett objekt",                              # not a record: refused
        event(4, Tidpunkt="inte ett datum"),            # validation, record number 4
        event(5),
    ]
    raw = read_raw(json.dumps(records).encode(), name="est.json")
    assert "plats.lat" in raw.headers and raw.frame["plats.lat"].tolist()[0] == "58.3"
    assert raw.lines.tolist() == [1, 4, 5]
    assert [(e.line, e.column) for e in raw.structural_errors] == [(2, "taggar"), (3, "")]
    report = ingest_file(json.dumps(records).encode(), name="est.json", store=st,
                         today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected) == (5, 2, 3)
    assert sorted(e.line for e in report.errors) == [2, 3, 4]
    assert "lista" in next(e.reason for e in report.errors if e.line == 2)


def test_json_lines(st: Store) -> None:
    lines = [json.dumps(event(1)), "", json.dumps(event(2)), "{trasig rad", json.dumps(event(5))]
    report = ingest_file(("\n".join(lines) + "\n").encode(), name="est.jsonl", store=st,
                         today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected) == (4, 3, 1)
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "Raden är inte giltig JSON (tecken 2).")]


@pytest.mark.parametrize(("payload", "pattern"), [
    (b'{"status": "ok", "antal": 3}', "ingen lista med poster"),
    (b"[]", "inga poster"),
    (b'[{"a": 1', "inte giltig JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "för djupt nästlad"),
    (b"[1, 2, 3]", "saknar fält"),
])
def test_json_that_is_no_table_gets_a_swedish_reason(payload: bytes, pattern: str,
                                                      st: Store) -> None:
    with pytest.raises(UnreadableFileError, match=pattern) as info:
        ingest_file(payload, name="x.json", store=st)
    assert str(info.value).startswith("x.json: ")
    assert "rubrikrad" not in str(info.value)   # the old, wrong message


def test_json_without_json_name_is_sniffed(st: Store) -> None:
    raw = read_raw(json.dumps([event(1)]).encode(), name="export.txt")
    assert raw.parser == "json" and raw.frame["Händelse-id"].tolist() == ["E1"]


def test_cli_ingests_json(tmp_path: Path, capsys) -> None:
    path = tmp_path / "est.json"
    path.write_text(json.dumps({"data": [event(1), event(2)]}), encoding="utf-8")
    code = cli.main(["ingest", str(path), "--store", str(tmp_path / "s")])
    assert code == 0
    assert "Läste 2 rader ur est.json: 2 sparade" in capsys.readouterr().out


# --------------------------------------------------------------------------- .xls

def test_legacy_xls_is_read_like_xlsx(st: Store) -> None:
    rows = [
        HEADER,
        ["E1", datetime(2024, 5, 1, 10, 30), "klotter", "Hamnen", "polis", "Tag"],
        [None, None, None, None, None, None],
        ["E2", datetime(2024, 5, 2), "brand", "Hamnen", "kommun", 12.0],
        ["E3", "inte ett datum", "brand", "Hamnen", "polis", True],
    ]
    data = xls_bytes({"EST": rows, "Annat": [["x"], [1]]})
    raw = read_raw(data, name="est.xls")
    assert raw.parser == "xlrd" and raw.sheet == "EST"
    assert raw.lines.tolist() == [2, 4, 5]
    assert raw.frame["Tidpunkt"].tolist() == ["2024-05-01 10:30", "2024-05-02", "inte ett datum"]
    assert raw.frame["Beskrivning"].tolist() == ["Tag", "12", "SANT"]
    # the same cells in an .xlsx read identically
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    xlsx = Path(st.root.parent / "est.xlsx")
    wb.save(xlsx)
    assert raw.frame.equals(read_raw(xlsx).frame)
    assert excel.list_sheets(data, name="est.xls") == ["EST", "Annat"]
    assert read_raw(data, name="est.xls", sheet="Annat").frame["x"].tolist() == ["1"]
    report = ingest_file(data, name="est.xls", store=st, today=TODAY)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected) == (3, 2, 1)
    assert [e.line for e in report.errors] == [5]


def test_xls_needs_no_xls_name(st: Store) -> None:
    data = xls_bytes({"s": [HEADER, ["E1", "2024-05-01", "klotter", "Hamnen", "polis", ""]]})
    assert read_raw(data, name="export.dat").frame["Händelse-id"].tolist() == ["E1"]


# --------------------------------------------------------------------------- hostile

HOSTILE_REASONS = {
    "truncated": "skadad eller ofullständig",
    "billion_laughs": "säkerhetsskäl",
    "xxe": "säkerhetsskäl",
    "not_a_zip": "inte en giltig Excel-arbetsbok",
    "encrypted": "lösenordsskyddad",
}


@pytest.mark.parametrize("case", list(HOSTILE_REASONS))
def test_hostile_workbooks_give_a_swedish_reason(case: str, st: Store, tmp_path: Path,
                                                 capsys) -> None:
    data = hostile_xlsx(ROWS)[case]
    with pytest.raises(UnreadableFileError, match=HOSTILE_REASONS[case]) as info:
        ingest_file(data, name="arbetsbok.xlsx", store=st)
    assert str(info.value).startswith("arbetsbok.xlsx: ")
    assert st.part_files("incidents") == []
    path = tmp_path / "arbetsbok.xlsx"
    path.write_bytes(data)
    code = cli.main(["ingest", str(path), "--store", str(tmp_path / "s")])
    captured = capsys.readouterr()
    assert code == 2
    assert HOSTILE_REASONS[case] in captured.err
    assert "Internt fel" not in captured.err and "Traceback" not in captured.err
    assert "/etc/passwd" not in captured.err + captured.out


@pytest.mark.parametrize("case", ["billion_laughs", "xxe"])
def test_openpyxl_refuses_entities_too_when_the_prescan_is_skipped(case: str,
                                                                    monkeypatch) -> None:
    """defusedxml is installed and openpyxl uses it: the second line of defence."""
    assert openpyxl.DEFUSEDXML is True
    monkeypatch.setattr(excel, "_refuse_dtd", lambda *_a, **_k: None)
    with pytest.raises(UnreadableFileError, match="säkerhetsskäl"):
        read_raw(hostile_xlsx(ROWS)[case], name="a.xlsx")


def test_truncated_member_in_a_second_sheet_read_later(st: Store) -> None:
    """A broken part found only while rows are read (read-only mode parses lazily)."""
    data = xlsx_with(ROWS, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row>"})
    with pytest.raises(UnreadableFileError, match="skadad"):
        read_raw(data, name="a.xlsx")
    with pytest.raises(UnreadableFileError):
        excel.list_sheets(b"PK\x03\x04" + b"\0" * 40, name="a.xlsx")


@pytest.mark.parametrize("data", [
    xls_bytes({"s": ROWS})[:1200],                      # truncated .xls
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 2000,  # OLE2 magic, garbage after it
])
def test_corrupt_xls(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="skadad"):
        read_raw(data, name="gammal.xls")  # "äldre Excel-fil (.xls) ... skadad"
