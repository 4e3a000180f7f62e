"""Sidebar filter widgets <-> ``hjo_data.filters.Filters`` <-> URL query parameters.

The chosen filters live in three places that must agree: the sidebar widgets (keys
``hjo_flt_period``, ``hjo_flt_gran``, ``hjo_flt_area``, ``hjo_flt_cat``, ``hjo_flt_src``),
the URL (``Filters.to_query``: a link can be shared) and the session (so a page switch
keeps them; Streamlit removes the widgets of the page left behind).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from hjo_data.datasource import DataBundle
from hjo_data.filters import QUERY_KEYS, Filters
from hjo_data.periods import GRANULARITIES, GRANULARITY_LABELS
from hjo_data.schema import DATASETS, INCIDENT_CATEGORIES, SOURCES, WHOLE_MUNICIPALITY

#: "granularity" (Tidsindelning) only where the page draws per period: not on yearly data.
FILTER_NAMES = frozenset({"period", "granularity", "area", "category", "source"})

_STATE_KEY = "_hjo_filters"  # last applied Filters (survives page switches)
_PAGE_KEY = "_hjo_filters_page"  # the page whose widgets hold the filter state
_BOUNDS = "_hjo_filters_bounds"  # (page, bundle key, lo, hi) of the period widget
_W_PERIOD = "hjo_flt_period"
_W_GRAN = "hjo_flt_gran"
_W_AREA = "hjo_flt_area"
_W_CAT = "hjo_flt_cat"
_W_SRC = "hjo_flt_src"
_WIDGETS = (_W_PERIOD, _W_GRAN, _W_AREA, _W_CAT, _W_SRC)


def _query_filters() -> Filters | None:
    """Filters from the URL, or None when the URL holds no filter parameters."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    if not any(k in params for k in QUERY_KEYS.values()):
        return None
    return Filters.from_query(params)


@st.cache_resource(max_entries=32, show_spinner=False)
def _options(key: str, datasets: tuple[str, ...], _bundle: DataBundle
             ) -> tuple[tuple[date, date], list[str]]:
    del key
    return data_range(_bundle, datasets), area_options(_bundle)


def data_range(bundle: DataBundle, datasets: tuple[str, ...] = ()) -> tuple[date, date]:
    """Date range offered by the period widget: the data of ``datasets`` (the page's; all
    datasets when empty), so the widget starts where the page's charts start."""
    lows: list[date] = []
    highs: list[date] = []
    year_highs: list[date] = []
    for name, frame in bundle.frames.items():
        if datasets and name not in datasets:
            continue
        ds = DATASETS.get(name)
        if ds is None or frame.empty or ds.time_column not in frame.columns:
            continue
        col = frame[ds.time_column].dropna()
        if col.empty:
            continue
        if pd.api.types.is_numeric_dtype(col):
            lows.append(date(int(col.min()), 1, 1))
            year_highs.append(date(int(col.max()), 12, 31))
        else:
            lows.append(pd.Timestamp(col.min()).date())
            highs.append(pd.Timestamp(col.max()).date())
    if not lows:
        today = date.today()
        return today - timedelta(days=365), today
    # A survey year must not stretch the period past the last dated row (31 Dec of a year
    # that has not ended); year-only data uses its last 31 Dec.
    return min(lows), max(highs) if highs else max(year_highs)


def area_options(bundle: DataBundle) -> list[str]:
    """Areas offered by the area widget (the whole municipality last)."""
    areas: set[str] = set()
    for name in ("incidents", "traffic", "activities", "survey", "survey_responses"):
        frame = bundle.frames.get(name)
        if frame is not None and "area" in frame.columns and not frame.empty:
            areas.update(str(a) for a in frame["area"].dropna().unique())
    return sorted(areas, key=lambda a: (a == WHOLE_MUNICIPALITY, a))


def _valid(values: Iterable[str], options: list[str]) -> list[str]:
    allowed = set(options)
    return [v for v in values if v in allowed]


def sidebar_filters(bundle: DataBundle, shown: set[str], key: str, page: str,
                    datasets: tuple[str, ...] = ()) -> Filters:
    """Render the sidebar widgets for ``shown`` and return the resulting Filters.

    ``key``: the bundle's cache key (the widget options are computed once per bundle);
    ``page``: the page's title (on a page change the widgets are seeded again);
    ``datasets``: the page's datasets (the period widget's range).
    Filters a page does not show are kept (session and URL) for the next page.
    """
    from_url = _query_filters()
    stored: Filters = st.session_state.get(_STATE_KEY, Filters())
    initial = from_url if from_url is not None else stored
    (data_lo, data_hi), areas = _options(key, tuple(datasets), bundle)
    if st.session_state.get(_PAGE_KEY) != page:
        # A widget belongs to its page: on another page a widget with the same key starts
        # from its default again (the area filter was lost on a page change). Seed every
        # filter widget from the remembered filters instead.
        for widget in _WIDGETS:
            st.session_state.pop(widget, None)
        st.session_state[_PAGE_KEY] = page
    # Initialise widget state once per page visit.
    bounds = st.session_state.get(_BOUNDS)
    if _W_PERIOD not in st.session_state or bounds is None or bounds[:2] != (page, key):
        # The widget spans the page's data, widened only to show a period chosen
        # elsewhere as it is (clipping it would silently change it for other pages).
        # Fixed for the page visit: a keyed widget whose bounds change is reset.
        chosen = [d for d in (initial.start, initial.end) if d is not None]
        bounds = (page, key, min([data_lo, *chosen]), max([data_hi, *chosen]))
        st.session_state[_BOUNDS] = bounds
        st.session_state.pop(_W_PERIOD, None)
    lo, hi = bounds[2], bounds[3]
    if _W_PERIOD not in st.session_state:
        start = min(max(initial.start or lo, lo), hi)
        end = max(min(initial.end or hi, hi), start)
        st.session_state[_W_PERIOD] = (start, end)
    if _W_GRAN not in st.session_state:
        st.session_state[_W_GRAN] = initial.granularity
    if _W_AREA not in st.session_state:
        st.session_state[_W_AREA] = _valid(initial.areas, areas)
    if _W_CAT not in st.session_state:
        st.session_state[_W_CAT] = _valid(initial.categories, list(INCIDENT_CATEGORIES))
    if _W_SRC not in st.session_state:
        st.session_state[_W_SRC] = _valid(initial.sources, list(SOURCES))

    result = initial
    with st.sidebar:
        st.header("Filter")
        if "period" in shown:
            picked = st.date_input("Period", min_value=lo, max_value=hi, key=_W_PERIOD,
                                   format="YYYY-MM-DD")
            start, end = _range_value(picked, lo, hi)
            # The first/last day of the page's data: "from the beginning / to the end".
            result = result.with_(start=None if start == data_lo else start,
                                  end=None if end == data_hi else end)
        if "granularity" in shown:
            gran = st.selectbox("Tidsindelning", GRANULARITIES, key=_W_GRAN,
                                format_func=lambda g: GRANULARITY_LABELS[g])
            result = result.with_(granularity=gran)
        if "area" in shown:
            picked_areas = st.multiselect("Område", areas, key=_W_AREA,
                                          placeholder="Alla områden")
            result = result.with_(areas=tuple(picked_areas))
        if "category" in shown:
            cats = st.multiselect("Kategori", list(INCIDENT_CATEGORIES), key=_W_CAT,
                                  placeholder="Alla kategorier")
            result = result.with_(categories=tuple(cats))
        if "source" in shown:
            srcs = st.multiselect("Rapportör", list(SOURCES), key=_W_SRC,
                                  placeholder="Alla rapportörer")
            result = result.with_(sources=tuple(srcs))
    # Filters a page does not show are not applied on that page (but remembered).
    applied = Filters(
        start=result.start if "period" in shown else None,
        end=result.end if "period" in shown else None,
        areas=result.areas if "area" in shown else (),
        categories=result.categories if "category" in shown else (),
        sources=result.sources if "source" in shown else (),
        granularity=result.granularity,
    )
    st.session_state[_STATE_KEY] = result
    _write_query(result)
    return applied


def _range_value(picked: object, lo: date, hi: date) -> tuple[date, date]:
    """(start, end) from a date_input range value (one end may still be missing)."""
    if isinstance(picked, date):
        return picked, hi
    values = [v for v in (picked or ()) if isinstance(v, date)]  # type: ignore[union-attr]
    if not values:
        return lo, hi
    if len(values) == 1:
        return values[0], hi
    return min(values), max(values)


def _write_query(filters: Filters) -> None:
    """Mirror the filters into the URL (only our keys; other parameters are kept)."""
    wanted = filters.to_query()
    for key in QUERY_KEYS.values():
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
