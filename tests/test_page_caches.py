"""Page speed at millions of incidents (issue 14): the aggregates the pages share give the
same numbers as the row-level computation, and a process holds one bundle per store
version.

Expected values are computed here with plain pandas on a seeded random frame (group-by
counts, hashed record keys), never with the code under test.
"""

from __future__ import annotations

import gc
import weakref
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import est, reference
from hjo_data.datasource import DataBundle, empty_frame, public_view
from hjo_data.schema import DATASETS

KEY_MOD = 1 << 24
ROWS = 30_000  # above est's memo threshold: the cube paths are taken


def _keys(frame: pd.DataFrame) -> pd.Series:
    """Record key per row: the hashed record_id modulo 2**24 (docs/PRIVACY.md)."""
    hashed = pd.util.hash_pandas_object(frame["record_id"].astype("str"), index=False)
    return pd.Series((hashed.to_numpy() % np.uint64(KEY_MOD)).astype("int64"),
                     index=frame.index)


def random_incidents(seed: int = 7, rows: int = ROWS) -> pd.DataFrame:
    """Incidents with missing dates, missing areas, free-text areas and unknown times,
    sorted by time like the bundle's frame."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2023-01-01T00:00", "m")
    minutes = rng.integers(0, 2 * 365 * 24 * 60, rows)
    times = pd.Series((base + minutes).astype("datetime64[us]"))
    times[rng.random(rows) < 0.01] = pd.NaT
    areas = np.array(["Hjo centrum", "Hamnen", "Fågelås", "Storgatan 5", "Okänt område"],
                     dtype=object)
    area = pd.Series(areas[rng.integers(0, len(areas), rows)], dtype="str")
    area[rng.random(rows) < 0.05] = None
    frame = empty_frame(DATASETS["incidents"]).reindex(range(rows))
    frame = frame.assign(
        occurred_at=times, occurred_at_has_time=rng.random(rows) > 0.2,
        category=pd.Series(np.array(["klotter", "skadegörelse", "stöld", "övrigt"],
                                    dtype=object)[rng.integers(0, 4, rows)], dtype="str"),
        area=area,
        source=pd.Series(np.array(["polis", "kommun", "skola"], dtype=object)[
            rng.integers(0, 3, rows)], dtype="str"),
        record_id=pd.Series([f"r{i}" for i in range(rows)], dtype="str"),
        batch_id=pd.Series(["test"] * rows, dtype="str"))
    return frame.sort_values("occurred_at", kind="stable", ignore_index=True)


def _expected_compact(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    data = frame.assign(day=frame["occurred_at"].dt.floor("D"), k=_keys(frame))
    data = data.dropna(subset=["day", *by])
    grouped = data.groupby([*by, "day"])
    out = pd.DataFrame({"_n": grouped.size(), "_k": grouped["k"].sum() % KEY_MOD})
    out = out.reset_index().rename(columns={"day": "occurred_at"})
    out = out.sort_values(["occurred_at", *by], ignore_index=True)
    return out[[*by, "occurred_at", "_n", "_k"]]


@pytest.mark.parametrize("by", [["category", "source"], ["category", "source", "area"]])
def test_compact_from_the_cube_equals_a_plain_group_by(by: list[str]) -> None:
    frame = random_incidents()
    got = est.compact_incidents(frame, by)
    want = _expected_compact(frame, by)
    assert int(got["_n"].sum()) == int(want["_n"].sum())
    pd.testing.assert_frame_equal(got[want.columns].astype({c: object for c in by}),
                                  want.astype({c: object for c in by}),
                                  check_dtype=False)
    # Small frames take the row path: the same rows.
    small = frame.head(3_000)
    pd.testing.assert_frame_equal(
        est.compact_incidents(small, by)[want.columns].astype({c: object for c in by}),
        _expected_compact(small, by).astype({c: object for c in by}), check_dtype=False)


def test_compact_frame_is_computed_once_per_frame() -> None:
    frame = random_incidents()
    assert est.compact_incidents(frame, ["category"]) is est.compact_incidents(
        frame, ["category"])


def test_cube_selection_equals_row_filtering() -> None:
    frame = random_incidents(seed=3)
    cube = est.incident_cube(frame)
    lo, hi = date(2023, 3, 5), date(2024, 2, 10)
    cats, areas = ("klotter", "stöld"), ("Hamnen", "Storgatan 5")
    part = cube.where(start=lo, end=hi, categories=cats, areas=areas)
    t = frame["occurred_at"]
    rows = frame[(t >= pd.Timestamp(lo)) & (t < pd.Timestamp(hi) + pd.Timedelta(days=1))
                 & frame["category"].isin(cats) & frame["area"].isin(areas)]
    assert part.total == len(rows)
    assert part.total_key == int(_keys(rows).sum() % KEY_MOD)
    want = rows["area"].value_counts()
    got = part.counts("area")
    assert got.to_dict() == want.to_dict()
    # Weekday x hour of rows with a known time (Monday = 0).
    timed = rows[rows["occurred_at_has_time"]]
    want_heat = pd.crosstab(timed["occurred_at"].dt.day_of_week, timed["occurred_at"].dt.hour)
    heat = est.heatmap_counts(part)
    for (wd, hour), n in want_heat.stack().items():
        assert heat.loc[wd, hour] == n


def test_public_cube_is_the_official_cube_relabelled() -> None:
    frame = random_incidents(seed=11)
    public = reference.public_area_frames({"incidents": frame})["incidents"]
    assert public is not frame  # free text and missing areas become "Okänt område"
    relabelled = est.relabel(est.incident_cube(frame), "area", reference.public_areas)
    want = public["area"].value_counts()
    assert relabelled.counts("area").to_dict() == want.to_dict()
    keys = _keys(public).groupby(public["area"]).sum() % KEY_MOD
    assert relabelled.key_sums("area").reindex(keys.index).to_dict() == keys.to_dict()
    assert "Storgatan 5" not in relabelled.labels["area"]
    # public_view hands the relabelled cube to the public frame (no second aggregation).
    bundle = DataBundle(frames={"incidents": frame}, is_demo=False, data_date={},
                        store_version="v")
    view = public_view(bundle)
    cube = est.incident_cube(view.frames["incidents"])
    assert cube.counts("area").to_dict() == want.to_dict()
    assert est.monthly_counts(cube, by="area", top=None).equals(
        est.monthly_counts(est.cube_from_frame(public), by="area", top=None))


def test_cube_is_dropped_with_its_frame() -> None:
    frame = random_incidents(seed=5)
    est.incident_cube(frame)
    key = id(frame)
    assert key in est._MEMO
    del frame
    gc.collect()
    assert key not in est._MEMO


def test_one_bundle_per_store_version(isolated_store: Path, store_with) -> None:
    from ui import context

    frame = random_incidents(seed=1, rows=12_000)
    store_with(incidents=frame.iloc[:10_000])
    first = context.get_bundle()
    assert not first.is_demo and len(first.frames["incidents"]) == 10_000
    assert context.get_bundle() is first  # same version: the same bundle
    first_ref = weakref.ref(first)
    frame_ref = weakref.ref(first.frames["incidents"])
    del first
    store_with(incidents=frame.iloc[10_000:])  # a new store version
    second = context.get_bundle()
    assert len(second.frames["incidents"]) == 12_000
    gc.collect()
    # The old version's bundle, its frames and its aggregate are gone.
    assert first_ref() is None and frame_ref() is None
    live = [v for v in est._MEMO.values() if v[0]() is not None and v[1] >= 10_000]
    assert [v[1] for v in live] == [12_000]


@pytest.mark.parametrize("flt", [
    {}, {"start": date(2023, 6, 1)}, {"start": date(2023, 6, 1), "end": date(2023, 9, 30)},
    {"areas": ("Hamnen", "Storgatan 5"), "categories": ("stöld",)},
    {"end": date(2024, 1, 31), "sources": ("polis", "skola"), "areas": ("Fågelås",)},
])
def test_selected_rows_points_and_latest_rows_equal_the_filtered_frame(flt: dict) -> None:
    from hjo_data.est_sections import latest_rows
    from hjo_data.filters import Filters

    frame = random_incidents(seed=13).assign(lat=np.nan, lon=np.nan)
    rng = np.random.default_rng(2)
    has = rng.random(len(frame)) < 0.4
    frame.loc[has, "lat"] = rng.uniform(58.2, 58.4, int(has.sum()))
    frame.loc[has, "lon"] = rng.uniform(14.2, 14.4, int(has.sum()))
    frame = frame.assign(description=pd.Series([f"d{i}" for i in range(len(frame))],
                                               dtype="str"))
    filters = Filters(**flt)
    # The rows a plain pandas filter keeps (whole days, end day included).
    keep = np.ones(len(frame), dtype=bool)
    t = frame["occurred_at"]
    if filters.start is not None:
        keep &= (t >= pd.Timestamp(filters.start)).to_numpy()
    if filters.end is not None:
        keep &= (t < pd.Timestamp(filters.end) + pd.Timedelta(days=1)).to_numpy()
    for col, values in (("area", filters.areas), ("category", filters.categories),
                        ("source", filters.sources)):
        if values:
            keep &= frame[col].isin(values).to_numpy()
    rows = est.selected_rows(frame, filters)
    assert rows.tolist() == np.flatnonzero(keep).tolist()
    subset = frame[keep]
    # Points: DataFrame.sample of the positioned rows, drawn without copying the selection.
    pts = subset.loc[subset["lat"].notna() & subset["lon"].notna(),
                     ["lat", "lon", "category", "occurred_at"]]
    if len(pts) > 500:
        pts = pts.sample(n=500, random_state=0)
    pd.testing.assert_frame_equal(est.incident_points(frame, max_points=500, rows=rows),
                                  pts.reset_index(drop=True))
    # The latest 50 rows, newest first (ties in frame order).
    ordered = subset.dropna(subset=["occurred_at"]).sort_values(
        "occurred_at", ascending=False, kind="stable").head(50)
    got = latest_rows(frame, 50, selected=rows)
    assert got["Beskrivning"].tolist() == ordered["description"].tolist()


def test_pages_keep_no_old_bundle_after_a_new_store_version(isolated_store: Path, store_with,
                                                            page_app) -> None:
    """A page must not keep its last run's globals (ctx, bundle) alive after the store
    changes: e.g. a st.cache_resource function defined in a page script did (issue 14)."""
    from hjo_data.demo import generate
    from ui import context

    demo = generate(rows=12_000)
    store_with(**{name: frame for name, frame in demo.items() if len(frame)})
    first = context.get_bundle()
    frame_ref = weakref.ref(first.frames["incidents"])
    del first
    apps = []
    for page in ("lagesbild", "presentation", "trygghet", "handelser", "trafik"):
        at = page_app(page)
        at.run(timeout=120)
        assert not at.exception, page
        apps.append(at)
    more = random_incidents(seed=21, rows=300).assign(
        record_id=lambda f: "ny-" + f["record_id"])
    store_with(incidents=more)  # a new store version
    landing = page_app("lagesbild")
    landing.run(timeout=120)
    assert not landing.exception
    gc.collect()
    assert frame_ref() is None  # the old version's rows are gone (sessions keep running)


def test_latest_rows_of_a_sorted_frame_with_ties() -> None:
    from hjo_data.est_sections import latest_rows
    from hjo_data.filters import Filters

    frame = random_incidents(seed=17).dropna(subset=["occurred_at"])
    frame = frame.assign(occurred_at=frame["occurred_at"].dt.floor("D"),  # many ties
                         description=pd.Series([f"d{i}" for i in range(len(frame))],
                                               dtype="str", index=frame.index))
    frame = frame.reset_index(drop=True)
    assert est.time_sorted(frame)
    filters = Filters(categories=("klotter",), end=date(2024, 6, 30))
    rows = est.selected_rows(frame, filters)
    subset = frame.iloc[rows]
    want = subset.sort_values("occurred_at", ascending=False, kind="stable").head(60)
    got = latest_rows(frame, 60, selected=rows)
    assert got["Beskrivning"].tolist() == want["description"].tolist()


def test_cube_built_in_chunks_gives_the_same_numbers() -> None:
    frame = random_incidents(seed=29)  # NaT rows at the end: chunks out of day order
    whole, chunked = est.cube_from_frame(frame), est.cube_from_frame(frame, chunk_rows=7_000)
    assert chunked.total == whole.total == len(frame)
    assert chunked.total_key == whole.total_key
    assert bool((chunked.day[1:] >= chunked.day[:-1]).all())
    for col in est.CUBE_COLUMNS:
        assert chunked.counts(col).to_dict() == whole.counts(col).to_dict()
        assert chunked.key_sums(col).to_dict() == whole.key_sums(col).to_dict()
    pd.testing.assert_frame_equal(est.heatmap_counts(chunked), est.heatmap_counts(whole))
    pd.testing.assert_frame_equal(est.monthly_counts(chunked), est.monthly_counts(whole))
    lo, hi = date(2023, 5, 3), date(2024, 8, 1)
    a, b = chunked.where(start=lo, end=hi), whole.where(start=lo, end=hi)
    assert (a.total, a.total_key) == (b.total, b.total_key)
    # Rows without a record id: keyed over the whole frame (occurrence numbers), as before.
    no_ids = frame.assign(record_id=pd.Series([""] * len(frame), dtype="str"))
    assert est.cube_from_frame(no_ids, chunk_rows=7_000).total_key == \
        est.cube_from_frame(no_ids).total_key
