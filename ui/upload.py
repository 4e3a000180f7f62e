"""Datahantering's upload tab: read and check a file (dry run), show how it was read, save
on "Spara" (audited), and the shared state of the editor's tabs (store, user, flash).

Every text that comes from a file (names, headers, values, reasons) is shown either in an
``st.dataframe`` (never rendered as HTML/Markdown) or Markdown-escaped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from hjo_data import formats, reading
from hjo_data.auth import User
from hjo_data.errors import HjoDataError
from hjo_data.excel import is_excel_name, list_sheets
from hjo_data.export import to_csv_bytes
from hjo_data.formatting import fmt_int
from hjo_data.ingest import IngestReport, PreparedIngest, commit_ingest, prepare_read
from hjo_data.rawtable import RawTable, base_name
from hjo_data.schema import DATASETS
from hjo_data.store import Store
from ui.auth import md_escape, record_audit
from ui.widgets import swedish_file_uploader
from ui.wizard import Wizard, forget_wizard, import_wizard, save_wizard_profile

AUTO = "__auto__"
#: Shown when reading fails in an unforeseen way (details go to the server log only).
UNEXPECTED = ("Filen kunde inte läsas (oväntat fel). Spara om den som CSV (semikolon"
              "avgränsad) eller .xlsx och försök igen; kvarstår felet, kontakta förvaltaren.")
_LOG = logging.getLogger(__name__)
#: Rejected rows shown in the table (the download has them all).
SHOWN_REJECTED = 5_000
_PREPARED = "_hjo_dh_prepared"
_RAW = "_hjo_dh_raw"
_UPLOAD_N = "_hjo_dh_upload_n"
_LAST_REPORT = "_hjo_dh_report"
_FLASH = "_hjo_dh_flash"


@dataclass(frozen=True)
class Editor:
    """Who edits which store (the logged-in editor, checked by require_role)."""

    store: Store
    user: User


def refresh_data() -> None:
    """New data: drop cached bundles now (the cache key, Store.version(), changes too)."""
    st.cache_resource.clear()


def flash(kind: str, message: str) -> None:
    """Show ``message`` with ``st.<kind>`` on the next run (after st.rerun())."""
    st.session_state[_FLASH] = (kind, message)


def show_flash() -> None:
    item = st.session_state.pop(_FLASH, None)
    if item:
        kind, message = item
        getattr(st, kind)(message)


def forget_upload() -> None:
    """Drop the checked file and the last report (their duplicate counts are stale)."""
    st.session_state.pop(_PREPARED, None)
    st.session_state.pop(_RAW, None)
    st.session_state.pop(_LAST_REPORT, None)
    forget_wizard()


def _report_metrics(read: int, new: int, rejected: int, duplicates: int,
                    new_label: str) -> None:
    cols = st.columns(4)
    cols[0].metric("Lästa rader", fmt_int(read))
    cols[1].metric(new_label, fmt_int(new))
    cols[2].metric("Avvisade", fmt_int(rejected))
    cols[3].metric("Dubbletter", fmt_int(duplicates))


def _quarantine_bytes(ed: Editor, path_text: str | None) -> bytes | None:
    """The quarantine CSV of an ingest (only files inside the store's quarantine folder),
    re-exported through the formula-safe CSV writer."""
    if not path_text:
        return None
    path = Path(path_text)
    try:
        if path.resolve().parent != ed.store.quarantine_dir.resolve() or not path.is_file():
            return None
        frame = pd.read_csv(path, sep=";", dtype="str", keep_default_na=False,
                            encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return to_csv_bytes(frame)


# --------------------------------------------------------------------------- upload


def _show_report(ed: Editor, report: IngestReport) -> None:
    if report.stored and report.accepted:
        st.success(md_escape(report.message), icon=":material/check_circle:")
    else:
        st.warning(md_escape(report.message), icon=":material/warning:")
    st.caption(f"Batch: {md_escape(report.batch_id)} · kan ångras under "
               "”Inläsningar och ångra”.")
    data = _quarantine_bytes(ed, report.rejected_file)
    if data is not None:
        st.download_button(
            "Ladda ner avvisade rader (CSV för rättning)", data=data,
            file_name=f"avvisade_{reading.safe_file_name(report.file)}", mime="text/csv",
            icon=":material/download:", key="hjo_dh_quarantine_last",
            help="Filen har samma kolumner som originalet plus rad, kolumn och orsak. Rätta "
                 "raderna och läs in filen igen (de extra kolumnerna ignoreras).")


def _read(uploaded: object, sheet: str | None, choice: str) -> tuple[RawTable, str]:
    """Read the uploaded file once per (file, sheet, dataset choice): its table and
    SHA-256 (a chosen dataset limits the source formats tried to its own)."""
    key = (getattr(uploaded, "file_id", None), getattr(uploaded, "name", ""), sheet, choice)
    cached = st.session_state.get(_RAW)
    if cached and cached[0] == key:
        return cached[1]
    name = base_name(getattr(uploaded, "name", None))
    with st.spinner("Läser filen …"):
        data = reading.source_bytes(uploaded, name=name)
        raw = reading.read_bytes(data, name=name, sheet=sheet,
                                 dataset=None if choice == AUTO else choice)
    result = (raw, hashlib.sha256(data).hexdigest())
    st.session_state[_RAW] = (key, result)
    return result


def _prepare(ed: Editor, raw: RawTable, sha256: str, choice: str
             ) -> tuple[PreparedIngest | None, str | None]:
    """Check the file as it is, once per (file, dataset choice): (prepared, None) or
    (None, the Swedish reason it could not be checked)."""
    key = (sha256, raw.sheet, choice, str(ed.store.root))
    cached = st.session_state.get(_PREPARED)
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner("Kontrollerar filen …"):
        try:
            result: tuple[PreparedIngest | None, str | None] = (prepare_read(
                raw, sha256=sha256, dataset=None if choice == AUTO else choice,
                store=ed.store), None)
        except HjoDataError as exc:
            result = (None, str(exc))
    st.session_state[_PREPARED] = (key, result)
    return result


def _show_prepared(prepared: PreparedIngest, *, headers: bool = True) -> None:
    """The check of a file; ``headers=False`` leaves out how the columns were read (the
    import wizard above shows and sets that)."""
    st.markdown(f"**{md_escape(prepared.file)}** tolkas som datamängden "
                f"**{md_escape(prepared.dataset.label)}**"
                + (f" (blad {md_escape(prepared.sheet)})" if prepared.sheet else "") + ".")
    if headers:
        st.subheader("Så tolkades kolumnerna")
        fmt = formats.get_format(prepared.raw.source_format)
        if fmt is not None:  # a publisher's file: the columns are what its reader made
            st.caption(f"Filen känns igen som {md_escape(fmt.label or fmt.name)}; "
                       "kolumnerna nedan är de som inläsningen skapade ur den.")
        st.dataframe(prepared.header_frame(), hide_index=True, key="hjo_dh_headers")
    st.subheader("Kontroll före sparande")
    _report_metrics(prepared.rows_read, prepared.new_rows, prepared.rejected,
                    prepared.duplicates, "Nya rader")
    if prepared.skipped or prepared.revised:  # not published / revised official figures
        st.info(md_escape(prepared.message), icon=":material/info:")
    for warning in prepared.warnings:
        st.warning(md_escape(warning), icon=":material/warning:")
    if prepared.rejected:
        rows = prepared.rejected_rows()
        st.markdown(f"**Avvisade rader** ({fmt_int(len(rows))}) – de sparas inte men kan "
                    "laddas ner, rättas och läsas in igen:")
        summary = prepared.rejection_summary
        if summary:  # every reason counted per column and value (plain text in a grid)
            st.dataframe(pd.DataFrame({"Avvisat per kolumn och värde": summary}, dtype="str"),
                         hide_index=True, key="hjo_dh_summary")
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
    if len(prepared.conflicts):
        _show_conflicts(prepared)


def _show_conflicts(prepared: PreparedIngest) -> None:
    """Rows whose id exists with other content: never silently dropped as duplicates."""
    rows = prepared.conflict_rows()
    st.warning(md_escape(f"{fmt_int(len(rows))} rader har ett id som redan finns med annat "
                         "innehåll (konflikter). De sparas inte, om du inte väljer att de "
                         "ska ersätta de lagrade raderna."), icon=":material/warning:")
    st.dataframe(rows.head(SHOWN_REJECTED), hide_index=True, key="hjo_dh_conflicts",
                 column_config={"rad": st.column_config.NumberColumn("Rad", format="%d"),
                                "kolumn": "Kolumn", "värde": "Id", "orsak": "Orsak"})


def _save_profile(ed: Editor, wizard: Wizard) -> None:
    """Save the wizard's mapping as a profile when named (after the data were saved)."""
    try:
        saved = save_wizard_profile(wizard, ed.store)
    except (HjoDataError, OSError) as exc:
        flash("error", f"Importprofilen kunde inte sparas: {md_escape(exc)}")
        return
    if saved:
        record_audit("import_profile", ed.user.name, role=ed.user.role,
                     dataset=wizard.profile.dataset, detail=saved)
        flash("success", f"Importprofilen '{md_escape(saved)}' sparades. Den föreslås för "
              "nästa fil med samma rubriker och kan användas på kommandoraden med "
              f"--profile '{md_escape(saved)}'.")


def upload_tab(ed: Editor) -> None:
    """Upload a file, show how it was read and checked, save it on "Spara"."""
    st.write("Ladda upp en CSV-, Excel- (.xlsx, .xls) eller JSON-fil. Filen kontrolleras "
             "först; inget sparas förrän du trycker på **Spara**.")
    limit = reading.max_upload_bytes()
    swedish_file_uploader(limit // (1024 * 1024), "CSV, TXT, XLSX, XLS, JSON")
    n = st.session_state.get(_UPLOAD_N, 0)
    uploaded = st.file_uploader(
        "Fil att läsa in", type=["csv", "txt", "xlsx", "xls", "json", "jsonl"],
        key=f"hjo_dh_upload_{n}",
        help=f"Högst {fmt_int(limit // (1024 * 1024))} MB. CSV med semikolon, komma eller "
             "tab; Excel: första bladet eller det blad du väljer.")
    report = st.session_state.get(_LAST_REPORT)
    if uploaded is None:
        if report is not None:
            _show_report(ed, report)
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
        raw, sha256 = _read(uploaded, sheet, choice)
        plain, problem = _prepare(ed, raw, sha256, choice)
        wizard: Wizard | None = None
        if raw.rows_read and raw.headers:
            wizard = import_wizard(ed.store, raw, sha256, None if choice == AUTO else choice,
                                   plain, problem)
    except HjoDataError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")
        return
    except Exception:  # noqa: BLE001 - never a traceback (server paths) on the page
        _LOG.exception("upload: unexpected error while reading %s", uploaded.name)
        st.error(md_escape(f"{reading.safe_file_name(uploaded.name)}: {UNEXPECTED}"),
                 icon=":material/error:")
        return
    if wizard is not None:
        if wizard.prepared is None:
            return  # the wizard said what to fix
        prepared = wizard.prepared
    elif plain is None:
        st.error(md_escape(str(problem)), icon=":material/error:")
        return
    else:
        prepared = plain
    _show_prepared(prepared, headers=wizard is None)
    strict = st.checkbox("Spara bara om alla rader godkänns (strikt läge)",
                         key="hjo_dh_strict")
    replace = bool((~prepared.conflicts.in_file).any()) and st.checkbox(
        "Ersätt lagrade rader vid konflikt (samma id, annat innehåll; loggas)",
        key="hjo_dh_replace")
    if st.button("Spara", type="primary", icon=":material/save:", key="hjo_dh_save"):
        bar = st.progress(0.0, text="Sparar …")
        try:
            report = commit_ingest(prepared, ed.store, user=ed.user.name, strict=strict,
                                   progress=lambda f: bar.progress(min(max(f, 0.0), 1.0),
                                                                   text="Sparar …"),
                                   audit_action="upload", role=ed.user.role,  # one commit
                                   replace=replace)
        except (HjoDataError, OSError) as exc:
            st.error(f"Filen kunde inte sparas: {md_escape(exc)}", icon=":material/error:")
            return
        if wizard is not None:
            _save_profile(ed, wizard)
        refresh_data()
        st.session_state[_LAST_REPORT] = report
        st.session_state.pop(_PREPARED, None)
        st.session_state.pop(_RAW, None)
        forget_wizard()
        st.session_state[_UPLOAD_N] = n + 1  # a new uploader: the saved file is cleared
        st.rerun()

