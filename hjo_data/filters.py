"""The dashboard's filter state, its URL form (query parameters) and how it applies to data.

The one home of filtering: pages, the report and the slides select rows with
``apply_filters`` (a report/slide period [start, stop) is ``Filters.span(start, stop)``);
``est.IncidentCube.select`` is the fast path for incidents with the same semantics (bounds
from ``period_bounds``: whole days, the end day included; rows without a date are outside
any bounded period; value lists match exactly).

URL keys: ``fran`` / ``till`` (ISO dates), ``omrade``, ``kategori``, ``kalla`` (comma
separated; also accepted as repeated parameters) and ``period`` (W, M, Q, Y). Parsing never
raises: invalid values are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hjo_data.periods import GRANULARITIES, Granularity, year_spans
from hjo_data.schema import DATASETS, INCIDENT_CATEGORIES, SOURCES

#: Query parameter keys (Swedish, ASCII so URLs stay readable).
QUERY_KEYS = {
    "start": "fran",
    "end": "till",
    "areas": "omrade",
    "categories": "kategori",
    "sources": "kalla",
    "granularity": "period",
}

_SEP = ","


@dataclass(frozen=True)
class Filters:
    """What the user selected. Empty tuples / None mean "no restriction"."""

    start: date | None = None
    end: date | None = None
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    granularity: Granularity = "M"

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> Filters:
        """Build from URL query parameters; unknown or invalid values are ignored."""
        try:
            start = _parse_date(params.get(QUERY_KEYS["start"]))
            end = _parse_date(params.get(QUERY_KEYS["end"]))
            if start is not None and end is not None and start > end:
                start, end = None, None
            gran = _last(params.get(QUERY_KEYS["granularity"]))
            gran = gran.strip().upper() if gran else "M"
            return cls(
                start=start,
                end=end,
                areas=_split(params.get(QUERY_KEYS["areas"])),
                categories=_split(params.get(QUERY_KEYS["categories"]),
                                  allowed=INCIDENT_CATEGORIES),
                sources=_split(params.get(QUERY_KEYS["sources"]), allowed=SOURCES),
                granularity=gran if gran in GRANULARITIES else "M",  # type: ignore[arg-type]
            )
        except Exception:  # noqa: BLE001 - a hand-edited URL must never break a page
            return cls()

    def to_query(self) -> dict[str, str]:
        """Query parameters for this state (defaults are left out to keep URLs short)."""
        out: dict[str, str] = {}
        if self.start is not None:
            out[QUERY_KEYS["start"]] = self.start.isoformat()
        if self.end is not None:
            out[QUERY_KEYS["end"]] = self.end.isoformat()
        for attr in ("areas", "categories", "sources"):
            values = getattr(self, attr)
            if values:
                out[QUERY_KEYS[attr]] = _SEP.join(values)
        if self.granularity != "M":
            out[QUERY_KEYS["granularity"]] = self.granularity
        return out

    @classmethod
    def span(cls, start: date | None, stop: date | None, **changes: object) -> Filters:
        """Filters for the half-open period [start, stop) — the form report and slide
        periods take (exclusive end); the filter itself keeps the inclusive last day."""
        end = None if stop is None else stop - timedelta(days=1)
        return cls(start=start, end=end, **changes)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Filters:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def is_default(self) -> bool:
        return self == Filters()


def _last(value: str | list[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    items = [v for v in value if isinstance(v, str)]
    return items[-1] if items else None


def _parse_date(value: str | list[str] | None) -> date | None:
    text = _last(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _split(value: str | list[str] | None, *, allowed: Iterable[str] | None = None
           ) -> tuple[str, ...]:
    if value is None:
        return ()
    raw = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    allowed_set = set(allowed) if allowed is not None else None
    out: list[str] = []
    for item in raw:
        for part in item.split(_SEP):
            part = part.strip()
            if not part or part in out:
                continue
            if allowed_set is not None and part not in allowed_set:
                continue
            out.append(part)
    return tuple(out)


def period_bounds(filters: Filters) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Half-open timestamp bounds [start, end + 1 day) of the filter's period."""
    lo = pd.Timestamp(filters.start) if filters.start is not None else None
    hi = pd.Timestamp(filters.end + timedelta(days=1)) if filters.end is not None else None
    return lo, hi


def apply_filters(frame: pd.DataFrame, dataset_name: str, filters: Filters) -> pd.DataFrame:
    """Rows of ``frame`` that match the filters relevant to this dataset.

    Period applies to the dataset's time column (year columns: every year overlapping the
    period), area to datasets with an ``area`` column, category/source to incidents only.
    Returns ``frame`` itself when nothing applies.
    """
    dataset = DATASETS.get(dataset_name)
    if dataset is None or frame is None or frame.empty:
        return frame
    mask = None

    def _and(m: pd.Series | np.ndarray) -> None:
        nonlocal mask
        m = np.asarray(m, dtype=bool)
        mask = m if mask is None else (mask & m)

    time_col = dataset.time_column
    if time_col in frame.columns and (filters.start is not None or filters.end is not None):
        values = frame[time_col]
        sliced = _period_slice(frame, values, filters)
        if sliced is not None:
            frame = sliced
        elif pd.api.types.is_string_dtype(values):  # year periods "2023", "2019-2022"
            first, last = year_spans(values)
            if filters.start is not None:
                _and(last >= filters.start.year)
            if filters.end is not None:
                _and(first <= filters.end.year)
        elif pd.api.types.is_numeric_dtype(values):
            if filters.start is not None:
                _and(values >= filters.start.year)
            if filters.end is not None:
                _and(values <= filters.end.year)
        else:
            lo, hi = period_bounds(filters)
            if lo is not None:
                _and(values >= lo)
            if hi is not None:
                _and(values < hi)
    if filters.areas and "area" in frame.columns:
        _and(frame["area"].isin(filters.areas))
    if dataset_name == "incidents":
        if filters.categories and "category" in frame.columns:
            _and(frame["category"].isin(filters.categories))
        if filters.sources and "source" in frame.columns:
            _and(frame["source"].isin(filters.sources))
    if mask is None:
        return frame
    return frame.loc[mask]


def _period_slice(frame: pd.DataFrame, values: pd.Series, filters: Filters
                  ) -> pd.DataFrame | None:
    """Period filter as a positional slice when the time column is sorted (cheap: no copy
    of the other columns); None when it is not sorted or not a datetime column."""
    if not pd.api.types.is_datetime64_dtype(values) or values.hasnans:
        return None
    arr = values.to_numpy()
    if len(arr) > 1 and not bool((arr[1:] >= arr[:-1]).all()):
        return None
    lo, hi = period_bounds(filters)
    a = 0 if lo is None else int(np.searchsorted(arr, lo.to_datetime64(), "left"))
    b = len(arr) if hi is None else int(np.searchsorted(arr, hi.to_datetime64(), "left"))
    if a == 0 and b == len(arr):
        return frame
    return frame.iloc[a:b]


def apply_all(frames: Mapping[str, pd.DataFrame], filters: Filters) -> dict[str, pd.DataFrame]:
    """``apply_filters`` on every frame of a bundle."""
    return {name: apply_filters(frame, name, filters) for name, frame in frames.items()}
