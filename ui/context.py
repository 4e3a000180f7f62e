"""The page frame: ``page_setup`` (title, audience badge, demo notice, sidebar filters) and
the data a page works with (cached bundle, filtered frames, disclosure settings).

Usage in a page::

    from ui.context import page_setup
    from ui.charts import show_figure
    from ui.widgets import show_empty

    ctx = page_setup("Händelser (EST)", filters={"period", "area", "category", "source"})
    incidents = ctx.frames["incidents"]          # already filtered
    if incidents.empty:
        show_empty("Inga händelser matchar filtren.")

Data is loaded once per store version (``Store.version()`` is the cache key, so a new
ingest shows on the next rerun without restarting) and shared between sessions: treat
``ctx.bundle.frames`` and ``ctx.frames`` as read-only. The process holds ONE bundle: when
the version changes, the old bundle and every cache derived from it are dropped before the
new one is loaded (a session mid-rerun keeps its own reference until its rerun ends).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st

from hjo_data.datasource import (
    DEMO_LABEL,
    DataBundle,
    demo_rows_from_env,
    load_bundle,
    public_view,
    store_version,
)
from hjo_data.disclosure import (
    AUDIENCE_LABEL_SV,
    DisclosureSettings,
    promise_settings,
    public_filters,
)
from hjo_data.filters import Filters, apply_filters
from hjo_data.formatting import fmt_date
from hjo_data.promise import Promise, load_promise_with_fallback, promise_file
from ui.auth import current_audience, md_escape, sidebar_user_box
from ui.filters import FILTER_NAMES, sidebar_filters


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


# --------------------------------------------------------------------------- the promise


def promise_file_key() -> str:
    """Cache key of the promise file (path and mtime): an edited file is a new key."""
    path = promise_file()
    try:
        return f"{path}:{path.stat().st_mtime_ns}"
    except OSError:
        return f"{path}:missing"


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_settings(key: str) -> DisclosureSettings:
    # The one loading policy (promise.load_promise_with_fallback); key: the file's mtime.
    del key
    return promise_settings()


def disclosure_settings() -> DisclosureSettings:
    """Suppression threshold and minimum survey n from data/medborgarlofte.toml."""
    return _cached_settings(promise_file_key())


def promise_with_notice() -> Promise | None:
    """The promise by the one loading policy; its warning (fallback promise) or error (no
    promise) shown as plain text (Markdown characters in paths/TOML errors escaped)."""
    promise, message = load_promise_with_fallback()
    if message:
        (st.warning if promise is not None else st.error)(md_escape(message))
    return promise


# --------------------------------------------------------------------------- data


@st.cache_resource(max_entries=1, show_spinner="Läser data …")
def _cached_bundle(version: str, store_root: str | None, demo_rows: int,
                   today: date) -> DataBundle:
    # cache_resource (not cache_data): the bundle can hold millions of rows, and cache_data
    # would unpickle a copy on every rerun. ``version`` is only the cache key. One entry:
    # a process holds the bundle of the current store version only (get_bundle).
    del version
    bundle = load_bundle(store_root, demo_rows=demo_rows, today=today)
    release_memory()  # the load's temporaries (Parquet buffers, aggregation)
    return bundle


_KEY_LOCK = threading.Lock()
#: The key of the bundle the process holds (get_bundle); a new key drops the old bundle.
_current_key: list[tuple[str, str | None, int, date] | None] = [None]


def get_bundle() -> DataBundle:
    """The current bundle (store data, or demo data while the store is empty)."""
    store_root = os.environ.get("HJO_DATA_DIR") or None
    # Demo data depends on today's date: include it in the key so it rolls over at midnight.
    key = (store_version(store_root), store_root, demo_rows_from_env(), date.today())
    with _KEY_LOCK:
        if _current_key[0] is not None and _current_key[0] != key:
            # A new store version: drop the old bundle and everything cached from it
            # (filtered frames, aggregates, sections, page caches) BEFORE loading the new
            # one, so the process never holds two versions (ui.upload.refresh_data does the
            # same after an upload).
            st.cache_resource.clear()
            release_memory()
        _current_key[0] = key
    return _cached_bundle(*key)


def release_memory() -> None:
    """Hand freed memory back to the system: the dropped bundle's Arrow buffers sit in
    Arrow's allocator and its numpy arrays in malloc's free lists, so the process's RSS
    would keep the old version's size next to the new one."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL(libc).malloc_trim(0)


@st.cache_resource(max_entries=4, show_spinner=False)
def _public_bundle(key: str, _bundle: DataBundle) -> DataBundle:
    del key
    return public_view(_bundle)


def public_bundle(bundle: DataBundle) -> DataBundle:
    """The bundle as public surfaces show it (``datasource.public_view``), once per bundle."""
    return _public_bundle(bundle_key(bundle), bundle)


def bundle_key(bundle: DataBundle) -> str:
    """Cache key of a bundle for page-level caches (pass the bundle itself as ``_bundle``)."""
    return f"{bundle.store_version}|{bundle.is_demo}|{id(bundle)}"


#: Filtered frames up to this many rows are cached (a period slice of a sorted frame is a
#: view and costs nothing); larger filtered copies are not kept: 64 copies of a
#: million-row selection held gigabytes.
CACHE_FILTERED_ROWS = 100_000


@st.cache_resource(max_entries=64, show_spinner=False)
def _cached_filtered(version: str, name: str, filters: Filters,
                     _frame: pd.DataFrame) -> pd.DataFrame:
    del version
    return apply_filters(_frame, name, filters)


class FilteredFrames(Mapping[str, pd.DataFrame]):
    """Bundle frames with the filters applied, computed on first access and cached."""

    def __init__(self, bundle: DataBundle, filters: Filters) -> None:
        self._bundle, self._filters = bundle, filters
        self._key = bundle_key(bundle)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._bundle.frames[name]
        if len(frame) > CACHE_FILTERED_ROWS:
            return apply_filters(frame, name, self._filters)
        return _cached_filtered(self._key, name, self._filters, frame)

    def __iter__(self) -> Iterator[str]:
        return iter(self._bundle.frames)

    def __len__(self) -> int:
        return len(self._bundle.frames)


def filtered_frames(bundle: DataBundle, filters: Filters) -> Mapping[str, pd.DataFrame]:
    """Every bundle frame with the filters applied (lazily; cached per bundle and filters)."""
    return FilteredFrames(bundle, filters)


@st.cache_resource(max_entries=256, show_spinner=False)
def _cached_section(name: str, key: str, _compute: Callable[[], Any]) -> Any:
    del name, key
    return _compute()


def cached(name: str, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per (``name``, ``key``), shared between sessions: section results
    (prepared tables, figures) of a page. ``key`` must name every input of ``compute``
    (bundle_key, relevant filters, audience, settings); a repr string is cheap to hash.
    Treat the result as read-only."""
    return _cached_section(name, key, compute)


# --------------------------------------------------------------------------- page frame


def page_setup(title: str, *, filters: set[str] | frozenset[str] = frozenset(),
               datasets: tuple[str, ...] = ()) -> PageContext:
    """Title, demo banner, audience badge and sidebar filters; returns the filtered data.

    ``filters`` ⊆ {"period", "granularity", "area", "category", "source"} chooses the
    sidebar widgets (only those that apply to the page's data); ``datasets``: the datasets
    the page shows (the period widget spans their data; default all).
    """
    unknown = set(filters) - FILTER_NAMES
    if unknown:
        raise ValueError(f"unknown filters: {sorted(unknown)}")
    bundle = get_bundle()
    # Logged-in role decides (HJO_MODE only counts when no accounts are configured).
    audience = current_audience()
    if audience == "public":  # areas not in areas.csv -> "Okänt område"
        bundle = public_bundle(bundle)
    sidebar_user_box()
    st.title(title)
    badge_icon = ":material/badge:" if audience == "official" else ":material/public:"
    st.badge(AUDIENCE_LABEL_SV[audience], icon=badge_icon,
             color="orange" if audience == "official" else "blue")
    if bundle.is_demo:
        st.warning(f"**{DEMO_LABEL}.** Lagringen är tom, så sidan visar syntetiska data. "
                   "Läs in riktiga filer för att ersätta dem.", icon=":material/science:")
    chosen = sidebar_filters(bundle, set(filters), bundle_key(bundle), title,
                             datasets)
    if audience == "public" and "period" in filters:
        grid = public_filters(chosen)  # whole months (docs/PRIVACY.md)
        if grid != chosen:
            span = " – ".join(fmt_date(d) if d else "…" for d in (grid.start, grid.end))
            st.sidebar.caption(f"Publikt läge räknar hela månader: {span}.")
        chosen = grid
    return PageContext(bundle=bundle, filters=chosen, audience=audience,
                       frames=filtered_frames(bundle, chosen),
                       settings=disclosure_settings())
