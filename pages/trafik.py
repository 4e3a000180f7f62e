"""Trafik: police traffic controls and motorburen problematik (tätort focus).

Renders ``hjo_data.sections``: the totals are the report's and the slides' traffic
section; computes no numbers of its own."""

from __future__ import annotations

import streamlit as st

from hjo_data import est, figures, periods, sections, traffic
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup
from ui.widgets import show_empty

ctx = page_setup("Trafik", filters={"period", "area"}, datasets=("traffic", "incidents"))
controls = ctx.frames["traffic"]
data_date = ctx.bundle.data_date.get("traffic")
aud = ctx.audience
settings = ctx.settings
until = periods.reference_day([data_date, ctx.bundle.data_date.get("incidents")],
                              end=ctx.filters.end)
# Offences are people caught and incidents concern people: small counts are hidden in
# public mode. Controls and checked vehicles are the police's own activity: shown as is.

if controls.empty:
    show_empty("Det finns inga trafikkontroller för det valda urvalet. Välj en längre period "
               "eller fler områden i sidomenyn.")
    st.stop()

KEY = repr((bundle_key(ctx.bundle), ctx.filters.start, ctx.filters.end, ctx.filters.areas,
            aud, settings, until))


def _incidents() -> est.IncidentCube:
    # Incidents as the integer-coded cube (built once per bundle), narrowed to the only
    # category this page shows once per bundle (a twelfth of the cube), then to the
    # filters: filtering millions of rows or cube cells on every rerun cost most of its time.
    motor = cached("trafik_motor", bundle_key(ctx.bundle), lambda: est.incident_cube(
        ctx.bundle.frame("incidents")).where(categories=(traffic.MOTOR_CATEGORY,)))
    return motor.where(start=ctx.filters.start, end=ctx.filters.end, areas=ctx.filters.areas)


def _show(section: sections.Section) -> None:
    """A section with its figure (built once per key, shared between sessions)."""
    figure = cached(f"{section.key}_fig", KEY, lambda: (
        figures.build(section.figure) if section.figure is not None else None))
    show_section(section, figure)


start, end = sections.page_span(ctx.filters, controls["date"])
summary = cached("trafik", KEY, lambda: sections.traffic_section(
    controls, start=start, end=end, audience=aud, disclosure=settings, data_date=data_date,
    data_until=until))
row = summary.table.iloc[0]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Kontroller", row["Kontroller"])
c2.metric("Kontrollerade fordon", row["Kontrollerade fordon"])
c3.metric("Överträdelser", row["Överträdelser"])
c4.metric("Per 100 fordon", row["Per 100 kontrollerade fordon"],
          help="Överträdelser per 100 kontrollerade fordon (summa överträdelser / summa "
               "kontrollerade fordon × 100).")

_show(cached("trafik_manad", KEY, lambda: sections.traffic_monthly_section(
    controls, _incidents(), audience=aud, disclosure=settings, data_date=data_date,
    data_until=until)))
_show(cached("trafik_per100", KEY, lambda: sections.offence_rates_section(
    controls, audience=aud, disclosure=settings, data_date=data_date)))
st.subheader("Per område (tätorten först)")
_show(cached("trafik_omrade", KEY, lambda: sections.traffic_areas_section(
    controls, _incidents(), audience=aud, disclosure=settings, data_date=data_date)))
