"""Trygghet: perceived safety out alone late in the evening, and the problem index.

Renders ``hjo_data.sections`` (the same sections as the report); computes no numbers. The
definition of "otrygg" is the promise's (``promise.Settings``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from hjo_data import figures, sections
from hjo_data.promise import effective_settings, load_promise_with_fallback
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup
from ui.widgets import show_empty

ctx = page_setup("Trygghet", filters={"period", "area"},
                 datasets=("survey_responses", "survey"))
responses = ctx.frames["survey_responses"]
aggregated = ctx.frames["survey"]
data_date = sections.survey_data_date(ctx.bundle.data_date)

if responses.empty and aggregated.empty:
    if ctx.bundle.frame("survey_responses").empty and ctx.bundle.frame("survey").empty:
        show_empty("Det finns ingen trygghetsmätning i datalagret ännu. När enkätsvar eller "
                   "enkätresultat har lästs in (Datahantering) visas de här.")
    else:
        show_empty("Det finns ingen trygghetsmätning för den valda perioden. Mätningen görs "
                   "inte varje år – välj en längre period i sidomenyn.")
    st.stop()

definitions = effective_settings(load_promise_with_fallback().promise)


# Sections and their figures per bundle and effective filter state (read-only), through
# ui.context.cached: a st.cache_resource page function would keep the page's last globals
# (and an old bundle) alive.
_cached = cached


def _years() -> tuple[int, ...]:
    years = {int(y) for frame in (responses, aggregated) if not frame.empty
             for y in frame["year"].unique()}
    return tuple(sorted(years))


# The survey rows depend only on the survey years inside the period and on the areas: a
# period change that keeps the same years (or a granularity change) reuses every result.
KEY = repr((bundle_key(ctx.bundle), _years(), ctx.filters.areas, ctx.audience, ctx.settings,
            definitions))
shares = _cached("shares", KEY, lambda: sections.survey_shares(ctx.frames, definitions))


def _with_figure(section: sections.Section) -> tuple[sections.Section, Any]:
    return section, (figures.build(section.figure) if section.figure is not None else None)


safety = _cached("safety", KEY, lambda: [_with_figure(s) for s in sections.safety_sections(
    shares, audience=ctx.audience, disclosure=ctx.settings, definitions=definitions,
    data_date=data_date)])
for section, figure in safety:
    show_section(section, figure)

st.subheader("Problemindex – hur stora är problemen i bostadsområdet?")
years = sections.problem_years(shares)
if not years:
    show_empty("Underlaget har inga problemfrågor för den valda perioden.")
else:
    year = int(st.selectbox("År", years[::-1], key="tr_problem_ar"))
    show_section(*_cached("tr_problem", f"{KEY}|{year}", lambda: _with_figure(
        sections.problem_section(shares, year, audience=ctx.audience, disclosure=ctx.settings,
                                 data_date=data_date))))
