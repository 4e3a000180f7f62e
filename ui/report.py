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

from hjo_data import periods, report
from hjo_data.errors import HjoDataError
from hjo_data.periods import GRANULARITY_LABELS as GRAN_LABELS

_STATE = "_hjo_report_file"  # (signature, bytes, file name, mime)


def _last_day(ctx: Any) -> date:
    """The reference day of the report picker (the latest data date of any dataset)."""
    dates = [d for d in (ctx.bundle.data_date or {}).values() if isinstance(d, date)]
    return periods.reference_day(max(dates) if dates else None)


def render_report_download(ctx: Any) -> None:
    """Period (week/month/quarter/year) + format + "Skapa rapport" -> download button."""
    st.subheader("Ladda ner lägesbild (HTML/PDF)")
    formats = ["html"] + (["pdf"] if report.find_chromium() is not None else [])
    cols = st.columns(3)
    gran = cols[0].selectbox("Period", list(GRAN_LABELS), index=1, key="hjo_rap_gran",
                             format_func=GRAN_LABELS.get)
    last = _last_day(ctx)
    options, default = periods.report_choices(last, gran)
    choice = cols[1].selectbox(GRAN_LABELS[gran], options, index=default,
                               key=f"hjo_rap_period_{gran}",
                               format_func=lambda p: periods.choice_label(p, last))
    fmt = cols[2].radio("Format", formats, key="hjo_rap_fmt", horizontal=True,
                        format_func=str.upper)
    audience_label = "tjänstepersonsläge" if ctx.audience == "official" else "publikt läge"
    st.caption(f"Rapporten skapas i {audience_label} med översikten, diagram, texten "
               "”Läget just nu”, källor och datum."
               + ("" if "pdf" in formats else " PDF kräver Chromium på servern."))
    signature = (choice, fmt, ctx.audience, ctx.bundle.store_version)
    if st.button("Skapa rapport", key="hjo_rap_skapa", icon=":material/description:"):
        period = periods.parse_period(choice)
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

