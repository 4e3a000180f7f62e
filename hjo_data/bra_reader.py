"""BRÅ (Brottsförebyggande rådet): reported crimes per municipality -> ``statistik`` rows.

Two downloads are read:

* the statistics database's **text export** as downloaded: ISO-8859-1, ``;``, title
  line(s), header rows with ``&nbsp;`` and measures ("Antal", "/100 000 inv"; sometimes a
  row of years above them), then per geography a line ``Hjo kommun;;`` followed by one
  row per crime category::

      Anmälda brott, kommuner, 2024 (preliminära uppgifter);;
      &nbsp;;Antal;/100 000 inv
      Hjo kommun;;
      Samtliga brott;812;8 987
      Narkotikabrott;..;..

* the **CSV** (UTF-8 with BOM): ``Kommun;Antal (prel.);Per 100 000 inv. (prel.)``, one
  row per municipality by name; the crime category and year come from title lines above
  the header, from ``År`` / ``Brottstyp`` columns, or from the file name
  (``skadegorelse_2024.csv``).

Numbers: space or no-break space as thousands separator, decimal comma; ``..`` is not
published (skipped, counted "ej publicerad", never 0); ``-`` is zero. ``(prel.)`` or
"preliminär" marks preliminary figures: status "preliminär". Each crime category gives
two indicators: ``<slug>`` (unit "antal") and ``<slug>_per_100k`` (unit "per 100 000
inv"), slug = the category's name in lower case ASCII ("Skadegörelsebrott" ->
``skadegorelsebrott``); source "bra". Every value cell counts as one row.
"""

from __future__ import annotations

import re

from hjo_data import geography, statrows
from hjo_data.errors import UnreadableFileError
from hjo_data.rawtable import RawTable
from hjo_data.statrows import StatRows

__all__ = ["read_csv", "read_text", "sniff_csv", "sniff_text"]

SOURCE = "bra"
PRELIMINARY = "preliminär"
COUNT, RATE = "antal", "per 100 000 inv"
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_PREL = re.compile(r"prel", re.IGNORECASE)
_PLACE_LINE = re.compile(r"^[^;\n]*(kommun|län|riket|hela landet)\s*;[;\s]*$",
                         re.IGNORECASE | re.MULTILINE)


def _measure(text: str) -> str | None:
    low = text.lower().replace("\xa0", " ")
    if "100 000" in low or "100000" in low:
        return RATE
    if "antal" in low:
        return COUNT
    return None


def indicator(category: str, measure: str) -> tuple[str, str]:
    """(indicator_id, title) of a crime category's count or rate."""
    base = statrows.slug(category)
    if measure == RATE:
        return f"{base}_per_100k", f"{category}, per 100 000 inv"
    return base, category


def _add(out: StatRows, line: int, cell: str, place: geography.Place, category: str,
         period: str, measure: str, status: str) -> None:
    ind_id, title = indicator(category, measure)
    out.add(line, cell, place=place, source=SOURCE, indicator_id=ind_id, indicator=title,
            period=period, unit=measure, status=status)


def _year_of(texts: list[str]) -> str:
    for text in texts:
        match = _YEAR.search(text)
        if match:
            return match.group(1)
    return ""


# --------------------------------------------------------------------------- text export

def sniff_text(data: bytes, name: str) -> bool:
    head = data[:statrows.SNIFF_BYTES].decode("latin-1")
    marked = "&nbsp;" in head or "/100 000 inv" in head or "/100\xa0000 inv" in head
    return marked and _PLACE_LINE.search(head) is not None


def _header_columns(headers: list[list[str]], width: int) -> list[tuple[str, str, str]]:
    """(year, measure, status) per value column 1..width-1 from the header rows (a year
    or measure cell also covers the empty cells after it: merged cells)."""
    years = [""] * width
    measures = [""] * width
    prel = [False] * width
    for row in headers:
        year = measure = ""
        for i in range(1, width):
            text = row[i] if i < len(row) else ""
            found_year = _year_of([text])
            year = found_year or (year if not text else "")
            found = _measure(text)
            measure = found or (measure if not text else "")
            years[i] = years[i] or year
            measures[i] = measures[i] or measure
            prel[i] = prel[i] or bool(_PREL.search(text))
    return [(years[i], measures[i] or COUNT, PRELIMINARY if prel[i] else "")
            for i in range(width)]


def read_text(data: bytes, name: str) -> RawTable:
    text, encoding = statrows.decode(data, name, legacy="iso-8859-1")
    out = StatRows(name, encoding, ";", "bra-text")
    titles: list[str] = []
    headers: list[list[str]] = []
    columns: list[tuple[str, str, str]] | None = None
    place: geography.Place | None = None
    place_text = ""
    for line, fields in statrows.records(text, ";"):
        first = fields[0]
        rest = [f for f in fields[1:] if f]
        if columns is None:
            if geography.resolve(first) is not None and not rest and headers:
                columns = _header_columns(headers, max(len(h) for h in headers))
            elif not rest:
                titles.append(first)
                continue
            else:
                headers.append(fields)
                continue
        if not rest:  # "Hjo kommun;;": the geography of the rows below (or a note line)
            found = geography.resolve(first)
            if found is not None or re.search(r"(kommun|län)$", first, re.IGNORECASE):
                place, place_text = found, first
            continue
        if not place_text:
            raise UnreadableFileError(f"{name}: Rad {line}: värden före första kommunraden "
                                      "(t.ex. 'Hjo kommun;;').")
        cells = [(i, fields[i]) for i in range(1, len(fields)) if i < len(columns)]
        if place is None:
            out.place(line, "Kommun", place_text, ";".join(fields), values=len(cells))
            continue
        title_year = _year_of(titles) or _year_of([name])
        title_prel = any(_PREL.search(t) for t in [*titles, *(" ".join(h) for h in headers)])
        for i, cell in cells:
            year, measure, status = columns[i]
            period = year or title_year
            if not period:
                raise UnreadableFileError(f"{name}: Filen anger inget år (varken i rubriken "
                                          "eller i kolumnrubrikerna).")
            status = status or (PRELIMINARY if title_prel else "")
            _add(out, line, cell, place, first, period, measure, status)
    if columns is None:
        raise UnreadableFileError(f"{name}: Ingen kommunrad (t.ex. 'Hjo kommun;;') hittades – "
                                  "filen liknar inte BRÅ:s textexport.")
    return out.table()


# --------------------------------------------------------------------------- CSV

_GEO_HEADERS = {"kommun", "region", "län", "lan", "geografi"}
_CATEGORY_HEADERS = {"brott", "brottstyp", "brottskategori", "brottskod", "kategori"}
_YEAR_HEADERS = {"år", "ar", "period", "year"}


def _csv_header(text: str) -> tuple[int, list[str], list[str]] | None:
    """(line, header fields, title lines before it) of a BRÅ CSV, None when not one."""
    titles: list[str] = []
    for line, fields in statrows.records(text, ";"):
        key = statrows.header_key(fields[0])
        keys = [statrows.header_key(f) for f in fields[1:]]
        survey = any(k.startswith("andel") or "konfidens" in k or k.startswith("ki_")
                     for k in keys)  # a survey table (fohm_reader), not counts
        if key in _GEO_HEADERS and any(_measure(f) for f in fields[1:]) and not survey:
            return line, fields, titles
        titles.append(" ".join(f for f in fields if f))
        if len(titles) > 5:
            return None
    return None


def sniff_csv(data: bytes, name: str) -> bool:
    return _csv_header(statrows.head_text(data, name)) is not None


def read_csv(data: bytes, name: str) -> RawTable:
    text, encoding = statrows.decode(data, name)
    found = _csv_header(text)
    if found is None:
        raise UnreadableFileError(f"{name}: Rubrikraden 'Kommun;Antal;Per 100 000 inv.' "
                                  "hittades inte.")
    header_line, header, titles = found
    keys = [statrows.header_key(h) for h in header]
    category_col = next((i for i, k in enumerate(keys) if k in _CATEGORY_HEADERS), None)
    year_col = next((i for i, k in enumerate(keys) if k in _YEAR_HEADERS), None)
    value_cols = [(i, _measure(h), PRELIMINARY if _PREL.search(h) else "")
                  for i, h in enumerate(header) if i and _measure(h)]
    title_text = " ".join(titles)
    title_prel = PRELIMINARY if _PREL.search(title_text) else ""
    default_year = _year_of(titles) or _year_of([name])
    default_category = _category_of(titles)
    out = StatRows(name, encoding, ";", "bra-csv")
    for line, fields in statrows.records(text, ";"):
        if line <= header_line:
            continue
        fields = fields + [""] * (len(header) - len(fields))
        cells = [(i, m, s) for i, m, s in value_cols]
        if not any(fields[i] for i, _, _ in cells) and not fields[0]:
            continue
        if not any(f for f in fields[1:]) and not geography.resolve(fields[0]):
            continue  # a note under the table ("Källa: Brå")
        period = (fields[year_col] if year_col is not None else "") or default_year
        if not period:
            raise UnreadableFileError(
                f"{name}: Filen anger inget år. Lägg året i filnamnet (t.ex. "
                f"'brå_skadegörelse_2024.csv') eller en rad '2024' ovanför rubrikraden.")
        category = (fields[category_col] if category_col is not None else "") or \
            default_category
        place = out.place(line, header[0], fields[0], ";".join(fields), values=len(cells))
        if place is None:
            continue
        for i, measure, status in cells:
            _add(out, line, fields[i], place, category, period, str(measure),
                 status or title_prel)
    return out.table()


def _category_of(titles: list[str]) -> str:
    """The crime category a title names ("Skadegörelsebrott 2024 (prel.)" ->
    "Skadegörelsebrott"); "Anmälda brott" when there is none."""
    for title in titles:
        text = _YEAR.sub("", re.sub(r"\(?prel[^)]*\)?", "", title, flags=re.IGNORECASE))
        text = re.sub(r"\s+", " ", text).strip(" ,.;:-")
        if text:
            return text
    return "Anmälda brott"
