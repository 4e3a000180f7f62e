"""Reference data: areas, population and the citizens' promise (medborgarlöfte).

Everything a municipality changes lives in files, not code: ``data/reference/`` (areas.csv,
areas.geojson, population.csv) and ``data/medborgarlofte.toml``. The environment variables
``HJO_REFERENCE_DIR`` and ``HJO_PROMISE_FILE`` point elsewhere, so another municipality
swaps files by configuration. Errors are Swedish (they reach the user as-is).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import pandas as pd

from hjo_data.errors import HjoDataError
from hjo_data.schema import DATASETS, Dataset, normalise_value

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE_DIR = REPO_ROOT / "data" / "reference"
DEFAULT_PROMISE_FILE = REPO_ROOT / "data" / "medborgarlofte.toml"

#: Name of the whole-municipality row in population.csv (and the default survey area).
WHOLE_MUNICIPALITY = "Hela kommunen"
AREA_TYPES = ("tätort", "landsbygd")

Direction = Literal["down", "up"]

#: measure -> datasets it applies to. Interpreted by hjo_data.indicators.
MEASURES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "count": ("incidents", "traffic", "activities"),
    "rate_per_1000": ("incidents",),
    "share": ("survey", "youth"),
    "participants": ("activities",),
    "share_done": ("activities",),
    "sum": ("incidents", "traffic", "activities"),
    "offence_rate": ("traffic",),
})
#: Filters a "share" measure needs so that one value per year is defined.
_SHARE_REQUIRED_FILTERS = {"survey": ("indicator",), "youth": ("indicator", "grade")}
_SPEC_RESERVED = ("dataset", "measure", "column")


class ReferenceDataError(HjoDataError):
    """A reference file (areas, population, GeoJSON) is missing or broken."""


class PromiseFileError(ReferenceDataError):
    """The promise file (medborgarlofte.toml) is missing or broken."""


# --------------------------------------------------------------------------- paths


def reference_dir() -> Path:
    """Directory of areas.csv, areas.geojson, population.csv ($HJO_REFERENCE_DIR)."""
    env = os.environ.get("HJO_REFERENCE_DIR", "").strip()
    return Path(env) if env else DEFAULT_REFERENCE_DIR


def promise_file() -> Path:
    """Path of the promise file ($HJO_PROMISE_FILE)."""
    env = os.environ.get("HJO_PROMISE_FILE", "").strip()
    return Path(env) if env else DEFAULT_PROMISE_FILE


def _resolve(path: str | Path | None, default_name: str) -> Path:
    if path is None:
        return reference_dir() / default_name
    path = Path(path)
    return path / default_name if path.is_dir() else path


def _reason(err: Exception) -> str:
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
    """Areas: name (str), type ('tätort'/'landsbygd'), population (int64), lat, lon, note.

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
        raise ReferenceDataError(f"{what_sv} {name} kunde inte läsas: {_reason(err)}") from err
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
        raise ReferenceDataError(f"Kartfilen {name} kunde inte läsas: {_reason(err)}") from err
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


# --------------------------------------------------------------------------- population


def load_population(path: str | Path | None = None) -> pd.DataFrame:
    """Population per year and area: year (int64), area (str), population (int64).

    ``area == "Hela kommunen"`` is the municipality total.
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


# --------------------------------------------------------------------------- promise


@dataclass(frozen=True)
class Indicator:
    """One follow-up indicator of a goal; ``filters`` maps column -> allowed values."""

    id: str
    goal_id: str
    label: str
    dataset: str
    measure: str
    direction: Direction
    filters: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    columns: tuple[str, ...] = ()
    note: str = ""

    @property
    def spec(self) -> dict[str, object]:
        """The spec back as a plain dict (single filter values unwrapped)."""
        out: dict[str, object] = {"dataset": self.dataset, "measure": self.measure}
        if self.columns:
            out["column"] = self.columns[0] if len(self.columns) == 1 else list(self.columns)
        for key, values in self.filters.items():
            out[key] = values[0] if len(values) == 1 else list(values)
        return out

    def filter_value(self, column: str) -> str | None:
        """The single filter value for ``column`` (None when unfiltered or several)."""
        values = self.filters.get(column, ())
        return values[0] if len(values) == 1 else None


@dataclass(frozen=True)
class Goal:
    id: str
    title: str
    short_title: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class PlannedActivity:
    id: str
    activity_type: str
    title: str
    planned: Mapping[int, int]
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    name: str
    role: str
    place: str
    date: date | None


@dataclass(frozen=True)
class Settings:
    suppression_threshold: int = 5
    min_survey_n: int = 30
    baseline_year: int | None = None
    otrygg_includes_never_out: bool = True


@dataclass(frozen=True)
class Promise:
    title: str
    municipality: str
    municipality_short: str
    municipality_code: str
    county: str
    police_area: str
    police_region: str
    period_start: int
    period_end: int
    goals: tuple[Goal, ...]
    activities: tuple[PlannedActivity, ...]
    settings: Settings
    subtitle: str = ""
    purpose: str = ""
    signatures: tuple[Signature, ...] = ()
    source: str = ""

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.period_start, self.period_end + 1))

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(ind for goal in self.goals for ind in goal.indicators)

    def goal(self, goal_id: str) -> Goal:
        for goal in self.goals:
            if goal.id == goal_id:
                return goal
        raise KeyError(goal_id)

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def planned_by_type(self, year: int) -> dict[str, int]:
        """Planned occasions per activity type in ``year`` (same-type activities summed)."""
        out: dict[str, int] = {}
        for act in self.activities:
            if year in act.planned:
                out[act.activity_type] = out.get(act.activity_type, 0) + act.planned[year]
        return out


def load_promise(path: str | Path | None = None) -> Promise:
    """Parse and validate the promise file (default ``promise_file()``).

    Raises PromiseFileError with a Swedish message naming the broken entry.
    """
    file = Path(path) if path is not None else promise_file()
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as err:
        raise PromiseFileError(
            f"Medborgarlöftesfilen {file.name} saknas. Ange rätt fil med "
            "miljövariabeln HJO_PROMISE_FILE."
        ) from err
    return _load_promise_cached(str(file), stamp)


@lru_cache(maxsize=8)
def _load_promise_cached(file: str, _mtime: int) -> Promise:
    name = Path(file).name
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise PromiseFileError(
            f"Medborgarlöftesfilen {name} är inte giltig TOML: {_swedish_toml_error(err)}"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise PromiseFileError(
            f"Medborgarlöftesfilen {name} kunde inte läsas: {_reason(err)}") from err
    return _parse_data(data, name)


def parse_promise(text: str, *, name: str = "medborgarlofte.toml") -> Promise:
    """Parse promise TOML given as text (for uploads and tests)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PromiseFileError(
            f"Medborgarlöftesfilen {name} är inte giltig TOML: {_swedish_toml_error(err)}"
        ) from err
    return _parse_data(data, name)


def _parse_data(data: Mapping[str, Any], name: str) -> Promise:
    """Validate parsed TOML; any unexpected shape becomes a PromiseFileError."""
    try:
        return _PromiseParser(name).parse(data)
    except PromiseFileError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise PromiseFileError(
            f"Medborgarlöftesfilen {name} har ett oväntat innehåll: {err}") from err


class PromiseLoad(NamedTuple):
    """Result of :func:`load_promise_with_fallback` (unpacks as ``promise, message``).

    ``promise`` None means no promise at all (``message`` is then the error);
    otherwise ``message`` is None or a warning that the packaged default is shown.
    """

    promise: Promise | None
    message: str | None


def load_promise_with_fallback() -> PromiseLoad:
    """The ONE loading policy for the promise in pages, slides, reports and settings.

    * the configured file (``promise_file()``, i.e. $HJO_PROMISE_FILE) when it is valid:
      ``(promise, None)``;
    * when the configured file is broken and it is not the packaged default: the packaged
      ``DEFAULT_PROMISE_FILE`` plus a Swedish warning naming the broken file, the reason
      and that the default promise is shown;
    * when the packaged file cannot be read either: ``(None, Swedish error)``; callers
      then show no goals and use the strict ``DisclosureSettings()`` defaults.

    Never raises for a problem with a file.
    """
    configured = promise_file()
    try:
        return PromiseLoad(load_promise(configured), None)
    except PromiseFileError as err:
        reason = _sentence(str(err))
    if _same_file(configured, DEFAULT_PROMISE_FILE):
        return PromiseLoad(None, f"Medborgarlöftet kunde inte läsas, så inga mål visas. "
                                 f"{reason}")
    try:
        default = load_promise(DEFAULT_PROMISE_FILE)
    except PromiseFileError as default_err:
        return PromiseLoad(None, (
            f"Medborgarlöftet kunde inte läsas, så inga mål visas. Den angivna filen "
            f"{configured.name} (HJO_PROMISE_FILE): {reason} Standardlöftet "
            f"{DEFAULT_PROMISE_FILE.name}: {_sentence(str(default_err))}"))
    return PromiseLoad(default, (
        f"Medborgarlöftet i {configured.name} (HJO_PROMISE_FILE) kunde inte användas: {reason} "
        f"Standardlöftet ({DEFAULT_PROMISE_FILE.name}) visas i stället."))


def home_municipality() -> str:
    """Short name of the municipality the promise is for ("Hjo"): youth survey rows
    without a geography are about it, and it is the home line next to region and
    country. "" when there is no promise at all."""
    promise = load_promise_with_fallback().promise
    return promise.municipality_short if promise is not None else ""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _swedish_toml_error(err: tomllib.TOMLDecodeError) -> str:
    msg = str(err)
    return msg.replace("at line", "på rad").replace("column", "kolumn").replace(
        "at end of document", "i slutet av filen")


class _PromiseParser:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, msg: str) -> PromiseFileError:
        prefix = f"Medborgarlöftesfilen {self.name}"
        return PromiseFileError(f"{prefix}, {where}: {msg}" if where else f"{prefix}: {msg}")

    def text(self, table: Mapping[str, Any], key: str, where: str, *,
             required: bool = True) -> str:
        value = table.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"'{key}' saknas eller är inte en text.")
        return value.strip()

    def integer(self, table: Mapping[str, Any], key: str, where: str, default: int | None = None,
                *, minimum: int = 0) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"'{key}' måste vara ett heltal.")
        if value < minimum:
            raise self.fail(where, f"'{key}' måste vara minst {minimum}.")
        return value

    def table(self, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.fail("", f"avsnittet [{key}] saknas.")
        return value

    def parse(self, data: Mapping[str, Any]) -> Promise:
        muni = self.table(data, "municipality")
        police = self.table(data, "police")
        period = self.table(data, "period")
        start = self.integer(period, "start", "[period]", minimum=2000)
        end = self.integer(period, "end", "[period]", minimum=2000)
        if end < start:
            raise self.fail("[period]", "'end' är före 'start'.")
        settings = self.settings(data.get("settings", {}))
        goals_raw = data.get("goals")
        if not isinstance(goals_raw, list) or not goals_raw:
            raise self.fail("", "inga mål ([[goals]]) finns.")
        goals = tuple(self.goal(g, i) for i, g in enumerate(goals_raw, start=1))
        self.unique([g.id for g in goals], "mål")
        self.unique([ind.id for g in goals for ind in g.indicators], "indikator")
        goal_ids = {g.id for g in goals}
        acts_raw = data.get("activities", [])
        if not isinstance(acts_raw, list):
            raise self.fail("", "'activities' måste vara en lista ([[activities]]).")
        activities = tuple(self.activity(a, i, goal_ids) for i, a in enumerate(acts_raw, 1))
        self.unique([a.id for a in activities], "aktivitet")
        sigs_raw = data.get("signatures", [])
        if not isinstance(sigs_raw, list):
            raise self.fail("", "'signatures' måste vara en lista ([[signatures]]).")
        signatures = tuple(
            Signature(name=str(s.get("name", "")), role=str(s.get("role", "")),
                      place=str(s.get("place", "")),
                      date=s.get("date") if isinstance(s.get("date"), date) else None)
            for s in sigs_raw if isinstance(s, dict)
        )
        return Promise(
            title=self.text(data, "title", ""),
            subtitle=self.text(data, "subtitle", "", required=False),
            purpose=self.text(data, "purpose", "", required=False),
            municipality=self.text(muni, "name", "[municipality]"),
            municipality_short=self.text(muni, "short_name", "[municipality]", required=False)
            or self.text(muni, "name", "[municipality]"),
            municipality_code=self.code(muni),
            county=self.text(muni, "county", "[municipality]", required=False),
            police_area=self.text(police, "area", "[police]"),
            police_region=self.text(police, "region", "[police]", required=False),
            period_start=start,
            period_end=end,
            goals=goals,
            activities=activities,
            settings=settings,
            signatures=signatures,
            source=self.name,
        )

    def code(self, muni: Mapping[str, Any]) -> str:
        code = muni.get("code")
        code = f"{code:04d}" if isinstance(code, int) and not isinstance(code, bool) else code
        if not isinstance(code, str) or not (len(code) == 4 and code.isdigit()):
            raise self.fail("[municipality]", "'code' måste vara en fyrsiffrig kommunkod.")
        return code

    def unique(self, ids: list[str], what: str) -> None:
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise self.fail("", f"id '{i}' används för mer än en {what}.")
            seen.add(i)

    def settings(self, raw: object) -> Settings:
        if not isinstance(raw, dict):
            raise self.fail("[settings]", "måste vara en tabell.")
        baseline = raw.get("baseline_year")
        if baseline is not None:
            baseline = self.integer(raw, "baseline_year", "[settings]", minimum=2000)
        never_out = raw.get("otrygg_includes_never_out", True)
        if not isinstance(never_out, bool):
            raise self.fail("[settings]", "'otrygg_includes_never_out' måste vara true/false.")
        return Settings(
            suppression_threshold=self.integer(raw, "suppression_threshold", "[settings]", 5,
                                               minimum=1),
            min_survey_n=self.integer(raw, "min_survey_n", "[settings]", 30, minimum=1),
            baseline_year=baseline,
            otrygg_includes_never_out=never_out,
        )

    def goal(self, raw: object, number: int) -> Goal:
        where = f"mål nr {number}"
        if not isinstance(raw, dict):
            raise self.fail(where, "måste vara en tabell ([[goals]]).")
        goal_id = self.text(raw, "id", where)
        where = f"mål '{goal_id}'"
        title = self.text(raw, "title", where)
        short = self.text(raw, "short_title", where, required=False) or title
        inds = raw.get("indicators", [])
        if not isinstance(inds, list):
            raise self.fail(where, "'indicators' måste vara en lista ([[goals.indicators]]).")
        indicators = tuple(self.indicator(ind, goal_id, i) for i, ind in enumerate(inds, 1))
        return Goal(id=goal_id, title=title, short_title=short, indicators=indicators)

    def indicator(self, raw: object, goal_id: str, number: int) -> Indicator:
        where = f"mål '{goal_id}', indikator nr {number}"
        if not isinstance(raw, dict):
            raise self.fail(where, "måste vara en tabell.")
        ind_id = self.text(raw, "id", where)
        where = f"mål '{goal_id}', indikator '{ind_id}'"
        label = self.text(raw, "label", where)
        direction = raw.get("direction")
        if direction not in ("down", "up"):
            raise self.fail(where, "'direction' måste vara \"down\" eller \"up\" "
                                   f"(var {direction!r}).")
        spec = raw.get("spec")
        if not isinstance(spec, dict):
            raise self.fail(where, "'spec' saknas (t.ex. spec = { dataset = \"incidents\", "
                                   "measure = \"count\" }).")
        dataset_name = spec.get("dataset")
        if not isinstance(dataset_name, str) or dataset_name not in DATASETS:
            raise self.fail(where, f"okänd datamängd {dataset_name!r} "
                                   f"(giltiga: {', '.join(DATASETS)}).")
        dataset = DATASETS[dataset_name]
        measure = spec.get("measure")
        if not isinstance(measure, str) or measure not in MEASURES:
            raise self.fail(where, f"okänt mått {measure!r} (giltiga: {', '.join(MEASURES)}).")
        if dataset_name not in MEASURES[measure]:
            raise self.fail(where, f"måttet '{measure}' går inte att använda för "
                                   f"'{dataset_name}' (bara {', '.join(MEASURES[measure])}).")
        columns = self.measure_columns(spec, dataset, measure, where)
        filters: dict[str, tuple[str, ...]] = {}
        for key, value in spec.items():
            if key in _SPEC_RESERVED:
                continue
            filters[key] = self.filter_values(dataset, key, value, where)
        for key in _SHARE_REQUIRED_FILTERS.get(dataset_name, ()) if measure == "share" else ():
            if len(filters.get(key, ())) != 1:
                raise self.fail(where, f"andelen behöver exakt ett värde för '{key}'.")
        return Indicator(id=ind_id, goal_id=goal_id, label=label, dataset=dataset_name,
                         measure=measure, direction=direction,
                         filters=MappingProxyType(filters), columns=columns,
                         note=str(raw.get("note", "")))

    def measure_columns(self, spec: Mapping[str, Any], dataset: Dataset, measure: str,
                        where: str) -> tuple[str, ...]:
        raw = spec.get("column")
        if measure not in ("sum", "offence_rate"):
            if raw is not None:
                raise self.fail(where, f"'column' används inte med måttet '{measure}'.")
            return ()
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list) or not values:
            raise self.fail(where, f"måttet '{measure}' behöver 'column' (en heltalskolumn).")
        int_cols = [c.name for c in dataset.columns if c.kind == "int"]
        for col in values:
            if col not in int_cols:
                raise self.fail(where, f"'column' = {col!r} är ingen heltalskolumn i "
                                       f"'{dataset.name}' (giltiga: {', '.join(int_cols)}).")
        return tuple(values)

    def filter_values(self, dataset: Dataset, key: str, value: object,
                      where: str) -> tuple[str, ...]:
        try:
            col = dataset.column(key)
        except KeyError:
            names = ", ".join(c.name for c in dataset.columns if c.kind in ("text", "category"))
            raise self.fail(where, f"okänd kolumn {key!r} i '{dataset.name}' "
                                   f"(filter kan vara: {names}).") from None
        if col.kind not in ("text", "category") or col.free_text:
            raise self.fail(where, f"kolumnen '{key}' går inte att filtrera på.")
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(
                isinstance(v, str) and v.strip() for v in values):
            raise self.fail(where, f"filtret '{key}' måste vara en text eller en lista med texter.")
        if col.kind == "text":
            return tuple(v.strip() for v in values)
        out = []
        for v in values:
            canonical = col.synonyms.get(normalise_value(v))
            if canonical is None:
                raise self.fail(where, f"okänt värde {v!r} för '{key}' "
                                       f"(giltiga: {', '.join(col.vocabulary)}).")
            out.append(canonical)
        return tuple(out)

    def activity(self, raw: object, number: int, goal_ids: set[str]) -> PlannedActivity:
        where = f"aktivitet nr {number}"
        if not isinstance(raw, dict):
            raise self.fail(where, "måste vara en tabell ([[activities]]).")
        act_id = self.text(raw, "id", where)
        where = f"aktivitet '{act_id}'"
        col = DATASETS["activities"].column("activity_type")
        type_raw = self.text(raw, "activity_type", where)
        act_type = col.synonyms.get(normalise_value(type_raw))
        if act_type is None:
            raise self.fail(where, f"okänd aktivitetstyp {type_raw!r} "
                                   f"(giltiga: {', '.join(col.vocabulary)}).")
        goals = raw.get("goals", [])
        if not isinstance(goals, list) or not all(isinstance(g, str) for g in goals):
            raise self.fail(where, "'goals' måste vara en lista med mål-id.")
        unknown = [g for g in goals if g not in goal_ids]
        if unknown:
            raise self.fail(where, f"okänt mål {', '.join(unknown)}.")
        planned_raw = raw.get("planned", {})
        if not isinstance(planned_raw, dict):
            raise self.fail(where, "'planned' måste vara en tabell, t.ex. { 2023 = 3, 2024 = 3 }.")
        planned: dict[int, int] = {}
        for year, count in planned_raw.items():
            if not str(year).isdigit():
                raise self.fail(where, f"'planned' har ett ogiltigt år {year!r}.")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise self.fail(where, f"'planned' för {year} måste vara ett heltal ≥ 0.")
            planned[int(year)] = count
        return PlannedActivity(id=act_id, activity_type=act_type,
                               title=self.text(raw, "title", where),
                               planned=MappingProxyType(planned), goals=tuple(goals))
