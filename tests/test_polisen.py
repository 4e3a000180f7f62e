"""Polisen's events feed -> incidents (hjo_data.polisen): exact values from the recorded
feed in tests/recorded.py (hand-checked there)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import polisen
from hjo_data.cli import main
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import ingest_file
from hjo_data.ingest_log import log_table
from hjo_data.reference import ReferenceDataError
from hjo_data.schema import INCIDENT_CATEGORIES, WHOLE_MUNICIPALITY
from hjo_data.store import Store
from tests.conftest import ROOT
from tests.recorded import (
    FEED_EVENTS,
    FEED_EXPECTED,
    FEED_REJECTED,
    FEED_SKIPPED,
    GPS_HJO,
    NEW_EVENT,
    event,
    feed_bytes,
)

TYPE_LIST = ROOT / "data" / "reference" / "polisen_event_types.csv"


# ----------------------------------------------------------------------------- the table

def test_every_listed_type_is_mapped_or_skipped_with_a_reason() -> None:
    with TYPE_LIST.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 97
    assert len({r["type"] for r in rows}) == 97
    for row in rows:
        assert row["category"] in (*INCIDENT_CATEGORIES, "skip"), row
        if row["category"] == "skip":
            assert row["note"] in ("sammanfattning", "ej händelse"), row
    summaries = [r["type"] for r in rows if r["type"].startswith("Sammanfattning")]
    assert len(summaries) == 8
    assert all(r["category"] == "skip" for r in rows if r["type"] in summaries)
    # the real list has "Lagen om hundar och katter " (trailing space): found either way
    table = polisen.load_event_types(TYPE_LIST)
    assert table[polisen._type_key("Lagen om hundar och katter ")].category == "övrigt"
    assert table["trafikolycka, personskada"].category == "trafik"


def test_a_broken_table_is_refused_in_swedish(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("type,category,note\nBrand,eld,\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="rad 2: okänd kategori 'eld'"):
        polisen.load_event_types(bad)
    bad.write_text("type,category,note\nInformation,skip,\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="saknar skäl"):
        polisen.load_event_types(bad)


# ----------------------------------------------------------------------------- time

@pytest.mark.parametrize(("stamp", "local"), [
    ("2023-06-14 9:41:16 +02:00", "2023-06-14 09:41:16"),     # summer, non-padded hour
    ("2025-06-07 7:32:06 +02:00", "2025-06-07 07:32:06"),
    ("2024-01-05 0:00:01 +01:00", "2024-01-05 00:00:01"),     # winter, midnight
    ("2024-12-31 23:59:59 +01:00", "2024-12-31 23:59:59"),
    ("2024-07-01 10:00:00 +00:00", "2024-07-01 12:00:00"),    # UTC -> summer time
    ("2024-01-01 10:00:00 +00:00", "2024-01-01 11:00:00"),    # UTC -> winter time
])
def test_local_time(stamp: str, local: str) -> None:
    assert polisen.local_time(stamp) == local


@pytest.mark.parametrize("stamp", ["", "2023-06-14", "2023-06-14 09:41", "igår", None])
def test_local_time_refuses_other_shapes(stamp: object) -> None:
    assert polisen.local_time(stamp) is None


def test_urls_and_ids() -> None:
    assert polisen.absolute_url("/aktuellt/x/") == "https://polisen.se/aktuellt/x/"
    assert polisen.absolute_url("https://polisen.se/a/") == "https://polisen.se/a/"
    assert polisen.absolute_url("javascript:alert(1)") == ""
    assert polisen.incident_id(512345) == "polisen-512345"
    assert polisen.incident_id(None) == ""


# ----------------------------------------------------------------------------- parsing

def test_parse_feed_exact_rows() -> None:
    result = polisen.parse_feed(feed_bytes(), "events.json")
    raw = result.table
    assert raw.rows_read == len(FEED_EVENTS) == 14
    assert raw.skipped == FEED_SKIPPED
    assert len(raw.structural_errors) == 1 and raw.structural_errors[0].line == 12
    frame = raw.frame
    assert list(frame.columns) == list(polisen.FEED_COLUMNS)
    assert frame["incident_id"].tolist() == [
        "polisen-600012", "polisen-600010", "polisen-600007", "polisen-600006",
        "polisen-600005", "polisen-600004", "polisen-600002", "polisen-600001"]
    assert raw.lines.tolist() == [1, 3, 6, 7, 8, 9, 11, 13]
    assert set(frame["area"]) == {WHOLE_MUNICIPALITY}
    assert set(frame["source"]) == {"polis"}
    assert result.unmapped == {"Drönarlarm": 1}
    assert result.newest == "2025-01-15 22:05:00"
    assert any("Drönarlarm" in w and "övrigt" in w for w in raw.warnings)
    # the gps of the town centre never becomes a value
    assert not frame.apply(lambda col: col.str.contains("58.30")).any().any()


def test_other_municipality_by_argument() -> None:
    raw = polisen.parse_feed(feed_bytes(), municipality="Skövde").table
    assert raw.frame["incident_id"].tolist() == ["polisen-600009"]
    # the 8 Hjo events (positions 1 3 6 7 8 9 11 13) are now "annan kommun"; summaries and
    # the control stay what they are, position 12 is still a structural error
    assert raw.skipped == {"sammanfattning": 2, "annan kommun": 8, "länsnivå": 1,
                           "ej händelse": 1}


def test_unknown_summary_type_and_missing_location_are_skipped() -> None:
    events = [event(1, "2024-01-01 8:00:00 +01:00", "Sammanfattning morgon", "Hjo"),
              {**event(2, "2024-01-01 9:00:00 +01:00", "Brand", "Hjo"), "location": None}]
    raw = polisen.parse_feed(feed_bytes(events)).table
    assert raw.skipped == {"sammanfattning": 1, "annan kommun": 1}
    assert raw.rows_read == 2


@pytest.mark.parametrize("data", [b"[{", b'{"id": 1}', "[\"\xe5\"]".encode("latin-1")])
def test_broken_feed_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="x.json: Polisens händelseflöde"):
        polisen.parse_feed(data, "x.json")


def test_sniff() -> None:
    assert polisen.sniff_feed(feed_bytes(), "x.json")
    assert polisen.sniff_feed(b"\xef\xbb\xbf\n " + feed_bytes(), "x.json")
    assert not polisen.sniff_feed(b"[]", "x.json")
    assert not polisen.sniff_feed(b'[{"kategori": "brand", "datum": "2024-01-01"}]', "x")
    assert not polisen.sniff_feed(b"datetime;type;location\n", "x.csv")


# ----------------------------------------------------------------------------- ingest

def _stored(store: Store) -> pd.DataFrame:
    return store.read("incidents").set_index("incident_id")


def test_ingest_feed_exact_values(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    path = tmp_path / "events.json"
    path.write_bytes(feed_bytes())
    report = ingest_file(path, store=store, today=pd.Timestamp("2025-03-01").date())
    assert report.dataset == "incidents"
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates,
            report.skipped) == (14, 7, FEED_REJECTED, 0, 5)
    assert report.skipped_reasons == FEED_SKIPPED
    assert {e.line for e in report.errors} == {11, 12}
    stored = _stored(store)
    assert sorted(stored.index) == sorted(FEED_EXPECTED)
    for incident, (when, category) in FEED_EXPECTED.items():
        assert stored.loc[incident, "occurred_at"] == pd.Timestamp(when), incident
        assert stored.loc[incident, "category"] == category, incident
        assert bool(stored.loc[incident, "occurred_at_has_time"])
    assert stored.loc["polisen-600007", "category_raw"] == "Drönarlarm"
    assert stored["lat"].isna().all() and stored["lon"].isna().all()
    assert "19850101-1234" not in stored.loc["polisen-600012", "description"]
    assert stored.loc["polisen-600010", "description"] == "Bil i diket på väg 195."
    log = log_table(store.ingest_log())
    assert log[["Lästa", "Sparade", "Avvisade", "Dubbletter", "Överhoppade"]].iloc[0].tolist() \
        == [14, 7, 2, 0, 5]
    text = stored.astype(str).to_csv()
    assert GPS_HJO not in text and "58.30159" not in text and "polisen.se" not in text


def test_refetch_gives_duplicates_not_new_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    first = ingest_file(feed_bytes(), name="a.json", store=store)
    second = ingest_file(feed_bytes([NEW_EVENT, *FEED_EVENTS]), name="b.json", store=store)
    assert (first.accepted, first.duplicates) == (7, 0)
    assert (second.rows_read, second.accepted, second.duplicates, second.skipped,
            second.rejected) == (15, 1, 7, 5, 2)
    assert len(store.read("incidents")) == 8
    stored = _stored(store)
    assert stored.loc["polisen-600013", "occurred_at"] == pd.Timestamp("2025-02-01 07:32:06")


def test_cli_ingest_json_recognises_the_feed(tmp_path: Path, capsys) -> None:
    path = tmp_path / "feed.json"
    path.write_bytes(feed_bytes())
    code = main(["ingest", str(path), "--json", "--store", str(tmp_path / "s")])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # two events rejected
    assert out["dataset"] == "incidents"
    assert out["skipped"] == 5
    assert out["skipped_reasons"] == FEED_SKIPPED
    assert out["accepted"] + out["rejected"] + out["duplicates"] + out["skipped"] \
        == out["rows_read"] == 14
    assert "överhoppade" in out["message"]
    assert GPS_HJO not in json.dumps(out)


def test_only_skipped_events_store_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    events = [event(1, "2024-01-01 8:00:00 +01:00", "Sammanfattning natt", "Hjo"),
              event(2, "2024-01-01 9:00:00 +01:00", "Brand", "Skövde")]
    report = ingest_file(feed_bytes(events), name="f.json", store=store)
    assert (report.rows_read, report.accepted, report.skipped) == (2, 0, 2)
    assert store.read("incidents").empty
    assert np.array_equal(polisen.parse_feed(feed_bytes(events)).table.lines, [])
