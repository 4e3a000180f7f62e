"""Audience modes and small-count protection: the one gate every page, report and export uses.

Two audiences:

* ``"public"`` (the default): what may be shown on a screen at a council meeting or put on
  the municipality's web site. Counts 1..threshold-1 show as ``"<5"``, cells from which a
  small count could be recomputed are hidden as well (secondary suppression, ``".."``),
  survey shares with fewer than ``min_survey_n`` answers show as ``"för få svar"``, and
  free text, exact positions, ids and row-level tables are never shown.
* ``"official"``: municipal staff and police; everything is shown as is.

Choices worth knowing:

* **Zero is shown.** A cell with 0 says that nothing happened in that group, which discloses
  nothing about a person, and hiding zeros would hide most of a small municipality's
  tables. ``DisclosureSettings(suppress_zero=True)`` hides zeros too (shown as ``"<5"``).
* **Totals are assumed derivable.** A dashboard shows the total of a row or a column
  elsewhere (a KPI card, another chart), so by default every row and column of a count
  table is protected as if its total were published (``assume_totals=True``), even when
  the table carries no margin. Published margins are protected too: a margin below the
  threshold is itself suppressed, and the margin row/column is a line of its own.
* **Secondary choice.** When a protected line (a row or column with its total) holds exactly
  one hidden cell, another cell of that line is hidden. First preference: a cell whose
  crossing line also has exactly one hidden cell (one choice fixes both), then one whose
  crossing lines already hide two or more (no newly exposed line). Within that: a non-zero
  cell of at least ``2*threshold - 2`` (then the sum of the two hidden cells says nothing
  about the small one's size), else the smallest non-zero cell, else the line's published
  total, else a zero cell. This repeats until no line has exactly one hidden cell. It is the
  classic cell-suppression heuristic: no hidden cell can be recomputed by subtraction
  along rows and columns; it does not solve the full interval (linear programming) problem.
* Secondary cells show ``".."`` rather than ``"<5"``, so the table never states a false
  "fewer than 5".
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from hjo_data.errors import HjoDataError
from hjo_data.filters import Filters
from hjo_data.formatting import MISSING, fmt_ci, fmt_float, fmt_int, fmt_pct
from hjo_data.promise import Promise, load_promise_with_fallback
from hjo_data.schema import BOOKKEEPING, WHOLE_MUNICIPALITY, Dataset, get_dataset

Audience = Literal["public", "official"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
DEFAULT_AUDIENCE: Audience = "public"
ENV_VAR = "HJO_MODE"
AUDIENCE_LABEL_SV: dict[str, str] = {"public": "Publikt läge", "official": "Tjänstepersonsläge"}

TableKind = Literal["counts", "shares", "rows"]

#: Shown instead of a survey share based on too few answers.
TOO_FEW_SV = "för få svar"
#: Public message for a selection whose (perturbed) total is small, zero included.
FEW_INCIDENTS_SV = ("Urvalet har för få händelser för att visas ({mark}). Välj en längre "
                    "period eller färre avgränsningar i sidomenyn.")
#: Shown for a cell hidden only so that a small count cannot be recomputed.
SECONDARY_MARK = ".."
#: Index/column labels (case-insensitive) recognised as a margin (total) row/column.
TOTAL_LABELS: frozenset[str] = frozenset(
    {"totalt", "total", "summa", "all", "alla", "samtliga", WHOLE_MUNICIPALITY.lower()}
)
#: Long-format share tables: value columns masked together with ``share`` when n is small.
SHARE_COLUMNS: tuple[str, ...] = ("share", "ci_low", "ci_high", "share_low", "share_high")
#: Datasets whose rows are already aggregates (share + n), safe to show per row in public.
AGGREGATE_DATASETS: frozenset[str] = frozenset({"survey", "youth"})
#: Extra columns never shown publicly, whatever the dataset.
_ALWAYS_PRIVATE: frozenset[str] = frozenset({*BOOKKEEPING, "_line"})


class DisclosureError(HjoDataError):
    """Data would be disclosed in a way the audience does not allow (Swedish message)."""


class RowLevelNotPublicError(DisclosureError):
    """Row-level (per-record) data was requested in public mode."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (
            "Uppgifter per händelse eller svar visas inte i publikt läge – "
            "bara sammanställningar."))


# --------------------------------------------------------------------------- audience


def audience_from_env(environ: Mapping[str, str] | None = None) -> Audience:
    """``$HJO_MODE=official`` gives the officials' view; anything else (or unset) public."""
    env = os.environ if environ is None else environ
    return "official" if env.get(ENV_VAR, "").strip().lower() == "official" else "public"


def check_audience(audience: str) -> Audience:
    """Return ``audience`` if valid; raise ValueError otherwise (never fall back silently)."""
    if audience not in AUDIENCES:
        raise ValueError(f"Okänt läge {audience!r}: ska vara 'public' eller 'official'.")
    return audience  # type: ignore[return-value]


# --------------------------------------------------------------------------- settings


_SETTING_KEYS = {
    "threshold": ("threshold", "small_count_threshold", "suppression_threshold",
                  "troskel", "tröskel", "min_count"),
    "min_survey_n": ("min_survey_n", "survey_min_n", "min_n", "minsta_antal_svar"),
    "suppress_zero": ("suppress_zero", "dolj_noll", "dölj_noll"),
}


@dataclass(frozen=True)
class DisclosureSettings:
    """Public-mode limits (read from the promise file's settings via ``from_mapping``)."""

    threshold: int = 5
    min_survey_n: int = 30
    suppress_zero: bool = False

    def __post_init__(self) -> None:
        for name in ("threshold", "min_survey_n"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Inställningen {name} måste vara ett heltal ≥ 1, fick {value!r}.")
        if not isinstance(self.suppress_zero, (bool, np.bool_)):
            raise ValueError(
                f"Inställningen suppress_zero måste vara true/false, fick {self.suppress_zero!r}.")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object] | None) -> DisclosureSettings:
        """Build from a settings mapping; unknown keys are ignored, missing keys default.

        Accepts a few spellings per setting (e.g. ``threshold`` / ``small_count_threshold``,
        ``min_survey_n`` / ``min_n``).
        """
        if not mapping:
            return cls()
        lowered = {str(k).strip().lower(): v for k, v in mapping.items()}
        kwargs: dict[str, object] = {}
        for field_name, keys in _SETTING_KEYS.items():
            for key in keys:
                if key in lowered:
                    kwargs[field_name] = lowered[key]
                    break
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def small_mark(self) -> str:
        """What a small count shows as, e.g. ``"<5"``."""
        return f"<{self.threshold}"


def suppression_note(settings: DisclosureSettings | None = None) -> str:
    """Swedish footnote explaining the markers of a suppressed table."""
    s = settings or DisclosureSettings()
    return (f"Antal mellan 1 och {s.threshold - 1} visas som ”{s.small_mark}”. "
            f"”{SECONDARY_MARK}” = värdet döljs så att små antal inte kan räknas fram "
            "ur summorna.")


# --------------------------------------------------------------------------- cell keys
# Consistent cell-key perturbation (docs/PRIVACY.md): every record has a stable key, a
# cell's key is the sum of its records' keys modulo KEY_MOD, and the published value of a
# count n >= threshold is n + noise(cell key) from the fixed table PTABLE. The same records
# give the same published value on every surface; two selections that differ by a few
# records differ by those records plus noise, so a small count cannot be worked out.

#: Record keys are whole numbers in [0, KEY_MOD). 2**24 keeps float64 sums (np.bincount
#: weights) exact for up to 2**29 records, so summing order never changes a cell key.
KEY_MOD = 1 << 24
#: The perturbation table: (noise, probability) for a count of at least the threshold.
PTABLE: tuple[tuple[int, float], ...] = ((-2, 0.05), (-1, 0.20), (0, 0.50), (1, 0.20),
                                         (2, 0.05))
#: Largest noise in either direction (the published rules an adversary may know).
MAX_NOISE = max(abs(v) for v, _ in PTABLE)
#: A count column ``c`` of a keyed table has its cell keys in column ``c + KEY_SUFFIX``.
KEY_SUFFIX = "_key"
_NOISE = np.array([v for v, _ in PTABLE], dtype="int64")
_EDGES = np.round(np.cumsum([p for _, p in PTABLE])[:-1] * KEY_MOD).astype("int64")
#: Columns that identify an incident when it has no record_id (plus the occurrence number).
_KEY_FALLBACK = ("occurred_at", "category", "area", "source", "lat", "lon", "description")


def record_keys(frame: pd.DataFrame) -> np.ndarray:
    """Stable key per row in [0, KEY_MOD): a hash of ``record_id`` (the store's stable id);
    rows without one are keyed by their content and occurrence number. Same record ->
    same key on every machine and run (pandas' fixed hash key)."""
    if frame is None or len(frame) == 0:
        return np.zeros(0, dtype="int64")
    ids = frame["record_id"] if "record_id" in frame.columns else None
    if ids is None or ids.isna().any() or (ids.astype("str") == "").any():
        cols = [c for c in _KEY_FALLBACK if c in frame.columns] or list(frame.columns)
        base = pd.util.hash_pandas_object(frame[cols], index=False)
        occurrence = base.groupby(base.to_numpy()).cumcount()
        ids = base.astype("str") + "#" + occurrence.astype("str")
    hashed = pd.util.hash_pandas_object(ids.astype("str"), index=False).to_numpy()
    return (hashed % np.uint64(KEY_MOD)).astype("int64")


def key_sum(keys: np.ndarray | pd.Series | Collection[int]) -> int:
    """The cell key of a set of records: the sum of their keys modulo KEY_MOD."""
    return int(np.asarray(keys, dtype="int64").sum() % KEY_MOD)


def noise(keys: np.ndarray | int) -> np.ndarray:
    """The perturbation table's noise for cell keys (any int; taken modulo KEY_MOD)."""
    k = np.asarray(keys).astype("float64") % KEY_MOD
    return _NOISE[np.searchsorted(_EDGES, k, side="right")]


def perturb(counts: np.ndarray | float | int, keys: np.ndarray | float | int,
            threshold: int = 5) -> np.ndarray:
    """Published values of counts with their cell keys: n + noise for n >= threshold,
    NaN ("<threshold") when n < threshold (zero included) or n + noise < threshold."""
    n = np.asarray(counts, dtype="float64")
    shown = n + noise(np.nan_to_num(np.asarray(keys, dtype="float64")))
    hidden = np.isnan(n) | (n < threshold) | (shown < threshold)
    return np.where(hidden, np.nan, shown)


def perturbation_note(settings: DisclosureSettings | None = None) -> str:
    """Swedish footnote of a perturbed table."""
    s = settings or DisclosureSettings()
    return (f"Antal mellan 0 och {s.threshold - 1} visas som ”{s.small_mark}”, och alla "
            f"antal är justerade med högst ±{MAX_NOISE} så att ingen enskild händelse kan "
            "räknas fram (summor räknas för sig och behöver inte stämma med delarna).")


def public_filters(filters: Filters) -> Filters:
    """The public publication grid: a period widens to whole calendar months (start to
    the 1st, end to the month's last day), so no two public selections differ by a few
    days (docs/PRIVACY.md: averaging over many nearly equal selections)."""
    start, end = filters.start, filters.end
    if start is not None:
        start = start.replace(day=1)
    if end is not None:
        end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    if (start, end) == (filters.start, filters.end):
        return filters
    return dataclasses.replace(filters, start=start, end=end)


def public_explanation_sv(settings: DisclosureSettings | None = None) -> str:
    """Plain-Swedish explanation for Om data of what the public sees and why (Markdown,
    no user text)."""
    s = settings or DisclosureSettings()
    return (
        f"**Små tal visas som {s.small_mark}.** Ett antal händelser mellan 0 och "
        f"{s.threshold - 1} skrivs aldrig ut. Även noll visas som {s.small_mark}: annars "
        f"skulle man veta att varje {s.small_mark} betyder minst en händelse.\n\n"
        f"**Alla antal är justerade något.** Varje antal om händelser i publikt läge är "
        f"flyttat med högst {MAX_NOISE} uppåt eller nedåt. Justeringen följer händelserna: "
        "samma händelser ger alltid samma tal, på alla sidor, i rapporten, i presentationen "
        "och i nedladdade filer. Därför kan en summa skilja sig lite från delarna den "
        "består av.\n\n"
        "**Varför?** Hjo är litet. Om alla tal vore exakta skulle man kunna räkna fram en "
        "enskild händelse, till exempel genom att dra de visade kategorierna från summan "
        "eller jämföra två urval som bara skiljer sig åt med en kategori. Med små tal som "
        f"{s.small_mark} och justerade antal går det inte att räkna fram någon enskild "
        "händelse, medan trender och jämförelser stämmer (justeringen är i snitt ungefär "
        "en halv händelse).\n\n"
        "Andelar, takter per 1 000 invånare och bedömningar (till exempel ”ökning utanför "
        "slumpvariationen”) räknas på de justerade talen och döljs när talen bakom dem är "
        "små. Tjänstepersonsläget visar de exakta talen.")


def perturb_counts(table: pd.DataFrame, keys: pd.DataFrame, threshold: int = 5
                   ) -> SuppressionResult:
    """Cell-key perturbation of a count table; ``keys`` has the same shape (cell keys).

    Every cell, a margin ("Totalt") included, is published on its own from its own count
    and key: a total is never the sum of the shown cells, so subtracting shown cells from
    it leaves noise, not a hidden count. No secondary suppression is needed.
    """
    counts = _as_counts(table)
    if keys.shape == table.shape and keys.index.equals(table.index):
        keys = keys.loc[:, list(table.columns)] if set(keys.columns) == set(table.columns) \
            else keys
    else:
        keys = keys.reindex(index=table.index, columns=table.columns)
    key_values = keys.to_numpy(dtype="float64", na_value=0.0)
    published = perturb(counts, key_values, threshold)
    hidden = np.isnan(published)
    small = f"<{threshold}"
    display = np.where(hidden, small, np.array([fmt_int(v) if v == v else small
                                                for v in published.ravel()],
                                               dtype=object).reshape(published.shape))
    frame = dict(index=table.index, columns=table.columns)
    mask = pd.DataFrame(hidden, **frame)
    return SuppressionResult(display=pd.DataFrame(display, **frame).astype("str"),
                             suppressed=mask, primary=mask.copy(),
                             numeric=pd.DataFrame(published, **frame))


# --------------------------------------------------------------------------- suppression


@dataclass(frozen=True)
class SuppressionResult:
    """A suppressed count table.

    display:    same shape/labels as the input; Swedish display strings.
    suppressed: bool, True where the value is hidden (primary or secondary).
    primary:    bool, True where the value itself is small (or zero with suppress_zero).
    numeric:    float counts with NaN where hidden: feed THIS to charts in public mode.
    """

    display: pd.DataFrame
    suppressed: pd.DataFrame
    primary: pd.DataFrame
    numeric: pd.DataFrame

    @property
    def secondary(self) -> pd.DataFrame:
        return self.suppressed & ~self.primary


def _find_total(labels: pd.Index, total_labels: Collection[str]) -> int | None:
    """Position of the single label that names a total, or None."""
    wanted = {str(t).strip().lower() for t in total_labels}
    hits = [i for i, label in enumerate(labels)
            if isinstance(label, str) and label.strip().lower() in wanted]
    if len(hits) > 1:
        raise ValueError(f"Flera summarader/-kolumner i tabellen: {[labels[i] for i in hits]}")
    return hits[0] if hits else None


def _as_counts(table: pd.DataFrame) -> np.ndarray:
    """Non-negative whole numbers as int64; NaN (empty pivot cell) counts as 0."""
    try:
        numeric = table if all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes) \
            else table.apply(pd.to_numeric)
        values = numeric.to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError) as err:
        raise ValueError(f"Tabellen innehåller värden som inte är antal: {err}") from err
    values = np.nan_to_num(values, nan=0.0)
    if (values < 0).any() or not np.all(np.isfinite(values)) or \
            not np.all(values == np.round(values)):
        raise ValueError("Tabellen måste innehålla antal (heltal ≥ 0).")
    return values.astype("int64")


def suppress_counts(table: pd.DataFrame, threshold: int = 5, *, assume_totals: bool = True,
                    suppress_zero: bool = False,
                    total_labels: Collection[str] = TOTAL_LABELS) -> SuppressionResult:
    """Primary and secondary suppression of a 2-D count table (see the module docstring).

    ``table``: index = rows, columns = categories, values = counts. A row/column whose
    label is in ``total_labels`` (e.g. ``"Totalt"``, pandas' ``"All"``) is taken as a
    published margin. ``assume_totals=False`` protects only lines that have a margin in
    the table.
    """
    if threshold < 1:
        raise ValueError("threshold måste vara ≥ 1")
    counts = _as_counts(table)
    n_rows, n_cols = counts.shape
    r_tot = _find_total(table.index, total_labels)
    c_tot = _find_total(table.columns, total_labels)

    # Internal grid: inner rows/cols first, margins last; missing margins computed
    # ("implicit": never displayed, never chosen for secondary suppression).
    rows = [i for i in range(n_rows) if i != r_tot]
    cols = [j for j in range(n_cols) if j != c_tot]
    inner = counts[np.ix_(rows, cols)]
    R, C = len(rows), len(cols)
    grid = np.zeros((R + 1, C + 1), dtype="int64")
    explicit = np.zeros((R + 1, C + 1), dtype=bool)
    grid[:R, :C] = inner
    explicit[:R, :C] = True
    grid[R, :C] = counts[r_tot, cols] if r_tot is not None else inner.sum(axis=0)
    grid[:R, C] = counts[rows, c_tot] if c_tot is not None else inner.sum(axis=1)
    if r_tot is not None and c_tot is not None:
        grid[R, C] = counts[r_tot, c_tot]
    else:
        grid[R, C] = inner.sum()
    if r_tot is not None:
        explicit[R, :C] = True
    if c_tot is not None:
        explicit[:R, C] = True
    explicit[R, C] = r_tot is not None and c_tot is not None

    primary = (grid >= 1) & (grid < threshold)
    if suppress_zero:
        primary |= (grid == 0) & explicit
    lines = _protected_lines(R, C, r_tot is not None, c_tot is not None, assume_totals)
    suppressed = _secondary(grid, explicit, primary, lines, threshold)

    # Back to the caller's order and labels.
    row_pos = np.empty(n_rows, dtype="int64")
    col_pos = np.empty(n_cols, dtype="int64")
    row_pos[rows] = np.arange(R)
    col_pos[cols] = np.arange(C)
    if r_tot is not None:
        row_pos[r_tot] = R
    if c_tot is not None:
        col_pos[c_tot] = C
    take = np.ix_(row_pos, col_pos)
    sup = suppressed[take]
    prim = primary[take] & sup
    small = f"<{threshold}"
    display = np.empty(counts.shape, dtype=object)
    for (i, j), value in np.ndenumerate(counts):
        if prim[i, j]:
            display[i, j] = small
        elif sup[i, j]:
            display[i, j] = SECONDARY_MARK
        else:
            display[i, j] = fmt_int(value)
    frame = dict(index=table.index, columns=table.columns)
    numeric = np.where(sup, np.nan, counts.astype("float64"))
    return SuppressionResult(
        display=pd.DataFrame(display, **frame).astype("str"),
        suppressed=pd.DataFrame(sup, **frame),
        primary=pd.DataFrame(prim, **frame),
        numeric=pd.DataFrame(numeric, **frame),
    )


def _protected_lines(R: int, C: int, has_row_margin: bool, has_col_margin: bool,
                     assume_totals: bool) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Lines (member cells, total cell) on the (R+1)x(C+1) grid that must be protected."""
    lines: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
    # Rows: total in column C. Protected when the row total is published (or assumed so);
    # a single-column table's "row total" is the cell itself, unless a margin is shown.
    rows_protected = has_col_margin or (assume_totals and C >= 2)
    if rows_protected:
        for r in range(R):
            lines.append(([(r, c) for c in range(C)], (r, C)))
        if has_row_margin:  # the row of column totals, with the grand total
            lines.append(([(R, c) for c in range(C)], (R, C)))
    cols_protected = has_row_margin or (assume_totals and R >= 2)
    if cols_protected:
        for c in range(C):
            lines.append(([(r, c) for r in range(R)], (R, c)))
        if has_col_margin:
            lines.append(([(r, C) for r in range(R)], (R, C)))
    return lines


def _secondary(grid: np.ndarray, explicit: np.ndarray, primary: np.ndarray,
               lines: list[tuple[list[tuple[int, int]], tuple[int, int]]],
               threshold: int) -> np.ndarray:
    """Add hidden cells until no protected line has exactly one hidden cell.

    Among a line's candidates, prefer a cell whose crossing line also has exactly one
    hidden cell (one choice fixes both), then one whose crossing lines already hide two or
    more (no new exposed line), then the value order of the module docstring.
    """
    suppressed = primary.copy()
    comfortable = 2 * threshold - 2
    line_cells = [[*members, total] for members, total in lines]
    lines_of: dict[tuple[int, int], list[int]] = {}
    for k, cells in enumerate(line_cells):
        for cell in cells:
            lines_of.setdefault(cell, []).append(k)

    def hidden_in(k: int) -> int:
        return sum(bool(suppressed[c]) for c in line_cells[k])

    def rank(cell: tuple[int, int], k: int) -> tuple[int, int, int]:
        others = [hidden_in(j) for j in lines_of[cell] if j != k]
        cross = 0 if 1 in others else (1 if all(h >= 2 for h in others) else 2)
        value = int(grid[cell])
        size = 0 if value >= comfortable else (1 if value > 0 else 3)
        return cross, size, value

    changed = True
    while changed:
        changed = False
        for k, (members, total) in enumerate(lines):
            if hidden_in(k) != 1:
                continue
            candidates = [c for c in members if explicit[c] and not suppressed[c]]
            ranked = sorted((rank(c, k), c) for c in candidates)
            if explicit[total] and not suppressed[total]:
                # The published total comes after every non-zero cell, before zeros.
                cross, _, value = rank(total, k)
                ranked.append(((cross, 2, value), total))
                ranked.sort()
            if not ranked:  # cannot happen for the lines _protected_lines builds
                continue
            suppressed[ranked[0][1]] = True
            changed = True
    return suppressed


def suppress_series(counts: pd.Series, threshold: int = 5, *, total_published: bool = False,
                    suppress_zero: bool = False,
                    total_labels: Collection[str] = TOTAL_LABELS) -> pd.Series:
    """Display strings for a 1-D count series.

    Small counts always show as ``"<5"``. Secondary suppression applies when the total is
    published: either an entry labelled as a total (``"Totalt"``) or ``total_published``
    (the total shows elsewhere, e.g. in a KPI card).
    """
    name = counts.name if counts.name is not None else "antal"
    result = suppress_counts(counts.to_frame(name=name), threshold,
                             assume_totals=total_published, suppress_zero=suppress_zero,
                             total_labels=total_labels)
    return result.display[name].rename(counts.name)


def share_display(share: float | None, n: float | None, min_n: int = 30) -> str:
    """``"12,3 %"``, or ``"för få svar"`` when fewer than ``min_n`` answered (or n unknown)."""
    if n is None or pd.isna(n) or n < min_n:
        return TOO_FEW_SV
    if share is None or pd.isna(share):
        return MISSING
    return fmt_pct(share)


# --------------------------------------------------------------------------- row frames


def public_columns(dataset: str | Dataset) -> tuple[str, ...]:
    """The dataset's columns that may be shown publicly (whitelist)."""
    ds = get_dataset(dataset)
    return tuple(
        c.name for c in ds.columns
        if not c.free_text and not c.position and c.name != ds.id_column
        and c.name not in _ALWAYS_PRIVATE
    )


def unsafe_columns(frame: pd.DataFrame, dataset: str | Dataset) -> list[str]:
    """Columns of ``frame`` that must not be shown publicly (anything not whitelisted)."""
    allowed = set(public_columns(dataset))
    return [str(c) for c in frame.columns if c not in allowed]


def public_frame(frame: pd.DataFrame, dataset: str | Dataset) -> pd.DataFrame:
    """Only the public-safe columns: no free text, positions, ids, ``*_raw``, bookkeeping.

    A whitelist: columns the schema does not know (derived or added later) are dropped too.
    """
    allowed = set(public_columns(dataset))
    return frame.loc[:, [c for c in frame.columns if c in allowed]].copy()


def official_frame(frame: pd.DataFrame, dataset: str | Dataset | None = None) -> pd.DataFrame:
    """Officials see everything: the frame as is."""
    return frame


# 10 or 12 digits with a plausible date (day may be +60 for samordningsnummer).
_PERSONNUMMER = re.compile(
    r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-8]\d|9[01])[-+ ]?\d{4}(?!\d)"
)


def assert_public_safe(frame: pd.DataFrame, dataset: str | Dataset) -> None:
    """Raise DisclosureError if ``frame`` holds a non-public column or a personnummer."""
    bad = unsafe_columns(frame, dataset)
    if bad:
        raise DisclosureError(
            f"Kolumnerna {', '.join(bad)} får inte visas i publikt läge.")
    for col in frame.columns:
        values = frame[col]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        hit = values.astype("str").str.contains(_PERSONNUMMER, na=False)
        if hit.any():
            raise DisclosureError(
                f"Kolumnen {col} innehåller något som liknar ett personnummer.")


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class PreparedTable:
    """Display-ready table for one audience.

    display:    strings (counts/shares) or the row frame (official rows).
    numeric:    numbers to chart: hidden values are NaN in public mode.
    suppressed: bool mask of hidden cells (counts) or rows (shares), None for rows.
    note:       Swedish footnote to show under the table ("" when nothing is hidden).
    """

    display: pd.DataFrame
    numeric: pd.DataFrame
    suppressed: pd.DataFrame | None
    note: str
    audience: Audience
    kind: TableKind


def prepare_table(table: pd.DataFrame | pd.Series, audience: str,
                  settings: DisclosureSettings | None = None, kind: TableKind = "counts",
                  *, assume_totals: bool = True,
                  keys: pd.DataFrame | pd.Series | None = None) -> PreparedTable:
    """The one gate for tables shown or exported.

    kind="counts": a 2-D count table (or a Series); public -> with ``keys`` (the cell
        keys, same shape: counts of records, e.g. incidents) cell-key perturbation
        (``perturb_counts``), else small-count and secondary suppression.
    kind="shares": a long frame with ``share`` and ``n`` columns (and optionally
        ``ci_low``/``ci_high``); public -> shares with n < min_survey_n hidden.
    kind="rows": row-level data; public -> RowLevelNotPublicError, official -> as is.
    """
    aud = check_audience(audience)
    s = settings or DisclosureSettings()
    if kind == "counts":
        return _prepare_counts(table, aud, s, assume_totals, keys)
    if kind == "shares":
        if not isinstance(table, pd.DataFrame):
            raise TypeError("kind='shares' kräver en DataFrame med kolumnerna share och n")
        return _prepare_shares(table, aud, s)
    if kind == "rows":
        if aud == "public":
            raise RowLevelNotPublicError()
        frame = table.to_frame() if isinstance(table, pd.Series) else table
        return PreparedTable(official_frame(frame), frame, None, "", aud, "rows")
    raise ValueError(f"Okänd tabelltyp {kind!r}")


def _prepare_counts(table: pd.DataFrame | pd.Series, aud: Audience, s: DisclosureSettings,
                    assume_totals: bool, keys: pd.DataFrame | pd.Series | None = None
                    ) -> PreparedTable:
    frame = table.to_frame(name=table.name if table.name is not None else "antal") \
        if isinstance(table, pd.Series) else table
    if isinstance(table, pd.Series):
        # A series' total is a single number that pages usually show: protect it.
        assume_totals = True
    if aud == "official":
        values = pd.DataFrame(_as_counts(frame), index=frame.index, columns=frame.columns)
        display = values.map(fmt_int).astype("str")
        return PreparedTable(display, values.astype("float64"),
                             pd.DataFrame(False, index=frame.index, columns=frame.columns),
                             "", aud, "counts")
    if keys is not None:
        key_frame = keys.to_frame(name=frame.columns[0]) if isinstance(keys, pd.Series) \
            else keys
        result = perturb_counts(frame, key_frame, s.threshold)
        return PreparedTable(result.display, result.numeric, result.suppressed,
                             perturbation_note(s), aud, "counts")
    result = suppress_counts(frame, s.threshold, assume_totals=assume_totals,
                             suppress_zero=s.suppress_zero)
    note = suppression_note(s) if result.suppressed.to_numpy().any() else ""
    return PreparedTable(result.display, result.numeric, result.suppressed, note, aud,
                         "counts")


def _prepare_shares(table: pd.DataFrame, aud: Audience, s: DisclosureSettings
                    ) -> PreparedTable:
    if "share" not in table.columns or "n" not in table.columns:
        raise ValueError("En andelstabell måste ha kolumnerna 'share' och 'n'.")
    value_cols = [c for c in SHARE_COLUMNS if c in table.columns]
    n = pd.to_numeric(table["n"], errors="coerce")
    hidden = (n.isna() | (n < s.min_survey_n)) if aud == "public" else \
        pd.Series(False, index=table.index)
    numeric = table.copy()
    display = table.copy()
    for col in value_cols:
        values = pd.to_numeric(table[col], errors="coerce").astype("float64")
        numeric[col] = values.where(~hidden)
        display[col] = [TOO_FEW_SV if h else fmt_pct(v) for v, h in zip(values, hidden,
                                                                         strict=True)]
        display[col] = display[col].astype("str")
    display["n"] = n.map(fmt_int).astype("str")
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    for col in value_cols:
        mask[col] = hidden.to_numpy()
    note = (f"Andelar som bygger på färre än {s.min_survey_n} svar visas inte."
            if hidden.any() else "")
    return PreparedTable(display, numeric, mask, note, aud, "shares")


# --------------------------------------------------------------------------- page helpers


def is_small(value: float | int | None, settings: DisclosureSettings | None = None, *,
             key: int | None = None) -> bool:
    """Is this single count hidden in public mode? 1..threshold-1, and 0 too when
    ``suppress_zero`` is set. A missing value (None/NaN) is not a small count. With a
    cell ``key`` (a count of records): hidden when ``perturb`` hides it (0 included).

    The one small-count rule for single numbers (KPIs, slides, goal indicators); tables go
    through ``prepare_table``/``suppress_counts``, which apply the same rule per cell.
    """
    s = settings or DisclosureSettings()
    if value is None or pd.isna(value):
        return False
    if key is not None:
        return bool(np.isnan(perturb(value, key, s.threshold)))
    return 0 < value < s.threshold or (s.suppress_zero and value == 0)


def count_text(value: float | int | None, audience: str,
               settings: DisclosureSettings | None = None, *, key: int | None = None) -> str:
    """One count for a KPI/metric: ``"<5"`` in public mode when ``is_small``; with a cell
    ``key`` the public value is perturbed (``perturb``), the same as in every table."""
    s = settings or DisclosureSettings()
    if value is None or pd.isna(value):
        return MISSING
    if check_audience(audience) == "public":
        if key is not None:
            shown = float(perturb(value, key, s.threshold))
            return s.small_mark if np.isnan(shown) else fmt_int(shown)
        if is_small(value, s):
            return s.small_mark
    return fmt_int(value)


def published_value(value: float | int | None, key: int | None, audience: str,
                    settings: DisclosureSettings | None = None) -> float:
    """The number a chart may draw for one count: exact for officials; public: the
    perturbed value with a key, NaN when hidden (or, without a key, when ``is_small``)."""
    s = settings or DisclosureSettings()
    if value is None or pd.isna(value):
        return float("nan")
    if check_audience(audience) == "official":
        return float(value)
    if key is not None:
        return float(perturb(value, key, s.threshold))
    return float("nan") if is_small(value, s) else float(value)


_TOTAL_ROW = "Totalt"


def prepare_columns(frame: pd.DataFrame, columns: Collection[str], audience: str,
                    settings: DisclosureSettings | None = None, *,
                    label: str | None = None,
                    derived: Mapping[str, str | tuple[str, ...]] | None = None,
                    formulas: Mapping[str, Callable[[pd.DataFrame], pd.Series]] | None = None
                    ) -> PreparedTable:
    """``prepare_table`` for a long table whose ``columns`` are counts, one column at a time.

    A count column ``c`` with a key column ``c + KEY_SUFFIX`` (cell keys) is perturbed
    (public mode): every row, a "Totalt" row included, is published on its own. ``derived``
    columns (rates, differences, shares, assessments) are then recomputed from the
    published numbers: by ``formulas[col](numeric)`` (the frame of published values), else
    a single-source column is scaled by published/true (a rate per 1 000), else hidden.

    A count column without keys is suppressed as before: its total taken as published (a
    row labelled "Totalt" in ``label`` is that total, else it is assumed shown elsewhere),
    small counts show as ``"<5"``, plus secondary cells so no hidden count can be
    recomputed from the total.

    ``derived`` maps a column computed from a count to that count column (or a tuple): it
    is hidden (``".."``, NaN) wherever its count (any of them) is. Other columns are passed
    through unchanged (key columns are dropped).

    Returns a PreparedTable whose ``display`` has the count columns as strings and
    ``numeric`` the numbers to chart (NaN where hidden); ``suppressed`` is the mask.
    """
    aud = check_audience(audience)
    key_cols = [c for c in frame.columns if str(c).endswith(KEY_SUFFIX)]
    base = frame.drop(columns=key_cols)
    display = base.copy()
    numeric = base.copy()
    mask = pd.DataFrame(False, index=base.index, columns=base.columns)
    notes: list[str] = []
    keyed = aud == "public" and any(f"{c}{KEY_SUFFIX}" in frame.columns for c in columns)
    for col in columns:
        # Neutral row labels: only the row labelled "Totalt" in ``label`` is a margin (an
        # area called ``WHOLE_MUNICIPALITY`` is a row like any other here).
        labels = frame[label].astype("str").to_numpy() if label is not None else None
        index = [_TOTAL_ROW if labels is not None and labels[i].strip().lower() == "totalt"
                 else f"r{i}" for i in range(len(frame))]
        series = pd.Series(frame[col].to_numpy(), index=index, name=col)
        key_col = f"{col}{KEY_SUFFIX}"
        keys = pd.Series(frame[key_col].to_numpy(), index=index, name=col) \
            if key_col in frame.columns else None
        prepared = prepare_table(series, aud, settings, kind="counts", keys=keys)
        display[col] = prepared.display[col].to_numpy()
        display[col] = display[col].astype("str")
        numeric[col] = prepared.numeric[col].to_numpy()
        hidden = prepared.suppressed[col].to_numpy(dtype=bool)
        mask[col] = hidden
        if prepared.note:
            notes.append(prepared.note)
    for col, sources in (derived or {}).items():
        source_cols = (sources,) if isinstance(sources, str) else tuple(sources)
        hidden = np.zeros(len(frame), dtype=bool)
        for source in source_cols:
            hidden |= mask[source].to_numpy(dtype=bool)
        if keyed:
            values = _republished(frame, numeric, col, source_cols, formulas)
            if values is None:
                hidden[:] = True
                values = pd.Series(np.nan, index=frame.index)
        elif not hidden.any():
            continue
        else:
            values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric[col] = pd.to_numeric(values, errors="coerce").astype("float64") \
                .where(~hidden)
        else:
            numeric[col] = values.where(~hidden)
        shown = values.astype(object).copy()
        shown[hidden] = SECONDARY_MARK
        display[col] = shown.to_numpy()
        mask[col] = hidden
    return PreparedTable(display, numeric, mask, notes[0] if notes else "", aud, "counts")


def _republished(frame: pd.DataFrame, published: pd.DataFrame, col: str,
                 sources: tuple[str, ...],
                 formulas: Mapping[str, Callable[[pd.DataFrame], pd.Series]] | None
                 ) -> pd.Series | None:
    """A derived column recomputed from published counts (None: cannot, hide it)."""
    if formulas and col in formulas:
        return pd.Series(formulas[col](published), index=frame.index)
    if len(sources) == 1 and pd.api.types.is_numeric_dtype(frame[col]):
        true = pd.to_numeric(frame[sources[0]], errors="coerce").astype("float64")
        ratio = published[sources[0]].astype("float64") / true.where(true > 0)
        return pd.to_numeric(frame[col], errors="coerce").astype("float64") * ratio
    return None


def formatted(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    """Format numbers with ``fmt``; strings (markers such as ``"<5"``, ``".."``) pass."""
    return pd.Series([v if isinstance(v, str) else fmt(v) for v in values],
                     index=values.index, dtype="str")


def hidden_last(prepared: PreparedTable, column: str, *, label: str | None = None,
                ascending: bool = False) -> PreparedTable:
    """Rows ordered by ``column``'s shown value with hidden rows last (then by ``label``).

    A ranking that placed a hidden row between two shown values would bound it (".."
    between 12 and 9 is 9..12), and with the total the small cell could be narrowed down.
    """
    order = prepared.numeric.assign(_hidden=prepared.numeric[column].isna())
    keys = ["_hidden", column] + ([label] if label else [])
    order = order.sort_values(keys, ascending=[True, ascending] + ([True] if label else []),
                              kind="stable").index
    mask = prepared.suppressed.loc[order] if prepared.suppressed is not None else None
    return PreparedTable(prepared.display.loc[order], prepared.numeric.loc[order], mask,
                         prepared.note, prepared.audience, prepared.kind)


def settings_of(promise: Promise | None) -> DisclosureSettings:
    """Public-mode limits from the typed promise's ``Settings``; the strict
    ``DisclosureSettings()`` defaults when there is no promise at all."""
    if promise is None:
        return DisclosureSettings()
    s = promise.settings
    return DisclosureSettings(threshold=s.suppression_threshold, min_survey_n=s.min_survey_n,
                              suppress_zero=s.suppress_zero)


def promise_settings() -> DisclosureSettings:
    """Public-mode limits of the promise loaded by ``promise.load_promise_with_fallback``
    (a broken configured file: the packaged promise's limits; no promise at all: the
    strict defaults)."""
    return settings_of(load_promise_with_fallback().promise)


def ci_texts(prepared: PreparedTable) -> list[str]:
    """"(10,2–14,5 %)" per row of a prepared share table; ``"för få svar"`` where hidden."""
    lows, highs = prepared.numeric["ci_low"], prepared.numeric["ci_high"]
    return [TOO_FEW_SV if pd.isna(s) and isinstance(d, str) and d == TOO_FEW_SV
            else fmt_ci(lo, hi)
            for s, d, lo, hi in zip(prepared.numeric["share"], prepared.display["share"],
                                    lows, highs, strict=True)]


# --------------------------------------------------------------------------- audience tables
# (moved from the page layer: the table behind a chart, made safe for one audience)


@dataclass(frozen=True)
class AudienceTable:
    """A "Visa data" table for one audience.

    display: what the table shows and the CSV contains (hidden values as "<5" / "..").
    numeric: same columns, numbers; hidden values NaN (build public charts from THIS).
    note:    Swedish footnote ("" when nothing is hidden).
    """

    display: pd.DataFrame
    numeric: pd.DataFrame
    note: str = ""


def _count_columns(table: pd.DataFrame, given: Collection[str] | None) -> list[str]:
    if given is not None:
        return [c for c in given if c in table.columns]
    out = []
    for col in table.columns:
        values = table[col]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = arr[np.isfinite(arr)]
        if (finite >= 0).all() and (finite == np.round(finite)).all():
            out.append(col)
    return out


def table_for_audience(table: pd.DataFrame, audience: str, kind: TableKind = "counts",
                       settings: DisclosureSettings | None = None, *,
                       count_columns: Collection[str] | None = None) -> AudienceTable:
    """The table behind a chart, made safe for ``audience`` via disclosure.prepare_table.

    kind="counts": whole-number columns (or ``count_columns``) are counts; the other
        columns are labels (text) or derived numbers (rates, shares). Public: small counts
        "<5", secondary suppression ".."; a derived number in a row with a hidden count is
        hidden too (it could reveal the count).
    kind="shares": needs columns ``share`` and ``n`` (optionally ``ci_low``/``ci_high``);
        public: shares with n < min_survey_n read "för få svar".
    kind="rows": row-level data; public raises RowLevelNotPublicError.
    Raises DisclosureError when a public table cannot be made safe (fail closed).
    """
    s = settings or DisclosureSettings()
    key_cols = [c for c in table.columns if str(c).endswith(KEY_SUFFIX)]
    if check_audience(audience) == "official":
        plain = table.drop(columns=key_cols)
        return AudienceTable(plain, plain)
    if kind == "rows":
        prepare_table(table, audience, s, "rows")  # raises RowLevelNotPublicError
    if kind == "shares":
        prepared = prepare_table(table, audience, s, "shares")
        return AudienceTable(prepared.display, prepared.numeric, prepared.note)
    keyed = table
    table = table.drop(columns=key_cols)
    counts = _count_columns(table, count_columns)
    if not counts:
        raise DisclosureError("Tabellen har inga antal att skydda.")
    keys = None
    if all(f"{c}{KEY_SUFFIX}" in keyed.columns for c in counts) and key_cols:
        keys = keyed[[f"{c}{KEY_SUFFIX}" for c in counts]].reset_index(drop=True)
        keys.columns = counts
    derived = [c for c in table.columns if c not in counts
               and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    labels = [c for c in table.columns if c not in counts and c not in derived]
    values = table[counts].reset_index(drop=True)
    if labels:
        index = table[labels].astype("str")
        values.index = (pd.Index(index.iloc[:, 0]) if len(labels) == 1
                        else pd.MultiIndex.from_frame(index))
        if keys is not None:
            keys.index = values.index
    try:
        prepared = prepare_table(values, audience, s, "counts", keys=keys)
    except ValueError as err:
        raise DisclosureError(f"Tabellen kan inte skyddas: {err}") from err
    hidden_row = prepared.suppressed.to_numpy().any(axis=1)
    display = table.reset_index(drop=True).copy()
    numeric = table.reset_index(drop=True).copy()
    for col in counts:
        display[col] = prepared.display[col].to_numpy()
        numeric[col] = prepared.numeric[col].to_numpy()
    for col in derived:
        shown = table[col].reset_index(drop=True).astype("float64")
        if keys is not None:  # a rate next to a perturbed count: scaled, or hidden
            shown = shown * (numeric[counts[0]] / table[counts[0]].reset_index(drop=True)
                             .where(lambda v: v > 0)) if len(counts) == 1 else shown * np.nan
        numeric[col] = shown.where(~hidden_row)
        display[col] = [SECONDARY_MARK if h or v != v else fmt_float(v, 1) for v, h in zip(
            shown.to_numpy(dtype="float64"), hidden_row, strict=True)]
        display[col] = display[col].astype("str")
    return AudienceTable(display, numeric, prepared.note)
