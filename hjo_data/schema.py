"""Canonical schema: the one place that lists every dataset's columns.

Each column has a canonical English name (used in code and in the store), a Swedish
display label (used in the UI), header aliases (Swedish and English spellings seen in
real files; matched after normalisation, see ``normalise_header``), a kind that decides
how raw text is parsed, and optionally a vocabulary with synonyms.

Every stored row additionally carries the bookkeeping columns in ``BOOKKEEPING``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from hjo_data.errors import UnknownDatasetError

Kind = Literal["text", "category", "date", "datetime", "int", "float", "share"]

#: Columns the store adds to every row.
BOOKKEEPING = ("record_id", "batch_id")
#: The area value of the whole municipality (population total, default survey and activity
#: area). The one spelling: use this constant, never the literal.
WHOLE_MUNICIPALITY = "Hela kommunen"


@dataclass(frozen=True)
class Column:
    """One canonical column.

    kind:
      text      free or short text, stripped
      category  text mapped onto ``vocabulary`` (case-insensitive, via ``synonyms``)
      date      calendar date (stored as datetime64 at midnight)
      datetime  date with optional time of day
      int       whole number >= ``minimum``; decimal comma / thousands separators allowed
      float     decimal number; decimal comma allowed
      share     proportion 0..1; percent values (with "%" or a column whose max > 1)
                are divided by 100
    """

    name: str
    kind: Kind
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    vocabulary: tuple[str, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: For categories: value used when the raw value is unknown (kept, with a warning,
    #: raw text stored in ``<name>_raw``). None means an unknown value rejects the row.
    fallback: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: Free text may hold personal data: personnummer are masked before storing, and the
    #: column is never shown in public mode.
    free_text: bool = False
    #: Exact position (lat/lon): never shown in public mode.
    position: bool = False
    #: Default for optional numeric/text columns that are missing in the file; a
    #: ``ConfiguredDefault`` when configuration decides it (read every default with
    #: ``promise.column_default(column)``).
    default: object = None


@dataclass(frozen=True, kw_only=True)
class Dataset:
    name: str
    label: str
    columns: tuple[Column, ...]
    #: Column holding a caller-supplied id; when absent or empty a stable id is derived
    #: from the row content.
    id_column: str | None = None
    #: Column that places a row in time (for freshness, period filters).
    time_column: str
    #: Headers whose presence identifies this dataset in auto-detection.
    signature: tuple[str, ...]
    #: How often fresh data is expected, in days (freshness warnings).
    cadence_days: int
    #: Who produces the data, in Swedish: the "Källa" of every chart, slide and report.
    source: str = ""
    #: When set, ``record_id`` is a hash of these columns only (the dataset's natural key)
    #: instead of the whole row content.
    key_columns: tuple[str, ...] = ()
    #: When set, a row whose key is stored with other values in these columns is a
    #: revision: it replaces the stored row, which moves to the store's history.
    revision_columns: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """Columns of the stored table, in order (incl. ``*_raw`` and bookkeeping)."""
        names: list[str] = []
        for col in self.columns:
            names.append(col.name)
            if col.kind == "category" and col.fallback is not None:
                names.append(f"{col.name}_raw")
            if col.kind == "datetime":
                names.append(f"{col.name}_has_time")
        return tuple(names) + BOOKKEEPING


def _vocab(*pairs: tuple[str, tuple[str, ...]]) -> tuple[tuple[str, ...], Mapping[str, str]]:
    """Build (vocabulary, synonyms) from (canonical, (synonym, ...)) pairs."""
    vocabulary = tuple(p[0] for p in pairs)
    synonyms: dict[str, str] = {}
    for canonical, syns in pairs:
        synonyms[normalise_value(canonical)] = canonical
        for s in syns:
            synonyms[normalise_value(s)] = canonical
    return vocabulary, MappingProxyType(synonyms)


def normalise_header(text: str) -> str:
    """Header key: lower case, accents kept (å ä ö matter in Swedish), separators unified."""
    text = unicodedata.normalize("NFC", str(text)).replace("\ufeff", "").strip().lower()
    text = re.sub(r"[\s\-_./()]+", "_", text)
    return text.strip("_")


def normalise_value(text: str) -> str:
    """Vocabulary key: lower case, single spaces, NFC."""
    text = unicodedata.normalize("NFC", str(text)).strip().lower()
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- vocabularies

INCIDENT_CATEGORIES, INCIDENT_CATEGORY_SYNONYMS = _vocab(
    ("skadegörelse", ("skadegorelse", "vandalism", "skada", "damage")),
    ("klotter", ("graffiti", "tags", "tagg")),
    ("nedskräpning", ("nedskrapning", "skräp", "littering", "nedskräpat")),
    ("ordningsstörning", ("ordningsstorning", "störning", "bråk", "stök", "oväsen",
                          "fylleri/lob", "fylleri", "disorder")),
    ("brand", ("anlagd brand", "brand i container", "fire", "eldning")),
    ("våld/hot", ("våld", "hot", "vald/hot", "misshandel", "hot/våld", "olaga hot",
                  "violence", "rån")),
    ("stöld/inbrott", ("stöld", "inbrott", "stold/inbrott", "snatteri", "theft", "burglary",
                       "stöld/inbrott", "cykelstöld")),
    ("narkotika", ("narkotikabrott", "droger", "drugs", "narcotics")),
    ("alkohol", ("langning", "berusning", "alcohol", "alkoholförtäring")),
    ("motorburen problematik", ("mopedbuskörning", "epa-traktor", "epa", "a-traktor",
                                "bilkörning", "buskörning", "mopedåkning", "störande trafik",
                                "motorburen", "mopeder", "motor")),
    ("trafik", ("trafikbrott", "trafikolycka", "fortkörning", "traffic", "rattfylleri")),
    ("övrigt", ("ovrigt", "annat", "other", "annan")),
)

SOURCES, SOURCE_SYNONYMS = _vocab(
    ("polis", ("polisen", "police", "lpo", "lokalpolisområde")),
    ("kommun", ("kommunen", "hjo kommun", "municipality", "fritid", "socialtjänst")),
    ("skola", ("skolan", "school", "gymnasium", "grundskola")),
    ("bostadsbolag", ("bostadsbolaget", "hyresvärd", "fastighetsägare", "housing")),
    ("näringsliv", ("naringsliv", "företag", "handlare", "butik", "business")),
    ("räddningstjänst", ("raddningstjanst", "räddningstjänsten", "rescue")),
    ("allmänhet", ("allmanhet", "medborgare", "invånare", "public", "privatperson")),
    ("övrigt", ("ovrigt", "annat", "other", "väktare", "ordningsvakt")),
)

SAFETY_ANSWERS, SAFETY_ANSWER_SYNONYMS = _vocab(
    ("mycket trygg", ("very safe", "1")),
    ("ganska trygg", ("fairly safe", "2")),
    ("ganska otrygg", ("fairly unsafe", "3")),
    ("mycket otrygg", ("very unsafe", "4")),
    ("går aldrig ut", ("går aldrig ut ensam sent", "gar aldrig ut", "never go out", "5")),
)

PROBLEM_ANSWERS, PROBLEM_ANSWER_SYNONYMS = _vocab(
    ("mycket stort problem", ("1",)),
    ("ganska stort problem", ("2",)),
    ("ganska litet problem", ("3",)),
    ("inget problem", ("inget problem alls", "4")),
    ("vet ej", ("vet inte", "ingen uppfattning", "5")),
)

GENDERS, GENDER_SYNONYMS = _vocab(
    ("kvinna", ("k", "kvinnor", "female", "f", "woman", "flicka", "flickor", "tjej")),
    ("man", ("m", "män", "male", "pojke", "pojkar", "kille")),
    ("annat", ("annan", "ickebinär", "other", "vill ej uppge", "uppger ej")),
    ("alla", ("totalt", "t", "samtliga", "total", "all", "båda")),
)

AGE_GROUPS, AGE_GROUP_SYNONYMS = _vocab(
    ("16–29", ("16-29", "16 - 29", "16_29")),
    ("30–49", ("30-49", "30 - 49")),
    ("50–64", ("50-64", "50 - 64")),
    ("65+", ("65-", "65 och äldre", "65-84", "65 +")),
)

GRADES, GRADE_SYNONYMS = _vocab(
    ("åk 7", ("åk7", "ak 7", "årskurs 7", "grade 7", "7")),
    ("åk 9", ("åk9", "ak 9", "årskurs 9", "grade 9", "9")),
    ("gy 2", ("gy2", "år 2 gymnasiet", "gymnasiet år 2", "åk 2 gy", "gy år 2")),
)

#: The survey's problem questions: micro-data column (answer on PROBLEM_ANSWERS) = survey
#: indicator -> (Swedish label, further accepted spellings of the indicator).
_PROBLEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "problem_nedskrapning": ("nedskräpning", ()),
    "problem_skadegorelse": ("skadegörelse", ()),
    "problem_klotter": ("klotter", ()),
    "problem_trafik": ("bilar/mopeder som körs störande",
                       ("störande trafik", "bilar och mopeder")),
    "problem_paverkade": ("personer påverkade av alkohol/narkotika", ("påverkade personer",)),
    "problem_brak": ("bråk och stök", ("bråk",)),
}
#: Micro-data problem columns -> Swedish label.
SURVEY_PROBLEM_COLUMNS = {name: label for name, (label, _) in _PROBLEMS.items()}

#: Survey indicators: problem questions map to these shares ("mycket/ganska stort problem").
SURVEY_INDICATORS, SURVEY_INDICATOR_SYNONYMS = _vocab(
    ("otrygg_kvall", ("otrygg sent en kväll", "andel otrygga", "otrygghet", "unsafe_evening")),
    *((name, (label, *more)) for name, (label, more) in _PROBLEMS.items()),
)


YOUTH_INDICATORS, YOUTH_INDICATOR_SYNONYMS = _vocab(
    ("alkohol_12m", ("alkohol senaste 12 månaderna", "druckit alkohol", "alcohol_12m")),
    ("berusad_4v", ("berusad senaste 4 veckorna", "intensivkonsumtion", "drunk_4w")),
    ("rokning", ("röker", "rökning", "smoking")),
    ("snus", ("snusar", "snusning")),
    ("e_cigarett", ("e-cigarett", "vape", "vejp", "e-cigaretter")),
    ("narkotika_nagonsin", ("narkotika någon gång", "använt narkotika", "narcotics_ever")),
    ("spel_om_pengar", ("spelat om pengar", "spel", "gambling")),
    ("dopning", ("doping", "dopningsmedel")),
    ("psykosomatiska_besvar", ("psykosomatiska besvär", "psykisk ohälsa",
                               "mental_wellbeing", "psykiskt välbefinnande")),
)

CONTROL_TYPES, CONTROL_TYPE_SYNONYMS = _vocab(
    ("hastighet", ("hastighetskontroll", "fart", "speed")),
    ("nykterhet", ("nykterhetskontroll", "sobriety", "alkotest")),
    ("fordon/EPA-moped", ("fordon", "epa", "moped", "fordonskontroll", "epa-moped", "mc")),
    ("övrigt", ("ovrigt", "annat", "other", "trafikkontroll")),
)

#: Offence count columns of the traffic dataset (canonical name -> Swedish label).
TRAFFIC_OFFENCES = {
    "speeding": "fortkörning",
    "drunk_driving": "rattfylleri",
    "drugged_driving": "drograttfylleri",
    "unlicensed_driving": "olovlig körning",
    "tuned_vehicle": "trimmat fordon/EPA",
    "vehicle_defects": "fordonsbrister",
    "mobile_phone": "mobil",
    "other_offences": "övrigt",
}

ACTIVITY_TYPES, ACTIVITY_TYPE_SYNONYMS = _vocab(
    ("trygghetsvandring", ("trygghetsvandringar", "safety walk", "nattvandring")),
    ("EST-möte", ("est", "est möte", "estmöte", "est-möten")),
    ("informationsinsats", ("information", "informationsmöte", "lägesbildsinformation")),
    ("hälsofrämjande insats", ("hälsofrämjande", "förebyggande insats", "föreläsning")),
    ("uppsökande arbete", ("uppsökande", "fältarbete", "fältare", "outreach")),
    ("trafikövervakning", ("trafikkontroll", "traffic surveillance")),
    ("grannsamverkan", ("grannsamverkansmöte", "neighbourhood watch")),
)

# --------------------------------------------------------------------------- datasets

@dataclass(frozen=True)
class ConfiguredDefault:
    """A column default that configuration decides (resolved by
    ``promise.column_default``: the schema never reads the promise, so no import cycle)."""

    name: str


#: The promise's municipality ("Hjo"): the geography of youth rows that name none.
HOME_MUNICIPALITY = ConfiguredDefault("home_municipality")


def _col(name: str, kind: Kind, label: str, *aliases: str, **kw: object) -> Column:
    return Column(name=name, kind=kind, label=label, aliases=aliases, **kw)  # type: ignore[arg-type]


#: Columns several datasets share (same name, type, labels and checks).
_YEAR = _col("year", "int", "År", "år", "ar", minimum=2000, maximum=2100)
_GENDER = _col("gender", "category", "Kön", "kön", "kon", "sex",
               vocabulary=GENDERS, synonyms=GENDER_SYNONYMS)
_SHARE_AND_N = (
    _col("share", "share", "Andel", "andel", "andel_procent", "procent", "värde", "value"),
    _col("n", "int", "Antal svar", "antal_svar", "antal", "svarande", "bas", minimum=1),
)

INCIDENTS = Dataset(
    name="incidents", label="Händelser (EST)", source="EST-rapporter (kommun, polis och parter)",
    id_column="incident_id", time_column="occurred_at", signature=("category", "source"),
    cadence_days=7, columns=(
        _col("incident_id", "text", "Händelse-id", "id", "händelse_id", "händelseid", "ärendenr",
             "ärende", "löpnummer", "rapport_id", required=False),
        _col("occurred_at", "datetime", "Tidpunkt", "datum", "tidpunkt", "datum_tid", "date",
             "datetime", "tid", "händelsedatum", "inträffade", "occurred"),
        _col("category", "category", "Kategori", "kategori", "händelsetyp", "typ", "type",
             "händelse", vocabulary=INCIDENT_CATEGORIES, synonyms=INCIDENT_CATEGORY_SYNONYMS,
             fallback="övrigt"),
        _col("area", "text", "Område", "område", "plats", "omrade", "location", "stadsdel"),
        _col("source", "category", "Rapportör", "källa", "rapportör", "aktör", "rapporterad_av",
             "kalla", "reporter", "actor", vocabulary=SOURCES, synonyms=SOURCE_SYNONYMS,
             fallback="övrigt"),
        _col("lat", "float", "Latitud", "latitud", "latitude", "y", required=False,
             minimum=55.0, maximum=69.1, position=True),
        _col("lon", "float", "Longitud", "longitud", "longitude", "lng", "x", required=False,
             minimum=10.5, maximum=24.2, position=True),
        _col("description", "text", "Beskrivning", "beskrivning", "händelsebeskrivning",
             "kommentar", "fritext", "text", "notering", required=False, free_text=True),
    ))

SURVEY_RESPONSES = Dataset(
    name="survey_responses", label="Trygghetsmätning (svar)", source="Trygghetsmätningen",
    time_column="year", signature=("safety_evening",), cadence_days=366, columns=(
        _col("year", "int", "År", "år", "ar", "undersökningsår", minimum=2000, maximum=2100),
        _col("area", "text", "Område", "område", "bostadsområde", "omrade"),
        _GENDER,
        _col("age_group", "category", "Åldersgrupp", "åldersgrupp", "ålder", "age", "age_group",
             vocabulary=AGE_GROUPS, synonyms=AGE_GROUP_SYNONYMS),
        _col("safety_evening", "category", "Trygghet sent en kväll", "trygg_kväll",
             "trygghet_kväll", "otrygg_kväll", "hur_trygg", "trygghet", "safety",
             vocabulary=SAFETY_ANSWERS, synonyms=SAFETY_ANSWER_SYNONYMS),
        *(
            _col(name, "category", f"Problem: {label}", label, f"problem {label}",
                 required=False, vocabulary=PROBLEM_ANSWERS, synonyms=PROBLEM_ANSWER_SYNONYMS)
            for name, label in SURVEY_PROBLEM_COLUMNS.items()
        ),
        _col("weight", "float", "Vikt", "vikt", "weight", "viktning", required=False,
             minimum=0.0, default=1.0),
    ))

SURVEY = Dataset(
    name="survey", label="Trygghetsmätning (aggregerad)", source="Trygghetsmätningen",
    time_column="year", signature=("indicator", "share"), cadence_days=366, columns=(
        _YEAR,
        _col("indicator", "category", "Indikator", "indikator", "fråga", "mått",
             vocabulary=SURVEY_INDICATORS, synonyms=SURVEY_INDICATOR_SYNONYMS),
        _col("group", "text", "Grupp", "grupp", "redovisningsgrupp", "kategori",
             required=False, default="Totalt"),
        _col("area", "text", "Område", "område", "omrade", required=False,
             default=WHOLE_MUNICIPALITY),
        *_SHARE_AND_N,
    ))

YOUTH = Dataset(
    name="youth", label="Ungas levnadsvanor",
    source="Ungdomsenkäten (skolans levnadsvaneundersökning)",
    time_column="year", signature=("grade", "indicator"), cadence_days=366, columns=(
        _YEAR,
        _col("grade", "category", "Årskurs", "årskurs", "arskurs", "klass", "grade",
             vocabulary=GRADES, synonyms=GRADE_SYNONYMS),
        _GENDER,
        _col("indicator", "category", "Indikator", "indikator", "fråga", "mått",
             vocabulary=YOUTH_INDICATORS, synonyms=YOUTH_INDICATOR_SYNONYMS),
        *_SHARE_AND_N,
        _col("geography", "text", "Geografi", "geografi", "jämförelse", "region", "nivå",
             required=False, default=HOME_MUNICIPALITY),
    ))

TRAFFIC = Dataset(
    name="traffic", label="Trafikkontroller", source="Polisens trafikkontroller",
    time_column="date", signature=("vehicles_checked",), cadence_days=31, columns=(
        _col("date", "date", "Datum", "datum", "kontrolldatum", "dag"),
        _col("area", "text", "Område", "område", "plats", "omrade", "location"),
        _col("control_type", "category", "Kontrolltyp", "kontrolltyp", "typ_av_kontroll",
             "typ", "control", vocabulary=CONTROL_TYPES, synonyms=CONTROL_TYPE_SYNONYMS,
             fallback="övrigt"),
        _col("vehicles_checked", "int", "Kontrollerade fordon", "kontrollerade_fordon",
             "antal_kontrollerade", "fordon_kontrollerade", "kontrollerade", minimum=0),
        *(
            _col(name, "int", label.capitalize(), label, name, required=False, minimum=0,
                 default=0)
            for name, label in TRAFFIC_OFFENCES.items()
        ),
        _col("fines", "int", "Ordningsböter", "ordningsböter", "böter", "antal_böter",
             required=False, minimum=0, default=0),
    ))

ACTIVITIES = Dataset(
    name="activities", label="Aktiviteter", source="Aktivitetsuppföljningen (medborgarlöftet)",
    time_column="date", signature=("activity_type",), cadence_days=31, columns=(
        _col("date", "date", "Datum", "datum", "dag"),
        _col("activity_type", "category", "Aktivitet", "aktivitet", "aktivitetstyp", "typ",
             "insats", vocabulary=ACTIVITY_TYPES, synonyms=ACTIVITY_TYPE_SYNONYMS),
        _col("area", "text", "Område", "område", "plats", "omrade", required=False,
             default=WHOLE_MUNICIPALITY),
        _col("organisers", "text", "Arrangörer", "arrangörer", "arrangör", "organisatör",
             "ansvarig", "samverkanspart", "parter", required=False, default=""),
        _col("participants", "int", "Deltagare", "deltagare", "antal_deltagare", required=False,
             minimum=0, default=0),
        _col("target_group", "text", "Målgrupp", "målgrupp", "malgrupp", required=False,
             default=""),
        _col("findings", "int", "Iakttagelser", "iakttagelser", "antal_iakttagelser", "fynd",
             "brister", required=False, minimum=0, default=0),
        _col("actions_decided", "int", "Beslutade åtgärder", "beslutade_åtgärder", "åtgärder",
             required=False, minimum=0, default=0),
        _col("actions_done", "int", "Genomförda åtgärder", "genomförda_åtgärder",
             "åtgärdade", required=False, minimum=0, default=0),
        _col("notes", "text", "Anteckningar", "anteckningar", "noteringar", "kommentar",
             "iakttagelser_text", required=False, free_text=True, default=""),
    ))

#: Geography levels of official statistics (``statistik.geo_level``).
GEO_LEVELS, GEO_LEVEL_SYNONYMS = _vocab(
    ("kommun", ("municipality",)),
    ("lan", ("län", "region", "county")),
    ("riket", ("hela landet", "sverige", "country")),
    ("polisomrade", ("polisområde", "lokalpolisområde")),
    ("annan", ("annat", "other")),
)

#: Gender of official statistics: T total, K women, M men (Kolada's codes).
STAT_GENDERS, STAT_GENDER_SYNONYMS = _vocab(
    ("T", ("totalt", "total", "alla", "samtliga", "båda könen", "båda")),
    ("K", ("kvinnor", "kvinna", "flickor", "women", "female", "f")),
    ("M", ("män", "man", "pojkar", "men", "male")),
)

#: Published statistics (Kolada, BRÅ, FoHM, ...), long format: one value per indicator,
#: geography, period and gender. Key (dedup): source, indicator_id, geo_code, period,
#: gender; a changed value under the same key is a revision (see store.upsert).
STATISTIK = Dataset(
    name="statistik", label="Officiell statistik", source="Officiell statistik (Kolada, BRÅ, "
    "Folkhälsomyndigheten)", time_column="period",
    signature=("indicator_id", "geo_code", "value"), cadence_days=366,
    key_columns=("source", "indicator_id", "geo_code", "period", "gender"),
    revision_columns=("value", "n", "ci_low", "ci_high", "status"),
    columns=(
        _col("source", "text", "Källa", "källa", "kalla", "source"),
        _col("indicator_id", "text", "Indikator-id", "indikator_id", "kpi", "kpi_id",
             "nyckeltal_id"),
        _col("indicator", "text", "Indikator", "indikator", "nyckeltal", "titel", "title",
             required=False, default=""),
        _col("geo_code", "text", "Geografikod", "geografikod", "geo", "kommun", "kommunkod",
             "municipality", "municipality_id", "region", "län", "lan"),
        _col("geo_name", "text", "Geografi", "geografinamn", "geo_name", required=False,
             default=""),
        _col("geo_level", "category", "Geografinivå", "geografiniva", "nivå", required=False,
             vocabulary=GEO_LEVELS, synonyms=GEO_LEVEL_SYNONYMS),
        _col("period", "text", "Period", "period", "år", "ar", "year", "tid"),
        _col("gender", "category", "Kön", "kön", "kon", "gender", "sex", required=False,
             vocabulary=STAT_GENDERS, synonyms=STAT_GENDER_SYNONYMS),
        _col("value", "float", "Värde", "värde", "varde", "value"),
        _col("unit", "text", "Enhet", "enhet", "unit", required=False, default=""),
        _col("n", "float", "Antal (n)", "n", "antal_svar", "count", required=False,
             minimum=0),
        _col("ci_low", "float", "KI nedre", "ki_nedre", "ki_undre", "ci_low",
             "konfidensintervall_nedre", required=False),
        _col("ci_high", "float", "KI övre", "ki_övre", "ci_high", "konfidensintervall_övre",
             required=False),
        _col("status", "text", "Status", "status", required=False, default=""),
        _col("fetched_at", "text", "Hämtad", "hämtad", "hamtad", "fetched_at", required=False,
             default=""),
    ))

DATASETS: Mapping[str, Dataset] = MappingProxyType(
    {d.name: d for d in (INCIDENTS, SURVEY_RESPONSES, SURVEY, YOUTH, TRAFFIC, ACTIVITIES,
                         STATISTIK)}
)


def get_dataset(name: str | Dataset) -> Dataset:
    """A dataset by canonical name or Swedish label (any case); UnknownDatasetError with
    the choices otherwise."""
    if isinstance(name, Dataset):
        return name
    key = str(name).strip()
    if key in DATASETS:
        return DATASETS[key]
    for ds in DATASETS.values():
        if key.lower() in (ds.name.lower(), ds.label.lower()):
            return ds
    raise UnknownDatasetError(f"Okänd datamängd '{key}'. Välj en av: {', '.join(DATASETS)}.")


#: Swedish labels of the bookkeeping columns every stored row carries.
BOOKKEEPING_LABELS = {"record_id": "Post-id", "batch_id": "Inläsning (batch-id)"}


def stored_column_labels(dataset: Dataset) -> dict[str, str]:
    """Swedish label of every stored column, incl. derived ``*_raw``/``*_has_time`` columns.

    Derived labels are worded so that re-ingesting an export never maps them onto a
    canonical column (they are ignored with a warning instead).
    """
    labels = {c.name: c.label for c in dataset.columns}
    for col in dataset.columns:
        labels[f"{col.name}_raw"] = f"Originaltext för {col.label.lower()}"
        labels[f"{col.name}_has_time"] = f"Klockslag angivet ({col.label.lower()})"
    labels.update(BOOKKEEPING_LABELS)
    return {name: labels[name] for name in dataset.stored_columns}


def header_index(dataset: Dataset) -> dict[str, str]:
    """Map every normalised alias (and the canonical and label forms) to its column name."""
    index: dict[str, str] = {}
    for col in dataset.columns:
        for alias in (col.name, col.label, *col.aliases):
            index.setdefault(normalise_header(alias), col.name)
    return index


def source_text(*dataset_names: str) -> str:
    """The sources of ``dataset_names`` for a "Källa:" line, each named once."""
    sources = [DATASETS[name].source for name in dataset_names]
    return "; ".join(dict.fromkeys(src for src in sources if src))
