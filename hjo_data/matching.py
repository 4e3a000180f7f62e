"""Matching by meaning: file headers -> canonical columns, file values -> vocabulary values.

The one home of "what does this header / this answer mean". Used by the normal ingest path
(``reading.map_headers`` for headers, ``validation`` for category values) and by the import
wizard (suggestions with a confidence and a Swedish reason).

Headers, in falling confidence:

1. a known name (``schema`` aliases, label or canonical name) after normalisation: case,
   spacing, punctuation, a trailing unit ("Andel (%)", "Antal (antal)", "(prel.)"),
   å/ä/ö folded -> 1.0;
2. the standard question texts of the safety surveys (NTU, Polisens trygghetsmätning,
   SCB:s medborgarundersökning) and of survey tools ("Hur gammal är du?", a problem
   matrix "Hur stort problem ... [Nedskräpning]") -> 0.9-1.0;
3. a spelling close to a known name -> below ``CERTAIN`` (a suggestion only).

Only matches with ``confidence >= CERTAIN`` are used without asking; the rest are named in
the Swedish message that refuses the file (and offered by the wizard).

Values: vocabulary synonyms after normalisation (case, punctuation, dashes, a trailing
"år"), age bands, Likert variants, youth indicator labels; "vet ej"-type answers are
*missing* (``ValueMatch.missing``), not errors.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hjo_data.schema import Column, Dataset, get_dataset, normalise_header, normalise_value

__all__ = [
    "CERTAIN",
    "HeaderMatch",
    "ValueMatch",
    "header_key",
    "is_missing_answer",
    "match_header",
    "suggest_columns",
    "suggest_values",
    "value_key",
    "value_resolver",
    "vocabulary",
]

#: Matches at least this sure are used without asking.
CERTAIN = 0.9


@dataclass(frozen=True)
class HeaderMatch:
    header: str
    column: str | None
    confidence: float  # 0..1
    reason: str  # Swedish, e.g. "standardfråga (NTU)"

    @property
    def certain(self) -> bool:
        return self.column is not None and self.confidence >= CERTAIN


@dataclass(frozen=True)
class ValueMatch:
    value: str
    target: str | None
    confidence: float
    missing: bool  # True: a "vet ej"-type answer (counted as no answer, never an error)

    @property
    def certain(self) -> bool:
        return (self.target is not None or self.missing) and self.confidence >= CERTAIN


# --------------------------------------------------------------------------- normalising

#: A trailing unit or note in parentheses/brackets: "(%)", "(antal)", "(prel.)", "[n]".
_UNIT_RE = re.compile(r"\s*[(\[]\s*(?:%|procent|antal|st|n|prel\.?|preliminär[at]?|kr|"
                      r"år|andel|totalt|\d+)\s*[)\]]\s*$")
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


_ODD_CHARS_RE = re.compile(f"[{_DASHES}\u00a0\u202f\ufeff]")
_ODD_CHARS = {**{d: "-" for d in _DASHES}, "\u00a0": " ", "\u202f": " ", "\ufeff": ""}
_SPACES_RE = re.compile(r"\s+")
_SEP_RE = re.compile(r"\s*([-/])\s*")
_YEAR_WORD_RE = re.compile(r"(?<=[\d+])\s*år\b")
_NON_WORD_RE = re.compile(r"[^\w%+]+")


def _plain(text: object) -> str:
    text = unicodedata.normalize("NFC", str(text))
    if not text.isascii():
        text = _ODD_CHARS_RE.sub(lambda m: _ODD_CHARS[m[0]], text)
    return text.strip().lower()


def strip_units(text: str) -> str:
    """Remove trailing unit notes: "Andel (%)" -> "Andel", "Antal (prel.)" -> "Antal"."""
    previous = None
    while previous != text:
        previous = text
        text = _UNIT_RE.sub("", text)
    return text


def header_key(text: object) -> str:
    """Words of a header: lower case, units and punctuation removed, single spaces."""
    text = strip_units(_plain(text))
    text = _NON_WORD_RE.sub(" ", text.replace("_", " "))
    return _SPACES_RE.sub(" ", text).strip()


def _fold(text: str) -> str:
    """Swedish letters and é/ü folded (lower-case text): "skadegörelse" -> "skadegorelse"."""
    if text.isascii():
        return text
    return (text.replace("å", "a").replace("ä", "a").replace("ö", "o").replace("é", "e")
            .replace("ü", "u"))


def value_key(text: object) -> str:
    """An answer's key: lower case, no surrounding quotes/punctuation, dashes unified and
    without spaces around them, no "år" after a number: "30 – 49 år." -> "30-49"."""
    text = _plain(text).strip("\"'«»”“ .!?")
    if "-" in text or "/" in text:
        text = _SEP_RE.sub(r"\1", text)
    text = _SPACES_RE.sub(" ", text)
    if "år" in text:
        text = _SPACES_RE.sub(" ", _YEAR_WORD_RE.sub("", text)).strip()
    return text


# --------------------------------------------------------------------------- headers

#: Exact-name matching tiers (key function per tier); every tier counts as a known name.
def _loose(key: str) -> str:
    return re.sub(r"[\W_]+", "_", normalise_header(key)).strip("_")


def _folded(key: str) -> str:
    return _fold(_loose(key))


def _strip_parenthesis(key: str) -> str:
    return re.sub(r"\s*[(\[].*?[)\]]\s*$", "", key)


_NAME_TIERS: tuple[Callable[[str], str], ...] = (normalise_header, _loose, _folded)

#: id(dataset) -> (dataset, tiers): datasets are not hashable (their synonym maps).
_INDEX_CACHE: dict[int, tuple[Dataset, list[tuple[Callable[[str], str], dict[str, str]]]]] = {}


def _name_tiers(dataset: Dataset) -> list[tuple[Callable[[str], str], dict[str, str]]]:
    """One (key function, alias index) per tier; keys two columns share are dropped
    (the exact tier keeps the first column, as the schema's ``header_index``)."""
    cached = _INDEX_CACHE.get(id(dataset))
    if cached is not None and cached[0] is dataset:
        return cached[1]
    tiers: list[tuple[Callable[[str], str], dict[str, str]]] = []
    for i, keyfn in enumerate(_NAME_TIERS):
        index: dict[str, str] = {}
        ambiguous: set[str] = set()
        for col in dataset.columns:
            for alias in (col.name, col.label, *col.aliases):
                key = keyfn(alias)
                if i and index.get(key, col.name) != col.name:
                    ambiguous.add(key)
                index.setdefault(key, col.name)
        for key in ambiguous:
            index.pop(key)
        tiers.append((keyfn, index))
    _INDEX_CACHE[id(dataset)] = (dataset, tiers)
    return tiers


def _known_name(header: str, dataset: Dataset) -> str | None:
    stripped = _strip_parenthesis(header.strip())
    unitless = strip_units(header.strip())
    for keyfn, index in _name_tiers(dataset):
        for candidate in (header, unitless, stripped):
            key = keyfn(candidate)
            if key and key in index:
                return index[key]
    return None


@dataclass(frozen=True)
class _Question:
    """A standard question: all ``need`` stems present (each an alternative set), none of
    ``avoid``; ``exact`` texts give confidence 1.0."""

    column: str
    reason: str
    need: tuple[tuple[str, ...], ...]
    avoid: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ("survey_responses",)
    confidence: float = 0.95


_SAFETY_REASON = "standardfrågan om trygghet sent en kväll"
_NTU = ("hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt "
        "eget bostadsområde")

#: Standard question texts (matched on ``header_key`` words, stems as substrings).
QUESTIONS: tuple[_Question, ...] = (
    _Question("safety_evening", "standardfråga (NTU)", need=(),
              exact=(_NTU,
                     "hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll "
                     "i det område där du bor",
                     "hur trygg känner du dig om du går ut ensam sent en kväll i ditt eget "
                     "bostadsområde")),
    _Question("safety_evening", "standardfråga (Polisens trygghetsmätning)", need=(),
              exact=("om du går ut ensam sent en kväll i ditt bostadsområde känner du dig "
                     "då",
                     "hur trygg känner du dig om du går ut ensam sent en kväll i ditt "
                     "bostadsområde")),
    _Question("safety_evening", "standardfråga (SCB:s medborgarundersökning)", need=(),
              exact=("hur trygg känner du dig när du är ute ensam sent på kvällen i det "
                     "område där du bor",
                     "hur trygg eller otrygg känner du dig när du går ut ensam sent på "
                     "kvällen i det område där du bor")),
    _Question("safety_evening", f"variant av {_SAFETY_REASON} (NTU, Polisen, SCB)",
              need=(("trygg",), ("kväll", "mörk"), ("ut", "ute", "ensam"))),
    _Question("area", "fråga om bostadsområde",
              need=(("område", "stadsdel", "bostadsort", "var bor du", "bor du"),),
              avoid=("trygg", "problem", "kväll")),
    _Question("age_group", "fråga om ålder", need=(("ålder", "gammal", "född"),),
              avoid=("trygg", "problem")),
    _Question("gender", "fråga om kön", need=(("kön", "kvinna eller man", "tjej eller kille",
                                              "flicka eller pojke"),),
              avoid=("trygg", "problem"), datasets=("survey_responses", "youth", "survey")),
    _Question("year", "år ur tidstämpeln",
              need=(("tidstämpel", "tidsstämpel", "timestamp", "inskickad", "svarsdatum",
                     "datum för svar", "slutdatum", "startdatum"),),
              confidence=0.9),
    _Question("grade", "fråga om årskurs", need=(("årskurs", "skolår", "vilken klass"),),
              datasets=("youth",)),
    _Question("n", "antal svarande", need=(("antal svarande", "antal elever", "antal svar",
                                           "antal respondenter", "antal personer"),),
              datasets=("survey", "youth")),
    _Question("share", "andel i procent", need=(("andel", "procent"),),
              avoid=("antal",), datasets=("survey", "youth"), confidence=0.92),
)

#: Items of the problem matrix ("Hur stort problem ... i ditt bostadsområde? [item]").
PROBLEM_ITEMS: dict[str, tuple[str, ...]] = {
    "problem_nedskrapning": ("nedskräp", "skräp"),
    "problem_skadegorelse": ("skadegör", "vandalis"),
    "problem_klotter": ("klotter", "graffiti"),
    "problem_trafik": ("bilar", "moped", "trafik", "körs", "buskör", "motorfordon"),
    "problem_paverkade": ("påverkad", "berusad", "narkotika", "drog"),
    "problem_brak": ("bråk", "stök"),
}


def _stem_in(stem: str, key: str) -> bool:
    if " " in stem:
        return stem in key
    return any(word.startswith(stem) or (len(stem) > 4 and stem in word)
               for word in key.split())


def _question_match(header: str, key: str, dataset: Dataset) -> HeaderMatch | None:
    names = set(dataset.column_names)
    if "problem" in key and "problem_nedskrapning" in names:
        items = [name for name, stems in PROBLEM_ITEMS.items()
                 if any(_stem_in(s, key) for s in stems)]
        if len(items) == 1:
            return HeaderMatch(header, items[0], 0.95,
                               "standardfråga om problem (Polisens trygghetsmätning)")
        if items:
            return HeaderMatch(header, items[0], 0.5,
                               "frågan nämner flera problem: "
                               + ", ".join(dataset.column(i).label for i in items))
    best: HeaderMatch | None = None
    for q in QUESTIONS:
        if q.column not in names or dataset.name not in q.datasets:
            continue
        if key in q.exact:
            return HeaderMatch(header, q.column, 1.0, q.reason)
        if not q.need:
            continue
        if any(_stem_in(a, key) for a in q.avoid):
            continue
        hits = sum(any(_stem_in(s, key) for s in alt) for alt in q.need)
        if hits == len(q.need):
            conf = q.confidence
        elif q.column == "safety_evening" and hits >= 2 and _stem_in("trygg", key):
            conf = 0.7
        else:
            continue
        if best is None or conf > best.confidence:
            reason = q.reason if conf >= CERTAIN else f"liknar {_SAFETY_REASON}"
            best = HeaderMatch(header, q.column, conf, reason)
    return best


_ALIAS_CACHE: dict[int, tuple[Dataset, list[tuple[str, str, str]]]] = {}


def _alias_keys(dataset: Dataset) -> list[tuple[str, str, str]]:
    """(header_key, column, alias) of every label and alias (cached per dataset)."""
    cached = _ALIAS_CACHE.get(id(dataset))
    if cached is not None and cached[0] is dataset:
        return cached[1]
    keys = [(header_key(alias), col.name, alias) for col in dataset.columns
            for alias in (col.label, *col.aliases)]
    _ALIAS_CACHE[id(dataset)] = (dataset, keys)
    return keys


def _similar(header: str, key: str, dataset: Dataset) -> HeaderMatch | None:
    """Closest known name by spelling; never certain."""
    best = (0.75, "", "")
    matcher = difflib.SequenceMatcher(None, b=key)
    for alias_key, column, alias in _alias_keys(dataset):
        matcher.set_seq1(alias_key)
        if matcher.real_quick_ratio() < best[0] or matcher.quick_ratio() < best[0]:
            continue
        ratio = matcher.ratio()
        if ratio >= best[0] and (ratio > best[0] or not best[1]):
            best = (ratio, column, alias)
    if not best[1]:
        return None
    return HeaderMatch(header, best[1], round(min(0.85, best[0] * 0.85), 2),
                       f"liknar '{best[2]}'")


def match_header(header: str, dataset: str | Dataset) -> HeaderMatch:
    """The best meaning of one header for ``dataset`` (column None when none found)."""
    ds = get_dataset(dataset)
    text = str(header)
    name = _known_name(text, ds)
    if name is not None:
        return HeaderMatch(text, name, 1.0, "känt kolumnnamn")
    key = header_key(text)
    if not key:
        return HeaderMatch(text, None, 0.0, "tom rubrik")
    found = _question_match(text, key, ds) or _similar(text, key, ds)
    return found or HeaderMatch(text, None, 0.0, "okänd kolumn")


def suggest_columns(headers: list[str], dataset: str | Dataset) -> list[HeaderMatch]:
    """One suggestion per header, in order (several headers may suggest the same column;
    ``reading.map_headers`` gives a column to its surest header, the first on a tie)."""
    ds = get_dataset(dataset)
    return [match_header(h, ds) for h in headers]


# --------------------------------------------------------------------------- values

#: Answers that mean "no answer": counted as missing (with a warning), never an error.
MISSING_ANSWERS = frozenset(value_key(v) for v in (
    "vet ej", "vet inte", "vill ej svara", "vill inte svara", "annat/vill ej svara",
    "ej svar", "inget svar", "ej svarat", "uppgift saknas", "ingen uppgift", "annat",
    "vill ej uppge", "vet ej/vill ej svara", "ingen uppfattning", "-", "ej angivet",
    "saknas", "n/a", "na",
))

#: Further spellings per vocabulary value, matched on ``value_key`` (confidence 0.95).
_VALUE_VARIANTS: dict[str, tuple[str, ...]] = {
    "ganska litet problem": ("litet problem", "mycket litet problem", "ett litet problem",
                             "ganska små problem", "litet"),
    "ganska stort problem": ("ganska stort", "stort problem"),
    "mycket stort problem": ("mycket stort",),
    "inget problem": ("inget problem alls", "inte något problem", "inga problem", "inget"),
    "mycket trygg": ("mycket trygg", "trygg, mycket"),
    "går aldrig ut": ("jag går aldrig ut", "går aldrig ut ensam sent på kvällen",
                      "går aldrig ut ensam", "går inte ut", "går aldrig ut sent"),
    "65+": ("65 eller äldre", "65 år eller äldre", "över 65", "65 och äldre"),
    "åk 7": ("år 7", "klass 7", "årskurs 7 grundskolan"),
    "åk 9": ("år 9", "klass 9", "årskurs 9 grundskolan", "9:an"),
    "gy 2": ("gymnasiet åk 2", "gymnasiet 2", "år 2 på gymnasiet", "gy åk 2", "gymnasiet årskurs 2",
             "årskurs 2 gymnasiet"),
    "alla": ("båda könen", "samtliga elever", "alla elever", "alla svarande", "samtliga svarande"),
}

#: Answer numbering a survey tool may add: "1 - Mycket trygg", "2. Ganska trygg",
#: "Mycket trygg (1)".
_NUMBERING_RE = re.compile(r"^\(?\d{1,2}\s*[-.):]\s*(?=[^\W\d_])|\s*\(\d{1,2}\)$")

#: A vocabulary value whose key contains one of these is certain (confidence 0.92).
_VALUE_CONTAINS: dict[str, tuple[str, ...]] = {
    "går aldrig ut": ("aldrig ut", "går inte ut"),
}

#: Youth indicator stems (a long label like "Druckit alkohol senaste 12 månaderna").
_YOUTH_STEMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "alkohol_12m": (("alkohol",), ("12", "år", "tolv")),
    "berusad_4v": (("berus", "intensivkonsum", "full"),),
    "rokning": (("röker", "rökning", "rökt", "cigarett"),),
    "snus": (("snus",),),
    "e_cigarett": (("e-cig", "e cig", "vejp", "vape", "e-cigarett"),),
    "narkotika_nagonsin": (("narkotika", "cannabis", "hasch"),),
    "spel_om_pengar": (("spel",),),
    "dopning": (("dopning", "doping", "anabol"),),
    "psykosomatiska_besvar": (("psykosomat",),),
}
_YOUTH_EXCLUSIVE = {"rokning": ("e-cig", "e cig", "elektron")}


def _variant_index(col: Column) -> dict[str, str]:
    index = {value_key(k): v for k, v in col.synonyms.items()}
    for v in col.vocabulary:
        index.setdefault(value_key(v), v)
        for variant in _VALUE_VARIANTS.get(v, ()):
            index.setdefault(value_key(variant), v)
    return index


#: Values longer than this get no spelling suggestion (free text, not an answer).
_FUZZY_MAX_CHARS = 60
_FOLDED: dict[int, tuple[dict[str, str], dict[str, str]]] = {}


def _folded_index(index: dict[str, str]) -> dict[str, str]:
    """``index`` with å/ä/ö folded keys (cached per index object)."""
    cached = _FOLDED.get(id(index))
    if cached is None or cached[0] is not index:
        cached = (index, {_fold(k): v for k, v in index.items()})
        _FOLDED[id(index)] = cached
    return cached[1]


def is_missing_answer(text: object) -> bool:
    return value_key(text) in MISSING_ANSWERS


_BAND_RE = re.compile(r"(\d+)-(\d+)")
_PLUS_RE = re.compile(r"(\d+)(?:\+|-| och äldre| eller äldre)")
_OPEN_BAND_RE = re.compile(r"(\d+)\+")


@functools.lru_cache(maxsize=64)
def _bands(vocab: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    """(low, high, value) of the age bands of a vocabulary ("65+": high 200)."""
    bands: list[tuple[int, int, str]] = []
    for v in vocab:
        k = value_key(v)
        if (b := _BAND_RE.fullmatch(k)) is not None:
            bands.append((int(b[1]), int(b[2]), v))
        elif (b := _OPEN_BAND_RE.fullmatch(k)) is not None:
            bands.append((int(b[1]), 200, v))
    return tuple(bands)


def _age_band(key: str, vocab: tuple[str, ...]) -> tuple[str | None, float]:
    if not key[:1].isdigit():
        return None, 0.0
    bands = _bands(vocab)
    if not bands:
        return None, 0.0
    if (m := _BAND_RE.fullmatch(key)) is not None:
        lo, hi = int(m[1]), int(m[2])
    elif (m := _PLUS_RE.fullmatch(key)) is not None:
        lo, hi = int(m[1]), 200
    else:
        return None, 0.0
    for blo, bhi, v in bands:
        if (lo, hi) == (blo, bhi) or (bhi == 200 and lo == blo):
            return v, 0.95
    inside = [v for blo, bhi, v in bands if blo <= lo and hi <= bhi]
    return (inside[0], 0.6) if len(inside) == 1 else (None, 0.0)


def _youth_indicator(key: str) -> str | None:
    found = [name for name, needs in _YOUTH_STEMS.items()
             if all(any(s in key for s in alt) for alt in needs)
             and not any(x in key for x in _YOUTH_EXCLUSIVE.get(name, ()))]
    if len(found) == 2 and "alkohol_12m" in found and "berusad_4v" in found:
        found = ["berusad_4v"]
    return found[0] if len(found) == 1 else None


def _match_value(value: str, col: Column, dataset: Dataset, index: dict[str, str],
                 *, fuzzy: bool = True) -> ValueMatch:
    """``fuzzy``: also look for a close spelling (never certain; the ingest path, which
    uses certain matches only, skips it: it costs milliseconds per distinct value)."""
    key = value_key(value)
    if not key:
        return ValueMatch(value, None, 1.0, True)
    if key in index:
        exact = normalise_value(value) in col.synonyms
        return ValueMatch(value, index[key], 1.0 if exact else 0.95, False)
    folded = _folded_index(index)
    if _fold(key) in folded:
        return ValueMatch(value, folded[_fold(key)], 0.95, False)
    if key in MISSING_ANSWERS:
        return ValueMatch(value, None, 1.0, True)
    unnumbered = _NUMBERING_RE.sub("", key)
    if unnumbered != key:
        if unnumbered in index:
            return ValueMatch(value, index[unnumbered], 0.95, False)
        if unnumbered in MISSING_ANSWERS:
            return ValueMatch(value, None, 0.95, True)
    for target, parts in _VALUE_CONTAINS.items():
        if target in col.vocabulary and any(p in key for p in parts):
            return ValueMatch(value, target, 0.92, False)
    target, conf = _age_band(key, col.vocabulary)
    if target is not None:
        return ValueMatch(value, target, conf, False)
    if dataset.name == "youth" and col.name == "indicator":
        found = _youth_indicator(key)
        if found is not None:
            return ValueMatch(value, found, 0.92, False)
    if not fuzzy or len(key) > _FUZZY_MAX_CHARS:
        return ValueMatch(value, None, 0.0, False)
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=0.75)
    if close:
        ratio = difflib.SequenceMatcher(None, key, close[0]).ratio()
        return ValueMatch(value, index[close[0]], round(min(0.85, ratio * 0.85), 2), False)
    return ValueMatch(value, None, 0.0, False)


def suggest_values(values: Iterable[str], dataset: str | Dataset, column: str
                   ) -> list[ValueMatch]:
    """One suggestion per value, in order. Free columns (no vocabulary) keep the value."""
    ds = get_dataset(dataset)
    col = ds.column(column)
    values = [str(v) for v in values]
    if col.kind != "category" or not col.vocabulary:
        return [ValueMatch(v, v, 1.0, not v.strip()) for v in values]
    index = _variant_index(col)
    return [_match_value(v, col, ds, index) for v in values]


def vocabulary(dataset: str | Dataset, column: str) -> list[str] | None:
    """The allowed canonical values of a column; None when the column is free."""
    col = get_dataset(dataset).column(column)
    return list(col.vocabulary) if col.kind == "category" and col.vocabulary else None


# --------------------------------------------------------------------------- ingest path

#: Datasets of respondents' answers: a "vet ej"-type answer there is no answer (stored
#: empty, counted in a warning), never an error, also in a required column.
ANSWER_DATASETS = frozenset({"survey_responses"})
#: Columns whose unknown values are kept as written, with a warning (a new indicator of
#: a school survey is data, not an error; pages show the configured ones).
OPEN_VOCABULARY = frozenset({("youth", "indicator")})


def value_resolver(dataset: str | Dataset, column: str
                   ) -> Callable[[str], tuple[str, str] | None] | None:
    """The ingest path's use of :func:`suggest_values` for ``parsing.parse_category``:
    a raw value -> (stored value, "match" | "no_answer" | "kept"), None when unknown.
    Only certain matches are used; None for a column without vocabulary."""
    ds = get_dataset(dataset)
    col = ds.column(column)
    if col.kind != "category" or not col.vocabulary:
        return None
    index = _variant_index(col)
    answers = ds.name in ANSWER_DATASETS
    open_vocabulary = (ds.name, col.name) in OPEN_VOCABULARY

    def resolve(value: str) -> tuple[str, str] | None:
        match = _match_value(value, col, ds, index, fuzzy=False)
        if match.missing and answers:
            return "", "no_answer"
        if match.target is not None and match.confidence >= CERTAIN:
            return match.target, "match"
        if open_vocabulary:
            return value.strip(), "kept"
        return None

    return resolve
