"""Datahantering (redaktör): upload, check, save; register by form; undo; freshness.

Every text that comes from a file (names, headers, values, reasons) is shown either in an
``st.dataframe`` (never rendered as HTML/Markdown) or Markdown-escaped. Every save,
registration and withdrawal is written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from hjo_data import reading
from hjo_data.errors import HjoDataError
from hjo_data.excel import is_excel_name, list_sheets
from hjo_data.export import to_csv_bytes
from hjo_data.formatting import fmt_int
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
from hjo_data.freshness import cadence_text, freshness, latest_dates
from hjo_data.ingest import IngestReport, PreparedIngest, commit_ingest, prepare_ingest
from hjo_data.promise import load_promise_with_fallback
from hjo_data.reference import area_names
from hjo_data.schema import ACTIVITY_TYPES, DATASETS, INCIDENT_CATEGORIES, SOURCES
from hjo_data.store import Store, WithdrawError
from ui.auth import md_escape, record_audit, require_role
from ui.widgets import swedish_file_uploader

AUTO = "__auto__"
#: Rejected rows shown in the table (the download has them all).
SHOWN_REJECTED = 5_000
_PREPARED = "_hjo_dh_prepared"
_UPLOAD_N = "_hjo_dh_upload_n"
_LAST_REPORT = "_hjo_dh_report"
_CONFIRM = "_hjo_dh_confirm"
_FLASH = "_hjo_dh_flash"

st.title("Datahantering")
user = require_role("redaktor")
store = Store()


def _refresh_data() -> None:
    """New data: drop cached bundles now (the cache key, Store.version(), changes too)."""
    st.cache_resource.clear()


def _flash(kind: str, message: str) -> None:
    st.session_state[_FLASH] = (kind, message)


def _show_flash() -> None:
    item = st.session_state.pop(_FLASH, None)
    if item:
        kind, message = item
        getattr(st, kind)(message)


def _report_metrics(read: int, new: int, rejected: int, duplicates: int,
                    new_label: str) -> None:
    cols = st.columns(4)
    cols[0].metric("Lästa rader", fmt_int(read))
    cols[1].metric(new_label, fmt_int(new))
    cols[2].metric("Avvisade", fmt_int(rejected))
    cols[3].metric("Dubbletter", fmt_int(duplicates))


def _quarantine_bytes(path_text: str | None) -> bytes | None:
    """The quarantine CSV of an ingest (only files inside this store's quarantine folder),
    re-exported through the formula-safe CSV writer."""
    if not path_text:
        return None
    path = Path(path_text)
    try:
        if path.resolve().parent != store.quarantine_dir.resolve() or not path.is_file():
            return None
        frame = pd.read_csv(path, sep=";", dtype="str", keep_default_na=False,
                            encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return to_csv_bytes(frame)


def _audit_ingest(action: str, report: IngestReport) -> None:
    record_audit(action, user.name, role=user.role, dataset=report.dataset,
                 batch_id=report.batch_id,
                 counts={"rows_read": report.rows_read, "accepted": report.accepted,
                         "rejected": report.rejected, "duplicates": report.duplicates},
                 detail=report.file)


# --------------------------------------------------------------------------- upload


def _show_report(report: IngestReport) -> None:
    if report.stored and report.accepted:
        st.success(md_escape(report.message), icon=":material/check_circle:")
    else:
        st.warning(md_escape(report.message), icon=":material/warning:")
    st.caption(f"Batch: {md_escape(report.batch_id)} · kan ångras under "
               "”Inläsningar och ångra”.")
    data = _quarantine_bytes(report.rejected_file)
    if data is not None:
        st.download_button(
            "Ladda ner avvisade rader (CSV för rättning)", data=data,
            file_name=f"avvisade_{reading.safe_file_name(report.file)}", mime="text/csv",
            icon=":material/download:", key="hjo_dh_quarantine_last",
            help="Filen har samma kolumner som originalet plus rad, kolumn och orsak. Rätta "
                 "raderna och läs in filen igen (de extra kolumnerna ignoreras).")


def _prepare(uploaded: object, choice: str, sheet: str | None) -> PreparedIngest | None:
    """Read and check the uploaded file once per (file, dataset choice, sheet)."""
    key = (getattr(uploaded, "file_id", None), getattr(uploaded, "name", ""), choice, sheet)
    cached = st.session_state.get(_PREPARED)
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner("Läser och kontrollerar filen …"):
        prepared = prepare_ingest(uploaded, name=getattr(uploaded, "name", None),
                                  dataset=None if choice == AUTO else choice, sheet=sheet,
                                  store=store)
    st.session_state[_PREPARED] = (key, prepared)
    return prepared


def _show_prepared(prepared: PreparedIngest) -> None:
    st.markdown(f"**{md_escape(prepared.file)}** tolkas som datamängden "
                f"**{md_escape(prepared.dataset.label)}**"
                + (f" (blad {md_escape(prepared.sheet)})" if prepared.sheet else "") + ".")
    st.subheader("Så tolkades kolumnerna")
    st.dataframe(prepared.header_frame(), hide_index=True, key="hjo_dh_headers")
    st.subheader("Kontroll före sparande")
    _report_metrics(prepared.rows_read, prepared.new_rows, prepared.rejected,
                    prepared.duplicates, "Nya rader")
    for warning in prepared.warnings:
        st.warning(md_escape(warning), icon=":material/warning:")
    if prepared.rejected:
        rows = prepared.rejected_rows()
        st.markdown(f"**Avvisade rader** ({fmt_int(len(rows))}) – de sparas inte men kan "
                    "laddas ner, rättas och läsas in igen:")
        st.dataframe(rows.head(SHOWN_REJECTED), hide_index=True, key="hjo_dh_rejected",
                     column_config={"rad": st.column_config.NumberColumn("Rad", format="%d"),
                                    "kolumn": "Kolumn", "värde": "Värde", "orsak": "Orsak"})
        if len(rows) > SHOWN_REJECTED:
            st.caption(f"Visar de första {fmt_int(SHOWN_REJECTED)} raderna; nedladdningen "
                       "innehåller alla.")
        st.download_button("Ladda ner felrapporten (CSV)", data=to_csv_bytes(rows),
                           file_name=f"fel_{reading.safe_file_name(prepared.file)}",
                           mime="text/csv", icon=":material/download:",
                           key="hjo_dh_errors_csv")
    else:
        st.success("Inga rader avvisades.", icon=":material/check_circle:")


def upload_tab() -> None:
    st.write("Ladda upp en CSV- eller Excel-fil (.xlsx). Filen kontrolleras först; inget "
             "sparas förrän du trycker på **Spara**.")
    limit = reading.max_upload_bytes()
    swedish_file_uploader(limit // (1024 * 1024), "CSV, TXT, XLSX")
    n = st.session_state.get(_UPLOAD_N, 0)
    uploaded = st.file_uploader(
        "Fil att läsa in", type=["csv", "txt", "xlsx"], key=f"hjo_dh_upload_{n}",
        help=f"Högst {fmt_int(limit // (1024 * 1024))} MB. CSV med semikolon, komma eller "
             "tab; Excel: första bladet eller det blad du väljer.")
    report = st.session_state.get(_LAST_REPORT)
    if uploaded is None:
        if report is not None:
            _show_report(report)
        return
    st.session_state.pop(_LAST_REPORT, None)
    size = getattr(uploaded, "size", None)
    if isinstance(size, int) and size > limit:
        st.error(md_escape(f"{reading.safe_file_name(uploaded.name)}: Filen är för stor "
                           f"({fmt_int(size // (1024 * 1024))} MB). Största tillåtna storlek "
                           f"är {fmt_int(limit // (1024 * 1024))} MB. Dela upp filen (t.ex. "
                           "per år) och läs in delarna var för sig."),
                 icon=":material/error:")
        return
    choices = [AUTO, *DATASETS]
    left, right = st.columns(2)
    choice = left.selectbox(
        "Datamängd", choices, key="hjo_dh_dataset",
        format_func=lambda c: "Identifiera automatiskt" if c == AUTO else DATASETS[c].label)
    sheet = None
    if is_excel_name(uploaded.name):
        try:
            sheets = list_sheets(reading.source_bytes(uploaded, name=uploaded.name),
                                 name=reading.safe_file_name(uploaded.name))
        except HjoDataError as exc:
            st.error(md_escape(str(exc)), icon=":material/error:")
            return
        sheet = right.selectbox("Blad", sheets, key="hjo_dh_sheet") if len(sheets) > 1 \
            else (sheets[0] if sheets else None)
    try:
        prepared = _prepare(uploaded, choice, sheet)
    except HjoDataError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")
        return
    if prepared is None:
        return
    _show_prepared(prepared)
    strict = st.checkbox("Spara bara om alla rader godkänns (strikt läge)",
                         key="hjo_dh_strict")
    if st.button("Spara", type="primary", icon=":material/save:", key="hjo_dh_save"):
        bar = st.progress(0.0, text="Sparar …")
        try:
            report = commit_ingest(prepared, store, user=user.name, strict=strict,
                                   progress=lambda f: bar.progress(min(max(f, 0.0), 1.0),
                                                                   text="Sparar …"))
        except (HjoDataError, OSError) as exc:
            st.error(f"Filen kunde inte sparas: {md_escape(exc)}", icon=":material/error:")
            return
        _audit_ingest("upload", report)
        _refresh_data()
        st.session_state[_LAST_REPORT] = report
        st.session_state.pop(_PREPARED, None)
        st.session_state[_UPLOAD_N] = n + 1  # a new uploader: the saved file is cleared
        st.rerun()


# --------------------------------------------------------------------------- forms


def _area_input(key: str, required: bool = True) -> str:
    picked = st.selectbox("Område" + ("" if required else " (valfritt)"), area_names(),
                          index=None, key=key, accept_new_options=True,
                          placeholder="Välj eller skriv ett område")
    return picked or ""


def _register(submission: FormSubmission) -> None:
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
        report = commit_form(submission, store, user=user.name)
    except (HjoDataError, OSError, ValueError) as exc:
        st.error(f"Kunde inte spara: {md_escape(exc)}", icon=":material/error:")
        return
    record_audit("register", user.name, role=user.role, dataset=report.dataset,
                 batch_id=report.batch_id,
                 counts={"accepted": report.accepted, "rejected": report.rejected,
                         "duplicates": report.duplicates},
                 detail=FORM_KINDS[submission.kind][0])
    _refresh_data()
    _flash("success", f"{FORM_KINDS[submission.kind][0]} sparad (batch "
                      f"{md_escape(report.batch_id)}). Den kan ångras under ”Inläsningar och "
                      "ångra”.")
    st.rerun()


def _walk_form() -> None:
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
    _register(prepare_form("trygghetsvandring", safety_walk_row(walk), store=store,
                           extra_errors=safety_walk_errors(walk)))


def _activity_form() -> None:
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
        _register(prepare_form("aktivitet", row, store=store))


def _incident_form() -> None:
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
        _register(prepare_form("handelse", row, store=store))


def form_tab() -> None:
    kind = st.radio("Vad vill du registrera?", list(FORM_KINDS), horizontal=True,
                    key="hjo_dh_form_kind", format_func=lambda k: FORM_KINDS[k][0])
    st.caption("Uppgifterna kontrolleras med samma regler som en uppladdad fil och sparas "
               "som en egen inläsning som kan ångras.")
    if kind == "trygghetsvandring":
        _walk_form()
    elif kind == "aktivitet":
        _activity_form()
    else:
        _incident_form()


# --------------------------------------------------------------------------- undo


def _time_text(value: object) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def log_table(log: pd.DataFrame) -> pd.DataFrame:
    """The ingest log for display: newest first, Swedish headers, plain text."""
    if log.empty:
        return pd.DataFrame(columns=["Tid", "Fil", "Datamängd", "Användare", "Lästa",
                                     "Sparade", "Avvisade", "Dubbletter", "Status", "Batch"])
    log = log.iloc[::-1]

    def col(name: str) -> pd.Series:
        return log[name] if name in log.columns else pd.Series([None] * len(log),
                                                               index=log.index)

    def status(rec: dict) -> str:
        if rec.get("withdrawn"):
            who = f" av {rec['withdrawn_by']}" if rec.get("withdrawn_by") else ""
            return f"återkallad {_time_text(rec['withdrawn'])}{who}"
        if rec.get("stored") is False:
            return "inget sparat (strikt läge)"
        return "aktiv"

    def ints(name: str) -> list[int]:
        return [int(v) if isinstance(v, int | float) and v == v else 0 for v in col(name)]

    records = log.to_dict("records")
    return pd.DataFrame({
        "Tid": [_time_text(v) for v in col("time")],
        "Fil": [str(v or "") for v in col("file")],
        "Datamängd": [DATASETS[v].label if v in DATASETS else str(v or "")
                      for v in col("dataset")],
        "Användare": [str(v) if isinstance(v, str) else "" for v in col("user")],
        "Lästa": ints("rows_read"),
        "Sparade": ints("added"),
        "Avvisade": ints("rejected"),
        "Dubbletter": ints("duplicates"),
        "Status": [status(r) for r in records],
        "Batch": [str(v or "") for v in col("batch_id")],
    })


def _withdraw(batch_id: str) -> None:
    try:
        result = store.withdraw(batch_id, user=user.name)
    except (WithdrawError, OSError) as exc:
        st.session_state.pop(_CONFIRM, None)
        st.error(md_escape(exc), icon=":material/error:")
        return
    record_audit("withdraw", user.name, role=user.role, dataset=result.dataset,
                 batch_id=result.batch_id,
                 counts={"removed": result.removed, "kept": result.kept})
    _refresh_data()
    st.session_state.pop(_CONFIRM, None)
    st.session_state.pop(_PREPARED, None)  # duplicates counted before are stale now
    st.session_state.pop(_LAST_REPORT, None)
    _flash("success", md_escape(result.message))
    st.rerun()


def undo_tab() -> None:
    log = store.ingest_log()
    if log.empty:
        st.info("Inga inläsningar ännu.", icon=":material/info:")
        return
    st.dataframe(log_table(log), hide_index=True, key="hjo_dh_log")
    entries = store.log_entries()
    active = [e for e in reversed(entries) if not e.get("withdrawn")
              and e.get("stored") is not False and int(e.get("added") or 0) > 0]
    if not active:
        st.caption("Ingen inläsning att ångra.")
        return
    labels = {str(e["batch_id"]): f"{_time_text(e.get('time'))} · {e.get('file')} · "
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
            _withdraw(pending)
        if no.button("Avbryt", key="hjo_dh_undo_no"):
            st.session_state.pop(_CONFIRM, None)
            st.rerun()
    elif st.button("Ångra (ta bort batchen)", icon=":material/undo:", key="hjo_dh_undo"):
        st.session_state[_CONFIRM] = batch
        st.rerun()


# --------------------------------------------------------------------------- freshness


def freshness_tab() -> None:
    today = date.today()
    statuses = freshness(latest_dates(store), today)
    if all(s.latest is None for s in statuses):
        st.info("Inga data är inlästa ännu – sidorna visar demodata.", icon=":material/info:")
    for s in statuses:
        if s.stale:
            st.warning(md_escape(s.message_sv), icon=":material/schedule:")
    st.dataframe(pd.DataFrame({
        "Datamängd": [s.label_sv for s in statuses],
        "Senaste data": [s.latest_text or "–" for s in statuses],
        "Ålder (dagar)": [s.age_days for s in statuses],
        "Förväntas": [cadence_text(s.cadence_days) for s in statuses],
        "Status": ["inga data" if s.latest is None else ("för gammal" if s.stale
                                                          else "aktuell")
                   for s in statuses],
    }), hide_index=True, key="hjo_dh_freshness")


# --------------------------------------------------------------------------- page

_show_flash()
tab_upload, tab_form, tab_undo, tab_fresh = st.tabs(
    ["Ladda upp fil", "Registrera i formulär", "Inläsningar och ångra", "Aktualitet"])
with tab_upload:
    upload_tab()
with tab_form:
    form_tab()
with tab_undo:
    undo_tab()
with tab_fresh:
    freshness_tab()
