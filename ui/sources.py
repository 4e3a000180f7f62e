"""Om data: the open sources' fetch status (computed in hjo_data.fetch_status)."""

from __future__ import annotations

import streamlit as st

from hjo_data.fetch_status import source_status, status_table
from hjo_data.store import Store
from ui.context import PageContext

CAPTION = ("Hämtas med `python -m hjo_data refresh` (schemalagt, se docs/SOURCES.md). "
           "Polisens händelser räknas för hela kommunen: platsen i Polisens flöde är ortens "
           "eller länets mittpunkt och visas aldrig som en position. Sammanfattningar och "
           "händelser i andra kommuner hoppas över.")


def show_fetch_status(ctx: PageContext) -> None:
    """Per source: last fetch, status, records, skipped, unknown Polisen event types."""
    st.subheader("Öppna källor")
    table = status_table(source_status(Store()), ctx.audience, ctx.settings)
    st.dataframe(table, hide_index=True)
    st.caption(CAPTION)
