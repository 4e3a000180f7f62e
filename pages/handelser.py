"""Händelser (EST): the weekly lägesbild, trends, heat map, hotspots, reporters, map and
(officials only) the latest incident rows with their descriptions.

All counts go through ``hjo_data.disclosure`` (public mode: "<5", secondary "..", charts
drawn from the values with hidden cells as NaN). The aggregations run on the integer-coded
``est.IncidentCube`` (built once per loaded bundle), not on the incident rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from hjo_data import audit, est, export, figures, periods
from hjo_data import disclosure as dc
from hjo_data.formatting import (
    SWEDISH_WEEKDAYS_SHORT,
    fmt_change,
    fmt_date,
    fmt_float,
    fmt_int,
    fmt_pct,
    fmt_week,
)
from hjo_data.indicators import LABEL_NO_DATA
from hjo_data.schema import source_text
from ui.auth import current_user
from ui.charts import show_figure
from ui.context import bundle_key, page_setup
from ui.widgets import show_empty, show_suppression_note

SOURCE = source_text("incidents")
ctx = page_setup("Händelser (EST)", filters={"period", "area", "category", "source"})
data_date = ctx.bundle.data_date.get("incidents")
aud = ctx.audience
settings = ctx.settings
flt = ctx.filters
# The weekly comparison needs earlier weeks: all filters except the period.
no_period = est.incident_cube(ctx.bundle.frame("incidents")).where(
    categories=flt.categories, areas=flt.areas, sources=flt.sources)
incidents = no_period.where(start=flt.start, end=flt.end)


@st.cache_resource(max_entries=96, show_spinner=False)
def _cached(name: str, key: str, _compute: Callable[[], Any]) -> Any:
    """Section results (prepared tables, figures) per bundle and relevant filter values:
    a rerun that does not change a section's inputs (another widget, the granularity, the
    period for the weekly comparison) reuses them. Treat the results as read-only."""
    del name, key
    return _compute()


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
as_of = periods.reference_day(data_date, end=flt.end)
# Cache keys: the weekly comparison and hotspots ignore the period (except as_of).
# As repr strings: st.cache_resource hashes its arguments on every call (a tuple with the
# settings dataclass cost ~1,5 ms a call, ~12 calls a rerun; a string is nearly free).
_week_key = (bundle_key(ctx.bundle), flt.categories, flt.areas, flt.sources, as_of, aud,
             settings)
KEY_WEEK = repr(_week_key)
KEY_PERIOD = repr((*_week_key, flt.start, flt.end))

# ----------------------------------------------------------------- weekly lägesbild
WEEK_COUNTS = ["count", "baseline_total", "last_year"]
WEEK_DERIVED = {"baseline": "baseline_total", "diff": ("count", "baseline_total")}


def _week(by: str) -> tuple[est.EstWeek, dc.PreparedTable]:
    week = est.weekly_lagesbild(no_period, as_of=as_of, by=by)
    prepared = dc.prepare_columns(week.table, WEEK_COUNTS, aud, settings, label="group",
                                  derived=WEEK_DERIVED)
    return week, prepared


week, week_prep = _cached("week_category", KEY_WEEK, lambda: _week("category"))
total, total_shown = week.total, week_prep.display.iloc[0]
total_hidden = bool(week_prep.suppressed.iloc[0][["count", "baseline_total"]].any())
st.subheader(f"Veckans lägesbild – {fmt_week(week.week_start, with_year=True)} "
             f"({fmt_date(week.week_start)}–{fmt_date(week.week_end)})")
delta = figures.metric_delta(None if total_hidden else total["diff"], desired="down",
                             significant=bool(total["significant"]))
c1, c2, c3 = st.columns(3)
c1.metric("Händelser senaste hela veckan", total_shown["count"], delta=delta.text,
          delta_arrow=delta.arrow, delta_color=delta.color,
          help="Jämfört med snittet för de fyra föregående veckorna. Färre händelser är "
               "önskad riktning.")
c2.metric("Snitt föregående 4 veckor", dc.formatted(
    week_prep.display["baseline"].iloc[:1], lambda v: fmt_float(v, 1)).iloc[0])
c3.metric("Samma vecka i fjol", total_shown["last_year"])
st.caption(f"Förändring mot snittet: **{total['change']}** (Poisson-test, 5 % nivå).")


def _week_table(shown: pd.DataFrame, group_label: str) -> pd.DataFrame:
    return pd.DataFrame({
        group_label: shown["group"].to_numpy(),
        "Senaste veckan": shown["count"].to_numpy(),
        "Snitt 4 veckor": dc.formatted(shown["baseline"], lambda v: fmt_float(v, 1)).to_numpy(),
        "Samma vecka i fjol": shown["last_year"].to_numpy(),
        "Skillnad mot snitt": dc.formatted(
            shown["diff"], lambda v: fmt_change(v, decimals=1)).to_numpy(),
        "Bedömning": shown["change"].to_numpy(),
    })


def _week_section(by: str, label: str) -> tuple[Any, pd.DataFrame, dc.PreparedTable]:
    prepared = week_prep if by == "category" else _week(by)[1]
    if len(prepared.display) <= 1:
        return None, pd.DataFrame(), prepared
    body = dc.hidden_last(dc.PreparedTable(
        prepared.display.iloc[1:], prepared.numeric.iloc[1:], prepared.suppressed.iloc[1:],
        prepared.note, aud, "counts"), "count", label="group")
    fig = figures.est_week_bars(
        body.numeric.head(12), texts=body.display.head(12),
        title=f"Senaste veckan jämfört med tidigare, per {label.lower()}", group_title=label)
    return fig, _week_table(pd.concat([prepared.display.iloc[:1], body.display]), label), \
        prepared


for by, label, key in (("category", "Kategori", "est_vecka_kategori"),
                       ("area", "Område", "est_vecka_omrade")):
    fig, table, prepared = _cached(key, KEY_WEEK,
                                   lambda by=by, label=label: _week_section(by, label))
    if fig is None:
        show_empty(f"Inga händelser under de jämförda veckorna ({label.lower()}).")
        continue
    show_figure(fig, table, source=SOURCE, data_date=data_date, key=key)
    st.caption("▲/▼ på en stapel: antalet senaste veckan skiljer sig från snittet mer än "
               "slumpen brukar ge (Poisson-test, 5 % nivå); ▲ ökning, ▼ minskning.")
    show_suppression_note(prepared)

# ----------------------------------------------------------------- trends
st.subheader("Utveckling per månad")


def _monthly_section() -> tuple[Any, pd.DataFrame, dc.PreparedTable]:
    monthly = est.monthly_counts(incidents, by="category", top=6)
    pivot = monthly.pivot(index="month", columns="group", values="count")
    prepared = dc.prepare_table(pivot, aud, settings, kind="counts")
    long = prepared.numeric.stack(future_stack=True).rename("count").reset_index()
    long["shown"] = prepared.display.stack(future_stack=True).to_numpy()
    fig = figures.count_lines(long, x="month", group="group", value_text="shown",
                              title="Händelser per månad och kategori", x_title="Månad",
                              y_title="Antal händelser per månad", legend_title="Kategori",
                              data_until=as_of)
    return fig, pd.DataFrame({"Månad": long["month"].dt.strftime("%Y-%m"),
                              "Kategori": long["group"], "Antal": long["shown"]}), prepared


fig, table, month_prep = _cached("est_manad", KEY_PERIOD, _monthly_section)
show_figure(fig, table, source=SOURCE, data_date=data_date, key="est_manad")
show_suppression_note(month_prep)

# ----------------------------------------------------------------- heat map
grid = _cached("heat", KEY_PERIOD, lambda: est.heatmap_counts(incidents))
if int(grid.to_numpy().sum()) == 0:
    show_empty("Inga händelser med känt klockslag i urvalet – värmekartan kan inte ritas.")
else:
    # Public: 3-hour blocks (per-hour cells of a small municipality are mostly below the
    # threshold, so suppression would blank the chart).
    hours = 1 if ctx.is_official else 3

    def _heat_section() -> tuple[Any, pd.DataFrame, dc.PreparedTable]:
        cells = grid if hours == 1 else est.coarse_heatmap(grid, hours)
        prepared = dc.prepare_table(cells, aud, settings, kind="counts")
        fig = figures.weekday_hour_heatmap(
            prepared.numeric, texts=prepared.display, hours_per_cell=hours,
            title="När händer det? Veckodag och "
            + ("timme" if hours == 1 else "tid på dygnet") + " (händelser med känt klockslag)")
        table = prepared.display.copy()
        table.index = [SWEDISH_WEEKDAYS_SHORT[i] for i in cells.index]
        table.columns = [f"{h:02d}" if hours == 1 else f"{h:02d}–{(h + hours) % 24:02d}"
                         for h in cells.columns]
        return fig, table.reset_index(names="Veckodag"), prepared

    fig, heat_table, heat_prep = _cached("est_heatmap", KEY_PERIOD, _heat_section)
    show_figure(fig, heat_table, source=SOURCE, data_date=data_date, key="est_heatmap")
    if hours > 1:
        st.caption("I publikt läge visas tre timmar per ruta, så att så få rutor som möjligt "
                   "behöver döljas.")
    show_suppression_note(heat_prep)

# ----------------------------------------------------------------- hotspots
st.subheader("Områden – var ökar problemen?")


def _spots_section() -> tuple[Any, pd.DataFrame, dc.PreparedTable] | None:
    spots = est.hotspots(no_period, population, as_of=as_of, window_weeks=4)
    spots = spots[(spots["count"] > 0) | (spots["baseline"] > 0)]
    if spots.empty:
        return None
    spots = spots.assign(baseline_total=(spots["baseline"] * est.BASELINE_WEEKS).round()
                         .astype("int64"))
    spot_prep = dc.hidden_last(dc.prepare_columns(
        spots, ["count", "baseline_total"], aud, settings,
        derived={"per_1000": "count", "baseline": "baseline_total",
                 "diff": ("count", "baseline_total")}), "count", label="area")
    shown, values = spot_prep.display, spot_prep.numeric
    per_1000 = dc.formatted(shown["per_1000"], lambda v: fmt_float(v, 1))
    values = values.assign(shown=shown["count"].to_numpy(), hover=[
        f"{r} per 1 000 inv. · {c}" for r, c in zip(per_1000, shown["change"], strict=True)])
    fig = figures.bar_chart(values.head(15), x="count", y="area", value_text="shown",
                            title="Händelser per område, senaste fyra hela veckorna",
                            x_title="Antal händelser (4 veckor)", y_title=None, hover="hover")
    table = pd.DataFrame({
        "Område": shown["area"].to_numpy(), "Antal (4 veckor)": shown["count"].to_numpy(),
        "Per 1 000 invånare": per_1000.to_numpy(),
        "Snitt tidigare 4-veckorsperioder": dc.formatted(
            shown["baseline"], lambda v: fmt_float(v, 1)).to_numpy(),
        "Skillnad": dc.formatted(shown["diff"], lambda v: fmt_change(v, decimals=1)).to_numpy(),
        "Bedömning": shown["change"].to_numpy(),
    })
    return fig, table, spot_prep


spots_section = _cached("est_hotspots", KEY_WEEK, _spots_section)
if spots_section is None:
    show_empty("Inga händelser de senaste fyra hela veckorna.")
else:
    fig, table, spot_prep = spots_section
    show_figure(fig, table, source=f"{SOURCE}; befolkning: referensdata (ungefärlig)",
                data_date=data_date, key="est_hotspots")
    show_suppression_note(spot_prep)

# ----------------------------------------------------------------- reporters


def _sources_section() -> tuple[Any, pd.DataFrame, dc.PreparedTable]:
    prepared = dc.hidden_last(dc.prepare_columns(
        est.counts_by(incidents, "source"), ["count"], aud, settings,
        derived={"share": "count"}), "count", label="group")
    fig = figures.bar_chart(prepared.numeric.assign(
        shown=prepared.display["count"].to_numpy()),
        x="count", y="group", value_text="shown", colour_index=2,
        title="Händelser per rapportör", x_title="Antal händelser", y_title=None)
    return fig, pd.DataFrame({"Rapportör": prepared.display["group"].to_numpy(),
                              "Antal": prepared.display["count"].to_numpy(),
                              "Andel": dc.formatted(prepared.display["share"],
                                                    fmt_pct).to_numpy()}), prepared


fig, table, src_prep = _cached("est_rapportor", KEY_PERIOD, _sources_section)
show_figure(fig, table, source=SOURCE, data_date=data_date, key="est_rapportor")
show_suppression_note(src_prep)

# ----------------------------------------------------------------- map
st.subheader("Karta")
if not geojson:
    show_empty("Kartan saknas: referensfilen med områdesgränser kunde inte läsas.")
else:
    # Per year over the part of the selection that has reports: comparable across periods.
    years = est.covered_years(est.incident_cube(ctx.bundle.frame("incidents")), flt.start,
                              flt.end)
    rates = _cached("rates", KEY_PERIOD,
                    lambda: est.area_rates(incidents, population, years=years))
    rate_prep = dc.prepare_columns(rates, ["count"], aud, settings,
                                   derived={"per_1000": "count"})
    shown = rate_prep.display
    points = est.incident_points(ctx.frames["incidents"]) if ctx.is_official else None
    no_rate = est.rate_missing_text(years)  # too short a selection: colour by count
    fig = figures.area_map(rate_prep.numeric.assign(shown=shown["count"].to_numpy()),
                           geojson, value="count" if no_rate else "per_1000",
                           count_text="shown", rate_note=no_rate and LABEL_NO_DATA,
                           title=("Händelser per område" if no_rate else "Händelser per 1 000 "
                                  "invånare och år, per område") + " (valt urval)",
                           colour_title="Antal" if no_rate else "Per 1 000 inv. och år",
                           points=points)
    show_figure(fig, pd.DataFrame({
        "Område": shown["area"].to_numpy(), "Antal": shown["count"].to_numpy(),
        "Per 1 000 invånare och år": dc.formatted(shown["per_1000"],
                                                  lambda v: fmt_float(v, 1)).to_numpy()}),
                source=f"{SOURCE}; områdesgränser schematiska", data_date=data_date,
                key="est_karta")
    show_suppression_note(rate_prep)
    if no_rate:
        st.caption(no_rate)
    elif years == years:  # not NaN
        st.caption(f"Räknat per år: urvalet har rapporter under {fmt_float(years, 1)} år.")
    if not ctx.is_official:
        st.caption("Exakta positioner visas bara i tjänstepersonsläget.")

# ----------------------------------------------------------------- rows (officials only)
#: How many of the latest filtered incidents the row table shows (and its CSV holds).
LATEST_ROWS = 200


def _latest_rows(frame: pd.DataFrame, n: int = LATEST_ROWS) -> pd.DataFrame:
    """The ``n`` latest incidents as a Swedish table: time (ISO, with the clock only when
    known), category, area, reporter, description."""
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


def _audited_csv(make: Callable[[], bytes], rows: int, selection: str
                 ) -> Callable[[], bytes]:
    """``make`` for ``st.download_button(data=...)``, which calls it on click: rows with
    descriptions leave the system, so the audit log records who took how many, and which
    selection."""
    user = current_user()

    def build() -> bytes:
        data = make()
        audit.log_event("export", user.name if user else None,
                        role=user.role if user else None, dataset="incidents",
                        counts={"rows": rows}, detail=selection)
        return data
    return build


# Row-level data (descriptions) exist only in the officials' view: in public mode this
# section is not rendered at all.
if ctx.is_official:
    st.subheader("Senaste händelser (rader)")
    latest = _cached("latest_rows", KEY_PERIOD, lambda: _latest_rows(ctx.frames["incidents"]))
    st.caption(f"De {min(LATEST_ROWS, len(latest))} senaste händelserna i urvalet, nyast "
               "först, med beskrivning. Visas bara i tjänstepersonsläget.")
    st.dataframe(latest, hide_index=True, key="est_rader")
    selection_text = "; ".join(f"{k}={v}" for k, v in flt.to_query().items()) or \
        "hela perioden"
    st.download_button("Ladda ner CSV (visade rader)",
                       data=_audited_csv(lambda: export.to_csv_bytes(latest), len(latest),
                                         f"{selection_text} (senaste {len(latest)})"),
                       file_name="senaste_handelser.csv", mime="text/csv", key="est_rader_csv",
                       on_click="ignore", icon=":material/download:")

    # Every incident of the selection, for the weekly lägesbild: the same Swedish columns as
    # the official dataset export (so the file can be ingested again). The CSV is built only
    # when the button is clicked (a callable as ``data``, run by Streamlit in its own thread),
    # never on a rerun, so the page stays fast with a million incidents; on_click="ignore":
    # no rerun, which would replace the callable while the click is being served.
    selection = ctx.frames["incidents"]
    n_all = len(selection)
    period = "_".join(str(d) for d in (flt.start, flt.end) if d is not None)
    st.download_button(
        f"Ladda ner alla {fmt_int(n_all)} händelser i urvalet (CSV)" if n_all != 1
        else "Ladda ner den enda händelsen i urvalet (CSV)",
        data=_audited_csv(lambda: export.export_dataset(
            selection.sort_values("occurred_at", kind="stable"), "incidents", aud),
            n_all, selection_text),
        file_name=f"handelser_{period or 'urval'}.csv",
        mime="text/csv", key="est_alla_csv", on_click="ignore", icon=":material/download:")
    st.caption("Hela urvalet (period, område, kategori och rapportör enligt sidomenyn) i "
               "tidsordning, med samma kolumner som den fullständiga exporten. Filen skapas "
               "när du klickar – för stora urval kan det ta en stund. Den kan läsas in igen "
               "under Datahantering eller med `python -m hjo_data ingest`.")
