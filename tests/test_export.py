"""Tests for hjo_data.export: Excel-safe CSV and audience-aware dataset/aggregate export."""

from __future__ import annotations

import csv
import io
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from hjo_data import export as e
from hjo_data.disclosure import DisclosureError, DisclosureSettings, RowLevelNotPublicError
from tests.conftest import plausibly_published

BOM = b"\xef\xbb\xbf"


def parse(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig",
                       keep_default_na=False, na_values=[""])


def rows(data: bytes) -> list[list[str]]:
    """The raw cells as a spreadsheet would split them."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("-5", "'-5"),  # text that looks like a number is still text
        ("Hjo centrum", "Hjo centrum"),
        ("a=b", "a=b"),
        ("", ""),
        ("Åsa Öberg", "Åsa Öberg"),
    ],
)
def test_neutralise_cell(raw: str, expected: str) -> None:
    assert e.neutralise_cell(raw) == expected


def test_csv_injection_cells_and_numbers_in_file() -> None:
    frame = pd.DataFrame({
        "text": ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\ry", "vanlig text"],
        "int": [-5, 0, 1234567, 3, -1, 2, 7],
        "float": [-2.5, 0.1, 1234.75, 1e-5, -0.0, 3.0, np.nan],
    })
    data = e.to_csv_bytes(frame)
    cells = rows(data)
    assert cells[0] == ["text", "int", "float"]
    body = cells[1:]
    assert [r[0] for r in body] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\ry",
                                    "vanlig text"]
    # Numbers are written as numbers: sign kept, no quote, decimal comma, no grouping.
    assert [r[1] for r in body] == ["-5", "0", "1234567", "3", "-1", "2", "7"]
    assert [r[2] for r in body] == ["-2,5", "0,1", "1234,75", "0,00001", "-0", "3", ""]
    # No cell a spreadsheet reads starts with a formula character unless it is a number.
    for r in body:
        for cell in r:
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                float(cell.replace(",", "."))  # must be a plain number


def test_bom_delimiter_and_line_ends() -> None:
    data = e.to_csv_bytes(pd.DataFrame({"Område": ["Hjo", "Korsberga"], "Antal": [1, 2]}))
    assert data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8")
    assert text.splitlines()[0] == "Område;Antal"
    assert "\r\n" in text and text.count(";") == 3


def test_round_trip_with_pandas() -> None:
    frame = pd.DataFrame({
        "area": ["Hjo; centrum", 'Citat "x"', "Rad\nbrytning", "Fågelås"],
        "count": [1, -20, 300, 4000],
        "share": [0.125, 0.5, 0.333, 1.0],
        "date": pd.to_datetime(["2024-05-01", "2024-01-31", "2023-12-31", "2024-02-29"]),
    })
    back = parse(e.to_csv_bytes(frame))
    assert back["area"].tolist() == frame["area"].tolist()
    assert back["count"].tolist() == frame["count"].tolist()
    np.testing.assert_allclose(back["share"].to_numpy(), frame["share"].to_numpy())
    assert back["date"].tolist() == ["2024-05-01", "2024-01-31", "2023-12-31", "2024-02-29"]


def test_dates_times_bools_missing_and_headers() -> None:
    frame = pd.DataFrame({
        "=tid": pd.to_datetime(["2024-05-01 14:30", None]),
        "dag": pd.to_datetime(["2024-05-01", "2024-05-02"]),
        "flagga": [True, False],
        "text": [None, "ok"],
    })
    cells = rows(e.to_csv_bytes(frame))
    assert cells[0] == ["'=tid", "dag", "flagga", "text"]
    assert cells[1] == ["2024-05-01 14:30", "2024-05-01", "ja", ""]
    assert cells[2] == ["", "2024-05-02", "nej", "ok"]


def test_mixed_object_and_nullable_columns() -> None:
    frame = pd.DataFrame({
        "mixed": pd.Series(["=1", 5, -2.5, None], dtype=object),
        "nullable": pd.array([1, None, -3, 4], dtype="Int64"),
        "cat": pd.Categorical(["@x", "a", "a", "-b"]),
    })
    cells = rows(e.to_csv_bytes(frame))[1:]
    assert [r[0] for r in cells] == ["'=1", "5", "-2,5", ""]
    assert [r[1] for r in cells] == ["1", "", "-3", "4"]
    assert [r[2] for r in cells] == ["'@x", "a", "a", "'-b"]


def test_index_option_and_empty_frame() -> None:
    t = pd.DataFrame({"Antal": [3]}, index=pd.Index(["Hjo"], name="Område"))
    assert rows(e.to_csv_bytes(t, index=True)) == [["Område", "Antal"], ["Hjo", "3"]]
    assert rows(e.to_csv_bytes(pd.DataFrame({"a": []}))) == [["a"]]


# --------------------------------------------------------------------------- datasets

PLANTED = "PLANTED-91b2e"
LAT, LON = 58.3048213, 14.2851977


def incidents() -> pd.DataFrame:
    areas = ["Centrum"] * 12 + ["Hamnen"] * 7 + ["Korsberga"] * 2
    cats = (["klotter"] * 6 + ["skadegörelse"] * 6 + ["klotter"] * 5 + ["skadegörelse"] * 2
            + ["klotter", "skadegörelse"])
    n = len(areas)
    return pd.DataFrame({
        "incident_id": [f"EST-{i}" for i in range(n)],
        "occurred_at": pd.date_range("2024-05-01 08:00", periods=n, freq="7h"),
        "category": cats,
        "category_raw": cats,
        "area": areas,
        "source": ["polis"] * n,
        "lat": [LAT] * n,
        "lon": [LON] * n,
        "description": [f"Anmälare {PLANTED}-{i}" for i in range(n)],
        "record_id": [f"rid{i}" for i in range(n)],
        "batch_id": ["b"] * n,
    })


def test_official_dataset_export_has_everything_with_labels() -> None:
    data = e.export_dataset(incidents(), "incidents", "official")
    text = data.decode("utf-8-sig")
    assert PLANTED in text  # sanity: the planted strings are really in the data
    header = rows(data)[0]
    assert header[:3] == ["Händelse-id", "Tidpunkt", "Kategori"]
    assert "Beskrivning" in header and "Post-id" in header
    assert not [h for h in header if "_" in h], header  # no canonical English names


def test_official_export_can_be_ingested_again_with_every_column_recognised() -> None:
    from hjo_data.reading import map_headers, read_raw
    from hjo_data.schema import INCIDENTS

    raw = read_raw(e.export_dataset(incidents(), "incidents", "official"), name="export.csv")
    mapping = map_headers(raw.frame.columns, INCIDENTS)
    present = {"incident_id", "occurred_at", "category", "area", "source", "lat", "lon",
               "description"}
    assert present <= set(mapping.columns.values())
    assert not mapping.missing_required
    # bookkeeping/derived columns are ignored, never mistaken for a canonical column
    assert {"Post-id", "Inläsning (batch-id)", "Originaltext för kategori"} <= set(
        mapping.unknown)


def test_public_row_level_export_is_refused() -> None:
    for name in ("incidents", "activities", "traffic", "survey_responses"):
        with pytest.raises(RowLevelNotPublicError):
            e.export_dataset(incidents(), name, "public")
    with pytest.raises(ValueError):
        e.export_dataset(incidents(), "incidents", "alla")


def test_public_survey_export_hides_small_n() -> None:
    survey = pd.DataFrame({
        "year": [2023, 2023], "indicator": ["otrygg_kvall"] * 2, "group": ["Totalt", "Män"],
        "area": ["Hela kommunen"] * 2, "share": [0.21, 0.4], "n": [450, 12],
        "record_id": ["x", "y"], "batch_id": ["b", "b"],
    })
    data = e.export_dataset(survey, "survey", "public")
    cells = rows(data)
    assert cells[0] == ["År", "Indikator", "Grupp", "Område", "Andel", "Antal svar"]
    assert cells[1][4] == "0,21" and cells[2][4] == ""
    assert cells[2][5] == "12"
    stricter = rows(e.export_dataset(survey, "survey", "public",
                                     DisclosureSettings(min_survey_n=500)))
    assert stricter[1][4] == ""


def test_public_aggregate_never_contains_planted_values() -> None:
    frame = incidents()
    for by in (["area"], ["area", "category"], ["category"]):
        data = e.export_aggregate(frame, "incidents", by, "public")
        text = data.decode("utf-8-sig")
        assert PLANTED not in text and "EST-" not in text
        assert f"{LAT}".replace(".", ",") not in text and f"{LON}".replace(".", ",") not in text
        assert str(LAT) not in text


@pytest.mark.parametrize("by", [["description"], ["lat"], ["incident_id"], ["category_raw"],
                                ["occurred_at"], ["area", "record_id"]])
def test_public_aggregate_refuses_private_or_row_level_grouping(by: list[str]) -> None:
    with pytest.raises(DisclosureError):
        e.export_aggregate(incidents(), "incidents", by, "public")


def test_aggregate_counts_match_independent_count() -> None:
    frame = incidents()
    expected = Counter(zip(frame["area"], frame["category"], strict=True))
    cells = rows(e.export_aggregate(frame, "incidents", ["area", "category"], "official"))
    header = cells[0]
    assert header == ["Område", "skadegörelse", "klotter", "Totalt"]  # vocabulary order
    got = {}
    for r in cells[1:]:
        for cat, cell in zip(header[1:3], r[1:3], strict=True):
            got[(r[0], cat)] = int(cell)
    for key, n in expected.items():
        assert got[key] == n
    last = cells[-1]
    assert last[0] == "Totalt" and int(last[3]) == len(frame)


def test_public_aggregate_perturbs() -> None:
    """Public counts are perturbed by cell key (docs/PRIVACY.md; this test replaced the
    secondary-suppression one): no ".." any more, every "Totalt" published on its own."""
    # Centrum 6/6, Hamnen 5/2, Korsberga 1/1 (by hand from incidents()).
    cells = rows(e.export_aggregate(incidents(), "incidents", ["area", "category"], "public"))
    header = cells[0][1:]
    table = {r[0]: dict(zip(header, r[1:], strict=True)) for r in cells[1:]}
    truth = {"Centrum": {"skadegörelse": 6, "klotter": 6, "Totalt": 12},
             "Hamnen": {"skadegörelse": 2, "klotter": 5, "Totalt": 7},
             "Korsberga": {"skadegörelse": 1, "klotter": 1, "Totalt": 2},
             "Totalt": {"skadegörelse": 9, "klotter": 12, "Totalt": 21}}
    assert set(table) == set(truth)
    for area, row in truth.items():
        for col, n in row.items():
            assert plausibly_published(table[area][col], n), (area, col, table[area][col])
    assert table["Korsberga"] == {"skadegörelse": "<5", "klotter": "<5", "Totalt": "<5"}
    assert table["Hamnen"]["skadegörelse"] == "<5"
    assert not any(".." in r for r in cells)


def test_aggregate_single_column_and_value_sum() -> None:
    traffic = pd.DataFrame({"area": ["Hjo", "Hjo", "Fågelås"], "control_type": ["hastighet"] * 3,
                            "vehicles_checked": [40, 25, 3]})
    official = rows(e.export_aggregate(traffic, "traffic", ["area"], "official",
                                       value="vehicles_checked"))
    assert official == [["Område", "Antal"], ["Fågelås", "3"], ["Hjo", "65"],
                        ["Totalt", "68"]]
    public = rows(e.export_aggregate(traffic, "traffic", ["area"], "public",
                                     value="vehicles_checked"))
    # Fågelås 3 is small; the published total 68 would give it away via 68 - 65.
    assert public == [["Område", "Antal"], ["Fågelås", "<5"], ["Hjo", ".."],
                      ["Totalt", "68"]]


def test_official_export_of_a_filtered_selection_reads_back_without_rejections(
        tmp_path) -> None:  # noqa: ANN001
    """The Händelser page's "all incidents in the selection" file: demo incidents filtered
    like the page, exported, then read in again (dry run) - every row, none rejected."""
    from datetime import date

    from hjo_data import demo
    from hjo_data.filters import Filters, apply_filters
    from hjo_data.ingest import prepare_ingest
    from hjo_data.store import Store

    frame = demo.generate(rows=3_000, today=date(2024, 12, 31))["incidents"]
    area = frame["area"].mode().iloc[0]
    selection = apply_filters(frame, "incidents", Filters(
        start=date(2024, 3, 1), end=date(2024, 8, 31), areas=(area,)))
    assert 0 < len(selection) < len(frame)
    data = e.export_dataset(selection, "incidents", "official")
    prepared = prepare_ingest(data, name="urval.csv", store=Store(tmp_path / "store"))
    assert prepared.dataset.name == "incidents"
    assert prepared.validated.rejected.empty
    assert prepared.rows_read == len(prepared.validated.accepted) == len(selection)
    assert sorted(prepared.validated.accepted["incident_id"]) == sorted(
        selection["incident_id"])


def test_official_export_keeps_which_incidents_had_a_time_of_day(tmp_path) -> None:  # noqa: ANN001
    """A date-only incident must not come back from an export as '00:00 with a time'."""
    from hjo_data.ingest import prepare_ingest
    from hjo_data.store import Store

    frame = incidents().head(3).assign(
        occurred_at=pd.to_datetime(["2024-05-01 00:00", "2024-05-02 10:30",
                                    "2024-05-03 00:00"]),
        occurred_at_has_time=[False, True, True])  # midnight on purpose: a real time
    data = e.export_dataset(frame, "incidents", "official")
    cells = [r[1] for r in rows(data)[1:]]
    assert cells == ["2024-05-01", "2024-05-02 10:30", "2024-05-03 00:00"]
    back = prepare_ingest(data, name="export.csv", store=Store(tmp_path)).validated.accepted
    assert back["occurred_at_has_time"].tolist() == [False, True, True]
    assert back["occurred_at"].tolist() == frame["occurred_at"].tolist()


def test_chunked_export_formats_every_chunk_like_the_whole(monkeypatch) -> None:  # noqa: ANN001
    """A large export is written in chunks; a column whose only time of day is in the last
    chunk still gets the clock in every chunk, and the bytes equal a one-chunk export."""
    frame = pd.DataFrame({
        "Tidpunkt": pd.to_datetime(["2024-05-01 00:00", "2024-05-02 00:00", "2024-05-03 14:30"]),
        "Text": ["=SUM(A1)", "vanlig", None], "Antal": [1, 2, 3]})
    whole = e.to_csv_bytes(frame)
    monkeypatch.setattr(e, "CHUNK_ROWS", 1)
    assert e.to_csv_bytes(frame) == whole
    cells = [r[0] for r in rows(whole)[1:]]
    assert cells == ["2024-05-01 00:00", "2024-05-02 00:00", "2024-05-03 14:30"]
    assert rows(whole)[1][1] == "'=SUM(A1)"
