"""The citizens' promise (medborgarlöfte): ONE typed model and ONE loading policy.

The promise's goals, indicators, planned activities, definitions (e.g. whether "går aldrig
ut" counts as otrygg) and disclosure limits live only in ``data/medborgarlofte.toml``
(``$HJO_PROMISE_FILE`` points elsewhere, so another municipality swaps the file). Every
surface (pages, report, slides, disclosure settings) loads it through
:func:`load_promise_with_fallback` and reads the typed :class:`Promise` below; nothing
else parses the file or keeps a second model of it. Errors are Swedish (they reach the
user as-is).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from hjo_data.reference import REPO_ROOT, ReferenceDataError, reason_sv
from hjo_data.schema import (
    DATASETS,
    HOME_MUNICIPALITY,
    Column,
    ConfiguredDefault,
    Dataset,
    normalise_value,
)

DEFAULT_PROMISE_FILE = REPO_ROOT / "data" / "medborgarlofte.toml"

Direction = Literal["down", "up"]

#: measure -> datasets it applies to. Interpreted by hjo_data.lagesbild (goal cards).
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
#: Geography code of the whole country (Kolada's "Riket").
RIKET_CODE = "0000"


class PromiseFileError(ReferenceDataError):
    """The promise file (medborgarlofte.toml) is missing or broken."""


def promise_file() -> Path:
    """Path of the promise file ($HJO_PROMISE_FILE)."""
    env = os.environ.get("HJO_PROMISE_FILE", "").strip()
    return Path(env) if env else DEFAULT_PROMISE_FILE


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
class SeriesBreak:
    """A known break in an official series (a changed survey, a police-initiated swing),
    annotated on the comparison chart at ``period``."""

    period: str
    text: str


@dataclass(frozen=True)
class OfficialIndicator:
    """An official indicator a goal is followed with (Kolada KPI, BRÅ category, NTU...):
    rows of the ``statistik`` dataset with this ``source`` and ``indicator_id``.

    ``per_100k``: the source gives counts; the comparison shows them per 100 000
    inhabitants (a value already per 100 000 is shown as it is).
    """

    goal_id: str
    source: str
    indicator_id: str
    title: str
    unit: str
    per_100k: bool = False
    breaks: tuple[SeriesBreak, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """The promise's ``[comparison]``: the geographies official statistics are compared
    with (kommun codes; county ``00NN``; Riket ``0000``) and, optionally, the population
    indicator that turns counts into values per 100 000 (else the municipality's own
    ``data/reference/population.csv`` only)."""

    home: str
    county: str = ""
    riket: str = RIKET_CODE
    peers: tuple[str, ...] = ()
    #: indicator_id of a population indicator in ``statistik`` (counts -> per 100 000)
    population: str = ""

    @property
    def geo_codes(self) -> tuple[str, ...]:
        """Home, county, Riket and peers, in that order (unconfigured ones left out)."""
        codes = (self.home, self.county, self.riket, *self.peers)
        return tuple(dict.fromkeys(c for c in codes if c))


@dataclass(frozen=True)
class Goal:
    id: str
    title: str
    short_title: str
    indicators: tuple[Indicator, ...]
    official: tuple[OfficialIndicator, ...] = ()


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
    """The promise's ``[settings]``: definitions and public-mode limits.

    ``otrygg_includes_never_out`` is THE definition of the survey share "otrygga" on every
    surface (``survey`` takes it explicitly). The disclosure limits reach
    ``hjo_data.disclosure`` only through ``disclosure.settings_of(promise)``.
    """

    suppression_threshold: int = 5
    min_survey_n: int = 30
    baseline_year: int | None = None
    otrygg_includes_never_out: bool = True
    suppress_zero: bool = False


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
    comparison: Comparison | None = None

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.period_start, self.period_end + 1))

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(ind for goal in self.goals for ind in goal.indicators)

    def official_indicators(self) -> tuple[OfficialIndicator, ...]:
        """Every goal's official indicators, in goal order."""
        return tuple(ind for goal in self.goals for ind in goal.official)

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
            f"Medborgarlöftesfilen {name} kunde inte läsas: {reason_sv(err)}") from err
    return _parse_data(data, name)


def promise_from_mapping(data: Mapping[str, Any], *, name: str = "medborgarlofte.toml"
                         ) -> Promise:
    """Validate an already parsed promise (a TOML-shaped mapping), exactly like the file;
    raises PromiseFileError (for tests and tools that build a promise in code)."""
    return _parse_data(data, name)


def effective_settings(promise: Promise | None) -> Settings:
    """The promise's settings, or the packaged defaults when there is no promise at all
    (so a definition such as ``otrygg_includes_never_out`` is always decided here)."""
    return promise.settings if promise is not None else Settings()


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


def column_default(column: Column) -> object:
    """The default of ``column`` for a missing value, a configured one resolved now (the
    youth geography: ``home_municipality()``)."""
    default = column.default
    if isinstance(default, ConfiguredDefault):
        if default == HOME_MUNICIPALITY:
            return home_municipality()
        raise ValueError(f"unknown configured default {default.name!r}")
    return default


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
        self.unique([f"{o.source}/{o.indicator_id}" for g in goals for o in g.official],
                    "officiell indikator (källa/id)")
        home_code = self.code(muni)
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
            municipality_code=home_code,
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
            comparison=self.comparison(data.get("comparison", {}), home_code),
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
        flags = {}
        for key, default in (("otrygg_includes_never_out", True), ("suppress_zero", False)):
            flags[key] = raw.get(key, default)
            if not isinstance(flags[key], bool):
                raise self.fail("[settings]", f"'{key}' måste vara true/false.")
        return Settings(
            suppression_threshold=self.integer(raw, "suppression_threshold", "[settings]", 5,
                                               minimum=1),
            min_survey_n=self.integer(raw, "min_survey_n", "[settings]", 30, minimum=1),
            baseline_year=baseline,
            otrygg_includes_never_out=flags["otrygg_includes_never_out"],
            suppress_zero=flags["suppress_zero"],
        )

    def entry(self, raw: object, where: str, shape: str = "") -> tuple[dict[str, Any], str]:
        """A table entry of a list and its id (``where`` names it by number: the id is
        not known yet)."""
        if not isinstance(raw, dict):
            raise self.fail(where, f"måste vara en tabell{shape}.")
        return raw, self.text(raw, "id", where)

    def goal(self, raw: object, number: int) -> Goal:
        raw, goal_id = self.entry(raw, f"mål nr {number}", " ([[goals]])")
        where = f"mål '{goal_id}'"
        title = self.text(raw, "title", where)
        short = self.text(raw, "short_title", where, required=False) or title
        inds = raw.get("indicators", [])
        if not isinstance(inds, list):
            raise self.fail(where, "'indicators' måste vara en lista ([[goals.indicators]]).")
        indicators = tuple(self.indicator(ind, goal_id, i) for i, ind in enumerate(inds, 1))
        official = raw.get("official_indicators", [])
        if not isinstance(official, list):
            raise self.fail(where, "'official_indicators' måste vara en lista "
                                   "([[goals.official_indicators]]).")
        return Goal(id=goal_id, title=title, short_title=short, indicators=indicators,
                    official=tuple(self.official(o, goal_id, i)
                                   for i, o in enumerate(official, 1)))

    def official(self, raw: object, goal_id: str, number: int) -> OfficialIndicator:
        where = f"mål '{goal_id}', officiell indikator nr {number}"
        if not isinstance(raw, dict):
            raise self.fail(where, "måste vara en tabell ([[goals.official_indicators]]).")
        source = self.text(raw, "source", where)
        if not re.fullmatch(r"[a-z0-9_-]+", source):
            raise self.fail(where, f"'source' = {source!r} ska vara ett kort namn med små "
                                   "bokstäver, t.ex. \"kolada\" eller \"bra\".")
        per_100k = raw.get("per_100k", False)
        if not isinstance(per_100k, bool):
            raise self.fail(where, "'per_100k' måste vara true/false.")
        breaks_raw = raw.get("breaks", [])
        if not isinstance(breaks_raw, list):
            raise self.fail(where, "'breaks' måste vara en lista, t.ex. "
                                   "[{ period = \"2017\", text = \"Ny enkät\" }].")
        breaks = []
        for item in breaks_raw:
            period = item.get("period") if isinstance(item, dict) else None
            if isinstance(period, int) and not isinstance(period, bool):
                period = str(period)
            if not isinstance(period, str) or not period.strip():
                raise self.fail(where, "varje seriebrott i 'breaks' behöver 'period' "
                                       "(t.ex. \"2017\") och 'text'.")
            breaks.append(SeriesBreak(period=period.strip(),
                                      text=self.text(item, "text", where)))
        return OfficialIndicator(
            goal_id=goal_id, source=source, indicator_id=self.text(raw, "indicator_id", where),
            title=self.text(raw, "title", where), unit=self.text(raw, "unit", where),
            per_100k=per_100k, breaks=tuple(breaks))

    def comparison(self, raw: object, home: str) -> Comparison:
        where = "[comparison]"
        if not isinstance(raw, dict):
            raise self.fail(where, "måste vara en tabell.")
        county = self.geo(raw.get("county", ""), "county", where, required=False)
        if county and (not county.startswith("00") or county == RIKET_CODE):
            raise self.fail(where, f"'county' = {county!r} ska vara en länskod som \"0014\" "
                                   "(00 och länets nummer).")
        riket = self.geo(raw.get("riket", RIKET_CODE), "riket", where)
        peers_raw = raw.get("peers", [])
        if not isinstance(peers_raw, list):
            raise self.fail(where, "'peers' måste vara en lista med kommunkoder, "
                                   "t.ex. [\"1498\", \"1446\"].")
        peers = tuple(self.geo(p, "peers", where) for p in peers_raw)
        if home in peers:
            raise self.fail(where, f"'peers' innehåller kommunens egen kod {home}.")
        self.unique(list(peers), "jämförelsekommun")
        population = self.text(raw, "population", where, required=False)
        return Comparison(home=home, county=county, riket=riket, peers=peers,
                          population=population)

    def geo(self, value: object, key: str, where: str, *, required: bool = True) -> str:
        """A four-digit geography code (an integer is zero-padded)."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:04d}"
        if value == "" and not required:
            return ""
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}", value.strip()):
            raise self.fail(where, f"'{key}' ska vara fyrsiffriga koder (var {value!r}).")
        return value.strip()

    def indicator(self, raw: object, goal_id: str, number: int) -> Indicator:
        raw, ind_id = self.entry(raw, f"mål '{goal_id}', indikator nr {number}")
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
        raw, act_id = self.entry(raw, f"aktivitet nr {number}", " ([[activities]])")
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
