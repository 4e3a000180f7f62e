"""Trygghet: perceived safety out alone late in the evening, and the problem index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from hjo_data import disclosure as dc
from hjo_data import figures, survey
from hjo_data.schema import AGE_GROUPS, GENDERS, source_text
from ui.charts import show_figure
from ui.context import bundle_key, page_setup
from ui.widgets import HIDDEN_POINTS_MISSING, show_empty, show_suppression_note

SOURCE = source_text("survey_responses", "survey")
ctx = page_setup("Trygghet", filters={"period", "area"})
responses = ctx.frames["survey_responses"]
aggregated = ctx.frames["survey"]
data_date = ctx.bundle.data_date.get("survey_responses") or ctx.bundle.data_date.get("survey")

if responses.empty and aggregated.empty:
    show_empty("Det finns ingen trygghetsmätning för den valda perioden. Mätningen görs inte "
               "varje år – välj en längre period i sidomenyn.")
    st.stop()

settings = ctx.settings




@st.cache_resource(max_entries=96, show_spinner=False)
def _cached(name: str, key: str, _compute: Callable[[], Any]) -> Any:
    """Section results (shares, prepared tables, figures) per bundle and effective filter
    state; treat them as read-only."""
    del name, key
    return _compute()


def _years(frame: pd.DataFrame) -> set[int]:
    return set() if frame.empty else {int(y) for y in frame["year"].unique()}


# The survey rows depend only on the survey years inside the period and on the areas: a
# period change that keeps the same years (or a granularity change) reuses every result.
# A repr string: cheaper for st.cache_resource to hash than a tuple with a dataclass.
KEY = repr((bundle_key(ctx.bundle), tuple(sorted(_years(responses) | _years(aggregated))),
            ctx.filters.areas, ctx.audience, settings))
shares = _cached("shares", KEY, lambda: survey.combine_survey(responses, aggregated))
unsafe = shares[shares["indicator"] == survey.OTRYGG]


def _table(prepared: dc.PreparedTable, group_label: str, group_col: str) -> pd.DataFrame:
    shown = prepared.display
    return pd.DataFrame({
        "År": shown["year"].astype(str).to_numpy(), group_label: shown[group_col].to_numpy(),
        "Andel otrygga": shown["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": shown["n"].to_numpy()})



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


def _view(name: str, frame: pd.DataFrame, label: str, key: str
          ) -> tuple[Any, pd.DataFrame, dc.PreparedTable]:
    group_col = "area" if key == "tr_omrade" else "group"
    title = TITLE if key == "tr_total" else f"{TITLE}, per {name}"
    prepared = dc.prepare_table(frame, ctx.audience, settings, kind="shares")
    fig = figures.share_trend(prepared.numeric,
                              group=group_col if key != "tr_total" else None,
                              title=title, y_title=Y, legend_title=label)
    return fig, _table(prepared, label, group_col), prepared


for name, frame, label, key in views:
    if frame.empty:
        show_empty(f"Ingen redovisning per {name} i urvalet." if key != "tr_total"
                   else "Ingen redovisning för hela kommunen i urvalet.")
        continue
    fig, table, prepared = _cached(key, KEY, lambda n=name, f=frame, lab=label, k=key:
                                   _view(n, f, lab, k))
    show_figure(fig, table, source=SOURCE, data_date=data_date, key=key)
    show_suppression_note(prepared, HIDDEN_POINTS_MISSING)

st.subheader("Problemindex – hur stora är problemen i bostadsområdet?")
problem_years = sorted(shares.loc[shares["indicator"].isin(survey.PROBLEM_INDICATORS),
                                  "year"].unique().tolist())
if not problem_years:
    show_empty("Underlaget har inga problemfrågor för den valda perioden.")
else:
    year = st.selectbox("År", problem_years[::-1], key="tr_problem_ar")

    def _problem() -> tuple[Any, pd.DataFrame, dc.PreparedTable] | None:
        index = survey.problem_index(shares, int(year))
        if index.empty:
            return None
        prepared = dc.prepare_table(index, ctx.audience, settings, kind="shares")
        fig = figures.ranked_share_bars(
            prepared.numeric, label="label", colour_index=3,
            title=f"Andel som ser ett stort problem i bostadsområdet, {year}",
            x_title="Andel som svarat mycket/ganska stort problem (%)")
        hidden = prepared.numeric["share"].isna().to_numpy()
        return fig, pd.DataFrame({
            "Rang": ["–" if h else str(r) for r, h in zip(index["rank"], hidden, strict=True)],
            "Problem": index["label"].to_numpy(),
            "Andel stort problem": prepared.display["share"].to_numpy(),
            "95 % KI": dc.ci_texts(prepared),
            "Antal svar (n)": prepared.display["n"].to_numpy(),
            "Ordningen säker": ["–" if h else ("nej" if o else "ja") for o, h in zip(
                index["overlaps_next"], hidden, strict=True)]}), prepared

    problem = _cached("tr_problem", f"{KEY}|{int(year)}", _problem)
    if problem is None:
        show_empty(f"Inga svar på problemfrågorna {year}.")
    else:
        fig, table, prepared = problem
        show_figure(fig, table, source=SOURCE, data_date=data_date, key="tr_problem")
        show_suppression_note(prepared, HIDDEN_POINTS_MISSING)
