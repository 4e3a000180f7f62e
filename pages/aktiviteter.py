"""Aktiviteter: what the promise planned vs what was done, safety walks, samverkan.

Renders ``hjo_data.sections`` (the plan comparison is the report's and the slides'
section); computes no numbers of its own."""

from __future__ import annotations

import streamlit as st

from hjo_data import activities as act
from hjo_data import figures, periods, sections
from hjo_data.formatting import fmt_int
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup, promise_file_key, promise_with_notice
from ui.widgets import show_empty

ctx = page_setup("Aktiviteter", filters={"period", "area"}, datasets=("activities",))
data = ctx.frames["activities"]
data_date = ctx.bundle.data_date.get("activities")
until = periods.reference_day(data_date, end=ctx.filters.end)  # a running year is partial
# Participants are people: small numbers are hidden in public mode. Activities held,
# planned, findings and actions are about places and the organisers' work: shown as is.
promise = promise_with_notice()
KEY = repr((bundle_key(ctx.bundle), promise_file_key(), ctx.filters.start, ctx.filters.end,
            ctx.filters.areas, ctx.audience, ctx.settings, until))


def _show(section: sections.Section) -> None:
    """A section with its figure (built once per key, shared between sessions)."""
    figure = cached(f"{section.key}_fig", f"{KEY}|{section.title}", lambda: (
        figures.build(section.figure) if section.figure is not None else None))
    show_section(section, figure)


years = cached("akt_years", KEY, lambda: sections.activity_years(data, promise))
if data.empty and not years:
    show_empty("Det finns inga aktiviteter för det valda urvalet.")
    st.stop()
if data.empty:
    show_empty("Inga genomförda aktiviteter i urvalet – nedan visas bara det planerade.")
if years:
    year = st.selectbox("År", years[::-1], key="akt_ar")
    start, end = sections.year_within(int(year), ctx.filters, until)
    _show(cached("akt_plan", f"{KEY}|{year}", lambda: sections.activities_section(
        data, promise, start=start, end=end, data_date=data_date, data_until=until,
        key="akt_plan")))

st.subheader("Trygghetsvandringar")
_show(cached("akt_vandringar", KEY, lambda: sections.walks_section(
    data, audience=ctx.audience, disclosure=ctx.settings, data_date=data_date,
    data_until=until)))

if not data.empty:
    st.subheader("Deltagare och målgrupper")
    _show(cached("akt_deltagare", KEY, lambda: sections.participants_section(
        data, audience=ctx.audience, disclosure=ctx.settings, data_date=data_date)))
    _show(cached("akt_malgrupp", KEY, lambda: sections.targets_section(
        data, audience=ctx.audience, disclosure=ctx.settings, data_date=data_date)))
    st.subheader("Samverkan – vilka parter arrangerar?")
    _show(cached("akt_parter", KEY, lambda: sections.sectors_section(
        data, data_date=data_date)))

    if ctx.is_official:
        notes = act.notes(data)
        with st.expander(f"Anteckningar ({fmt_int(len(notes))})"):
            if notes.empty:
                st.write("Inga anteckningar.")
            else:
                st.dataframe(notes.assign(date=notes["date"].dt.strftime("%Y-%m-%d")),
                             hide_index=True, key="akt_anteckningar")
