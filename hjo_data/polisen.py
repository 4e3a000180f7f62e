"""Polisen's public events feed (``https://polisen.se/api/events``) -> incidents rows.

The feed is a JSON array of events (format in docs/SOURCES.md). Every event of the
configured municipality (the promise's ``[municipality]``) becomes one ``incidents`` row with
source ``polis``:

* ``incident_id`` = ``polisen-<event id>``: a re-fetched event is a duplicate, never a
  second row;
* ``occurred_at`` = the event time as Swedish local time without offset (``2023-06-14
  9:41:16 +02:00`` -> ``2023-06-14 09:41:16``), like every other stored time;
* ``category`` from the event-type table ``data/reference/polisen_event_types.csv``
  (type -> category of our vocabulary, or ``skip`` with its reason); a type missing from
  the table is kept as ``övrigt`` with a warning naming it;
* ``area`` = the whole municipality: the feed's ``location.gps`` is the town or county
  centre, never the event's position, so it is not stored at all (no lat/lon);
* ``description`` = the event's summary (free text: personnummer masked, never public).
  The event's ``url`` is not stored (the incidents schema has no column for it); the raw
  response kept by ``fetch`` has it.

Not turned into rows, counted in ``RawTable.skipped``: summaries ("Sammanfattning natt"),
event types the table marks ``skip`` (police controls, information), events in another
municipality and county-level events (``Västra Götalands län``).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from hjo_data.errors import UnreadableFileError
from hjo_data.formatting import fmt_int
from hjo_data.promise import home_municipality, load_promise_with_fallback
from hjo_data.rawtable import RawTable, StructuralError, base_name
from hjo_data.reference import DEFAULT_REFERENCE_DIR, ReferenceDataError, reference_dir
from hjo_data.schema import (
    INCIDENT_CATEGORIES,
    INCIDENT_CATEGORY_SYNONYMS,
    WHOLE_MUNICIPALITY,
    normalise_value,
)

__all__ = [
    "EVENT_TYPES_FILE",
    "FEED_COLUMNS",
    "FeedResult",
    "SKIP",
    "EventType",
    "absolute_url",
    "incident_id",
    "load_event_types",
    "local_time",
    "parse_feed",
    "read_feed",
    "sniff_feed",
]

EVENT_TYPES_FILE = "polisen_event_types.csv"
#: Category value in the event-type table meaning "not an incident: skip it".
SKIP = "skip"
#: Reporter (incidents.source) of every feed row.
SOURCE = "polis"
ID_PREFIX = "polisen-"
BASE_URL = "https://polisen.se"
SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
#: RawTable.frame columns (canonical incidents names, so header mapping is exact).
FEED_COLUMNS = ("incident_id", "occurred_at", "category", "area", "source", "description")
#: Skip reasons of events that are not in the municipality.
OTHER_MUNICIPALITY = "annan kommun"
COUNTY_LEVEL = "länsnivå"
#: The sniff reads only this much of a file (the feed's first event is well inside it).
_SNIFF_BYTES = 4096
_SNIFF_KEYS = (b'"datetime"', b'"type"', b'"location"')


@dataclass(frozen=True)
class EventType:
    """One row of the event-type table."""

    type: str
    category: str  # a value of schema.INCIDENT_CATEGORIES, or SKIP
    note: str = ""  # for SKIP: the reason counted in the report ("sammanfattning", ...)

    @property
    def skipped(self) -> bool:
        return self.category == SKIP


def _type_key(text: str) -> str:
    """Lookup key of an event type: case, spacing and trailing blanks do not matter
    (the feed has "Lagen om hundar och katter " with a trailing space)."""
    return normalise_value(text)


def event_types_path() -> Path:
    """The configured table ($HJO_REFERENCE_DIR), else the packaged one: the table is the
    same for every municipality, so a reference directory without it still works."""
    configured = reference_dir() / EVENT_TYPES_FILE
    return configured if configured.is_file() else DEFAULT_REFERENCE_DIR / EVENT_TYPES_FILE


def load_event_types(path: str | Path | None = None) -> Mapping[str, EventType]:
    """Event-type table: normalised type -> :class:`EventType`. Raises
    ReferenceDataError (Swedish) for a missing file, an unknown category or a skip without
    a reason."""
    file = Path(path) if path is not None else event_types_path()
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as err:
        raise ReferenceDataError(f"Referensfilen {file.name} saknas.") from err
    return _load_event_types(str(file), stamp)


@lru_cache(maxsize=4)
def _load_event_types(file: str, _stamp: int) -> Mapping[str, EventType]:
    name = Path(file).name
    with open(file, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    table: dict[str, EventType] = {}
    for line, row in enumerate(rows, start=2):
        kind = (row.get("type") or "").strip()
        category = (row.get("category") or "").strip()
        note = (row.get("note") or "").strip()
        if not kind:
            continue
        if category != SKIP and category not in INCIDENT_CATEGORIES:
            raise ReferenceDataError(
                f"{name}, rad {line}: okänd kategori '{category}' för '{kind}' (tillåtna: "
                f"{', '.join(INCIDENT_CATEGORIES)} eller {SKIP}).")
        if category == SKIP and not note:
            raise ReferenceDataError(f"{name}, rad {line}: '{kind}' hoppas över men "
                                     "saknar skäl i kolumnen note.")
        table[_type_key(kind)] = EventType(kind, category, note)
    return table


def local_time(stamp: object) -> str | None:
    """``2023-06-14 9:41:16 +02:00`` -> ``2023-06-14 09:41:16`` (Swedish local time, no
    offset); None when the stamp has no parseable offset form. The offset in the feed
    follows summer/winter time, and any other offset is converted to Swedish time."""
    try:
        moment = datetime.strptime(str(stamp).strip(), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None
    return moment.astimezone(SWEDISH_TIME).strftime("%Y-%m-%d %H:%M:%S")


def incident_id(event_id: object) -> str:
    """Stable incident id of a feed event ("" when the event has no id)."""
    text = "" if event_id is None else str(event_id).strip()
    return f"{ID_PREFIX}{text}" if text else ""


def absolute_url(url: object) -> str:
    """The event page as an absolute https URL (the feed has relative URLs in recent
    years, absolute ones in older data); "" for anything else."""
    text = "" if url is None else str(url).strip()
    if text.startswith("/"):
        return BASE_URL + text
    return text if text.startswith(BASE_URL + "/") else ""


def sniff_feed(data: bytes, name: str = "") -> bool:
    """True when ``data`` looks like the feed: a JSON array whose first event has
    ``datetime``, ``type`` and ``location`` (only the first few kB are inspected)."""
    head = bytes(data[:_SNIFF_BYTES]).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[") and all(key in head for key in _SNIFF_KEYS)


@dataclass
class FeedResult:
    """A parsed feed: the rows (as a RawTable) and what was not turned into rows."""

    table: RawTable
    #: Event types missing from the table (kept as "övrigt"): type -> events.
    unmapped: Counter[str] = field(default_factory=Counter)
    #: Newest event time in the municipality (local, "YYYY-MM-DD HH:MM:SS"), if any.
    newest: str | None = None


def _home_names(municipality: str | None) -> set[str]:
    """Location names meaning the configured municipality ("Hjo", "Hjo kommun")."""
    if municipality is None:
        municipality = home_municipality()
        promise = load_promise_with_fallback().promise
        names = {municipality, promise.municipality if promise is not None else ""}
    else:
        names = {municipality}
    keys = {normalise_value(n) for n in names if n and n.strip()}
    if not keys:
        raise UnreadableFileError("Ingen kommun är angiven i medborgarlöftet ([municipality]): "
                                  "Polisens händelser kan inte väljas ut.")
    return keys | {f"{k} kommun" for k in keys if not k.endswith(" kommun")}


def _where_skipped(location: Any, home: set[str]) -> str | None:
    """Skip reason of an event's location, None for the municipality itself."""
    name = location.get("name") if isinstance(location, Mapping) else None
    key = normalise_value(name) if isinstance(name, str) else ""
    if key in home:
        return None
    if key.endswith(" län") or key == "län":
        return COUNTY_LEVEL
    return OTHER_MUNICIPALITY


def _type_skip(kind: str, entry: EventType | None) -> str | None:
    """Skip reason of an event type (None: an incident). A summary type missing from the
    table ("Sammanfattning morgon") is still a summary."""
    if entry is not None:
        return entry.note if entry.skipped else None
    return "sammanfattning" if _type_key(kind).startswith("sammanfattning") else None


def _unmapped_category(kind: str, unmapped: Counter[str]) -> str:
    """Category text of a type missing from the table (counted in ``unmapped``).

    The raw type goes to validation, which stores it as "övrigt" and keeps the text in
    ``category_raw``; a type that happens to be a synonym of our vocabulary is forced to
    "övrigt" (a new type is never mapped by guesswork). An empty type stays empty:
    validation rejects the row (category is required).
    """
    text = kind.strip()
    if not text:
        return ""
    unmapped[text] += 1
    return "övrigt" if normalise_value(text) in INCIDENT_CATEGORY_SYNONYMS else text


def _load_events(data: bytes, file_name: str) -> list[Any]:
    try:
        events = json.loads(bytes(data).decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{file_name}: Polisens händelseflöde är inte UTF-8 "
                                  f"(byte {exc.start}).") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{file_name}: Polisens händelseflöde är inte giltig JSON "
                                  f"(rad {exc.lineno}, kolumn {exc.colno}: {exc.msg}).") from exc
    if not isinstance(events, list):
        raise UnreadableFileError(f"{file_name}: Polisens händelseflöde ska vara en JSON-lista "
                                  "av händelser.")
    return events


def parse_feed(data: bytes, name: str = "polisen.json", *, municipality: str | None = None,
               event_types: Mapping[str, EventType] | None = None) -> FeedResult:
    """Parse the feed into incidents rows of ``municipality`` (default: the promise's).

    ``RawTable.lines`` holds each event's 1-based position in the array (the "rad" of a
    rejection); malformed events (not an object) are structural errors; summaries and
    events elsewhere are counted in ``RawTable.skipped``, so ``rows_read`` = events.
    """
    file_name = base_name(name)
    events = _load_events(data, file_name)
    home = _home_names(municipality)
    table = event_types if event_types is not None else load_event_types()
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    errors: list[StructuralError] = []
    skipped: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    newest: str | None = None
    for position, event in enumerate(events, start=1):
        if not isinstance(event, Mapping):
            text = json.dumps(event, ensure_ascii=False)[:200]
            errors.append(StructuralError(line=position, column="", value=text[:80],
                                          reason="Händelsen är inte ett JSON-objekt.",
                                          raw=text))
            continue
        kind = event.get("type")
        kind = kind if isinstance(kind, str) else ""
        entry = table.get(_type_key(kind))
        reason = _type_skip(kind, entry) or _where_skipped(event.get("location"), home)
        if reason is not None:
            skipped[reason] += 1
            continue
        category = entry.category if entry is not None else _unmapped_category(kind, unmapped)
        stamp = event.get("datetime")
        local = local_time(stamp)
        # an unparseable stamp goes to validation as it is: rejected with its reason
        when = local if local is not None else ("" if stamp is None else str(stamp))
        if local is not None and (newest is None or local > newest):
            newest = local
        summary = event.get("summary")
        rows.append((incident_id(event.get("id")), when, category, WHOLE_MUNICIPALITY, SOURCE,
                     summary.strip() if isinstance(summary, str) else ""))
        lines.append(position)
    frame = pd.DataFrame(rows, columns=list(FEED_COLUMNS), dtype="str") if rows else \
        pd.DataFrame({c: pd.Series([], dtype="str") for c in FEED_COLUMNS})
    raw = RawTable(file_name=file_name, frame=frame, lines=np.asarray(lines, dtype=np.int64),
                   encoding="utf-8", delimiter="", structural_errors=list(errors),
                   parser="polisen", warnings=_warnings(unmapped), skipped=dict(skipped))
    return FeedResult(table=raw, unmapped=unmapped, newest=newest)


def _warnings(unmapped: Counter[str]) -> list[str]:
    if not unmapped:
        return []
    listed = ", ".join(f"'{kind}' ({fmt_int(n)})" for kind, n in sorted(unmapped.items()))
    return [f"Händelsetyper som saknas i {EVENT_TYPES_FILE} sparas som 'övrigt': {listed}. "
            "Lägg till dem i tabellen."]


def read_feed(data: bytes, name: str = "polisen.json") -> RawTable:
    """The source-format reader: :func:`parse_feed` for the promise's municipality."""
    return parse_feed(data, name).table
