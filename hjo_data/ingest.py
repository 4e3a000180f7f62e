"""ingest_file(): bytes -> RawTable -> Validated -> Store, with a JSON-able IngestReport.

Counting (the invariant ``accepted + rejected + duplicates + skipped == rows_read``
always holds):

* ``skipped``    source rows a reader deliberately left out (``RawTable.skipped``: values
  not published, summaries, other municipalities), by reason in ``skipped_reasons``;
* ``rejected``   rows that failed validation (incl. rows that could not be split);
* ``duplicates`` valid rows whose ``record_id`` repeats an earlier row of the same file or
  a row already in the store with the SAME content (statistik: the same key with the same
  values);
* ``conflicts``  rows whose given id exists (stored, or earlier in the file) with OTHER
  content (:mod:`hjo_data.conflicts`): counted in ``rejected`` (reason names the differing
  columns), or with ``replace=True`` in ``accepted``: the stored row is replaced (kept in
  the store's history, restored if the batch is withdrawn) and the ids are logged;
* ``accepted``   the remaining valid rows: new rows, stored once; for statistik also the
  ``revised`` rows (same key, another value: the stored row is replaced, the earlier
  value kept in the store's history).

Strict mode (``strict=True``) with at least one rejected row stores nothing: the counts
still describe the rows (``accepted`` = valid rows that *would* have been stored), the
report has ``stored = False`` and the log entry ``added = 0``. Rejected rows are written to
quarantine and the ingest is logged in every case, so a refused file leaves a trace.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data import audit, conflicts, formats, profiles, reading, validation
from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.formatting import fmt_int
from hjo_data.idset import SEED_A, SEED_B, IdSet, hash_strings
from hjo_data.profiles import ImportProfile
from hjo_data.rawtable import base_name, source_name
from hjo_data.schema import Dataset, get_dataset
from hjo_data.store import Store

__all__ = [
    "ERROR_LIMIT",
    "IGNORED",
    "IngestReport",
    "PreparedIngest",
    "commit_ingest",
    "ingest_file",
    "prepare_ingest",
    "prepare_read",
    "resolve_dataset",
    "swedish_int",
]

#: At most this many row errors are kept in a report (the quarantine file has them all).
ERROR_LIMIT = 1000


def swedish_int(n: int) -> str:
    """1234567 -> '1 234 567' (non-breaking spaces, as everywhere in the UI)."""
    return fmt_int(int(n))


def _plural(n: int, one: str, many: str) -> str:
    return f"{swedish_int(n)} {one if n == 1 else many}"


@dataclass
class IngestReport:
    """What one ingest did. ``to_dict()`` is the CLI's ``--json`` output."""

    file: str
    dataset: str
    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    warnings: list[str] = field(default_factory=list)
    rejected_file: str | None = None
    errors: list[RowError] = field(default_factory=list)
    batch_id: str = ""
    sha256: str = ""
    encoding: str = ""
    delimiter: str = ""
    stored: bool = True
    strict: bool = False
    sheet: str | None = None
    user: str | None = None
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    #: Of ``accepted``: stored rows that replaced an earlier value (statistik revisions).
    revised: int = 0
    #: Rejections counted per column and value ("52 rader: okänt värde '30-49 år' i
    #: Ålder"), from ``Validated.summary``: every reason of every rejected row counts.
    rejection_summary: list[str] = field(default_factory=list)
    #: Rows whose id exists with other content; of them ``replaced`` replaced the stored
    #: row (``replace=True``, counted in ``accepted``), the rest are in ``rejected``.
    conflicts: int = 0
    replaced: int = 0
    #: The file's headers (not in ``to_dict``): the CLI's import-profile hint.
    headers: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """True when no row was rejected (duplicates are fine)."""
        return self.rejected == 0

    @property
    def message(self) -> str:
        """One Swedish line, e.g. 'Läste 1 234 rader ur x.csv: 1 200 sparade, ...'."""
        head = f"Läste {_plural(self.rows_read, 'rad', 'rader')} ur {self.file}"
        dups = _plural(self.duplicates, "dubblett", "dubbletter")
        if not self.stored:
            return (
                f"{head}: {swedish_int(self.rejected)} avvisade – inget sparades (strikt läge); "
                f"{swedish_int(self.accepted)} nya rader hade kunnat sparas, {dups}."
            )
        saved = _plural(self.accepted, "sparad", "sparade")
        if self.revised:
            saved += f" (varav {_plural(self.revised, 'reviderat värde', 'reviderade värden')})"
        if self.replaced:
            saved += f" (varav {_plural(self.replaced, 'ersatt rad', 'ersatta rader')})"
        rejected = _plural(self.rejected, "avvisad", "avvisade")
        if self.conflicts > self.replaced:
            n = self.conflicts - self.replaced
            rejected += f" (varav {_plural(n, 'konflikt', 'konflikter')})"
        return f"{head}: {saved}, {rejected}, {dups}{skipped_text(self.skipped_reasons)}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dataset": self.dataset,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
            "rejection_summary": list(self.rejection_summary),
            "warnings": list(self.warnings),
            "rejected_file": self.rejected_file,
            "errors": [e.to_dict() for e in self.errors],
            "errors_omitted": max(0, self.rejected - len(self.errors)),
            "batch_id": self.batch_id,
            "sha256": self.sha256,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "stored": self.stored,
            "strict": self.strict,
            "sheet": self.sheet,
            "user": self.user,
            "revised": self.revised,
            "conflicts": self.conflicts,
            "replaced": self.replaced,
            "message": self.message,
        }


def skipped_text(reasons: dict[str, int]) -> str:
    """", 3 överhoppade (2 ej publicerad, 1 annan kommun)" or "" when nothing was skipped."""
    total = sum(reasons.values())
    if not total:
        return ""
    parts = ", ".join(f"{swedish_int(n)} {reason}" for reason, n in reasons.items() if n)
    return f", {_plural(total, 'överhoppad', 'överhoppade')} ({parts})"


#: Kept for callers of the ingest API: the dataset by name or label (schema.get_dataset).
resolve_dataset = get_dataset


def _row_errors(rejected: pd.DataFrame, limit: int) -> list[RowError]:
    head = rejected.head(limit)
    out = []
    for rec in head.to_dict("records"):
        line = rec.get("line")
        out.append(RowError(
            line=int(line) if line is not None and not pd.isna(line) else 0,
            column="" if pd.isna(rec.get("column")) else str(rec.get("column", "")),
            value="" if pd.isna(rec.get("value")) else str(rec.get("value", "")),
            reason="" if pd.isna(rec.get("reason")) else str(rec.get("reason", "")),
        ))
    return out


def new_batch_id(sha256: str) -> str:
    """Sortable, unique id of one ingest: time stamp + content hash prefix + random part."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{sha256[:8]}-{uuid.uuid4().hex[:6]}"


#: Shown in the header preview for a column that is not used.
IGNORED = "ignoreras"


@dataclass
class PreparedIngest:
    """A file read and validated, nothing written yet (the "dry run" of an upload).

    ``duplicates`` and ``new_rows`` are counted against the store as it was at prepare
    time; :func:`commit_ingest` recounts them under the store lock.
    """

    file: str
    dataset: Dataset
    raw: reading.RawTable
    validated: validation.Validated
    sha256: str
    #: (original header, Swedish label of the canonical column or ``IGNORED``), file order.
    header_preview: list[tuple[str, str]]
    duplicates: int
    new_rows: int
    store_root: str = ""
    #: Rows that would replace a stored value (statistik revisions; not in ``new_rows``).
    revised: int = 0
    #: Id conflicts found at prepare time (rows of ``validated.accepted``; neither in
    #: ``new_rows`` nor in ``duplicates``): rejected on commit, or replacing with
    #: ``replace=True``.
    conflicts: conflicts.Conflicts = conflicts.NONE

    @property
    def rows_read(self) -> int:
        return int(self.raw.rows_read)

    @property
    def valid(self) -> int:
        """Rows that passed validation (new rows + duplicates)."""
        return len(self.validated.accepted)

    @property
    def rejected(self) -> int:
        return len(self.validated.rejected)

    @property
    def warnings(self) -> list[str]:
        return list(self.validated.warnings)

    @property
    def skipped(self) -> int:
        return sum(self.raw.skipped.values())

    @property
    def rejection_summary(self) -> list[str]:
        """Rejections per column and value (``Validated.summary``)."""
        return list(self.validated.summary)

    @property
    def sheet(self) -> str | None:
        return self.raw.sheet

    def header_frame(self) -> pd.DataFrame:
        """Header preview as a table with Swedish column names."""
        return pd.DataFrame(self.header_preview, columns=["Rubrik i filen", "Tolkas som"],
                            dtype="str")

    def rejected_rows(self) -> pd.DataFrame:
        """Rejected rows with Swedish columns rad, kolumn, värde, orsak (as plain text:
        a UI must show these as text, never render them)."""
        rej = self.validated.rejected
        return pd.DataFrame({
            "rad": rej["line"].astype("int64"),
            "kolumn": rej["column"].astype("str"),
            "värde": rej["value"].astype("str"),
            "orsak": rej["reason"].astype("str"),
        })

    def conflict_rows(self) -> pd.DataFrame:
        """The id conflicts as rad, kolumn, värde (the id), orsak (plain text, like
        :meth:`rejected_rows`)."""
        found = self.conflicts
        rows = conflicts.rejected_rows(self.dataset, self.validated.accepted, found,
                                       np.ones(len(found), dtype=bool))
        return pd.DataFrame({"rad": rows["line"], "kolumn": rows["column"],
                             "värde": rows["value"], "orsak": rows["reason"]})

    @property
    def message(self) -> str:
        head = f"{self.file}: {_plural(self.rows_read, 'rad', 'rader')} lästa"
        revised = (f", {_plural(self.revised, 'reviderat värde', 'reviderade värden')}"
                   if self.revised else "")
        return (f"{head} – {_plural(self.new_rows, 'ny rad', 'nya rader')} kan sparas"
                f"{revised}, {_plural(self.rejected, 'avvisad', 'avvisade')}, "
                f"{_plural(self.duplicates, 'dubblett', 'dubbletter')}"
                f"{conflict_text(len(self.conflicts))}"
                f"{skipped_text(self.raw.skipped)}.")


def conflict_rows_left(prepared: PreparedIngest, replace: bool) -> int:
    """Conflicts that would be rejected on commit (all of them, or with ``replace`` those
    within the file)."""
    found = prepared.conflicts
    return len(found) if not replace else int(found.in_file.sum())


def conflict_text(n: int) -> str:
    """", 2 konflikter (id finns med annat innehåll)" or "" (preview messages)."""
    if not n:
        return ""
    return f", {_plural(n, 'konflikt', 'konflikter')} (id finns med annat innehåll)"


def _header_preview(raw: reading.RawTable, ds: Dataset, validated: validation.Validated
                    ) -> list[tuple[str, str]]:
    mapping = reading.map_headers(raw.headers, ds)
    labels = {c.name: c.label for c in ds.columns}
    out: list[tuple[str, str]] = []
    respondent = validation._respondent_header(ds, mapping.unknown)
    for header in raw.headers:
        canonical = mapping.columns.get(header)
        if canonical is not None:
            out.append((header, labels[canonical]))
        elif header == respondent:
            out.append((header, "Respondent-id (för dubblettkontroll)"))
        else:
            out.append((header, IGNORED))
    return out


#: Files at least this large are hashed on a second thread while they are parsed.
_PARALLEL_HASH_BYTES = 4 << 20


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare_ingest(
    source: reading.Source,
    *,
    name: str | None = None,
    dataset: str | Dataset | None = None,
    sheet: str | int | None = None,
    store: Store | None = None,
    today: date | None = None,
    max_bytes: int | None = None,
    profile: ImportProfile | None = None,
) -> PreparedIngest:
    """Read and validate ``source`` (CSV or .xlsx; path, bytes or file-like) without
    writing anything: header preview, validation result and duplicates against the store.
    ``profile``: an import profile applied to the table before validation.

    Raises UnreadableFileError (too large, unreadable, only a header, required columns
    missing) and UnknownDatasetError; the messages are Swedish and name the file.
    """
    display = base_name(name if name is not None else source_name(source))
    # a chosen dataset limits the source formats tried to its own
    hint = resolve_dataset(dataset).name if dataset is not None else None
    data = reading.source_bytes(source, name=display, max_bytes=max_bytes)
    if len(data) >= _PARALLEL_HASH_BYTES:
        # hashlib releases the GIL on large buffers: hash while the file is parsed.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool:
            digest = pool.submit(_sha256_hex, data)
            raw = reading.read_bytes(data, name=display, sheet=sheet, dataset=hint)
            sha = digest.result()
    else:
        sha = _sha256_hex(data)
        raw = reading.read_bytes(data, name=display, sheet=sheet, dataset=hint)
    return prepare_read(raw, sha256=sha, dataset=dataset, store=store, today=today,
                        profile=profile)


def prepare_read(
    raw: reading.RawTable,
    *,
    sha256: str,
    dataset: str | Dataset | None = None,
    store: Store | None = None,
    today: date | None = None,
    profile: ImportProfile | None = None,
) -> PreparedIngest:
    """:func:`prepare_ingest` for a file already read (the import wizard re-checks one
    table under changing profiles without reading it again)."""
    store = store if store is not None else Store()
    ds = resolve_dataset(dataset) if dataset is not None else None
    display = raw.file_name
    if raw.rows_read == 0:
        raise UnreadableFileError(f"{display}: Filen innehåller bara en rubrikrad – inga "
                                  "datarader att läsa in.")
    original_headers = raw.headers
    if profile is not None:
        ds = profiles.profile_dataset(profile, ds)
        raw = profiles.apply_profile(raw, profile)
    if ds is None:
        fmt = formats.get_format(raw.source_format)
        ds = resolve_dataset(fmt.dataset) if fmt is not None else \
            reading.detect_dataset(raw.headers)
    checked = validation.validate(raw, ds, today=today)
    revised = 0
    if ds.revision_columns:
        mask, revisions = store.split_revisions(ds, checked.accepted)
        revised = int(revisions.sum())
        duplicates = len(checked.accepted) - int(mask.sum()) - revised
    else:
        mask, duplicates = store.split_new(ds, checked.accepted)
    found = store.find_conflicts(ds, checked.accepted)
    duplicates -= len(found)  # a conflicting row is never new: split_new counted it
    preview = _header_preview(raw, ds, checked)
    if profile is not None:
        preview = profiles.original_preview(original_headers, profile, preview, IGNORED)
    return PreparedIngest(
        file=display, dataset=ds, raw=raw, validated=checked, sha256=sha256,
        header_preview=preview, duplicates=duplicates,
        new_rows=int(mask.sum()), store_root=str(store.root), revised=revised,
        conflicts=found,
    )


def _quarantine_original(raw: reading.RawTable, rejected: pd.DataFrame
                         ) -> tuple[pd.DataFrame, np.ndarray]:
    """Original cells of each rejected row (original headers), aligned with ``rejected``,
    and a mask of rows whose fields are unknown (could not be split)."""
    headers = raw.headers
    width = len(headers)
    lines = np.asarray(raw.lines, dtype=np.int64)
    wanted = rejected["line"].to_numpy(dtype=np.int64)
    # the rejected rows' positions in the frame; only those rows' cells become Python
    # objects (a reader giving several rows one line: the last, as before)
    if len(lines) and bool(np.all(lines[1:] > lines[:-1])):
        at = np.minimum(np.searchsorted(lines, wanted), len(lines) - 1)
        found = lines[at] == wanted
    else:
        position = {int(line): i for i, line in enumerate(lines.tolist())}
        at = np.array([position.get(int(w), 0) for w in wanted], dtype=np.int64)
        found = np.array([int(w) in position for w in wanted], dtype=bool)
    structural = {int(e.line): e for e in raw.structural_errors}
    cells = raw.frame.iloc[at[found]].to_numpy(dtype=object) if width and found.any() \
        else np.empty((0, width), dtype=object)
    row_of = np.cumsum(found) - 1
    rows: list[list[str]] = []
    unsplit = np.zeros(len(rejected), dtype=bool)
    for k, line in enumerate(wanted.tolist()):
        if found[k]:
            rows.append([str(v) for v in cells[row_of[k]]])
            continue
        err = structural.get(line)
        fields = list(getattr(err, "fields", ()) or ())
        unsplit[k] = True
        if fields and len(fields) <= width:
            rows.append(fields + [""] * (width - len(fields)))
        else:
            rows.append([""] * width)
    frame = pd.DataFrame(rows, columns=headers, dtype="str") if rows else pd.DataFrame(
        {h: pd.Series([], dtype="str") for h in headers})
    return frame, unsplit


def _resolve_conflicts(ds: Dataset, checked: validation.Validated,
                       found: conflicts.Conflicts, replace: bool
                       ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None]:
    """(accepted rows to store, rejected rows incl. conflicts, replace mask over the
    former or None). Conflicts within the file are always rejected: the file contradicts
    itself and ``replace`` cannot tell which row is right."""
    accepted = checked.accepted
    if not len(found):
        return accepted, checked.rejected, None
    rejected_sel = found.in_file | (not replace)
    drop = np.zeros(len(accepted), dtype=bool)
    drop[found.positions[rejected_sel]] = True
    extra = conflicts.rejected_rows(ds, accepted, found, rejected_sel)
    rejected = pd.concat([checked.rejected, extra], ignore_index=True).sort_values(
        "line", kind="stable", ignore_index=True)
    keep = accepted.loc[~drop].reset_index(drop=True)
    replace_mask = None
    if replace:
        mask = np.zeros(len(accepted), dtype=bool)
        mask[found.positions[~found.in_file]] = True
        replace_mask = mask[~drop]
    return keep, rejected, replace_mask


def commit_ingest(
    prepared: PreparedIngest,
    store: Store | None = None,
    user: str | None = None,
    progress: Callable[[float], None] | None = None,
    *,
    strict: bool = False,
    replace: bool = False,
    audit_action: str | None = None,
    role: str | None = None,
    audit_detail: str | None = None,
) -> IngestReport:
    """Store a prepared file: new rows under a fresh batch id, rejected rows to quarantine,
    one log entry. Duplicates and id conflicts are recounted under the store lock (the
    store may have changed since :func:`prepare_ingest`). ``replace``: a row whose id is
    stored with other content replaces that row (else it is rejected as a conflict).
    ``progress(fraction)`` is called from 0 to 1.

    Data, quarantine, log entry and (with ``audit_action``, e.g. "upload") the audit entry
    of ``user``/``role`` (detail: ``audit_detail`` or the file name; replaced rows add a
    "replace" entry) commit as one store transaction: a kill at any point leaves no
    batch or the whole batch, logged, audited and undoable (hjo_data/journal.py).
    """
    store = store if store is not None else Store(prepared.store_root or None)
    ds = prepared.dataset
    checked = prepared.validated
    raw = prepared.raw
    display = prepared.file

    def step(fraction: float) -> None:
        if progress is not None:
            progress(fraction)

    step(0.0)
    batch_id = new_batch_id(prepared.sha256)
    warnings = list(checked.warnings)

    revised = 0
    with store.transaction(batch_id) as txn:
        found = store.find_conflicts(ds, checked.accepted)
        accepted_frame, rejected_frame, replace_mask = _resolve_conflicts(
            ds, checked, found, replace)
        rejected = len(rejected_frame)
        valid = len(accepted_frame)
        replaced = 0 if replace_mask is None else int(replace_mask.sum())
        blocked = strict and rejected > 0
        step(0.1)
        if blocked:
            mask, duplicates = store.split_new(ds, accepted_frame)
            accepted = int(mask.sum())
            added = 0
        elif ds.revision_columns:
            added, revised, duplicates = store.upsert(ds, accepted_frame, batch_id)
            added += revised  # rows this batch stored (withdraw removes them)
            accepted = added
        else:
            added, duplicates = store.append(ds, accepted_frame, batch_id,
                                             replace=replace_mask)
            accepted = added
        step(0.7)
        quarantine = None
        if rejected:
            original, unsplit = _quarantine_original(raw, rejected_frame)
            quarantine = store.write_quarantine(ds, reading.safe_file_name(display),
                                                rejected_frame, original=original,
                                                unsplit=unsplit)
        step(0.9)
        report = IngestReport(
            file=display,
            dataset=ds.name,
            rows_read=int(raw.rows_read),
            accepted=accepted,
            rejected=rejected,
            duplicates=duplicates,
            warnings=warnings,
            rejected_file=str(quarantine) if quarantine is not None else None,
            errors=_row_errors(rejected_frame, ERROR_LIMIT),
            batch_id=batch_id,
            sha256=prepared.sha256,
            encoding=raw.encoding,
            delimiter=raw.delimiter,
            stored=not blocked,
            strict=strict,
            sheet=raw.sheet,
            user=user,
            skipped=sum(raw.skipped.values()),
            skipped_reasons=dict(raw.skipped),
            revised=revised,
            rejection_summary=list(checked.summary),
            conflicts=len(found),
            replaced=0 if blocked else replaced,
            headers=raw.headers,
        )
        replaced_ids = accepted_frame.loc[replace_mask, "record_id"].astype(
            "str").tolist() if report.replaced else []
        _log_ingest(store, txn, report, valid=valid, added=added, replaced_ids=replaced_ids,
                    audit_action=audit_action, role=role, audit_detail=audit_detail)
    step(1.0)
    return report


def _log_ingest(store: Store, txn: Any, report: IngestReport, *, valid: int, added: int,
                replaced_ids: list[str], audit_action: str | None, role: str | None,
                audit_detail: str | None) -> None:
    """The count check, the ingest-log entry and the audit entries of one ingest, queued
    in its transaction ``txn`` (the same for a streamed and a whole file)."""
    counted = report.accepted + report.rejected + report.duplicates + report.skipped
    if counted != report.rows_read:
        report.warnings.append(
            f"Internt räknefel: {swedish_int(valid)} giltiga + "
            f"{swedish_int(report.rejected)} avvisade + {swedish_int(report.skipped)} "
            f"överhoppade rader ≠ {swedish_int(report.rows_read)} lästa."
        )
    entry: dict[str, Any] = {
        "batch_id": report.batch_id,
        "file": reading.safe_file_name(report.file),
        "sha256": report.sha256,
        "dataset": report.dataset,
        "time": datetime.now().astimezone().isoformat(timespec="seconds"),
        "rows_read": report.rows_read,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "duplicates": report.duplicates,
        "added": added,
        "skipped": report.skipped,
        "revised": report.revised,
        "conflicts": report.conflicts,
        "replaced": report.replaced,
        "warnings": len(report.warnings),
        "rejected_file": report.rejected_file,
        "stored": report.stored,
    }
    if report.user is not None:
        entry["user"] = report.user
    if report.sheet is not None:
        entry["sheet"] = report.sheet
    if report.replaced:
        entry["replaced_ids"] = replaced_ids[:ERROR_LIMIT]
    store.log(entry)  # appended at the commit, with the audit entry
    if audit_action is not None:
        detail = audit_detail or report.file
        txn.audit(audit.make_entry(
            audit_action, report.user, role=role, dataset=report.dataset,
            batch_id=report.batch_id,
            counts={"rows_read": report.rows_read, "accepted": report.accepted,
                    "rejected": report.rejected, "duplicates": report.duplicates},
            detail=detail))
        if report.replaced:  # replacing stored rows changes history: say who did it
            txn.audit(audit.make_entry(
                "replace", report.user, role=role, dataset=report.dataset,
                batch_id=report.batch_id, counts={"replaced": report.replaced},
                detail=detail))


def ingest_file(
    source: reading.Source,
    *,
    dataset: str | Dataset | None = None,
    store: Store | None = None,
    strict: bool = False,
    replace: bool = False,
    name: str | None = None,
    today: date | None = None,
    sheet: str | int | None = None,
    user: str | None = None,
    max_bytes: int | None = None,
    profile: ImportProfile | None = None,
    audit_action: str | None = None,
    role: str | None = None,
    chunk_rows: int | None = None,
) -> IngestReport:
    """Read, validate and store one file (:func:`prepare_ingest` + :func:`commit_ingest`);
    rejected rows go to quarantine; the ingest is logged (and audited as
    ``audit_action`` of ``user``/``role`` when given).

    A large plain CSV file (``reading.STREAM_MIN_BYTES``; any size with ``chunk_rows``
    or $HJO_INGEST_CHUNK_ROWS) is streamed: read, validated, deduplicated and stored
    chunk by chunk in ONE store transaction, with the same report, log entry, stored
    rows and quarantine as the whole-file path (memory bounded by the chunk, not the
    file). Strict and replace ingests, and files that need the whole-file reader (bad
    rows, other encodings, ...) go the whole-file way.

    Raises UnreadableFileError (nothing readable / missing / too large file) and
    UnknownDatasetError (unknown ``dataset`` name, or headers matching no dataset);
    nothing is stored then. ``max_bytes`` as in :func:`prepare_ingest` (None = the upload
    limit, ``reading.NO_LIMIT`` = none).
    """
    store = store if store is not None else Store()
    display = base_name(name if name is not None else source_name(source))
    if not strict and not replace and sheet is None:
        reading.check_size(source, name=display, max_bytes=max_bytes)
        report = _ingest_streamed(source, display=display, dataset=dataset, store=store,
                                  today=today, profile=profile, user=user,
                                  chunk_rows=chunk_rows, audit_action=audit_action,
                                  role=role, audit_detail=None)
        if report is not None:
            return report
    prepared = prepare_ingest(source, name=name, dataset=dataset, sheet=sheet, store=store,
                              today=today, max_bytes=max_bytes, profile=profile)
    return commit_ingest(prepared, store, user=user, strict=strict, replace=replace,
                         audit_action=audit_action, role=role)


# --------------------------------------------------------------------------- streaming


@dataclass
class _StreamTotals:
    """What a streamed ingest adds up over its chunks."""

    added: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: list[pd.DataFrame] = field(default_factory=list)
    original: list[pd.DataFrame] = field(default_factory=list)
    unsplit: list[np.ndarray] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return sum(len(r) for r in self.rejected)


class _Dedup:
    """Duplicates and id conflicts of a streamed file, chunk by chunk, as the whole-file
    ingest counts them: a row repeating an id of an earlier row of the file (any chunk)
    is a duplicate, or an in-file conflict when its content differs; a file's first row
    with a stored id is a duplicate, or a conflict when its content differs from the
    stored row. Ids are kept as hash pairs (:mod:`hjo_data.idset`): the stored ids read
    once, the file's ids as (id hash, content hash) for given ids."""

    def __init__(self, store: Store, ds: Dataset) -> None:
        self.store = store
        self.ds = ds
        self.stored = IdSet.of_ids(store.stored_ids(ds))
        self.seen = IdSet()
        self.columns = [c for c in conflicts.compared_columns(ds) if c != ds.id_column]

    def split(self, accepted: pd.DataFrame
              ) -> tuple[np.ndarray, conflicts.Conflicts, np.ndarray]:
        """(new rows, conflicts, rows whose id is stored) of one chunk's accepted rows.
        Raises StreamFallback when a given id repeats an earlier chunk's with other
        content (the in-file conflict's reason needs that row: whole-file decides)."""
        n = len(accepted)
        if n == 0:
            return np.zeros(0, dtype=bool), conflicts.NONE, np.zeros(0, dtype=bool)
        ids = accepted["record_id"]
        explicit = conflicts.explicit_ids(self.ds, accepted)
        k1 = hash_strings(ids, SEED_A)
        k2 = np.zeros(n, dtype=np.uint64)
        if explicit.any():
            k2[explicit] = validation.content_hash(accepted.loc[explicit], self.columns)
        if not explicit.all():
            k2[~explicit] = hash_strings(ids[~explicit], SEED_B)
        arr = pa.array(ids, type=pa.large_string(), from_pandas=True)
        first = np.ones(n, dtype=bool) if _increasing(arr) else \
            ~ids.duplicated(keep="first").to_numpy()
        prior, clash = self.seen.lookup(k1, k2)
        if (clash & first).any():
            raise reading.StreamFallback("an id of an earlier chunk with other content")
        fresh = first & ~prior
        in_store = np.zeros(n, dtype=bool)
        if len(self.stored) and fresh.any():
            kb = k2.copy()
            if explicit.any():
                kb[explicit] = hash_strings(ids[explicit], SEED_B)
            sel = np.flatnonzero(fresh)
            in_store[sel] = self.stored.lookup(k1[sel], kb[sel])[0]
        found = self._conflicts(accepted, explicit, first, in_store)
        if len(found) and found.in_file.any() and (first & prior & ids.isin(
                ids[~first]).to_numpy()).any():
            # the chunk's first row with that id repeats an earlier chunk's: the reason
            # must name the file's first row, which only the whole-file ingest has
            raise reading.StreamFallback("an in-file conflict across chunks")
        self.seen.add(k1[fresh], k2[fresh])
        new = fresh & ~in_store
        new[found.positions] = False
        return new, found, in_store

    def _conflicts(self, accepted: pd.DataFrame, explicit: np.ndarray, first: np.ndarray,
                   in_store: np.ndarray) -> conflicts.Conflicts:
        parts: list[conflicts.Conflicts] = []
        if (explicit & ~first).any():  # a repeated given id within this chunk
            table = pa.Table.from_pandas(accepted, preserve_index=False)
            parts.append(conflicts.find_conflicts(self.ds, accepted, table,
                                                  table.slice(0, 0)))
        sel = np.flatnonzero(explicit & in_store)
        if sel.size:  # the file's first row with a stored id: same content as stored?
            found = self.store.find_conflicts(self.ds, accepted.iloc[sel])
            parts.append(dataclasses.replace(found, positions=sel[found.positions]))
        parts = [p for p in parts if len(p)]
        if not parts:
            return conflicts.NONE
        if len(parts) == 1:
            return parts[0]
        pos = np.concatenate([p.positions for p in parts])
        order = np.argsort(pos, kind="stable")
        columns = [c for p in parts for c in p.columns]
        return conflicts.Conflicts(pos[order], tuple(columns[i] for i in order),
                                   np.concatenate([p.in_file for p in parts])[order],
                                   np.concatenate([p.other_line for p in parts])[order])


def _increasing(arr: pa.Array) -> bool:
    """Every id greater than the one before (exports sorted by id: no duplicates)."""
    if len(arr) < 2:
        return True
    return bool(pc.all(pc.less(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


def _ingest_streamed(
    source: reading.Source, *, display: str, dataset: str | Dataset | None, store: Store,
    today: date | None, profile: ImportProfile | None, user: str | None,
    chunk_rows: int | None, audit_action: str | None, role: str | None,
    audit_detail: str | None,
) -> IngestReport | None:
    """Ingest a large plain CSV file chunk by chunk (:class:`reading.CsvStream`) in ONE
    store transaction; None when the file is not streamable or needs the whole-file
    reader (then nothing was written: the transaction was aborted)."""
    hint = resolve_dataset(dataset).name if dataset is not None else None
    stream = reading.open_stream(source, name=display, dataset=hint, chunk_rows=chunk_rows)
    if stream is None:
        return None
    ds = resolve_dataset(dataset) if dataset is not None else None
    if profile is not None:
        ds = profiles.profile_dataset(profile, ds)
    state = validation.ChunkState()
    totals = _StreamTotals()
    try:
        with store.transaction(f"stream-{uuid.uuid4().hex[:12]}") as txn:
            dedup: _Dedup | None = None
            batch_id = sha = ""
            for raw in stream.chunks():
                if dedup is None and len(raw.frame) == 0:
                    # header only (or blank lines first): the whole-file path words it
                    raise reading.StreamFallback("no rows in the first chunk")
                if profile is not None:
                    raw = profiles.apply_profile(raw, profile)
                if ds is None:
                    ds = reading.detect_dataset(raw.headers)
                if ds.revision_columns:  # statistik: revisions are upserted whole-file
                    raise reading.StreamFallback("revision dataset")
                checked = validation.validate(raw, ds, today=today, chunks=state)
                if dedup is None:
                    sha = stream.sha256()  # the batch id names it; waits for the scan
                    batch_id = new_batch_id(sha)
                    dedup = _Dedup(store, ds)
                _store_chunk(store, ds, raw, checked, dedup, batch_id, totals)
            if ds is None or dedup is None or stream.rows == 0:
                raise reading.StreamFallback("no data rows")
            warnings, summary = state.finish()
            report = _stream_report(store, ds, stream, totals, warnings, summary,
                                    batch_id=batch_id, sha=sha, user=user)
            _log_ingest(store, txn, report, valid=stream.rows - report.rejected,
                        added=totals.added, replaced_ids=[], audit_action=audit_action,
                        role=role, audit_detail=audit_detail)
    except reading.StreamFallback:
        return None
    return report


def _store_chunk(store: Store, ds: Dataset, raw: reading.RawTable,
                 checked: validation.Validated, dedup: _Dedup, batch_id: str,
                 totals: _StreamTotals) -> None:
    """Deduplicate one validated chunk, stage its new rows, keep its rejected rows."""
    accepted = checked.accepted
    new, found, in_store = dedup.split(accepted)
    rejected = checked.rejected
    if len(found):
        extra = conflicts.rejected_rows(ds, accepted, found, np.ones(len(found), dtype=bool))
        rejected = pd.concat([rejected, extra], ignore_index=True).sort_values(
            "line", kind="stable", ignore_index=True)
        totals.conflicts += len(found)
    added = int(new.sum())
    claimed = in_store.copy()
    claimed[found.positions] = False
    store.append_new(ds, accepted.loc[new] if added < len(accepted) else accepted,
                     batch_id, claimed=accepted.loc[claimed, "record_id"])
    totals.added += added
    totals.duplicates += len(accepted) - added - len(found)
    if len(rejected):
        original, unsplit = _quarantine_original(raw, rejected)
        totals.rejected.append(rejected)
        totals.original.append(original)
        totals.unsplit.append(unsplit)


def _stream_report(store: Store, ds: Dataset, stream: reading.CsvStream,
                   totals: _StreamTotals, warnings: list[str], summary: list[str], *,
                   batch_id: str, sha: str, user: str | None) -> IngestReport:
    rejected = pd.concat(totals.rejected, ignore_index=True) if totals.rejected else None
    quarantine = None
    if rejected is not None:
        quarantine = store.write_quarantine(
            ds, reading.safe_file_name(stream.file_name), rejected,
            original=pd.concat(totals.original, ignore_index=True),
            unsplit=np.concatenate(totals.unsplit))
    return IngestReport(
        file=stream.file_name, dataset=ds.name, rows_read=stream.rows,
        accepted=totals.added, rejected=totals.rejected_count,
        duplicates=totals.duplicates, warnings=warnings,
        rejected_file=str(quarantine) if quarantine is not None else None,
        errors=_row_errors(rejected, ERROR_LIMIT) if rejected is not None else [],
        batch_id=batch_id, sha256=sha, encoding=stream.encoding,
        delimiter=stream.delimiter, user=user, rejection_summary=summary,
        conflicts=totals.conflicts, headers=list(stream.headers))
