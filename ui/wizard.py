"""The import wizard of Datahantering's upload tab.

A file that does not match its dataset (a column not recognised, a required column missing,
values outside a vocabulary) is mapped column by column and value by value: the matcher's
suggestion is preselected with how sure it is ("hög/medel/låg"), and the check below the
wizard recounts live through the normal dry run (``ingest.prepare_read`` with the draft
profile applied). Nothing is stored before "Spara"; the mapping can then be saved as a named
import profile, which is preselected for the next file with the same headers.

Every text from the file (headers, values) is shown Markdown-escaped or as a widget option,
never rendered as HTML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from hjo_data import matching, profiles
from hjo_data.errors import HjoDataError
from hjo_data.formatting import fmt_int
from hjo_data.ingest import PreparedIngest, prepare_read
from hjo_data.profiles import IGNORE, ImportProfile, ProfileError
from hjo_data.rawtable import RawTable
from hjo_data.reading import detect_dataset, map_headers
from hjo_data.schema import DATASETS, Dataset, get_dataset, normalise_header, normalise_value
from hjo_data.store import QUARANTINE_EXTRA, Store
from hjo_data.validation import RESPONDENT_ID_ALIASES
from ui.auth import md_escape

__all__ = ["Wizard", "confidence_label", "forget_wizard", "import_wizard", "mismatch",
           "save_wizard_profile"]

#: Value option: leave the value as it is (validation decides: rejected, or the column's
#: fallback such as "övrigt").
KEEP_VALUE = "__behall__"
#: At most this many unknown values per column get a select box (most frequent first).
SHOWN_VALUES = 40
#: Name of the draft profile while the user has not named it.
_DRAFT_NAME = "importguide"
_CACHE = "_hjo_wz_prepared"


@dataclass(frozen=True)
class Wizard:
    """What the wizard decided: the file checked with the mapping, and the mapping (both
    None while the mapping cannot be used; the wizard has said why)."""

    prepared: PreparedIngest | None
    profile: ImportProfile | None
    #: Name typed for saving the mapping as a profile ("" = do not save).
    save_name: str
    #: The saved profile offered for this file (None when none matched).
    offered: str | None


@dataclass(frozen=True)
class _Choice:
    header: str
    column: str | None      # preselected target (None = ignore)
    confidence: float
    reason: str


def confidence_label(confidence: float) -> str:
    """The matcher's confidence (0..1) in words."""
    if confidence >= 0.85:
        return "hög"
    if confidence >= 0.6:
        return "medel"
    return "låg"


def _respondent(headers: Sequence[str], ds: Dataset) -> str | None:
    """The header the store uses as respondent id (survey micro data), read as is."""
    if ds.name != "survey_responses":
        return None
    keys = {normalise_header(a) for a in RESPONDENT_ID_ALIASES}
    return next((h for h in headers if normalise_header(h) in keys), None)


def _guess_dataset(headers: list[str]) -> Dataset:
    """The dataset the matcher can map best: required columns found, then total sureness."""
    def score(ds: Dataset) -> tuple[int, float]:
        found = {m.column: m.confidence for m in matching.suggest_columns(headers, ds.name)
                 if m.column is not None}
        return (sum(1 for c in ds.required if c in found), sum(found.values()))

    return max(DATASETS.values(), key=score)


def _dataset(raw: RawTable, choice: str | None, offered: ImportProfile | None,
             plain: PreparedIngest | None) -> Dataset:
    if choice is not None:
        return get_dataset(choice)
    if offered is not None:
        return get_dataset(offered.dataset)
    if plain is not None:
        return plain.dataset
    try:
        return detect_dataset(raw.headers)
    except HjoDataError:
        return _guess_dataset(raw.headers)


def _suggestions(raw: RawTable, ds: Dataset, offered: ImportProfile | None
                 ) -> list[_Choice]:
    """Preselected target per header: the offered profile's, else the standard header
    mapping's, else the matcher's suggestion (each column claimed once, surest first)."""
    headers = raw.headers
    matches = {m.header: m for m in matching.suggest_columns(headers, ds.name)}
    if offered is not None:
        by_norm = {normalise_header(h): t for h, t in offered.columns.items()}
        return [_Choice(h, None if by_norm.get(normalise_header(h), IGNORE) == IGNORE
                        else by_norm[normalise_header(h)], 1.0, "sparad importprofil")
                for h in headers]
    known = map_headers(headers, ds).columns
    taken = set(known.values())
    ranked = sorted((m for h, m in matches.items() if h not in known and m.column),
                    key=lambda m: -m.confidence)
    claimed: dict[str, str] = {}
    for m in ranked:
        if m.column not in taken:
            taken.add(str(m.column))
            claimed[m.header] = str(m.column)
    out: list[_Choice] = []
    for h in headers:
        m = matches.get(h)
        if h in known:
            sure = m.confidence if m is not None and m.column == known[h] else 1.0
            out.append(_Choice(h, known[h], sure, m.reason if m else "känd rubrik"))
        elif h in claimed and m is not None:
            out.append(_Choice(h, claimed[h], m.confidence, m.reason))
        else:
            out.append(_Choice(h, None, m.confidence if m else 0.0,
                               m.reason if m and m.column else "inget förslag"))
    return out


def _unknown_values(series: pd.Series, ds: Dataset, column: str
                    ) -> tuple[list[tuple[str, int, matching.ValueMatch]],
                               list[tuple[str, int]]]:
    """(values that are not a known spelling, each with its row count and the matcher's
    suggestion; "vet ej"-type values counted as missing answers), most frequent first."""
    col = ds.column(column)
    counts = series[series.str.strip() != ""].value_counts()
    candidates = [(str(v), int(n)) for v, n in counts.items()
                  if normalise_value(v) not in col.synonyms]
    if not candidates:
        return [], []
    found = {m.value: m for m in matching.suggest_values([v for v, _ in candidates],
                                                         ds.name, column)}
    missing = [(v, n) for v, n in candidates if found[v].missing]
    unknown = [(v, n, found[v]) for v, n in candidates if not found[v].missing]
    return unknown, missing


def _join_sv(items: list[str]) -> str:
    """'A', 'A och B', 'A, B och C' (items quoted)."""
    quoted = [f"'{md_escape(i)}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " och " + quoted[-1]


def _key(kind: str, *parts: str) -> str:
    """A widget key: ``hjo_wz_<kind>_<hash of the file, dataset and parts>`` (file values
    may contain anything; a new file or dataset gets fresh widgets)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"hjo_wz_{kind}_{digest}"


def mismatch(raw: RawTable, plain: PreparedIngest | None) -> bool:
    """True when the wizard is needed: the file could not be checked as it is, a column is
    not recognised although the matcher has a target for it, or a vocabulary column holds
    values it does not know."""
    if plain is None:
        return True
    ds = plain.dataset
    resp = _respondent(raw.headers, ds)
    known = map_headers(raw.headers, ds).columns
    unrecognised = [h for h in raw.headers
                    if h not in known and h != resp and h not in QUARANTINE_EXTRA]
    if any(m.column for m in matching.suggest_columns(unrecognised, ds.name)):
        return True
    unknown = [m for h, c in known.items() if ds.column(c).vocabulary
               for _, _, m in _unknown_values(raw.frame[h], ds, c)[0]]
    # values the matcher is unsure of, or values the check rejected all the same
    return any(not m.certain for m in unknown) or bool(unknown and plain.rejected)


def _column_rows(choices: list[_Choice], ds: Dataset, token: str, resp: str | None
                 ) -> dict[str, str]:
    options = [IGNORE, *ds.column_names]
    labels = {c.name: f"{c.label} ({c.name})" for c in ds.columns}
    labels[IGNORE] = "– ignorera kolumnen –"
    st.markdown("**Kolumner i filen** – välj vad varje kolumn är:")
    chosen: dict[str, str] = {}
    for i, choice in enumerate(choices):
        left, mid, right = st.columns([3, 3, 2], vertical_alignment="center")
        left.markdown(md_escape(choice.header) if choice.header else "*(tom rubrik)*")
        if choice.header == resp:
            mid.markdown("Respondent-id (för dubblettkontroll)")
            continue
        target = choice.column or IGNORE
        chosen[choice.header] = mid.selectbox(
            f"Kolumn för rubrik {i + 1}", options, index=options.index(target),
            format_func=labels.__getitem__, key=_key(f"col_{i}", token),
            label_visibility="collapsed")
        if choice.column is None and choice.reason == "inget förslag":
            right.caption("inget förslag")
        else:
            right.caption(f"säkerhet: {confidence_label(choice.confidence)} · "
                          f"{md_escape(choice.reason)}")
    return chosen


def _value_rows(raw: RawTable, ds: Dataset, chosen: dict[str, str], token: str,
                offered: ImportProfile | None) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    header_of = {c: h for h, c in chosen.items() if c != IGNORE}
    for column, header in header_of.items():
        col = ds.column(column)
        if not col.vocabulary:
            continue
        unknown, missing = _unknown_values(raw.frame[header], ds, column)
        if missing:
            st.caption(f"{md_escape(col.label)}: räknas som saknat svar – " + ", ".join(
                f"'{md_escape(v)}' ({fmt_int(n)})" for v, n in missing))
        if not unknown:
            continue
        st.markdown(f"**Värden i {md_escape(col.label)} som inte är standard** (kolumnen "
                    f"'{md_escape(header)}') – välj vad de betyder:")
        saved = dict(offered.values.get(column, {})) if offered is not None else {}
        options = [KEEP_VALUE, *col.vocabulary]
        fallback = "– lämna värdet som det är –"
        mapped: dict[str, str] = {}
        for j, (value, count, m) in enumerate(unknown[:SHOWN_VALUES]):
            left, mid, right = st.columns([3, 3, 2], vertical_alignment="center")
            left.markdown(f"'{md_escape(value)}' ({fmt_int(count)} "
                          f"{'rad' if count == 1 else 'rader'})")
            target = saved.get(value) or m.target
            pick = mid.selectbox(
                f"Värde {j + 1} i {col.label}", options,
                index=options.index(target) if target in options else 0,
                format_func=lambda o, fb=fallback: fb if o == KEEP_VALUE else o,
                key=_key(f"val_{column}_{j}", token, value), label_visibility="collapsed")
            if value in saved:
                right.caption("sparad importprofil")
            elif m.target:
                right.caption(f"säkerhet: {confidence_label(m.confidence)}")
            else:
                right.caption("inget förslag")
            if pick != KEEP_VALUE:
                mapped[value] = pick
        if len(unknown) > SHOWN_VALUES:
            st.caption(f"Visar de {fmt_int(SHOWN_VALUES)} vanligaste av "
                       f"{fmt_int(len(unknown))} okända värden.")
        if mapped:
            values[column] = mapped
    return values


def _prepare(store: Store, raw: RawTable, sha256: str, profile: ImportProfile
             ) -> PreparedIngest:
    """The dry run with ``profile`` applied, cached for one (file, profile, store)."""
    key = (sha256, raw.sheet, profile.to_toml(), str(store.root), store.version())
    cached = st.session_state.get(_CACHE)
    if cached and cached[0] == key:
        return cached[1]
    prepared = prepare_read(raw, sha256=sha256, store=store, profile=profile)
    st.session_state[_CACHE] = (key, prepared)
    return prepared


def import_wizard(store: Store, raw: RawTable, sha256: str, choice: str | None,
                  plain: PreparedIngest | None, problem: str | None) -> Wizard | None:
    """Show the wizard when ``raw`` needs it (or a saved profile matches its headers);
    return the file checked with the chosen mapping, or None when the file is used as is.

    ``choice``: the dataset picked above (None = detect); ``plain``: the file checked
    without a profile (None when that failed, ``problem`` says why).
    """
    offered = profiles.find_profile(raw.headers, dataset=choice, root=store.root)
    if offered is None and not mismatch(raw, plain):
        return None
    st.subheader("Importguide: koppla kolumner och värden")
    if offered is not None:
        use = st.checkbox(f"Använd importprofilen '{md_escape(offered.name)}' (samma rubriker "
                          "som filen)", value=True, key=_key("use", sha256, offered.name))
        if not use:
            offered = None
    elif problem:
        st.warning("Filen kan inte läsas in som den är. Koppla kolumnerna och värdena nedan.",
                   icon=":material/warning:")
        with st.expander("Varför?"):
            st.caption(md_escape(problem))
    ds = _dataset(raw, choice, offered, plain)
    st.caption(f"Filen kopplas till datamängden {md_escape(ds.label)}"
               + (" (vald ovan)." if choice else " – välj en annan datamängd ovan om det är "
                  "fel."))
    token = "|".join((sha256, str(raw.sheet), ds.name, offered.name if offered else ""))
    resp = _respondent(raw.headers, ds)
    chosen = _column_rows(_suggestions(raw, ds, offered), ds, token, resp)
    values = _value_rows(raw, ds, chosen, token, offered)
    name = st.text_input(
        "Spara kopplingen som importprofil (namn, valfritt)",
        value=offered.name if offered is not None else "", key=_key("name", token),
        help="Profilen sparas när du trycker på Spara och föreslås automatiskt för nästa "
             "fil med samma rubriker. Den kan också användas på kommandoraden: "
             "python -m hjo_data ingest FIL --profile NAMN").strip()
    missing = [ds.column(c).label for c in ds.required if c not in chosen.values()]
    if missing:
        st.error(f"Välj vilken kolumn i filen som är {_join_sv(missing)} – "
                 f"{'den krävs' if len(missing) == 1 else 'de krävs'} för datamängden "
                 f"{md_escape(ds.label)}.", icon=":material/error:")
        return Wizard(prepared=None, profile=None, save_name=name, offered=None)
    try:
        profile = profiles.profile_from_mapping(
            {"dataset": ds.name, "headers": raw.headers, "columns": chosen, "values": values},
            name=_DRAFT_NAME)
        if name:
            profiles.validate_name(name)
    except ProfileError as exc:
        st.error(md_escape(str(exc).replace(f"Importprofilen '{_DRAFT_NAME}': ", "")),
                 icon=":material/error:")
        return Wizard(prepared=None, profile=None, save_name=name, offered=None)
    if name and name != (offered.name if offered else None) and \
            profiles.profile_path(name, store.root).exists():
        st.warning(f"Det finns redan en importprofil som heter '{md_escape(name)}'; den "
                   "ersätts när du sparar.", icon=":material/warning:")
    try:
        prepared = _prepare(store, raw, sha256, profile)
    except HjoDataError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")
        return Wizard(prepared=None, profile=profile, save_name=name, offered=None)
    return Wizard(prepared=prepared, profile=profile, save_name=name,
                  offered=offered.name if offered else None)


def save_wizard_profile(wizard: Wizard, store: Store) -> str | None:
    """Save the wizard's mapping under its name (None when no name was given)."""
    if not wizard.save_name or wizard.profile is None:
        return None
    profile = profiles.profile_from_mapping(
        {"dataset": wizard.profile.dataset, "headers": list(wizard.profile.headers),
         "columns": dict(wizard.profile.columns),
         "values": {c: dict(m) for c, m in wizard.profile.values.items()}},
        name=wizard.save_name)
    profiles.save_profile(profile, store.root)
    return profile.name


def forget_wizard() -> None:
    """Drop the wizard's cached check (after saving or when the upload changes)."""
    st.session_state.pop(_CACHE, None)
