"""Datahantering's tabs "Inläsningar och ångra" (the ingest log, withdraw a batch after a
confirmation, audited) and "Aktualitet" (latest data per dataset vs its cadence)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from hjo_data.formatting import fmt_int
from hjo_data.freshness import freshness, freshness_table, latest_dates
from hjo_data.ingest_log import log_table, time_text
from hjo_data.store import WithdrawError
from ui.auth import md_escape, record_audit
from ui.upload import Editor, flash, forget_upload, refresh_data

_CONFIRM = "_hjo_dh_confirm"


def _withdraw(ed: Editor, batch_id: str) -> None:
    try:
        result = ed.store.withdraw(batch_id, user=ed.user.name)
    except (WithdrawError, OSError) as exc:
        st.session_state.pop(_CONFIRM, None)
        st.error(md_escape(exc), icon=":material/error:")
        return
    record_audit("withdraw", ed.user.name, role=ed.user.role, dataset=result.dataset,
                 batch_id=result.batch_id,
                 counts={"removed": result.removed, "kept": result.kept})
    refresh_data()
    st.session_state.pop(_CONFIRM, None)
    forget_upload()  # duplicates counted before are stale now
    flash("success", md_escape(result.message))
    st.rerun()


def undo_tab(ed: Editor) -> None:
    """The ingest log and "Ångra" for a batch (with a confirmation)."""
    log = ed.store.ingest_log()
    if log.empty:
        st.info("Inga inläsningar ännu.", icon=":material/info:")
        return
    st.dataframe(log_table(log), hide_index=True, key="hjo_dh_log")
    entries = ed.store.log_entries()
    active = [e for e in reversed(entries) if not e.get("withdrawn")
              and e.get("stored") is not False and int(e.get("added") or 0) > 0]
    if not active:
        st.caption("Ingen inläsning att ångra.")
        return
    labels = {str(e["batch_id"]): f"{time_text(e.get('time'))} · {e.get('file')} · "
                                  f"{fmt_int(int(e.get('added') or 0))} rader · "
                                  f"{e.get('batch_id')}" for e in active}
    batch = st.selectbox("Inläsning att ångra", list(labels), key="hjo_dh_batch",
                         format_func=lambda b: labels.get(b, b))
    pending = st.session_state.get(_CONFIRM)
    if pending and pending in labels:
        st.warning(f"Vill du ta bort alla rader som inläsningen "
                   f"{md_escape(labels[pending])} lade till? Det syns direkt på alla sidor.",
                   icon=":material/warning:")
        yes, no = st.columns(2)
        if yes.button("Ja, ta bort batchen", type="primary", key="hjo_dh_undo_yes"):
            _withdraw(ed, pending)
        if no.button("Avbryt", key="hjo_dh_undo_no"):
            st.session_state.pop(_CONFIRM, None)
            st.rerun()
    elif st.button("Ångra (ta bort batchen)", icon=":material/undo:", key="hjo_dh_undo"):
        st.session_state[_CONFIRM] = batch
        st.rerun()



def freshness_tab(ed: Editor) -> None:
    """Latest data per dataset against its expected cadence."""
    today = date.today()
    statuses = freshness(latest_dates(ed.store), today)
    if all(s.latest is None for s in statuses):
        st.info("Inga data är inlästa ännu – sidorna visar demodata.", icon=":material/info:")
    for s in statuses:
        if s.stale:
            st.warning(md_escape(s.message_sv), icon=":material/schedule:")
    st.dataframe(freshness_table(statuses), hide_index=True, key="hjo_dh_freshness")
