"""The ingest log and freshness display tables shared by Datahantering and Om data."""

from __future__ import annotations

from datetime import date

import pandas as pd

from hjo_data.disclosure import DisclosureSettings
from hjo_data.freshness import freshness, freshness_table
from hjo_data.ingest_log import LOG_COLUMNS, log_table, public_summary
from hjo_data.schema import DATASETS

LOG = pd.DataFrame([
    {"time": "2024-05-01T10:00:00", "file": "a.csv", "dataset": "incidents", "user": "anna",
     "rows_read": 10, "added": 8, "rejected": 2, "duplicates": 0, "batch_id": "b1"},
    {"time": "2024-05-02T11:30:00", "file": "=b.csv", "dataset": "incidents", "user": None,
     "rows_read": 3, "added": 3, "rejected": 0, "duplicates": 0, "batch_id": "b2",
     "withdrawn": "2024-05-03T09:00:00", "withdrawn_by": "bo"},
    {"time": "2024-05-04T08:00:00", "file": "c.csv", "dataset": "traffic", "user": "anna",
     "rows_read": 0, "added": 0, "rejected": 0, "duplicates": 0, "batch_id": "b3"},
])


def test_log_table_newest_first_with_status() -> None:
    table = log_table(LOG)
    assert list(table.columns) == list(LOG_COLUMNS)
    assert table["Batch"].tolist() == ["b3", "b2", "b1"]
    assert table["Status"].tolist() == ["aktiv", "återkallad 2024-05-03 09:00 av bo", "aktiv"]
    assert table["Datamängd"].tolist()[0] == DATASETS["traffic"].label
    assert table["Sparade"].tolist() == [0, 3, 8]
    assert list(log_table(LOG.iloc[0:0]).columns) == list(LOG_COLUMNS)


def test_public_summary_hides_small_counts_and_zero_when_asked() -> None:
    summary = public_summary(LOG).set_index("Datamängd")
    incidents = summary.loc[DATASETS["incidents"].label]
    # 8 + 3 = 11 rows added (shown), 2 rejected (small: "<5"), two ingests.
    assert (incidents["Inläsningar"], incidents["Tillagda rader"],
            incidents["Avvisade rader"]) == (2, "11", "<5")
    assert summary.loc[DATASETS["traffic"].label, "Tillagda rader"] == "0"
    strict = public_summary(LOG, DisclosureSettings(suppress_zero=True)).set_index(
        "Datamängd")
    assert strict.loc[DATASETS["traffic"].label, "Tillagda rader"] == "<5"
    assert "Fil" not in summary.columns and "=b.csv" not in summary.to_string()


def test_freshness_table_follows_the_freshness_statuses() -> None:
    today = date(2024, 6, 1)
    statuses = freshness({"incidents": date(2024, 5, 2), "traffic": date(2024, 5, 30)},
                         today)
    table = freshness_table(statuses, extra={"Rader": {"incidents": "12"}}).set_index(
        "Datamängd")
    assert list(table.columns) == ["Rader", "Data t.o.m.", "Ålder (dagar)", "Förväntas",
                                   "Status"]
    incidents = table.loc[DATASETS["incidents"].label]
    age = (today - date(2024, 5, 2)).days
    assert (incidents["Rader"], incidents["Data t.o.m."], incidents["Ålder (dagar)"]) == (
        "12", "2024-05-02", age)
    assert incidents["Status"] == ("För gammal" if age > DATASETS["incidents"].cadence_days
                                   else "Aktuell")
    assert table.loc[DATASETS["traffic"].label, "Status"] == "Aktuell"
    assert table.loc[DATASETS["youth"].label, "Status"] == "Ingen data"
