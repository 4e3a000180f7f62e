"""Import profiles: a saved mapping of one export layout onto a dataset.

A profile names the dataset, maps every header of the file onto a canonical column (or
``"ignorera"``) and maps raw values of vocabulary columns onto canonical values. It is a
readable TOML file ``<store dir>/profiles/NAME.toml`` (the store dir is ``$HJO_DATA_DIR``
or data/store, as for :class:`hjo_data.store.Store`) that can be edited by hand::

    name = "enkatverktyget"
    dataset = "survey_responses"
    headers = ["Löpnummer", "Hur trygg ...?", ...]   # optional: the file's headers

    [columns]
    "Hur trygg eller otrygg känner du dig ...?" = "safety_evening"
    "Löpnummer" = "ignorera"

    [values.age_group]
    "30-49 år" = "30–49"

A header not named under ``[columns]`` is read as usual (e.g. a respondent id).
The header signature (the file's normalised, sorted headers) finds the profile again for
the next file of the same layout (:func:`find_profile`). Applying a profile
(:func:`apply_profile`) renames the mapped columns to their Swedish labels, drops the ignored
ones and translates the mapped values; line numbers and structural errors are kept, so the
normal validation counts and reports exactly as for any file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import tomli_w

from hjo_data.errors import HjoDataError
from hjo_data.rawtable import RawTable
from hjo_data.schema import (
    Column,
    Dataset,
    get_dataset,
    header_index,
    normalise_header,
    normalise_value,
)
from hjo_data.store import default_root

__all__ = [
    "IGNORE",
    "ImportProfile",
    "ProfileError",
    "apply_profile",
    "delete_profile",
    "find_profile",
    "header_signature",
    "list_profiles",
    "load_profile",
    "original_preview",
    "profile_dataset",
    "profile_from_mapping",
    "profile_path",
    "profiles_dir",
    "save_profile",
    "validate_name",
]

#: Target of a file column that is not read.
IGNORE = "ignorera"
#: Sub-folder of the store dir holding the profiles.
PROFILE_DIR = "profiles"
_SUFFIX = ".toml"
#: Letters (incl. å ä ö and other accented letters), digits, space, "-" and "_"; no dots or
#: slashes, so a name can never leave the profiles folder.
_NAME_RE = re.compile(r"^[^\W_][\w \-]{0,63}$")
_NAME_RULE = ("använd bokstäver, siffror, mellanslag, '-' och '_' (högst 64 tecken, börja "
              "med en bokstav eller siffra)")
_HEADER_COMMENT = (
    "# Importprofil för trygghetsdashboarden (redigera gärna för hand).\n"
    "# [columns]: rubrik i filen = kolumn i datamängden, eller \"ignorera\".\n"
    "# [values.KOLUMN]: värde i filen = värde i kolumnens ordlista.\n"
    "# Läs in med: python -m hjo_data ingest FIL --profile NAMN\n\n"
)


class ProfileError(HjoDataError):
    """A profile name, file or mapping is not usable (Swedish message naming it)."""


def header_signature(headers: Iterable[str]) -> tuple[str, ...]:
    """The layout key of a file: its normalised headers, sorted (order-insensitive)."""
    return tuple(sorted(normalise_header(h) for h in headers))


@dataclass(frozen=True)
class ImportProfile:
    """A validated profile (build one with :func:`profile_from_mapping` from untrusted
    input). ``columns`` targets and ``values`` keys are canonical column names."""

    name: str
    dataset: str
    columns: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}))
    header_signature: tuple[str, ...] = ()
    #: The file's headers in order (a header not named in ``columns`` is read as usual,
    #: e.g. a respondent id); empty: the headers named in ``columns``.
    headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "values", MappingProxyType(
            {c: MappingProxyType(dict(m)) for c, m in self.values.items()}))
        object.__setattr__(self, "headers", tuple(self.headers) or tuple(self.columns))
        if not self.header_signature:
            object.__setattr__(self, "header_signature", header_signature(self.headers))

    def to_toml(self) -> str:
        """The readable TOML text of the profile (what :func:`save_profile` writes)."""
        doc: dict[str, object] = {"name": self.name, "dataset": self.dataset}
        if set(self.headers) != set(self.columns):
            doc["headers"] = list(self.headers)
        doc["columns"] = dict(self.columns)
        values = {c: dict(m) for c, m in self.values.items() if m}
        if values:
            doc["values"] = values
        return _HEADER_COMMENT + tomli_w.dumps(doc)


# --------------------------------------------------------------------------- validation


def validate_name(name: object) -> str:
    """The profile name, stripped; ProfileError (Swedish) for anything that could be a
    path (``..``, ``/``, ``\\``), is empty or too long."""
    text = str(name).strip() if name is not None else ""
    if not _NAME_RE.fullmatch(text):
        raise ProfileError(f"Ogiltigt profilnamn '{text[:80]}': {_NAME_RULE}.")
    return text


def _column_lookup(ds: Dataset) -> dict[str, Column]:
    """Canonical name or Swedish label (any case) -> column."""
    lookup: dict[str, Column] = {}
    for col in ds.columns:
        lookup.setdefault(col.name.lower(), col)
        lookup.setdefault(col.label.lower(), col)
    return lookup


def _where(source: str | None) -> str:
    return f" ({source})" if source else ""


def _allowed_columns(ds: Dataset) -> str:
    return ", ".join(c.name for c in ds.columns)


def profile_from_mapping(data: Mapping[str, object], *, name: str | None = None,
                         source: str | None = None) -> ImportProfile:
    """Build and check a profile from parsed TOML (or the wizard's choices).

    ``name`` overrides the name in ``data`` (the file name wins: NAME.toml is profile NAME).
    Column targets may be canonical names or Swedish labels; every problem raises
    ProfileError naming the profile, ``source`` (e.g. the file) and the offending entry.
    """
    pname = validate_name(name if name is not None else data.get("name", ""))
    where = _where(source)
    try:
        ds = get_dataset(str(data.get("dataset", "")))
    except HjoDataError as exc:
        raise ProfileError(f"Importprofilen '{pname}'{where}: {exc}") from exc
    lookup = _column_lookup(ds)
    raw_columns = data.get("columns", {})
    if not isinstance(raw_columns, Mapping) or not raw_columns:
        raise ProfileError(f"Importprofilen '{pname}'{where}: tabellen [columns] saknas eller "
                           "är tom (rubrik i filen = kolumn).")
    columns: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for header, target in raw_columns.items():
        text = str(target).strip()
        if text.lower() == IGNORE:
            columns[str(header)] = IGNORE
            continue
        col = lookup.get(text.lower())
        if col is None:
            raise ProfileError(
                f"Importprofilen '{pname}'{where}: okänd kolumn '{text}' för rubriken "
                f"'{header}' i datamängden {ds.label} ({ds.name}). Tillåtna: "
                f"{_allowed_columns(ds)} eller \"{IGNORE}\".")
        if col.name in claimed:
            raise ProfileError(
                f"Importprofilen '{pname}'{where}: både '{claimed[col.name]}' och '{header}' "
                f"är kopplade till kolumnen '{col.name}'; en kolumn kan bara komma från en "
                "rubrik.")
        claimed[col.name] = str(header)
        columns[str(header)] = col.name
    raw_values = data.get("values", {})
    if not isinstance(raw_values, Mapping):
        raise ProfileError(f"Importprofilen '{pname}'{where}: [values] måste vara tabeller "
                           "per kolumn ([values.KOLUMN]).")
    values: dict[str, dict[str, str]] = {}
    for column, mapping in raw_values.items():
        col = lookup.get(str(column).strip().lower())
        if col is None:
            raise ProfileError(
                f"Importprofilen '{pname}'{where}: okänd kolumn '{column}' under [values] i "
                f"datamängden {ds.label} ({ds.name}). Tillåtna: {_allowed_columns(ds)}.")
        if not col.vocabulary:
            raise ProfileError(
                f"Importprofilen '{pname}'{where}: kolumnen '{col.name}' har ingen ordlista; "
                "värden kan bara översättas i kolumner med fasta värden.")
        if not isinstance(mapping, Mapping):
            raise ProfileError(f"Importprofilen '{pname}'{where}: [values.{col.name}] måste "
                               "vara en tabell (värde i filen = värde).")
        values[col.name] = {str(raw): _vocabulary_value(col, target, pname, where, raw)
                            for raw, target in mapping.items()}
    headers = data.get("headers", ())
    if not isinstance(headers, list | tuple) or not all(isinstance(h, str) for h in headers):
        raise ProfileError(f"Importprofilen '{pname}'{where}: 'headers' måste vara en lista "
                           "med filens rubriker.")
    extra = [h for h in columns if headers and h not in headers]
    if extra:
        raise ProfileError(f"Importprofilen '{pname}'{where}: rubriken '{extra[0]}' under "
                           "[columns] finns inte i 'headers'.")
    return ImportProfile(name=pname, dataset=ds.name, columns=columns, values=values,
                         headers=tuple(headers))


def _vocabulary_value(col: Column, target: object, pname: str, where: str,
                      raw: object) -> str:
    canonical = col.synonyms.get(normalise_value(str(target)))
    if canonical is None:
        raise ProfileError(
            f"Importprofilen '{pname}'{where}: okänt värde '{target}' för '{raw}' i kolumnen "
            f"'{col.name}'. Tillåtna: {', '.join(col.vocabulary)}.")
    return canonical


# --------------------------------------------------------------------------- files


def profiles_dir(root: str | Path | None = None) -> Path:
    """``<store dir>/profiles`` (root None -> $HJO_DATA_DIR or data/store)."""
    base = Path(root).expanduser() if root is not None else default_root()
    return base / PROFILE_DIR


def profile_path(name: str, root: str | Path | None = None) -> Path:
    return profiles_dir(root) / f"{validate_name(name)}{_SUFFIX}"


def _read_file(path: Path) -> ImportProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"Importprofilen '{path.stem}' kunde inte läsas "
                           f"({path.name}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"Importprofilen '{path.stem}' ({path.name}) är inte giltig TOML: "
                           f"{exc}.") from exc
    return profile_from_mapping(data, name=path.stem, source=path.name)


def list_profiles(root: str | Path | None = None
                  ) -> tuple[list[ImportProfile], list[str]]:
    """(profiles sorted by name, Swedish messages about files that could not be used)."""
    folder = profiles_dir(root)
    profiles: list[ImportProfile] = []
    problems: list[str] = []
    if not folder.is_dir():
        return profiles, problems
    for path in sorted(folder.glob(f"*{_SUFFIX}")):
        try:
            validate_name(path.stem)
            profiles.append(_read_file(path))
        except ProfileError as exc:
            problems.append(str(exc))
    return profiles, problems


def load_profile(name: str, root: str | Path | None = None) -> ImportProfile:
    """The profile NAME; ProfileError listing the saved profiles when there is none."""
    path = profile_path(name, root)
    if not path.is_file():
        saved = [p.name for p in list_profiles(root)[0]]
        listed = ", ".join(saved) if saved else "inga profiler är sparade ännu"
        raise ProfileError(f"Importprofilen '{validate_name(name)}' finns inte. Sparade "
                           f"profiler: {listed}.")
    return _read_file(path)


def save_profile(profile: ImportProfile, root: str | Path | None = None) -> Path:
    """Write ``profile`` atomically (temp file + rename); an existing one is replaced."""
    path = profile_path(profile.name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = profile.to_toml()
    fd, tmp = tempfile.mkstemp(prefix=".profile.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def delete_profile(name: str, root: str | Path | None = None) -> bool:
    path = profile_path(name, root)
    if path.is_file():
        path.unlink()
        return True
    return False


def find_profile(headers: Iterable[str], dataset: str | None = None,
                 root: str | Path | None = None) -> ImportProfile | None:
    """The saved profile whose header signature equals the file's (of ``dataset`` when
    given); with several, the most recently saved one. Broken profile files are skipped."""
    signature = header_signature(headers)
    folder = profiles_dir(root)
    matches = [p for p in list_profiles(root)[0] if p.header_signature == signature
               and (dataset is None or p.dataset == get_dataset(dataset).name)]
    if not matches:
        return None

    def saved_at(p: ImportProfile) -> float:
        try:
            return (folder / f"{p.name}{_SUFFIX}").stat().st_mtime
        except OSError:
            return 0.0

    return max(matches, key=lambda p: (saved_at(p), p.name))


# --------------------------------------------------------------------------- applying


def target_header(ds: Dataset, column: str) -> str:
    """The header a mapped column gets: its Swedish label (readable in messages and the
    quarantine file) when the label maps back to the column, else the canonical name."""
    label = ds.column(column).label
    return label if header_index(ds).get(normalise_header(label)) == column else column


def renamed_headers(headers: Iterable[str], profile: ImportProfile) -> dict[str, str | None]:
    """Each file header -> its header after :func:`apply_profile` (None = ignored).

    Matching is exact first, then on the normalised header. A header the profile does not
    name is kept as it is, unless it would claim (by alias) a column the profile maps: then
    it becomes "HEADER (ej kopplad)", so the column the user chose wins.
    """
    ds = get_dataset(profile.dataset)
    by_norm = {normalise_header(h): t for h, t in profile.columns.items()}
    index = header_index(ds)
    targeted = set(profile.columns.values()) - {IGNORE}
    out: dict[str, str | None] = {}
    for header in headers:
        target = profile.columns.get(header, by_norm.get(normalise_header(header)))
        if target is None:
            claims = index.get(normalise_header(header)) in targeted
            out[header] = f"{header} (ej kopplad)" if claims else header
        elif target == IGNORE:
            out[header] = None
        else:
            out[header] = target_header(ds, target)
    return out


def _map_values(series: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    lookup = {normalise_value(raw): target for raw, target in mapping.items()}
    uniques = pd.unique(series.to_numpy(dtype=object))
    translate = {u: lookup.get(normalise_value(u), u) for u in uniques if u}
    changed = {u: t for u, t in translate.items() if t != u}
    if not changed:
        return series
    return series.map(lambda v: changed.get(v, v)).astype("str")


def apply_profile(raw: RawTable, profile: ImportProfile) -> RawTable:
    """``raw`` with the profile's columns renamed/dropped and values translated.

    Line numbers, structural errors, warnings and the file name are kept; row count is
    unchanged (a profile never drops rows, so the ingest counts still add up).
    """
    ds = get_dataset(profile.dataset)
    renames = renamed_headers(raw.headers, profile)
    kept = [h for h in raw.headers if renames[h] is not None]
    frame = raw.frame[kept].copy()
    frame.columns = [str(renames[h]) for h in kept]
    for column, mapping in profile.values.items():
        header = target_header(ds, column)
        if header in frame.columns and mapping:
            frame[header] = _map_values(frame[header], mapping)
    return dataclasses.replace(raw, frame=frame)


def profile_dataset(profile: ImportProfile, dataset: Dataset | None) -> Dataset:
    """The profile's dataset; ProfileError when another dataset was asked for."""
    ds = get_dataset(profile.dataset)
    if dataset is not None and dataset.name != ds.name:
        raise ProfileError(
            f"Importprofilen '{profile.name}' gäller datamängden {ds.label} ({ds.name}), inte "
            f"{dataset.label} ({dataset.name}).")
    return ds


def original_preview(headers: Iterable[str], profile: ImportProfile,
                     preview: Iterable[tuple[str, str]], ignored: str
                     ) -> list[tuple[str, str]]:
    """A header preview of the profiled table told in the file's own headers: each
    original header with what it became (``ignored`` for the columns the profile drops)."""
    shown = dict(preview)
    renames = renamed_headers(list(headers), profile)
    return [(h, ignored if new is None else shown.get(new, ignored))
            for h, new in renames.items()]
