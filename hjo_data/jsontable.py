"""Generic JSON -> :class:`rawtable.RawTable`: a list of records, or an object holding one
under ``data`` / ``records`` / ``values``, or JSON lines (one object per line).

The fallback for JSON that no source format in ``formats`` recognises. The table goes
through the same validation as a CSV file:

* columns = the records' keys in order of first appearance (a missing key reads as "");
* a nested object is flattened to dotted columns (``{"plats": {"namn": "Hamnen"}}`` ->
  ``plats.namn``); a list inside a record cannot be a cell: that record is a structural
  error naming the field (kept in quarantine, never dropped silently);
* values become text as in a CSV file: ``null`` -> "", numbers without a trailing ".0",
  ``true``/``false`` as written;
* line numbers are record numbers (1 = the first record) for a JSON document, physical
  lines for JSON lines; a JSON-lines line that is not valid JSON is a structural error of
  its own and the other lines are read.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import numpy as np
import pandas as pd

from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.formatting import fmt_int
from hjo_data.rawtable import RawTable, StructuralError, unique_names

__all__ = ["LIST_KEYS", "looks_like_json", "read_json"]

#: Keys of a wrapping object whose value is the list of records (first present wins).
LIST_KEYS = ("data", "records", "values")
_MAX_RAW_TEXT = 200


def _fail(file_name: str, message: str) -> UnreadableFileError:
    return UnreadableFileError(f"{file_name}: {message}")


def _decode(data: bytes, file_name: str) -> str:
    """UTF-8 (BOM allowed) or UTF-16 with a BOM, as JSON files are written."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(file_name, "JSON-filen är inte sparad som UTF-8.") from exc


def looks_like_json(data: bytes, file_name: str) -> bool:
    """Content whose first character is ``[`` or ``{`` (a CSV header never starts so),
    whatever the name says: a CSV saved as .json is still read as CSV."""
    del file_name  # the content decides
    head = data[:64]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            try:
                head = data[:256].decode("utf-16" if bom != codecs.BOM_UTF8 else "utf-8-sig",
                                         errors="ignore").encode("utf-8")
            except UnicodeError:
                return False
            break
    return head.lstrip()[:1] in (b"[", b"{")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _flatten(record: dict[str, Any], prefix: str = "") -> tuple[dict[str, str], str | None]:
    """(flat cells, None) or ({}, the dotted name of a field holding a list)."""
    cells: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            inner, bad = _flatten(value, f"{name}.")
            if bad is not None:
                return {}, bad
            cells.update(inner)
        elif isinstance(value, list):
            return {}, name
        else:
            cells[name] = _text(value)
    return cells, None


def _records(text: str, file_name: str) -> tuple[list[tuple[int, Any, str]], bool]:
    """[(line number, parsed record or a JSONDecodeError, raw text)], is_json_lines."""
    try:
        doc = json.loads(text)
    except RecursionError as exc:
        raise _fail(file_name, "JSON-filen är för djupt nästlad för att läsas som en "
                               "tabell.") from exc
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        first = next((ln for ln in lines if ln.strip()), "")
        if exc.msg != "Extra data" or not first.lstrip().startswith("{"):
            raise _fail(file_name, f"Filen är inte giltig JSON (rad {exc.lineno}, tecken "
                                   f"{exc.colno}).") from exc
        out: list[tuple[int, Any, str]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                out.append((number, json.loads(line), line))
            except (json.JSONDecodeError, RecursionError) as err:
                out.append((number, err, line))
        return out, True
    if isinstance(doc, dict):
        key = next((k for k in LIST_KEYS if isinstance(doc.get(k), list)), None)
        if key is None:
            keys = ", ".join(f"'{k}'" for k in list(doc)[:8]) or "(inga)"
            raise _fail(file_name, "JSON-filen innehåller ingen lista med poster. Förväntat: "
                                   "en lista med objekt, eller ett objekt med listan under "
                                   f"'data', 'records' eller 'values' (nycklar i filen: "
                                   f"{keys}).")
        doc = doc[key]
    if not isinstance(doc, list):
        raise _fail(file_name, "JSON-filen innehåller ingen lista med poster.")
    return [(i, rec, "") for i, rec in enumerate(doc, start=1)], False


def read_json(data: bytes, *, name: str) -> RawTable:
    """Read a JSON document or JSON lines into a RawTable (see the module docstring)."""
    text = _decode(data, name)
    if not text.strip():
        raise _fail(name, "Filen är tom.")
    records, json_lines = _records(text, name)
    if not records:
        raise _fail(name, "JSON-filen innehåller inga poster.")
    columns: dict[str, None] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, record, raw in records:
        shown = raw or _dump(record)
        if isinstance(record, Exception):
            where = (f" (tecken {record.colno})" if isinstance(record, json.JSONDecodeError)
                     else " (för djupt nästlad)")
            errors.append(_error(number, "", shown, f"Raden är inte giltig JSON{where}."))
            continue
        if not isinstance(record, dict):
            errors.append(_error(number, "", shown,
                                 f"Post {fmt_int(number)} är inte ett objekt med fält "
                                 f"(utan {type(record).__name__})."))
            continue
        cells, bad = _flatten(record)
        if bad is not None:
            errors.append(_error(number, bad, shown,
                                 f"Fältet '{bad}' innehåller en lista; en lista kan inte "
                                 "läsas som en cell i en tabellrad."))
            continue
        columns.update(dict.fromkeys(cells))
        rows.append((number, cells))
    if not columns:
        raise _fail(name, "JSON-filens poster saknar fält som kan läsas som kolumner.")
    headers = list(columns)
    names = unique_names(headers)
    frame = pd.DataFrame({
        col: pd.Series([cells.get(h, "") for _, cells in rows], dtype="str")
        for col, h in zip(names, headers, strict=True)
    })
    warnings = [] if json_lines else [
        "JSON: radnumren i rapporten är postnummer (1 = första posten i listan)."]
    return RawTable(file_name=name, frame=frame,
                    lines=np.asarray([n for n, _ in rows], dtype=np.int64),
                    encoding="utf-8", delimiter="", structural_errors=errors,
                    parser="jsonl" if json_lines else "json", warnings=warnings)


def _dump(record: Any) -> str:
    try:
        return json.dumps(record, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return str(record)


def _error(number: int, column: str, raw: str, reason: str) -> StructuralError:
    return StructuralError(number, column, raw[:_MAX_RAW_TEXT], reason, raw=raw)
