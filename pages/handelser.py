"""Händelser (EST): the weekly lägesbild, trends, heat map, hotspots, reporters, map and
(officials only) the latest incident rows with their descriptions.

The sections are computed in ``hjo_data.est_sections`` (disclosed for the audience) and
cached per bundle and relevant filter values; this page lays them out.
"""

from __future__ import annotations

import streamlit as st

from hjo_data import est, export, figures, periods
from hjo_data import est_sections as sec
from hjo_data.disclosure import FEW_INCIDENTS_SV, SECONDARY_MARK, formatted, is_small
from hjo_data.formatting import fmt_date, fmt_float, fmt_int, fmt_week
from hjo_data.schema import source_text
from ui.charts import show_figure
from ui.context import bundle_key, cached, page_setup
from ui.widgets import audited, show_empty, show_suppression_note

SOURCE = source_text("incidents")
ctx = page_setup("Händelser (EST)", filters={"period", "area", "category", "source"},
                 datasets=("incidents",))
data_date = ctx.bundle.data_date.get("incidents")
aud, settings, flt = ctx.audience, ctx.settings, ctx.filters
# The weekly comparison needs earlier weeks: all filters except the period.
no_period = est.incident_cube(ctx.bundle.frame("incidents")).where(
    categories=flt.categories, areas=flt.areas, sources=flt.sources)
incidents = no_period.where(start=flt.start, end=flt.end)

few = not ctx.is_official and is_small(incidents.total, settings, key=incidents.total_key)
if data_date is None or incidents.empty or few:
    # Public: 0 and a few incidents read the same (a blank page would tell them apart).
    show_empty(FEW_INCIDENTS_SV.format(mark=settings.small_mark) if few else
               "Det finns inga händelser som matchar filtren. Välj en längre period eller "
               "färre avgränsningar i sidomenyn.")
    st.stop()

population, geojson = sec.reference_data()
as_of = periods.reference_day(data_date, end=flt.end)
# Cache keys: the weekly comparison and hotspots ignore the period (except as_of).
_week_key = (bundle_key(ctx.bundle), flt.categories, flt.areas, flt.sources, as_of, aud,
             settings)
KEY_WEEK = repr(_week_key)
KEY_PERIOD = repr((*_week_key, flt.start, flt.end))


def _show(section: sec.ChartSection, key: str, source: str = SOURCE) -> None:
    show_figure(section.figure, section.table, source=source, data_date=data_date, key=key)
    show_suppression_note(section.prepared)


# ----------------------------------------------------------------- weekly lägesbild
week, week_prep = cached("week_category", KEY_WEEK,
                         lambda: sec.weekly(no_period, as_of, "category", aud, settings))
# The total row as published (public: perturbed, its change recomputed from that).
total, total_shown = week_prep.numeric.iloc[0], week_prep.display.iloc[0]
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
c2.metric("Snitt föregående 4 veckor", formatted(
    week_prep.display["baseline"].iloc[:1], lambda v: fmt_float(v, 1)).iloc[0])
c3.metric("Samma vecka i fjol", total_shown["last_year"])
if total_shown["change"] != SECONDARY_MARK:
    st.caption(f"Förändring mot snittet: **{total['change']}** (Poisson-test, 5 % nivå).")

for by, label, key in (("category", "Kategori", "est_vecka_kategori"),
                       ("area", "Område", "est_vecka_omrade")):
    section = cached(key, KEY_WEEK, lambda by=by, label=label: sec.week_section(
        week_prep if by == "category" else sec.weekly(no_period, as_of, by, aud, settings)[1],
        label))
    if section.figure is None:
        show_empty(f"Inga händelser under de jämförda veckorna ({label.lower()}).")
        continue
    show_figure(section.figure, section.table, source=SOURCE, data_date=data_date, key=key)
    st.caption("▲/▼ på en stapel: antalet senaste veckan skiljer sig från snittet mer än "
               "slumpen brukar ge (Poisson-test, 5 % nivå); ▲ ökning, ▼ minskning.")
    show_suppression_note(section.prepared)

# ----------------------------------------------------------------- trends and heat map
st.subheader("Utveckling per månad")
_show(cached("est_manad", KEY_PERIOD, lambda: sec.monthly_section(incidents, aud, settings,
                                                                  as_of)),
      "est_manad")

grid = cached("heat", KEY_PERIOD, lambda: est.heatmap_counts(incidents))
heat_keys = cached("heat_keys", KEY_PERIOD, lambda: est.heatmap_keys(incidents))
if int(grid.to_numpy().sum()) == 0:
    show_empty("Inga händelser med känt klockslag i urvalet – värmekartan kan inte ritas.")
else:
    # Public: 3-hour blocks (per-hour cells of a small municipality are mostly below the
    # threshold, so suppression would blank the chart).
    hours = 1 if ctx.is_official else 3
    _show(cached("est_heatmap", KEY_PERIOD,
                 lambda: sec.heat_section(grid, hours, aud, settings, heat_keys)), "est_heatmap")
    if hours > 1:
        st.caption("I publikt läge visas tre timmar per ruta, så att så få rutor som möjligt "
                   "behöver döljas.")

# ----------------------------------------------------------------- hotspots, reporters
st.subheader("Områden – var ökar problemen?")
spots = cached("est_hotspots", KEY_WEEK, lambda: sec.hotspots_section(
    no_period, population, as_of, aud, settings))
if spots is None:
    show_empty("Inga händelser de senaste fyra hela veckorna.")
else:
    _show(spots, "est_hotspots", f"{SOURCE}; befolkning: referensdata (ungefärlig)")
_show(cached("est_rapportor", KEY_PERIOD, lambda: sec.sources_section(incidents, aud,
                                                                      settings)),
      "est_rapportor")

# ----------------------------------------------------------------- map
st.subheader("Karta")
if not geojson:
    show_empty("Kartan saknas: referensfilen med områdesgränser kunde inte läsas.")
else:
    # Per year over the part of the selection that has reports: comparable across periods.
    years = est.covered_years(est.incident_cube(ctx.bundle.frame("incidents")), flt.start,
                              flt.end)
    # Exact positions: officials only; every one (a density grid counts them all), taken
    # by position from the bundle's frame (no copy of the selection).
    every = ctx.bundle.frame("incidents")
    points = cached("est_positioner", KEY_PERIOD, lambda: est.incident_points(
        every, rows=est.selected_rows(every, flt), max_points=len(every))) \
        if ctx.is_official else None
    _show(cached("est_karta", KEY_PERIOD, lambda: sec.map_section(
        incidents, population, geojson, years, aud, settings, points)),
        "est_karta", f"{SOURCE}; områdesgränser schematiska")
    no_rate = est.rate_missing_text(years)  # too short a selection: coloured by count
    if no_rate:
        st.caption(no_rate)
    elif years == years:  # not NaN
        st.caption(f"Räknat per år: urvalet har rapporter under {fmt_float(years, 1)} år.")
    if not ctx.is_official:
        st.caption("Exakta positioner visas bara i tjänstepersonsläget.")
    else:
        density = cached("est_tathet", KEY_PERIOD, lambda: sec.density_section(points, geojson))
        if density is not None:
            _show(density, "est_tathet", f"{SOURCE}; positioner (endast tjänstepersoner)")

# ----------------------------------------------------------------- rows (officials only)
# Row-level data (descriptions) exist only in the officials' view: in public mode this
# section is not rendered at all.
if ctx.is_official:
    st.subheader("Senaste händelser (rader)")
    rows = ctx.bundle.frame("incidents")  # the selection by position (no copy of it)
    latest = cached("latest_rows", KEY_PERIOD, lambda: sec.latest_rows(
        rows, selected=est.selected_rows(rows, flt)))
    st.caption(f"De {min(sec.LATEST_ROWS, len(latest))} senaste händelserna i urvalet, nyast "
               "först, med beskrivning. Visas bara i tjänstepersonsläget.")
    st.dataframe(latest, hide_index=True, key="est_rader")
    selection_text = "; ".join(f"{k}={v}" for k, v in flt.to_query().items()) or \
        "hela perioden"
    st.download_button("Ladda ner CSV (visade rader)", data=audited(
        lambda: export.to_csv_bytes(latest), dataset="incidents", rows=len(latest),
        selection=f"{selection_text} (senaste {len(latest)})"),
        file_name="senaste_handelser.csv", mime="text/csv", key="est_rader_csv",
        on_click="ignore", icon=":material/download:")
    # Every incident of the selection, with the columns of the official dataset export (it
    # can be ingested again); built on click, never on a rerun (a million rows); no rerun
    # on click (on_click="ignore"), which would replace the callable being served.
    n_all = incidents.total  # = len(ctx.frames["incidents"]); the rows only on click
    period = "_".join(str(d) for d in (flt.start, flt.end) if d is not None)
    st.download_button(
        f"Ladda ner alla {fmt_int(n_all)} händelser i urvalet (CSV)" if n_all != 1
        else "Ladda ner den enda händelsen i urvalet (CSV)",
        data=audited(lambda: export.export_dataset(
            ctx.frames["incidents"].sort_values("occurred_at", kind="stable"), "incidents",
            aud),
            dataset="incidents", rows=n_all, selection=selection_text),
        file_name=f"handelser_{period or 'urval'}.csv",
        mime="text/csv", key="est_alla_csv", on_click="ignore", icon=":material/download:")
    st.caption("Hela urvalet (period, område, kategori och rapportör enligt sidomenyn) i "
               "tidsordning, med samma kolumner som den fullständiga exporten. Filen skapas "
               "när du klickar – för stora urval kan det ta en stund. Den kan läsas in igen "
               "under Datahantering eller med `python -m hjo_data ingest`.")
