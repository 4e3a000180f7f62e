"""Aktiviteter: what the promise planned vs what was done, safety walks, samverkan."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from hjo_data import activities as act
from hjo_data import disclosure as dc
from hjo_data import figures, periods
from hjo_data.formatting import fmt_ci, fmt_int, fmt_pct
from hjo_data.promise import load_promise_with_fallback
from hjo_data.schema import source_text
from ui.auth import md_escape
from ui.charts import show_figure
from ui.context import bundle_key, page_setup, promise_file_key
from ui.widgets import show_empty, show_suppression_note

SOURCE = source_text("activities")
ctx = page_setup("Aktiviteter", filters={"period", "area"}, datasets=("activities",))
data = ctx.frames["activities"]
data_date = ctx.bundle.data_date.get("activities")
until = periods.reference_day(data_date, end=ctx.filters.end)  # a running year is partial
aud = ctx.audience
settings = ctx.settings
# Participants are people: small numbers are hidden in public mode. Activities held,
# planned, findings and actions are about places and the organisers' work: shown as is.



@st.cache_resource(max_entries=4, show_spinner=False)
def _planned(promise_key: str) -> tuple[pd.DataFrame, str | None, bool]:
    """The plan per promise file version (parsing the TOML cost ~20 ms per rerun), the
    loading warning/error and whether there is a promise at all (else an empty plan)."""
    del promise_key
    promise, message = load_promise_with_fallback()
    return act.planned_frame(promise), message, promise is not None


@st.cache_resource(max_entries=32, show_spinner=False)
def _analysis(key: tuple, _data: pd.DataFrame, _planned: pd.DataFrame
              ) -> dict[str, pd.DataFrame]:
    """Every aggregate of the page per bundle, period and areas (not the granularity:
    this page does not use it). Treat the frames as read-only."""
    del key
    out = {"dvp": act.done_vs_planned(_data, _planned), "walks": act.safety_walks(_data)}
    if not _data.empty:
        out |= {"parts": act.participants_by(_data), "targets": act.target_groups(_data),
                "sectors": act.organiser_sectors(_data)}
    return out


promise_key = promise_file_key()
planned, promise_message, has_promise = _planned(promise_key)
if promise_message:  # plain text: Markdown characters in paths/TOML errors escaped
    (st.warning if has_promise else st.error)(md_escape(promise_message))
if data.empty and planned.empty:
    show_empty("Det finns inga aktiviteter för det valda urvalet.")
    st.stop()

results = _analysis((bundle_key(ctx.bundle), promise_key, ctx.filters.start, ctx.filters.end,
                     ctx.filters.areas), data, planned)
dvp = results["dvp"]
years = act.years_of(dvp)
if data.empty:
    show_empty("Inga genomförda aktiviteter i urvalet – nedan visas bara det planerade.")
if years:
    year = st.selectbox("År", years[::-1], key="akt_ar")
    sub = dvp[dvp["year"] == year]
    has_plan = bool((sub["planned"] > 0).any())
    fig = figures.grouped_bars(
        sub, x="activity_type",
        series=(("done", "Genomförda"), ("planned", "Planerade")) if has_plan
        else (("done", "Genomförda"),),
        title=(f"Genomförda och planerade aktiviteter {year}" if has_plan
               else f"Genomförda aktiviteter {year}"),
        x_title="Aktivitet", y_title="Antal tillfällen")
    if not has_plan:
        st.caption(f"Medborgarlöftet anger inga planerade antal för {year}; "
                   "andelen av plan kan inte beräknas.")
    elif not periods.is_complete(date(year, 1, 1), "Y", until):
        st.caption(f"{year} är inte slut i data ({periods.partial_text(until)}): det "
                   "genomförda hittills jämförs med hela årets plan.")
    show_figure(fig, pd.DataFrame({
        "År": sub["year"].astype(str), "Aktivitet": sub["activity_type"],
        "Genomförda": sub["done"].map(fmt_int), "Planerade": sub["planned"].map(fmt_int),
        "Andel av plan": sub["share_done"].map(fmt_pct)}),
        source=SOURCE, data_date=data_date, key="akt_plan")

walks = results["walks"]
st.subheader("Trygghetsvandringar")
if walks.empty:
    show_empty("Inga trygghetsvandringar i urvalet.")
else:
    shown = walks.dropna(subset=["share_done"]).assign(
        n=lambda f: f["actions_decided"], share=lambda f: f["share_done"])
    if shown.empty:
        show_empty("Inga beslutade åtgärder efter trygghetsvandringarna ännu.")
    else:
        fig = figures.share_trend(shown, group=None, x="year",
                                  title="Andel genomförda åtgärder efter trygghetsvandringar",
                                  y_title="Genomförda av beslutade åtgärder (%)",
                                  data_until=until)
        walk_prep = dc.prepare_columns(walks, ["participants"], aud, settings)
        show_figure(fig, pd.DataFrame({
            "År": walks["year"].astype(str), "Vandringar": walks["walks"].map(fmt_int),
            "Deltagare": walk_prep.display["participants"].to_numpy(),
            "Iakttagelser": walks["findings"].map(fmt_int),
            "Beslutade åtgärder (n)": walks["actions_decided"].map(fmt_int),
            "Genomförda åtgärder": walks["actions_done"].map(fmt_int),
            "Andel genomförda": walks["share_done"].map(fmt_pct),
            "95 % KI": [fmt_ci(lo, hi) for lo, hi in zip(walks["ci_low"], walks["ci_high"],
                                                         strict=True)]}),
            source=SOURCE, data_date=data_date, key="akt_vandringar")
        show_suppression_note(walk_prep)

if not data.empty:
    st.subheader("Deltagare och målgrupper")
    parts = dc.hidden_last(dc.prepare_columns(results["parts"], ["participants"],
                                              aud, settings), "participants", label="group")
    fig = figures.bar_chart(parts.numeric.assign(shown=parts.display["participants"]
                                                 .to_numpy()),
                            x="participants", y="group", colour_index=2, value_text="shown",
                            title="Deltagare per aktivitetstyp", x_title="Antal deltagare",
                            y_title=None)
    show_figure(fig, pd.DataFrame({"Aktivitet": parts.display["group"].to_numpy(),
                                   "Tillfällen": parts.display["activities"].map(fmt_int)
                                   .to_numpy(),
                                   "Deltagare": parts.display["participants"].to_numpy()}),
                source=SOURCE, data_date=data_date, key="akt_deltagare")
    show_suppression_note(parts)
    targets = results["targets"]
    if targets.empty:
        show_empty("Inga målgrupper angivna i urvalet.")
    else:
        fig = figures.bar_chart(targets.head(15), x="activities", y="group", colour_index=4,
                                title="Aktiviteter per målgrupp",
                                x_title="Antal aktiviteter", y_title=None)
        target_prep = dc.prepare_columns(targets, ["participants"], aud, settings)
        show_figure(fig, pd.DataFrame({"Målgrupp": targets["group"].to_numpy(),
                                       "Aktiviteter": targets["activities"].map(fmt_int)
                                       .to_numpy(),
                                       "Deltagare": target_prep.display["participants"]
                                       .to_numpy()}),
                    source=SOURCE, data_date=data_date, key="akt_malgrupp")
        show_suppression_note(target_prep)

    st.subheader("Samverkan – vilka parter arrangerar?")
    sectors = results["sectors"]
    fig = figures.bar_chart(sectors, x="activities", y="sector", colour_index=0,
                            title="Aktiviteter där parten medverkade",
                            x_title="Antal aktiviteter", y_title=None)
    show_figure(fig, pd.DataFrame({"Part": sectors["sector"],
                                   "Aktiviteter": sectors["activities"].map(fmt_int),
                                   "Andel av alla": sectors["share"].map(fmt_pct)}),
                source=SOURCE, data_date=data_date, key="akt_parter")

    if ctx.is_official:
        notes = act.notes(data)
        with st.expander(f"Anteckningar ({fmt_int(len(notes))})"):
            if notes.empty:
                st.write("Inga anteckningar.")
            else:
                st.dataframe(notes.assign(date=notes["date"].dt.strftime("%Y-%m-%d")),
                             hide_index=True, key="akt_anteckningar")
