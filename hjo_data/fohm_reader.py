"""Survey tables as Folkhälsomyndigheten (and BRÅ for NTU) publish them -> ``statistik``.

Shape (CSV, ``;`` or ``,``, UTF-8 or Windows-1252, optional title line(s) above)::

    Andel som avstår från att gå ut ensam på kvällen av oro för brott
    Region;År;Kön;Andel;Konfidensintervall nedre;Konfidensintervall övre;Antal svar
    20 Dalarnas län;2019-2022;Totalt;23,4;21,9;24,9;4 512

* geography: code and name in one field ("20 Dalarnas län", "1497 Hjo") or either alone;
* period: a year or a rolling period ("2019-2022"), kept as text;
* gender: Totalt / Kvinnor / Män (T / K / M);
* value: the share in percent ("Andel"), with a confidence interval ("Konfidensintervall
  nedre/övre", "KI undre/övre", "KI nedre/övre") and, when given, the number of
  respondents (``n``); unit "procent";
* the indicator: an ``Indikator`` / ``Fråga`` column, else the title line, else the file
  name; its id is the configured official indicator's whose title it is (the promise,
  parentheses ignored), else the title's slug. Source "ntu" when the title or file name
  says NTU or Brå, else "fohm". ``..`` / empty shares are not published (skipped).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from hjo_data import statrows
from hjo_data.errors import UnreadableFileError
from hjo_data.rawtable import RawTable
from hjo_data.statrows import StatRows

__all__ = ["read", "sniff"]

UNIT = "procent"
_TITLE_LINES = 6
_ROLES = (  # (role, header keys it is recognised by: exact normalised keys)
    ("geo_code", ("region", "län", "lan", "kommun", "geografi", "område", "omrade", "län_kommun",
                  "region_kommun")),
    ("period", ("år", "ar", "period", "tid", "årtal", "år_period", "årsperiod")),
    ("gender", ("kön", "kon", "gender")),
    ("n", ("antal_svar", "antal_svarande", "antal", "n", "bas", "svarande")),
    ("indicator", ("indikator", "fråga", "mått", "indicator")),
)


def _role(key: str) -> str | None:
    if "nedre" in key or "undre" in key:
        return "ci_low"
    if "övre" in key or "ovre" in key:
        return "ci_high"
    if key.startswith("andel"):
        return "value"
    return next((role for role, keys in _ROLES if key in keys), None)


def _layout(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        role = _role(statrows.header_key(cell))
        if role is not None and role not in columns:
            columns[role] = i
    return columns


def _find_header(text: str) -> tuple[str, int, list[str], list[str]] | None:
    """(delimiter, header line, header fields, title lines above it)."""
    titles: list[str] = []
    for raw_line in text.splitlines()[:_TITLE_LINES + 1]:
        if not raw_line.strip():
            continue
        delimiter = statrows.delimiter_of(raw_line)
        fields = next((f for _, f in statrows.records(raw_line, delimiter)), [])
        columns = _layout(fields)
        if {"geo_code", "period", "value", "ci_low", "ci_high"} <= set(columns):
            return delimiter, len(titles), fields, titles
        titles.append(" ".join(f.strip() for f in fields if f.strip()))
    return None


def sniff(data: bytes, name: str) -> bool:
    return _find_header(statrows.head_text(data, name)) is not None


def read(data: bytes, name: str) -> RawTable:
    text, encoding = statrows.decode(data, name)
    found = _find_header(text)
    if found is None:
        raise UnreadableFileError(f"{name}: Rubrikraden (region, år, andel och "
                                  "konfidensintervall) hittades inte.")
    delimiter, _, header, titles = found
    columns = _layout(header)
    title = next((t for t in titles if t), "") or PurePath(name).stem.replace("_", " ")
    about = f"{' '.join(titles)} {name}".lower()
    source = "ntu" if re.search(r"(?<![a-zåäö])(ntu|brå|bra)(?![a-zåäö])", about) else "fohm"
    out = StatRows(name, encoding, delimiter, "fohm")
    records = statrows.records(text, delimiter)
    for _, fields in records:  # up to and including the header record
        if fields == header:
            break
    for line, fields in records:
        fields = fields + [""] * (len(header) - len(fields))

        def cell(role: str, f: list[str] = fields) -> str:
            pos = columns.get(role)
            return f[pos] if pos is not None else ""

        if not any(fields[i] for i in columns.values() if columns.get("geo_code") != i):
            continue  # a footnote line
        place = out.place(line, header[columns["geo_code"]], cell("geo_code"),
                          delimiter.join(fields))
        if place is None:
            continue
        named = cell("indicator") or title
        configured = statrows.indicator_by_title(named, (source,))
        ci = {role: statrows.number_cell(cell(role)) or "" for role in ("ci_low", "ci_high")}
        out.add(line, cell("value"), place=place, source=source,
                indicator_id=configured.indicator_id if configured else statrows.slug(named),
                indicator=named, period=cell("period"),
                gender=cell("gender") or "T", unit=UNIT, n=statrows.number_cell(cell("n")) or "",
                **ci)
    return out.table()
