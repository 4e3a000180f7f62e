"""The Händelser page's sections as pure functions: each returns the figure, the Swedish
display table and the disclosed (``disclosure``) table of one chart, for one audience.

Counts go through ``hjo_data.disclosure`` (public mode: "<5", secondary "..", charts drawn
from the values with hidden cells as NaN). Aggregations run on the integer-coded
``est.IncidentCube``, not on the incident rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hjo_data import disclosure as dc
from hjo_data import est, figures, reference
from hjo_data.disclosure import DisclosureSettings
from hjo_data.formatting import SWEDISH_WEEKDAYS_SHORT, fmt_change, fmt_float, fmt_pct
from hjo_data.indicators import LABEL_NO_DATA

WEEK_COUNTS = ["count", "baseline_total", "last_year"]
#: Columns computed from the counts: hidden with them; public mode recomputes them from
#: the published (perturbed) counts, so no rate or assessment reveals a true count.
WEEK_DERIVED = {"baseline": "baseline_total", "diff": ("count", "baseline_total"),
                "significant": ("count", "baseline_total"),
                "change": ("count", "baseline_total")}


def _diff(published: pd.DataFrame) -> pd.Series:
    return published["count"] - published["baseline_total"] / est.BASELINE_WEEKS


def _significant(published: pd.DataFrame) -> pd.Series:
    return pd.Series(est.change_labels(published["count"], published["baseline_total"])[0],
                     index=published.index)


def _change(published: pd.DataFrame) -> pd.Series:
    return pd.Series(est.change_labels(published["count"], published["baseline_total"])[1],
                     index=published.index)


#: How public mode recomputes the derived columns from published counts.
CHANGE_FORMULAS = {"diff": _diff, "significant": _significant, "change": _change}
MAP_RATE_TITLE = "Händelser per 1 000 invånare och år, per område"
#: The map's colour legend: what the rate is (count / inhabitants / years × 1 000).
MAP_RATE_LEGEND = "Händelser per<br>1 000 invånare<br>och år"
DENSITY_TITLE = ("Var händer det? Händelser med känd position per ruta "
                 "(endast tjänstepersoner)")
#: How many of the latest filtered incidents the officials' row table shows.
LATEST_ROWS = 200


class ChartSection(NamedTuple):
    """One chart of the page: figure (None: nothing to draw), display table, prepared."""

    figure: Any
    table: pd.DataFrame
    prepared: dc.PreparedTable


def _one_decimal(values: pd.Series) -> pd.Series:
    return dc.formatted(values, lambda v: fmt_float(v, 1))


def weekly(cube: est.IncidentCube, as_of: date, by: str, audience: str,
           settings: DisclosureSettings) -> tuple[est.EstWeek, dc.PreparedTable]:
    """The last whole week against the four before and the same week last year, per
    ``by``; the first row is the total."""
    week = est.weekly_lagesbild(cube, as_of=as_of, by=by)
    return week, dc.prepare_columns(week.table, WEEK_COUNTS, audience, settings,
                                    label="group", derived=WEEK_DERIVED,
                                    formulas=CHANGE_FORMULAS)


def _week_table(shown: pd.DataFrame, group_label: str) -> pd.DataFrame:
    return pd.DataFrame({
        group_label: shown["group"].to_numpy(),
        "Senaste veckan": shown["count"].to_numpy(),
        "Snitt 4 veckor": _one_decimal(shown["baseline"]).to_numpy(),
        "Samma vecka i fjol": shown["last_year"].to_numpy(),
        "Skillnad mot snitt": dc.formatted(
            shown["diff"], lambda v: fmt_change(v, decimals=1)).to_numpy(),
        "Bedömning": shown["change"].to_numpy(),
    })


def week_section(prepared: dc.PreparedTable, label: str) -> ChartSection:
    """Bars of the last week per group (``prepared`` from :func:`weekly`)."""
    if len(prepared.display) <= 1:
        return ChartSection(None, pd.DataFrame(), prepared)
    body = dc.hidden_last(dc.PreparedTable(
        prepared.display.iloc[1:], prepared.numeric.iloc[1:], prepared.suppressed.iloc[1:],
        prepared.note, prepared.audience, "counts"), "count", label="group")
    fig = figures.est_week_bars(
        body.numeric.head(12), texts=body.display.head(12),
        title=f"Senaste veckan jämfört med tidigare, per {label.lower()}", group_title=label)
    return ChartSection(fig, _week_table(pd.concat([prepared.display.iloc[:1], body.display]),
                                         label), prepared)


def monthly_section(incidents: est.IncidentCube, audience: str,
                    settings: DisclosureSettings, data_until: date) -> ChartSection:
    """Incidents per month for the six largest categories (the month holding
    ``data_until`` is drawn as partial when the data end inside it)."""
    monthly = est.monthly_counts(incidents, by="category", top=6)
    pivot = monthly.pivot(index="month", columns="group", values="count")
    keys = monthly.pivot(index="month", columns="group", values=est.KEY_COLUMN)
    prepared = dc.prepare_table(pivot, audience, settings, kind="counts", keys=keys)
    long = prepared.numeric.stack(future_stack=True).rename("count").reset_index()
    long["shown"] = prepared.display.stack(future_stack=True).to_numpy()
    fig = figures.count_lines(long, x="month", group="group", value_text="shown",
                              title="Händelser per månad och kategori", x_title="Månad",
                              y_title="Antal händelser per månad", legend_title="Kategori",
                              data_until=data_until)
    return ChartSection(fig, pd.DataFrame({"Månad": long["month"].dt.strftime("%Y-%m"),
                                           "Kategori": long["group"],
                                           "Antal": long["shown"]}), prepared)


def heat_section(grid: pd.DataFrame, hours: int, audience: str,
                 settings: DisclosureSettings, keys: pd.DataFrame | None = None
                 ) -> ChartSection:
    """Weekday × hour (``hours`` per cell) of incidents with a known time; ``keys``: the
    grid's cell keys (``est.heatmap_keys``; public counts are then perturbed)."""
    cells = grid if hours == 1 else est.coarse_heatmap(grid, hours)
    if keys is not None and hours != 1:
        keys = est.coarse_heatmap(keys, hours, keys=True)
    prepared = dc.prepare_table(cells, audience, settings, kind="counts", keys=keys)
    fig = figures.weekday_hour_heatmap(
        prepared.numeric, texts=prepared.display, hours_per_cell=hours,
        title="När händer det? Veckodag och "
        + ("timme" if hours == 1 else "tid på dygnet") + " (händelser med känt klockslag)")
    table = prepared.display.copy()
    table.index = [SWEDISH_WEEKDAYS_SHORT[i] for i in cells.index]
    table.columns = [f"{h:02d}" if hours == 1 else f"{h:02d}–{(h + hours) % 24:02d}"
                     for h in cells.columns]
    return ChartSection(fig, table.reset_index(names="Veckodag"), prepared)


def hotspots_section(cube: est.IncidentCube, population: pd.DataFrame, as_of: date,
                     audience: str, settings: DisclosureSettings) -> ChartSection | None:
    """Areas over the last four whole weeks against earlier four-week periods."""
    spots = est.hotspots(cube, population, as_of=as_of, window_weeks=4)
    spots = spots[(spots["count"] > 0) | (spots["baseline"] > 0)]
    if spots.empty:
        return None
    spots = spots.assign(baseline_total=(spots["baseline"] * est.BASELINE_WEEKS).round()
                         .astype("int64"))
    prepared = dc.hidden_last(dc.prepare_columns(
        spots, ["count", "baseline_total"], audience, settings,
        derived={"per_1000": "count", "baseline": "baseline_total",
                 "diff": ("count", "baseline_total"),
                 "significant": ("count", "baseline_total"),
                 "change": ("count", "baseline_total")},
        formulas=CHANGE_FORMULAS), "count", label="area")
    shown, values = prepared.display, prepared.numeric
    per_1000 = _one_decimal(shown["per_1000"])
    values = values.assign(shown=shown["count"].to_numpy(), hover=[
        f"{r} per 1 000 inv. · {c}" for r, c in zip(per_1000, shown["change"], strict=True)])
    fig = figures.bar_chart(values.head(15), x="count", y="area", value_text="shown",
                            title="Händelser per område, senaste fyra hela veckorna",
                            x_title="Antal händelser (4 veckor)", y_title=None, hover="hover")
    return ChartSection(fig, pd.DataFrame({
        "Område": shown["area"].to_numpy(), "Antal (4 veckor)": shown["count"].to_numpy(),
        "Per 1 000 invånare": per_1000.to_numpy(),
        "Snitt tidigare 4-veckorsperioder": _one_decimal(shown["baseline"]).to_numpy(),
        "Skillnad": dc.formatted(shown["diff"], lambda v: fmt_change(v, decimals=1)).to_numpy(),
        "Bedömning": shown["change"].to_numpy(),
    }), prepared)


def sources_section(incidents: est.IncidentCube, audience: str,
                    settings: DisclosureSettings) -> ChartSection:
    """Incidents per reporter (public shares: of the published total)."""
    total = dc.published_value(incidents.total, incidents.total_key, audience, settings)
    prepared = dc.hidden_last(dc.prepare_columns(
        est.counts_by(incidents, "source"), ["count"], audience, settings,
        derived={"share": "count"},
        formulas={"share": lambda published: published["count"] / total}), "count",
        label="group")
    fig = figures.bar_chart(prepared.numeric.assign(
        shown=prepared.display["count"].to_numpy()),
        x="count", y="group", value_text="shown", colour_index=2,
        title="Händelser per rapportör", x_title="Antal händelser", y_title=None)
    return ChartSection(fig, pd.DataFrame({
        "Rapportör": prepared.display["group"].to_numpy(),
        "Antal": prepared.display["count"].to_numpy(),
        "Andel": dc.formatted(prepared.display["share"], fmt_pct).to_numpy()}), prepared)


def map_section(incidents: est.IncidentCube, population: pd.DataFrame, geojson: dict,
                years: float, audience: str, settings: DisclosureSettings,
                points: pd.DataFrame | None = None) -> ChartSection:
    """Incidents per 1 000 inhabitants and year per area: count / population / ``years``
    (the years of reports in the selection) × 1 000, from the published (public:
    perturbed) count; too short a selection is coloured by count (``est.rate_missing_text``).
    Each area's label on the map is the table's own text for it, so map and table agree.
    ``points``: exact positions (officials only; drawn as a density grid when many)."""
    rates = est.area_rates(incidents, population, years=years)
    prepared = dc.prepare_columns(rates, ["count"], audience, settings,
                                  derived={"per_1000": "count"})
    shown = prepared.display
    no_rate = est.rate_missing_text(years)
    rate_text = _one_decimal(shown["per_1000"])
    fig = figures.area_map(
        prepared.numeric.assign(shown=shown["count"].to_numpy(),
                                label=(shown["count"] if no_rate else rate_text).to_numpy()),
        geojson, value="count" if no_rate else "per_1000", count_text="shown",
        value_text="label", rate_note=no_rate and LABEL_NO_DATA,
        title=("Händelser per område" if no_rate else MAP_RATE_TITLE) + " (valt urval)",
        colour_title="Antal händelser" if no_rate else MAP_RATE_LEGEND, points=points)
    return ChartSection(fig, pd.DataFrame({
        "Område": shown["area"].to_numpy(), "Antal": shown["count"].to_numpy(),
        "Per 1 000 invånare och år": rate_text.to_numpy()}), prepared)


def density_section(points: pd.DataFrame | None, geojson: dict) -> ChartSection | None:
    """Officials only (positions are personal data): where the incidents with a known
    position happen, as counts per grid cell (``figures.density_map``) — drawn instead of
    single points when there are more than ``figures.MAP_MAX_POINTS``; None otherwise.
    The table lists the overview's non-empty cells, most incidents first."""
    if points is None or len(points) <= figures.MAP_MAX_POINTS:
        return None
    fig = figures.density_map(points, geojson, title=DENSITY_TITLE)
    heat = next(t for t in fig.data if t.type == "heatmap")
    counts, per_km2 = np.asarray(heat.customdata, dtype="float64"), np.asarray(heat.z)
    rows, cols = np.nonzero(np.isfinite(counts))
    cells = pd.DataFrame({"Latitud (rutans mitt)": np.round(np.asarray(heat.y)[rows], 4),
                          "Longitud (rutans mitt)": np.round(np.asarray(heat.x)[cols], 4),
                          "Antal": counts[rows, cols].astype("int64"),
                          "Per km²": [fmt_float(v, 0) for v in per_km2[rows, cols]]})
    cells = cells.sort_values("Antal", ascending=False, kind="stable").reset_index(drop=True)
    return ChartSection(fig, cells, dc.PreparedTable(cells, cells, None, "", "official",
                                                     "rows"))


def latest_rows(frame: pd.DataFrame, n: int = LATEST_ROWS,
                selected: np.ndarray | None = None) -> pd.DataFrame:
    """The ``n`` latest incidents as a Swedish table (officials only): time (ISO, with the
    clock only when known), category, area, reporter, description. ``selected``: positions
    of the selection in ``frame`` (``est.selected_rows``; only the latest are copied)."""
    if selected is not None:
        frame = frame.iloc[_latest_candidates(frame, selected, n)]
    rows = frame.nlargest(n, "occurred_at", keep="first") if len(frame) > n \
        else frame.sort_values("occurred_at", ascending=False, kind="stable")
    times = rows["occurred_at"]
    has_time = rows["occurred_at_has_time"].to_numpy(bool) \
        if "occurred_at_has_time" in rows else times.dt.time.astype(str).ne("00:00:00")
    when = times.dt.strftime("%Y-%m-%d %H:%M").where(has_time, times.dt.strftime("%Y-%m-%d"))
    description = rows["description"] if "description" in rows \
        else pd.Series("", index=rows.index, dtype="str")
    return pd.DataFrame({
        "Tidpunkt": when.fillna("").to_numpy(),
        "Kategori": rows["category"].to_numpy(), "Område": rows["area"].to_numpy(),
        "Rapportör": rows["source"].to_numpy(),
        "Beskrivning": description.fillna("").to_numpy()})


def _latest_candidates(frame: pd.DataFrame, selected: np.ndarray, n: int) -> np.ndarray:
    """The positions among ``selected`` that can be among its ``n`` latest: every row at
    or after the n-th latest time (ties included) and rows without a time, in frame order
    (``DataFrame.nlargest(keep="first")`` on them = on the whole selection)."""
    if len(selected) > n and est.time_sorted(frame):
        # Time order = frame order: the latest rows are at the end, ties of the cut just
        # before them (no gather of the whole selection's times).
        values = frame["occurred_at"].to_numpy()
        first = int(np.searchsorted(values, values[selected[-n]], "left"))
        return selected[int(np.searchsorted(selected, first, "left")):]
    times = frame["occurred_at"].to_numpy()[selected]
    nat = np.isnat(times)
    dated = times[~nat]
    if len(selected) <= n or len(dated) < n:
        return selected
    cut = np.partition(dated, len(dated) - n)[len(dated) - n]
    return selected[(times >= cut) | nat]


def reference_data() -> tuple[pd.DataFrame, dict | None]:
    """Population and area borders; (empty frame, None) when the reference files cannot
    be read (then no rates and no map)."""
    try:
        return reference.load_population(), reference.load_area_geojson()
    except Exception:  # noqa: BLE001 - reference files missing: no rates, no map
        return pd.DataFrame(), None
