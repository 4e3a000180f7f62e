"""Lägesbild: the landing page — one card per promise goal and "Läget just nu"."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from hjo_data import figures, periods
from hjo_data.datasource import DataBundle
from hjo_data.disclosure import DisclosureSettings
from hjo_data.est import compact_incidents
from hjo_data.filters import Filters, apply_filters
from hjo_data.freshness import freshness_warnings
from hjo_data.lagesbild import (
    STATUS_BETTER,
    STATUS_NO_DATA,
    STATUS_NOISE,
    STATUS_WORSE,
    GoalCard,
    IndicatorStatus,
    incident_filter_columns,
)
from hjo_data.promise import Promise
from hjo_data.sections import (
    IndicatorTexts,
    IndicatorView,
    Section,
    goal_overview,
    incident_trend_section,
)
from ui.auth import md_escape
from ui.charts import show_section
from ui.context import bundle_key, cached, page_setup, promise_file_key, promise_with_notice
from ui.report import render_report_download
from ui.widgets import show_empty

# Colour-blind-safe: blue = better, orange = worse, grey = within noise / no data; every
# status also has its own icon and text.
STATUS_STYLE = {
    STATUS_BETTER: ("blue", ":material/arrow_circle_up:", "Bättre – utanför slumpen"),
    STATUS_WORSE: ("orange", ":material/warning:", "Sämre – utanför slumpen"),
    STATUS_NO_DATA: ("gray", ":material/help:", "Ingen data"),
}
NOISE_STYLE = ("gray", ":material/drag_handle:", "Oförändrad / inom slumpen")
DIRECTION_TEXT = {"down": "↓ lägre är bättre", "up": "↑ högre är bättre"}


# Page results through ui.context.cached (not st.cache_resource on a page function: a cached
# page function keeps the page's last globals, and with them an old bundle, alive).
def _compact(bundle: DataBundle, promise: Promise | None) -> dict[str, pd.DataFrame]:
    """Bundle frames with incidents collapsed to daily counts (fast cards and trend)."""
    return {**bundle.frames, "incidents": compact_incidents(
        bundle.frame("incidents"), incident_filter_columns(promise))}


def _trend(filters: Filters, audience: str, settings: DisclosureSettings,
           data_date: date | None, today: date, compact_incidents: pd.DataFrame
           ) -> tuple[Section, Any]:
    subset = apply_filters(compact_incidents, "incidents", filters)
    section = incident_trend_section(
        subset, granularity=filters.granularity, audience=audience, disclosure=settings,
        data_date=data_date, data_from=filters.start,
        data_until=periods.reference_day(data_date, today=today, end=filters.end))
    return section, (figures.build(section.figure) if section.figure is not None else None)


VERDICT = {STATUS_BETTER: "bättre", STATUS_WORSE: "sämre", STATUS_NOISE: "inom slumpen"}
DELTA_COLOR = {STATUS_BETTER: "blue", STATUS_WORSE: "orange"}


def delta_args(ind: IndicatorStatus, texts: IndicatorTexts) -> dict[str, object]:
    """st.metric delta text, arrow and colour.

    The arrow follows the numeric change (never the text's sign: Swedish numbers use a
    true minus that Streamlit does not read); the colour follows the desired direction
    (blue = better, orange = worse, grey = within noise: colour-blind safe), and the text
    says it too.
    """
    diff = ind.change.diff
    if ind.previous_value is None or diff is None:
        return {"delta": None}
    verdict = "oförändrad" if diff == 0 else VERDICT.get(ind.status, "inom slumpen")
    period = f" ({ind.previous_period})" if ind.previous_period else ""
    return {"delta": f"från {texts.previous_full}{period} · {verdict}",
            "delta_arrow": "off" if diff == 0 else ("up" if diff > 0 else "down"),
            "delta_color": DELTA_COLOR.get(ind.status, "gray")}


def _indicator(view: IndicatorView) -> None:
    ind, texts = view.status, view.texts
    colour, icon, status_text = STATUS_STYLE.get(ind.status, NOISE_STYLE)
    test = view.test or "–"
    with st.container(border=True):
        st.markdown(f"**{ind.label}**")
        # The big number stays short (unit in the caption) so it fits a narrow card.
        st.metric(ind.label, texts.latest, **delta_args(ind, texts),
                  label_visibility="collapsed",
                  help=f"Senaste period: {ind.latest_period}. Test: {test}.")
        st.badge(status_text, icon=icon, color=colour)
        parts = [ind.latest_period, texts.unit]
        if ind.denominator and ind.denominator != texts.unit:
            parts.append(ind.denominator)
        parts.append(DIRECTION_TEXT.get(ind.desired_direction, ""))
        st.caption(" · ".join(p for p in parts if p))


def _card(card: GoalCard, views: tuple[IndicatorView, ...], official: tuple[str, ...]) -> None:
    with st.container(border=True):
        st.subheader(card.title)
        counts = card.counts
        st.caption(f"{counts[STATUS_BETTER]} bättre · {counts[STATUS_WORSE]} sämre · "
                   f"{counts[STATUS_NOISE]} inom slumpen · "
                   f"{counts[STATUS_NO_DATA]} utan data")
        for view in views:
            _indicator(view)
        for line in official:  # official statistics (Jämförelse); names from the data
            st.caption(f":material/compare_arrows: Officiell statistik – {md_escape(line)}")
        if card.activities:
            with st.expander("Planerade aktiviteter"):
                st.markdown("\n".join(f"- {a}" for a in card.activities))


ctx = page_setup("Lägesbild", filters={"period", "granularity"}, datasets=("incidents",))
for warning in freshness_warnings(ctx.bundle, date.today()):
    st.warning(warning)
bundle = ctx.bundle
# The cards depend on the promise too: a fixed or edited promise file is a new key.
cache_key = f"{bundle_key(bundle)}|{promise_file_key()}"
promise = promise_with_notice()
compact = cached("lagesbild_compact", cache_key, lambda: _compact(bundle, promise))
today = date.today()
# Only the period's end and the granularity matter for the cards.
overview = cached("lagesbild_overview", repr((
    cache_key, ctx.filters.end, ctx.filters.granularity, today, ctx.audience, ctx.settings)),
    lambda: goal_overview(compact, promise, audience=ctx.audience, disclosure=ctx.settings,
                          filters=Filters(end=ctx.filters.end,
                                          granularity=ctx.filters.granularity),
                          today=today))

st.subheader("Läget just nu")
st.markdown(overview.status_text)
st.caption("Jämförelsen gäller senaste hela period mot perioden före (händelser: vald "
           "tidsindelning; aktiviteter och trafik: senaste hela år; enkäter: senaste "
           "mätåret mot det förra). En förändring räknas som utanför slumpen när testet ger "
           "p < 0,05 (Poissontest för antal, z-test för andelar). Se **Om data**.")
if not ctx.is_official:
    st.caption(f"Publikt läge: antal mellan 1 och {ctx.settings.threshold - 1} visas som "
               f"”{ctx.settings.small_mark}”, enkätandelar med färre än "
               f"{ctx.settings.min_survey_n} svar som ”för få svar”.")

for note in overview.notes:
    st.caption(note)

if not overview.cards:
    show_empty("Medborgarlöftet har inga mål att visa.")
else:
    left, right = st.columns(2)
    for i, card in enumerate(overview.cards):
        with left if i % 2 == 0 else right:
            _card(card, overview.views_of(card.goal_id), overview.official.get(card.goal_id, ()))

data_date = bundle.data_date.get("incidents")
show_section(*cached("lagesbild_trend", repr((cache_key, ctx.filters, ctx.audience,
                                              ctx.settings, data_date, today)),
                     lambda: _trend(ctx.filters, ctx.audience, ctx.settings, data_date, today,
                                    compact["incidents"])))

render_report_download(ctx)
