"""Register one record by form: a trygghetsvandring, an activity or a single incident.

A form becomes a one-row input table (Swedish column label -> text), exactly as if the
row had come from a file, and goes through the same path as every upload
(:func:`hjo_data.ingest.prepare_ingest` on generated CSV bytes, then
:func:`hjo_data.ingest.commit_ingest`): the same parsing, validation, masking of
personnummer, deduplication, ingest log, batch id and undo.

How a trygghetsvandring maps onto the activities dataset:

* ``activity_type`` = "trygghetsvandring";
* ``participants`` = sum of the participants per organisation;
* ``organisers``   = the organisations with at least one participant, joined by ";";
* ``findings``     = number of findings;
* ``actions_decided`` = findings with a follow-up action;
* ``actions_done`` = findings with status "klar";
* ``notes``        = the findings as text (each with its action and status) and the
  participants per organisation. Free text: masked, shown to officials only.

Errors are Swedish and name the form field ("Datum: ..."). Besides the dataset's own
rules (checked per field by the shared validation) a walk has structural rules of its own:
an area is required (optional for other activities), a finding needs a text, a status
from :data:`FINDING_STATUSES`, and a finding marked "klar" needs an action.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from hjo_data import reading, validation
from hjo_data.errors import HjoDataError
from hjo_data.ingest import IngestReport, PreparedIngest, commit_ingest, prepare_ingest
from hjo_data.schema import ACTIVITIES, DATASETS, INCIDENTS, Dataset

__all__ = [
    "FINDING_STATUSES",
    "FORM_KINDS",
    "Finding",
    "FormSubmission",
    "SafetyWalk",
    "activity_row",
    "commit_form",
    "field_errors",
    "incident_row",
    "prepare_form",
    "row_csv_bytes",
    "safety_walk_errors",
    "safety_walk_row",
    "walk_notes",
]

#: Status of a finding's follow-up action.
FINDING_STATUSES: tuple[str, ...] = ("ej påbörjad", "pågår", "klar")
DONE = "klar"

#: Form kind -> (Swedish title, dataset name).
FORM_KINDS: dict[str, tuple[str, str]] = {
    "trygghetsvandring": ("Trygghetsvandring", "activities"),
    "aktivitet": ("Aktivitet", "activities"),
    "handelse": ("Enskild händelse", "incidents"),
}

#: Longest organisation name accepted on a walk (the whole notes field is capped by the
#: shared validation).
_MAX_ORG_CHARS = 200


@dataclass(frozen=True)
class Finding:
    """One finding of a trygghetsvandring with its follow-up action."""

    text: str
    action: str = ""
    status: str = "ej påbörjad"


@dataclass(frozen=True)
class SafetyWalk:
    """A trygghetsvandring as entered in the form."""

    date: date | str
    area: str
    #: Organisation -> participants (e.g. {"Polisen": 2, "Hjo kommun": 4}), or
    #: (organisation, participants) pairs as a table editor gives them.
    participants: Mapping[str, object] | Sequence[tuple[object, object]] = field(
        default_factory=dict)
    findings: Sequence[Finding] = ()
    target_group: str = ""
    notes: str = ""


@dataclass
class FormSubmission:
    """A form checked through the shared validation; nothing stored yet."""

    kind: str
    dataset: Dataset
    #: The generated input row: Swedish column label -> text.
    row: dict[str, str]
    #: Swedish errors, each naming the form field; empty when the row can be stored.
    errors: list[str]
    prepared: PreparedIngest | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.prepared is not None and self.prepared.rejected == 0

    @property
    def duplicate(self) -> bool:
        """True when the same record is already stored (saving would add nothing)."""
        return self.prepared is not None and self.ok and self.prepared.new_rows == 0

    def row_frame(self) -> pd.DataFrame:
        """The generated row as a two-column table (for a preview)."""
        return pd.DataFrame({"Fält": list(self.row), "Värde": list(self.row.values())},
                            dtype="str")


# --------------------------------------------------------------------------- text helpers


def _text(value: object) -> str:
    """Form value -> input text (None/NaN -> "", dates ISO, whole floats without .0)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).strip()


def _count(value: object) -> int | None:
    """A participant count from a form cell; None when it is not a whole number >= 0."""
    text = _text(value).replace("\u00a0", "").replace(" ", "")
    if text == "":
        return 0
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    if number < 0 or not number.is_integer():
        return None
    return int(number)


def _labels(dataset: Dataset, values: Mapping[str, object]) -> dict[str, str]:
    """Canonical name -> value  =>  Swedish label -> text, in schema order."""
    return {c.label: _text(values.get(c.name)) for c in dataset.columns if c.name in values}


# --------------------------------------------------------------------------- row builders


def incident_row(*, occurred_at: date | datetime | str, category: str, area: str,
                 source: str, description: str = "", incident_id: str = "",
                 at_time: time | str | None = None) -> dict[str, str]:
    """One incident as an input row. ``at_time`` (optional) is added to a date."""
    when = _text(occurred_at)
    if at_time not in (None, "") and not isinstance(occurred_at, datetime):
        when = f"{when} {_text(at_time)}".strip()
    return _labels(INCIDENTS, {
        "incident_id": incident_id, "occurred_at": when, "category": category,
        "area": area, "source": source, "description": description,
    })


def activity_row(*, activity_date: date | str, activity_type: str, area: str = "",
                 organisers: str = "", participants: int | str | None = 0,
                 target_group: str = "", findings: int | str | None = 0,
                 actions_decided: int | str | None = 0, actions_done: int | str | None = 0,
                 notes: str = "") -> dict[str, str]:
    """One activity as an input row (empty optional fields get the schema defaults)."""
    return _labels(ACTIVITIES, {
        "date": activity_date, "activity_type": activity_type, "area": area,
        "organisers": organisers, "participants": participants,
        "target_group": target_group, "findings": findings,
        "actions_decided": actions_decided, "actions_done": actions_done, "notes": notes,
    })


def _clean_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings without the completely empty rows a table editor leaves behind."""
    out = []
    for f in findings:
        if _text(f.text) or _text(f.action):
            out.append(Finding(_text(f.text), _text(f.action), _text(f.status) or "ej påbörjad"))
    return out


def _clean_participants(participants: Mapping[str, object] | Sequence[tuple[object, object]]
                        ) -> list[tuple[str, object]]:
    """(organisation, count) pairs without the rows that are empty in both cells."""
    pairs = participants.items() if isinstance(participants, Mapping) else participants
    return [(_text(org), n) for org, n in pairs if _text(org) or _text(n) not in ("", "0")]


def safety_walk_errors(walk: SafetyWalk) -> list[str]:
    """Errors of the walk's own structure (participants and findings lists), Swedish,
    naming the field; the row values are checked by :func:`field_errors`."""
    errors: list[str] = []
    if not _text(walk.area):
        errors.append("Område: ange var trygghetsvandringen gjordes.")
    for i, (org, raw) in enumerate(_clean_participants(walk.participants), start=1):
        n = _count(raw)
        where = f"Deltagare, rad {i}"
        if not org:
            errors.append(f"{where}: organisationen saknas.")
        elif len(org) > _MAX_ORG_CHARS:
            errors.append(f"{where}: organisationens namn är för långt (högst "
                          f"{_MAX_ORG_CHARS} tecken).")
        if n is None:
            errors.append(f"{where}: antalet deltagare '{_text(raw)}' är inte ett heltal "
                          "0 eller större.")
    for i, f in enumerate(_clean_findings(walk.findings), start=1):
        where = f"Iakttagelse {i}"
        if not f.text:
            errors.append(f"{where}: beskrivningen saknas.")
        if f.status not in FINDING_STATUSES:
            allowed = ", ".join(FINDING_STATUSES)
            errors.append(f"{where}: okänd status '{f.status}' (tillåtna: {allowed}).")
        elif f.status == DONE and not f.action:
            errors.append(f"{where}: status 'klar' men ingen åtgärd angiven.")
    return errors


def walk_notes(walk: SafetyWalk) -> str:
    """The walk's free text: participants per organisation and the numbered findings."""
    parts: list[str] = []
    orgs = [(org, _count(n)) for org, n in _clean_participants(walk.participants)]
    shown = [f"{org} {n}" for org, n in orgs if org and n]
    if shown:
        parts.append("Deltagare: " + ", ".join(shown) + ".")
    for i, f in enumerate(_clean_findings(walk.findings), start=1):
        line = f"{i}) {f.text}"
        line += f" – åtgärd: {f.action}" if f.action else " – ingen åtgärd beslutad"
        line += f" ({f.status})."
        parts.append(line)
    if _text(walk.notes):
        parts.append(_text(walk.notes))
    return " ".join(parts)


def safety_walk_row(walk: SafetyWalk) -> dict[str, str]:
    """The walk as one activities input row (see the module docstring for the mapping)."""
    orgs = [(org, _count(n)) for org, n in _clean_participants(walk.participants)]
    findings = _clean_findings(walk.findings)
    participants = sum(n for _, n in orgs if n)
    organisers = ";".join(dict.fromkeys(org for org, n in orgs if org and n))
    return activity_row(
        activity_date=walk.date, activity_type="trygghetsvandring", area=walk.area,
        organisers=organisers, participants=participants, target_group=walk.target_group,
        findings=len(findings),
        actions_decided=sum(1 for f in findings if f.action),
        actions_done=sum(1 for f in findings if f.status == DONE),
        notes=walk_notes(walk),
    )


# --------------------------------------------------------------------------- validation


def row_csv_bytes(row: Mapping[str, str]) -> bytes:
    """A header line and one data line, ';'-separated UTF-8 — what a file upload would be."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(list(row))
    writer.writerow([str(v).replace("\r\n", "\n").replace("\r", "\n") for v in row.values()])
    return buf.getvalue().encode("utf-8")


def _valid_base(dataset: Dataset, today: date) -> dict[str, str]:
    """A row that passes validation, used to check one field at a time."""
    values: dict[str, str] = {}
    for col in dataset.columns:
        if not col.required:
            continue
        if col.kind in ("date", "datetime"):
            values[col.label] = today.isoformat()
        elif col.kind == "category":
            values[col.label] = col.vocabulary[0]
        elif col.kind in ("int", "float"):
            values[col.label] = _text(col.minimum if col.minimum is not None else 1)
        elif col.kind == "share":
            values[col.label] = "0,5"
        else:
            values[col.label] = "x"
    return values


def _pretty(reason: str) -> str:
    return reason if reason.endswith(".") else reason + "."


def field_errors(dataset: Dataset, row: Mapping[str, str], *, today: date | None = None
                 ) -> list[str]:
    """Every field of ``row`` that the shared validation rejects, as "Fält: orsak."
    (validation reports only the first failing column of a row, so each field is checked
    on its own, on an otherwise valid row; latitude and longitude are checked together).
    """
    today = today or date.today()
    base = _valid_base(dataset, today)
    labels = [c.label for c in dataset.columns if c.label in row]
    groups: list[list[str]] = []
    pair = [c.label for c in dataset.columns if c.position and c.label in row]
    for label in labels:
        if label in pair:
            if label == pair[0]:
                groups.append(pair)
        else:
            groups.append([label])
    if not groups:
        return []
    headers = list(dict.fromkeys([*base, *labels]))
    records = []
    for group in groups:
        record = {h: base.get(h, "") for h in headers}
        for label in group:
            record[label] = _text(row.get(label, ""))
        records.append([record[h] for h in headers])
    frame = pd.DataFrame(records, columns=headers, dtype="str")
    raw = reading.RawTable(file_name="formulär", frame=frame,
                           lines=pd.RangeIndex(2, len(records) + 2).to_numpy("int64"),
                           encoding="utf-8", delimiter=";", parser="python")
    checked = validation.validate(raw, dataset, today=today)
    errors = []
    # one error per failing field (problems: every failing column of a row, in order)
    for rec in checked.problems.to_dict("records"):
        group = groups[int(rec["line"]) - 2]
        column = str(rec.get("column") or "")
        name = column if column in group else group[0]
        errors.append(f"{name}: {_pretty(str(rec['reason']))}")
    return errors


def prepare_form(kind: str, row: Mapping[str, str], *, store: Any = None,
                 today: date | None = None, extra_errors: Sequence[str] = ()
                 ) -> FormSubmission:
    """Check a form row through the shared path (:func:`prepare_ingest` on the CSV bytes
    of the row). ``extra_errors`` are form-specific errors found before (e.g. by
    :func:`safety_walk_errors`); when there are any, the row is still checked so that all
    errors are shown at once, but it cannot be stored."""
    if kind not in FORM_KINDS:
        raise ValueError(f"unknown form kind {kind!r}")
    dataset = DATASETS[FORM_KINDS[kind][1]]
    today = today or date.today()
    row = {k: _text(v) for k, v in row.items()}
    errors = list(extra_errors) + field_errors(dataset, row, today=today)
    prepared: PreparedIngest | None = None
    try:
        prepared = prepare_ingest(row_csv_bytes(row), name=f"formulär_{kind}.csv",
                                  dataset=dataset, store=store, today=today)
    except HjoDataError as exc:  # e.g. a required column missing from the row
        errors.append(str(exc))
    if prepared is not None and prepared.rejected and not errors:
        # Should not happen (field_errors checks the same rules); never lose the reason.
        rej = prepared.rejected_rows().iloc[0]
        errors.append(f"{rej['kolumn']}: {_pretty(str(rej['orsak']))}")
    return FormSubmission(kind=kind, dataset=dataset, row=row, errors=errors,
                          prepared=prepared)


def commit_form(submission: FormSubmission, store: Any = None, *, user: str | None = None,
                role: str | None = None, audit_action: str | None = None) -> IngestReport:
    """Store a checked form row as its own batch (undoable like a file upload); with
    ``audit_action`` the audit entry commits with it (``commit_ingest``).

    Raises ValueError when the submission has errors (nothing is stored then).
    """
    if not submission.ok or submission.prepared is None:
        raise ValueError("formuläret har fel och kan inte sparas: "
                         + "; ".join(submission.errors))
    return commit_ingest(submission.prepared, store, user=user, strict=True, role=role,
                         audit_action=audit_action,
                         audit_detail=FORM_KINDS[submission.kind][0] if audit_action else None)
