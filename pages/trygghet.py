"""Trygghet: perceived safety out alone late in the evening, and the problem index."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data import disclosure as dc
from hjo_data import figures, survey
from hjo_data.schema import AGE_GROUPS, GENDERS
from pages.common import bundle_key, page_setup, show_empty, show_figure

SOURCE = "Trygghetsmätning"
ctx = page_setup("Trygghet", filters={"period", "area"})
responses = ctx.frames["survey_responses"]
aggregated = ctx.frames["survey"]
data_date = ctx.bundle.data_date.get("survey_responses") or ctx.bundle.data_date.get("survey")

if responses.empty and aggregated.empty:
    show_empty("Det finns ingen trygghetsmätning för den valda perioden. Mätningen görs inte "
               "varje år – välj en längre period i sidomenyn.")
    st.stop()

settings = dc.promise_settings()


@st.cache_data(max_entries=32, show_spinner=False)
def _shares(key: str, query: tuple, _responses: pd.DataFrame, _aggregated: pd.DataFrame
            ) -> pd.DataFrame:
    """Survey shares per bundle and filter state (the filters are in ``query``)."""
    del key, query
    return survey.combine_survey(_responses, _aggregated)


shares = _shares(bundle_key(ctx.bundle), tuple(sorted(ctx.filters.to_query().items())),
                 responses, aggregated)
unsafe = shares[shares["indicator"] == survey.OTRYGG]


def _table(prepared: dc.PreparedTable, group_label: str, group_col: str) -> pd.DataFrame:
    shown = prepared.display
    return pd.DataFrame({
        "År": shown["year"].astype(str).to_numpy(), group_label: shown[group_col].to_numpy(),
        "Andel otrygga": shown["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": shown["n"].to_numpy()})


def _note(prepared: dc.PreparedTable) -> None:
    if prepared.note:
        st.caption(prepared.note + " De punkterna saknas i diagrammet.")


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
    prepared = dc.prepare_table(frame, ctx.audience, settings, kind="shares")
    fig = figures.share_trend(prepared.numeric,
                              group=group_col if key != "tr_total" else None,
                              title=title, y_title=Y, legend_title=label)
    show_figure(fig, _table(prepared, label, group_col), source=SOURCE, data_date=data_date,
                key=key)
    _note(prepared)

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
        prepared = dc.prepare_table(index, ctx.audience, settings, kind="shares")
        fig = figures.ranked_share_bars(
            prepared.numeric, label="label", colour_index=3,
            title=f"Andel som ser ett stort problem i bostadsområdet, {year}",
            x_title="Andel som svarat mycket/ganska stort problem (%)")
        hidden = prepared.numeric["share"].isna().to_numpy()
        show_figure(fig, pd.DataFrame({
            "Rang": ["–" if h else str(r) for r, h in zip(index["rank"], hidden, strict=True)],
            "Problem": index["label"].to_numpy(),
            "Andel stort problem": prepared.display["share"].to_numpy(),
            "95 % KI": dc.ci_texts(prepared),
            "Antal svar (n)": prepared.display["n"].to_numpy(),
            "Ordningen säker": ["–" if h else ("nej" if o else "ja") for o, h in zip(
                index["overlaps_next"], hidden, strict=True)]}),
            source=SOURCE, data_date=data_date, key="tr_problem")
        _note(prepared)
