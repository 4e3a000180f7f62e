"""Honest statistics: rates, confidence intervals, change tests, period aggregation.

Pure pandas/numpy (no scipy): the normal tail uses ``math.erfc``; binomial and
hypergeometric tails are summed exactly in log space.

Change tests never call a change real when it is within random variation: a change is
``significant`` only when the two-sided p-value is below ``alpha`` (default 0.05), and
empty or incomplete comparisons are never significant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from hjo_data import periods
from hjo_data.periods import Granularity as Freq
from hjo_data.periods import check_granularity as _check_freq

#: Totals above this use the normal approximation (with continuity correction) instead of
#: the exact conditional binomial test; below it the exact sum is cheap and accurate.
EXACT_COUNT_LIMIT = 5_000

LABEL_INCREASE = "ökning utanför slumpvariationen"
LABEL_DECREASE = "minskning utanför slumpvariationen"
LABEL_NOISE = "inom slumpvariationen"
LABEL_NO_DATA = "underlag saknas"
LABEL_INCOMPLETE = "ofullständig period"


# --------------------------------------------------------------------------- rates, CIs


def _shape_like(values: np.ndarray, *inputs: Any) -> Any:
    """Return a float for scalar inputs, a Series when an input was a Series, else ndarray."""
    for obj in inputs:
        if isinstance(obj, pd.Series):
            return pd.Series(values, index=obj.index, dtype="float64")
    if values.ndim == 0:
        return float(values)
    return values


def _floats(values: Any) -> np.ndarray:
    """Float array from scalars, lists, arrays or (nullable) Series; missing -> NaN."""
    if isinstance(values, (pd.Series, pd.Index)):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64",
                                                               na_value=np.nan)
    if values is None or values is pd.NA:
        return np.asarray(np.nan)
    return np.asarray(values, dtype="float64")


def _float(value: Any) -> float:
    """Scalar as float; None, pd.NA and non-numbers -> NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def rate_per_1000(count: Any, population: Any) -> Any:
    """Count per 1 000 inhabitants; population 0, negative or NaN gives NaN.

    Scalars give a float, Series a Series (index of the first Series), arrays an ndarray.
    """
    c = _floats(count)
    p = _floats(population)
    valid = np.isfinite(p) & (p > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(valid, c * 1000.0 / np.where(valid, p, 1.0), np.nan)
    return _shape_like(np.asarray(rate, dtype="float64"), count, population)


def wilson_interval(successes: Any, n: Any, z: float = 1.96) -> tuple[Any, Any]:
    """Wilson score interval for a proportion, vectorised.

    ``n`` may be a (non-integer) effective sample size and ``successes`` = share * n; this is
    how weighted survey shares get their interval (see ``kish_effective_n``). ``n`` <= 0 or
    NaN gives (NaN, NaN).
    """
    x = _floats(successes)
    nn = _floats(n)
    valid = np.isfinite(nn) & (nn > 0) & np.isfinite(x)
    safe_n = np.where(valid, nn, 1.0)
    p = np.clip(np.where(valid, x, 0.0) / safe_n, 0.0, 1.0)
    z2 = z * z
    denom = 1.0 + z2 / safe_n
    centre = (p + z2 / (2.0 * safe_n)) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / safe_n + z2 / (4.0 * safe_n * safe_n))
    low = np.where(valid, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(centre + half, 0.0, 1.0), np.nan)
    return _shape_like(low, successes, n), _shape_like(high, successes, n)


#: Counts above this get Byar's approximation instead of the exact Poisson interval.
EXACT_POISSON_CI_LIMIT = 1_000


@lru_cache(maxsize=256)
def _log_factorials(k: int) -> np.ndarray:
    """log(i!) for i = 0..k (math.lgamma, as before; cached: the bisection evaluates the
    same k some 160 times). Read-only."""
    out = np.array([math.lgamma(i + 1.0) for i in range(k + 1)], dtype="float64")
    out.setflags(write=False)
    return out


def _poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam), summed in log space."""
    if k < 0:
        return 0.0
    if lam <= 0.0:
        return 1.0
    i = np.arange(0, k + 1, dtype="float64")
    logs = -lam + i * math.log(lam) - _log_factorials(k)
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.sum(np.exp(logs - top))))


def _solve_decreasing(f: Any, target: float, high: float) -> float:
    """The x in [0, high] where the decreasing f(x) = target (bisection)."""
    low = 0.0
    for _ in range(80):
        mid = (low + high) / 2.0
        if f(mid) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


def poisson_interval(count: float, z: float = 1.96) -> tuple[float, float]:
    """95 % confidence interval (with the default z) for a Poisson count.

    Exact (Garwood: the tails of the Poisson distribution, found by bisection) up to
    ``EXACT_POISSON_CI_LIMIT``; above it Byar's approximation, which is then accurate to
    well under 0,1 %. The count is rounded to a whole number; a missing or negative count
    gives (NaN, NaN). 0 gives (0, 3,69).
    """
    x = _float(count)
    if not math.isfinite(x) or x < 0:
        return math.nan, math.nan
    return _poisson_interval(int(round(x)), float(z))


@lru_cache(maxsize=4096)
def _poisson_interval(k: int, z: float) -> tuple[float, float]:
    """``poisson_interval`` of a whole count (a pure function: cached)."""
    tail = normal_sf(z)
    if k > EXACT_POISSON_CI_LIMIT:
        low = k * (1 - 1 / (9 * k) - z / (3 * math.sqrt(k))) ** 3
        up = k + 1
        high = up * (1 - 1 / (9 * up) + z / (3 * math.sqrt(up))) ** 3
        return low, high
    bound = k + 20.0 * math.sqrt(k + 1.0) + 20.0
    low = 0.0 if k == 0 else _solve_decreasing(
        lambda lam: _poisson_cdf(k - 1, lam), 1.0 - tail, bound)
    high = _solve_decreasing(lambda lam: _poisson_cdf(k, lam), tail, bound)
    return low, high


def kish_effective_n(weights: Any) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2; NaN weights are ignored.

    Equal weights give the plain count; unequal weights give fewer "effective" answers, so
    weighted shares get honestly wider intervals. No positive weight -> 0.
    """
    w = np.asarray(weights, dtype="float64")
    w = w[np.isfinite(w)]
    sum_sq = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / sum_sq if sum_sq > 0 else 0.0


# --------------------------------------------------------------------------- distributions


def normal_sf(z: float) -> float:
    """Upper tail P(Z >= z) of the standard normal distribution."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _log_binom_pmf(k: np.ndarray, n: int, p: float) -> np.ndarray:
    log_coef = (math.lgamma(n + 1) - np.vectorize(math.lgamma)(k + 1.0)
                - np.vectorize(math.lgamma)(n - k + 1.0))
    return log_coef + k * math.log(p) + (n - k) * math.log1p(-p)


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed exactly."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    ks = np.arange(0, k + 1, dtype="float64")
    logs = _log_binom_pmf(ks, n, p)
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.sum(np.exp(logs - top))))


@lru_cache(maxsize=65_536)
def _poisson_ratio_p(before: int, after: int, exp_before: float, exp_after: float
                     ) -> tuple[float, str]:
    """Two-sided p-value that two Poisson counts share one rate per unit of exposure."""
    total = before + after
    if total == 0:
        return 1.0, "inget underlag (0 mot 0)"
    q = exp_after / (exp_before + exp_after)
    if total <= EXACT_COUNT_LIMIT:
        lower = binom_cdf(after, total, q)
        upper = 1.0 - binom_cdf(after - 1, total, q)
        return min(1.0, 2.0 * min(lower, upper)), "exakt villkorligt binomialtest (Poisson)"
    mean = total * q
    sd = math.sqrt(total * q * (1.0 - q))
    z = max(0.0, abs(after - mean) - 0.5) / sd
    return min(1.0, 2.0 * normal_sf(z)), "normalapproximation med kontinuitetskorrektion"


def _log_hypergeom(k: np.ndarray, n1: int, n2: int, m: int) -> np.ndarray:
    """log P(X = k), X = successes in group 1 given margins (n1, n2, m successes in all)."""
    lg = np.vectorize(math.lgamma)
    return (lg(n1 + 1.0) - lg(k + 1.0) - lg(n1 - k + 1.0)
            + lg(n2 + 1.0) - lg(m - k + 1.0) - lg(n2 - m + k + 1.0)
            - (math.lgamma(n1 + n2 + 1) - math.lgamma(m + 1) - math.lgamma(n1 + n2 - m + 1)))


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value (sum of tables no more likely than the observed)."""
    m = x1 + x2
    lo, hi = max(0, m - n2), min(n1, m)
    ks = np.arange(lo, hi + 1, dtype="float64")
    logs = _log_hypergeom(ks, n1, n2, m)
    observed = _log_hypergeom(np.array([float(x1)]), n1, n2, m)[0]
    probs = np.exp(logs)
    p = float(np.sum(probs[logs <= observed + 1e-7]))
    return min(1.0, p)


# --------------------------------------------------------------------------- change tests


@dataclass(frozen=True)
class Change:
    """Result of a change test.

    ``before``/``after`` are the compared quantities: counts per unit of exposure (plain
    counts when exposures are 1; the baseline mean for baseline tests) or shares 0..1.
    ``diff`` = after - before; ``rel_change`` = diff / before (NaN when before is 0).
    """

    before: float
    after: float
    diff: float
    rel_change: float
    p_value: float
    significant: bool
    method: str
    label_sv: str


def _label(diff: float, p_value: float, alpha: float) -> tuple[bool, str]:
    if not math.isfinite(p_value):
        return False, LABEL_NO_DATA
    if p_value < alpha and diff != 0:
        return True, LABEL_INCREASE if diff > 0 else LABEL_DECREASE
    return False, LABEL_NOISE


def _rel(before: float, after: float) -> float:
    return (after - before) / before if before not in (0.0,) and math.isfinite(before) \
        else math.nan


def compare_counts(before: float, after: float, exposure_before: float = 1.0,
                   exposure_after: float = 1.0, *, alpha: float = 0.05) -> Change:
    """Did a Poisson rate change? Counts with exposures (weeks, inhabitants, ...).

    Method: conditional on the total N = before + after, ``after`` ~ Binomial(N, q) with
    q = exposure_after / (exposure_before + exposure_after) under "no change". The
    two-sided p-value is twice the smaller exact binomial tail (capped at 1) for
    N <= ``EXACT_COUNT_LIMIT``; above it, the normal approximation with continuity
    correction. 0 against 0 is never significant. Counts are rounded to whole numbers.
    """
    before, after = _float(before), _float(after)
    exposure_before, exposure_after = _float(exposure_before), _float(exposure_after)
    if not all(math.isfinite(v) for v in (before, after, exposure_before, exposure_after)) \
            or exposure_before <= 0 or exposure_after <= 0 or before < 0 or after < 0:
        return Change(math.nan, math.nan, math.nan, math.nan, math.nan, False,
                      "saknas", LABEL_NO_DATA)
    b, a = int(round(before)), int(round(after))
    p_value, method = _poisson_ratio_p(b, a, float(exposure_before), float(exposure_after))
    rate_b, rate_a = b / exposure_before, a / exposure_after
    significant, label = _label(rate_a - rate_b, p_value, alpha)
    return Change(rate_b, rate_a, rate_a - rate_b, _rel(rate_b, rate_a), p_value,
                  significant, method, label)


def compare_to_baseline(count: float, baseline: Sequence[float] | float, k: int | None = None,
                        *, alpha: float = 0.05) -> Change:
    """This period's count against the mean of k earlier periods.

    ``baseline`` is either the k earlier counts, or their total (then give ``k``). The
    baseline total is treated as Poisson with exposure k against this period's exposure 1,
    so a 4-week average of 5 is much firmer ground than one earlier week of 5.
    ``before`` in the result is the baseline mean.
    """
    if isinstance(baseline, (int, float, np.integer, np.floating)):
        if k is None:
            raise ValueError("k krävs när baseline är en summa")
        total, periods = float(baseline), int(k)
    else:
        values = [float(v) for v in baseline]
        total, periods = float(sum(values)), len(values)
    if periods <= 0:
        return Change(math.nan, float(count), math.nan, math.nan, math.nan, False, "saknas",
                      LABEL_NO_DATA)
    return compare_counts(total, count, float(periods), 1.0, alpha=alpha)


def compare_shares(share_before: float, n_before: float, share_after: float, n_after: float,
                   *, alpha: float = 0.05) -> Change:
    """Did a proportion change? Two-proportion z-test with pooled standard error.

    ``n`` may be an effective sample size (weighted surveys); successes = share * n.
    Small samples: when any expected cell (n * pooled share or n * (1 - pooled share)) is
    below 5, Fisher's exact test is used instead on the rounded 2x2 table (conservative
    for small n). n of 0 or missing gives "underlag saknas", never significant.
    """
    share_before, share_after = _float(share_before), _float(share_after)
    n_before, n_after = _float(n_before), _float(n_after)
    values = (share_before, n_before, share_after, n_after)
    if not all(math.isfinite(v) for v in values) or n_before <= 0 or n_after <= 0:
        sb, sa = share_before, share_after
        return Change(sb, sa, sa - sb, _rel(sb, sa), math.nan, False, "saknas",
                      LABEL_NO_DATA)
    p1 = min(max(float(share_before), 0.0), 1.0)
    p2 = min(max(float(share_after), 0.0), 1.0)
    x1, x2 = p1 * n_before, p2 * n_after
    pooled = (x1 + x2) / (n_before + n_after)
    expected = (n_before * pooled, n_before * (1 - pooled),
                n_after * pooled, n_after * (1 - pooled))
    diff = p2 - p1
    if min(expected) < 5:
        n1, n2 = max(1, int(round(n_before))), max(1, int(round(n_after)))
        k1 = min(n1, int(round(x1)))
        k2 = min(n2, int(round(x2)))
        p_value = fisher_exact_p(k1, n1, k2, n2)
        method = "Fishers exakta test (litet underlag)"
    else:
        se = math.sqrt(pooled * (1 - pooled) * (1 / n_before + 1 / n_after))
        z = diff / se
        p_value = min(1.0, 2.0 * normal_sf(abs(z)))
        method = "z-test för två andelar (poolad standardavvikelse)"
    significant, label = _label(diff, p_value, alpha)
    return Change(p1, p2, diff, _rel(p1, p2), p_value, significant, method, label)


# --------------------------------------------------------------------------- periods


def period_counts(frame: pd.DataFrame, time_col: str, freq: Freq, by: Sequence[str] = (),
                  value_col: str | None = None, *, start: Any = None, end: Any = None,
                  categories: Mapping[str, Sequence[Any]] | None = None,
                  today: date | datetime | None = None) -> pd.DataFrame:
    """Counts (or sums of ``value_col``) per period and group, with every period present.

    Returns columns ``period_start`` (datetime64), ``period`` (Swedish label), ``*by``, the
    value (``count``, or ``value_col`` when summing) and ``complete`` (the period ended
    before ``today``; default: the real date). Every period between ``start`` and ``end``
    (default: first and last period in the data) is present for every combination of group
    values (``categories`` may list values absent from the data, e.g. a full vocabulary);
    empty cells are 0, which is what keeps baselines honest. Rows with no time are dropped.
    """
    _check_freq(freq)
    by = list(by)
    times = pd.to_datetime(frame[time_col], errors="coerce")
    keep = times.notna()
    work = pd.DataFrame({"period_start": periods.period_starts(times[keep], freq)})
    for col in by:
        work[col] = frame.loc[keep, col]
    out_col = value_col or "count"
    if value_col is None:
        work[out_col] = 1
    else:
        work[out_col] = pd.to_numeric(frame.loc[keep, value_col], errors="coerce").fillna(0)

    first = start if start is not None else (work["period_start"].min() if len(work)
                                              else None)
    last = end if end is not None else (work["period_start"].max() if len(work) else None)
    starts = (pd.DatetimeIndex([], dtype="datetime64[us]") if first is None or last is None
              else periods.period_range(first, last, freq))
    starts = pd.DatetimeIndex(starts, name="period_start")

    levels: list[Any] = [starts]
    for col in by:
        values = list(pd.unique(work[col].dropna()))
        if categories and col in categories:
            values = list(categories[col]) + [v for v in values if v not in categories[col]]
        else:
            values = sorted(values, key=str)
        levels.append(pd.Index(values, name=col))
    full = (pd.MultiIndex.from_product(levels, names=["period_start", *by]) if by
            else starts)

    in_range = work["period_start"].isin(starts)
    grouped = work[in_range].groupby(["period_start", *by], dropna=True)[out_col].sum()
    result = grouped.reindex(full, fill_value=0).reset_index()
    if value_col is None or pd.api.types.is_integer_dtype(result[out_col]):
        result[out_col] = result[out_col].astype("int64")
    result["period_start"] = result["period_start"].astype("datetime64[us]")
    labels = {p: periods.period_label(p, freq) for p in starts}
    result.insert(1, "period", result["period_start"].map(labels).astype("str"))
    # Complete: ended before ``today`` (today is not over; the data cover the day before).
    until = (today or date.today()) - timedelta(days=1)
    result["complete"] = ~periods.partial_mask(result["period_start"], freq, until)
    result = result.sort_values(["period_start", *by], kind="stable").reset_index(drop=True)
    result.attrs["freq"] = freq
    return result


def _infer_freq(counts: pd.DataFrame) -> str:
    freq = counts.attrs.get("freq")
    if freq in periods.GRANULARITIES:
        return str(freq)
    label = str(counts["period"].iloc[0]) if len(counts) else ""
    if label.startswith("v. "):
        return "W"
    if label.startswith("K"):
        return "Q"
    if label.isdigit():
        return "Y"
    return "M"


_ADDED = ("period", "complete", "baseline_prev_mean", "baseline_diff", "baseline_p_value",
          "baseline_significant", "baseline_label_sv", "same_period_last_year",
          "last_year_diff", "last_year_p_value", "last_year_significant",
          "last_year_label_sv")


def _test_columns(before: np.ndarray, after: np.ndarray, exp_before: float,
                  complete: np.ndarray, alpha: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p_values = np.full(len(after), np.nan)
    significant = np.zeros(len(after), dtype=bool)
    labels = np.empty(len(after), dtype=object)
    for i, (b, a, ok) in enumerate(zip(before, after, complete, strict=True)):
        if not ok:
            labels[i] = LABEL_INCOMPLETE
            continue
        if not (math.isfinite(b) and math.isfinite(a)):
            labels[i] = LABEL_NO_DATA
            continue
        change = compare_counts(b * exp_before, a, exp_before, 1.0, alpha=alpha)
        p_values[i], significant[i], labels[i] = (change.p_value, change.significant,
                                                  change.label_sv)
    return p_values, significant, labels


def with_baseline(counts: pd.DataFrame, k: int = 4, *, value: str = "count",
                  by: Sequence[str] | None = None, freq: Freq | None = None,
                  alpha: float = 0.05) -> pd.DataFrame:
    """Add baselines and change tests to a ``period_counts`` table.

    Added columns:
      baseline_prev_mean     mean of the previous k periods of the same group (NaN when
                             fewer than k earlier periods are in the table)
      baseline_diff, baseline_p_value, baseline_significant, baseline_label_sv
                             test of this period vs the k-period baseline
                             (``compare_to_baseline``)
      same_period_last_year  W: same ISO week number in the previous ISO year; M/Q/Y: the
                             same month/quarter a year earlier (NaN when outside the table)
      last_year_diff, last_year_p_value, last_year_significant, last_year_label_sv
    Incomplete periods (``complete`` False) get no test ("ofullständig period") and never
    enter a baseline: a baseline whose window holds one (or a year-ago period that was
    incomplete) is NaN, and the test says "underlag saknas".
    ``by`` defaults to every column that is not a period, value or added column.
    """
    freq = freq or _infer_freq(counts)  # type: ignore[assignment]
    _check_freq(str(freq))
    group_cols = (list(by) if by is not None else
                  [c for c in counts.columns if c not in ("period_start", value, *_ADDED)])
    out = counts.drop(columns=[c for c in _ADDED[2:] if c in counts.columns])
    out = out.sort_values([*group_cols, "period_start"], kind="stable")
    values = out[value].astype("float64")
    complete = (out["complete"].to_numpy(dtype=bool) if "complete" in out.columns
                else np.ones(len(out), dtype=bool))
    usable = values.where(complete)  # a partial period is no baseline for another
    if group_cols:
        grouped = usable.groupby([out[c] for c in group_cols], sort=False, dropna=False)
        prev = grouped.transform(lambda s: s.shift(1).rolling(k, min_periods=k).mean())
    else:
        prev = usable.shift(1).rolling(k, min_periods=k).mean()
    out["baseline_prev_mean"] = prev

    # Same period last year via a self-merge on (group, key of the period a year back).
    key, key_last = periods.year_ago_keys(out["period_start"], str(freq))
    lookup = out[group_cols].copy()
    lookup["_key"] = key
    lookup["same_period_last_year"] = usable.to_numpy()
    lookup = lookup.drop_duplicates([*group_cols, "_key"])
    probe = out[group_cols].copy()
    probe["_key"] = key_last
    merged = probe.merge(lookup, on=[*group_cols, "_key"], how="left")
    out["same_period_last_year"] = merged["same_period_last_year"].to_numpy()

    after = values.to_numpy()
    base = out["baseline_prev_mean"].to_numpy(dtype="float64")
    last = out["same_period_last_year"].to_numpy(dtype="float64")
    out["baseline_diff"] = after - base
    p, s, lab = _test_columns(base, after, float(k), complete, alpha)
    out["baseline_p_value"], out["baseline_significant"], out["baseline_label_sv"] = p, s, lab
    out["last_year_diff"] = after - last
    p, s, lab = _test_columns(last, after, 1.0, complete, alpha)
    out["last_year_p_value"], out["last_year_significant"], out["last_year_label_sv"] = p, s, lab
    for col in ("baseline_label_sv", "last_year_label_sv"):
        out[col] = out[col].astype("str")
    out = out.sort_values(["period_start", *group_cols], kind="stable").reset_index(drop=True)
    out.attrs["freq"] = freq
    return out
