"""ingest_file(): bytes -> RawTable -> Validated -> Store, with a JSON-able IngestReport.

Counting (the invariant ``accepted + rejected + duplicates == rows_read`` always holds):

* ``rejected``   rows that failed validation (incl. rows that could not be split);
* ``duplicates`` valid rows whose ``record_id`` repeats an earlier row of the same file or
  a row already in the store;
* ``accepted``   the remaining valid rows: new rows, stored once.

Strict mode (``strict=True``) with at least one rejected row stores nothing: the counts
still describe the rows (``accepted`` = valid rows that *would* have been stored), the
report has ``stored = False`` and the log entry ``added = 0``. Rejected rows are written to
quarantine and the ingest is logged in every case, so a refused file leaves a trace.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hjo_data import reading, validation
from hjo_data.errors import RowError, UnknownDatasetError, UnreadableFileError
from hjo_data.formatting import fmt_int
from hjo_data.schema import DATASETS, Dataset
from hjo_data.store import Store

__all__ = ["ERROR_LIMIT", "IngestReport", "ingest_file", "resolve_dataset", "swedish_int"]

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
        rejected = _plural(self.rejected, "avvisad", "avvisade")
        return f"{head}: {saved}, {rejected}, {dups}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dataset": self.dataset,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
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
            "message": self.message,
        }


def resolve_dataset(name: str | Dataset) -> Dataset:
    """Dataset by canonical name (or label); UnknownDatasetError with the choices."""
    if isinstance(name, Dataset):
        return name
    key = str(name).strip()
    if key in DATASETS:
        return DATASETS[key]
    for ds in DATASETS.values():
        if key.lower() in (ds.name.lower(), ds.label.lower()):
            return ds
    choices = ", ".join(DATASETS)
    raise UnknownDatasetError(f"Okänd datamängd '{key}'. Välj en av: {choices}.")


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), Path(name).name if name else "uppladdad fil"
    path = Path(source)
    display = Path(name).name if name else path.name
    try:
        return path.read_bytes(), display
    except FileNotFoundError:
        raise UnreadableFileError(f"Filen '{display}' finns inte.") from None
    except IsADirectoryError:
        raise UnreadableFileError(f"'{display}' är en mapp, inte en fil.") from None
    except PermissionError:
        raise UnreadableFileError(f"Saknar behörighet att läsa filen '{display}'.") from None
    except OSError as exc:
        raise UnreadableFileError(
            f"Filen '{display}' kunde inte läsas ({exc.strerror or exc})."
        ) from None


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


def ingest_file(
    source: str | Path | bytes,
    *,
    dataset: str | Dataset | None = None,
    store: Store | None = None,
    strict: bool = False,
    name: str | None = None,
    today: date | None = None,
) -> IngestReport:
    """Read, validate and store one file; rejected rows go to quarantine; the ingest is logged.

    Raises UnreadableFileError (nothing readable / missing file) and UnknownDatasetError
    (unknown ``dataset`` name, or headers matching no dataset); nothing is stored then.
    """
    store = store if store is not None else Store()
    ds = resolve_dataset(dataset) if dataset is not None else None
    data, display = _read_source(source, name)
    sha = hashlib.sha256(data).hexdigest()
    raw = reading.read_raw(data, name=display)
    display = raw.file_name or display
    if ds is None:
        ds = reading.detect_dataset(list(raw.frame.columns))
    checked = validation.validate(raw, ds, today=today)

    accepted_frame = checked.accepted
    rejected = len(checked.rejected)
    valid = len(accepted_frame)
    batch_id = new_batch_id(sha)
    warnings = list(checked.warnings)
    blocked = strict and rejected > 0

    with store.lock():
        if blocked:
            mask, duplicates = store.split_new(ds, accepted_frame)
            accepted = int(mask.sum())
            added = 0
        else:
            added, duplicates = store.append(ds, accepted_frame, batch_id)
            accepted = added
        quarantine = store.write_quarantine(ds, display, checked.rejected)
        report = IngestReport(
            file=display,
            dataset=ds.name,
            rows_read=int(raw.rows_read),
            accepted=accepted,
            rejected=rejected,
            duplicates=duplicates,
            warnings=warnings,
            rejected_file=str(quarantine) if quarantine is not None else None,
            errors=_row_errors(checked.rejected, ERROR_LIMIT),
            batch_id=batch_id,
            sha256=sha,
            encoding=raw.encoding,
            delimiter=raw.delimiter,
            stored=not blocked,
            strict=strict,
        )
        if report.accepted + report.rejected + report.duplicates != report.rows_read:
            report.warnings.append(
                f"Internt räknefel: {swedish_int(valid)} giltiga + "
                f"{swedish_int(rejected)} avvisade rader ≠ {swedish_int(raw.rows_read)} lästa."
            )
        store.log({
            "batch_id": batch_id,
            "file": display,
            "sha256": sha,
            "dataset": ds.name,
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "rows_read": report.rows_read,
            "accepted": report.accepted,
            "rejected": report.rejected,
            "duplicates": report.duplicates,
            "added": added,
            "warnings": len(report.warnings),
            "rejected_file": report.rejected_file,
            "stored": report.stored,
        })
    return report
