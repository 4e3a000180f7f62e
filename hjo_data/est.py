"""EST (Effektiv Samordning för Trygghet): the weekly lägesbild and its aggregations.

Everything here reduces incident rows (up to ~1 000 000) to small frames that the figures
and tables receive; no function returns row-level data except ``incident_points`` (official
mode only, capped).

Weeks are ISO weeks starting on Monday (``hjo_data.periods``). ``as_of`` is the reference
day (``periods.reference_day``: the last day the data cover); "latest complete week" is the
last week whose Sunday is on or before it. "Same week last year" is the week 52 weeks
(364 days) earlier: it starts on the same weekday and has the same ISO week number except
around week 53.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from hjo_data.disclosure import KEY_MOD, KEY_SUFFIX, record_keys
from hjo_data.filters import Filters, period_bounds
from hjo_data.formatting import NBSP
from hjo_data.indicators import LABEL_NO_DATA, compare_to_baseline
from hjo_data.periods import (
    UNIT_WORDS,
    latest_complete_period,
    period_label,
    period_range,
    period_start,
    period_starts,
)

#: Number of previous weeks the weekly baseline averages over.
BASELINE_WEEKS = 4
#: Two-sided significance level for the "beyond noise" marker.
ALPHA = 0.05
#: Fewest days of reports a yearly rate ("per 1 000 invånare och år") is computed from:
#: a quarter. Shorter selections would extrapolate a few days' count to a year.
MIN_RATE_DAYS = 90

TOTAL_LABEL = "Totalt"
#: The cell-key column next to ``count`` (disclosure's cell-key perturbation).
KEY_COLUMN = f"count{KEY_SUFFIX}"
NO_AREA_LABEL = "okänt område"
#: Columns an IncidentCube keeps (as integer codes).
CUBE_COLUMNS: tuple[str, ...] = ("category", "area", "source")
_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
#: Day number of rows without a date (sorts first; never inside a period).
NO_DAY = np.iinfo("int64").min


# --------------------------------------------------------------------------- the cube

@dataclass(frozen=True, eq=False)
class IncidentCube:
    """Incident counts per (day, hour, category, area, source) as integer-coded arrays.

    Every EST aggregation runs on this instead of the incident rows: at 1 000 000 rows the
    string columns cost ~0,1 s per operation (isin, value_counts, to_numpy), while the
    cube's integer arrays are filtered and counted in a few milliseconds. Build it once
    per (read-only) frame with ``incident_cube`` (memoised on the frame object), then
    narrow it with ``where`` for every filter change.

    Days are whole local days (days since 1970-01-01), so period bounds are whole days;
    ``hour`` is -1 for rows without a known time of day. Rows are sorted by day.
    """

    day: np.ndarray
    hour: np.ndarray
    category: np.ndarray
    area: np.ndarray
    source: np.ndarray
    count: np.ndarray
    labels: Mapping[str, tuple[str, ...]]
    #: Code of the "missing value" label per column (-1 when no value was missing).
    missing: Mapping[str, int]
    #: Cell key per row: sum of the incidents' record keys modulo KEY_MOD (disclosure's
    #: cell-key perturbation; None = all zero).
    key: np.ndarray | None = None

    @property
    def keys(self) -> np.ndarray:
        return self.key if self.key is not None else np.zeros(len(self.count), dtype="int64")

    @property
    def total_key(self) -> int:
        """The cell key of every incident in the cube."""
        return int(self.keys.sum() % KEY_MOD)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    @property
    def empty(self) -> bool:
        return self.total == 0

    def codes(self, column: str) -> np.ndarray:
        return getattr(self, column)

    def take(self, index: np.ndarray | slice) -> IncidentCube:
        return IncidentCube(self.day[index], self.hour[index], self.category[index],
                            self.area[index], self.source[index], self.count[index],
                            self.labels, self.missing, self.keys[index])

    def day_range(self, lo: pd.Timestamp | date | None, hi: pd.Timestamp | date | None
                  ) -> IncidentCube:
        """Rows with lo <= day < hi (bounds are floored to whole days; None = open)."""
        a = 0 if lo is None else int(np.searchsorted(self.day, _day_number(lo), "left"))
        b = len(self.day) if hi is None else int(np.searchsorted(self.day, _day_number(hi),
                                                                 "left"))
        if lo is None:  # rows without a date are outside any bounded period
            a = 0 if hi is None else int(np.searchsorted(self.day, NO_DAY, "right"))
        return self.take(slice(a, max(a, b)))

    def select(self, filters: Filters) -> IncidentCube:
        """``filters.apply_filters(rows, "incidents", filters)`` on the cube: the period of
        ``period_bounds`` (whole days, end day included; rows without a date only when no
        bound is set), then areas, categories and sources (empty = no restriction)."""
        cube = self
        lo, hi = period_bounds(filters)
        if lo is not None or hi is not None:
            cube = cube.day_range(lo, hi)
        mask: np.ndarray | None = None
        for column, wanted in (("category", filters.categories), ("area", filters.areas),
                               ("source", filters.sources)):
            if not wanted:
                continue
            labels = cube.labels[column]
            allowed = np.zeros(len(labels) + 1, dtype=bool)
            wanted_set = set(wanted)
            for code, label in enumerate(labels):
                if label in wanted_set and code != cube.missing[column]:
                    allowed[code] = True
            m = allowed[cube.codes(column)]
            mask = m if mask is None else mask & m
        return cube if mask is None else cube.take(mask)

    def where(self, *, start: date | None = None, end: date | None = None,
              categories: Collection[str] = (), areas: Collection[str] = (),
              sources: Collection[str] = ()) -> IncidentCube:
        """``select`` with the filter fields as keywords: period [start, end] (inclusive
        dates) and value lists (empty = no restriction)."""
        return self.select(Filters(start=start, end=end, categories=tuple(categories),
                                   areas=tuple(areas), sources=tuple(sources)))

    def counts(self, column: str) -> pd.Series:
        """Count per label of ``column`` (labels with 0 left out), largest first, ties by
        label."""
        labels = self.labels[column]
        n = np.bincount(self.codes(column), weights=self.count, minlength=len(labels))
        out = pd.Series(n[:len(labels)].astype("int64"), index=pd.Index(labels, dtype="str"))
        out = out[out > 0]
        order = np.lexsort((out.index.to_numpy(dtype=object), -out.to_numpy()))
        return out.iloc[order]

    def key_sums(self, column: str) -> pd.Series:
        """Cell key per label of ``column`` (every label, sum of record keys mod KEY_MOD)."""
        labels = self.labels[column]
        k = np.bincount(self.codes(column), weights=self.keys, minlength=len(labels))
        return pd.Series((k[:len(labels)] % KEY_MOD).astype("int64"),
                         index=pd.Index(labels, dtype="str"))


def _dated(cube: IncidentCube) -> IncidentCube:
    """The cube without rows that have no date (they sort first)."""
    if len(cube.day) and cube.day[0] == NO_DAY:
        return cube.take(slice(int(np.searchsorted(cube.day, NO_DAY, "right")), None))
    return cube


def _day_number(value: pd.Timestamp | date) -> int:
    return int(pd.Timestamp(value).normalize().value // (_DAY_US * 1000))


def _empty_cube() -> IncidentCube:
    z = np.array([], dtype="int64")
    return IncidentCube(z, z.astype("int8"), z, z, z, z,
                        {c: () for c in CUBE_COLUMNS}, {c: -1 for c in CUBE_COLUMNS})


#: Rows aggregated at a time: bounds the build's temporary memory (sort, keys) at millions
#: of rows; the chunks' cells are concatenated (a cell split over two chunks is summed by
#: every aggregation like one).
CUBE_CHUNK_ROWS = 1_000_000


def cube_from_frame(incidents: pd.DataFrame, chunk_rows: int = CUBE_CHUNK_ROWS
                    ) -> IncidentCube:
    """Aggregate incident rows into an IncidentCube (see ``incident_cube`` for the memo)."""
    if incidents is None or incidents.empty or "occurred_at" not in incidents:
        return _empty_cube()
    n = len(incidents)
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, tuple[str, ...]] = {}
    missing: dict[str, int] = {}
    for col in CUBE_COLUMNS:
        if col in incidents:
            c, uniques = pd.factorize(incidents[col], use_na_sentinel=True)
            names = [str(u) for u in uniques]
        else:
            c, names = np.full(n, -1, dtype="int64"), []
        missing[col] = -1
        if (c < 0).any():
            missing[col] = len(names)
            c = np.where(c < 0, len(names), c)
            names.append(NO_AREA_LABEL)
        codes[col], labels[col] = c.astype("int32"), tuple(names)
    sizes = [max(len(labels[c]), 1) for c in CUBE_COLUMNS]
    ids = incidents.get("record_id")
    # Rows without a record id are keyed by content and occurrence number within the
    # frame: then the keys of the whole frame at once.
    whole = None if ids is not None and not (ids.isna().any() or (ids == "").any()) \
        else record_keys(incidents)
    parts = [_cube_cells(incidents.iloc[a:a + chunk_rows],
                         [codes[c][a:a + chunk_rows] for c in CUBE_COLUMNS], sizes,
                         None if whole is None else whole[a:a + chunk_rows])
             for a in range(0, n, chunk_rows)]
    cells = [np.concatenate(arrays) if len(parts) > 1 else arrays[0]
             for arrays in zip(*parts, strict=True)]
    day = cells[0]
    if len(parts) > 1 and len(day) > 1 and not bool((day[1:] >= day[:-1]).all()):
        order = np.argsort(day, kind="stable")  # chunks of an unsorted frame
        cells = [a[order] for a in cells]
    day, hour, category, area, source, count, key = cells
    return IncidentCube(day=day, hour=hour, category=category, area=area, source=source,
                        count=count, labels=labels, missing=missing, key=key)


def _cube_cells(incidents: pd.DataFrame, codes: list[np.ndarray], sizes: list[int],
                row_keys: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(day, hour, category, area, source, count, key) of the rows' cells, sorted by day
    (rows without a date first). Narrow integer types (codes, counts and keys < 2**31):
    the cube of 5 M incidents has some 3,7 M cells, 29 bytes each instead of 49."""
    times = incidents["occurred_at"].to_numpy().astype("datetime64[us]")
    nat = np.isnat(times)
    us = times.view("int64")
    day = np.floor_divide(us, _DAY_US)
    has_time = (incidents["occurred_at_has_time"].to_numpy(dtype=bool)
                if "occurred_at_has_time" in incidents else np.ones(len(us), dtype=bool))
    hour = np.where(has_time & ~nat, np.floor_divide(us, _HOUR_US) % 24, -1)
    valid = day[~nat]
    d0 = int(valid.min()) if len(valid) else 0
    rel = np.where(nat, 0, day - d0 + 1)
    key = rel * 25 + (hour + 1)
    for c, size in zip(codes, sizes, strict=True):
        key = key * size + c
    uniq, first, inverse, cnt = np.unique(key, return_index=True, return_inverse=True,
                                          return_counts=True)
    rel_u = rel[first]
    keys = np.bincount(inverse.ravel(), minlength=len(uniq), weights=(
        record_keys(incidents) if row_keys is None else row_keys))
    return (np.where(rel_u == 0, NO_DAY, rel_u - 1 + d0).astype("int64"),
            hour[first].astype("int8"), *(c[first] for c in codes), cnt.astype("int32"),
            (keys % KEY_MOD).astype("int32"))


#: id(frame) -> (weak reference, rows, cube, derived aggregates of the frame by name).
_MEMO: dict[int, tuple[weakref.ref, int, IncidentCube, dict[object, object]]] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 8
#: Frames smaller than this are cheap to aggregate: their cubes are not kept.
_MEMO_MIN_ROWS = 10_000


def _forget(key: int, ref: weakref.ref) -> None:
    """Drop a memo entry when its frame is garbage-collected (a dropped bundle's cube goes
    with it, not when the memo happens to fill up)."""
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None and hit[0] is ref:
            del _MEMO[key]


def remember_cube(incidents: pd.DataFrame, cube: IncidentCube) -> None:
    """Memoise ``cube`` as the cube of the (read-only) frame ``incidents``: e.g. the public
    view's frame gets the official cube relabelled (``public_cube``) instead of a rebuild."""
    if len(incidents) < _MEMO_MIN_ROWS:
        return
    key = id(incidents)
    ref = weakref.ref(incidents, lambda r, k=key: _forget(k, r))
    with _MEMO_LOCK:
        for k in [k for k, v in _MEMO.items() if v[0]() is None]:
            del _MEMO[k]
        while len(_MEMO) >= _MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]
        _MEMO[key] = (ref, len(incidents), cube, {})


def incident_cube(incidents: pd.DataFrame | IncidentCube | None) -> IncidentCube:
    """The cube of a frame, memoised on the frame object (frames from the data bundle are
    shared and read-only, so the cube is built once per loaded bundle, across pages and
    sessions; it is dropped with the frame)."""
    if isinstance(incidents, IncidentCube):
        return incidents
    if incidents is None:
        return _empty_cube()
    key = id(incidents)
    with _MEMO_LOCK:
        hit = _MEMO.get(key)
        if hit is not None and hit[0]() is incidents and hit[1] == len(incidents):
            return hit[2]
    cube = cube_from_frame(incidents)
    remember_cube(incidents, cube)
    return cube


def relabel(cube: IncidentCube, column: str, rename: Callable[[pd.Series], pd.Series]
            ) -> IncidentCube:
    """The cube with ``column``'s labels passed through ``rename`` (a Series of labels,
    the missing label as NaN -> new labels, NaN = missing): labels that become equal are
    merged (their rows keep separate cells; every aggregation sums them)."""
    old = pd.Series(list(cube.labels[column]), dtype="str")
    if cube.missing[column] >= 0:
        old = old.mask(old.index == cube.missing[column])
    new = rename(old)
    codes, uniques = pd.factorize(new, use_na_sentinel=True)
    names = [str(u) for u in uniques]
    missing = -1
    if (codes < 0).any():
        missing = len(names)
        codes = np.where(codes < 0, missing, codes)
        names.append(NO_AREA_LABEL)
    remapped = np.asarray(codes, dtype="int32")[cube.codes(column)]
    fields = {c: cube.codes(c) for c in CUBE_COLUMNS} | {column: remapped}
    return IncidentCube(cube.day, cube.hour, fields["category"], fields["area"],
                        fields["source"], cube.count, {**cube.labels, column: tuple(names)},
                        {**cube.missing, column: missing}, cube.key)


# --------------------------------------------------------------------------- change test

def _baseline_tests(counts: pd.Series | np.ndarray, baseline_totals: pd.Series | np.ndarray,
                    alpha: float) -> tuple[list[float], list[bool], list[str]]:
    """Poisson test (``indicators.compare_to_baseline``) of each count against the mean of
    ``BASELINE_WEEKS`` earlier periods whose total is given."""
    p_values: list[float] = []
    significant: list[bool] = []
    labels: list[str] = []
    for count, total in zip(counts, baseline_totals, strict=True):
        change = compare_to_baseline(float(count), float(total), BASELINE_WEEKS, alpha=alpha)
        p_values.append(change.p_value)
        significant.append(bool(change.significant))
        labels.append(change.label_sv)
    return p_values, significant, labels


# --------------------------------------------------------------------------- weekly lägesbild

#: Cell-key columns of the weekly table (see disclosure.KEY_SUFFIX).
KEY_COLUMNS_WEEK = tuple(f"{c}{KEY_SUFFIX}" for c in ("count", "baseline_total", "last_year"))


def change_labels(counts: pd.Series | np.ndarray, baseline_totals: pd.Series | np.ndarray,
                  alpha: float = ALPHA) -> tuple[list[bool], list[str]]:
    """Significance and Swedish assessment of counts against ``BASELINE_WEEKS`` earlier
    periods; "" (not significant) where either number is missing (hidden)."""
    c = np.asarray(counts, dtype="float64")
    b = np.asarray(baseline_totals, dtype="float64")
    ok = ~(np.isnan(c) | np.isnan(b))
    _, sig, labels = _baseline_tests(np.where(ok, c, 0), np.where(ok, b, 0), alpha)
    return ([bool(s) and bool(o) for s, o in zip(sig, ok, strict=True)],
            [lab if o else "" for lab, o in zip(labels, ok, strict=True)])


@dataclass(frozen=True)
class EstWeek:
    """The weekly lägesbild: one row per group (plus a total row first)."""

    week_start: pd.Timestamp
    #: Columns: group, count, baseline (mean of previous 4 weeks), baseline_total,
    #: last_year (same week last year), diff (count - baseline), p_value, significant,
    #: change (Swedish label).
    table: pd.DataFrame

    @property
    def week_end(self) -> pd.Timestamp:
        return self.week_start + pd.Timedelta(days=6)

    @property
    def total(self) -> pd.Series:
        return self.table.iloc[0]


def weekly_lagesbild(incidents: pd.DataFrame, *, as_of: date | pd.Timestamp,
                     by: str = "category", week: pd.Timestamp | None = None,
                     alpha: float = ALPHA) -> EstWeek:
    """Latest complete week vs the mean of the previous 4 weeks and the same week last year.

    ``by`` is a column of ``incidents`` (``category``, ``area`` or ``source``). Groups with
    no incident in any of the compared weeks are left out. The first row is the total.
    """
    current = pd.Timestamp(period_start(week, "W") if week is not None
                           else latest_complete_period(as_of, "W")[0])
    base_starts = [current - pd.Timedelta(days=7 * i) for i in range(1, BASELINE_WEEKS + 1)]
    last_year = current - pd.Timedelta(days=364)
    wanted = [current, last_year, *base_starts]

    full = incident_cube(incidents)
    labels = full.labels.get(by, ())
    n_w = len(wanted)
    grid = np.zeros((len(labels), n_w), dtype="int64")
    kgrid = np.zeros((len(labels), n_w), dtype="int64")
    for i, w in enumerate(wanted):  # six one-week slices of the day-sorted cube
        part = full.day_range(w, w + pd.Timedelta(days=7))
        if len(part.day) and by in CUBE_COLUMNS:
            grid[:, i] = np.bincount(part.codes(by), weights=part.count,
                                     minlength=len(labels))[:len(labels)].astype("int64")
            kgrid[:, i] = np.bincount(part.codes(by), weights=part.keys,
                                      minlength=len(labels))[:len(labels)].astype("int64")
    present = grid.sum(axis=1) > 0
    names = np.asarray(labels, dtype=object)[present]
    order = np.argsort(names.astype(str), kind="stable")
    body = grid[present][order]
    kbody = kgrid[present][order]
    index = [TOTAL_LABEL, *[str(n) for n in names[order]]]
    table = pd.DataFrame(np.vstack([body.sum(axis=0, keepdims=True), body]),
                         index=index, columns=wanted)
    ktable = pd.DataFrame(np.vstack([kgrid.sum(axis=0, keepdims=True), kbody]),
                          index=index, columns=wanted)

    out = pd.DataFrame({
        "group": table.index.astype(str),
        "count": table[current].to_numpy(dtype="int64"),
        "baseline_total": table[base_starts].sum(axis=1).to_numpy(dtype="int64"),
        "last_year": table[last_year].to_numpy(dtype="int64"),
    })
    for col, weeks in (("count", [current]), ("baseline_total", base_starts),
                       ("last_year", [last_year])):
        out[f"{col}{KEY_SUFFIX}"] = (ktable[weeks].sum(axis=1).to_numpy(dtype="int64")
                                     % KEY_MOD)
    out["baseline"] = out["baseline_total"] / BASELINE_WEEKS
    out["diff"] = out["count"] - out["baseline"]
    out["p_value"], out["significant"], out["change"] = _baseline_tests(
        out["count"], out["baseline_total"], alpha)
    body = out.iloc[1:].sort_values(["count", "baseline"], ascending=False, kind="stable")
    out = pd.concat([out.iloc[:1], body], ignore_index=True)
    cols = ["group", "count", "baseline", "baseline_total", "last_year", "diff", "p_value",
            "significant", "change", *KEY_COLUMNS_WEEK]
    return EstWeek(week_start=current, table=out[cols])


# --------------------------------------------------------------------------- trends

def monthly_counts(incidents: pd.DataFrame, *, by: str | None = "category",
                   top: int | None = 6) -> pd.DataFrame:
    """Incidents per calendar month (zero-filled between the first and last month).

    Returns long form: month (Timestamp, first of month), group, count, count_key (the cell
    key, disclosure.KEY_SUFFIX). With ``top`` only
    the ``top`` largest groups are kept and the rest summed into "övriga".
    """
    cols = ["month", "group", "count"]
    cube = _dated(incident_cube(incidents))
    if cube.empty:
        return pd.DataFrame({"month": pd.Series([], dtype="datetime64[us]"),
                             "group": pd.Series([], dtype="str"),
                             "count": pd.Series([], dtype="int64"),
                             KEY_COLUMN: pd.Series([], dtype="int64")})
    d0, d1 = int(cube.day[0]), int(cube.day[-1])  # day-sorted
    days = pd.Series(np.arange(d0, d1 + 1).astype("datetime64[D]").astype("datetime64[us]"))
    # Month of each day as a month number (months since 1970-01), for integer binning.
    month_of_day = (period_starts(days, "M").to_numpy().astype("datetime64[M]")
                    .astype("int64"))
    m0 = int(month_of_day[0])
    months = month_of_day[cube.day - d0]
    n_m = int(month_of_day[-1]) - m0 + 1
    if by:
        labels = list(cube.labels[by])
        codes = cube.codes(by)
        totals = cube.counts(by)
        if top is not None and len(totals) > top:
            keep = set(totals.index[:top])
            label_ids = {lab: i for i, lab in enumerate(sorted(keep) + ["övriga"])}
            remap = np.array([label_ids.get(lab, label_ids["övriga"]) for lab in labels],
                             dtype="int64")
            codes, labels = remap[codes], list(label_ids)
    else:
        codes, labels = np.zeros(len(cube.day), dtype="int64"), [TOTAL_LABEL]
    cells = (months - m0) * len(labels) + codes
    grid = np.bincount(cells, weights=cube.count,
                       minlength=n_m * len(labels)).reshape(n_m, len(labels))
    kgrid = np.bincount(cells, weights=cube.keys,
                        minlength=n_m * len(labels)).reshape(n_m, len(labels))
    used = grid.sum(axis=0) > 0
    names = np.asarray(labels, dtype=object)[used]
    order = np.argsort(names.astype(str), kind="stable")
    grid = grid[:, used][:, order]
    kgrid = kgrid[:, used][:, order]
    names = [str(n) for n in names[order]]
    month_values = period_range(days.iloc[0], days.iloc[-1], "M").to_numpy()
    long = pd.DataFrame({
        "month": np.repeat(month_values, len(names)),
        "group": pd.array(np.tile(np.asarray(names, dtype=object), n_m), dtype="str"),
        "count": grid.reshape(-1).astype("int64"),
        KEY_COLUMN: (kgrid.reshape(-1) % KEY_MOD).astype("int64"),
    })
    return long[[*cols, KEY_COLUMN]]


def heatmap_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Weekday × hour counts of incidents with a known time of day.

    Returns a 7 × 24 int frame: index weekday 0 (Monday)..6, columns hour 0..23. Rows
    without a time (``occurred_at_has_time`` False) are excluded — their 00:00 would
    otherwise pile up at midnight.
    """
    return _heat_grid(incidents, keys=False)


def heatmap_keys(incidents: pd.DataFrame) -> pd.DataFrame:
    """The cell keys of ``heatmap_counts``' cells (same shape; disclosure.KEY_MOD sums)."""
    return _heat_grid(incidents, keys=True)


def _heat_grid(incidents: pd.DataFrame, *, keys: bool) -> pd.DataFrame:
    cube = _dated(incident_cube(incidents))
    known = cube.hour >= 0
    weekday = (cube.day[known] + 3) % 7
    cells = weekday * 24 + cube.hour[known].astype("int64")
    weights = cube.keys[known] if keys else cube.count[known]
    grid = np.bincount(cells, weights=weights, minlength=7 * 24).astype("int64")
    if keys:
        grid %= KEY_MOD
    return pd.DataFrame(grid.reshape(7, 24), index=range(7), columns=range(24))


def coarse_heatmap(grid: pd.DataFrame, hours_per_cell: int = 3, *, keys: bool = False
                   ) -> pd.DataFrame:
    """Sum a 7 × 24 weekday × hour grid into blocks of ``hours_per_cell`` hours (columns =
    first hour of each block). Public mode uses 3-hour blocks: per-hour cells of a small
    municipality are mostly below the suppression threshold, blocks keep a readable chart."""
    if 24 % hours_per_cell:
        raise ValueError("hours_per_cell must divide 24")
    values = grid.reindex(columns=range(24), fill_value=0).to_numpy()
    blocks = values.reshape(values.shape[0], 24 // hours_per_cell, hours_per_cell).sum(axis=2)
    if keys:  # a grid of cell keys (heatmap_keys): sums modulo KEY_MOD
        blocks = blocks % KEY_MOD
    return pd.DataFrame(blocks.astype("int64"), index=grid.index,
                        columns=list(range(0, 24, hours_per_cell)))


def counts_by(incidents: pd.DataFrame, column: str) -> pd.DataFrame:
    """Incident count and share per value of ``column`` (e.g. ``source``), largest first
    (ties by name)."""
    if isinstance(incidents, IncidentCube) or column in CUBE_COLUMNS:
        cube = incident_cube(incidents)
        counts = cube.counts(column)
        out = pd.DataFrame({"group": pd.Series(counts.index, dtype="str"),
                            "count": counts.to_numpy("int64")})
        out["share"] = (out["count"] / out["count"].sum()).astype("float64")
        out[KEY_COLUMN] = cube.key_sums(column).reindex(counts.index).to_numpy("int64")
        return out
    if incidents.empty:
        return pd.DataFrame({"group": pd.Series([], dtype="str"),
                             "count": pd.Series([], dtype="int64"),
                             "share": pd.Series([], dtype="float64"),
                             KEY_COLUMN: pd.Series([], dtype="int64")})
    groups = incidents[column].fillna(NO_AREA_LABEL).astype(str)
    counts = groups.value_counts()
    keys = pd.Series(record_keys(incidents), index=incidents.index).groupby(groups).sum()
    out = pd.DataFrame({"group": counts.index.astype(str), "count": counts.to_numpy("int64")})
    out["share"] = out["count"] / out["count"].sum()
    out[KEY_COLUMN] = (keys.reindex(counts.index).to_numpy("int64") % KEY_MOD)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- hotspots

def population_map(population: pd.DataFrame | Mapping[str, float] | None,
                   year: int | None = None) -> dict[str, float]:
    """Area -> inhabitants from a mapping or a frame with ``area`` + a population column
    (with a ``year`` column: the latest year not after ``year``, else the latest)."""
    if population is None:
        return {}
    if isinstance(population, Mapping):
        return {str(k): float(v) for k, v in population.items()}
    if population.empty or "area" not in population:
        return {}
    value_col = next((c for c in ("population", "inhabitants", "invanare", "invånare")
                      if c in population.columns), None)
    if value_col is None:
        numeric = [c for c in population.columns
                   if c != "area" and pd.api.types.is_numeric_dtype(population[c])
                   and c != "year"]
        if not numeric:
            return {}
        value_col = numeric[0]
    frame = population
    if "year" in frame.columns:  # latest year per area
        if year is not None and (frame["year"] <= year).any():
            frame = frame[frame["year"] <= year]
        frame = frame.sort_values("year").drop_duplicates("area", keep="last")
    return {str(a): float(v) for a, v in zip(frame["area"], frame[value_col], strict=True)
            if pd.notna(v)}


def hotspots(incidents: pd.DataFrame, population: pd.DataFrame | Mapping[str, float] | None,
             *, as_of: date | pd.Timestamp, window_weeks: int = 4,
             alpha: float = ALPHA) -> pd.DataFrame:
    """Area ranking over the latest ``window_weeks`` complete weeks.

    Columns: area, count (in the window), population, per_1000 (count per 1000
    inhabitants, NaN without population), baseline (mean count per window over the 4
    preceding windows), diff, p_value, significant, change. Sorted by count, then per_1000.
    """
    end = pd.Timestamp(latest_complete_period(as_of, "W")[1])
    span = pd.Timedelta(days=7 * window_weeks)
    start = end - span
    base_start = start - BASELINE_WEEKS * span
    cube = incident_cube(incidents)
    cur_cube, base_cube = cube.day_range(start, end), cube.day_range(base_start, start)
    cur, base = cur_cube.counts("area"), base_cube.counts("area")
    names = sorted(set(cur.index) | set(base.index))
    pops = population_map(population, year=(end - pd.Timedelta(days=1)).year)
    out = pd.DataFrame({"area": pd.Series(names, dtype="str")})
    out["count"] = cur.reindex(names, fill_value=0).to_numpy(dtype="int64")
    base_total = base.reindex(names, fill_value=0).to_numpy(dtype="int64")
    out["population"] = [pops.get(a, np.nan) for a in names]
    out["population"] = out["population"].astype("float64")
    out["per_1000"] = out["count"] / out["population"] * 1000
    out["baseline"] = base_total / BASELINE_WEEKS
    out["diff"] = out["count"] - out["baseline"]
    out["p_value"], out["significant"], out["change"] = _baseline_tests(
        out["count"], base_total, alpha)
    out[KEY_COLUMN] = cur_cube.key_sums("area").reindex(names, fill_value=0).to_numpy("int64")
    out[f"baseline_total{KEY_SUFFIX}"] = base_cube.key_sums("area").reindex(
        names, fill_value=0).to_numpy("int64")
    out = out.sort_values(["count", "per_1000"], ascending=False, kind="stable",
                          na_position="last")
    return out.reset_index(drop=True)


def covered_years(reported: IncidentCube, start: date | None, end: date | None) -> float:
    """Years of the period that is both selected and covered by the reports: from the
    later of ``start`` and the first reported day to the earlier of ``end`` and the last
    reported day, both inclusive (NaN when they do not overlap). ``reported`` should be
    every incident (no area or category filter): an area's quiet start is not a gap."""
    days = reported.day[reported.day != NO_DAY]
    if days.size == 0:
        return float("nan")
    first, last = int(days.min()), int(days.max())
    if start is not None:
        first = max(first, _day_number(start))
    if end is not None:
        last = min(last, _day_number(end))
    return (last - first + 1) / 365.25 if last >= first else float("nan")


def rate_missing_text(years: float) -> str | None:
    """Why a yearly rate is not shown for a selection covering ``years`` of reports
    (Swedish, "underlag saknas ..."), None when it is (``MIN_RATE_DAYS`` or more)."""
    if years == years and years * 365.25 >= MIN_RATE_DAYS - 1e-9:
        return None
    days = 0 if years != years else round(years * 365.25)
    return (f"Per 1{NBSP}000 invånare och år: {LABEL_NO_DATA} – urvalet har rapporter under "
            f"{days} dagar; en årstakt kräver minst {MIN_RATE_DAYS} dagar.")


def area_rates(incidents: pd.DataFrame | IncidentCube,
               population: pd.DataFrame | Mapping[str, float] | None,
               years: float = 1.0) -> pd.DataFrame:
    """Count and rate per area over the whole (filtered) selection, for the map:
    ``per_1000`` = incidents per 1 000 inhabitants and year when ``years`` is the
    selection's length (``covered_years``), so selections of any length compare.

    A yearly rate is never extrapolated from a short stretch of data: below
    ``MIN_RATE_DAYS`` of covered reports (e.g. the 11 days of a running month, which
    gave "219,9 per 1 000 och år") ``per_1000`` is NaN ("underlag saknas",
    ``rate_missing_text``). The days counted are the days the reports cover, so a partial
    period adds only the days it has (no extrapolation of its count to a full period)."""
    counts = counts_by(incidents, "area")[["group", "count", KEY_COLUMN]].rename(
        columns={"group": "area"})
    pops = population_map(population)
    counts["population"] = [pops.get(a, np.nan) for a in counts["area"]]
    counts["population"] = counts["population"].astype("float64")
    rate = counts["count"] / counts["population"] * 1000 / years
    counts["per_1000"] = rate if rate_missing_text(years) is None else np.nan
    counts["per_1000"] = counts["per_1000"].astype("float64")
    return counts


def incident_points(incidents: pd.DataFrame, *, max_points: int = 3000,
                    seed: int = 0, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Rows with a position (lat, lon, category, occurred_at), a random sample of at most
    ``max_points``. Positions are personal data: call only for the official audience.

    ``rows``: positions of the selected rows in ``incidents`` (``selected_rows``), the
    same points as for ``incidents.iloc[rows]`` without copying the selection."""
    cols = ["lat", "lon", "category", "occurred_at"]
    if incidents.empty or "lat" not in incidents or "lon" not in incidents:
        return pd.DataFrame(columns=cols)
    has = (incidents["lat"].notna() & incidents["lon"].notna()).to_numpy()
    where = np.flatnonzero(has) if rows is None else rows[has[rows]]
    if len(where) > max_points:
        # DataFrame.sample(n, random_state=seed) draws these positions (no copy first).
        where = where[np.random.RandomState(seed).choice(len(where), size=max_points,
                                                         replace=False)]
    return incidents.iloc[where][cols].reset_index(drop=True)


def selected_rows(incidents: pd.DataFrame, filters: Filters) -> np.ndarray:
    """Positions of the rows ``filters.apply_filters(incidents, "incidents", filters)``
    keeps, in frame order, from integer codes memoised with the frame (no string
    comparison of millions of rows on a filter change)."""
    n = len(incidents)
    lo, hi = period_bounds(filters)
    a, b = 0, n
    mask: np.ndarray | None = None
    if (lo is not None or hi is not None) and "occurred_at" in incidents:
        times = incidents["occurred_at"]
        values = times.to_numpy()
        if time_sorted(incidents):
            if lo is not None:
                a = int(np.searchsorted(values, lo.to_datetime64(), "left"))
            if hi is not None:
                b = int(np.searchsorted(values, hi.to_datetime64(), "left"))
            b = max(a, b)
        else:
            mask = np.ones(n, dtype=bool)
            if lo is not None:
                mask &= (times >= lo).to_numpy()
            if hi is not None:
                mask &= (times < hi).to_numpy()
    for column, wanted in (("area", filters.areas), ("category", filters.categories),
                           ("source", filters.sources)):
        if not wanted or column not in incidents:
            continue
        codes, labels = _row_codes(incidents, column)
        allowed = np.zeros(len(labels) + 1, dtype=bool)  # the last slot: missing (-1)
        allowed[:len(labels)] = np.isin(np.asarray(labels, dtype=object),
                                        np.asarray(list(wanted), dtype=object))
        m = allowed[codes[a:b]]
        part = m if mask is None else mask[a:b] & m
        mask = np.zeros(n, dtype=bool) if mask is None else mask
        mask[a:b] = part
    if mask is None:
        return np.arange(a, b)
    mask[:a] = False
    mask[b:] = False
    return np.flatnonzero(mask)


def time_sorted(incidents: pd.DataFrame) -> bool:
    """Is the time column sorted without missing values (apply_filters then slices)?
    Memoised with the frame."""
    def compute() -> bool:
        values = incidents["occurred_at"]
        if values.hasnans:
            return False
        arr = values.to_numpy()
        return len(arr) < 2 or bool((arr[1:] >= arr[:-1]).all())
    return _derived(incidents, "sorted_times", compute)  # type: ignore[return-value]


def _row_codes(incidents: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Integer code per row of ``column`` (-1 = missing) and the labels, memoised."""
    def compute() -> tuple[np.ndarray, list[str]]:
        codes, uniques = pd.factorize(incidents[column], use_na_sentinel=True)
        small = "int8" if len(uniques) < 127 else "int32"
        return codes.astype(small), [str(u) for u in uniques]
    return _derived(incidents, ("codes", column), compute)  # type: ignore[return-value]


def period_span(incidents: pd.DataFrame) -> tuple[date, date] | None:
    """First and last date of the incidents (None when empty)."""
    if incidents.empty:
        return None
    times = incidents["occurred_at"].dropna()
    if times.empty:
        return None
    return times.min().date(), times.max().date()


# --------------------------------------------------------------------------- per period

#: Row-count column of a compacted frame (see ``compact_incidents``).
COUNT_COLUMN = "_n"
#: Cell-key column of a compacted frame: its rows' record keys summed (mod KEY_MOD).
COMPACT_KEY_COLUMN = "_k"


def compact_incidents(incidents: pd.DataFrame, by: Iterable[str] = ("category", "source")
                      ) -> pd.DataFrame:
    """Incidents collapsed to one row per day and ``by`` values with a count ``_n``.

    Count indicators and the trend give the same results on the compact frame as on the
    rows (they sum ``_n``), but a million incidents shrink to some thousand rows. Rows
    without a date or a ``by`` value are left out. Sorted by ``occurred_at`` (the day,
    midnight), then the ``by`` values. A large frame is compacted from its (memoised)
    ``IncidentCube`` when ``by`` are cube columns: the same rows, without string grouping.
    """
    cols = [c for c in by if c in incidents.columns] if incidents is not None else []
    if incidents is None or incidents.empty:
        out = incidents[[*cols, "occurred_at"]].copy() if incidents is not None else (
            pd.DataFrame({"occurred_at": pd.Series([], dtype="datetime64[us]")}))
        out[COUNT_COLUMN] = pd.Series([], dtype="int64")
        out[COMPACT_KEY_COLUMN] = pd.Series([], dtype="int64")
        return out
    if len(incidents) >= _MEMO_MIN_ROWS and set(cols) <= set(CUBE_COLUMNS):
        # Memoised with the frame's cube: Lägesbild and the slides share it (read-only).
        return _derived(incidents, ("compact", tuple(cols)),
                        lambda: _compact_frame(incidents, cols))
    return _compact_frame(incidents, cols)


def _derived(incidents: pd.DataFrame, name: object, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per (memoised) frame and ``name``; small frames: every time."""
    if len(incidents) < _MEMO_MIN_ROWS:
        return compute()
    incident_cube(incidents)  # memoises the frame
    with _MEMO_LOCK:
        hit = _MEMO.get(id(incidents))
    if hit is None or hit[0]() is not incidents:
        return compute()
    extras = hit[3]
    if name not in extras:
        extras[name] = compute()
    return extras[name]


def _compact_frame(incidents: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    if len(incidents) >= _MEMO_MIN_ROWS and set(cols) <= set(CUBE_COLUMNS):
        out = _compact_cube(incident_cube(incidents), cols)
        for c in cols:
            out[c] = out[c].astype(incidents[c].dtype)
    else:
        day = incidents["occurred_at"].dt.floor("D").rename("occurred_at")
        keys = [incidents[c] for c in cols] + [day]
        grouped = pd.Series(record_keys(incidents), index=incidents.index).groupby(
            keys, sort=False, observed=True)
        out = pd.DataFrame({COUNT_COLUMN: grouped.size(),
                            COMPACT_KEY_COLUMN: grouped.sum() % KEY_MOD}).reset_index()
        for c in cols:
            out[c] = out[c].astype(incidents[c].dtype)
    out["occurred_at"] = out["occurred_at"].astype("datetime64[us]")
    out[COUNT_COLUMN] = out[COUNT_COLUMN].astype("int64")
    out[COMPACT_KEY_COLUMN] = out[COMPACT_KEY_COLUMN].astype("int64")
    return out.sort_values(["occurred_at", *cols], kind="stable", ignore_index=True)


def _compact_cube(cube: IncidentCube, cols: list[str]) -> pd.DataFrame:
    """``compact_incidents`` of the cube's rows (dated, no missing ``cols`` value)."""
    keep = cube.day != NO_DAY
    for c in cols:
        if cube.missing[c] >= 0:
            keep &= cube.codes(c) != cube.missing[c]
    day = cube.day[keep]
    d0 = int(day.min()) if len(day) else 0
    key = day - d0
    for c in cols:
        key = key * max(len(cube.labels[c]), 1) + cube.codes(c)[keep]
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    out = {c: np.asarray(cube.labels[c], dtype=object)[cube.codes(c)[keep][first]]
           for c in cols}
    out["occurred_at"] = (day[first]).astype("datetime64[D]").astype("datetime64[us]")
    out[COUNT_COLUMN] = np.bincount(inverse, weights=cube.count[keep],
                                    minlength=len(uniq)).astype("int64")
    out[COMPACT_KEY_COLUMN] = (np.bincount(inverse, weights=cube.keys[keep],
                                           minlength=len(uniq)).astype("int64") % KEY_MOD)
    return pd.DataFrame(out)


def incidents_per_period(incidents: pd.DataFrame, granularity: str = "M") -> pd.DataFrame:
    """Incident counts per period: columns period_start (date), period (Swedish label), antal,
    antal_key (the cell key, disclosure.KEY_SUFFIX).

    Periods without incidents between the first and last one are included with 0.
    """
    gran = granularity if granularity in UNIT_WORDS else "M"
    if incidents is None or incidents.empty:
        return pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[us]"),
                             "period": pd.Series([], dtype="str"),
                             "antal": pd.Series([], dtype="int64"),
                             f"antal{KEY_SUFFIX}": pd.Series([], dtype="int64")})
    starts = period_starts(incidents["occurred_at"], gran).to_numpy()
    if COUNT_COLUMN in incidents.columns:
        counts = incidents[COUNT_COLUMN].groupby(starts).sum().sort_index()
    else:
        counts = pd.Series(1, index=incidents.index).groupby(starts).sum().sort_index()
    keys = (incidents[COMPACT_KEY_COLUMN].to_numpy("int64")
            if COMPACT_KEY_COLUMN in incidents.columns else record_keys(incidents))
    key_sums = pd.Series(keys).groupby(starts).sum() % KEY_MOD
    full = period_range(counts.index.min(), counts.index.max(), gran)
    counts = counts.reindex(full, fill_value=0)
    return pd.DataFrame({
        "period_start": counts.index.astype("datetime64[us]"),
        "period": [period_label(d, gran) for d in counts.index],
        "antal": counts.to_numpy().astype("int64"),
        f"antal{KEY_SUFFIX}": key_sums.reindex(full, fill_value=0).to_numpy().astype("int64"),
    })
