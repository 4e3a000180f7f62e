"""Trafik: police traffic controls and motorburen problematik (tätort focus)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data import disclosure as dc
from hjo_data import est, figures, periods, reference, traffic
from hjo_data.formatting import fmt_float, fmt_int
from hjo_data.schema import source_text
from ui.charts import show_figure
from ui.context import bundle_key, page_setup
from ui.widgets import show_empty, show_suppression_note

SOURCE = source_text("traffic", "incidents")
ctx = page_setup("Trafik", filters={"period", "area"}, datasets=("traffic", "incidents"))
controls = ctx.frames["traffic"]
# Incidents as the integer-coded cube (built once per bundle): filtering a million rows by
# area and period on every rerun cost most of this page's time.
cube = est.incident_cube(ctx.bundle.frame("incidents"))
data_date = ctx.bundle.data_date.get("traffic")
aud = ctx.audience
settings = ctx.settings
# Offences are people caught and incidents concern people: small counts are hidden in
# public mode. Controls and checked vehicles are the police's own activity: shown as is.



@st.cache_resource(max_entries=2, show_spinner=False)
def _area_types() -> dict[str, str]:
    try:
        areas = reference.load_areas()
        return dict(zip(areas["name"].astype(str), areas["type"].astype(str), strict=True))
    except Exception:  # noqa: BLE001 - reference missing: no tätort marking
        return {}


if controls.empty:
    show_empty("Det finns inga trafikkontroller för det valda urvalet. Välj en längre period "
               "eller fler områden i sidomenyn.")
    st.stop()

@st.cache_resource(max_entries=32, show_spinner=False)
def _analysis(key: tuple, _controls: pd.DataFrame, _cube: est.IncidentCube
              ) -> dict[str, object]:
    """Every aggregate of the page per bundle, period and areas (not the granularity:
    this page does not use it). Treat the results as read-only."""
    _, start, end, areas = key
    _incidents = _cube.where(start=start, end=end, areas=areas)
    return {"tot": traffic.totals(_controls),
            "monthly": traffic.motor_alongside_controls(_controls, _incidents),
            "rates": traffic.offences_per_100(_controls),
            "areas": traffic.by_area(_controls, _incidents, _area_types())}


results = _analysis((bundle_key(ctx.bundle), ctx.filters.start, ctx.filters.end,
                     ctx.filters.areas), controls, cube)
tot = results["tot"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Kontroller", fmt_int(tot["controls"]))
c2.metric("Kontrollerade fordon", fmt_int(tot["vehicles_checked"]))
few_offences = dc.count_text(tot["offences"], aud, settings) != fmt_int(tot["offences"])
c3.metric("Överträdelser", dc.count_text(tot["offences"], aud, settings))
c4.metric("Per 100 fordon",
          dc.SECONDARY_MARK if few_offences else fmt_float(tot["per_100"], 1),
          help="Överträdelser per 100 kontrollerade fordon (summa överträdelser / summa "
               "kontrollerade fordon × 100).")

monthly = dc.prepare_columns(results["monthly"],
                             ["motor_incidents"], aud, settings)
fig = figures.bars_with_line(
    monthly.numeric, x="month", bars="controls", line="motor_incidents",
    bar_name="Kontroller", line_name="Händelser motorburen problematik",
    title="Trafikkontroller och motorburen problematik per månad", x_title="Månad",
    bar_title="Antal kontroller per månad", line_title="Antal händelser per månad",
    texts=monthly.display[["motor_incidents"]], data_until=periods.reference_day(
        [data_date, ctx.bundle.data_date.get("incidents")], end=ctx.filters.end))
show_figure(fig, pd.DataFrame({
    "Månad": monthly.display["month"].dt.strftime("%Y-%m").to_numpy(),
    "Kontroller": monthly.display["controls"].map(fmt_int).to_numpy(),
    "Kontrollerade fordon": monthly.display["vehicles_checked"].map(fmt_int).to_numpy(),
    "Händelser motorburen problematik": monthly.display["motor_incidents"].to_numpy()}),
    source=SOURCE, data_date=data_date, key="trafik_manad")
show_suppression_note(monthly)

rates = results["rates"]
if rates.empty or tot["vehicles_checked"] == 0:
    show_empty("Inga kontrollerade fordon i urvalet – andelen överträdelser kan inte räknas.")
else:
    rate_prep = dc.hidden_last(dc.prepare_columns(
        rates, ["offences"], aud, settings, derived={"per_100": "offences"}), "per_100",
        label="label")
    shown = rate_prep.display
    per_100 = dc.formatted(shown["per_100"], lambda v: fmt_float(v, 1))
    fig = figures.bar_chart(rate_prep.numeric.assign(shown=per_100.to_numpy()), x="per_100",
                            y="label", decimals=1, value_text="shown",
                            title="Överträdelser per 100 kontrollerade fordon, per typ",
                            x_title="Överträdelser per 100 kontrollerade fordon", y_title=None,
                            colour_index=1)
    show_figure(fig, pd.DataFrame({
        "Överträdelse": shown["label"].to_numpy(), "Antal": shown["offences"].to_numpy(),
        "Kontrollerade fordon": shown["vehicles_checked"].map(fmt_int).to_numpy(),
        "Per 100 kontrollerade": per_100.to_numpy()}),
        source=SOURCE, data_date=data_date, key="trafik_per100")
    show_suppression_note(rate_prep)

area_prep = dc.prepare_columns(results["areas"],
                               ["offences", "motor_incidents"], aud, settings,
                               derived={"per_100": "offences"})
shown = area_prep.display
st.subheader("Per område (tätorten först)")
fig = figures.grouped_bars(area_prep.numeric, x="area",
                           series=(("controls", "Kontroller"),
                                   ("motor_incidents", "Händelser motorburen problematik")),
                           title="Kontroller och motorburen problematik per område",
                           x_title="Område", y_title="Antal",
                           texts=shown[["motor_incidents"]])
show_figure(fig, pd.DataFrame({
    "Område": shown["area"].to_numpy(), "Typ": shown["area_type"].to_numpy(),
    "Kontroller": shown["controls"].map(fmt_int).to_numpy(),
    "Kontrollerade fordon": shown["vehicles_checked"].map(fmt_int).to_numpy(),
    "Överträdelser": shown["offences"].to_numpy(),
    "Per 100 kontrollerade": dc.formatted(shown["per_100"],
                                          lambda v: fmt_float(v, 1)).to_numpy(),
    "Händelser motorburen problematik": shown["motor_incidents"].to_numpy()}),
    source=SOURCE, data_date=data_date, key="trafik_omrade")
show_suppression_note(area_prep)
