"""Small shared widgets: empty-state notice, suppression captions, Swedish file uploader,
audited downloads."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from hjo_data import audit
from hjo_data.disclosure import PreparedTable
from ui.auth import current_user

#: What the caption under a public chart adds about values hidden by suppression.
HIDDEN_NOT_DRAWN = "Dolda värden ritas inte i diagrammet."
HIDDEN_POINTS_MISSING = "De punkterna saknas i diagrammet."


def show_empty(message_sv: str) -> None:
    """Friendly notice instead of an empty chart."""
    st.info(message_sv, icon=":material/info:")


def show_suppression_note(prepared: PreparedTable, chart_note: str = HIDDEN_NOT_DRAWN) -> None:
    """Caption explaining public-mode markers ("<5", "..", "för få svar") of a table."""
    if prepared.note:
        st.caption(f"{prepared.note} {chart_note}".strip())


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


def audited(make: Callable[[], bytes], *, dataset: str, rows: int, selection: str
            ) -> Callable[[], bytes]:
    """``make`` for ``st.download_button(data=...)``, which calls it on click: rows leave
    the system, so the audit log records who took how many rows of which selection."""
    user = current_user()

    def build() -> bytes:
        data = make()
        audit.log_event("export", user.name if user else None,
                        role=user.role if user else None, dataset=dataset,
                        counts={"rows": rows}, detail=selection)
        return data
    return build
