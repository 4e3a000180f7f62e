"""Händelser (EST): the weekly lägesbild, trends, heat map, hotspots, reporters and map."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from hjo_data import est, figures
from hjo_data.filters import apply_filters
from hjo_data.formatting import (
    SWEDISH_WEEKDAYS_SHORT,
    fmt_change,
    fmt_date,
    fmt_float,
    fmt_int,
    fmt_pct,
    fmt_week,
)
from pages.common import page_setup, show_empty, show_figure

SOURCE = "EST-rapporter"
ctx = page_setup("Händelser (EST)", filters={"period", "area", "category", "source"})
incidents = ctx.frames["incidents"]
data_date = ctx.bundle.data_date.get("incidents")


def _reference_data() -> tuple[pd.DataFrame, dict | None]:
    try:
        from hjo_data import reference
        return reference.load_population(), reference.load_area_geojson()
    except Exception:  # noqa: BLE001 - reference files missing: no rates, no map
        return pd.DataFrame(), None


if data_date is None or incidents.empty:
    show_empty("Det finns inga händelser som matchar filtren. Välj en längre period eller "
               "färre avgränsningar i sidomenyn.")
    st.stop()

population, geojson = _reference_data()
as_of = data_date + timedelta(days=1)
if ctx.filters.end is not None:
    as_of = min(as_of, ctx.filters.end + timedelta(days=1))
# The weekly comparison needs earlier weeks: all filters except the period.
no_period = apply_filters(ctx.bundle.frame("incidents"), "incidents",
                          ctx.filters.with_(start=None, end=None))

# ----------------------------------------------------------------- weekly lägesbild
week = est.weekly_lagesbild(no_period, as_of=as_of, by="category")
total = week.total
st.subheader(f"Veckans lägesbild – {fmt_week(week.week_start, with_year=True)} "
             f"({fmt_date(week.week_start)}–{fmt_date(week.week_end)})")
c1, c2, c3 = st.columns(3)
c1.metric("Händelser senaste hela veckan", fmt_int(total["count"]),
          delta=fmt_change(total["diff"], decimals=1), delta_color="inverse",
          help="Jämfört med snittet för de fyra föregående veckorna.")
c2.metric("Snitt föregående 4 veckor", fmt_float(total["baseline"], 1))
c3.metric("Samma vecka i fjol", fmt_int(total["last_year"]))
st.caption(f"Förändring mot snittet: **{total['change']}** (Poisson-test, 5 % nivå).")


def _week_table(table: pd.DataFrame, group_label: str) -> pd.DataFrame:
    return pd.DataFrame({
        group_label: table["group"],
        "Senaste veckan": table["count"].map(fmt_int),
        "Snitt 4 veckor": table["baseline"].map(lambda v: fmt_float(v, 1)),
        "Samma vecka i fjol": table["last_year"].map(fmt_int),
        "Skillnad mot snitt": table["diff"].map(lambda v: fmt_change(v, decimals=1)),
        "Bedömning": table["change"],
    })


for by, label, key in (("category", "Kategori", "est_vecka_kategori"),
                       ("area", "Område", "est_vecka_omrade")):
    table = week.table if by == "category" else est.weekly_lagesbild(
        no_period, as_of=as_of, by=by).table
    body = table.iloc[1:]
    if body.empty:
        show_empty(f"Inga händelser under de jämförda veckorna ({label.lower()}).")
        continue
    fig = figures.est_week_bars(
        body.head(12), title=f"Senaste veckan jämfört med tidigare, per {label.lower()}",
        group_title=label)
    show_figure(fig, _week_table(table, label), source=SOURCE, data_date=data_date, key=key)

# ----------------------------------------------------------------- trends
st.subheader("Utveckling per månad")
monthly = est.monthly_counts(incidents, by="category", top=6)
fig = figures.count_lines(monthly, x="month", group="group",
                          title="Händelser per månad och kategori", x_title="Månad",
                          y_title="Antal händelser per månad", legend_title="Kategori")
show_figure(fig, monthly.assign(month=monthly["month"].dt.strftime("%Y-%m")).rename(
    columns={"month": "Månad", "group": "Kategori", "count": "Antal"}),
    source=SOURCE, data_date=data_date, key="est_manad")

# ----------------------------------------------------------------- heat map
grid = est.heatmap_counts(incidents)
if int(grid.to_numpy().sum()) == 0:
    show_empty("Inga händelser med känt klockslag i urvalet – värmekartan kan inte ritas.")
else:
    fig = figures.weekday_hour_heatmap(grid, title="När händer det? Veckodag och timme "
                                       "(händelser med känt klockslag)")
    heat_table = grid.copy()
    heat_table.index = [SWEDISH_WEEKDAYS_SHORT[i] for i in grid.index]
    heat_table.columns = [f"{h:02d}" for h in grid.columns]
    show_figure(fig, heat_table.reset_index(names="Veckodag"), source=SOURCE,
                data_date=data_date, key="est_heatmap")

# ----------------------------------------------------------------- hotspots
st.subheader("Områden – var ökar problemen?")
spots = est.hotspots(no_period, population, as_of=as_of, window_weeks=4)
spots = spots[(spots["count"] > 0) | (spots["baseline"] > 0)]
if spots.empty:
    show_empty("Inga händelser de senaste fyra hela veckorna.")
else:
    spots = spots.assign(hover=[f"{fmt_float(r, 1)} per 1 000 inv. · {c}"
                                for r, c in zip(spots["per_1000"], spots["change"],
                                                strict=True)])
    fig = figures.bar_chart(spots.head(15), x="count", y="area",
                            title="Händelser per område, senaste fyra hela veckorna",
                            x_title="Antal händelser (4 veckor)", y_title=None, hover="hover")
    table = pd.DataFrame({
        "Område": spots["area"], "Antal (4 veckor)": spots["count"].map(fmt_int),
        "Per 1 000 invånare": spots["per_1000"].map(lambda v: fmt_float(v, 1)),
        "Snitt tidigare 4-veckorsperioder": spots["baseline"].map(lambda v: fmt_float(v, 1)),
        "Skillnad": spots["diff"].map(lambda v: fmt_change(v, decimals=1)),
        "Bedömning": spots["change"],
    })
    show_figure(fig, table, source=f"{SOURCE}; befolkning: referensdata (ungefärlig)",
                data_date=data_date, key="est_hotspots")

# ----------------------------------------------------------------- reporters
sources = est.counts_by(incidents, "source")
fig = figures.bar_chart(sources, x="count", y="group", title="Händelser per rapportör",
                        x_title="Antal händelser", y_title=None, colour_index=2)
show_figure(fig, pd.DataFrame({"Rapportör": sources["group"],
                               "Antal": sources["count"].map(fmt_int),
                               "Andel": sources["share"].map(fmt_pct)}),
            source=SOURCE, data_date=data_date, key="est_rapportor")

# ----------------------------------------------------------------- map
st.subheader("Karta")
if not geojson:
    show_empty("Kartan saknas: referensfilen med områdesgränser kunde inte läsas.")
else:
    rates = est.area_rates(incidents, population)
    points = est.incident_points(incidents) if ctx.is_official else None
    fig = figures.area_map(rates, geojson, value="per_1000",
                           title="Händelser per 1 000 invånare och område (valt urval)",
                           colour_title="Per 1 000 inv.", points=points)
    show_figure(fig, pd.DataFrame({"Område": rates["area"], "Antal": rates["count"].map(fmt_int),
                                   "Per 1 000 invånare": rates["per_1000"].map(
                                       lambda v: fmt_float(v, 1))}),
                source=f"{SOURCE}; områdesgränser schematiska", data_date=data_date,
                key="est_karta")
    if not ctx.is_official:
        st.caption("Exakta positioner visas bara i tjänstepersonsläget.")
