"""Shared UI pieces of every page (the only place besides pages/* that imports streamlit).

Usage in a page::

    from pages.common import page_setup, show_empty, show_figure

    ctx = page_setup("Händelser (EST)", filters={"period", "area", "category", "source"})
    incidents = ctx.frames["incidents"]          # already filtered
    if incidents.empty:
        show_empty("Inga händelser matchar filtren.")
    else:
        show_figure(fig, table, source="EST-rapporter", data_date=ctx.bundle.data_date[
            "incidents"], key="handelser_per_vecka")

Data is loaded once per store version (``Store.version()`` is the cache key, so a new
ingest shows on the next rerun without restarting) and shared between sessions: treat
``ctx.bundle.frames`` and ``ctx.frames`` as read-only.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from hjo_data.datasource import (
    DEMO_LABEL,
    DataBundle,
    demo_rows_from_env,
    load_bundle,
    store_version,
)
from hjo_data.disclosure import (
    AUDIENCE_LABEL_SV,
    SECONDARY_MARK,
    DisclosureError,
    DisclosureSettings,
    PreparedTable,
    RowLevelNotPublicError,
    TableKind,
    audience_from_env,
    prepare_table,
)
from hjo_data.filters import (
    GRANULARITIES,
    GRANULARITY_LABELS,
    QUERY_KEYS,
    Filters,
    apply_filters,
)
from hjo_data.formatting import fmt_float
from hjo_data.schema import DATASETS, INCIDENT_CATEGORIES, SOURCES

FILTER_NAMES = frozenset({"period", "area", "category", "source"})
DEMO_BANNER = DEMO_LABEL
#: Kept for older imports; the labels live in hjo_data.disclosure.
MODE_LABELS = AUDIENCE_LABEL_SV
__all__ = ["audience_from_env"]  # re-exported from hjo_data.disclosure (one definition)

_STATE_KEY = "_hjo_filters"  # last applied Filters (survives page switches)
_W_PERIOD = "hjo_flt_period"
_W_GRAN = "hjo_flt_gran"
_W_AREA = "hjo_flt_area"
_W_CAT = "hjo_flt_cat"
_W_SRC = "hjo_flt_src"


@dataclass
class PageContext:
    """What a page works with after ``page_setup``."""

    bundle: DataBundle
    filters: Filters
    audience: str  # "public" | "official" (hjo_data.disclosure.Audience)
    #: Bundle frames with the page's filters applied (a lazy read-only mapping).
    frames: Mapping[str, pd.DataFrame]
    #: Public-mode limits from the promise's [settings] (threshold, min survey n).
    settings: DisclosureSettings = field(default_factory=DisclosureSettings)

    @property
    def is_official(self) -> bool:
        return self.audience == "official"


# --------------------------------------------------------------------------- data


def _promise_file_key() -> str:
    from hjo_data.reference import promise_file

    path = promise_file()
    try:
        return f"{path}:{path.stat().st_mtime_ns}"
    except OSError:
        return f"{path}:missing"


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_settings(key: str) -> DisclosureSettings:
    # The one loading policy (reference.load_promise_with_fallback); key: the file's mtime.
    del key
    from hjo_data.disclosure import promise_settings

    return promise_settings()


def disclosure_settings() -> DisclosureSettings:
    """Suppression threshold and minimum survey n from data/medborgarlofte.toml."""
    return _cached_settings(_promise_file_key())


@st.cache_resource(max_entries=4, show_spinner="Läser data …")
def _cached_bundle(version: str, store_root: str | None, demo_rows: int,
                   today: date) -> DataBundle:
    # cache_resource (not cache_data): the bundle can hold a million rows, and cache_data
    # would unpickle a copy on every rerun. ``version`` is only the cache key.
    del version
    return load_bundle(store_root, demo_rows=demo_rows, today=today)


def get_bundle() -> DataBundle:
    """The current bundle (store data, or demo data while the store is empty)."""
    store_root = os.environ.get("HJO_DATA_DIR") or None
    version = store_version(store_root)
    # Demo data depends on today's date: include it in the key so it rolls over at midnight.
    return _cached_bundle(version, store_root, demo_rows_from_env(), date.today())


@st.cache_resource(max_entries=64, show_spinner=False)
def _cached_filtered(version: str, name: str, filters: Filters,
                     _frame: pd.DataFrame) -> pd.DataFrame:
    del version
    return apply_filters(_frame, name, filters)


def bundle_key(bundle: DataBundle) -> str:
    """Cache key of a bundle for page-level caches (pass the bundle itself as ``_bundle``)."""
    return f"{bundle.store_version}|{bundle.is_demo}|{id(bundle)}"


class FilteredFrames(Mapping[str, pd.DataFrame]):
    """Bundle frames with the filters applied, computed on first access and cached."""

    def __init__(self, bundle: DataBundle, filters: Filters) -> None:
        self._bundle, self._filters = bundle, filters
        self._key = bundle_key(bundle)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._bundle.frames[name]
        return _cached_filtered(self._key, name, self._filters, frame)

    def __iter__(self) -> Iterator[str]:
        return iter(self._bundle.frames)

    def __len__(self) -> int:
        return len(self._bundle.frames)


def filtered_frames(bundle: DataBundle, filters: Filters) -> Mapping[str, pd.DataFrame]:
    """Every bundle frame with the filters applied (lazily; cached per bundle and filters)."""
    return FilteredFrames(bundle, filters)


# --------------------------------------------------------------------------- filters


def _query_filters() -> Filters | None:
    """Filters from the URL, or None when the URL holds no filter parameters."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    if not any(k in params for k in QUERY_KEYS.values()):
        return None
    return Filters.from_query(params)


@st.cache_resource(max_entries=8, show_spinner=False)
def _options(key: str, _bundle: DataBundle) -> tuple[tuple[date, date], list[str]]:
    del key
    return _data_range(_bundle), _areas(_bundle)


def _data_range(bundle: DataBundle) -> tuple[date, date]:
    """Date range offered by the period widget (all dated datasets)."""
    lows: list[date] = []
    highs: list[date] = []
    year_highs: list[date] = []
    for name, frame in bundle.frames.items():
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


def _areas(bundle: DataBundle) -> list[str]:
    areas: set[str] = set()
    for name in ("incidents", "traffic", "activities", "survey", "survey_responses"):
        frame = bundle.frames.get(name)
        if frame is not None and "area" in frame.columns and not frame.empty:
            areas.update(str(a) for a in frame["area"].dropna().unique())
    return sorted(areas, key=lambda a: (a == "Hela kommunen", a))


def _valid(values: Iterable[str], options: list[str]) -> list[str]:
    allowed = set(options)
    return [v for v in values if v in allowed]


def _sidebar_filters(bundle: DataBundle, shown: set[str]) -> Filters:
    """Render the sidebar widgets for ``shown`` and return the resulting Filters."""
    from_url = _query_filters()
    stored: Filters = st.session_state.get(_STATE_KEY, Filters())
    initial = from_url if from_url is not None else stored
    (lo, hi), areas = _options(bundle_key(bundle), bundle)
    # Initialise widget state once per page visit (widgets of other pages are cleaned up).
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
            gran = st.selectbox("Tidsindelning", GRANULARITIES, key=_W_GRAN,
                                format_func=lambda g: GRANULARITY_LABELS[g])
            result = result.with_(start=None if start <= lo else start,
                                  end=None if end >= hi else end, granularity=gran)
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


# --------------------------------------------------------------------------- page frame


def page_setup(title: str, *, filters: set[str] | frozenset[str] = frozenset()) -> PageContext:
    """Title, demo banner, audience badge and sidebar filters; returns the filtered data.

    ``filters`` ⊆ {"period", "area", "category", "source"} chooses the sidebar widgets.
    """
    unknown = set(filters) - FILTER_NAMES
    if unknown:
        raise ValueError(f"unknown filters: {sorted(unknown)}")
    bundle = get_bundle()
    # Logged-in role decides (HJO_MODE only counts when no accounts are configured).
    from pages.auth_ui import current_audience, sidebar_user_box

    audience = current_audience()
    sidebar_user_box()
    st.title(title)
    badge_icon = ":material/badge:" if audience == "official" else ":material/public:"
    st.badge(AUDIENCE_LABEL_SV[audience], icon=badge_icon,
             color="orange" if audience == "official" else "blue")
    if bundle.is_demo:
        st.warning(f"**{DEMO_BANNER}.** Lagringen är tom, så sidan visar syntetiska data. "
                   "Läs in riktiga filer för att ersätta dem.", icon=":material/science:")
    chosen = _sidebar_filters(bundle, set(filters))
    return PageContext(bundle=bundle, filters=chosen, audience=audience,
                       frames=filtered_frames(bundle, chosen),
                       settings=disclosure_settings())


# --------------------------------------------------------------------------- output


def format_data_date(value: date | int | str | None) -> str:
    """"2024-05-01" for dates, "2024" for years, "okänt datum" when missing."""
    if value is None:
        return "okänt datum"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV for Excel: UTF-8 with BOM, ';' separator, decimal comma, formula-safe cells.

    Uses ``hjo_data.export`` when it exists; this local version is the fallback.
    """
    try:
        from hjo_data import export  # type: ignore[attr-defined]
    except ImportError:
        export = None
    if export is not None:
        for name in ("csv_bytes", "to_csv_bytes", "export_csv"):
            func = getattr(export, name, None)
            if callable(func):
                result = func(table)
                if isinstance(result, bytes):
                    return result
                if isinstance(result, str):
                    return result.encode("utf-8-sig")
    safe = table.copy()
    safe.columns = [str(_neutralise(str(c))) for c in safe.columns]
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(_neutralise)
    text = safe.to_csv(sep=";", index=False, decimal=",", lineterminator="\r\n")
    return text.encode("utf-8-sig")


@dataclass(frozen=True)
class AudienceTable:
    """A "Visa data" table for one audience.

    display: what the table shows and the CSV contains (hidden values as "<5" / "..").
    numeric: same columns, numbers; hidden values NaN (build public charts from THIS).
    note:    Swedish footnote ("" when nothing is hidden).
    """

    display: pd.DataFrame
    numeric: pd.DataFrame
    note: str = ""


def _count_columns(table: pd.DataFrame, given: Iterable[str] | None) -> list[str]:
    if given is not None:
        return [c for c in given if c in table.columns]
    out = []
    for col in table.columns:
        values = table[col]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = arr[np.isfinite(arr)]
        if (finite >= 0).all() and (finite == np.round(finite)).all():
            out.append(col)
    return out


def table_for_audience(table: pd.DataFrame, audience: str, kind: TableKind = "counts",
                       settings: DisclosureSettings | None = None, *,
                       count_columns: Iterable[str] | None = None) -> AudienceTable:
    """The table behind a chart, made safe for ``audience`` via disclosure.prepare_table.

    kind="counts": whole-number columns (or ``count_columns``) are counts; the other
        columns are labels (text) or derived numbers (rates, shares). Public: small counts
        "<5", secondary suppression ".."; a derived number in a row with a hidden count is
        hidden too (it could reveal the count).
    kind="shares": needs columns ``share`` and ``n`` (optionally ``ci_low``/``ci_high``);
        public: shares with n < min_survey_n read "för få svar".
    kind="rows": row-level data; public raises RowLevelNotPublicError.
    Raises DisclosureError when a public table cannot be made safe (fail closed).
    """
    s = settings or DisclosureSettings()
    if audience == "official":
        return AudienceTable(table, table)
    if kind == "rows":
        prepare_table(table, audience, s, "rows")  # raises RowLevelNotPublicError
    if kind == "shares":
        prepared = prepare_table(table, audience, s, "shares")
        return AudienceTable(prepared.display, prepared.numeric, prepared.note)
    counts = _count_columns(table, count_columns)
    if not counts:
        raise DisclosureError("Tabellen har inga antal att skydda.")
    derived = [c for c in table.columns if c not in counts
               and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    labels = [c for c in table.columns if c not in counts and c not in derived]
    values = table[counts].reset_index(drop=True)
    if labels:
        index = table[labels].astype("str")
        values.index = (pd.Index(index.iloc[:, 0]) if len(labels) == 1
                        else pd.MultiIndex.from_frame(index))
    try:
        prepared = prepare_table(values, audience, s, "counts")
    except ValueError as err:
        raise DisclosureError(f"Tabellen kan inte skyddas: {err}") from err
    hidden_row = prepared.suppressed.to_numpy().any(axis=1)
    display = table.reset_index(drop=True).copy()
    numeric = table.reset_index(drop=True).copy()
    for col in counts:
        display[col] = prepared.display[col].to_numpy()
        numeric[col] = prepared.numeric[col].to_numpy()
    for col in derived:
        shown = numeric[col].astype("float64")
        numeric[col] = shown.where(~hidden_row)
        display[col] = [SECONDARY_MARK if h else fmt_float(v, 1) for v, h in zip(
            table[col].to_numpy(dtype="float64"), hidden_row, strict=True)]
        display[col] = display[col].astype("str")
    return AudienceTable(display, numeric, prepared.note)


_SV_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O"})


def image_file_name(text: str) -> str:
    """File name (without .png) for a chart's PNG download: "handelser-per-manad"."""
    ascii_text = unicodedata.normalize("NFKD", str(text).translate(_SV_ASCII))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80].strip("-")
    return slug or "diagram"


#: Swedish texts of the plotly toolbar (plotly.js ships English only; a locale passed in
#: the config is used by that chart). Keys are plotly.js's own English strings.
PLOTLY_SV_DICTIONARY: dict[str, str] = {
    "Download plot as a PNG": "Ladda ner som PNG",
    "Download plot as a png": "Ladda ner som PNG",
    "Download plot": "Ladda ner diagrammet",
    "Zoom": "Zooma",
    "Pan": "Panorera",
    "Zoom in": "Zooma in",
    "Zoom out": "Zooma ut",
    "Autoscale": "Anpassa axlarna",
    "Reset axes": "Återställ axlarna",
    "Reset view": "Återställ vyn",
    "Reset camera to default": "Återställ kameran",
    "Box Select": "Markera med rektangel",
    "Lasso Select": "Markera med lasso",
    "Toggle Spike Lines": "Visa/dölj stödlinjer",
    "Show closest data on hover": "Visa närmaste värde",
    "Compare data on hover": "Jämför värden",
    "Double-click to zoom back out": "Dubbelklicka för att zooma ut",
    "Taking snapshot - this may take a few seconds": "Sparar bilden – det kan ta några sekunder",
    "Snapshot succeeded": "Bilden sparades",
    "Sorry, there was a problem downloading your snapshot!":
        "Bilden kunde inte laddas ner.",
    "Click to enter Colorscale title": "Klicka för att ange rubrik",
    "Click to enter Plot title": "Klicka för att ange rubrik",
    "Click to enter X axis title": "Klicka för att ange rubrik",
    "Click to enter Y axis title": "Klicka för att ange rubrik",
    "trace": "serie",
}
PLOTLY_SV_LOCALE: dict[str, object] = {
    "dictionary": PLOTLY_SV_DICTIONARY,
    "format": {
        "days": ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
        "shortDays": ["sön", "mån", "tis", "ons", "tor", "fre", "lör"],
        "months": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                   "september", "oktober", "november", "december"],
        "shortMonths": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt",
                        "nov", "dec"],
        "date": "%Y-%m-%d",
        "decimal": ",",
        "thousands": " ",
    },
}


def chart_config(name: str) -> dict[str, object]:
    """Plotly config: Swedish toolbar (locale "sv": "Ladda ner som PNG", "Zooma", ...) and
    month names on date axes, PNG download with a Swedish file name, no plotly logo."""
    return {
        "displaylogo": False,
        "displayModeBar": True,
        "locale": "sv",
        "locales": {"sv": PLOTLY_SV_LOCALE},
        "toImageButtonOptions": {"format": "png", "filename": image_file_name(name),
                                 "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud"],
    }


def _figure_title(fig: object) -> str:
    try:
        return str(fig.layout.title.text or "")  # type: ignore[attr-defined]
    except AttributeError:
        return ""


def show_figure(fig: object | Callable[[pd.DataFrame], object], table: pd.DataFrame, *,
                source: str, data_date: date | int | str | None, key: str,
                title: str | None = None, kind: TableKind | None = None,
                audience: str | None = None, settings: DisclosureSettings | None = None,
                count_columns: Iterable[str] | None = None) -> None:
    """Chart + "Källa: … · Data t.o.m. …" + a "Visa data" expander with table and CSV.

    With ``kind`` ("counts" | "shares" | "rows") the table goes through
    ``table_for_audience`` for ``audience`` (default: the session's, e.g. public): small
    counts "<5", few answers "för få svar", row-level data refused in public mode. ``fig``
    may be a function of the (suppressed) numeric table, so the chart shows no hidden
    value either. Without ``kind`` the table is shown as given (the caller made it safe).
    The chart has a "Ladda ner som PNG" button (plotly toolbar, Swedish file name).
    """
    if title:
        st.subheader(title)
    aud = audience or _session_audience()
    safe: AudienceTable | None = AudienceTable(table, table)
    refused = ""
    if kind is not None:
        try:
            safe = table_for_audience(table, aud, kind, settings or disclosure_settings(),
                                      count_columns=count_columns)
        except RowLevelNotPublicError as err:
            safe, refused = None, str(err)
        except DisclosureError as err:
            safe, refused = None, f"Tabellen visas inte i publikt läge. {err}"
    figure = fig(safe.numeric if safe is not None else table.iloc[0:0]) if callable(fig) \
        else fig
    if safe is None and callable(fig):
        figure = None
    if figure is not None:
        name = title or _figure_title(figure) or key
        st.plotly_chart(figure, key=key, config=chart_config(name))
    st.caption(f"Källa: {source} · Data t.o.m. {format_data_date(data_date)}")
    with st.expander("Visa data"):
        if safe is None:
            st.info(refused, icon=":material/lock:")
            return
        st.dataframe(safe.display, hide_index=True, key=f"{key}_table")
        if safe.note:
            st.caption(safe.note)
        # Lazy: the bytes are built when the button is clicked, not on every rerun
        # (~5–30 ms per table, ~7 tables per page).
        display = safe.display
        st.download_button("Ladda ner CSV", data=lambda: csv_bytes(display),
                           file_name=f"{key}.csv", mime="text/csv", key=f"{key}_csv",
                           icon=":material/download:")


def _session_audience() -> str:
    from pages.auth_ui import current_audience

    return current_audience()


def swedish_file_uploader(limit_mb: int, types: str) -> None:
    """Swedish texts for Streamlit's file uploader, whose own are English ("Upload",
    "50MB per file") and follow server.maxUploadSize rather than our limit. Our own CSS;
    ``limit_mb`` and ``types`` are ours, never user text."""
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    note = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    st.html(f"""<style>
{button}, {note} {{ font-size: 0; }}
{button}::after {{ content: "Välj fil"; font-size: 14px; }}
{note}::after {{ content: "Högst {int(limit_mb)} MB per fil · {types}"; font-size: 14px; }}
</style>""")


def show_empty(message_sv: str) -> None:
    """Friendly notice instead of an empty chart."""
    st.info(message_sv, icon=":material/info:")


#: What the caption under a public chart adds about values hidden by suppression.
HIDDEN_NOT_DRAWN = "Dolda värden ritas inte i diagrammet."
HIDDEN_POINTS_MISSING = "De punkterna saknas i diagrammet."


def show_suppression_note(prepared: PreparedTable, chart_note: str = HIDDEN_NOT_DRAWN) -> None:
    """Caption explaining public-mode markers ("<5", "..", "för få svar") of a table."""
    if prepared.note:
        st.caption(f"{prepared.note} {chart_note}".strip())
