"""Presentation mode (``?presentation=1``): full-screen slides for council meetings.

Always the public audience, whatever ``HJO_MODE`` says. The slide content comes from
``hjo_data.slides`` (order and titles from ``data/presentation.toml``); this page only
renders it: one ``st.html`` block per slide (every data text HTML-escaped), our own
constant CSS that hides the Streamlit chrome, an auto-advancing fragment and
previous/pause/next buttons with keyboard shortcuts (presenter remotes send
PageDown/PageUp).

URL parameters: ``interval`` (seconds, 5–600; 0 = no auto-advance), ``slide`` (1-based
start slide).
"""

from __future__ import annotations

import hashlib
from datetime import date

import streamlit as st
from PIL import Image

from hjo_data.promise import Promise, load_promise_with_fallback
from hjo_data.slides import SlideConfigError, build_deck, load_config, parse_interval
from ui.auth import md_escape
from ui.context import bundle_key, cached, get_bundle, promise_file_key, public_bundle
from ui.presentation import CSS, show_deck


def _promise() -> Promise | None:
    """The promise by the one loading policy; its warning or error shown as plain text.

    Without any promise the deck leaves out the goal slides (``slides.build_deck``).
    """
    promise, message = load_promise_with_fallback()
    # A toast, once per session: a banner above the slide would push its bottom off the
    # screen, and auto-advance reruns would repeat it for the audience on every slide.
    if message and st.session_state.get("pres_promise_message") != message:
        st.session_state["pres_promise_message"] = message
        st.toast(md_escape(message), icon="⚠️" if promise is not None else "🚫",
                 duration="long")
    return promise






# A local favicon: the dashboard's material icon would be fetched from Google's CDN, and
# the presentation must work offline.
st.set_page_config(page_title="Presentation – Trygghetsdashboard Hjo", layout="wide",
                   initial_sidebar_state="collapsed",
                   page_icon=Image.new("RGB", (32, 32), (0, 114, 178)))
st.html(CSS)

try:
    config = load_config()
except SlideConfigError as err:
    st.error(f"Presentationen kan inte visas: {err}")
    st.stop()

# Always public: the public view (its incident aggregate is the official one relabelled).
bundle = public_bundle(get_bundle())
config_key = hashlib.sha256(repr(config).encode()).hexdigest()[:16]
try:
    # ui.context.cached, not a st.cache_resource page function (that would keep the page's
    # last globals, and an old bundle, alive).
    today, promise = date.today(), _promise()
    deck = cached("deck", f"{bundle_key(bundle)}|{config_key}|{promise_file_key()}|{today}",
                  lambda: build_deck(bundle, promise, config, today=today))
except SlideConfigError as err:
    st.error(f"Presentationen kan inte visas: {err}")
    st.stop()

show_deck(deck, parse_interval(st.query_params.get("interval"), config.interval))
