"""Freshness: latest data date per dataset against its cadence (hand-made dates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from hjo_data.datasource import DataBundle
from hjo_data.freshness import cadence_text, freshness, freshness_warnings, latest_dates
from hjo_data.schema import DATASETS
from hjo_data.store import Store
from tests.conftest import canonical, incidents

TODAY = date(2024, 6, 15)


def _one(name: str, latest: object, today: date = TODAY, **kw: object):
    (status,) = freshness({name: latest}, today, datasets=[name], **kw)
    return status


@pytest.mark.parametrize(("name", "cadence"), [("incidents", 7), ("traffic", 31),
                                               ("activities", 31)])
def test_dated_dataset_stale_only_after_its_cadence(name: str, cadence: int) -> None:
    on_edge = TODAY - timedelta(days=cadence)
    past_edge = TODAY - timedelta(days=cadence + 1)
    fresh = _one(name, on_edge)
    stale = _one(name, past_edge)
    assert (fresh.stale, fresh.age_days, fresh.latest) == (False, cadence, on_edge)
    assert (stale.stale, stale.age_days) == (True, cadence + 1)
    assert fresh.cadence_days == DATASETS[name].cadence_days == cadence
    assert "äldre än väntat" in stale.message_sv and "aktuell" in fresh.message_sv
    assert past_edge.isoformat() in stale.message_sv
    assert f"{cadence + 1} dagar sedan" in stale.message_sv
    assert DATASETS[name].label in stale.message_sv


def test_survey_year_counts_to_31_december() -> None:
    # 2023 ends 2023-12-31; 2024 is a leap year: 366 days later is 2024-12-31.
    fresh = _one("survey", 2023, today=date(2024, 12, 31))
    stale = _one("survey", 2023, today=date(2025, 1, 1))
    assert (fresh.latest, fresh.age_days, fresh.stale) == (date(2023, 12, 31), 366, False)
    assert (stale.age_days, stale.stale) == (367, True)
    assert stale.latest_text == "2023"
    assert "avser 2023" in stale.message_sv and "varje år" in stale.message_sv


def test_current_year_and_future_dates_are_age_zero() -> None:
    status = _one("youth", 2024)  # 2024-12-31 is after TODAY
    assert (status.age_days, status.stale) == (0, False)


def test_no_data_is_not_stale() -> None:
    status = _one("traffic", None)
    assert (status.latest, status.age_days, status.stale) == (None, None, False)
    assert "inga data" in status.message_sv


def test_timestamps_and_datetimes_are_dates() -> None:
    ts = pd.Timestamp("2024-06-01 23:59")
    assert _one("incidents", ts).latest == date(2024, 6, 1)
    assert _one("incidents", datetime(2024, 6, 1, 8, 0)).age_days == 14


def test_grace_days() -> None:
    latest = TODAY - timedelta(days=9)
    assert _one("incidents", latest).stale
    assert not _one("incidents", latest, grace_days=2).stale
    assert _one("incidents", latest, grace_days=1).stale


def test_all_datasets_in_schema_order() -> None:
    statuses = freshness({}, TODAY)
    assert [s.dataset for s in statuses] == list(DATASETS)
    assert [s.label_sv for s in statuses] == [d.label for d in DATASETS.values()]


def test_cadence_text() -> None:
    assert [cadence_text(d) for d in (7, 31, 366, 1, 14)] == [
        "varje vecka", "varje månad", "varje år", "varje dag", "minst var 14:e dag"]


def _bundle(data_date: dict, is_demo: bool = False) -> DataBundle:
    return DataBundle(frames={}, is_demo=is_demo, data_date=data_date, store_version="x")


def test_freshness_warnings_only_for_stale_real_data() -> None:
    dates = {"incidents": TODAY - timedelta(days=20), "traffic": TODAY - timedelta(days=3),
             "survey": 2021, "youth": None}
    warnings = freshness_warnings(_bundle(dates), TODAY)
    assert len(warnings) == 2
    assert warnings[0].startswith("Händelser (EST): senaste data 2024-05-26 (20 dagar sedan)")
    assert warnings[1].startswith("Trygghetsmätning (aggregerad): senaste data avser 2021")
    assert freshness_warnings(_bundle(dates, is_demo=True), TODAY) == []


def test_latest_dates_reads_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    store.append("incidents", incidents([("2024-05-03T22:15", "klotter", "Hamnen"),
                                         ("2024-05-09T01:00", "brand", "Hamnen"),
                                         ("2024-04-30T10:00", "brand", "Hamnen")]), "b1")
    store.append("survey", canonical("survey", [
        {"year": 2022, "indicator": "otrygg_kvall", "group": "Totalt", "area": "Hjo",
         "share": 0.2, "n": 100},
        {"year": 2023, "indicator": "otrygg_kvall", "group": "Totalt", "area": "Hjo",
         "share": 0.2, "n": 100}]), "b1")
    got = latest_dates(store)
    assert got["incidents"] == date(2024, 5, 9)
    assert got["survey"] == date(2023, 12, 31)
    assert got["traffic"] is None and set(got) == set(DATASETS)
