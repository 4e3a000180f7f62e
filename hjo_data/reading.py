"""Turn a file's bytes into a :class:`RawTable`: encoding, delimiter, header, line numbers.

Two parsers give identical results:

* a fast path on ``pyarrow.csv`` (multi-threaded, all columns as strings) used whenever the
  file is well-formed: every row has as many fields as the header and there are no blank
  lines (line numbers are then derived from the row index plus the newlines inside quoted
  fields);
* an exact path on Python's ``csv`` module (``reader.line_num``) used as soon as the fast
  path meets anything unusual (wrong field count, blank lines, a single column, ...).

Non-UTF-8 input (UTF-16, cp1252) is transcoded to UTF-8 in memory once, then parsed.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import os
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full, Queue

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from hjo_data import excel, formats, jsontable, matching
from hjo_data.errors import RowError, UnknownDatasetError, UnreadableFileError
from hjo_data.formatting import fmt_int
from hjo_data.rawtable import (
    DEFAULT_MAX_UPLOAD_MB,
    NO_LIMIT,
    FileTooLargeError,
    RawTable,
    Source,
    StructuralError,
    base_name,
    check_size,
    max_upload_bytes,
    source_bytes,
    source_name,
    unique_names,
    unreadable,
)
from hjo_data.schema import DATASETS, Dataset

__all__ = [
    "CsvStream",
    "DEFAULT_MAX_UPLOAD_MB",
    "FileTooLargeError",
    "HeaderMapping",
    "NO_LIMIT",
    "RawTable",
    "Source",
    "StreamFallback",
    "StructuralError",
    "check_size",
    "detect_dataset",
    "map_headers",
    "max_upload_bytes",
    "open_stream",
    "read_bytes",
    "read_raw",
    "safe_file_name",
    "source_bytes",
]

#: Lines named in an encoding / NUL warning before "och N till".
_LINES_NAMED = 10

DELIMITERS = (";", "\t", ",")
#: Bytes decoded up front to sniff the delimiter and read the header.
_SNIFF_BYTES = 64 * 1024
#: Bytes inspected for the "is this a text file" check.
_BINARY_SAMPLE = 8 * 1024
_MAX_RAW_TEXT = 200

_BINARY_MAGIC = {
    b"PK\x03\x04": "Filen verkar vara en Excel-arbetsbok (.xlsx) eller ett zip-arkiv. "
    "Spara den som CSV (semikolonavgränsad) i Excel och försök igen.",
    b"%PDF": "Filen är en PDF, inte en CSV-fil.",
    b"\x89PNG": "Filen är en bild (PNG), inte en CSV-fil.",
    b"\xff\xd8\xff": "Filen är en bild (JPEG), inte en CSV-fil.",
}
_NOT_TEXT = "Filen ser inte ut att vara en textfil (CSV)."

# Control bytes that never occur in a text file (tab, LF, VT, FF, CR and ESC excluded).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def _cp1252_c1(err: UnicodeError) -> tuple[str, int]:
    """Decode the five bytes cp1252 leaves undefined as the C1 control they stand for
    (what Windows itself does) instead of failing."""
    assert isinstance(err, UnicodeDecodeError)
    return "".join(chr(b) for b in err.object[err.start : err.end]), err.end


codecs.register_error("hjo_cp1252_c1", _cp1252_c1)


# --------------------------------------------------------------------------- data types


@dataclass
class HeaderMapping:
    columns: dict[str, str]
    unknown: list[str]
    missing_required: list[str]
    #: Uncertain suggestions (``matching.HeaderMatch``) for unknown headers: not used.
    uncertain: list[matching.HeaderMatch] = field(default_factory=list)


class _Fallback(Exception):
    """The fast path cannot produce an exact result; use the Python csv path."""


class _ExactOnly(_Fallback):
    """Not even the tolerant fast path fits (an unterminated quote may have swallowed
    lines): go straight to the exact path."""


class _NotUtf8(Exception):
    """The payload is not valid UTF-8 after all; transcode from cp1252 and retry."""


@dataclass
class _Layout:
    delimiter: str
    header: list[str]  # cleaned, unique column names
    raw_header: list[str]  # the header record's fields exactly as parsed
    skip_lines: int  # physical lines before the header record ("sep=;" line)


# --------------------------------------------------------------------------- public API


def read_raw(source: Source, *, name: str | None = None, sheet: str | int | None = None,
             max_bytes: int | None = None) -> RawTable:
    """Read a CSV/text file or an .xlsx workbook (path, bytes or file-like) into a
    :class:`RawTable`.

    The size is checked first (``max_bytes``, default :func:`max_upload_bytes`).
    Raises :class:`UnreadableFileError` (Swedish message naming the file) when nothing can
    be read: missing/empty/too large file, binary content, no header row, zip bomb.
    ``sheet`` picks an Excel sheet by name or 0-based index (default: the first).
    """
    file_name = base_name(name if name is not None else source_name(source))
    data = source_bytes(source, name=file_name, max_bytes=max_bytes)
    return read_bytes(data, name=file_name, sheet=sheet)


def read_bytes(data: bytes, *, name: str, sheet: str | int | None = None,
               dataset: str | None = None) -> RawTable:
    """Like :func:`read_raw` for bytes already read and size-checked. A zip (or a name
    ending in .xlsx) or an OLE2 file (.xls) goes to :mod:`hjo_data.excel`, JSON (a .json
    name or content starting with ``[``/``{``) to :mod:`hjo_data.jsontable`; a recognised
    source format (:mod:`hjo_data.formats`; with ``dataset`` only that dataset's formats)
    to its own reader first."""
    file_name = base_name(name)
    fmt = formats.sniff(data, file_name, dataset)
    if fmt is not None:
        table = fmt.read(data, file_name)
        table.source_format = fmt.name
        return table
    if excel.is_ole2(data):
        return excel.read_xls(bytes(data), name=file_name, sheet=sheet)
    if data[:4] == b"PK\x03\x04" or (_is_excel(file_name) and data):
        return excel.read_excel(bytes(data), name=file_name, sheet=sheet)
    if data and jsontable.looks_like_json(data, file_name):
        return jsontable.read_json(bytes(data), name=file_name)
    return _read_raw(data, name=file_name, allow_fast=True)


def safe_file_name(name: str | None) -> str:
    """Base name only, characters outside [A-Za-z0-9._-åäöÅÄÖ] replaced by '_' (for
    quarantine file names and logs)."""
    base = base_name(name)
    cleaned = re.sub(r"[^0-9A-Za-zÅÄÖåäö._-]+", "_", base).strip("._")
    return cleaned[:120] or "fil"


def _is_excel(name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm"))


def map_headers(headers: Iterable[str], dataset: Dataset) -> HeaderMapping:
    """Map original headers onto ``dataset``'s canonical columns by meaning
    (``matching.suggest_columns``: known names after normalisation, units such as "(%)"
    dropped, standard survey question texts).

    Only certain matches are used; a column goes to its surest header (the first on a tie),
    later ones are reported as unknown. Uncertain suggestions for unknown headers are
    kept in ``uncertain`` (a refusal names them).
    """
    headers = [str(h) for h in headers]
    matches = matching.suggest_columns(headers, dataset)
    owner: dict[str, int] = {}
    for i, match in enumerate(matches):
        if match.certain and match.column is not None:
            j = owner.get(match.column)
            if j is None or match.confidence > matches[j].confidence:
                owner[match.column] = i
    winners = {i: column for column, i in owner.items()}
    columns: dict[str, str] = {}
    unknown: list[str] = []
    for i, header in enumerate(headers):
        if i in winners and header not in columns:
            columns[header] = winners[i]
        else:
            unknown.append(header)
    taken = set(columns.values())
    missing = [c for c in dataset.required if c not in taken]
    uncertain = [m for m in matches if m.header in unknown and m.column is not None
                 and not m.certain and m.column not in taken]
    return HeaderMapping(columns=columns, unknown=unknown, missing_required=missing,
                         uncertain=uncertain)


def detect_dataset(headers: Iterable[str]) -> Dataset:
    """Pick the dataset a file belongs to from its headers.

    Candidates are datasets whose signature columns are all present; among them the one
    mapping most columns wins. Within the survey family the more specific layout wins:
    micro-data with a safety answer beats the youth table, which beats the aggregated survey.
    """
    headers = [str(h) for h in headers]
    candidates: dict[str, tuple[int, int, int]] = {}
    hints: list[str] = []
    for order, dataset in enumerate(DATASETS.values()):
        mapping = map_headers(headers, dataset)
        mapped = set(mapping.columns.values())
        if all(sig in mapped for sig in dataset.signature):
            candidates[dataset.name] = (len(mapped), -len(mapping.missing_required), -order)
        hints.extend(
            f"'{m.header.strip()}' liknar '{dataset.column(m.column).label}' i "
            f"{dataset.label} ({m.reason}, säkerhet {round(m.confidence * 100)} %)"
            for m in mapping.uncertain if m.column in dataset.signature)
    if "survey_responses" in candidates:
        candidates.pop("youth", None)
        candidates.pop("survey", None)
    if "youth" in candidates:
        candidates.pop("survey", None)
    if not candidates:
        found = ", ".join(f"'{h}'" for h in headers if h.strip()) or "(inga)"
        known = "; ".join(
            f"{d.label} (kräver {', '.join(d.column(s).label for s in d.signature)})"
            for d in DATASETS.values()
        )
        raise UnknownDatasetError(
            "Kunde inte avgöra vilken sorts data filen innehåller. "
            f"Kolumnrubriker i filen: {found}. Kända datamängder: {known}."
            + (" Osäkra tolkningar (används inte utan bekräftelse): " + "; ".join(hints)
               + ". Byt namn på kolumnen, använd importguiden eller en importprofil."
               if hints else "")
        )
    best = max(candidates, key=lambda name: candidates[name])
    return DATASETS[best]


# --------------------------------------------------------------------------- reading


def _load(source: str | Path | bytes, file_name: str) -> pa.Buffer:
    if isinstance(source, bytes | bytearray | memoryview):
        return pa.py_buffer(bytes(source) if not isinstance(source, bytes) else source)
    path = Path(source)
    try:
        if path.is_dir():
            raise unreadable(file_name, "Sökvägen är en mapp, inte en fil.")
        with pa.OSFile(str(path)) as handle:
            return handle.read_buffer()
    except UnreadableFileError:
        raise
    except FileNotFoundError as exc:
        raise unreadable(file_name, "Filen hittades inte.") from exc
    except (OSError, pa.ArrowException) as exc:
        if not path.exists():
            raise unreadable(file_name, "Filen hittades inte.") from exc
        raise unreadable(file_name, "Filen kunde inte öppnas.") from exc


def _read_raw(source: str | Path | bytes, *, name: str | None, allow_fast: bool) -> RawTable:
    if name is None and not isinstance(source, bytes | bytearray | memoryview):
        name = str(source)
    file_name = base_name(name)
    buf = _load(source, file_name)
    if buf.size == 0:
        raise unreadable(file_name, "Filen är tom.")

    encoding, payload = _initial_payload(buf, file_name)
    warnings = _nul_warning(buf) if encoding != "utf-16" else []
    try:
        table = _read_payload(payload, encoding, file_name, allow_fast)
    except _NotUtf8:
        raw = memoryview(buf).tobytes()
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        text, mixed = _decode_lines(raw)
        payload = _strip_nul(pa.py_buffer(text.encode("utf-8")))
        table = _read_payload(payload, "cp1252" if not mixed else "utf-8+cp1252",
                              file_name, allow_fast)
        if mixed:
            warnings.append(
                f"Blandad teckenkodning: {_lines_text(mixed)} är inte UTF-8 och lästes som "
                "Windows-1252 (övriga rader som UTF-8). Kontrollera å, ä och ö på de raderna."
            )
    table.warnings = warnings + table.warnings
    return table


def _lines_text(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_LINES_NAMED])
    more = len(lines) - _LINES_NAMED
    word = "rad" if len(lines) == 1 else "raderna"
    return f"{word} {shown}" + (f" och {fmt_int(more)} till" if more > 0 else "")


_ESCAPED = re.compile("[\udc80-\udcff]")


def _decode_lines(raw: bytes) -> tuple[str, list[int]]:
    """Decode line by line: UTF-8 where valid, else cp1252. Returns (text, 1-based lines
    decoded as cp1252) — the list is empty unless some other line is non-ASCII UTF-8, i.e.
    unless the file really mixes encodings (a plain cp1252 file gives [])."""
    if not _may_hold_utf8(raw):  # no UTF-8 sequence at all: plain cp1252 (fast)
        return raw.decode("cp1252", errors="hjo_cp1252_c1"), []
    # Undecodable bytes become lone surrogates; only the lines holding one are re-decoded.
    text = raw.decode("utf-8", errors="surrogateescape")
    lines = list(io.StringIO(text, newline=""))  # splits on \r\n, \n, \r only
    cp_lines: list[int] = []
    utf8_non_ascii = False
    for index, line in enumerate(lines):
        if _ESCAPED.search(line) is not None:
            lines[index] = line.encode("utf-8", errors="surrogateescape").decode(
                "cp1252", errors="hjo_cp1252_c1")
            cp_lines.append(index + 1)
        elif not utf8_non_ascii and not line.isascii():
            utf8_non_ascii = True
    return "".join(lines), (cp_lines if utf8_non_ascii else [])


def _may_hold_utf8(raw: bytes) -> bool:
    """True when some lead byte (0xC2-0xF4) is followed by a continuation byte (0x80-0xBF):
    a UTF-8 multi-byte sequence may be present (in cp1252 text, å/ä/ö are followed by
    ASCII, so a plain cp1252 file answers False)."""
    arr = np.frombuffer(raw, dtype=np.uint8)
    lead = np.flatnonzero(arr[:-1] >= 0xC2)
    lead = lead[arr[lead] <= 0xF4]
    follow = arr[lead + 1]
    return bool(((follow >= 0x80) & (follow <= 0xBF)).any())


def _nul_warning(buf: pa.Buffer) -> list[str]:
    if not _contains_byte(buf, 0):
        return []
    arr = np.frombuffer(buf, dtype=np.uint8)
    nul = np.flatnonzero(arr == 0)
    newline = np.flatnonzero(arr == 10)
    if newline.size == 0:
        newline = np.flatnonzero(arr == 13)
    lines = np.unique(np.searchsorted(newline, nul) + 1).tolist()
    return [f"NUL-tecken (tecken 0) togs bort på {_lines_text(lines)}; raderna behölls."]


def _initial_payload(buf: pa.Buffer, file_name: str) -> tuple[str, pa.Buffer]:
    """Return (encoding, UTF-8 payload without BOM and NUL bytes).

    UTF-8 without BOM is tentative: only the sniffed prefix is checked here; the parsers
    raise ``_NotUtf8`` when a later byte is invalid.
    """
    head = memoryview(buf)[:_BINARY_SAMPLE].tobytes()
    for magic, message in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise unreadable(file_name, message)

    utf16 = _utf16_codec(head)
    if utf16 is not None:
        raw = memoryview(buf).tobytes()
        if len(raw) % 2:  # a truncated last byte must not make the whole file unreadable
            raw = raw[:-1]
        try:
            text = raw.decode(utf16)
        except UnicodeDecodeError as exc:
            raise unreadable(file_name, _NOT_TEXT) from exc
        text = text.lstrip("\ufeff")
        if _looks_binary(text[:_BINARY_SAMPLE].encode("utf-8", errors="replace")):
            raise unreadable(file_name, _NOT_TEXT)
        return "utf-16", pa.py_buffer(text.replace("\x00", "").encode("utf-8"))

    if _looks_binary(head):
        raise unreadable(file_name, _NOT_TEXT)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _strip_nul(buf.slice(3))
    return "utf-8", _strip_nul(buf)


def _utf16_codec(head: bytes) -> str | None:
    """Codec for UTF-16 input: by BOM, else by the NUL pattern of mostly-ASCII text."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"  # the codec reads the BOM and picks the byte order
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0) / (len(sample) // 2)
    odd_nul = sample[1::2].count(0) / (len(sample) // 2)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return bad > 8 and bad > 0.05 * len(sample)


def _strip_nul(buf: pa.Buffer) -> pa.Buffer:
    if not _contains_byte(buf, 0):
        return buf
    return pa.py_buffer(memoryview(buf).tobytes().replace(b"\x00", b""))


def _contains_byte(buf: pa.Buffer, value: int) -> bool:
    if buf.size == 0:
        return False
    arr = np.frombuffer(buf, dtype=np.uint8)
    step = 1 << 22  # scan in 4 MB slices so an early hit returns early
    return any(bool((arr[i : i + step] == value).any()) for i in range(0, arr.size, step))


def _read_payload(payload: pa.Buffer, encoding: str, file_name: str, allow_fast: bool
                  ) -> RawTable:
    layout = _sniff(payload, file_name)
    if allow_fast:
        # Multi-threaded first; a file with bad rows is re-read single-threaded, where
        # pyarrow reports each bad row's position, so line numbers stay exact.
        for tolerant in (False, True):
            try:
                frame, lines, errors = _fast_path(payload, layout, tolerant=tolerant)
            except _ExactOnly:
                break
            except _Fallback:
                continue
            return RawTable(file_name, frame, lines, encoding, layout.delimiter, errors,
                            "pyarrow")
    try:
        text = memoryview(payload).tobytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotUtf8 from exc
    frame, lines, errors = _slow_path(text, layout)
    return RawTable(file_name, frame, lines, encoding, layout.delimiter, errors, "python")


# --------------------------------------------------------------------------- sniffing

_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
_VALUE_LIKE = re.compile(r"^[\d\s.,:;/+%-]+$")


def _sniff(payload: pa.Buffer, file_name: str) -> _Layout:
    """Find the delimiter and the header record from the start of the payload."""
    prefix = memoryview(payload)[:_SNIFF_BYTES].tobytes()
    complete = payload.size <= _SNIFF_BYTES
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(prefix, final=complete)
    except UnicodeDecodeError as exc:
        raise _NotUtf8 from exc
    if not text.strip():
        if complete:
            raise unreadable(file_name, "Filen är tom.")
        # A huge blank prefix: sniff on the whole file (rare, correctness over speed).
        try:
            text = memoryview(payload).tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotUtf8 from exc
        if not text.strip():
            raise unreadable(file_name, "Filen är tom.")
        complete = True
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut > 0 else text

    lines = text.splitlines(keepends=True)
    skip = 0
    forced = None
    if lines:
        sep = _SEP_LINE.match(lines[0])
        if sep and sep.group(1) in DELIMITERS:
            forced, skip = sep.group(1), 1
    body = "".join(lines[skip:])

    best: tuple[tuple[int, float, int, int], str, list[str]] | None = None
    for rank, delim in enumerate(DELIMITERS):
        if forced is not None and delim != forced:
            continue
        records = _first_records(body, delim, limit=30, drop_last=not complete)
        if not records:
            continue
        header = records[0]
        width = len(header)
        rows = records[1:]
        consistency = (sum(len(r) == width for r in rows) / len(rows)) if rows else 1.0
        score = (int(width > 1), consistency, width, -rank)
        if best is None or score > best[0]:
            best = (score, delim, header)
    if best is None:
        raise unreadable(file_name, "Filen saknar rubrikrad.")
    _, delimiter, header = best
    cleaned = [h.replace("\ufeff", "").strip() for h in header]
    if not any(cleaned):
        raise unreadable(file_name, "Filen saknar rubrikrad (första raden är tom).")
    if all(_VALUE_LIKE.match(h) for h in cleaned if h):
        preview = delimiter.join(cleaned)[:80]
        raise unreadable(
            file_name,
            f"Filen saknar rubrikrad – första raden innehåller värden ({preview}). "
            "Lägg till en rad med kolumnrubriker överst.",
        )
    return _Layout(
        delimiter=delimiter, header=unique_names(cleaned), raw_header=header, skip_lines=skip
    )


def _first_records(text: str, delimiter: str, *, limit: int, drop_last: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    records: list[list[str]] = []
    try:
        for row in reader:
            if _is_blank(row):
                continue
            records.append(row)
            if len(records) > limit:
                break
    except csv.Error:
        pass
    if drop_last and len(records) > 1 and len(records) <= limit:
        records.pop()  # may be cut off mid-record by the sniff window
    return records


def _is_blank(row: list[str]) -> bool:
    """Blank lines and rows of only empty fields (";;;;" left by Excel) are not rows."""
    if not row:
        return True
    if len(row) == 1:
        return not row[0].strip()
    return all(f == "" for f in row)


# --------------------------------------------------------------------------- fast path


def _fast_path(payload: pa.Buffer, layout: _Layout, *, tolerant: bool
               ) -> tuple[pd.DataFrame, np.ndarray, list[RowError]]:
    """Parse with pyarrow. Not tolerant: multi-threaded, any bad row aborts (``_Fallback``).
    Tolerant: single-threaded, bad rows are collected with their row number."""
    width = len(layout.header)
    if width < 2 or (tolerant and layout.skip_lines):
        raise _Fallback
    # Blank lines come back from pyarrow (ignore_empty_lines=False) as rows of empty
    # fields: they keep the row index in step with physical lines and are dropped below.
    quoted = _contains_byte(payload, ord('"'))
    names = [f"f{i}" for i in range(width)]
    aborted: list[bool] = []
    bad: list[tuple[int, str]] = []  # (1-based row number incl. header, raw text)

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        if not tolerant or row.number is None:
            aborted.append(True)
            return "error"
        if row.text.count('"') % 2:  # maybe an unterminated quote: exact path decides
            aborted.append(True)
            return "error"
        bad.append((row.number, row.text))
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(payload),
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=layout.skip_lines, use_threads=not tolerant
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=quoted,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if not aborted and not _is_valid_utf8(payload):
            raise _NotUtf8 from exc
        raise _Fallback from exc
    if aborted or table.num_rows == 0:
        raise _Fallback
    first = [table.column(i)[0].as_py() for i in range(width)]
    if first != layout.raw_header:  # e.g. a ";;;" line above the header
        raise _Fallback

    # Every record in file order: parsed rows (header first) and bad rows interleaved.
    total = table.num_rows + len(bad)
    is_bad = np.zeros(total, dtype=bool)
    bad_pos = np.fromiter((number - 1 for number, _ in bad), dtype=np.int64, count=len(bad))
    if bad_pos.size and (bad_pos.min() < 1 or bad_pos.max() >= total
                         or np.unique(bad_pos).size != bad_pos.size):
        raise _Fallback  # row numbering not as expected: let the exact path decide
    is_bad[bad_pos] = True
    breaks = np.zeros(total, dtype=np.int64)
    if quoted:  # line breaks can only hide inside quoted fields
        breaks[~is_bad] = _embedded_line_breaks(table)
        if _quote_may_swallow(payload, table, breaks[~is_bad], layout.delimiter):
            raise _ExactOnly
        breaks[bad_pos] = [_count_line_breaks(text) for _, text in bad]
    # The header record starts right after the skipped lines ("sep=;").
    starts = np.arange(layout.skip_lines + 1, layout.skip_lines + 1 + total, dtype=np.int64)
    if quoted and breaks.any():
        starts[1:] += np.cumsum(breaks[:-1], dtype=np.int64)

    errors: list[RowError] = []
    for pos, (_, text) in zip(bad_pos.tolist(), bad, strict=True):
        fields = _split_record(text, layout.delimiter)
        if _is_blank(fields):
            continue
        errors.append(_field_count_error(int(starts[pos]), text, len(fields), width,
                                         fields))

    table = table.slice(1)
    lines = starts[~is_bad][1:] if bad_pos.size else starts[1:]
    keep = _non_empty_rows(table)
    if keep is not None:
        table = table.filter(pa.array(keep))
        lines = lines[keep]
    frame = _to_frame(table.rename_columns(layout.header))
    return frame, lines, errors


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _quote_may_swallow(payload: pa.Buffer, table: pa.Table, breaks: np.ndarray,
                       delimiter: str) -> bool:
    """Could an unterminated quote have swallowed lines? An odd number of quote
    characters, or a value with a line break that holds a record's worth of delimiters.
    Then the exact path decides (see ``_swallowed``); well-formed files stay fast."""
    if int(np.count_nonzero(np.frombuffer(payload, dtype=np.uint8) == ord('"'))) % 2:
        return True
    return _record_in_value(table, breaks, delimiter)


def _record_in_value(table: pa.Table, breaks: np.ndarray, delimiter: str) -> bool:
    """A value with a line break holding a whole record's worth of delimiters (the sign
    of an unterminated quote that swallowed the following lines)."""
    multi = np.flatnonzero(breaks)
    if multi.size == 0 or table.num_columns < 2:
        return False
    index = pa.array(multi)
    for column in table.columns:
        values = pc.take(column, index)
        many = pc.and_(pc.greater_equal(pc.count_substring(values, delimiter),
                                        table.num_columns - 1),
                       pc.match_substring_regex(values, "[\r\n]"))
        if pc.any(many).as_py():
            return True
    return False


def _count_line_breaks(text: str) -> int:
    return len(_LINE_BREAK.findall(text.rstrip("\r\n")))


def _split_record(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    try:
        return next(reader, [])
    except csv.Error:
        return [text]


def _field_count_error(line: int, raw: str, found: int, expected: int,
                       fields: Iterable[str] = ()) -> RowError:
    raw = raw.rstrip("\r\n")
    return StructuralError(line, "", raw[:_MAX_RAW_TEXT],
                           f"Fel antal fält: {found} i stället för {expected}",
                           raw=raw, fields=tuple(fields))


def _is_valid_utf8(buf: pa.Buffer) -> bool:
    offsets = pa.py_buffer(np.array([0, buf.size], dtype=np.int64).tobytes())
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buf])
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _string_chunks(column: pa.ChunkedArray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(offsets, data) numpy views of each large_string chunk, without copying."""
    for chunk in column.chunks:
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(
            0, dtype=np.uint8
        )
        yield offsets, data


def _embedded_line_breaks(table: pa.Table) -> np.ndarray:
    """Physical line breaks inside each row's fields: \r\n, \n or a lone \r (the line
    ends Python's universal newlines recognise), found with one numpy pass per column."""
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        row0 = 0
        for offsets, data in _string_chunks(column):
            n = offsets.size - 1
            start = int(offsets[0]) if n else 0
            seg = data[start : int(offsets[-1])] if n else data[:0]
            hits = np.flatnonzero(seg < 14)  # \n = 10, \r = 13; tabs etc. filtered below
            if hits.size:
                values = seg[hits]
                breaks = hits[values == 10]
                cr = hits[values == 13]
                if cr.size:
                    cr_rows = np.searchsorted(offsets, cr + start, side="right") - 1
                    nxt = cr + 1
                    same_value = nxt + start < offsets[cr_rows + 1]
                    followed_by_lf = np.zeros(cr.size, dtype=bool)
                    followed_by_lf[same_value] = seg[nxt[same_value]] == 10
                    breaks = np.concatenate([breaks, cr[~followed_by_lf]])
                if breaks.size:
                    rows = np.searchsorted(offsets, breaks + start, side="right") - 1
                    total[row0 : row0 + n] += np.bincount(rows, minlength=n)
            row0 += n
    return total


def _value_lengths(column: pa.ChunkedArray) -> np.ndarray:
    parts = [np.diff(offsets) for offsets, _ in _string_chunks(column)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _empty_values(column: pa.ChunkedArray) -> np.ndarray:
    """True where a value is empty (equal neighbouring offsets; no length array built)."""
    parts = [offsets[1:] == offsets[:-1] for offsets, _ in _string_chunks(column)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _non_empty_rows(table: pa.Table) -> np.ndarray | None:
    """Mask of rows with at least one non-empty field, or None when all rows qualify."""
    if table.num_rows == 0 or table.num_columns == 0:
        return None
    empty = _empty_values(table.column(0))
    candidates = np.flatnonzero(empty)
    if candidates.size == 0:
        return None
    for column in table.columns[1:]:
        lengths = _value_lengths(column)
        empty[candidates[lengths[candidates] != 0]] = False
        candidates = np.flatnonzero(empty)
        if candidates.size == 0:
            return None
    return ~empty


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for name in frame.columns:
        if frame[name].dtype != "str":  # defensive: always str dtype, even for 0 rows
            frame[name] = frame[name].astype("str")
    return frame


# --------------------------------------------------------------------------- exact path


def _open_quote(line: str, delimiter: str) -> tuple[int, int] | None:
    """(field index, 1-based character position) of a quote that opens a field on
    ``line`` and is still open at the line's end; None when every quote closes. Follows
    the csv rules: a quote opens a field only at its start, "" inside quotes is a quote."""
    field, start, in_quotes, opened = 0, True, False, 0
    i, text = 0, line.rstrip("\r\n")
    while i < len(text):
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    in_quotes = False
        elif ch == delimiter:
            field, start = field + 1, True
            i += 1
            continue
        elif ch == '"' and start:
            in_quotes, opened = True, i + 1
        start = False
        i += 1
    return (field, opened) if in_quotes else None


def _swallowed(row: list[str], raw: str, width: int, delimiter: str, at_end: bool) -> bool:
    """Did a quote opened on a record's first line swallow the lines after it? True when
    the quote never closes (end of file inside quotes), or when a line inside a quoted
    value holds a whole record's worth of delimiters (width - 1): a value with line breaks
    does not contain full records. A multi-line value in an otherwise odd record stays one
    record (wrong field count), as before."""
    if at_end and raw.count('"') % 2:
        return True
    if width < 2:
        return False
    for value in row:
        parts = _LINE_BREAK.split(value)
        if len(parts) > 1 and any(p.count(delimiter) >= width - 1 for p in parts[1:]):
            return True
    return False


def _unterminated_quote_error(line_no: int, line: str, layout: _Layout, where: tuple[int, int],
                              swallowed: int) -> StructuralError:
    field, char = where
    text = line.rstrip("\r\n")
    header = layout.header[field] if field < len(layout.header) else f"Kolumn {field + 1}"
    following = "rad" if swallowed == 1 else "rader"
    reason = (f'Citattecknet (") som börjar fältet i kolumnen \'{header}\' (tecken {char}) '
              f"avslutas aldrig på raden – det skulle ha slukat {fmt_int(swallowed)} följande "
              f"{following}. Raden läses inte in; raderna efter den läses som vanligt. "
              "Ta bort citattecknet eller lägg till det avslutande.")
    fields = next(csv.reader([text], delimiter=layout.delimiter, quoting=csv.QUOTE_NONE), [])
    return StructuralError(line_no, header, text[:_MAX_RAW_TEXT], reason, raw=text,
                           fields=tuple(fields) if len(fields) <= len(layout.header) else ())


def _slow_path(text: str, layout: _Layout) -> tuple[pd.DataFrame, np.ndarray, list[RowError]]:
    """Python csv, record by record, with exact physical line numbers. A record whose
    first line opens a quote that swallows the following lines (see :func:`_swallowed`)
    becomes a structural error on that line alone; the lines after it are read again."""
    physical = io.StringIO(text, newline="").readlines()
    position = layout.skip_lines  # index of the next physical line to hand to the reader
    pending: list[int] = []       # indices of lines pushed back (re-read after a swallow)
    consumed: list[int] = []

    def physical_lines() -> Iterator[str]:
        nonlocal position
        while True:
            if pending:
                index = pending.pop(0)
            elif position < len(physical):
                index = position
                position += 1
            else:
                return
            consumed.append(index)
            yield physical[index]

    def new_reader() -> Iterator[list[str]]:
        return csv.reader(physical_lines(), delimiter=layout.delimiter, quotechar='"',
                          doublequote=True)

    reader = new_reader()
    width = len(layout.header)
    columns: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    errors: list[RowError] = []
    header_seen = False
    while True:
        consumed.clear()
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if not consumed:
                break
            raw = "".join(physical[i] for i in consumed).rstrip("\r\n")
            errors.append(StructuralError(consumed[0] + 1, "", raw[:_MAX_RAW_TEXT],
                                          f"Raden kunde inte delas upp i fält ({exc}).",
                                          raw=raw))
            continue
        start = consumed[0] + 1
        raw = "".join(physical[i] for i in consumed)
        if len(consumed) > 1:
            where = _open_quote(physical[consumed[0]], layout.delimiter)
            at_end = not pending and position >= len(physical)
            if where is not None and _swallowed(row, raw, width, layout.delimiter, at_end):
                if header_seen:
                    errors.append(_unterminated_quote_error(
                        start, physical[consumed[0]], layout, where, len(consumed) - 1))
                pending[:0] = consumed[1:]
                reader = new_reader()  # the old one may have seen the end of the file
                continue
        if _is_blank(row):
            continue
        if not header_seen:
            header_seen = True
            continue
        if len(row) != width:
            errors.append(_field_count_error(start, raw, len(row), width, row))
            continue
        for target, value in zip(columns, row, strict=True):
            target.append(value)
        lines.append(start)
    table = pa.table(
        [pa.array(values, type=pa.large_string()) for values in columns], names=layout.header
    )
    return _to_frame(table), np.asarray(lines, dtype=np.int64), errors


# --------------------------------------------------------------------------- streaming

#: Rows per chunk of a streamed CSV file (env HJO_INGEST_CHUNK_ROWS overrides it and
#: streams every plain CSV file, whatever its size: tests use tiny chunks).
CHUNK_ROWS = 200_000
#: Plain CSV files at least this large are streamed by ``ingest_file`` (smaller ones are
#: read whole: one chunk anyway, and the whole-file reader handles every oddity).
STREAM_MIN_BYTES = 16 << 20
#: pyarrow's parse block (bytes); a record longer than this falls back to whole-file.
_STREAM_BLOCK = 4 << 20
_SCAN_BLOCK = 4 << 20


class StreamFallback(Exception):
    """The file needs the whole-file reader: a row with the wrong number of fields, an
    encoding other than UTF-8, NUL bytes, an unterminated quote, ... Whatever was
    streamed must be thrown away (the ingest's transaction is aborted)."""


def chunk_rows_setting() -> int | None:
    """$HJO_INGEST_CHUNK_ROWS as a positive int, or None."""
    text = os.environ.get("HJO_INGEST_CHUNK_ROWS", "").strip()
    try:
        value = int(text) if text else 0
    except ValueError:
        return None
    return value if value > 0 else None


class CsvStream:
    """A plain UTF-8 CSV file read chunk by chunk (:meth:`chunks`), each chunk a
    :class:`RawTable` with the whole-file reader's frame and exact physical line numbers
    (quoted line breaks counted across chunks). The SHA-256 of the file and a scan for
    NUL bytes and unbalanced quotes run on a second thread (:meth:`sha256`).

    Only files the whole-file fast path would read unchanged are streamed; anything else
    raises :class:`StreamFallback` (at any chunk, or in :meth:`sha256`)."""

    def __init__(self, path: Path, file_name: str, encoding: str, layout: _Layout,
                 chunk_rows: int) -> None:
        self.path = path
        self.file_name = file_name
        self.encoding = encoding
        self.delimiter = layout.delimiter
        self.headers = list(layout.header)
        self.chunk_rows = max(1, int(chunk_rows))
        self._layout = layout
        self._scan: ThreadPoolExecutor | None = None
        self._scan_result: Future[tuple[str, int, bool]] | None = None
        self.rows = 0

    def _start_scan(self) -> None:
        self._scan = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._scan_result = self._scan.submit(_scan_file, self.path)

    def sha256(self) -> str:
        """The file's SHA-256 (waits for the scan); raises StreamFallback when the file
        holds NUL bytes or an odd number of quote characters (the whole-file reader's
        cases: NUL warning, unterminated quote)."""
        if self._scan_result is None:
            self._start_scan()
        assert self._scan_result is not None and self._scan is not None
        try:
            sha, quotes, nul = self._scan_result.result()
        finally:
            self._scan.shutdown()
        if nul or quotes % 2:
            raise StreamFallback("NUL bytes or an unterminated quote")
        return sha

    def chunks(self) -> Iterator[RawTable]:
        """The chunks in file order; the next one is read on a second thread while the
        caller works on the current one (parsing and validating overlap on two cores)."""
        done = threading.Event()
        queue: Queue[tuple[str, object]] = Queue(maxsize=1)

        def produce() -> None:
            try:
                for chunk in self._read_chunks():
                    while not done.is_set():
                        try:
                            queue.put(("chunk", chunk), timeout=0.1)
                            break
                        except Full:
                            continue
                    if done.is_set():
                        return
                queue.put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                queue.put(("error", exc))

        reader = threading.Thread(target=produce, name="csv-chunks", daemon=True)
        reader.start()
        try:
            while True:
                kind, item = queue.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise item  # type: ignore[misc]
                yield item  # type: ignore[misc]
        finally:
            done.set()
            with contextlib.suppress(Empty):
                queue.get_nowait()  # unblock a producer waiting to put
            reader.join()

    def _read_chunks(self) -> Iterator[RawTable]:
        layout = self._layout
        width = len(layout.header)
        names = [f"f{i}" for i in range(width)]
        block = max(1 << 12, min(_STREAM_BLOCK, self.chunk_rows * 256))
        if self._scan_result is None:
            self._start_scan()
        try:
            reader = pa_csv.open_csv(
                str(self.path),
                read_options=pa_csv.ReadOptions(column_names=names,
                                                skip_rows=layout.skip_lines,
                                                block_size=block, use_threads=True),
                parse_options=pa_csv.ParseOptions(
                    delimiter=layout.delimiter, quote_char='"', double_quote=True,
                    escape_char=False, newlines_in_values=True, ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={n: pa.large_string() for n in names},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                    null_values=[], check_utf8=True),
            )
            pending: list[pa.RecordBatch] = []
            pending_rows = 0
            next_line = layout.skip_lines + 1  # the header record's line
            first = True
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= self.chunk_rows + first:
                    table = pa.Table.from_batches(pending)
                    cut = self.chunk_rows + first
                    head, rest = table.slice(0, cut), table.slice(cut)
                    chunk, next_line = self._chunk(head, next_line, first)
                    first = False
                    pending = rest.to_batches()
                    pending_rows = rest.num_rows
                    yield chunk
            if pending_rows or first:
                table = pa.Table.from_batches(pending, schema=reader.schema)
                chunk, next_line = self._chunk(table, next_line, first)
                if len(chunk.frame) or first:
                    yield chunk
        except (pa.ArrowInvalid, pa.ArrowException, UnicodeError) as exc:
            raise StreamFallback(str(exc)) from exc

    def _chunk(self, table: pa.Table, next_line: int, first: bool
               ) -> tuple[RawTable, int]:
        layout = self._layout
        if first:
            if table.num_rows == 0:
                raise StreamFallback("no header")
            header = [table.column(i)[0].as_py() for i in range(table.num_columns)]
            if header != layout.raw_header:  # e.g. a ";;;" line above the header
                raise StreamFallback("header not on the first record")
        n = table.num_rows
        breaks = _embedded_line_breaks(table) if n else np.zeros(0, dtype=np.int64)
        if breaks.any() and _record_in_value(table, breaks, layout.delimiter):
            raise StreamFallback("an unterminated quote may have swallowed lines")
        starts = next_line + np.arange(n, dtype=np.int64)
        if n > 1 and breaks.any():
            starts[1:] += np.cumsum(breaks[:-1], dtype=np.int64)
        if n:
            next_line = int(starts[-1] + breaks[-1] + 1)
        if first:
            table, starts = table.slice(1), starts[1:]
        keep = _non_empty_rows(table)
        if keep is not None:
            table = table.filter(pa.array(keep))
            starts = starts[keep]
        frame = _to_frame(table.rename_columns(layout.header))
        self.rows += len(frame)
        return RawTable(self.file_name, frame, starts, self.encoding, self.delimiter, [],
                        "pyarrow"), next_line


def _scan_file(path: Path) -> tuple[str, int, bool]:
    """(SHA-256 hex, quote characters, any NUL byte) of the file, in one pass."""
    digest = hashlib.sha256()
    quotes = 0
    nul = False
    with path.open("rb") as fh:
        while block := fh.read(_SCAN_BLOCK):
            digest.update(block)
            quotes += block.count(b'"')
            nul = nul or b"\x00" in block
    return digest.hexdigest(), quotes, nul


def open_stream(source: Source, *, name: str | None = None, dataset: str | None = None,
                chunk_rows: int | None = None) -> CsvStream | None:
    """A :class:`CsvStream` over ``source`` when it is a path to a plain CSV file worth
    streaming (at least :data:`STREAM_MIN_BYTES`, or any size with ``chunk_rows`` or
    $HJO_INGEST_CHUNK_ROWS): UTF-8 (BOM or not), no source format, not Excel or JSON,
    at least two columns. None: read the whole file (:func:`read_bytes`)."""
    if not isinstance(source, str | Path):
        return None
    path = Path(source)
    forced = chunk_rows or chunk_rows_setting()
    try:
        size = path.stat().st_size
        if not path.is_file() or (forced is None and size < STREAM_MIN_BYTES):
            return None
        with path.open("rb") as fh:
            head = fh.read(2 * _SNIFF_BYTES)
    except OSError:
        return None
    file_name = base_name(name if name is not None else str(source))
    if (not head or formats.sniff(head, file_name, dataset) is not None
            or excel.is_ole2(head) or head[:4] == b"PK\x03\x04" or _is_excel(file_name)
            or jsontable.looks_like_json(head, file_name)
            or _utf16_codec(head[:_BINARY_SAMPLE]) is not None
            or _looks_binary(head[:_BINARY_SAMPLE]) or b"\x00" in head):
        return None
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    payload = head[3:] if encoding == "utf-8-sig" else head
    if size > len(head):  # the sniffer sees a prefix: cut it after its last line break
        payload = payload[: max(payload.rfind(b"\n"), payload.rfind(b"\r")) + 1]
    try:
        layout = _sniff(pa.py_buffer(payload), file_name)
    except (_NotUtf8, UnreadableFileError):
        return None
    if len(layout.header) < 2:
        return None
    return CsvStream(path, file_name, encoding, layout, forced or CHUNK_ROWS)
