"""Freshness: per dataset the latest data date against its expected cadence.

``schema.Dataset.cadence_days`` says how often fresh data is expected (EST weekly, traffic
and activities monthly, surveys yearly). A dataset is *stale* when its latest data date is
more than ``cadence_days`` (plus an optional grace) before today. Year-only datasets
(surveys, youth) count their latest year as ending on 31 December, so a 2023 survey is
stale from 2025-01-01 on (366 days later).

A dataset without any data is not stale: it is reported as "inga data" and never produces
an overview warning (the demo banner / empty-state messages cover that case).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data.formatting import fmt_int
from hjo_data.periods import year_span, year_spans
from hjo_data.schema import DATASETS, Dataset

__all__ = [
    "FreshnessStatus",
    "cadence_text",
    "freshness",
    "freshness_table",
    "freshness_warnings",
    "latest_dates",
    "status_word",
]


@dataclass(frozen=True)
class FreshnessStatus:
    """Freshness of one dataset."""

    dataset: str
    label_sv: str
    latest: date | None
    age_days: int | None
    stale: bool
    message_sv: str
    cadence_days: int = 0
    #: Latest data as shown: "2024-05-01", or "2023" for year-only datasets.
    latest_text: str = ""


def cadence_text(days: int) -> str:
    """Swedish wording of a cadence: 7 -> 'varje vecka', 31 -> 'varje månad', ..."""
    if days == 1:
        return "varje dag"
    if days == 7:
        return "varje vecka"
    if 28 <= days <= 31:
        return "varje månad"
    if 365 <= days <= 366:
        return "varje år"
    return f"minst var {fmt_int(days)}:e dag"


def _is_year_dataset(ds: Dataset) -> bool:
    """Year columns and year periods ("2023", "2019-2022") are shown as years."""
    return ds.column(ds.time_column).kind in ("int", "text")


def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, int):  # a bare year
        return date(int(value), 12, 31)
    if isinstance(value, str):  # a year period: its last year
        span = year_span(value)
        return date(span[1], 12, 31) if span else None
    return None


def _status(ds: Dataset, latest: date | None, today: date, grace_days: int
            ) -> FreshnessStatus:
    cadence = int(ds.cadence_days)
    expected = cadence_text(cadence)
    if latest is None:
        return FreshnessStatus(ds.name, ds.label, None, None, False,
                               f"{ds.label}: inga data inlästa (uppdateras {expected}).",
                               cadence, "")
    shown = str(latest.year) if _is_year_dataset(ds) else latest.isoformat()
    age = max(0, (today - latest).days)
    stale = age > cadence + max(0, int(grace_days))
    days = "1 dag" if age == 1 else f"{fmt_int(age)} dagar"
    if _is_year_dataset(ds):
        head = f"{ds.label}: senaste data avser {shown}"
    else:
        head = f"{ds.label}: senaste data {shown} ({days} sedan)"
    if stale:
        message = f"{head} – äldre än väntat (uppdateras {expected})."
    else:
        message = f"{head} – aktuell (uppdateras {expected})."
    return FreshnessStatus(ds.name, ds.label, latest, age, stale, message, cadence, shown)


def freshness(data_date: Mapping[str, date | int | pd.Timestamp | None], today: date, *,
              datasets: Iterable[str] | None = None, grace_days: int = 0
              ) -> list[FreshnessStatus]:
    """One :class:`FreshnessStatus` per dataset (schema order), from each dataset's
    latest data date (as in ``DataBundle.data_date``; a year int counts as 31 Dec)."""
    names = list(datasets) if datasets is not None else list(DATASETS)
    return [_status(DATASETS[n], _as_date(data_date.get(n)), today, grace_days)
            for n in names if n in DATASETS]


def latest_dates(store: Any) -> dict[str, date | None]:
    """Latest data date of every dataset in a :class:`hjo_data.store.Store`, reading only
    the time column of each Parquet file (fast on large stores)."""
    out: dict[str, date | None] = {}
    for name, ds in DATASETS.items():
        column = store.read_table(name, [ds.time_column])[ds.time_column]
        if not len(column):
            out[name] = None
            continue
        if pa.types.is_string(column.type):  # year periods: the latest last year
            last = year_spans(column.to_pylist())[1]
            top = None if np.isnan(last).all() else int(np.nanmax(last))
        else:
            top = pc.max(column).as_py() if len(column) else None
        out[name] = _as_date(top)
    return out


def freshness_warnings(bundle: Any, today: date, *, grace_days: int = 0) -> list[str]:
    """Swedish warnings for the overview: one per stale dataset of a ``DataBundle``.

    Demo data never warns (the demo banner says it all).
    """
    if getattr(bundle, "is_demo", False):
        return []
    data_date = getattr(bundle, "data_date", None) or {}
    return [s.message_sv for s in freshness(data_date, today, grace_days=grace_days)
            if s.stale]


def status_word(status: FreshnessStatus) -> str:
    """"Ingen data", "För gammal" or "Aktuell"."""
    if status.latest is None:
        return "Ingen data"
    return "För gammal" if status.stale else "Aktuell"


def freshness_table(statuses: Iterable[FreshnessStatus], *,
                    extra: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """One row per dataset: Datamängd, the ``extra`` columns (column -> dataset -> text,
    e.g. "Källa", "Rader"), Data t.o.m., Ålder (dagar), Förväntas, Status."""
    rows = []
    for s in statuses:
        row: dict[str, object] = {"Datamängd": s.label_sv}
        for column, values in (extra or {}).items():
            row[column] = values.get(s.dataset, "")
        row |= {"Data t.o.m.": s.latest_text or "–", "Ålder (dagar)": s.age_days,
                "Förväntas": cadence_text(s.cadence_days), "Status": status_word(s)}
        rows.append(row)
    return pd.DataFrame(rows)
