"""Trygghet: perceived safety out alone late in the evening, and the problem index."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data import figures, survey
from hjo_data.formatting import fmt_ci, fmt_int, fmt_pct
from hjo_data.schema import AGE_GROUPS, GENDERS
from pages.common import page_setup, show_empty, show_figure

SOURCE = "Trygghetsmätning"
ctx = page_setup("Trygghet", filters={"period", "area"})
responses = ctx.frames["survey_responses"]
aggregated = ctx.frames["survey"]
data_date = ctx.bundle.data_date.get("survey_responses") or ctx.bundle.data_date.get("survey")

if responses.empty and aggregated.empty:
    show_empty("Det finns ingen trygghetsmätning för den valda perioden. Mätningen görs inte "
               "varje år – välj en längre period i sidomenyn.")
    st.stop()

shares = survey.combine_survey(responses, aggregated)
unsafe = shares[shares["indicator"] == survey.OTRYGG]


def _table(frame: pd.DataFrame, group_label: str, group_col: str) -> pd.DataFrame:
    return pd.DataFrame({
        "År": frame["year"].astype(str), group_label: frame[group_col],
        "Andel otrygga": frame["share"].map(fmt_pct),
        "95 % KI": [fmt_ci(lo, hi) for lo, hi in zip(frame["ci_low"], frame["ci_high"],
                                                     strict=True)],
        "Antal svar (n)": frame["n"].map(fmt_int)})


TITLE = "Andel otrygga ensam ute sent en kväll"
Y = "Andel som känner sig otrygga (%)"
views = (
    ("Hela kommunen", unsafe[(unsafe["area"] == survey.TOTAL_AREA)
                             & (unsafe["group"] == survey.TOTAL_GROUP)], "Grupp", "tr_total"),
    ("kön", unsafe[(unsafe["area"] == survey.TOTAL_AREA)
                   & unsafe["group"].isin([g for g in GENDERS if g != "alla"])], "Kön",
     "tr_kon"),
    ("åldersgrupp", unsafe[(unsafe["area"] == survey.TOTAL_AREA)
                           & unsafe["group"].isin(AGE_GROUPS)], "Åldersgrupp", "tr_alder"),
    ("område", unsafe[(unsafe["area"] != survey.TOTAL_AREA)
                      & (unsafe["group"] == survey.TOTAL_GROUP)], "Område", "tr_omrade"),
)
for name, frame, label, key in views:
    group_col = "area" if key == "tr_omrade" else "group"
    if frame.empty:
        show_empty(f"Ingen redovisning per {name} i urvalet." if key != "tr_total"
                   else "Ingen redovisning för hela kommunen i urvalet.")
        continue
    title = TITLE if key == "tr_total" else f"{TITLE}, per {name}"
    fig = figures.share_trend(frame, group=group_col if key != "tr_total" else None,
                              title=title, y_title=Y, legend_title=label)
    show_figure(fig, _table(frame, label, group_col), source=SOURCE, data_date=data_date,
                key=key)

st.subheader("Problemindex – hur stora är problemen i bostadsområdet?")
problem_years = sorted(shares.loc[shares["indicator"].isin(survey.PROBLEM_INDICATORS),
                                  "year"].unique().tolist())
if not problem_years:
    show_empty("Underlaget har inga problemfrågor för den valda perioden.")
else:
    year = st.selectbox("År", problem_years[::-1], key="tr_problem_ar")
    index = survey.problem_index(shares, int(year))
    if index.empty:
        show_empty(f"Inga svar på problemfrågorna {year}.")
    else:
        fig = figures.ranked_share_bars(
            index, label="label", colour_index=3,
            title=f"Andel som ser ett stort problem i bostadsområdet, {year}",
            x_title="Andel som svarat mycket/ganska stort problem (%)")
        show_figure(fig, pd.DataFrame({
            "Rang": index["rank"], "Problem": index["label"],
            "Andel stort problem": index["share"].map(fmt_pct),
            "95 % KI": [fmt_ci(lo, hi) for lo, hi in zip(index["ci_low"], index["ci_high"],
                                                         strict=True)],
            "Antal svar (n)": index["n"].map(fmt_int),
            "Ordningen säker": (~index["overlaps_next"]).map({True: "ja", False: "nej"})}),
            source=SOURCE, data_date=data_date, key="tr_problem")
