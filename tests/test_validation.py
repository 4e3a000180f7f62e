"""validate(): typing, every rejection reason, warnings, record ids, masking, dtypes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.privacy import MASK
from hjo_data.schema import ACTIVITIES, INCIDENTS, SURVEY, SURVEY_RESPONSES, TRAFFIC
from hjo_data.validation import REJECTED_COLUMNS, validate

TODAY = date(2024, 6, 1)
ROOT = Path(__file__).resolve().parent.parent

try:
    from hjo_data.reading import RawTable
except ImportError:  # reading.py not landed yet: a RawTable-like stand-in
    from dataclasses import dataclass, field

    @dataclass
    class RawTable:  # type: ignore[no-redef]
        file_name: str
        frame: pd.DataFrame
        lines: np.ndarray
        encoding: str = "utf-8"
        delimiter: str = ";"
        structural_errors: list[RowError] = field(default_factory=list)


def raw(headers: list[str], rows: list[list[str]], *, errors: list[RowError] | None = None,
        name: str = "test.csv") -> RawTable:
    """RawTable as reading.read_raw produces it: str columns, lines 2.. (after the header)."""
    frame = pd.DataFrame(rows, columns=headers, dtype="str") if rows else pd.DataFrame(
        {h: pd.Series([], dtype="str") for h in headers})
    frame = frame.astype("str")
    return RawTable(file_name=name, frame=frame,
                    lines=np.arange(2, len(rows) + 2, dtype=np.int64), encoding="utf-8",
                    delimiter=";", structural_errors=list(errors or []))


INC_HEADERS = ["Händelse-id", "Tidpunkt", "Kategori", "Område", "Rapportör", "Latitud",
               "Longitud", "Beskrivning"]


def inc_row(**kw: str) -> list[str]:
    base = {"Händelse-id": "", "Tidpunkt": "2024-05-01 12:00", "Kategori": "klotter",
            "Område": "Centrum", "Rapportör": "polis", "Latitud": "", "Longitud": "",
            "Beskrivning": ""}
    base.update(kw)
    return [base[h] for h in INC_HEADERS]


def incidents(*rows: list[str], **kw: object) -> pd.DataFrame:
    return validate(raw(INC_HEADERS, list(rows)), INCIDENTS, today=TODAY, **kw)  # type: ignore


def one_rejection(row: list[str], headers: list[str] = INC_HEADERS, dataset=INCIDENTS
                  ) -> dict[str, object]:
    out = validate(raw(headers, [row]), dataset, today=TODAY)
    assert len(out.accepted) == 0
    assert len(out.rejected) == 1
    return out.rejected.iloc[0].to_dict()


# --------------------------------------------------------------------------- structure

def test_accepted_columns_and_dtypes_incidents() -> None:
    out = incidents(inc_row(Latitud="58,3", Longitud="14,28", **{"Händelse-id": "A-1"}))
    acc = out.accepted
    assert list(acc.columns) == [c for c in INCIDENTS.stored_columns if c != "batch_id"] + [
        "_line"]
    dtypes = acc.dtypes.astype(str).to_dict()
    assert dtypes["occurred_at"] == "datetime64[us]"
    assert dtypes["occurred_at_has_time"] == "bool"
    assert dtypes["lat"] == dtypes["lon"] == "float64"
    assert dtypes["_line"] == "int64"
    for name in ("incident_id", "category", "category_raw", "area", "source", "description",
                 "record_id"):
        assert dtypes[name] == "str", name
    row = acc.iloc[0]
    assert row["occurred_at"] == pd.Timestamp("2024-05-01 12:00")
    assert row["lat"] == pytest.approx(58.3) and row["lon"] == pytest.approx(14.28)
    assert row["record_id"] == "A-1"
    assert row["_line"] == 2
    assert out.rejected.empty and list(out.rejected.columns) == list(REJECTED_COLUMNS)


@pytest.mark.parametrize("dataset", [INCIDENTS, SURVEY_RESPONSES, SURVEY, TRAFFIC, ACTIVITIES])
def test_empty_file_gives_typed_empty_frames(dataset) -> None:
    headers = [dataset.column(c).label for c in dataset.required]
    out = validate(raw(headers, []), dataset, today=TODAY)
    assert out.accepted.empty and out.rejected.empty
    assert list(out.accepted.columns) == [c for c in dataset.stored_columns
                                          if c != "batch_id"] + ["_line"]
    for col in dataset.columns:
        kind = {"text": "str", "category": "str", "date": "datetime64[us]",
                "datetime": "datetime64[us]", "int": "int64", "float": "float64",
                "share": "float64"}[col.kind]
        assert str(out.accepted[col.name].dtype) == kind, col.name


def test_missing_required_column_is_unreadable() -> None:
    headers = ["Tidpunkt", "Område", "Rapportör"]
    with pytest.raises(UnreadableFileError) as err:
        validate(raw(headers, [["2024-05-01", "C", "polis"]], name="est.csv"), INCIDENTS,
                 today=TODAY)
    msg = str(err.value)
    assert "Kolumnen 'Kategori' saknas i est.csv" in msg
    assert "Hittade kolumner: 'Tidpunkt', 'Område', 'Rapportör'" in msg


def test_unknown_columns_one_warning_and_optional_columns_missing() -> None:
    headers = ["Datum", "Typ", "Plats", "Källa", "Väder", "Handläggare"]
    out = validate(raw(headers, [["2024-05-01", "brand", "Hamnen", "polis", "sol", "X"]]),
                   INCIDENTS, today=TODAY)
    assert out.warnings == ["Okända kolumner ignoreras: 'Väder', 'Handläggare'"]
    row = out.accepted.iloc[0]
    assert row["category"] == "brand" and row["area"] == "Hamnen"
    assert np.isnan(row["lat"]) and np.isnan(row["lon"])
    assert row["description"] == "" and row["incident_id"] == ""


def test_column_order_in_file_does_not_matter() -> None:
    a = incidents(inc_row(Tidpunkt="2024-05-03", Kategori="brand"))
    order = INC_HEADERS[::-1]
    row = dict(zip(INC_HEADERS, inc_row(Tidpunkt="2024-05-03", Kategori="brand"), strict=True))
    b = validate(raw(order, [[row[h] for h in order]]), INCIDENTS, today=TODAY)
    pd.testing.assert_frame_equal(a.accepted, b.accepted)


# --------------------------------------------------------------------------- rejections

REJECTIONS = [
    (inc_row(Tidpunkt=""), "Tidpunkt", "", "Kolumnen 'Tidpunkt' är tom"),
    (inc_row(Tidpunkt="   "), "Tidpunkt", "", "Kolumnen 'Tidpunkt' är tom"),
    (inc_row(Kategori=""), "Kategori", "", "Kolumnen 'Kategori' är tom"),
    (inc_row(Område=" "), "Område", "", "Kolumnen 'Område' är tom"),
    (inc_row(Tidpunkt="31/31/2024"), "Tidpunkt", "31/31/2024",
     "Ogiltigt datum '31/31/2024' i kolumnen 'Tidpunkt' (tillåtna format: ÅÅÅÅ-MM-DD, "
     "ÅÅÅÅ-MM-DD TT:MM, ÅÅÅÅMMDD, D.M.ÅÅÅÅ)"),
    (inc_row(Tidpunkt="2024-02-30"), "Tidpunkt", "2024-02-30", "Ogiltigt datum '2024-02-30'"),
    (inc_row(Tidpunkt="1999-12-31 23:59"), "Tidpunkt", "1999-12-31 23:59", "Datum före 2000"),
    (inc_row(Tidpunkt="2024-06-03"), "Tidpunkt", "2024-06-03", "Datum i framtiden"),
    (inc_row(Latitud="58,3x", Longitud="14,2"), "Latitud", "58,3x",
     "Ogiltigt tal '58,3x' i kolumnen 'Latitud'"),
    (inc_row(Latitud="52,1", Longitud="14,2"), "Latitud", "52,1",
     "Värdet '52,1' i kolumnen 'Latitud' är mindre än 55"),
    (inc_row(Latitud="58,3", Longitud="30"), "Longitud", "30",
     "Värdet '30' i kolumnen 'Longitud' är större än 24,2"),
    (inc_row(Latitud="58,3"), "Longitud", "", "Latitud angiven utan longitud"),
    (inc_row(Longitud="14,2"), "Latitud", "", "Longitud angiven utan latitud"),
]


@pytest.mark.parametrize(("row", "label", "value", "reason"), REJECTIONS)
def test_incident_rejection_reasons(row: list[str], label: str, value: str, reason: str
                                    ) -> None:
    rej = one_rejection(row)
    assert rej["column"] == label
    assert rej["value"] == value
    assert str(rej["reason"]).startswith(reason)
    if value:
        assert value in str(rej["reason"]) or reason.endswith("latitud")
    assert rej["line"] == 2
    assert rej["raw"] == ";".join(row)


def test_tomorrow_allowed_day_after_rejected() -> None:
    out = incidents(inc_row(Tidpunkt="2024-06-02 23:59"), inc_row(Tidpunkt="2024-06-03 00:00"),
                    inc_row(Tidpunkt="2000-01-01"))
    assert out.accepted["_line"].tolist() == [2, 4]
    assert out.rejected["line"].tolist() == [3]


SURVEY_HEADERS = ["År", "Indikator", "Andel", "Antal svar"]


@pytest.mark.parametrize(("row", "label", "reason"), [
    (["1999", "otrygg_kvall", "0,2", "100"], "År", "Värdet '1999' i kolumnen 'År' är mindre "
                                                   "än 2000"),
    (["2101", "otrygg_kvall", "0,2", "100"], "År", "är större än 2100"),
    (["2024,5", "otrygg_kvall", "0,2", "100"], "År", "Inte ett heltal '2024,5' i kolumnen 'År'"),
    (["2024", "okänd fråga", "0,2", "100"], "Indikator",
     "Okänt värde 'okänd fråga' i kolumnen 'Indikator' (tillåtna värden: otrygg_kvall, "),
    (["2024", "otrygg_kvall", "120 %", "100"], "Andel", "ligger utanför 0–100 %"),
    (["2024", "otrygg_kvall", "-0,1", "100"], "Andel", "ligger utanför 0–100 %"),
    (["2024", "otrygg_kvall", "0,2", "0"], "Antal svar",
     "Värdet '0' i kolumnen 'Antal svar' är mindre än 1"),
    (["2024", "otrygg_kvall", "0,2", "tio"], "Antal svar", "Ogiltigt tal 'tio'"),
])
def test_survey_rejection_reasons(row: list[str], label: str, reason: str) -> None:
    rej = one_rejection(row, SURVEY_HEADERS, SURVEY)
    assert rej["column"] == label
    assert reason in str(rej["reason"])


def test_unknown_vocabulary_names_allowed_values() -> None:
    headers = ["År", "Område", "Kön", "Åldersgrupp", "Trygghet sent en kväll"]
    rej = one_rejection(["2024", "Centrum", "robot", "16-29", "mycket trygg"], headers,
                        SURVEY_RESPONSES)
    assert rej["reason"] == ("Okänt värde 'robot' i kolumnen 'Kön' (tillåtna värden: "
                             "kvinna, man, annat, alla)")


def test_every_failing_column_in_schema_order_and_one_entry_per_row() -> None:
    # bad date AND bad category AND bad latitude: all three reasons, in schema order
    # (changed deliberately, issue 11: the first reason only made fixing take rounds)
    row = inc_row(Tidpunkt="igår", Kategori="", Latitud="x")
    rej = one_rejection(row)
    assert rej["column"] == "Tidpunkt; Kategori; Latitud"
    assert rej["reason"].split("; ")[0].startswith("Ogiltigt datum 'igår'")
    assert "Kolumnen 'Kategori' är tom" in rej["reason"]
    assert "Ogiltigt tal 'x' i kolumnen 'Latitud'" in rej["reason"]


def test_structural_errors_become_rejected_rows_sorted_by_line() -> None:
    err = RowError(line=3, column="", value="a;b;c;d;e;f;g;h;i", reason="Fel antal fält")
    table = raw(INC_HEADERS, [inc_row(), inc_row(Tidpunkt="x")], errors=[err])
    table.lines = np.array([2, 4], dtype=np.int64)
    out = validate(table, INCIDENTS, today=TODAY)
    assert out.rejected["line"].tolist() == [3, 4]
    assert out.rejected.iloc[0]["reason"] == "Fel antal fält"
    assert out.rejected.iloc[0]["raw"] == "a;b;c;d;e;f;g;h;i"
    assert out.rejected["line"].dtype == np.int64
    assert len(out.accepted) + len(out.rejected) == table.rows_read if hasattr(
        table, "rows_read") else 3


# --------------------------------------------------------------------------- values

def test_whitespace_stripped_and_categories_mapped() -> None:
    out = incidents(inc_row(Kategori="  EPA-traktor ", Område="  Hamnen ",
                            Rapportör=" Hjo kommun"),
                    inc_row(Kategori="bilkörning", Rapportör="Polisen"),
                    inc_row(Kategori="Mopedbuskörning"))
    acc = out.accepted
    assert acc["category"].tolist() == ["motorburen problematik"] * 3
    assert acc["category_raw"].tolist() == ["", "", ""]
    assert acc["area"].tolist()[0] == "Hamnen"
    assert acc["source"].tolist()[:2] == ["kommun", "polis"]
    assert out.warnings == []


def test_unknown_category_fallback_and_aggregated_warning() -> None:
    rows = [inc_row(Kategori="tjuvjakt"), inc_row(Kategori="Tjuvjakt"),
            inc_row(Kategori=" tjuvjakt"), inc_row(Kategori="älgolycka"),
            inc_row(Kategori="klotter")]
    out = incidents(*rows)
    acc = out.accepted
    assert acc["category"].tolist() == ["övrigt"] * 4 + ["klotter"]
    assert acc["category_raw"].tolist() == ["tjuvjakt", "Tjuvjakt", "tjuvjakt", "älgolycka", ""]
    assert "3 rader: okänd kategori 'tjuvjakt' sparas som 'övrigt'" in out.warnings
    assert "1 rad: okänd kategori 'älgolycka' sparas som 'övrigt'" in out.warnings
    assert len(out.warnings) == 2


def test_rejected_rows_not_counted_in_category_warning() -> None:
    out = incidents(inc_row(Kategori="tjuvjakt"), inc_row(Kategori="tjuvjakt", Tidpunkt="x"))
    assert out.warnings == ["1 rad: okänd kategori 'tjuvjakt' sparas som 'övrigt'"]


def test_has_time_and_date_formats_in_validation() -> None:
    out = incidents(inc_row(Tidpunkt="2024-05-01"), inc_row(Tidpunkt="1.5.2024 8:15"),
                    inc_row(Tidpunkt="20240501"), inc_row(Tidpunkt="2024-05-01T08:15:30"))
    acc = out.accepted
    assert acc["occurred_at_has_time"].tolist() == [False, True, False, True]
    assert acc["occurred_at"].tolist() == [pd.Timestamp("2024-05-01"),
                                           pd.Timestamp("2024-05-01 08:15"),
                                           pd.Timestamp("2024-05-01"),
                                           pd.Timestamp("2024-05-01 08:15:30")]


def test_traffic_defaults_ints_and_date_kind() -> None:
    headers = ["Datum", "Plats", "Kontrolltyp", "Kontrollerade fordon", "Fortkörning"]
    out = validate(raw(headers, [["2024-05-01 10:30", "Hamnen", "Hastighetskontroll",
                                  "1 234", "12"],
                                 ["2024-05-02", "Hamnen", "laser", "10", ""]]),
                   TRAFFIC, today=TODAY)
    acc = out.accepted
    assert acc["date"].tolist() == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-05-02")]
    assert acc["vehicles_checked"].tolist() == [1234, 10]
    assert acc["speeding"].tolist() == [12, 0]
    assert (acc["drunk_driving"] == 0).all() and (acc["fines"] == 0).all()
    assert acc["control_type"].tolist() == ["hastighet", "övrigt"]
    assert acc["control_type_raw"].tolist() == ["", "laser"]
    for name in ("vehicles_checked", "speeding", "fines"):
        assert acc[name].dtype == np.int64
    assert acc["date"].dtype == np.dtype("datetime64[us]")


def test_survey_shares_percent_and_defaults() -> None:
    rows = [["2024", "Andel otrygga", "12,3 %", "1 200"],
            ["2024", "bråk och stök", "0,25", "800"]]
    out = validate(raw(SURVEY_HEADERS, rows), SURVEY, today=TODAY)
    acc = out.accepted
    np.testing.assert_allclose(acc["share"], [0.123, 0.25])
    assert acc["indicator"].tolist() == ["otrygg_kvall", "problem_brak"]
    assert acc["group"].tolist() == ["Totalt", "Totalt"]
    assert acc["area"].tolist() == ["Hela kommunen", "Hela kommunen"]
    assert acc["n"].tolist() == [1200, 800]
    assert acc["year"].dtype == np.int64 and acc["share"].dtype == np.float64

    pct = validate(raw(SURVEY_HEADERS, [["2024", "otrygghet", "23", "10"],
                                        ["2023", "otrygghet", "19,5", "10"]]), SURVEY,
                   today=TODAY)
    np.testing.assert_allclose(pct.accepted["share"], [0.23, 0.195])


def test_survey_responses_weight_default() -> None:
    headers = ["År", "Område", "Kön", "Åldersgrupp", "Trygghet sent en kväll", "Vikt"]
    out = validate(raw(headers, [["2024", "Centrum", "K", "16-29", "2", ""],
                                 ["2024", "Centrum", "M", "65+", "ganska otrygg", "1,5"]]),
                   SURVEY_RESPONSES, today=TODAY)
    acc = out.accepted
    assert acc["weight"].tolist() == [1.0, 1.5]
    assert acc["gender"].tolist() == ["kvinna", "man"]
    assert acc["safety_evening"].tolist() == ["ganska trygg", "ganska otrygg"]
    assert acc["problem_klotter"].tolist() == ["", ""]


# --------------------------------------------------------------------------- privacy

def test_personnummer_masked_in_accepted_and_rejected() -> None:
    out = incidents(
        inc_row(Beskrivning="Anmälare 19800101-1234 ringde"),
        inc_row(Beskrivning="Vittne 850505-1111", Tidpunkt="ogiltig"),
        inc_row(Tidpunkt="800101-1234"),
    )
    assert out.accepted["description"].tolist() == [f"Anmälare {MASK} ringde"]
    rejected = out.rejected
    assert len(rejected) == 2
    text = " ".join(rejected[["value", "reason", "raw"]].astype(str).to_numpy().ravel())
    assert "1234" not in text and "850505" not in text
    assert MASK in rejected.iloc[0]["raw"]
    assert rejected.iloc[1]["value"] == MASK


def test_activities_notes_masked() -> None:
    headers = ["Datum", "Aktivitet", "Anteckningar"]
    out = validate(raw(headers, [["2024-05-01", "Trygghetsvandring", "Kontakt: 8001011234"]]),
                   ACTIVITIES, today=TODAY)
    assert out.accepted["notes"].tolist() == [f"Kontakt: {MASK}"]
    assert out.accepted["activity_type"].tolist() == ["trygghetsvandring"]


# --------------------------------------------------------------------------- record ids

def _ids(headers: list[str], rows: list[list[str]], dataset=INCIDENTS) -> list[str]:
    return validate(raw(headers, rows), dataset, today=TODAY).accepted["record_id"].tolist()


def test_record_id_from_incident_id_else_hash() -> None:
    ids = _ids(INC_HEADERS, [inc_row(**{"Händelse-id": "  EST-7 "}), inc_row()])
    assert ids[0] == "EST-7"
    assert re.fullmatch(r"h[0-9a-f]{16}", ids[1])


def test_record_id_stable_across_order_columns_case_whitespace() -> None:
    rows = [inc_row(Kategori="Klotter", Tidpunkt="2024-05-01 12:00"),
            inc_row(Kategori="brand", Latitud="58,3", Longitud="14,3", Beskrivning="Rök"),
            inc_row(Kategori="tjuvjakt", Tidpunkt="2024-05-02")]
    base = _ids(INC_HEADERS, rows)
    # reversed rows
    assert _ids(INC_HEADERS, rows[::-1]) == base[::-1]
    # other column order, other header spellings, case/whitespace/synonyms/format variants
    headers = ["Beskrivning", "Källa", "Plats", "Typ", "Datum", "Lng", "Latitud"]
    variants = [["", "Polisen", " Centrum", "klotter ", "2024-05-01T12:00", "", ""],
                ["Rök", "polis", "Centrum", "Anlagd brand", "1.5.2024 12:00", "14.30",
                 "58.30"],
                ["", "polis", "Centrum", "TJUVJAKT", "20240502", "", ""]]
    assert _ids(headers, variants) == base
    assert len(set(base)) == 3


@pytest.mark.parametrize("change", [
    {"Tidpunkt": "2024-05-01 12:01"}, {"Tidpunkt": "2024-05-01"}, {"Kategori": "brand"},
    {"Område": "Hamnen"}, {"Rapportör": "skola"}, {"Beskrivning": "x"},
    {"Latitud": "58,3", "Longitud": "14,3"}, {"Kategori": "annan okänd"},
])
def test_record_id_changes_with_content(change: dict[str, str]) -> None:
    rows = [inc_row(Kategori="okänd"), inc_row(**{"Kategori": "okänd", **change})]
    a, b = _ids(INC_HEADERS, rows)
    assert a != b


def test_record_id_other_datasets_and_duplicates_share_id() -> None:
    rows = [["2024", "otrygg_kvall", "0,2", "100"], ["2024", "otrygg_kvall", "0,2", "100"],
            ["2024", "otrygg_kvall", "0,2", "101"], ["2024", "Otrygghet", "20 %", "100"]]
    ids = _ids(SURVEY_HEADERS, rows, SURVEY)
    assert ids[0] == ids[1] == ids[3]
    assert ids[2] != ids[0]
    assert all(re.fullmatch(r"h[0-9a-f]{16}", i) for i in ids)


def test_record_id_same_in_fresh_interpreter() -> None:
    """No dependence on Python's per-process hash seed (same id on every run/machine)."""
    code = (
        "import numpy as np, pandas as pd\n"
        "from datetime import date\n"
        "from hjo_data.validation import validate\n"
        "from hjo_data.schema import SURVEY\n"
        "from types import SimpleNamespace as NS\n"
        "f = pd.DataFrame([['2024','bråk','12,5 %','300','Flickor']],\n"
        "                 columns=['År','Indikator','Andel','Antal svar','Grupp'], dtype='str')\n"
        "raw = NS(file_name='a.csv', frame=f, lines=np.array([2]), structural_errors=[])\n"
        "print(validate(raw, SURVEY, today=date(2024, 6, 1)).accepted['record_id'][0])\n"
    )
    outs = set()
    for seed in ("12345",):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True, timeout=60)
        outs.add(res.stdout.strip())
    here = _ids(["Grupp", "Antal svar", "Andel", "Indikator", "År"],
                [["Flickor", "300", "0,125", "bråk och stök", "2024"]], SURVEY)
    assert outs == {here[0]}


def test_reason_names_the_files_own_header_and_our_label() -> None:
    headers = ["Datum", "Kategori", "Område", "Källa"]
    rows = [["2024-13-01", "klotter", "Hamnen", "polis"],
            ["2024-05-01", "klotter", "Hamnen", "polis"]]
    result = validate(raw(headers, rows), INCIDENTS, today=date(2024, 6, 1))
    assert result.rejected["column"].tolist() == ["Datum (Tidpunkt)"]
    assert "'Datum (Tidpunkt)'" in result.rejected["reason"].iloc[0]


def test_reason_uses_plain_label_when_the_header_is_our_label() -> None:
    headers = ["tidpunkt", "Kategori", "Område", "Rapportör"]
    result = validate(raw(headers, [["2024-13-01", "klotter", "Hamnen", "polis"]]),
                      INCIDENTS, today=date(2024, 6, 1))
    assert result.rejected["column"].tolist() == ["Tidpunkt"]


def _mixed_incident_rows() -> list[list[str]]:
    """Rows hitting several rejection reasons in several columns, plus valid ones."""
    rows = [
        inc_row(),
        inc_row(**{"Händelse-id": "E-1", "Latitud": "58,3", "Longitud": "14,28"}),
        inc_row(Tidpunkt="inte ett datum"),
        inc_row(Tidpunkt="1999-12-31"),
        inc_row(Kategori="", Område=""),
        inc_row(Rapportör="okänd källa"),
        inc_row(Latitud="58,3"),
        inc_row(Latitud="x", Tidpunkt="fel"),
        inc_row(Beskrivning="ring 19900101-1234 " + "å" * 20),
        inc_row(Beskrivning="x" * 10_001),
        inc_row(Kategori="  Klotter ", Område=" hamnen"),
        inc_row(),  # identical to the first: distinct record (ordinal) id
    ]
    return rows * 3


def test_parallel_column_preparation_gives_the_sequential_result(monkeypatch) -> None:
    """Large files prepare columns on threads; the result must not depend on it."""
    import hjo_data.validation as validation_mod

    table = raw(INC_HEADERS, _mixed_incident_rows())
    monkeypatch.setattr(validation_mod, "PARALLEL_MIN_ROWS", 10**9)
    sequential = validate(table, INCIDENTS, today=TODAY)
    calls: list[int] = []
    real_map = validation_mod._map_columns

    def spy(func, columns, n):
        calls.append(n)
        return real_map(func, columns, n)

    monkeypatch.setattr(validation_mod, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(validation_mod, "_map_columns", spy)
    parallel = validate(table, INCIDENTS, today=TODAY)
    assert calls == [len(table.frame)]
    # the sequential run must have rejected rows for several columns, else this is moot
    assert sequential.rejected["column"].nunique() >= 4
    assert len(sequential.accepted) > 0
    pd.testing.assert_frame_equal(parallel.accepted, sequential.accepted)
    pd.testing.assert_frame_equal(parallel.rejected, sequential.rejected)
    assert parallel.warnings == sequential.warnings


def test_map_columns_threads_only_large_inputs_and_keeps_order(monkeypatch) -> None:
    import threading

    import hjo_data.validation as validation_mod

    seen: list[str] = []

    def func(col):
        seen.append(threading.current_thread().name)
        return col.name

    cols = list(INCIDENTS.columns)
    small = validation_mod._map_columns(func, cols, validation_mod.PARALLEL_MIN_ROWS - 1)
    assert small == [c.name for c in cols]
    assert set(seen) == {threading.current_thread().name}
    seen.clear()
    large = validation_mod._map_columns(func, cols, validation_mod.PARALLEL_MIN_ROWS)
    assert large == [c.name for c in cols]
    assert all(name.startswith("validate") for name in seen)
