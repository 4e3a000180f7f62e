"""Swedish geography codes of official statistics: kommun, län and Riket.

Codes as Kolada uses them: a municipality has its 4-digit code (``1497`` Hjo), a county
``00NN`` (``0014`` Västra Götalands län), Riket ``0000``. Names as sources write them
resolve to codes: "Hjo", "Hjo kommun", "Hjos kommun", "1497 Hjo", "20 Dalarnas län",
"Dalarnas län", "Region Dalarna", "Riket", "Sverige", "Hela landet".

The list of municipalities is ``data/reference/kommuner.csv`` (kommunkod, kommun, lanskod,
lan: all 290). It is national, so it is read from ``$HJO_REFERENCE_DIR`` when present
there, else from the packaged reference directory.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hjo_data.reference import DEFAULT_REFERENCE_DIR, ReferenceDataError, reason_sv, reference_dir

__all__ = ["RIKET", "Place", "county_of", "geo_level", "kommuner_path", "name_of", "places",
           "resolve"]

#: Riket's code (Kolada's id for the whole country).
RIKET = "0000"
_RIKET_NAMES = ("riket", "sverige", "hela landet", "hela riket", "riket totalt", "totalt riket",
                "sweden", "country", "alla kommuner")
_FILE = "kommuner.csv"


@dataclass(frozen=True)
class Place:
    """One geography: code, official name and level (kommun / lan / riket)."""

    code: str
    name: str
    level: str


def kommuner_path() -> Path:
    """The municipality list: $HJO_REFERENCE_DIR/kommuner.csv if there, else packaged."""
    local = reference_dir() / _FILE
    return local if local.is_file() else DEFAULT_REFERENCE_DIR / _FILE


def _key(text: str) -> str:
    """Lookup key: NFC, lower case, single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFC", str(text)).replace("\xa0", " ").strip().lower()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .,;:\"'")


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict[str, Place], dict[str, Place], dict[str, str]]:
    """(code -> Place, name key -> Place, kommun code -> county code)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"Kommunlistan ({Path(path).name}) kunde inte läsas: "
                                 f"{reason_sv(exc)}.") from exc
    by_code: dict[str, Place] = {RIKET: Place(RIKET, "Riket", "riket")}
    by_name: dict[str, Place] = {name: by_code[RIKET] for name in _RIKET_NAMES}
    county: dict[str, str] = {}
    lans: dict[str, str] = {}
    for row in rows:
        code = (row.get("kommunkod") or "").strip().zfill(4)
        name = (row.get("kommun") or "").strip()
        if not code.strip("0") or not name:
            continue
        kommun = Place(code, name, "kommun")
        by_code[code] = kommun
        county[code] = "00" + (row.get("lanskod") or "").strip().zfill(2)
        lans.setdefault(county[code], (row.get("lan") or "").strip())
        for key in (name, f"{name} kommun", f"{name}s kommun", f"{name} stad"):
            by_name.setdefault(_key(key), kommun)
    # Counties after all municipalities: a bare name ("Stockholm") is the municipality.
    for lan_code, lan_name in lans.items():
        if not lan_name:
            continue
        lan = by_code[lan_code] = Place(lan_code, lan_name, "lan")
        stem = re.sub(r"s? län$", "", lan_name)
        for key in (lan_name, stem, f"region {stem}", f"{stem} län", f"{stem}s län"):
            by_name.setdefault(_key(key), lan)
    return by_code, by_name, county


def _tables() -> tuple[dict[str, Place], dict[str, Place], dict[str, str]]:
    return _load(str(kommuner_path()))


def places() -> list[Place]:
    """Every known geography (Riket, the counties and the municipalities)."""
    return list(_tables()[0].values())


_CODE_AND_NAME = re.compile(r"^(\d{1,4})\s*[-–:]?\s+(\S.*)$")


def _by_code(code: str, by_code: dict[str, Place]) -> Place | None:
    if len(code) <= 2:  # a county number as FoHM and SCB write it ("20")
        return by_code.get("00" + code.zfill(2))
    return by_code.get(code.zfill(4))


def resolve(text: object) -> Place | None:
    """The geography ``text`` names (a code, a name, or "code name"), None when unknown.

    A name that exists both as municipality and county stem resolves to the municipality
    ("Stockholm"); "Stockholms län" / "Region Stockholm" to the county.
    """
    if text is None:
        return None
    raw = _key(str(text))
    if not raw:
        return None
    by_code, by_name, _ = _tables()
    if raw.isdigit():
        return _by_code(raw, by_code)
    place = by_name.get(raw)
    if place is not None:
        return place
    match = _CODE_AND_NAME.match(raw)
    if match:  # "20 Dalarnas län", "1497 Hjo": the code decides, the name must agree
        coded = _by_code(match.group(1), by_code)
        named = by_name.get(_key(match.group(2)))
        if coded is not None and (named is None or named == coded):
            return coded
        return None
    return None


def name_of(code: str) -> str:
    """Official name of a code ("1497" -> "Hjo"); "" when unknown."""
    place = _tables()[0].get(str(code).strip())
    return place.name if place is not None else ""


def county_of(code: str) -> str:
    """County code (``00NN``) of a municipality code; "" when unknown."""
    return _tables()[2].get(str(code).strip(), "")


def geo_level(code: str) -> str:
    """Level of a geography code: riket (0000), lan (00NN), kommun (known 4-digit code),
    annan (anything else)."""
    code = str(code).strip()
    if code == RIKET:
        return "riket"
    place = _tables()[0].get(code)
    if place is not None:
        return place.level
    return "annan"
