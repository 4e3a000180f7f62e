"""Report download on a page: "Ladda ner lägesbild (HTML/PDF)" (issue 4).

``render_report_download(ctx)`` shows a period picker, a
format choice and a "Skapa rapport" button. The report is built only when the button is
pressed (never on an ordinary rerun), for the session's audience, and kept in the session
so the download button can hand it over.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from hjo_data import report
from hjo_data.errors import HjoDataError

GRAN_LABELS = {"W": "Vecka", "M": "Månad", "Q": "Kvartal", "Y": "År"}
_STATE = "_hjo_report_file"  # (signature, bytes, file name, mime)


def _last_day(ctx: Any) -> date:
    dates = [d for d in (ctx.bundle.data_date or {}).values() if isinstance(d, date)]
    return min(max(dates), date.today()) if dates else date.today()


def render_report_download(ctx: Any) -> None:
    """Period (week/month/quarter/year) + format + "Skapa rapport" -> download button."""
    st.subheader("Ladda ner lägesbild (HTML/PDF)")
    formats = ["html"] + (["pdf"] if report.find_chromium() is not None else [])
    cols = st.columns(3)
    gran = cols[0].selectbox("Period", list(GRAN_LABELS), index=1, key="hjo_rap_gran",
                             format_func=GRAN_LABELS.get)
    options = report.period_codes(_last_day(ctx), gran)
    choice = cols[1].selectbox(GRAN_LABELS[gran], options, key=f"hjo_rap_period_{gran}",
                               format_func=lambda p: report.parse_period(p).label)
    fmt = cols[2].radio("Format", formats, key="hjo_rap_fmt", horizontal=True,
                        format_func=str.upper)
    audience_label = "tjänstepersonsläge" if ctx.audience == "official" else "publikt läge"
    st.caption(f"Rapporten skapas i {audience_label} med översikten, diagram, texten "
               "”Läget just nu”, källor och datum."
               + ("" if "pdf" in formats else " PDF kräver Chromium på servern."))
    signature = (choice, fmt, ctx.audience, ctx.bundle.store_version)
    if st.button("Skapa rapport", key="hjo_rap_skapa", icon=":material/description:"):
        period = report.parse_period(choice)
        try:
            with st.spinner("Skapar rapporten …"):
                data = report.report_bytes(ctx.bundle, period, fmt, audience=ctx.audience)
        except HjoDataError as err:
            st.error(f"Rapporten kunde inte skapas: {err}")
            return
        name = f"lagesbild-{period.slug}{'-publik' if ctx.audience != 'official' else ''}"
        mime = "text/html" if fmt == "html" else "application/pdf"
        st.session_state[_STATE] = (signature, data, f"{name}.{fmt}", mime)
    stored = st.session_state.get(_STATE)
    if stored is not None and stored[0] == signature:
        _, data, file_name, mime = stored
        st.download_button(f"Ladda ner {file_name}", data=data, file_name=file_name,
                           mime=mime, key="hjo_rap_ladda", icon=":material/download:")

