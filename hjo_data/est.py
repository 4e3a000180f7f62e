"""EST (Effektiv Samordning för Trygghet): the weekly lägesbild and its aggregations.

Everything here reduces incident rows (up to ~1 000 000) to small frames that the figures
and tables receive; no function returns row-level data except ``incident_points`` (official
mode only, capped).

Weeks are ISO weeks starting on Monday. "Latest complete week" is the last week whose
Sunday lies before ``as_of`` (a week is not complete while reports can still arrive on its
Sunday). "Same week last year" is the week 52 weeks (364 days) earlier: it starts on the
same weekday and has the same ISO week number except around week 53.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hjo_data.indicators import compare_to_baseline

#: Number of previous weeks the weekly baseline averages over.
BASELINE_WEEKS = 4
#: Two-sided significance level for the "beyond noise" marker.
ALPHA = 0.05

TOTAL_LABEL = "Totalt"
NO_AREA_LABEL = "okänt område"


# --------------------------------------------------------------------------- weeks

def week_start(value: date | pd.Timestamp) -> pd.Timestamp:
    """Monday (00:00) of the ISO week containing ``value``."""
    ts = pd.Timestamp(value).normalize()
    return ts - pd.Timedelta(days=ts.weekday())


def latest_complete_week(as_of: date | pd.Timestamp) -> pd.Timestamp:
    """Monday of the latest ISO week that ended before ``as_of``'s week."""
    return week_start(as_of) - pd.Timedelta(days=7)


def _week_starts(times: pd.Series) -> pd.Series:
    """Vectorised Monday of each timestamp's ISO week (datetime64)."""
    day = times.dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


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
    current = week_start(week) if week is not None else latest_complete_week(as_of)
    base_starts = [current - pd.Timedelta(days=7 * i) for i in range(1, BASELINE_WEEKS + 1)]
    last_year = current - pd.Timedelta(days=364)
    wanted = [current, last_year, *base_starts]

    times = incidents["occurred_at"] if "occurred_at" in incidents else pd.Series(
        [], dtype="datetime64[us]")
    lo, hi = min(wanted), current + pd.Timedelta(days=7)
    in_range = (times >= lo) & (times < hi)
    sub = incidents.loc[in_range.to_numpy()]
    weeks = _week_starts(sub["occurred_at"]) if len(sub) else pd.Series([], dtype="datetime64[us]")
    keys = sub[by].fillna(NO_AREA_LABEL).astype(str) if len(sub) else pd.Series([], dtype="str")
    counts = pd.DataFrame({"week": weeks.to_numpy(), "group": keys.to_numpy()})
    counts = counts[counts["week"].isin(wanted)]
    table = counts.groupby(["group", "week"]).size().unstack("week", fill_value=0)
    table = table.reindex(columns=wanted, fill_value=0)
    total = table.sum(axis=0).to_frame().T
    total.index = [TOTAL_LABEL]
    table = pd.concat([total, table.sort_index()]) if len(table) else total

    out = pd.DataFrame({
        "group": table.index.astype(str),
        "count": table[current].to_numpy(dtype="int64"),
        "baseline_total": table[base_starts].sum(axis=1).to_numpy(dtype="int64"),
        "last_year": table[last_year].to_numpy(dtype="int64"),
    })
    out["baseline"] = out["baseline_total"] / BASELINE_WEEKS
    out["diff"] = out["count"] - out["baseline"]
    out["p_value"], out["significant"], out["change"] = _baseline_tests(
        out["count"], out["baseline_total"], alpha)
    body = out.iloc[1:].sort_values(["count", "baseline"], ascending=False, kind="stable")
    out = pd.concat([out.iloc[:1], body], ignore_index=True)
    cols = ["group", "count", "baseline", "baseline_total", "last_year", "diff", "p_value",
            "significant", "change"]
    return EstWeek(week_start=current, table=out[cols])


# --------------------------------------------------------------------------- trends

def monthly_counts(incidents: pd.DataFrame, *, by: str | None = "category",
                   top: int | None = 6) -> pd.DataFrame:
    """Incidents per calendar month (zero-filled between the first and last month).

    Returns long form: month (Timestamp, first of month), group, count. With ``top`` only
    the ``top`` largest groups are kept and the rest summed into "övriga".
    """
    cols = ["month", "group", "count"]
    if incidents.empty:
        return pd.DataFrame({"month": pd.Series([], dtype="datetime64[us]"),
                             "group": pd.Series([], dtype="str"),
                             "count": pd.Series([], dtype="int64")})
    months = incidents["occurred_at"].dt.to_period("M")
    groups = (incidents[by].fillna(NO_AREA_LABEL).astype(str) if by
              else pd.Series(TOTAL_LABEL, index=incidents.index))
    if top is not None and by:
        sizes = groups.value_counts()
        if len(sizes) > top:
            keep = set(sizes.index[:top])
            groups = groups.where(groups.isin(keep), "övriga")
    table = pd.crosstab(months, groups)
    full = pd.period_range(table.index.min(), table.index.max(), freq="M")
    table = table.reindex(full, fill_value=0)
    long = table.stack().rename("count").reset_index()
    long.columns = ["month", "group", "count"]
    long["month"] = long["month"].dt.to_timestamp()
    long["count"] = long["count"].astype("int64")
    return long[cols]


def heatmap_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Weekday × hour counts of incidents with a known time of day.

    Returns a 7 × 24 int frame: index weekday 0 (Monday)..6, columns hour 0..23. Rows
    without a time (``occurred_at_has_time`` False) are excluded — their 00:00 would
    otherwise pile up at midnight.
    """
    if incidents.empty:
        return pd.DataFrame(0, index=range(7), columns=range(24), dtype="int64")
    known = incidents["occurred_at_has_time"].to_numpy(dtype=bool) \
        if "occurred_at_has_time" in incidents else np.ones(len(incidents), dtype=bool)
    times = incidents["occurred_at"].to_numpy()[known]
    ts = pd.DatetimeIndex(times)
    cells = ts.day_of_week.to_numpy() * 24 + ts.hour.to_numpy()
    grid = np.bincount(cells[~pd.isna(times)] if len(cells) else cells, minlength=7 * 24)
    return pd.DataFrame(grid.reshape(7, 24).astype("int64"), index=range(7), columns=range(24))


def counts_by(incidents: pd.DataFrame, column: str) -> pd.DataFrame:
    """Incident count and share per value of ``column`` (e.g. ``source``), largest first."""
    if incidents.empty:
        return pd.DataFrame({"group": pd.Series([], dtype="str"),
                             "count": pd.Series([], dtype="int64"),
                             "share": pd.Series([], dtype="float64")})
    counts = incidents[column].fillna(NO_AREA_LABEL).astype(str).value_counts()
    out = pd.DataFrame({"group": counts.index.astype(str), "count": counts.to_numpy("int64")})
    out["share"] = out["count"] / out["count"].sum()
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
    end = latest_complete_week(as_of) + pd.Timedelta(days=7)
    span = pd.Timedelta(days=7 * window_weeks)
    start = end - span
    base_start = start - BASELINE_WEEKS * span
    times = incidents["occurred_at"]
    areas = incidents["area"].fillna(NO_AREA_LABEL).astype(str)
    cur_mask = ((times >= start) & (times < end)).to_numpy()
    base_mask = ((times >= base_start) & (times < start)).to_numpy()
    cur = areas[cur_mask].value_counts()
    base = areas[base_mask].value_counts()
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
    out = out.sort_values(["count", "per_1000"], ascending=False, kind="stable",
                          na_position="last")
    return out.reset_index(drop=True)


def area_rates(incidents: pd.DataFrame,
               population: pd.DataFrame | Mapping[str, float] | None) -> pd.DataFrame:
    """Count and per-1000 rate per area over the whole (filtered) frame — for the map."""
    counts = counts_by(incidents, "area")[["group", "count"]].rename(columns={"group": "area"})
    pops = population_map(population)
    counts["population"] = [pops.get(a, np.nan) for a in counts["area"]]
    counts["population"] = counts["population"].astype("float64")
    counts["per_1000"] = counts["count"] / counts["population"] * 1000
    return counts


def incident_points(incidents: pd.DataFrame, *, max_points: int = 3000,
                    seed: int = 0) -> pd.DataFrame:
    """Rows with a position (lat, lon, category, occurred_at), a random sample of at most
    ``max_points``. Positions are personal data: call only for the official audience."""
    cols = ["lat", "lon", "category", "occurred_at"]
    if incidents.empty or "lat" not in incidents or "lon" not in incidents:
        return pd.DataFrame(columns=cols)
    has = incidents["lat"].notna() & incidents["lon"].notna()
    pts = incidents.loc[has.to_numpy(), cols]
    if len(pts) > max_points:
        pts = pts.sample(n=max_points, random_state=seed)
    return pts.reset_index(drop=True)


def period_span(incidents: pd.DataFrame) -> tuple[date, date] | None:
    """First and last date of the incidents (None when empty)."""
    if incidents.empty:
        return None
    times = incidents["occurred_at"].dropna()
    if times.empty:
        return None
    return times.min().date(), times.max().date()


def weeks_between(a: date, b: date) -> int:
    """Whole weeks between two dates (for 'data cover N weeks' messages)."""
    return abs((b - a) // timedelta(days=7))
