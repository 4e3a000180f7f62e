"""Unga: ANDTS and mental-health indicators by grade and gender, with CI and n."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data import disclosure as dc
from hjo_data import figures, youth
from hjo_data.schema import GRADES
from pages.common import page_setup, show_empty, show_figure

SOURCE = "Skolenkät om ungas levnadsvanor"
ctx = page_setup("Unga", filters={"period"})
data = ctx.frames["youth"]
data_date = ctx.bundle.data_date.get("youth")

if data.empty:
    show_empty("Det finns inga resultat från skolenkäten för den valda perioden. Enkäten "
               "görs inte varje år – välj en längre period i sidomenyn.")
    st.stop()

group = st.selectbox("Område i löftet", list(youth.YOUTH_GROUPS), key="unga_grupp")
gender = st.radio("Kön", ["alla", "kvinna", "man"], horizontal=True, key="unga_kon",
                  format_func=lambda g: {"alla": "Alla", "kvinna": "Flickor",
                                         "man": "Pojkar"}[g])
indicators = youth.YOUTH_GROUPS[group]
series = youth.youth_series(data, indicators, genders=(gender,))
if series.empty:
    show_empty(f"Inga resultat för {group.lower()} i urvalet.")
    st.stop()


settings = dc.promise_settings()


def _table(prepared: dc.PreparedTable) -> pd.DataFrame:
    shown = prepared.display
    return pd.DataFrame({
        "Indikator": shown["indicator_label"].to_numpy(),
        "År": shown["year"].astype(str).to_numpy(), "Årskurs": shown["grade"].to_numpy(),
        "Kön": shown["gender"].to_numpy(), "Andel": shown["share"].to_numpy(),
        "95 % KI": dc.ci_texts(prepared), "Antal svar (n)": shown["n"].to_numpy()})


def _note(prepared: dc.PreparedTable) -> None:
    if prepared.note:
        st.caption(prepared.note + " De punkterna saknas i diagrammet.")


grade_order = {g: i for i, g in enumerate(GRADES)}
for ind in indicators:
    sub = series[series["indicator"] == ind].sort_values(
        "grade", key=lambda s: s.map(grade_order), kind="stable")
    if sub.empty:
        continue
    label = youth.YOUTH_LABELS.get(ind, ind)
    prepared = dc.prepare_table(sub, ctx.audience, settings, kind="shares")
    fig = figures.share_lines_errorbars(
        prepared.numeric, group="grade", title=f"{label} – andel per årskurs",
        y_title="Andel elever (%)", legend_title="Årskurs")
    show_figure(fig, _table(prepared), source=SOURCE, data_date=data_date, key=f"unga_{ind}")
    _note(prepared)

year = youth.latest_year(data)
comp_grade = "åk 9" if (data["grade"] == "åk 9").any() else str(data["grade"].iloc[0])
comp = youth.comparison(data, indicators, year=year, grade=comp_grade, gender=gender) \
    if year is not None else pd.DataFrame()
st.subheader("Jämförelse med region och riket")
if comp.empty:
    show_empty("Underlaget har ingen jämförelse med region eller riket för det här urvalet.")
else:
    comp = comp.assign(label=comp["indicator_label"] + " – " + comp["geography"])
    prepared = dc.prepare_table(comp, ctx.audience, settings, kind="shares")
    fig = figures.ranked_share_bars(prepared.numeric, label="label",
                                    x_title="Andel elever (%)",
                                    title=f"{group}: {comp_grade}, {year}, jämförelse")
    show_figure(fig, pd.DataFrame({
        "Indikator": comp["indicator_label"].to_numpy(),
        "Geografi": comp["geography"].to_numpy(),
        "Andel": prepared.display["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": prepared.display["n"].to_numpy()}),
        source=SOURCE, data_date=data_date, key="unga_jamforelse")
    _note(prepared)
