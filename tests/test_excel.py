""".xlsx ingestion: values, dates, formulas (cached / not cached), merged cells, several
sheets, zip bombs and garbage renamed .xlsx."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from hjo_data import excel
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import ingest_file, prepare_ingest
from hjo_data.reading import read_raw
from hjo_data.store import Store

TODAY = date(2024, 6, 1)
INC_HEADER = ["Händelse-id", "Tidpunkt", "Kategori", "Område", "Rapportör", "Beskrivning"]


def workbook_bytes(sheets: dict[str, list[list[object]]], *, merge: dict[str, str] | None = None
                   ) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if merge and title in merge:
            ws.merge_cells(merge[title])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_first_sheet_values_dates_and_row_numbers(st: Store) -> None:
    rows = [
        INC_HEADER,
        ["E1", datetime(2024, 5, 1, 10, 30), "klotter", "Centrum", "polis", "Tag på vägg"],
        [None, None, None, None, None, None],  # empty row 3: skipped, numbering kept
        ["E2", datetime(2024, 5, 2), "brand", "Hamnen", "kommun", 12.0],
        ["E3", "inte ett datum", "brand", "Hamnen", "polis", ""],
    ]
    data = workbook_bytes({"EST": rows, "Annat": [["x"], [1]]})
    raw = read_raw(data, name="est.xlsx")
    assert raw.sheet == "EST" and raw.parser == "openpyxl"
    assert raw.lines.tolist() == [2, 4, 5]  # Excel row numbers
    assert raw.frame["Tidpunkt"].tolist() == ["2024-05-01 10:30", "2024-05-02", "inte ett datum"]
    assert raw.frame["Beskrivning"].tolist() == ["Tag på vägg", "12", ""]
    assert any("flera blad" in w and "Annat" in w for w in raw.warnings)

    report = ingest_file(data, name="est.xlsx", store=st, today=TODAY)
    assert (report.rows_read, report.accepted, report.rejected) == (3, 2, 1)
    assert report.errors[0].line == 5
    stored = st.read("incidents").sort_values("record_id")
    assert stored["record_id"].tolist() == ["E1", "E2"]
    assert stored["occurred_at"].tolist() == [datetime(2024, 5, 1, 10, 30), datetime(2024, 5, 2)]
    assert stored["occurred_at_has_time"].tolist() == [True, False]


def test_same_result_as_csv(st: Store, tmp_path: Path) -> None:
    """Excel and CSV with the same cells validate identically."""
    rows = [INC_HEADER,
            ["E1", "2024-05-01 10:30", "klotter", "Centrum", "polis", "a"],
            ["E2", "2024-05-02", "okänd sak", "Hamnen", "kommun", "b"]]
    xlsx = prepare_ingest(workbook_bytes({"s": rows}), name="a.xlsx", store=st, today=TODAY)
    csv_text = "\n".join(";".join(r) for r in rows) + "\n"
    csv = prepare_ingest(csv_text.encode(), name="a.csv", store=st, today=TODAY)
    cols = [c for c in csv.validated.accepted.columns if c != "_line"]
    assert xlsx.validated.accepted[cols].equals(csv.validated.accepted[cols])
    assert xlsx.warnings[-1] == csv.warnings[-1]  # the unknown-category warning


def test_chosen_sheet_and_list_sheets(st: Store) -> None:
    data = workbook_bytes({
        "Info": [["Detta blad är bara text"]],
        "Trafik": [["Datum", "Plats", "Kontrolltyp", "Kontrollerade fordon", "Fortkörning"],
                   [date(2024, 5, 3), "Centrum", "hastighet", 40, 3]],
    })
    assert excel.list_sheets(data, name="t.xlsx") == ["Info", "Trafik"]
    upload = io.BytesIO(data)
    assert excel.list_sheets(upload, name="t.xlsx") == ["Info", "Trafik"]
    assert upload.tell() == 0  # rewound: the same upload can be read again
    report = ingest_file(data, name="t.xlsx", store=st, sheet="Trafik", today=TODAY)
    assert report.dataset == "traffic" and report.accepted == 1 and report.sheet == "Trafik"
    row = st.read("traffic").iloc[0]
    assert (row["vehicles_checked"], row["speeding"]) == (40, 3)
    with pytest.raises(UnreadableFileError, match=r"Bladet 'Saknas' finns inte.*'Trafik'"):
        read_raw(data, name="t.xlsx", sheet="Saknas")
    assert read_raw(data, name="t.xlsx", sheet=1).sheet == "Trafik"


def test_merged_cells_read_as_empty_outside_the_top_left(st: Store) -> None:
    rows = [INC_HEADER,
            ["E1", "2024-05-01", "klotter", "Centrum", "polis", "sammanslagen"],
            ["E2", "2024-05-02", "brand", "Hamnen", "kommun", None]]
    data = workbook_bytes({"s": rows}, merge={"s": "F2:F3"})
    raw = read_raw(data, name="m.xlsx")
    assert raw.frame["Beskrivning"].tolist() == ["sammanslagen", ""]
    report = ingest_file(data, name="m.xlsx", store=st, today=TODAY)
    assert report.accepted == 2  # Beskrivning is optional: the empty part is fine


def test_formulas_cached_value_used_never_evaluated(st: Store, tmp_path: Path) -> None:
    """A formula cell with a cached value gives that value; without one (openpyxl writes
    none) the formula text is read as text, flagged, and stored only as text."""
    rows = [["Datum", "Plats", "Kontrolltyp", "Kontrollerade fordon", "Fortkörning"],
            ["2024-05-03", "Centrum", "hastighet", "=20+20", 1],
            ["2024-05-04", "Centrum", "hastighet", 10, 2]]
    data = workbook_bytes({"s": rows})
    raw = read_raw(data, name="f.xlsx")
    assert raw.frame["Kontrollerade fordon"].tolist() == ["=20+20", "10"]
    [warning] = [w for w in raw.warnings if "formel" in w]
    assert "D2" in warning
    report = ingest_file(data, name="f.xlsx", store=st, today=TODAY)
    assert (report.accepted, report.rejected) == (1, 1)  # "=20+20" is not a number
    assert "Ogiltigt tal '=20+20'" in report.errors[0].reason

    # Add a cached value the way Excel stores it: <f>..</f><v>40</v> in the sheet XML.
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = body.replace(b"<f>20+20</f><v></v>", b"<f>20+20</f><v>40</v>")
                body = body.replace(b"<f>20+20</f><v />", b"<f>20+20</f><v>40</v>")
                assert b"<v>40</v>" in body
            dst.writestr(info, body)
    cached = read_raw(out.getvalue(), name="f.xlsx")
    assert cached.frame["Kontrollerade fordon"].tolist() == ["40", "10"]
    assert not any("formel" in w for w in cached.warnings)


def test_text_cell_starting_with_equals_is_stored_as_text(st: Store) -> None:
    evil = '=HYPERLINK("http://x","klick")'
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(INC_HEADER)
    ws.append(["E1", "2024-05-01", "klotter", "Centrum", "polis", "x"])
    ws["F2"].value = evil
    ws["F2"].data_type = "s"  # a text cell, not a formula
    buf = io.BytesIO()
    wb.save(buf)
    ingest_file(buf.getvalue(), name="e.xlsx", store=st, today=TODAY)
    assert st.read("incidents")["description"].tolist() == [evil]


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_zip_bomb_ratio_is_refused_before_opening(monkeypatch) -> None:
    bomb = _zip({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": bytes(20_000_000)})
    assert len(bomb) < 100_000
    opened: list[bool] = []
    monkeypatch.setattr(excel, "_open", lambda *a, **k: opened.append(True))
    with pytest.raises(UnreadableFileError, match=r"bomb\.xlsx.*zip-bomb"):
        read_raw(bomb, name="bomb.xlsx")
    assert not opened


def test_zip_bomb_total_size_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(excel, "MAX_UNCOMPRESSED_BYTES", 3 * 1024 * 1024)
    monkeypatch.setattr(excel, "MAX_RATIO", 10**9)
    members = {"xl/workbook.xml": b"<x/>"}
    members.update({f"xl/m{i}.xml": bytes(1024 * 1024) for i in range(4)})
    with pytest.raises(UnreadableFileError, match=r"packas upp till 4,0 MB.*gränsen 3 MB"):
        read_raw(_zip(members), name="stor.xlsx")


@pytest.mark.parametrize("payload, pattern", [
    (b"this is not a workbook at all" * 10, "inte en giltig Excel-arbetsbok"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"äldre Excel-fil \(\.xls\)"),
    (b"PK\x03\x04" + bytes(300), "inte en giltig Excel-arbetsbok"),
])
def test_garbage_renamed_xlsx(payload: bytes, pattern: str, st: Store) -> None:
    with pytest.raises(UnreadableFileError, match=r"skräp\.xlsx: .*" + pattern):
        ingest_file(payload, name="skräp.xlsx", store=st)
    assert not st.log_path.exists() and st.read("incidents").empty


def test_zip_that_is_not_a_workbook() -> None:
    with pytest.raises(UnreadableFileError, match="ingen Excel-arbetsbok"):
        read_raw(_zip({"hello.txt": b"hej"}), name="arkiv.xlsx")


def test_values_right_of_the_header_are_a_structural_error(st: Store) -> None:
    rows = [INC_HEADER,
            ["E1", "2024-05-01", "klotter", "Centrum", "polis", "a"],
            ["E2", "2024-05-01", "klotter", "Centrum", "polis", "b", "extra"]]
    report = ingest_file(workbook_bytes({"s": rows}), name="x.xlsx", store=st, today=TODAY)
    assert (report.accepted, report.rejected) == (1, 1)
    assert report.errors[0].line == 3 and "Fel antal fält: 7 i stället för 6" in \
        report.errors[0].reason


def test_empty_sheet() -> None:
    with pytest.raises(UnreadableFileError, match="Bladet 'Tomt' är tomt"):
        read_raw(workbook_bytes({"Tomt": []}), name="t.xlsx")
