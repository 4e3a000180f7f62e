"""Shared fixtures.

Testing pages with AppTest (streamlit 1.67) — what works:

* Test each page file directly: ``AppTest.from_file(str(ROOT / "pages" / "x.py"))``.
  ``dashboard.py`` itself also runs under AppTest (st.navigation renders the default page),
  but switching pages in AppTest is awkward, so test pages one by one (``page_app``).
* Pages import ``ui`` and ``hjo_data``: AppTest runs the script in this process,
  so the repo root must be on ``sys.path`` — done below at import time.
* Every test gets its own empty store (``HJO_DATA_DIR`` -> tmp dir, autouse fixture
  ``isolated_store``), so pages fall back to demo data; ``HJO_DEMO_ROWS`` is kept small
  for speed. Use ``store_with(...)`` to put hand-made frames into the store instead.
* The data cache is keyed on ``Store.version()`` (which includes the store path), so tests
  with different stores never see each other's data; ``st.cache_resource.clear()`` runs
  after each test anyway.
* Query parameters: ``at.query_params["fran"] = "2024-01-01"`` before ``at.run()``.
  Sidebar widgets have stable keys: ``hjo_flt_period``, ``hjo_flt_gran``, ``hjo_flt_area``,
  ``hjo_flt_cat``, ``hjo_flt_src`` (e.g. ``at.multiselect(key="hjo_flt_cat")``).
* Official mode: ``monkeypatch.setenv("HJO_MODE", "official")`` before ``at.run()``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hjo_data.datasource import empty_frame  # noqa: E402
from hjo_data.promise import Promise, promise_from_mapping  # noqa: E402
from hjo_data.schema import DATASETS  # noqa: E402

#: Demo size used by page tests (small: the suite must stay fast).
TEST_DEMO_ROWS = 1_500


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty store per test (pages then show demo data)."""
    root = tmp_path / "store"
    root.mkdir()
    monkeypatch.setenv("HJO_DATA_DIR", str(root))
    monkeypatch.setenv("HJO_DEMO_ROWS", str(TEST_DEMO_ROWS))
    monkeypatch.delenv("HJO_MODE", raising=False)
    yield root
    try:
        import streamlit as st

        st.cache_resource.clear()
        st.cache_data.clear()
    except Exception:  # noqa: BLE001 - clearing caches is best effort
        pass


def canonical(dataset: str, rows: list[Mapping[str, object]]) -> pd.DataFrame:
    """A canonical stored frame of ``dataset`` from partial row dicts.

    Missing columns get neutral defaults; record_id is generated; batch_id = "test".
    """
    ds = DATASETS[dataset]
    base = empty_frame(ds)
    data: dict[str, list[object]] = {c: [] for c in base.columns}
    for i, row in enumerate(rows):
        for col in base.columns:
            if col in row:
                data[col].append(row[col])
            elif col == "record_id":
                data[col].append(f"{dataset}-{i}")
            elif col == "batch_id":
                data[col].append("test")
            elif col.endswith("_has_time"):
                data[col].append(True)
            else:
                kind = str(base[col].dtype)
                data[col].append({"int64": 0, "float64": np.nan}.get(kind, ""))
    out = pd.DataFrame(data)
    for col in base.columns:
        out[col] = out[col].astype(base[col].dtype)
    return out


def make_promise(goals: list[Mapping[str, object]], *,
                 activities: list[Mapping[str, object]] | None = None,
                 settings: Mapping[str, object] | None = None, title: str = "Testlöfte",
                 municipality: str = "Testkommun") -> Promise:
    """A typed promise validated exactly like the file (``promise_from_mapping``): goals
    and indicators in the file's form (``{id, label, direction, spec = {...}}``); the
    place, police and period are filled with test values."""
    data: dict[str, object] = {
        "title": title,
        "municipality": {"name": municipality, "short_name": municipality, "code": "9999"},
        "police": {"area": "Testpolisen"},
        "period": {"start": 2023, "end": 2024},
        "goals": goals,
        "activities": activities or [],
    }
    if settings is not None:
        data["settings"] = dict(settings)
    return promise_from_mapping(data, name="testlöfte.toml")


def incidents(spec: list[tuple[str, str, str]], source: str = "kommun") -> pd.DataFrame:
    """Incidents from (iso datetime, category, area) tuples."""
    rows = [{"occurred_at": datetime.fromisoformat(t), "category": c, "area": a,
             "source": source} for t, c, a in spec]
    return canonical("incidents", rows)


def stored_bytes(store: object, dataset: str) -> dict[str, bytes]:
    """Every stored file of a dataset (relative path -> content): equal before and after
    means the dataset's files were not touched."""
    root = store.path(dataset)  # type: ignore[attr-defined]
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture
def store_with(isolated_store: Path) -> Callable[..., Path]:
    """``store_with(incidents=frame, survey=frame, ...)`` writes frames into the test store."""

    def write(**frames: pd.DataFrame) -> Path:
        from hjo_data.store import Store

        store = Store(isolated_store)
        for name, frame in frames.items():
            store.append(name, frame, "test")
        return isolated_store

    return write


@pytest.fixture
def page_app() -> Callable[[str], object]:
    """``page_app("lagesbild")`` -> an AppTest for pages/lagesbild.py (not yet run)."""
    from streamlit.testing.v1 import AppTest

    def make(name: str) -> AppTest:
        return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)

    return make


@pytest.fixture
def today() -> date:
    return date(2024, 6, 15)


#: The published perturbation rule (docs/PRIVACY.md), written out here so tests check
#: the code against the document: 0..4 read "<5"; a count n >= 5 reads "<5" or a number
#: within ±2 of n (never below 5).
PUBLIC_SMALL = "<5"
PUBLIC_MAX_NOISE = 2


def plausibly_published(shown: str | float | None, true: int) -> bool:
    """Is ``shown`` a value the public rule allows for a true count ``true``?"""
    if shown is None or (isinstance(shown, float) and np.isnan(shown)) or shown == PUBLIC_SMALL:
        return true <= 4 + PUBLIC_MAX_NOISE
    value = float(str(shown).replace("\u00a0", "").replace(" ", "").replace(",", "."))
    return true >= 5 and value >= 5 and abs(value - true) <= PUBLIC_MAX_NOISE
