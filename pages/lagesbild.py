"""Lägesbild: the landing page — one card per promise goal and "Läget just nu"."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from hjo_data.datasource import DataBundle
from hjo_data.filters import Filters, apply_filters
from hjo_data.lagesbild import (
    STATUS_BETTER,
    STATUS_NO_DATA,
    STATUS_WORSE,
    GoalCard,
    IndicatorStatus,
    compact_incidents,
    goal_cards,
    incident_filter_columns,
    incidents_per_period,
    latest_status_text,
    trend_figure,
)
from pages.common import bundle_key, page_setup, show_empty, show_figure

# Colour-blind-safe: blue = better, orange = worse, grey = within noise / no data; every
# status also has its own icon and text.
STATUS_STYLE = {
    STATUS_BETTER: ("blue", ":material/arrow_circle_up:", "Bättre – utanför slumpen"),
    STATUS_WORSE: ("orange", ":material/warning:", "Sämre – utanför slumpen"),
    STATUS_NO_DATA: ("gray", ":material/help:", "Ingen data"),
}
NOISE_STYLE = ("gray", ":material/drag_handle:", "Oförändrad / inom slumpen")
DIRECTION_TEXT = {"down": "↓ lägre är bättre", "up": "↑ högre är bättre"}


def _promise() -> object | None:
    try:
        from hjo_data.reference import load_promise
    except ImportError:
        return None
    try:
        return load_promise()
    except Exception as err:  # noqa: BLE001 - a broken promise file must not break the page
        st.warning(f"Medborgarlöftet kunde inte läsas, standardmålen visas: {err}")
        return None


@st.cache_resource(max_entries=4, show_spinner="Sammanställer händelser …")
def _compact(key: str, _bundle: DataBundle, _promise: object) -> dict[str, pd.DataFrame]:
    """Bundle frames with incidents collapsed to daily counts (fast cards and trend)."""
    del key
    incidents = _bundle.frame("incidents")
    return {**_bundle.frames, "incidents": compact_incidents(
        incidents, incident_filter_columns(_promise))}


@st.cache_resource(max_entries=32, show_spinner="Beräknar lägesbilden …")
def _cards(key: str, end: date | None, granularity: str, today: date,
           _frames: dict[str, pd.DataFrame], _promise: object) -> list[GoalCard]:
    # Only the period's end and the granularity matter for the cards.
    del key
    return goal_cards(_frames, _promise, Filters(end=end, granularity=granularity), today)


@st.cache_resource(max_entries=32, show_spinner=False)
def _trend(key: str, filters: Filters, _compact_incidents: pd.DataFrame) -> pd.DataFrame:
    del key
    subset = apply_filters(_compact_incidents, "incidents", filters)
    return incidents_per_period(subset, filters.granularity)


def _value_text(ind: IndicatorStatus, official: bool) -> str:
    text = ind.latest_text
    if (not official and ind.kind == "count" and ind.dataset == "incidents"
            and ind.latest_value is not None and 0 < ind.latest_value < 5):
        text = "<5"
    return text


def _indicator(ind: IndicatorStatus, official: bool) -> None:
    colour, icon, status_text = STATUS_STYLE.get(ind.status, NOISE_STYLE)
    unit = "" if ind.kind in ("share", "ratio") else ind.unit
    delta = None
    if ind.previous_value is not None and ind.change.diff is not None:
        prev = ind.previous_text
        if not official and ind.kind == "count" and ind.dataset == "incidents" and (
                0 < (ind.previous_value or 0) < 5):
            prev = "<5"
        delta = f"från {prev} ({ind.previous_period})"
    with st.container(border=True):
        st.markdown(f"**{ind.label}**")
        st.metric(ind.label, f"{_value_text(ind, official)} {unit}".strip(), delta=delta,
                  delta_color="off", delta_arrow="off" if ind.change.diff in (None, 0)
                  else "auto", label_visibility="collapsed",
                  help=f"Senaste period: {ind.latest_period}. Test: "
                       f"{ind.change.test or '–'}.")
        st.badge(status_text, icon=icon, color=colour)
        st.caption(f"{ind.latest_period} · {ind.denominator} · "
                   f"{DIRECTION_TEXT.get(ind.desired_direction, '')}")


def _card(card: GoalCard, official: bool) -> None:
    with st.container(border=True):
        st.subheader(card.title)
        counts = card.counts
        st.caption(f"{counts[STATUS_BETTER]} bättre · {counts[STATUS_WORSE]} sämre · "
                   f"{counts['oförändrad/inom slumpen']} inom slumpen · "
                   f"{counts[STATUS_NO_DATA]} utan data")
        cols = st.columns(2)
        for i, ind in enumerate(card.indicators):
            with cols[i % 2]:
                _indicator(ind, official)
        if card.activities:
            with st.expander("Planerade aktiviteter"):
                st.markdown("\n".join(f"- {a}" for a in card.activities))


ctx = page_setup("Lägesbild", filters={"period"})
bundle = ctx.bundle
cache_key = bundle_key(bundle)
promise = _promise()
compact = _compact(cache_key, bundle, promise)
cards = _cards(cache_key, ctx.filters.end, ctx.filters.granularity, date.today(), compact,
               promise)

st.subheader("Läget just nu")
st.markdown(latest_status_text(cards))
st.caption("Jämförelsen gäller senaste hela period mot perioden före (händelser: vald "
           "tidsindelning; aktiviteter och trafik: år; enkäter: senaste mätåret mot det "
           "förra). En förändring räknas som utanför slumpen när testet ger p < 0,05 "
           "(Poissontest för antal, z-test för andelar). Se **Om data**.")

if not cards:
    show_empty("Medborgarlöftet har inga mål att visa.")
else:
    left, right = st.columns(2)
    for i, card in enumerate(cards):
        with left if i % 2 == 0 else right:
            _card(card, ctx.is_official)

table = _trend(cache_key, ctx.filters, compact["incidents"])
if table.empty or int(table["antal"].sum()) == 0:
    show_empty("Inga händelser finns för den valda perioden.")
else:
    show_figure(trend_figure(table, ctx.filters.granularity),
                table.rename(columns={"period": "Period", "antal": "Antal händelser"})
                .drop(columns=["period_start"]),
                source="EST-rapporter (kommun, polis och parter)",
                data_date=bundle.data_date.get("incidents"), key="lagesbild_trend")
