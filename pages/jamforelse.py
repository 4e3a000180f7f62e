"""Jämförelse: the promise's official indicators, the municipality against county, Riket
and peer municipalities over the years.

Renders ``hjo_data.sections.comparison_sections`` (the report's and the slide's sections);
computes no numbers of its own. Geography names in the notes come from the data: shown as
plain text."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from hjo_data import comparison, figures, sections
from ui.auth import md_escape
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup, promise_file_key, promise_with_notice
from ui.widgets import show_empty

ctx = page_setup("Jämförelse")
promise = promise_with_notice()
statistik = ctx.bundle.frame("statistik")

if promise is None:
    st.stop()
if statistik.empty:
    show_empty("Det finns ingen officiell statistik i datalagret ännu. Hämta nyckeltal med "
               "python -m hjo_data fetch kolada eller läs in en fil från Kolada, BRÅ eller "
               "Folkhälsomyndigheten på Datahantering, så visas jämförelsen här.")
    st.stop()
if not promise.official_indicators():
    show_empty("Medborgarlöftet anger inga officiella indikatorer. Lägg till "
               "[[goals.official_indicators]] i medborgarlofte.toml.")
    st.stop()

home = promise.municipality_short
st.markdown(
    f"Officiell statistik för löftets mål: {md_escape(home)} jämförs med länet, riket och "
    "jämförelsekommuner år för år. Felstaplarna visar 95 % konfidensintervall där underlaget "
    "räcker för att beräkna dem. Under varje diagram står om avståndet till länet och riket "
    "är större än slumpvariationen.")

genders = comparison.genders_in(statistik, promise)
gender = "T"
if len(genders) > 1:
    gender = st.radio("Kön", genders, horizontal=True, key="jmf_kon",
                      format_func=lambda g: comparison.GENDER_LABELS[g])

KEY = repr((bundle_key(ctx.bundle), promise_file_key(), gender, ctx.audience, ctx.settings))
charts = cached("jamforelse", KEY, lambda: sections.comparison_sections(
    statistik, promise, gender=gender, audience=ctx.audience, disclosure=ctx.settings))


def _figure(section: sections.Section) -> object | None:
    """The section's plotly figure, built once per key and shared between sessions."""
    return cached(f"{section.key}_fig", KEY, lambda: (
        figures.build(section.figure) if section.figure is not None else None))


by_goal = dict(zip(promise.official_indicators(), charts, strict=True))
shown: set[str] = set()  # the method and demo notes once, not under every chart
for goal in promise.goals:
    if not goal.official:
        continue
    st.header(goal.short_title, divider="gray")
    for indicator in goal.official:
        section = by_goal[indicator]
        if section.is_empty:
            st.subheader(section.title)
        show_section(replace(section, notes=()), _figure(section))
        for note in (n for n in section.notes if n not in shown):
            st.caption(md_escape(note))
            shown |= {note} if note in (comparison.METHOD_NOTE, comparison.DEMO_NOTE) else set()
