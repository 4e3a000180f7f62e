"""Unga: ANDTS and mental-health indicators by grade and gender, with CI and n."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from hjo_data import disclosure as dc
from hjo_data import figures, youth
from hjo_data.promise import home_municipality
from hjo_data.schema import GRADES, source_text
from ui.auth import md_escape
from ui.charts import show_figure
from ui.context import bundle_key, cached, page_setup
from ui.widgets import HIDDEN_POINTS_MISSING, show_empty, show_suppression_note

SOURCE = source_text("youth")
POOLED_NOTE = ("Alla: underlaget redovisar bara flickor och pojkar var för sig, så andelen "
               "för alla elever är deras sammanvägda andel (vägd med antal svar).")
ctx = page_setup("Unga", filters={"period"}, datasets=("youth",))
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
settings = ctx.settings


def _table(prepared: dc.PreparedTable) -> pd.DataFrame:
    shown = prepared.display
    return pd.DataFrame({
        "Indikator": shown["indicator_label"].to_numpy(),
        "År": shown["year"].astype(str).to_numpy(), "Årskurs": shown["grade"].to_numpy(),
        "Kön": shown["gender"].to_numpy(), "Andel": shown["share"].to_numpy(),
        "95 % KI": dc.ci_texts(prepared), "Antal svar (n)": shown["n"].to_numpy()})



Section = tuple[str, Any, pd.DataFrame, dc.PreparedTable]


def _sections() -> tuple[list[Section] | None, Section | None, int | None, str]:
    """Charts per indicator (None: no series at all) and the comparison section."""
    series = youth.youth_series(data, indicators, genders=(gender,))
    if series.empty:
        return None, None, None, ""
    grade_order = {g: i for i, g in enumerate(GRADES)}
    out: list[Section] = []
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
        out.append((f"unga_{ind}", fig, _table(prepared), prepared))
    year = youth.latest_year(data)
    comp_grade = "åk 9" if (data["grade"] == "åk 9").any() else str(data["grade"].iloc[0])
    comp = youth.comparison(data, indicators, year=year, grade=comp_grade, gender=gender) \
        if year is not None else pd.DataFrame()
    if comp.empty:
        return out, None, year, comp_grade
    home = home_municipality()  # the promise's municipality (may be absent from the data)
    comp = comp.assign(label=comp["indicator_label"] + " – " + comp["geography"],
                       home=comp["geography"] == home)
    prepared = dc.prepare_table(comp, ctx.audience, settings, kind="shares")
    fig = figures.ranked_share_bars(prepared.numeric, label="label", emphasis="home",
                                    x_title="Andel elever (%)",
                                    title=f"{group}: {comp_grade}, {year}, jämförelse")
    table = pd.DataFrame({
        "Indikator": comp["indicator_label"].to_numpy(),
        "Geografi": comp["geography"].to_numpy(),
        "Andel": prepared.display["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": prepared.display["n"].to_numpy()})
    numeric = prepared.numeric.assign(geography=comp["geography"].to_numpy(),
                                      indicator_label=comp["indicator_label"].to_numpy())
    notes = youth.comparison_notes(numeric, home)
    return out, ("unga_jamforelse", fig, table, prepared, notes), year, comp_grade


# Page results per bundle, survey years in the period (the period filter keeps whole years),
# indicator group, gender and audience.
years_key = tuple(sorted(int(y) for y in data["year"].unique()))
sections, comparison, year, comp_grade = cached("unga", repr(
    (bundle_key(ctx.bundle), years_key, group, gender, ctx.audience, settings)), _sections)
if sections is None:
    show_empty(f"Inga resultat för {group.lower()} i urvalet.")
    st.stop()
if gender == youth.ALL_GENDERS and any(p.numeric["pooled"].any() for *_, p in sections):
    st.caption(POOLED_NOTE)

for key, fig, table, prepared in sections:
    show_figure(fig, table, source=SOURCE, data_date=data_date, key=key)
    show_suppression_note(prepared, HIDDEN_POINTS_MISSING)

st.subheader("Jämförelse med region och riket")
if comparison is None:
    show_empty("Underlaget har ingen jämförelse med region eller riket för det här urvalet.")
else:
    key, fig, table, prepared, notes = comparison
    show_figure(fig, table, source=SOURCE, data_date=data_date, key=key)
    for note in notes:  # geography names come from the data: plain text
        st.caption(md_escape(note))
    show_suppression_note(prepared, HIDDEN_POINTS_MISSING)
