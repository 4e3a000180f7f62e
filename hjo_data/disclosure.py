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

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from hjo_data.errors import HjoDataError
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
                  *, assume_totals: bool = True) -> PreparedTable:
    """The one gate for tables shown or exported.

    kind="counts": a 2-D count table (or a Series); public -> suppressed.
    kind="shares": a long frame with ``share`` and ``n`` columns (and optionally
        ``ci_low``/``ci_high``); public -> shares with n < min_survey_n hidden.
    kind="rows": row-level data; public -> RowLevelNotPublicError, official -> as is.
    """
    aud = check_audience(audience)
    s = settings or DisclosureSettings()
    if kind == "counts":
        return _prepare_counts(table, aud, s, assume_totals)
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
                    assume_totals: bool) -> PreparedTable:
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


def is_small(value: float | int | None, settings: DisclosureSettings | None = None) -> bool:
    """Is this single count hidden in public mode? 1..threshold-1, and 0 too when
    ``suppress_zero`` is set. A missing value (None/NaN) is not a small count.

    The one small-count rule for single numbers (KPIs, slides, goal indicators); tables go
    through ``prepare_table``/``suppress_counts``, which apply the same rule per cell.
    """
    s = settings or DisclosureSettings()
    if value is None or pd.isna(value):
        return False
    return 0 < value < s.threshold or (s.suppress_zero and value == 0)


def count_text(value: float | int | None, audience: str,
               settings: DisclosureSettings | None = None) -> str:
    """One count for a KPI/metric: ``"<5"`` in public mode when ``is_small``."""
    s = settings or DisclosureSettings()
    if value is None or pd.isna(value):
        return MISSING
    if check_audience(audience) == "public" and is_small(value, s):
        return s.small_mark
    return fmt_int(value)


_TOTAL_ROW = "Totalt"


def prepare_columns(frame: pd.DataFrame, columns: Collection[str], audience: str,
                    settings: DisclosureSettings | None = None, *,
                    label: str | None = None,
                    derived: Mapping[str, str | tuple[str, ...]] | None = None
                    ) -> PreparedTable:
    """``prepare_table`` for a long table whose ``columns`` are counts, one column at a time.

    Each count column is protected on its own with its total taken as published (a row
    labelled "Totalt" in ``label`` is that total, else it is assumed shown elsewhere):
    small counts show as ``"<5"``, plus secondary cells so no hidden count can be
    recomputed from the total. ``derived`` maps a column computed from a count (a rate, a
    difference, a share) to that count column: it is hidden (``".."``, NaN) wherever its
    count (any of them, for a tuple) is. Other columns are passed through unchanged.

    Returns a PreparedTable whose ``display`` has the count columns as strings and
    ``numeric`` the numbers to chart (NaN where hidden); ``suppressed`` is the mask.
    """
    aud = check_audience(audience)
    display = frame.copy()
    numeric = frame.copy()
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    notes: list[str] = []
    for col in columns:
        # Neutral row labels: only the row labelled "Totalt" in ``label`` is a margin (an
        # area called ``WHOLE_MUNICIPALITY`` is a row like any other here).
        labels = frame[label].astype("str").to_numpy() if label is not None else None
        index = [_TOTAL_ROW if labels is not None and labels[i].strip().lower() == "totalt"
                 else f"r{i}" for i in range(len(frame))]
        series = pd.Series(frame[col].to_numpy(), index=index, name=col)
        prepared = prepare_table(series, aud, settings, kind="counts")
        display[col] = prepared.display[col].to_numpy()
        display[col] = display[col].astype("str")
        numeric[col] = prepared.numeric[col].to_numpy()
        hidden = prepared.suppressed[col].to_numpy(dtype=bool)
        mask[col] = hidden
        if prepared.note:
            notes.append(prepared.note)
    for col, sources in (derived or {}).items():
        hidden = np.zeros(len(frame), dtype=bool)
        for source in (sources,) if isinstance(sources, str) else sources:
            hidden |= mask[source].to_numpy(dtype=bool)
        if not hidden.any():
            continue
        values = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        numeric[col] = values.where(~hidden)
        shown = display[col].astype(object)
        shown[hidden] = SECONDARY_MARK
        display[col] = shown
        mask[col] = hidden
    return PreparedTable(display, numeric, mask, notes[0] if notes else "", aud, "counts")


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
    if check_audience(audience) == "official":
        return AudienceTable(table, table)
    if kind == "rows":
        prepare_table(table, audience, s, "rows")  # raises RowLevelNotPublicError
    if kind == "shares":
        prepared = prepare_table(table, audience, s, "shares")
        return AudienceTable(prepared.display, prepared.numeric, prepared.note)
    counts = _count_columns(table, count_columns)
    if not counts:
        raise DisclosureError("Tabellen har inga antal att skydda.")
    derived = [c for c in table.columns if c not in counts
               and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    labels = [c for c in table.columns if c not in counts and c not in derived]
    values = table[counts].reset_index(drop=True)
    if labels:
        index = table[labels].astype("str")
        values.index = (pd.Index(index.iloc[:, 0]) if len(labels) == 1
                        else pd.MultiIndex.from_frame(index))
    try:
        prepared = prepare_table(values, audience, s, "counts")
    except ValueError as err:
        raise DisclosureError(f"Tabellen kan inte skyddas: {err}") from err
    hidden_row = prepared.suppressed.to_numpy().any(axis=1)
    display = table.reset_index(drop=True).copy()
    numeric = table.reset_index(drop=True).copy()
    for col in counts:
        display[col] = prepared.display[col].to_numpy()
        numeric[col] = prepared.numeric[col].to_numpy()
    for col in derived:
        shown = numeric[col].astype("float64")
        numeric[col] = shown.where(~hidden_row)
        display[col] = [SECONDARY_MARK if h else fmt_float(v, 1) for v, h in zip(
            table[col].to_numpy(dtype="float64"), hidden_row, strict=True)]
        display[col] = display[col].astype("str")
    return AudienceTable(display, numeric, prepared.note)
