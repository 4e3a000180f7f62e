"""Append-only audit log: who logged in, uploaded, registered or withdrew what, and when.

One JSON object per line in ``<store root>/audit_log.jsonl``. The file is only ever opened
in append mode (``O_APPEND``), each entry is written with a single ``write`` under an
exclusive ``flock`` and fsynced, so concurrent sessions never interleave and a crash can at
worst leave a torn last line (skipped when reading; the next entry starts on a new line).
Nothing here deletes or rewrites entries.

Usage (pages/Datahantering)::

    from hjo_data.audit import log_event
    log_event("upload", user.name, role=user.role, dataset="incidents",
              batch_id=report.batch_id, counts={"accepted": 120, "rejected": 3},
              detail=report.file)

Entries never contain passwords or hashes; user names and free text are length-capped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hjo_data import jsonl
from hjo_data.store import AUDIT_LOG_NAME, default_root

__all__ = ["ACTIONS", "ACTION_LABELS_SV", "AUDIT_FIELDS", "audit_path", "log_event",
           "make_entry", "read_audit"]

#: Known actions (other lower-case snake_case actions are accepted too).
ACTIONS: tuple[str, ...] = (
    "login_ok", "login_failed", "logout", "upload", "register", "withdraw", "user_add",
    "export", "import_profile", "replace",
)
ACTION_LABELS_SV: dict[str, str] = {
    "login_ok": "Inloggning",
    "login_failed": "Misslyckad inloggning",
    "logout": "Utloggning",
    "upload": "Uppladdning",
    "register": "Registrering",
    "withdraw": "Återkallad batch",
    "user_add": "Konto skapat",
    "export": "Export av rader",
    "import_profile": "Importprofil sparad",
    "replace": "Ersatta rader (konflikt)",
}
#: Keys of every entry, in order.
AUDIT_FIELDS: tuple[str, ...] = (
    "time", "user", "role", "action", "dataset", "batch_id", "counts", "detail",
)
FILE_NAME = AUDIT_LOG_NAME
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_MAX_TEXT = 500


def audit_path(root: str | Path | Any | None = None) -> Path:
    """``<root>/audit_log.jsonl``; ``root`` may be a Store, a path, or None (default store)."""
    if root is None:
        base = default_root()
    elif isinstance(root, (str, os.PathLike)):
        base = Path(root)
    else:  # a Store (note: a Path has a ``root`` attribute too, hence the order)
        base = Path(root.root)
    return Path(base).expanduser() / FILE_NAME


def _text(value: object, limit: int = _MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _counts(counts: Mapping[str, Any] | None) -> dict[str, int] | None:
    if not counts:
        return None
    out: dict[str, int] = {}
    for k, v in counts.items():
        try:
            out[str(k)[:40]] = int(v)
        except (TypeError, ValueError):
            continue
    return out or None


def make_entry(action: str, user: str | None, *, role: str | None = None,
               dataset: str | None = None, batch_id: str | None = None,
               counts: Mapping[str, Any] | None = None, detail: str | None = None,
               when: datetime | None = None) -> dict[str, Any]:
    """One entry, not written (a store transaction appends it with its commit, see
    ``ingest.commit_ingest(audit_action=...)``). ``time`` is local ISO time (seconds)."""
    if not _ACTION_RE.match(str(action)):
        raise ValueError(f"invalid audit action {action!r}")
    entry: dict[str, Any] = {
        "time": (when or datetime.now()).isoformat(timespec="seconds"),
        "user": _text(user, 128),
        "role": _text(role, 32),
        "action": action,
        "dataset": _text(dataset, 64),
        "batch_id": _text(batch_id, 128),
        "counts": _counts(counts),
        "detail": _text(detail),
    }
    return entry


def log_event(action: str, user: str | None, *, role: str | None = None,
              dataset: str | None = None, batch_id: str | None = None,
              counts: Mapping[str, Any] | None = None, detail: str | None = None,
              root: str | Path | Any | None = None, when: datetime | None = None
              ) -> dict[str, Any]:
    """Append one entry and return it (see :func:`make_entry`)."""
    entry = make_entry(action, user, role=role, dataset=dataset, batch_id=batch_id,
                       counts=counts, detail=detail, when=when)
    jsonl.append(audit_path(root), entry)
    return entry


def read_entries(root: str | Path | Any | None = None) -> list[dict[str, Any]]:
    """All entries, oldest first (torn or non-object lines are skipped)."""
    return jsonl.read(audit_path(root))


def read_audit(root: str | Path | Any | None = None) -> pd.DataFrame:
    """The audit log as a frame (columns ``AUDIT_FIELDS``; ``time`` as datetime64).

    ``counts`` stays a dict per row (None when the entry has none).
    """
    entries = read_entries(root)
    data = {f: [e.get(f) for e in entries] for f in AUDIT_FIELDS}
    frame = pd.DataFrame({f: pd.Series(v, dtype="object") for f, v in data.items()})
    frame["time"] = pd.to_datetime(frame["time"], errors="coerce").astype("datetime64[us]")
    for col in ("user", "role", "action", "dataset", "batch_id", "detail"):
        frame[col] = frame[col].astype("str")  # None -> missing (not the text "None")
    return frame
