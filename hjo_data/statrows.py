"""What the readers of published statistics share (Kolada, BRÅ, FoHM): text decoding and
splitting, number cells as publishers write them, geography cells, indicator slugs, the
promise's configured indicator titles, and :class:`StatRows`, which collects canonical
``statistik`` rows, skipped values and row errors into a :class:`RawTable`.

Unit of counting: one *value* is one row. A wide source row (a BRÅ category with "Antal"
and "/100 000 inv", a Kolada CSV line with two KPI columns) gives one row per value cell;
``rows_read`` counts those, so accepted + rejected + duplicates + skipped = rows_read.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hjo_data import geography
from hjo_data.errors import UnreadableFileError
from hjo_data.promise import load_promise_with_fallback
from hjo_data.rawtable import RawTable, StructuralError
from hjo_data.schema import STATISTIK, normalise_header

__all__ = ["NOT_PUBLISHED", "ConfiguredIndicator", "StatRows", "configured_indicators",
           "decode", "number_cell", "records", "slug"]

#: The skip reason of a value the source does not publish ("..", null, empty).
NOT_PUBLISHED = "ej publicerad"
#: Cells meaning "not published / suppressed" (never zero).
_MISSING = {"", "..", "...", ".", "null", "none", "nan", "na", "n/a", "x", "–", "—"}
#: Cells meaning zero (BRÅ writes "-" for none).
_ZERO = {"-", "0"}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")


def decode(data: bytes, file_name: str, *, legacy: str = "cp1252") -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), else ``legacy`` (BRÅ's text export
    is ISO-8859-1: pass legacy="iso-8859-1")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(legacy), legacy
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{file_name}: Filens teckenkodning kunde inte "
                                  "tolkas.") from exc


#: Bytes a sniffer looks at.
SNIFF_BYTES = 64 * 1024


def head_text(data: bytes, file_name: str) -> str:
    """The decoded start of a file for sniffing, cut after its last complete line."""
    head = data[:SNIFF_BYTES]
    cut = head.rfind(b"\n") + 1 if len(data) > SNIFF_BYTES else len(head)
    return decode(head[:cut] or head, file_name)[0]


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(1-based physical line, fields) of every non-blank record; fields stripped, HTML's
    ``&nbsp;`` (BRÅ's header cells; it holds a ';') read as a space first."""
    text = text.replace("&nbsp;", " ")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if any(f.strip() for f in row):
                yield start, [f.strip() for f in row]
    except csv.Error as exc:
        raise UnreadableFileError(f"Rad {line}: raden kunde inte delas upp i fält "
                                  f"({exc}).") from exc


def delimiter_of(line: str) -> str:
    """The most frequent of ; tab , in a header line (';' on a tie)."""
    counts = {d: line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def number_cell(text: str) -> str | None:
    """A published number as the validator reads it ("1 234,5" -> "1234.5", "-" -> "0"),
    None when the cell means "not published" ("..", empty, null). Anything else comes
    back unchanged, so validation rejects it naming the value."""
    raw = str(text).strip()
    if raw.lower() in _MISSING:
        return None
    if raw in _ZERO:
        return "0"
    compact = _SPACES.sub("", raw)
    if _NUMBER.match(compact):
        return compact.replace(",", ".")
    return raw


def slug(text: str) -> str:
    """Stable indicator id of a source without ids: "Skadegörelsebrott" ->
    "skadegorelsebrott" (å/ä -> a, ö -> o, other characters -> "_")."""
    text = unicodedata.normalize("NFKD", str(text).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "indikator"


def header_key(text: str) -> str:
    return normalise_header(str(text))


@dataclass(frozen=True)
class ConfiguredIndicator:
    """An official indicator the promise names: id, title, unit (for ids and titles a
    data file does not carry)."""

    source: str
    indicator_id: str
    title: str
    unit: str = ""


def configured_indicators() -> list[ConfiguredIndicator]:
    """The promise's official indicators (``Promise.official_indicators()``, when the
    promise has them); [] otherwise."""
    promise = load_promise_with_fallback().promise
    getter = getattr(promise, "official_indicators", None)
    if getter is None:
        return []
    out: list[ConfiguredIndicator] = []
    for ind in getter():
        get = ind.get if isinstance(ind, dict) else lambda k, d="", i=ind: getattr(i, k, d)
        out.append(ConfiguredIndicator(str(get("source", "") or ""),
                                       str(get("indicator_id", "") or ""),
                                       str(get("title", "") or ""), str(get("unit", "") or "")))
    return out


def indicator_by_id(indicator_id: str, source: str | None = None
                    ) -> ConfiguredIndicator | None:
    """The configured indicator with this id (any case; of ``source`` when given)."""
    key = indicator_id.strip().lower()
    return next((c for c in configured_indicators() if c.indicator_id.lower() == key
                 and (source is None or c.source == source)), None)


def _title_core(title: str) -> str:
    """A title without parentheses, as a slug: "Otrygghet ... kvällen (NTU)" and
    "Otrygghet ... kvällen" compare equal."""
    return slug(re.sub(r"\([^)]*\)", " ", title))


def indicator_by_title(title: str, sources: tuple[str, ...] | None = None
                       ) -> ConfiguredIndicator | None:
    """The configured indicator a file's title names (parentheses and case ignored; of
    one of ``sources`` when given)."""
    key = _title_core(title)
    return next((c for c in configured_indicators() if c.title and _title_core(c.title) == key
                 and (sources is None or c.source in sources)), None)


@dataclass
class StatRows:
    """Collects statistik rows (canonical column -> text), skips and row errors."""

    file_name: str
    encoding: str
    delimiter: str
    parser: str
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[StructuralError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def error(self, line: int, column: str, value: str, reason: str, raw: str = "") -> None:
        self.errors.append(StructuralError(line, column, value, reason, raw=raw or value))

    def place(self, line: int, column: str, text: str, raw: str = "", *, values: int = 1
              ) -> geography.Place | None:
        """The geography a cell names; when unknown, one row error (counted as rejected)
        for each of the line's ``values``."""
        place = geography.resolve(text)
        if place is None:
            for _ in range(values):
                self.error(line, column, text, f"Okänd kommun eller region '{text}' i "
                           f"kolumnen '{column}' (varken kommunkod, länskod eller känt namn)",
                           raw)
        return place

    def add(self, line: int, value: str, *, place: geography.Place | None = None,
            **columns: str) -> None:
        """One value: skipped as "ej publicerad" when ``number_cell`` says so, else a row
        (``place`` fills geo_code, geo_name and geo_level)."""
        number = number_cell(value)
        if number is None:
            self.skip(NOT_PUBLISHED)
            return
        row = {**columns, "value": number}
        row["gender"] = row.get("gender") or "T"
        if place is not None:  # a name or level the file gives wins over ours
            row["geo_code"] = place.code
            row["geo_name"] = row.get("geo_name") or place.name
            row["geo_level"] = row.get("geo_level") or place.level
        self.rows.append(row)
        self.lines.append(int(line))

    def table(self) -> RawTable:
        names = STATISTIK.column_names
        frame = pd.DataFrame({name: pd.Series([r.get(name) or "" for r in self.rows],
                                              dtype="str") for name in names})
        return RawTable(self.file_name, frame, np.asarray(self.lines, dtype=np.int64),
                        self.encoding, self.delimiter, list(self.errors), self.parser,
                        list(self.warnings), skipped=dict(self.skipped))
