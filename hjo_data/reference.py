"""Reference data: areas and population.

Everything a municipality changes lives in files, not code: ``data/reference/`` (areas.csv,
areas.geojson, population.csv); the environment variable ``HJO_REFERENCE_DIR`` points
elsewhere, so another municipality swaps files by configuration. The promise
(medborgarlöfte) is ``hjo_data.promise``. Errors are Swedish (they reach the user as-is).
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data.errors import HjoDataError
from hjo_data.schema import WHOLE_MUNICIPALITY

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE_DIR = REPO_ROOT / "data" / "reference"

AREA_TYPES = ("tätort", "landsbygd")


class ReferenceDataError(HjoDataError):
    """A reference file (areas, population, GeoJSON, the promise) is missing or broken."""


# --------------------------------------------------------------------------- paths


def reference_dir() -> Path:
    """Directory of areas.csv, areas.geojson, population.csv ($HJO_REFERENCE_DIR)."""
    env = os.environ.get("HJO_REFERENCE_DIR", "").strip()
    return Path(env) if env else DEFAULT_REFERENCE_DIR


def _resolve(path: str | Path | None, default_name: str) -> Path:
    if path is None:
        return reference_dir() / default_name
    path = Path(path)
    return path / default_name if path.is_dir() else path


def reason_sv(err: Exception) -> str:
    """Why a file could not be read, in Swedish and without the server path (messages
    reach public pages)."""
    if isinstance(err, FileNotFoundError):
        return "filen finns inte"
    if isinstance(err, PermissionError):
        return "behörighet saknas att läsa filen"
    if isinstance(err, IsADirectoryError):
        return "sökvägen är en mapp, inte en fil"
    if isinstance(err, UnicodeDecodeError):
        return "filen är inte sparad som UTF-8"
    if isinstance(err, OSError):
        return "läsfel"
    return str(err)


def _stamp(path: Path) -> int:
    """Modification time used in cache keys (so an edited file is re-read)."""
    try:
        return path.stat().st_mtime_ns
    except OSError as err:
        raise ReferenceDataError(f"Referensfilen {path.name} saknas.") from err


# --------------------------------------------------------------------------- areas


def load_areas(path: str | Path | None = None) -> pd.DataFrame:
    """Areas: name (str), type ('tätort'/'landsbygd'), population (int64), lat, lon, note,
    aliases ("|"-separated other spellings, optional column; see :func:`area_vocabulary`).

    ``path`` is areas.csv or the directory holding it (default: ``reference_dir()``).
    """
    file = _resolve(path, "areas.csv")
    return _load_areas_cached(str(file), _stamp(file)).copy()


def _read_reference_csv(file: str, what_sv: str, required: tuple[str, ...]) -> pd.DataFrame:
    """A reference CSV as text columns; Swedish error naming the file when it cannot be read
    or lacks a required column (``what_sv`` e.g. "Områdesfilen")."""
    name = Path(file).name
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise ReferenceDataError(f"{what_sv} {name} kunde inte läsas: {reason_sv(err)}") from err
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame]
    if missing:
        raise ReferenceDataError(f"{what_sv} {name} saknar kolumnerna: {', '.join(missing)}.")
    return frame


@lru_cache(maxsize=8)
def _load_areas_cached(file: str, _mtime: int) -> pd.DataFrame:
    name = Path(file).name
    frame = _read_reference_csv(file, "Områdesfilen", ("name", "type", "population", "lat",
                                                      "lon"))
    if "note" not in frame:
        frame["note"] = ""
    for col in ("name", "type", "note"):
        frame[col] = frame[col].str.strip()
    if (frame["name"] == "").any():
        raise ReferenceDataError(f"Områdesfilen {name} har rader utan områdesnamn.")
    dupes = sorted(set(frame.loc[frame["name"].duplicated(), "name"]))
    if dupes:
        raise ReferenceDataError(f"Områdesfilen {name}: dubblerade områden: {', '.join(dupes)}.")
    if WHOLE_MUNICIPALITY in set(frame["name"]):
        raise ReferenceDataError(
            f"Områdesfilen {name}: '{WHOLE_MUNICIPALITY}' är reserverat för hela kommunen."
        )
    bad_type = sorted(set(frame["type"]) - set(AREA_TYPES))
    if bad_type:
        raise ReferenceDataError(
            f"Områdesfilen {name}: okänd typ {', '.join(repr(t) for t in bad_type)} "
            f"(giltiga: {', '.join(AREA_TYPES)})."
        )
    out = pd.DataFrame({"name": frame["name"].astype("str"), "type": frame["type"].astype("str")})
    for col, kind in (("population", "int64"), ("lat", "float64"), ("lon", "float64")):
        values = pd.to_numeric(frame[col].str.replace(",", ".").str.replace(" ", ""),
                               errors="coerce")
        if values.isna().any():
            bad = frame.loc[values.isna(), "name"].tolist()
            raise ReferenceDataError(
                f"Områdesfilen {name}: kolumnen {col} saknar giltigt tal för {', '.join(bad)}."
            )
        out[col] = values.astype(kind)
    if (out["population"] <= 0).any():
        raise ReferenceDataError(f"Områdesfilen {name}: population måste vara större än 0.")
    out["note"] = frame["note"].astype("str")
    out["aliases"] = (frame["aliases"].str.strip() if "aliases" in frame
                      else pd.Series([""] * len(frame), dtype="str")).astype("str")
    return out


def area_names(path: str | Path | None = None) -> list[str]:
    """Area names in file order."""
    return load_areas(path)["name"].tolist()


def load_area_geojson(path: str | Path | None = None) -> dict[str, Any]:
    """The areas as a GeoJSON FeatureCollection (dict); every feature has properties.name."""
    file = _resolve(path, "areas.geojson")
    return json.loads(_load_geojson_cached(str(file), _stamp(file)))


@lru_cache(maxsize=8)
def _load_geojson_cached(file: str, _mtime: int) -> str:
    name = Path(file).name
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise ReferenceDataError(f"Kartfilen {name} kunde inte läsas: {reason_sv(err)}") from err
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ReferenceDataError(f"Kartfilen {name} är ingen GeoJSON FeatureCollection.")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ReferenceDataError(f"Kartfilen {name} innehåller inga områden (features).")
    seen: set[str] = set()
    for i, feat in enumerate(features, start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        area = props.get("name") if isinstance(props, dict) else None
        if not isinstance(area, str) or not area.strip():
            raise ReferenceDataError(f"Kartfilen {name}: område nr {i} saknar properties.name.")
        if area in seen:
            raise ReferenceDataError(f"Kartfilen {name}: området '{area}' finns flera gånger.")
        seen.add(area)
        geom = feat.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise ReferenceDataError(
                f"Kartfilen {name}: området '{area}' saknar polygon (Polygon/MultiPolygon)."
            )
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [
            geom["coordinates"]]
        for poly in polygons:
            for ring in poly:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise ReferenceDataError(
                        f"Kartfilen {name}: området '{area}' har en polygon som inte är sluten."
                    )
    return json.dumps(data)


def area_bounds(path: str | Path | None = None) -> dict[str, tuple[float, float, float, float]]:
    """Bounding box per area from the GeoJSON: name -> (lat_min, lat_max, lon_min, lon_max)."""
    out: dict[str, tuple[float, float, float, float]] = {}
    for feat in load_area_geojson(path)["features"]:
        geom = feat["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [
            geom["coordinates"]]
        lons = [p[0] for poly in polygons for p in poly[0]]
        lats = [p[1] for poly in polygons for p in poly[0]]
        out[feat["properties"]["name"]] = (min(lats), max(lats), min(lons), max(lons))
    return out


# --------------------------------------------------------------------------- area vocabulary

#: What public surfaces show for an area that is not in areas.csv (officials see the raw
#: value; the row is kept).
UNKNOWN_AREA = "Okänt område"


def area_key(text: object) -> str:
    """Matching key of an area name or alias: case, spacing and punctuation ignored
    ("Hjo-Centrum", "hjo centrum." and "HJO CENTRUM" are one key); å/ä/ö kept."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class AreaVocabulary:
    """The areas of areas.csv with their aliases (``aliases`` column, "|"-separated)."""

    names: tuple[str, ...]
    lookup: Mapping[str, str]  # area_key -> canonical name (names, aliases, whole municipality)

    def resolve(self, text: object) -> str | None:
        """The canonical area for a name or alias, None when unknown."""
        return self.lookup.get(area_key(text))

    @property
    def public(self) -> frozenset[str]:
        """Values public surfaces show as they are."""
        return frozenset((*self.names, WHOLE_MUNICIPALITY, UNKNOWN_AREA))


def area_vocabulary(path: str | Path | None = None) -> AreaVocabulary:
    """The area vocabulary of areas.csv (``path`` as in :func:`load_areas`)."""
    file = _resolve(path, "areas.csv")
    return _vocabulary_cached(str(file), _stamp(file))


@lru_cache(maxsize=8)
def _vocabulary_cached(file: str, _mtime: int) -> AreaVocabulary:
    name = Path(file).name
    areas = _load_areas_cached(file, _mtime)
    lookup: dict[str, str] = {area_key(WHOLE_MUNICIPALITY): WHOLE_MUNICIPALITY}
    for area, aliases in zip(areas["name"], areas["aliases"], strict=True):
        for alias in (area, *(a.strip() for a in aliases.split("|") if a.strip())):
            key = area_key(alias)
            if not key:
                continue
            if lookup.get(key, area) != area:
                raise ReferenceDataError(
                    f"Områdesfilen {name}: '{alias}' pekar på både '{lookup[key]}' och "
                    f"'{area}'.")
            lookup[key] = area
    return AreaVocabulary(names=tuple(areas["name"]), lookup=MappingProxyType(lookup))


def _safe_vocabulary() -> AreaVocabulary | None:
    """The configured vocabulary, or None when areas.csv cannot be read (then nothing is
    resolved at ingest; public surfaces still hide every value not known)."""
    try:
        return area_vocabulary()
    except ReferenceDataError:
        return None


def canonical_areas(values: pa.Array) -> tuple[pa.Array, dict[str, int]]:
    """Names and aliases -> the canonical area; other values kept as they are (the row is
    never lost). Returns (values, {unknown value: rows}); empty values are left alone."""
    vocab = _safe_vocabulary()
    if len(values) == 0:
        return values, {}
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary.to_pylist()
    mapped, unknown_codes = [], []
    for code, value in enumerate(uniques):
        text = "" if value is None else str(value)
        hit = vocab.resolve(text) if vocab is not None else None
        mapped.append(hit if hit is not None else text)
        if hit is None and text.strip():
            unknown_codes.append(code)
    indices = encoded.indices
    out = pc.take(pa.array(mapped, type=values.type), indices)
    unknown: dict[str, int] = {}
    if unknown_codes:
        counts = np.bincount(indices.to_numpy(zero_copy_only=False), minlength=len(uniques))
        unknown = {str(uniques[c]): int(counts[c]) for c in unknown_codes}
    return out, unknown


def public_areas(values: pd.Series) -> pd.Series:
    """``values`` with every area that is not in areas.csv (nor the whole municipality)
    replaced by :data:`UNKNOWN_AREA`: free text typed into Område (an address, a name)
    never reaches a public surface."""
    vocab = _safe_vocabulary()
    known = vocab.public if vocab is not None else frozenset((WHOLE_MUNICIPALITY,
                                                              UNKNOWN_AREA))
    mask = values.isin(known)
    if bool(mask.all()):
        return values
    return values.where(mask, UNKNOWN_AREA).astype(values.dtype)


#: Datasets whose ``area`` column holds user-typed areas.
AREA_DATASETS = ("incidents", "survey_responses", "survey", "traffic", "activities")


def public_area_frames(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every frame with its ``area`` column as public surfaces may show it
    (:func:`public_areas`); other frames unchanged (the same objects)."""
    out = dict(frames)
    for name in AREA_DATASETS:
        frame = out.get(name)
        if frame is not None and "area" in frame.columns and len(frame):
            column = frame["area"]
            area = public_areas(column)
            if area is not column:
                out[name] = frame.assign(area=area)
    return out


# --------------------------------------------------------------------------- population


def load_population(path: str | Path | None = None) -> pd.DataFrame:
    """Population per year and area: year (int64), area (str), population (int64).

    ``area == WHOLE_MUNICIPALITY`` is the municipality total.
    """
    file = _resolve(path, "population.csv")
    return _load_population_cached(str(file), _stamp(file)).copy()


@lru_cache(maxsize=8)
def _load_population_cached(file: str, _mtime: int) -> pd.DataFrame:
    name = Path(file).name
    frame = _read_reference_csv(file, "Befolkningsfilen", ("year", "area", "population"))
    out = pd.DataFrame({"area": frame["area"].str.strip().astype("str")})
    for col in ("year", "population"):
        values = pd.to_numeric(frame[col].str.replace(" ", ""), errors="coerce")
        if values.isna().any():
            line = int(values.isna().to_numpy().argmax()) + 2
            raise ReferenceDataError(
                f"Befolkningsfilen {name}, rad {line}: kolumnen {col} är inget heltal."
            )
        out[col] = values.astype("int64")
    if out.duplicated(["year", "area"]).any():
        raise ReferenceDataError(f"Befolkningsfilen {name}: samma år och område finns två gånger.")
    if not (out["area"] == WHOLE_MUNICIPALITY).any():
        raise ReferenceDataError(
            f"Befolkningsfilen {name} saknar rader för '{WHOLE_MUNICIPALITY}'."
        )
    return out[["year", "area", "population"]].sort_values(["area", "year"],
                                                            ignore_index=True)


def population_for(year: int, area: str | None = None, *,
                   path: str | Path | None = None) -> int:
    """Inhabitants of ``area`` (None = whole municipality) in ``year``.

    Years outside the file use the nearest year in it (the newest figure is the best
    estimate for the current year; rates must not fail because SCB has not published yet).
    """
    pop = load_population(path)
    key = WHOLE_MUNICIPALITY if area is None else area
    rows = pop[pop["area"] == key]
    if rows.empty:
        known = ", ".join(sorted(set(pop["area"])))
        raise ReferenceDataError(f"Okänt område '{key}' i befolkningsfilen (kända: {known}).")
    years = rows["year"].to_numpy()
    idx = int(abs(years - int(year)).argmin())
    return int(rows["population"].to_numpy()[idx])
