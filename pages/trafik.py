"""Trafik: police traffic controls and motorburen problematik (tätort focus)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data import figures, traffic
from hjo_data.formatting import fmt_float, fmt_int
from pages.common import page_setup, show_empty, show_figure

SOURCE = "Polisens trafikkontroller; EST-rapporter"
ctx = page_setup("Trafik", filters={"period", "area"})
controls = ctx.frames["traffic"]
incidents = ctx.frames["incidents"]
data_date = ctx.bundle.data_date.get("traffic")


def _area_types() -> dict[str, str]:
    try:
        from hjo_data import reference
        areas = reference.load_areas()
        return dict(zip(areas["name"].astype(str), areas["type"].astype(str), strict=True))
    except Exception:  # noqa: BLE001 - reference missing: no tätort marking
        return {}


if controls.empty:
    show_empty("Det finns inga trafikkontroller för det valda urvalet. Välj en längre period "
               "eller fler områden i sidomenyn.")
    st.stop()

tot = traffic.totals(controls)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Kontroller", fmt_int(tot["controls"]))
c2.metric("Kontrollerade fordon", fmt_int(tot["vehicles_checked"]))
c3.metric("Överträdelser", fmt_int(tot["offences"]))
c4.metric("Överträdelser per 100 kontrollerade", fmt_float(tot["per_100"], 1))

monthly = traffic.motor_alongside_controls(controls, incidents)
fig = figures.bars_with_line(
    monthly, x="month", bars="controls", line="motor_incidents", bar_name="Kontroller",
    line_name="Händelser motorburen problematik",
    title="Trafikkontroller och motorburen problematik per månad", x_title="Månad",
    bar_title="Antal kontroller per månad", line_title="Antal händelser per månad")
show_figure(fig, pd.DataFrame({
    "Månad": monthly["month"].dt.strftime("%Y-%m"), "Kontroller": monthly["controls"],
    "Kontrollerade fordon": monthly["vehicles_checked"],
    "Händelser motorburen problematik": monthly["motor_incidents"]}),
    source=SOURCE, data_date=data_date, key="trafik_manad")

rates = traffic.offences_per_100(controls)
if rates.empty or tot["vehicles_checked"] == 0:
    show_empty("Inga kontrollerade fordon i urvalet – andelen överträdelser kan inte räknas.")
else:
    fig = figures.bar_chart(rates, x="per_100", y="label", decimals=1,
                            title="Överträdelser per 100 kontrollerade fordon, per typ",
                            x_title="Överträdelser per 100 kontrollerade fordon", y_title=None,
                            colour_index=1)
    show_figure(fig, pd.DataFrame({
        "Överträdelse": rates["label"], "Antal": rates["offences"].map(fmt_int),
        "Kontrollerade fordon": rates["vehicles_checked"].map(fmt_int),
        "Per 100 kontrollerade": rates["per_100"].map(lambda v: fmt_float(v, 1))}),
        source=SOURCE, data_date=data_date, key="trafik_per100")

areas = traffic.by_area(controls, incidents, _area_types())
st.subheader("Per område (tätorten först)")
fig = figures.grouped_bars(areas, x="area", series=(("controls", "Kontroller"),
                                                    ("motor_incidents",
                                                     "Händelser motorburen problematik")),
                           title="Kontroller och motorburen problematik per område",
                           x_title="Område", y_title="Antal")
show_figure(fig, pd.DataFrame({
    "Område": areas["area"], "Typ": areas["area_type"], "Kontroller": areas["controls"],
    "Kontrollerade fordon": areas["vehicles_checked"], "Överträdelser": areas["offences"],
    "Per 100 kontrollerade": areas["per_100"].map(lambda v: fmt_float(v, 1)),
    "Händelser motorburen problematik": areas["motor_incidents"]}),
    source=SOURCE, data_date=data_date, key="trafik_omrade")
