"""Survey shares with honest uncertainty (trygghetsmätning).

Definitions (domain: "Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll
i ditt eget bostadsområde?" and "Hur stort problem är ... i ditt bostadsområde?"):

* ``otrygg_kvall``: share answering "ganska otrygg" or "mycket otrygg".
  - ``include_never_out=False``: "går aldrig ut" is left out of both numerator and
    denominator, i.e. the share among those who go out.
  - ``include_never_out=True``: "går aldrig ut" counts as otrygg (numerator) and every
    answer is in the denominator -- the stricter measure, closer to NTU's "otrygg eller
    avstår från att gå ut".
  The choice is the promise's (``promise.Settings.otrygg_includes_never_out``) and every
  caller passes it explicitly: there is no default, so no surface can drift to another
  definition. This module is the ONLY place that computes survey shares (pages, goal
  cards, the report and the slides all call it).
* Problem indicators (``schema.SURVEY_PROBLEM_COLUMNS``): share "mycket stort problem" or
  "ganska stort problem" among those who answered; "vet ej" and empty answers are excluded.

Shares are weighted with ``weight`` (missing -> 1). ``n`` is the number of answers in the
denominator (weight > 0); ``n_effective`` is Kish's effective n, which the 95 % Wilson
interval uses, so unequal weights widen the interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hjo_data.indicators import wilson_interval
from hjo_data.schema import SURVEY_PROBLEM_COLUMNS, WHOLE_MUNICIPALITY

OTRYGG = "otrygg_kvall"
PROBLEM_INDICATORS: tuple[str, ...] = tuple(SURVEY_PROBLEM_COLUMNS)
#: Swedish display labels of the survey indicators.
INDICATOR_LABELS: dict[str, str] = {
    OTRYGG: "otrygga sent en kväll",
    **SURVEY_PROBLEM_COLUMNS,
}
TOTAL_GROUP = "Totalt"

_UNSAFE = frozenset({"ganska otrygg", "mycket otrygg"})
_SAFE = frozenset({"mycket trygg", "ganska trygg"})
_NEVER_OUT = "går aldrig ut"
_BIG_PROBLEM = frozenset({"mycket stort problem", "ganska stort problem"})
_SMALL_PROBLEM = frozenset({"ganska litet problem", "inget problem"})

SHARE_COLUMNS = ("share", "n", "ci_low", "ci_high", "n_effective")


def _answers(responses: pd.DataFrame, column: str) -> pd.Series:
    if column not in responses.columns:
        return pd.Series("", index=responses.index, dtype="str")
    return responses[column].astype("str").fillna("").str.strip().str.lower()


def _indicator_values(responses: pd.DataFrame, indicator: str, include_never_out: bool
                      ) -> pd.Series:
    """1.0 / 0.0 per row, NaN when the row is not in the denominator."""
    if indicator == OTRYGG:
        answers = _answers(responses, "safety_evening")
        yes = set(_UNSAFE) | ({_NEVER_OUT} if include_never_out else set())
        no = set(_SAFE)
    elif indicator in SURVEY_PROBLEM_COLUMNS:
        answers = _answers(responses, indicator)
        yes, no = set(_BIG_PROBLEM), set(_SMALL_PROBLEM)
    else:
        raise ValueError(f"okänd indikator {indicator!r}")
    values = np.where(answers.isin(yes), 1.0, np.where(answers.isin(no), 0.0, np.nan))
    return pd.Series(values, index=responses.index)


def _weights(responses: pd.DataFrame) -> pd.Series:
    if "weight" not in responses.columns:
        return pd.Series(1.0, index=responses.index)
    w = pd.to_numeric(responses["weight"], errors="coerce").astype("float64")
    return w.fillna(1.0).clip(lower=0.0)


def _empty(by: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"year": pd.Series(dtype="int64"),
                          "indicator": pd.Series(dtype="str")})
    for col in by:
        frame[col] = pd.Series(dtype="str")
    for col in SHARE_COLUMNS:
        frame[col] = pd.Series(dtype="int64" if col == "n" else "float64")
    return frame


def survey_shares(responses: pd.DataFrame, *, include_never_out: bool,
                  by: Sequence[str] = (), indicator: str | Sequence[str] = OTRYGG
                  ) -> pd.DataFrame:
    """Weighted shares per year (and ``by`` groups) with n, Kish effective n and Wilson CI.

    ``indicator`` is one indicator name or several (rows are stacked). Returns columns
    year, indicator, *by, share, n, ci_low, ci_high, n_effective. Groups without any
    answer in the denominator, and rows with a missing ``by`` value, are left out of the
    breakdown (they still count in the totals when ``by`` is empty).

    Vectorised: every indicator is stacked into one long frame and a single groupby
    computes all sums (a per-indicator groupby cost ~0,1 s each at dashboard scale).
    """
    names = [indicator] if isinstance(indicator, str) else list(indicator)
    return _shares_from_stack(_stack(responses, names, include_never_out), responses, by)


@dataclass(frozen=True)
class _Stack:
    """Every (indicator, answer) pair in a denominator: row position, indicator code, y, w."""

    names: tuple[str, ...]
    pos: np.ndarray
    code: np.ndarray
    y: np.ndarray
    w: np.ndarray


def _stack(responses: pd.DataFrame, names: Sequence[str], include_never_out: bool
           ) -> _Stack:
    weights = _weights(responses).to_numpy(dtype="float64")
    rows: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for code, name in enumerate(names):
        y = _indicator_values(responses, name, include_never_out).to_numpy(dtype="float64")
        keep = np.flatnonzero(~np.isnan(y) & (weights > 0))
        rows.append(keep)
        codes.append(np.full(len(keep), code, dtype="int64"))
        values.append(y[keep])
    pos = np.concatenate(rows) if rows else np.array([], dtype="int64")
    return _Stack(tuple(names), pos,
                  np.concatenate(codes) if codes else np.array([], dtype="int64"),
                  np.concatenate(values) if values else np.array([], dtype="float64"),
                  weights[pos])


def _shares_from_stack(stack: _Stack, responses: pd.DataFrame, by: Sequence[str]
                       ) -> pd.DataFrame:
    by = list(by)
    if not len(stack.pos):
        return _empty(by)
    # A numpy groupby: each key column ranked by np.unique (sorted, like groupby's sort),
    # the ranks combined into one integer key, sums by bincount.
    keep = np.ones(len(stack.pos), dtype=bool)
    columns = {col: responses[col].to_numpy()[stack.pos] for col in ["year", *by]}
    for col in by:
        keep &= ~pd.isna(columns[col])
    if not keep.any():
        return _empty(by)
    key = stack.code[keep]
    uniques: dict[str, np.ndarray] = {}
    for col in ["year", *by]:
        values = columns[col][keep]
        if values.dtype == object:
            values = values.astype("str")
        uniq, inverse = np.unique(values, return_inverse=True)
        uniques[col] = uniq
        key = key * len(uniq) + inverse
    groups, inverse = np.unique(key, return_inverse=True)
    w, yy = stack.w[keep], stack.y[keep]
    sum_w = np.bincount(inverse, weights=w, minlength=len(groups))
    sum_wy = np.bincount(inverse, weights=w * yy, minlength=len(groups))
    sum_w2 = np.bincount(inverse, weights=w * w, minlength=len(groups))
    n = np.bincount(inverse, minlength=len(groups)).astype("int64")
    parts: dict[str, np.ndarray] = {}
    rest = groups.copy()
    for col in reversed(["year", *by]):
        size = len(uniques[col])
        parts[col] = uniques[col][rest % size]
        rest = rest // size
    share = sum_wy / sum_w
    n_eff = sum_w ** 2 / sum_w2
    low, high = wilson_interval(share * n_eff, n_eff)
    out = pd.DataFrame({
        "year": parts["year"].astype("int64"),
        "indicator": pd.array(np.asarray(stack.names, dtype=object)[rest], dtype="str"),
        **{col: pd.array(parts[col], dtype=responses[col].dtype) for col in by},
        "share": share, "n": n, "ci_low": np.asarray(low, dtype="float64"),
        "ci_high": np.asarray(high, dtype="float64"), "n_effective": n_eff,
    })
    return out


def _with_area_group(shares: pd.DataFrame, area: str | None, group_col: str | None
                     ) -> pd.DataFrame:
    out = shares.copy()
    if area is not None:
        out["area"] = area
    out["group"] = out[group_col].astype("str") if group_col else TOTAL_GROUP
    if group_col and group_col not in ("area", "group"):
        out = out.drop(columns=[group_col])
    return out


def combine_survey(responses: pd.DataFrame | None, aggregated: pd.DataFrame | None, *,
                   include_never_out: bool, indicators: Sequence[str] | None = None,
                   breakdowns: bool = True) -> pd.DataFrame:
    """One long table of survey shares from micro data and aggregated results.

    Columns: year, indicator, area, group, share, n, ci_low, ci_high, n_effective, source
    ("svar" = computed from responses, "aggregerad" = the aggregated table). From responses
    every indicator is computed for the whole municipality (area ``WHOLE_MUNICIPALITY``,
    group "Totalt"), per area (group "Totalt") and per gender and age group (area
    ``WHOLE_MUNICIPALITY``, group = the answer value). Aggregated rows get n_effective = n
    and a Wilson interval from share and n. Where both sources give the same year,
    indicator, area and group, the row computed from responses is kept (it accounts for
    weights).

    ``indicators`` limits the computed indicators (default: all); ``breakdowns=False``
    computes only the whole-municipality totals from responses (the goal cards need no
    more; aggregated rows are kept as they are).
    """
    columns = ["year", "indicator", "area", "group", *SHARE_COLUMNS, "source"]
    parts: list[pd.DataFrame] = []
    if responses is not None and len(responses):
        names = [OTRYGG, *PROBLEM_INDICATORS] if indicators is None else list(indicators)
        stack = _stack(responses, names, include_never_out)
        parts.append(_with_area_group(_shares_from_stack(stack, responses, []), WHOLE_MUNICIPALITY,
                                      None))
        for col in ("area", "gender", "age_group") if breakdowns else ():
            if col == "area":
                parts.append(_with_area_group(_shares_from_stack(stack, responses, ["area"]),
                                              None, None))
            elif col in responses.columns:
                parts.append(_with_area_group(_shares_from_stack(stack, responses, [col]),
                                              WHOLE_MUNICIPALITY, col))
        for part in parts:
            part["source"] = "svar"
    if aggregated is not None and len(aggregated):
        agg = (aggregated if indicators is None
               else aggregated.loc[aggregated["indicator"].isin(list(indicators))]).copy()
        agg["area"] = (agg["area"] if "area" in agg.columns
                       else pd.Series(WHOLE_MUNICIPALITY, index=agg.index))
        agg["group"] = (agg["group"] if "group" in agg.columns
                        else pd.Series(TOTAL_GROUP, index=agg.index))
        for col, default in (("area", WHOLE_MUNICIPALITY), ("group", TOTAL_GROUP)):
            values = agg[col].astype("str").fillna("").str.strip()
            agg[col] = values.mask(values.isin(["", "nan", "None"]), default)
        agg["share"] = pd.to_numeric(agg["share"], errors="coerce").astype("float64")
        agg["n"] = pd.to_numeric(agg["n"], errors="coerce").fillna(0).astype("int64")
        agg["n_effective"] = agg["n"].astype("float64")
        low, high = wilson_interval(agg["share"] * agg["n"], agg["n"])
        agg["ci_low"], agg["ci_high"] = low, high
        agg["source"] = "aggregerad"
        parts.append(agg[columns])
    if not parts:
        empty = _empty(["area", "group"])
        empty["source"] = pd.Series(dtype="str")
        return empty[columns]
    out = pd.concat([p[columns] for p in parts], ignore_index=True)
    out["_order"] = (out["source"] != "svar").astype("int64")
    out = (out.sort_values("_order", kind="stable")
              .drop_duplicates(["year", "indicator", "area", "group"], keep="first")
              .drop(columns="_order"))
    for col in ("indicator", "area", "group", "source"):
        out[col] = out[col].astype("str")
    out["year"] = out["year"].astype("int64")
    return out.sort_values(["indicator", "area", "group", "year"], kind="stable"
                           ).reset_index(drop=True)


def problem_index(data: pd.DataFrame, year: int, *, area: str = WHOLE_MUNICIPALITY,
                  group: str = TOTAL_GROUP) -> pd.DataFrame:
    """Problem indicators of one year ranked by share (rank 1 = the largest problem).

    ``data`` is either survey responses (micro data; filtered to ``area`` unless it is
    ``WHOLE_MUNICIPALITY``) or a ``combine_survey`` table (filtered to ``area`` and ``group``).
    Returns indicator, label, share, n, ci_low, ci_high, n_effective, rank and
    ``overlaps_next`` (the CI overlaps the next-ranked one's: the order between the two
    is not established).
    """
    if "indicator" not in data.columns:
        rows = data[data["year"] == year]
        if area != WHOLE_MUNICIPALITY:
            rows = rows[rows["area"].astype("str") == area]
        # The never-out definition concerns otrygg_kvall only, not the problem questions.
        table = survey_shares(rows, indicator=PROBLEM_INDICATORS, include_never_out=False)
    else:
        mask = ((data["year"] == year) & data["indicator"].isin(PROBLEM_INDICATORS)
                & (data.get("area", WHOLE_MUNICIPALITY) == area)
                & (data.get("group", TOTAL_GROUP) == group))
        table = data[mask]
    table = table[["indicator", *SHARE_COLUMNS]].dropna(subset=["share"])
    table = table.sort_values(["share", "indicator"], ascending=[False, True],
                              kind="stable").reset_index(drop=True)
    table.insert(1, "label", table["indicator"].map(INDICATOR_LABELS).astype("str"))
    table["rank"] = table["share"].rank(method="min", ascending=False).astype("int64")
    next_high = table["ci_high"].shift(-1)
    table["overlaps_next"] = (table["ci_low"] <= next_high).fillna(False).astype(bool)
    return table
