"""Datahantering (redaktör): upload, check, save; register by form; undo; freshness.

Every save, registration and withdrawal is written to the audit log. The tabs live in
ui/upload.py, ui/forms.py and ui/batches.py.
"""

from __future__ import annotations

import streamlit as st

from hjo_data.store import Store
from ui.auth import require_role
from ui.batches import freshness_tab, undo_tab
from ui.forms import form_tab
from ui.upload import Editor, show_flash, upload_tab

st.title("Datahantering")
editor = Editor(store=Store(), user=require_role("redaktor"))

show_flash()
tab_upload, tab_form, tab_undo, tab_fresh = st.tabs(
    ["Ladda upp fil", "Registrera i formulär", "Inläsningar och ångra", "Aktualitet"])
with tab_upload:
    upload_tab(editor)
with tab_form:
    form_tab(editor)
with tab_undo:
    undo_tab(editor)
with tab_fresh:
    freshness_tab(editor)
