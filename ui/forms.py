"""Datahantering's tab "Registrera i formulär": a safety walk, an activity or an incident
through the same validation as a file, saved as its own (withdrawable, audited) ingest."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from hjo_data.errors import HjoDataError
from hjo_data.forms import (
    FINDING_STATUSES,
    FORM_KINDS,
    Finding,
    FormSubmission,
    SafetyWalk,
    activity_row,
    commit_form,
    incident_row,
    prepare_form,
    safety_walk_errors,
    safety_walk_row,
)
from hjo_data.promise import load_promise_with_fallback
from hjo_data.reference import area_names
from hjo_data.schema import ACTIVITY_TYPES, INCIDENT_CATEGORIES, SOURCES
from ui.auth import md_escape
from ui.upload import Editor, flash, refresh_data


def _area_input(key: str, required: bool = True) -> str:
    picked = st.selectbox("Område" + ("" if required else " (valfritt)"), area_names(),
                          index=None, key=key, accept_new_options=True,
                          placeholder="Välj eller skriv ett område")
    return picked or ""


def _register(ed: Editor, submission: FormSubmission) -> None:
    for warning in submission.prepared.warnings if submission.prepared else []:
        st.warning(md_escape(warning), icon=":material/warning:")
    if submission.errors:
        st.error("Formuläret kunde inte sparas. Rätta följande:\n\n"
                 + "\n".join(f"- {md_escape(e)}" for e in submission.errors),
                 icon=":material/error:")
        return
    if submission.duplicate:
        st.warning("Exakt samma uppgifter finns redan sparade – inget nytt sparades.",
                   icon=":material/content_copy:")
        return
    try:
        # The audit entry commits with the row (one store transaction).
        report = commit_form(submission, ed.store, user=ed.user.name, role=ed.user.role,
                             audit_action="register")
    except (HjoDataError, OSError, ValueError) as exc:
        st.error(f"Kunde inte spara: {md_escape(exc)}", icon=":material/error:")
        return
    refresh_data()
    flash("success", f"{FORM_KINDS[submission.kind][0]} sparad (batch "
                      f"{md_escape(report.batch_id)}). Den kan ångras under ”Inläsningar och "
                      "ångra”.")
    st.rerun()


def _walk_form(ed: Editor) -> None:
    promise = load_promise_with_fallback().promise
    municipality = promise.municipality if promise is not None else "Kommunen"
    orgs = pd.DataFrame({"Organisation": ["Polisen", municipality, "Näringsliv", "Boende"],
                         "Deltagare": [0, 0, 0, 0]})
    findings = pd.DataFrame({"Iakttagelse": pd.Series([], dtype="str"),
                             "Åtgärd": pd.Series([], dtype="str"),
                             "Status": pd.Series([], dtype="str")})
    with st.form("hjo_dh_walk_form", clear_on_submit=False):
        walk_date = st.date_input("Datum", value=date.today(), max_value=date.today(),
                                  format="YYYY-MM-DD", key="hjo_dh_walk_date")
        area = _area_input("hjo_dh_walk_area")
        target = st.text_input("Målgrupp (valfritt)", key="hjo_dh_walk_target", max_chars=200)
        st.markdown("**Deltagare per organisation**")
        org_table = st.data_editor(
            orgs, num_rows="dynamic", hide_index=True, key="hjo_dh_walk_orgs",
            column_config={"Deltagare": st.column_config.NumberColumn(min_value=0, step=1)})
        st.markdown("**Iakttagelser med åtgärd och status**")
        finding_table = st.data_editor(
            findings, num_rows="dynamic", hide_index=True, key="hjo_dh_walk_findings",
            column_config={"Status": st.column_config.SelectboxColumn(
                options=list(FINDING_STATUSES), default=FINDING_STATUSES[0])})
        notes = st.text_area("Övriga anteckningar (valfritt)", key="hjo_dh_walk_notes",
                             max_chars=2000, help="Skriv inga personuppgifter; "
                             "personnummer maskeras.")
        submitted = st.form_submit_button("Registrera trygghetsvandringen", type="primary")
    if not submitted:
        return
    walk = SafetyWalk(
        date=walk_date or "", area=area, target_group=target, notes=notes,
        participants=[(r.get("Organisation"), r.get("Deltagare"))
                      for r in org_table.to_dict("records")],
        findings=[Finding(str(r.get("Iakttagelse") or ""), str(r.get("Åtgärd") or ""),
                          str(r.get("Status") or FINDING_STATUSES[0]))
                  for r in finding_table.to_dict("records")],
    )
    _register(ed, prepare_form("trygghetsvandring", safety_walk_row(walk), store=ed.store,
                           extra_errors=safety_walk_errors(walk)))


def _activity_form(ed: Editor) -> None:
    with st.form("hjo_dh_activity_form"):
        day = st.date_input("Datum", value=date.today(), max_value=date.today(),
                            format="YYYY-MM-DD", key="hjo_dh_act_date")
        kind = st.selectbox("Aktivitet", ACTIVITY_TYPES, key="hjo_dh_act_type")
        area = _area_input("hjo_dh_act_area", required=False)
        organisers = st.text_input("Arrangörer", key="hjo_dh_act_org", max_chars=500,
                                   help="Flera separeras med semikolon, t.ex. "
                                        "”Polisen; Hjo kommun”.")
        c1, c2 = st.columns(2)
        participants = c1.number_input("Deltagare", min_value=0, step=1, key="hjo_dh_act_n")
        target = c2.text_input("Målgrupp", key="hjo_dh_act_target", max_chars=200)
        c1, c2, c3 = st.columns(3)
        findings = c1.number_input("Iakttagelser", min_value=0, step=1, key="hjo_dh_act_f")
        decided = c2.number_input("Beslutade åtgärder", min_value=0, step=1,
                                  key="hjo_dh_act_d")
        done = c3.number_input("Genomförda åtgärder", min_value=0, step=1,
                               key="hjo_dh_act_done")
        notes = st.text_area("Anteckningar", key="hjo_dh_act_notes", max_chars=2000,
                             help="Skriv inga personuppgifter; personnummer maskeras.")
        submitted = st.form_submit_button("Registrera aktiviteten", type="primary")
    if submitted:
        row = activity_row(activity_date=day or "", activity_type=kind or "", area=area,
                           organisers=organisers, participants=participants,
                           target_group=target, findings=findings, actions_decided=decided,
                           actions_done=done, notes=notes)
        _register(ed, prepare_form("aktivitet", row, store=ed.store))


def _incident_form(ed: Editor) -> None:
    with st.form("hjo_dh_incident_form"):
        c1, c2 = st.columns(2)
        day = c1.date_input("Datum", value=date.today(), max_value=date.today(),
                            format="YYYY-MM-DD", key="hjo_dh_inc_date")
        at_time = c2.time_input("Klockslag (valfritt)", value=None, key="hjo_dh_inc_time")
        category = st.selectbox("Kategori", INCIDENT_CATEGORIES, key="hjo_dh_inc_cat")
        area = _area_input("hjo_dh_inc_area")
        source = st.selectbox("Rapportör", SOURCES, key="hjo_dh_inc_src")
        description = st.text_area("Beskrivning (valfritt)", key="hjo_dh_inc_desc",
                                   max_chars=2000,
                                   help="Skriv inga personuppgifter; personnummer maskeras.")
        incident_id = st.text_input("Händelse-id (valfritt)", key="hjo_dh_inc_id",
                                    max_chars=100)
        submitted = st.form_submit_button("Registrera händelsen", type="primary")
    if submitted:
        row = incident_row(occurred_at=day or "", at_time=at_time, category=category or "",
                           area=area, source=source or "", description=description,
                           incident_id=incident_id)
        _register(ed, prepare_form("handelse", row, store=ed.store))


def form_tab(ed: Editor) -> None:
    """Register a safety walk, an activity or an incident by form."""
    kind = st.radio("Vad vill du registrera?", list(FORM_KINDS), horizontal=True,
                    key="hjo_dh_form_kind", format_func=lambda k: FORM_KINDS[k][0])
    st.caption("Uppgifterna kontrolleras med samma regler som en uppladdad fil och sparas "
               "som en egen inläsning som kan ångras.")
    if kind == "trygghetsvandring":
        _walk_form(ed)
    elif kind == "aktivitet":
        _activity_form(ed)
    else:
        _incident_form(ed)

