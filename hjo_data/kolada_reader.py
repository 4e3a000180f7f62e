"""Kolada: API v2 responses (JSON) and Kolada-shaped long CSV files -> ``statistik`` rows.

API v2 (``/v2/data/kpi/{KPI}/municipality/{id}/year/{years}``)::

    {"values": [{"kpi": "N07403", "municipality": "1497", "period": 2023,
                 "values": [{"gender": "T", "value": 512.3, "count": 1, "status": ""}, ...]}],
     "count": 1, "next_page": null}

One row per inner value. ``value: null`` is not published: skipped ("ej publicerad"),
never 0. ``period`` may be a number or a string. A saved multi-page response may be one
page per file or a file holding a list of pages; a last page with ``next_page`` set gets a
warning (pages missing). The response has no KPI titles: the promise's configured
official indicator gives title and unit, else the id is the title. Kolada's ``count`` is
the number of units behind a value (e.g. municipalities in Riket), not a sample size, so
it is not stored as ``n``. Line numbers of JSON rows are value numbers (1 = the first
inner value in the file). A top-level ``fetched_at`` (a cached response) is kept.

Long CSV as people save Kolada data: a geography column (``kommun``, ``geo``,
``municipality`` ...: a code or a name), a year column (``år``, ``year``, ``period``),
optional gender (``kön``: T/K/M or Totalt/Kvinnor/Män), and one or more value columns
named by the KPI id (``n07540``, any case) or by the KPI's configured title; the file may
also use the canonical statistik columns (``Indikator-id`` + ``Värde``). Source: the
file's ``Källa`` column, else "kolada".
"""

from __future__ import annotations

import json
import re
from typing import Any

from hjo_data import statrows
from hjo_data.errors import UnreadableFileError
from hjo_data.rawtable import RawTable
from hjo_data.schema import STATISTIK, header_index
from hjo_data.statrows import StatRows

__all__ = ["read_csv", "read_json", "sniff_csv", "sniff_json"]

SOURCE = "kolada"
#: Kolada KPI ids: a letter and five digits (N07403, U09401).
KPI_ID = re.compile(r"^[A-Za-z]\d{5}$")


# --------------------------------------------------------------------------- JSON

def sniff_json(data: bytes, name: str) -> bool:
    head = data[:statrows.SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith((b"{", b"[")):
        return False
    return b'"kpi"' in head and b'"municipality"' in head and b'"values"' in head


def _pages(doc: Any) -> list[dict[str, Any]]:
    """The page objects of a saved response: one page, a list of pages, or a bare list of
    value records."""
    if isinstance(doc, dict):
        return [doc]
    if isinstance(doc, list) and all(isinstance(p, dict) for p in doc):
        if doc and all("kpi" in p for p in doc):
            return [{"values": doc}]
        return list(doc)
    return []


def _period(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def read_json(data: bytes, name: str) -> RawTable:
    text, encoding = statrows.decode(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{name}: Kolada-svaret är inte giltig JSON (rad "
                                  f"{exc.lineno}, kolumn {exc.colno}: {exc.msg}).") from exc
    pages = _pages(doc)
    if not pages:
        raise UnreadableFileError(f"{name}: Filen liknar inte ett Kolada-svar (väntade "
                                  "ett objekt med 'values' eller en lista av sådana sidor).")
    out = StatRows(name, encoding, "", "kolada-json")
    number = 0
    for page in pages:
        fetched = str(page.get("fetched_at") or "")
        for record in page.get("values") or []:
            if not isinstance(record, dict):
                continue
            kpi = str(record.get("kpi") or "").strip()
            geo = str(record.get("municipality") or "").strip()
            period = _period(record.get("period"))
            configured = statrows.indicator_by_id(kpi, SOURCE)
            for value in record.get("values") or []:
                number += 1
                if not isinstance(value, dict):
                    out.error(number, "values", str(value), "Värdet saknar fälten gender/value")
                    continue
                raw = json.dumps(value, ensure_ascii=False)
                place = out.place(number, "municipality", geo, raw)
                if place is None:
                    continue
                cell = value.get("value")
                out.add(number, "" if cell is None else str(cell), place=place,
                        source=SOURCE, indicator_id=kpi,
                        indicator=configured.title if configured else kpi,
                        unit=configured.unit if configured else "", period=period,
                        gender=str(value.get("gender") or "T"),
                        status=str(value.get("status") or ""), fetched_at=fetched)
    last = pages[-1]
    if last.get("next_page"):
        out.warnings.append(f"{name}: Kolada-svaret har fler sidor (next_page är satt) – "
                            "läs in även nästa sida, annars saknas värden.")
    return out.table()


# --------------------------------------------------------------------------- long CSV

#: Headers of the geography, period and gender columns (normalised, see schema).
_INDEX = header_index(STATISTIK)
#: Columns taken from the file as they are (when present).
_PASSED = ("period", "unit", "n", "ci_low", "ci_high", "status", "fetched_at", "geo_name",
           "geo_level")


def _layout(header: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """(canonical column -> position, value columns [(position, KPI id or title)])."""
    columns: dict[str, int] = {}
    extra: list[int] = []
    for i, cell in enumerate(header):
        canonical = _INDEX.get(statrows.header_key(cell))
        if canonical is not None and canonical not in columns:
            columns[canonical] = i
        elif cell:
            extra.append(i)
    values: list[tuple[int, str]] = []
    if "value" not in columns:
        for i in extra:
            cell = header[i].strip()
            if KPI_ID.match(cell) or statrows.indicator_by_title(cell, (SOURCE,)):
                values.append((i, cell))
        if not values and len(extra) == 1:  # one unnamed measure: its header is the title
            values.append((extra[0], header[extra[0]].strip()))
    return columns, values


def _header(text: str) -> tuple[str, list[str]] | None:
    """(delimiter, header fields) of the first non-blank line."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = statrows.delimiter_of(first)
    for _, fields in statrows.records(first, delimiter):
        return delimiter, fields
    return None


def sniff_csv(data: bytes, name: str) -> bool:
    head = data[:statrows.SNIFF_BYTES]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")) or b"\x00" in head:
        return False
    found = _header(statrows.head_text(data, name))
    if found is None:
        return False
    columns, values = _layout(found[1])
    if "geo_code" not in columns or "period" not in columns:
        return False
    if "value" in columns:
        return "indicator_id" in columns or "indicator" in columns
    return bool(values)


def read_csv(data: bytes, name: str) -> RawTable:
    text, encoding = statrows.decode(data, name)
    found = _header(text)
    if found is None:
        raise UnreadableFileError(f"{name}: Filen saknar rubrikrad.")
    delimiter, header = found
    columns, values = _layout(header)
    if "geo_code" not in columns or "period" not in columns or not (
            values or "value" in columns):
        raise UnreadableFileError(
            f"{name}: Filen saknar kolumn för kommun/region, år eller värde. Väntade t.ex. "
            "'kommun;år;kön;N07403' (värdekolumnen namngiven efter nyckeltalets id).")
    out = StatRows(name, encoding, delimiter, "kolada-csv")
    rows = statrows.records(text, delimiter)
    next(rows, None)  # the header
    for line, fields in rows:
        raw = delimiter.join(fields)
        fields = fields + [""] * (len(header) - len(fields))

        def cell(column: str, default: str = "", f: list[str] = fields) -> str:
            pos = columns.get(column)
            return f[pos] if pos is not None and f[pos] else default

        measures = values or [(columns["value"], cell("indicator_id"))]
        place = out.place(line, header[columns["geo_code"]], cell("geo_code"), raw,
                          values=len(measures))
        if place is None:
            continue
        common = {name: cell(name) for name in _PASSED}
        common.update(source=cell("source", SOURCE), gender=cell("gender", "T"))
        for pos, label in measures:
            is_id = bool(KPI_ID.match(label))
            configured = (statrows.indicator_by_id(label, SOURCE) if is_id
                          else statrows.indicator_by_title(label, (SOURCE,)))
            if not values:  # canonical columns: id and/or title from the row
                named = cell("indicator")
                src = common["source"]
                configured = (statrows.indicator_by_id(label, src) if label
                              else statrows.indicator_by_title(named, (src,)))
                kpi = label or (configured.indicator_id if configured else
                                statrows.slug(named) if named else "")
                title = named or (configured.title if configured else kpi)
            elif configured is not None:
                kpi, title = configured.indicator_id, configured.title
            else:
                kpi, title = (label.upper(),) * 2 if is_id else (statrows.slug(label), label)
            unit = common["unit"] or (configured.unit if configured else "")
            out.add(line, fields[pos], place=place,
                    **dict(common, indicator_id=kpi, indicator=title, unit=unit))
    return out.table()
