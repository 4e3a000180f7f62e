"""Where the pages get their data: the store when it has data, else deterministic demo data.

Never imports streamlit (ui/context.py does the caching). Frames in a bundle are shared
between reruns and sessions: treat them as read-only (pandas copy-on-write makes derived
frames safe to modify).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from hjo_data import demo, est, reference
from hjo_data.periods import year_spans
from hjo_data.schema import DATASETS, Dataset
from hjo_data.store import Store

#: Number of demo incidents used when the store is empty (override: $HJO_DEMO_ROWS).
DEFAULT_DEMO_ROWS = 20_000
#: Shown wherever demo data is displayed (pages, slides, reports), so nobody takes it as real.
DEMO_LABEL = "Demodata – inte verklig statistik"


@dataclass
class DataBundle:
    """Everything the pages read: one canonical frame per dataset plus provenance."""

    frames: dict[str, pd.DataFrame]
    is_demo: bool
    #: Latest date of each dataset's time column (None when the dataset is empty).
    data_date: dict[str, date | None]
    store_version: str
    #: Ingest log of the store (empty for demo data).
    ingest_log: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frame(self, name: str) -> pd.DataFrame:
        """The frame of one dataset (an empty canonical frame when unknown/missing)."""
        if name in self.frames:
            return self.frames[name]
        return empty_frame(DATASETS[name])

    @property
    def latest_date(self) -> date | None:
        """Latest date over all datasets (the 'today' of the data)."""
        dates = [d for d in self.data_date.values() if d is not None]
        return max(dates) if dates else None


_DTYPES = {
    "text": "str",
    "category": "str",
    "date": "datetime64[us]",
    "datetime": "datetime64[us]",
    "int": "int64",
    "float": "float64",
    "share": "float64",
}


def empty_frame(dataset: Dataset) -> pd.DataFrame:
    """An empty frame with the dataset's stored columns and dtypes."""
    dtypes: dict[str, str] = {}
    for col in dataset.columns:
        dtypes[col.name] = _DTYPES[col.kind]
        if col.kind == "category" and col.fallback is not None:
            dtypes[f"{col.name}_raw"] = "str"
        if col.kind == "datetime":
            dtypes[f"{col.name}_has_time"] = "bool"
    for name in ("record_id", "batch_id"):
        dtypes[name] = "str"
    return pd.DataFrame({name: pd.Series([], dtype=dt) for name, dt in dtypes.items()})


def latest_date(frame: pd.DataFrame, dataset: Dataset) -> date | None:
    """Latest value of the dataset's time column as a date (year columns -> 31 Dec)."""
    col = dataset.time_column
    if frame is None or col not in frame.columns or frame.empty:
        return None
    values = frame[col].dropna()
    if values.empty:
        return None
    if pd.api.types.is_string_dtype(values):  # year periods "2023", "2019-2022"
        last = year_spans(values)[1]
        return None if np.isnan(last).all() else date(int(np.nanmax(last)), 12, 31)
    top = values.max()
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return date(int(top), 12, 31)
    return pd.Timestamp(top).date()


def sort_by_time(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Rows in time order (stable), so period filters can slice instead of copying."""
    col = dataset.time_column
    if frame is None or frame.empty or col not in frame.columns:
        return frame
    values = frame[col].to_numpy()
    if len(values) < 2 or bool((values[1:] >= values[:-1]).all()):
        return frame
    return frame.sort_values(col, kind="stable", ignore_index=True)


def store_version(store_root: str | Path | None = None) -> str:
    """Cheap cache key: the store's version, or "none" when there is no store (yet)."""
    try:
        return str(Store(store_root).version())
    except FileNotFoundError:
        return "none"


def demo_rows_from_env(default: int = DEFAULT_DEMO_ROWS) -> int:
    """$HJO_DEMO_ROWS when set to a positive integer, else ``default``."""
    raw = os.environ.get("HJO_DEMO_ROWS", "").replace("_", "").strip()
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def _read_store(store_root: str | Path | None) -> tuple[dict[str, pd.DataFrame], str,
                                                         pd.DataFrame] | None:
    """Frames, version and ingest log from the store, or None when it holds no data."""
    store = Store(store_root)
    if not store.has_data():
        return None
    frames = {name: store.read(name) for name in DATASETS}
    try:
        log = store.ingest_log()
    except (AttributeError, FileNotFoundError):
        log = pd.DataFrame()
    return frames, str(store.version()), log


def demo_frames(rows: int, today: date | None = None) -> dict[str, pd.DataFrame]:
    """Demo frames for every dataset (an empty canonical frame for any demo.py lacks)."""
    frames = demo.generate(rows=rows, today=today)
    return {name: frames.get(name, empty_frame(ds)) for name, ds in DATASETS.items()}


def load_bundle(store_root: str | Path | None = None, *, demo_rows: int = DEFAULT_DEMO_ROWS,
                today: date | None = None) -> DataBundle:
    """Load every dataset from the store; fall back to demo data when the store is empty."""
    stored = _read_store(store_root)
    if stored is not None:
        frames, version, log = stored
        is_demo = False
    else:
        frames = demo_frames(demo_rows, today)
        version, log, is_demo = "demo", pd.DataFrame(), True
    frames = {name: sort_by_time(frames[name], DATASETS[name]) for name in frames}
    data_date = {name: latest_date(frames[name], ds) for name, ds in DATASETS.items()}
    # The incident aggregate (est.IncidentCube) once per store version, here: every page,
    # the report and the slides read it (memoised on the frame, dropped with the bundle).
    est.incident_cube(frames.get("incidents"))
    return DataBundle(frames=frames, is_demo=is_demo, data_date=data_date,
                      store_version=version, ingest_log=log)


def public_view(bundle: DataBundle) -> DataBundle:
    """The bundle as public surfaces may show it: every area not in areas.csv becomes
    ``reference.UNKNOWN_AREA`` (free text typed into Område never reaches the public;
    officials keep the raw value). Frames without such areas are shared, not copied."""
    frames = reference.public_area_frames(bundle.frames)
    if all(frames[name] is bundle.frames[name] for name in bundle.frames):
        return bundle
    rows, public = bundle.frames.get("incidents"), frames.get("incidents")
    if rows is not None and public is not None and public is not rows:
        # The public incidents differ only in area labels: relabel the official cube
        # instead of aggregating the rows again.
        est.remember_cube(public, est.relabel(est.incident_cube(rows), "area",
                                              reference.public_areas))
    return DataBundle(frames=frames, is_demo=bundle.is_demo, data_date=bundle.data_date,
                      store_version=bundle.store_version, ingest_log=bundle.ingest_log)
