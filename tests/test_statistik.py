"""The ``statistik`` dataset: columns, key, revisions with history, skipped counts, the
source-format registry and the geography codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import datasource, formats, geography, reading
from hjo_data.filters import Filters, apply_filters
from hjo_data.ingest import ingest_file, prepare_ingest
from hjo_data.rawtable import RawTable
from hjo_data.schema import DATASETS, get_dataset
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent

HEADER = "Källa;Indikator-id;Indikator;Geografikod;Period;Kön;Värde;Enhet\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


ROWS_2023 = (
    "kolada;N07403;Anmälda våldsbrott;1497;2023;T;512,3;antal/100 000 inv",
    "kolada;N07403;Anmälda våldsbrott;0014;2023;T;988,0;antal/100 000 inv",
    "kolada;N07403;Anmälda våldsbrott;0000;2023;T;1040,1;antal/100 000 inv",
)


# --------------------------------------------------------------------------- schema

def test_statistik_has_exactly_the_issue_columns() -> None:
    ds = get_dataset("statistik")
    assert ds.column_names == (
        "source", "indicator_id", "indicator", "geo_code", "geo_name", "geo_level", "period",
        "gender", "value", "unit", "n", "ci_low", "ci_high", "status", "fetched_at")
    assert ds.stored_columns == (*ds.column_names, "record_id", "batch_id")
    assert ds.key_columns == ("source", "indicator_id", "geo_code", "period", "gender")


def test_record_id_is_the_key_only(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = prepare_ingest(_csv(ROWS_2023[0]), name="a.csv", store=store)
    changed = ROWS_2023[0].replace("512,3", "530,0").replace(";antal/100 000 inv", ";x")
    b = prepare_ingest(_csv(changed), name="b.csv", store=store)
    other_year = prepare_ingest(_csv(ROWS_2023[0].replace(";2023;", ";2022;")), name="c.csv",
                                store=store)
    rid = a.validated.accepted["record_id"].iloc[0]
    assert b.validated.accepted["record_id"].iloc[0] == rid
    assert other_year.validated.accepted["record_id"].iloc[0] != rid


def test_canonical_csv_is_detected_and_typed(tmp_path: Path) -> None:
    report = ingest_file(_csv(*ROWS_2023), name="stat.csv", store=Store(tmp_path))
    assert (report.dataset, report.accepted, report.rejected) == ("statistik", 3, 0)
    stored = Store(tmp_path).read("statistik").sort_values("geo_code")
    assert stored["value"].tolist() == [1040.1, 988.0, 512.3]
    assert stored["period"].tolist() == ["2023"] * 3
    assert stored["n"].isna().all()  # optional and absent: missing, never 0


# --------------------------------------------------------------------------- revisions

def test_identical_reingest_is_all_duplicates(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = ingest_file(_csv(*ROWS_2023), name="k.csv", store=store)
    again = ingest_file(_csv(*ROWS_2023), name="k.csv", store=store)
    assert (first.accepted, first.duplicates, first.revised) == (3, 0, 0)
    assert (again.accepted, again.duplicates, again.revised) == (0, 3, 0)
    assert len(store.read("statistik")) == 3
    assert store.read_history("statistik").empty


def test_changed_value_is_a_revision_kept_in_history(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = ingest_file(_csv(*ROWS_2023), name="prel.csv", store=store)
    revised_rows = (ROWS_2023[0].replace("512,3", "498,7"), ROWS_2023[1], ROWS_2023[2],
                    "kolada;N07403;Anmälda våldsbrott;1497;2024;T;530,0;antal/100 000 inv")
    dry = prepare_ingest(_csv(*revised_rows), name="slutlig.csv", store=store)
    assert (dry.new_rows, dry.revised, dry.duplicates) == (1, 1, 2)
    assert "1 reviderat värde" in dry.message
    report = ingest_file(_csv(*revised_rows), name="slutlig.csv", store=store)
    # 4 rows read: 1 new (2024) + 1 revised (Hjo 2023) stored, 2 unchanged = duplicates
    assert (report.rows_read, report.accepted, report.revised, report.duplicates) == (4, 2, 1, 2)
    assert "varav 1 reviderat värde" in report.message
    assert report.to_dict()["revised"] == 1
    stored = store.read("statistik")
    hjo = stored[(stored["geo_code"] == "1497") & (stored["period"] == "2023")]
    assert hjo["value"].tolist() == [498.7]
    assert hjo["batch_id"].tolist() == [report.batch_id]
    assert len(stored) == 4
    history = store.read_history("statistik")
    assert history["value"].tolist() == [512.3]
    assert history["batch_id"].tolist() == [first.batch_id]
    assert history["replaced_by"].tolist() == [report.batch_id]
    # the revised figure again: nothing changes
    again = ingest_file(_csv(*revised_rows), name="slutlig.csv", store=store)
    assert (again.accepted, again.revised, again.duplicates) == (0, 0, 4)
    assert len(store.read_history("statistik")) == 1


def test_several_revisions_keep_every_earlier_value(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for value in ("100", "101", "102,5"):
        ingest_file(_csv(f"bra;skadegorelse;Skadegörelse;1497;2024;T;{value};antal"),
                    name="bra.csv", store=store)
    assert store.read("statistik")["value"].tolist() == [102.5]
    assert store.read_history("statistik")["value"].tolist() == [100.0, 101.0]


# --------------------------------------------------------------------------- skipped

def _fake_format(skipped: dict[str, int]) -> formats.SourceFormat:
    def sniff(data: bytes, name: str) -> bool:
        return data.startswith(b"FAKESTAT")

    def read(data: bytes, name: str) -> RawTable:
        frame = reading.read_bytes(_csv(*ROWS_2023[:2]), name=name).frame
        return RawTable(name, frame, np.array([3, 4], dtype=np.int64), "utf-8", "",
                        skipped=dict(skipped), parser="fake")

    return formats.SourceFormat("fake", "statistik", sniff, read)


@pytest.fixture
def fake_format(monkeypatch: pytest.MonkeyPatch) -> formats.SourceFormat:
    fmt = _fake_format({"ej publicerad": 2, "annan kommun": 1})
    monkeypatch.setattr(formats, "FORMATS", [fmt, *formats.FORMATS])
    return fmt


def test_skipped_rows_are_counted_and_add_up(tmp_path: Path, fake_format) -> None:
    report = ingest_file(b"FAKESTAT", name="x.json", store=Store(tmp_path))
    assert (report.rows_read, report.accepted, report.skipped) == (5, 2, 3)
    assert report.skipped_reasons == {"ej publicerad": 2, "annan kommun": 1}
    assert report.accepted + report.rejected + report.duplicates + report.skipped == 5
    assert "3 överhoppade (2 ej publicerad, 1 annan kommun)" in report.message
    assert not [w for w in report.warnings if "räknefel" in w]
    data = report.to_dict()
    assert (data["skipped"], data["skipped_reasons"]) == (3, {"ej publicerad": 2,
                                                             "annan kommun": 1})
    entry = Store(tmp_path).log_entries()[-1]
    assert entry["skipped"] == 3


def test_format_is_only_used_for_its_dataset(fake_format) -> None:
    assert formats.find_format(b"FAKESTAT", "x", None) is fake_format
    assert formats.find_format(b"FAKESTAT", "x", "statistik") is fake_format
    assert formats.find_format(b"FAKESTAT", "x", "incidents") is None


def test_a_broken_sniffer_never_breaks_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(data: bytes, name: str) -> bool:
        raise ValueError("bad sniffer")

    bad = formats.SourceFormat("bad", "statistik", boom, lambda d, n: None)  # type: ignore
    monkeypatch.setattr(formats, "FORMATS", [bad])
    raw = reading.read_bytes(_csv(*ROWS_2023), name="s.csv")
    assert raw.rows_read == 3


def test_a_format_registered_again_replaces_the_earlier(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "FORMATS", [])
    first, second = _fake_format({}), _fake_format({"x": 1})
    formats.register(first)
    formats.register(second)
    assert [second] == formats.FORMATS


def test_cli_json_has_skipped_and_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "stat.csv"
    path.write_bytes(_csv(*ROWS_2023, "kolada;N07403;x;1497;2022;T;inte ett tal;antal"))
    proc = subprocess.run(
        [sys.executable, "-m", "hjo_data", "ingest", str(path), "--dataset", "statistik",
         "--json", "--store", str(tmp_path / "store")],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 1, proc.stderr  # one row rejected
    data = json.loads(proc.stdout)
    assert (data["accepted"], data["rejected"], data["skipped"]) == (3, 1, 0)
    assert data["accepted"] + data["rejected"] + data["duplicates"] + data["skipped"] == \
        data["rows_read"] == 4


# --------------------------------------------------------------------------- pages

def test_bundle_exposes_statistik_empty_when_none(tmp_path: Path) -> None:
    ingest_file(b"Datum;Kategori;Omr\xc3\xa5de;K\xc3\xa4lla\n2024-05-01;klotter;Hamnen;polis\n",
                name="inc.csv", store=Store(tmp_path))
    bundle = datasource.load_bundle(tmp_path)
    frame = bundle.frame("statistik")
    assert frame.empty and tuple(frame.columns) == DATASETS["statistik"].stored_columns
    assert bundle.data_date["statistik"] is None


def test_bundle_statistik_date_is_the_last_year_of_the_periods(tmp_path: Path) -> None:
    ingest_file(_csv("fohm;otrygg;Otrygg;0020;2019-2022;T;23,4;procent",
                     "fohm;otrygg;Otrygg;0020;2015-2018;T;21,0;procent"),
                name="f.csv", store=Store(tmp_path))
    bundle = datasource.load_bundle(tmp_path)
    assert str(bundle.data_date["statistik"]) == "2022-12-31"


def test_period_filter_keeps_overlapping_rolling_periods() -> None:
    frame = pd.DataFrame({"period": pd.Series(["2015-2018", "2019-2022", "2023"],
                                              dtype="str")})
    got = apply_filters(frame, "statistik", Filters(start=date(2020, 1, 1),
                                                    end=date(2021, 12, 31)))
    assert got["period"].tolist() == ["2019-2022"]


# --------------------------------------------------------------------------- geography

@pytest.mark.parametrize("text, code", [
    ("Hjo", "1497"), ("Hjo kommun", "1497"), ("Hjos kommun", "1497"), ("1497", "1497"),
    ("1497 Hjo", "1497"), ("  hjo  ", "1497"),
    ("20 Dalarnas län", "0020"), ("Dalarnas län", "0020"), ("Region Dalarna", "0020"),
    ("Västra Götalands län", "0014"), ("0014", "0014"), ("Västra Götaland", "0014"),
    ("Riket", "0000"), ("Sverige", "0000"), ("Hela landet", "0000"), ("0000", "0000"),
    ("Stockholm", "0180"), ("Stockholms kommun", "0180"), ("Stockholms län", "0001"),
    ("Gotland", "0980"), ("Gotlands län", "0009"), ("Malmö stad", "1280"),
    ("Upplands Väsby", "0114"),
])
def test_names_resolve_to_codes(text: str, code: str) -> None:
    place = geography.resolve(text)
    assert place is not None and place.code == code


@pytest.mark.parametrize("text", ["Xyzby", "", "1497 Skövde", "9999", "Hjo centrum"])
def test_unknown_names_do_not_resolve(text: str) -> None:
    assert geography.resolve(text) is None


def test_levels_names_and_counties() -> None:
    assert [geography.geo_level(c) for c in ("1497", "0014", "0000", "9999")] == [
        "kommun", "lan", "riket", "annan"]
    assert geography.name_of("1497") == "Hjo"
    assert geography.name_of("0014") == "Västra Götalands län"
    assert geography.county_of("1497") == "0014"
    codes = [p.code for p in geography.places()]
    assert sum(geography.geo_level(c) == "kommun" for c in codes) == 290
    assert sum(geography.geo_level(c) == "lan" for c in codes) == 21


def test_kommuner_reference_is_a_copy_in_the_repo() -> None:
    path = geography.kommuner_path()
    assert path.is_relative_to(ROOT / "data" / "reference")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "kommunkod,kommun,lanskod,lan" and len(lines) == 291


# --------------------------------------------------------------------------- withdraw

def test_withdrawing_a_revision_brings_the_earlier_value_back(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = ingest_file(_csv(*ROWS_2023), name="prel.csv", store=store)
    second = ingest_file(_csv(ROWS_2023[0].replace("512,3", "498,7"), *ROWS_2023[1:]),
                         name="slutlig.csv", store=store)
    assert second.revised == 1
    store.withdraw(second.batch_id)
    stored = store.read("statistik")
    hjo = stored[(stored["geo_code"] == "1497") & (stored["period"] == "2023")]
    assert (hjo["value"].tolist(), hjo["batch_id"].tolist()) == ([512.3], [first.batch_id])
    assert len(stored) == 3
    assert store.read_history("statistik").empty  # as if the revision never came
