"""Unga: ANDTS and mental-health indicators by grade and gender, with CI and n.

Renders ``hjo_data.sections`` (``youth_sections``, ``youth_comparison_section``): the
shares are the youth slide's; computes no numbers of its own."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from hjo_data import figures, sections, youth
from ui.auth import md_escape
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup
from ui.widgets import show_empty

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
aud, settings = ctx.audience, ctx.settings

# Page results per bundle, survey years in the period (the period filter keeps whole years),
# indicator group, gender and audience.
years_key = tuple(sorted(int(y) for y in data["year"].unique()))
KEY = repr((bundle_key(ctx.bundle), years_key, group, gender, aud, settings))


def _figure(section: sections.Section) -> object | None:
    """The section's plotly figure, built once per key and shared between sessions."""
    return cached(f"{section.key}_fig", KEY, lambda: (
        figures.build(section.figure) if section.figure is not None else None))


charts = cached("unga", KEY, lambda: sections.youth_sections(
    data, indicators, gender=gender, audience=aud, disclosure=settings, data_date=data_date))
if not charts:
    show_empty(f"Inga resultat för {group.lower()} i urvalet.")
    st.stop()
if gender == youth.ALL_GENDERS and any(s.numeric["pooled"].any() for s in charts):
    st.caption(sections.YOUTH_POOLED_NOTE)

for section in charts:
    show_section(section, _figure(section))

st.subheader("Jämförelse med region och riket")
comparison = cached("unga_jamforelse", KEY, lambda: sections.youth_comparison_section(
    data, indicators, group=group, gender=gender, audience=aud, disclosure=settings,
    data_date=data_date))
# Geography names in the notes come from the data: shown as plain text.
show_section(replace(comparison, notes=()), _figure(comparison))
for note in comparison.notes:
    st.caption(md_escape(note))
