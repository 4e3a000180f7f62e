"""Presentation mode's rendering: the slide HTML (every data text escaped), our own constant
CSS that hides the Streamlit chrome, and the slide index state (previous/next/pause).

The slide content comes from ``hjo_data.slides``; pages/presentation.py only wires it up.
"""

from __future__ import annotations

import time
from html import escape

import streamlit as st

from hjo_data.formatting import fmt_int
from hjo_data.slides import (
    Slide,
    SlideFigure,
    format_counter,
    parse_slide_param,
    should_advance,
    step_index,
)

PUBLIC_LABEL = "Publikt läge"

_IDX = "_pres_index"  # current slide (0-based)
_SHOWN = "_pres_shown_at"  # time.monotonic() when the current slide appeared
_PAUSED = "_pres_paused"
_START = "_pres_start_param"  # the ?slide= value the index was initialised from

# Our own constant CSS (never built from data). The footer stops 24rem before the right edge:
# the controls (three buttons, about 21-23rem wide) sit there, and at 1280 px a long source
# line ran under them. Sizes in vh/vw: 1920×1080 and 1280×720
# are both 16:9, so one layout fits both without scrolling. Colours: Okabe–Ito blue and
# vermillion (colour-blind safe) on white, near-black text (high contrast); every status
# also carries a symbol and a text.
CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="collapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
#MainMenu, header, footer { display: none !important; }
html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: #ffffff !important; color: #111111; overflow: hidden !important;
}
.block-container, [data-testid="stMainBlockContainer"] {
  padding: 2vh 3vw 0 3vw !important; max-width: 100% !important;
}
[data-stale="true"], .stale-element { opacity: 1 !important; }
.st-key-presentation-slide { height: 92vh; overflow: hidden; }
.pres { font-family: "Source Sans Pro", "Source Sans 3", Arial, sans-serif; color: #111111;
  height: 92vh; display: flex; flex-direction: column; gap: 1.2vh; line-height: 1.15; }
.pres-title { font-size: 6vh; font-weight: 700; margin: 0; }
.pres-number { font-size: min(12vw, 21vh); font-weight: 800; line-height: 1;
  letter-spacing: -0.02em; margin: 1vh 0 0 0; white-space: nowrap; }
.pres-message { font-size: 5vh; font-weight: 600; max-width: 92vw; }
.pres-status { font-size: 3.8vh; font-weight: 700; display: inline-block; align-self: flex-start;
  padding: 0.5vh 1.6vh; border-radius: 1vh; border: 0.4vh solid currentColor; }
.pres-status-better { color: #005a8f; }
.pres-status-worse { color: #b34700; }
.pres-status-noise, .pres-status-nodata { color: #3a3a3a; }
.pres-subtitle { font-size: 3.6vh; color: #222222; }
.pres-detail { font-size: 3vh; color: #333333; }
.pres-fig { display: flex; align-items: flex-end; gap: 0.6vw; height: 20vh;
  margin-top: 0.5vh; max-width: 94vw; }
.pres-col { flex: 1 1 0; display: flex; flex-direction: column; align-items: stretch;
  justify-content: flex-end; height: 100%; min-width: 0; }
.pres-bars { flex: 1 1 auto; display: flex; align-items: flex-end; gap: 0.2vw; }
.pres-bar { flex: 1 1 0; background: #0072b2; min-height: 0.3vh; }
.pres-bar-ref { background: #ffffff; border: 0.35vh dashed #3a3a3a; }
.pres-bar-hidden { background: repeating-linear-gradient(45deg, #bbbbbb 0 0.5vh,
  #ffffff 0.5vh 1vh); height: 3vh; }
.pres-val { font-size: 2.2vh; text-align: center; white-space: nowrap; }
.pres-lab { font-size: 2.1vh; text-align: center; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; color: #222222; }
.pres-legend { font-size: 2.1vh; color: #222222; }
.pres-legend span { display: inline-block; width: 2vh; height: 1.6vh; margin: 0 0.5vh 0 1.5vh;
  vertical-align: middle; }
.pres-footer { position: fixed; left: 3vw; right: calc(1.5vw + 24rem); bottom: 1.2vh;
  font-size: 2vh; color: #333333; }
.pres-demo { position: fixed; right: 2vw; top: 1.5vh; font-size: 2.4vh; font-weight: 700;
  color: #111111; background: #f0e442; padding: 0.4vh 1.2vh; border-radius: 0.8vh; }
.pres-counter { position: fixed; right: 2vw; bottom: 6.5vh; font-size: 2.4vh; color: #555555; }
.st-key-presentation-controls { position: fixed; right: 1.5vw; bottom: 0.8vh; width: auto;
  opacity: 0.35; z-index: 1000; }
.st-key-presentation-controls:hover, .st-key-presentation-controls:focus-within {
  opacity: 1; }
.st-key-presentation-controls button { min-height: 0; padding: 0.2vh 1vh; }
.st-key-presentation-remote { position: fixed; left: -10000px; top: 0; width: 1px;
  height: 1px; overflow: hidden; visibility: hidden; }
</style>"""


def _figure_html(fig: SlideFigure) -> str:
    values = [v for v in (*fig.values, *(fig.reference or ())) if v is not None]
    top = max(values) if values else 0.0
    cols: list[str] = []
    for i, label in enumerate(fig.labels):
        value = fig.values[i]
        ref = fig.reference[i] if fig.reference is not None else None
        bars = []
        if value is None:
            bars.append('<div class="pres-bar pres-bar-hidden"></div>')
            shown = "&lt;5"
        else:
            pct = 0.0 if top <= 0 else 100.0 * value / top
            bars.append(f'<div class="pres-bar" style="height:{pct:.1f}%"></div>')
            shown = escape(_num(value))
        if fig.reference is not None:
            pct = 0.0 if top <= 0 or ref is None else 100.0 * ref / top
            bars.append(f'<div class="pres-bar pres-bar-ref" style="height:{pct:.1f}%">'
                        "</div>")
            shown += " / " + escape(_num(ref)) if ref is not None else ""
        cols.append(f'<div class="pres-col"><div class="pres-val">{shown}</div>'
                    f'<div class="pres-bars">{"".join(bars)}</div>'
                    f'<div class="pres-lab" title="{escape(label)}">{escape(label)}</div>'
                    "</div>")
    legend = (f'<div class="pres-legend"><span style="background:#0072b2"></span>'
              f"{escape(fig.value_name)}")
    if fig.reference is not None:
        legend += (f'<span class="pres-bar-ref" style="background:#fff"></span>'
                   f"{escape(fig.reference_name)}")
    legend += "</div>"
    return f'<div class="pres-fig">{"".join(cols)}</div>{legend}'


def _num(value: float | None) -> str:
    return fmt_int(value)


def slide_html(slide: Slide, index: int, count: int) -> str:
    """The slide as HTML; every text from data or config is escaped."""
    parts = [f'<div class="pres" data-testid="presentation-slide-body" '
             f'data-slide-id="{escape(slide.id)}" data-slide-index="{index + 1}" '
             f'data-slide-count="{count}">',
             f'<div class="pres-title">{escape(slide.title)}</div>']
    if slide.big_number:
        parts.append(f'<div class="pres-number">{escape(slide.big_number)}</div>')
    if slide.message:
        parts.append(f'<div class="pres-message">{escape(slide.message)}</div>')
    if slide.status_text:
        symbol = {"better": "✔ ", "worse": "⚠ ", "noise": "= ", "nodata": "? "}.get(
            slide.status, "")
        parts.append(f'<div class="pres-status pres-status-{escape(slide.status or "noise")}">'
                     f"{symbol}{escape(slide.status_text)}</div>")
    if slide.subtitle:
        parts.append(f'<div class="pres-subtitle">{escape(slide.subtitle)}</div>')
    if slide.detail:
        parts.append(f'<div class="pres-detail">{escape(slide.detail)}</div>')
    if slide.figure is not None:
        parts.append(_figure_html(slide.figure))
    footer = " · ".join(p for p in (PUBLIC_LABEL, slide.footer) if p)
    parts.append(f'<div class="pres-footer">{escape(footer)}</div>')
    if slide.demo:
        parts.append('<div class="pres-demo">DEMODATA – inte verklig statistik</div>')
    parts.append(f'<div class="pres-counter" data-testid="presentation-counter">'
                 f"{escape(format_counter(index, count))}</div></div>")
    return "".join(parts)



def go(step: int, count: int) -> None:
    st.session_state[_IDX] = step_index(st.session_state.get(_IDX, 0), count, step)
    st.session_state[_SHOWN] = time.monotonic()


def toggle_pause() -> None:
    st.session_state[_PAUSED] = not st.session_state.get(_PAUSED, False)
    st.session_state[_SHOWN] = time.monotonic()


def init_state(count: int) -> None:
    raw = st.query_params.get("slide")
    if _IDX not in st.session_state or st.session_state.get(_START) != raw:
        st.session_state[_IDX] = parse_slide_param(raw, count) if raw else 0
        st.session_state[_START] = raw
        st.session_state[_SHOWN] = time.monotonic()
    st.session_state.setdefault(_PAUSED, False)
    st.session_state[_IDX] = st.session_state[_IDX] % count



def show_deck(deck: list[Slide], interval: int | None) -> None:
    """The current slide (an auto-advancing fragment every ``interval`` seconds unless
    paused) and the previous/pause/next controls with keyboard shortcuts."""
    count = len(deck)
    init_state(count)
    paused = bool(st.session_state[_PAUSED])

    @st.fragment(run_every=interval if interval and not paused else None)
    def _show_slide() -> None:
        now = time.monotonic()
        if not st.session_state[_PAUSED] and should_advance(st.session_state[_SHOWN], now,
                                                            interval):
            st.session_state[_IDX] = step_index(st.session_state[_IDX], count, 1)
            st.session_state[_SHOWN] = now
        index = st.session_state[_IDX] % count
        with st.container(key="presentation-slide"):
            st.html(slide_html(deck[index], index, count))

    _show_slide()

    with st.container(key="presentation-controls", horizontal=True, gap="small"):
        st.button("Föregående", icon=":material/chevron_left:", key="pres_prev",
                  shortcut="Left", on_click=go, args=(-1, count), help="Föregående bild (←)")
        st.button("Fortsätt" if paused else "Pausa",
                  icon=":material/play_arrow:" if paused else ":material/pause:",
                  key="pres_pause", shortcut="P", on_click=toggle_pause,
                  disabled=not interval, help="Pausa/fortsätt automatiskt bildbyte (P)")
        st.button("Nästa", icon=":material/chevron_right:", key="pres_next",
                  shortcut="Right", on_click=go, args=(1, count), help="Nästa bild (→)")

    # Presenter remotes send PageDown/PageUp: keyboard-only twins, kept off screen and
    # hidden (so Tab never lands on an invisible button; Streamlit's shortcut listener
    # does not depend on visibility).
    with st.container(key="presentation-remote"):
        st.button("Nästa (PageDown)", key="pres_next_remote", shortcut="PageDown",
                  on_click=go, args=(1, count))
        st.button("Föregående (PageUp)", key="pres_prev_remote", shortcut="PageUp",
                  on_click=go, args=(-1, count))
