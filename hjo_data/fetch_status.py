"""Per-source fetch status for Om data, computed from the fetch log
(``<store>/raw/fetch_log.jsonl``, written by :mod:`hjo_data.fetch`): last fetch, state,
records, skipped and event types missing from the Polisen table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from hjo_data import jsonl
from hjo_data.disclosure import Audience, DisclosureSettings, count_text
from hjo_data.fetch import SOURCE_LABELS, SOURCES, STATES, fetch_log_path
from hjo_data.formatting import fmt_datetime
from hjo_data.store import Store

__all__ = ["SourceStatus", "source_status", "status_table"]

NEVER = "aldrig hämtad"
#: States whose counts describe rows read (a failed fetch read nothing).
_READ = ("ok", "rejected")


@dataclass(frozen=True)
class SourceStatus:
    source: str
    #: Time of the last successful network fetch (an offline re-ingest is not a fetch).
    last_fetch: datetime | None = None
    #: The last entry (fetch or offline re-ingest), None when the log has none.
    last: dict[str, Any] | None = None
    unmapped: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


def _int(entry: dict[str, Any], key: str) -> int:
    try:
        return int(entry.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _local(text: object) -> datetime | None:
    """A logged ISO time as local naive time (None when unreadable)."""
    try:
        return datetime.fromisoformat(str(text)).astimezone().replace(tzinfo=None)
    except ValueError:
        return None


def source_status(store: Store | None = None) -> list[SourceStatus]:
    """One status per known source, in ``fetch.SOURCES`` order."""
    store = store if store is not None else Store()
    entries = jsonl.read(fetch_log_path(store))
    out = []
    for source in SOURCES:
        mine = [e for e in entries if e.get("source") == source]
        fetched = [e for e in mine if not e.get("offline") and _int(e, "requests") > 0
                   and e.get("state") in _READ]
        last_fetch = None
        if fetched:
            try:
                last_fetch = datetime.fromisoformat(str(fetched[-1].get("time")))
            except ValueError:
                last_fetch = None
        last = mine[-1] if mine else None
        unmapped = last.get("unmapped") if last is not None else None
        out.append(SourceStatus(source=source, last_fetch=last_fetch, last=last,
                                unmapped=dict(unmapped) if isinstance(unmapped, dict) else {}))
    return out


def status_table(statuses: list[SourceStatus], audience: Audience,
                 settings: DisclosureSettings | None = None) -> pd.DataFrame:
    """Swedish display table (strings). Counts pass the disclosure gate (``count_text``);
    the free-form message (it may name hosts or files) is shown to officials only."""
    rows = []
    for status in statuses:
        last = status.last or {}
        state = str(last.get("state", ""))
        word = STATES[state][1] if state in STATES else NEVER
        if last.get("offline"):
            word += " (från sparade svar)"
        elif state in _READ and last.get("unchanged") and not last.get("files"):
            word += " (oförändrat sedan förra hämtningen)"
        elif state not in _READ and state in STATES:
            word += f" ({fmt_datetime(_local(last.get('time')))})"
        counted = state in _READ
        reasons = last.get("skipped_reasons") or {}
        skipped = count_text(_int(last, "skipped"), audience, settings) if counted else "–"
        if counted and reasons and isinstance(reasons, dict):
            skipped += " (" + ", ".join(f"{r} {count_text(n, audience, settings)}"
                                        for r, n in reasons.items()) + ")"
        row = {
            "Källa": status.label,
            "Senaste hämtning": fmt_datetime(status.last_fetch.astimezone().replace(
                tzinfo=None)) if status.last_fetch is not None else NEVER,
            "Status": word,
            "Poster (lästa)": count_text(_int(last, "rows_read"), audience, settings)
            if counted else "–",
            "Nya": count_text(_int(last, "accepted"), audience, settings) if counted else "–",
            "Överhoppade": skipped,
            "Okända händelsetyper": ", ".join(sorted(status.unmapped)) or "–",
        }
        if audience == "official":
            row["Meddelande"] = str(last.get("message", "")) or "–"
        rows.append(row)
    return pd.DataFrame(rows, dtype="str")
