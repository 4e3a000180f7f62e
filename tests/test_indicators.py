"""Rates, Wilson intervals, change tests and period aggregation against hand computations."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from hjo_data import indicators as ind
from hjo_data import periods

Z = 1.96


# --------------------------------------------------------------------------- reference math


def brute_binom_two_sided(after: int, total: int, q: float) -> float:
    """Twice the smaller exact tail of Binomial(total, q) at ``after`` (capped at 1)."""
    pmf = [math.comb(total, i) * q**i * (1 - q) ** (total - i) for i in range(total + 1)]
    lower = sum(pmf[: after + 1])
    upper = sum(pmf[after:])
    return min(1.0, 2 * min(lower, upper))


def brute_fisher(x1: int, n1: int, x2: int, n2: int) -> float:
    """Sum of hypergeometric tables no more likely than the observed one."""
    m = x1 + x2

    def prob(k: int) -> float:
        return math.comb(n1, k) * math.comb(n2, m - k) / math.comb(n1 + n2, m)

    observed = prob(x1)
    ks = range(max(0, m - n2), min(n1, m) + 1)
    return sum(prob(k) for k in ks if prob(k) <= observed * (1 + 1e-7))


# --------------------------------------------------------------------------- rates


def test_rate_per_1000_scalars_and_zero_population() -> None:
    assert ind.rate_per_1000(45, 9000) == pytest.approx(5.0)
    assert ind.rate_per_1000(1, 3) == pytest.approx(1000 / 3)
    assert math.isnan(ind.rate_per_1000(5, 0))
    assert math.isnan(ind.rate_per_1000(5, float("nan")))
    assert math.isnan(ind.rate_per_1000(5, -10))


def test_rate_per_1000_vectorised_keeps_series_index() -> None:
    counts = pd.Series([10, 0, 3], index=["Centrum", "Norr", "Fågelås"])
    pops = pd.Series([2000, 500, 0], index=counts.index)
    rates = ind.rate_per_1000(counts, pops)
    assert isinstance(rates, pd.Series)
    assert list(rates.index) == list(counts.index)
    assert rates["Centrum"] == pytest.approx(5.0)
    assert rates["Norr"] == 0.0
    assert math.isnan(rates["Fågelås"])
    arr = ind.rate_per_1000(np.array([1, 2]), np.array([1000, 4000]))
    np.testing.assert_allclose(arr, [1.0, 0.5])


# --------------------------------------------------------------------------- Wilson


def test_wilson_hand_computed() -> None:
    """Closed forms of the Wilson interval (z = 1.96, z^2 = 3.8416).

    x = 0:  low = 0, high = z^2 / (n + z^2)            n=10 -> 3.8416/13.8416 = 0.277540
    x = n:  low = n / (n + z^2), high = 1              n=10 -> 10/13.8416     = 0.722460
    x = n/2: centre 1/2, half-width = z / (2 sqrt(n + z^2))
             n=10:  1.96 / (2 * 3.720430) = 0.263410 -> (0.236590, 0.763410)
             n=100: 1.96 / (2 * 10.190270) = 0.096170 -> (0.403830, 0.596170)
    """
    cases = {
        (0, 10): (0.0, 0.277540),
        (10, 10): (0.722460, 1.0),
        (5, 10): (0.236590, 0.763410),
        (50, 100): (0.403830, 0.596170),
    }
    for (x, n), (low, high) in cases.items():
        got_low, got_high = ind.wilson_interval(x, n)
        assert got_low == pytest.approx(low, abs=2e-6), (x, n)
        assert got_high == pytest.approx(high, abs=2e-6), (x, n)
    # the same four at once, vectorised
    xs = np.array([k[0] for k in cases])
    ns = np.array([k[1] for k in cases])
    lows, highs = ind.wilson_interval(xs, ns)
    np.testing.assert_allclose(lows, [v[0] for v in cases.values()], atol=2e-6)
    np.testing.assert_allclose(highs, [v[1] for v in cases.values()], atol=2e-6)


def test_wilson_n_zero_is_nan_and_z_changes_width() -> None:
    low, high = ind.wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)
    lows, highs = ind.wilson_interval(pd.Series([1, 2]), pd.Series([0, 4]))
    assert math.isnan(lows.iloc[0]) and not math.isnan(lows.iloc[1])
    narrow = ind.wilson_interval(5, 10, z=1.0)
    wide = ind.wilson_interval(5, 10)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]


def test_kish_effective_n() -> None:
    assert ind.kish_effective_n([1, 1, 1, 1]) == pytest.approx(4)
    assert ind.kish_effective_n([2, 2, 2]) == pytest.approx(3)
    # (1 + 3)^2 / (1 + 9) = 1.6
    assert ind.kish_effective_n([1, 3]) == pytest.approx(1.6)
    assert ind.kish_effective_n([1, 3, float("nan")]) == pytest.approx(1.6)
    assert ind.kish_effective_n([]) == 0.0


# --------------------------------------------------------------------------- count tests


@pytest.mark.parametrize(
    ("before", "after", "exp_before", "exp_after"),
    [(10, 20, 1, 1), (20, 10, 1, 1), (14, 9, 4, 1), (3, 0, 1, 1), (40, 25, 2, 1),
     (7, 7, 1, 1), (120, 160, 1, 1)],
)
def test_poisson_exact_matches_brute_force(before: int, after: int, exp_before: float,
                                           exp_after: float) -> None:
    change = ind.compare_counts(before, after, exp_before, exp_after)
    q = exp_after / (exp_before + exp_after)
    expected = brute_binom_two_sided(after, before + after, q)
    assert change.p_value == pytest.approx(expected, rel=1e-9)
    assert change.method.startswith("exakt")
    assert change.before == pytest.approx(before / exp_before)
    assert change.after == pytest.approx(after / exp_after)
    assert change.significant == (expected < 0.05 and change.diff != 0)


def test_poisson_small_counts_thresholds() -> None:
    # 0 vs 5: p = 2 * 0.5^5 = 0.0625 -> noise; 0 vs 6: p = 2 * 0.5^6 = 0.03125 -> real
    five = ind.compare_counts(0, 5)
    assert five.p_value == pytest.approx(0.0625)
    assert not five.significant and five.label_sv == "inom slumpvariationen"
    six = ind.compare_counts(0, 6)
    assert six.p_value == pytest.approx(0.03125)
    assert six.significant and six.label_sv == "ökning utanför slumpvariationen"
    assert math.isnan(six.rel_change)  # no relative change from zero
    down = ind.compare_counts(6, 0)
    assert down.significant and down.label_sv == "minskning utanför slumpvariationen"


def test_zero_against_zero_is_never_significant() -> None:
    change = ind.compare_counts(0, 0)
    assert change.p_value == 1.0
    assert not change.significant
    assert change.label_sv == "inom slumpvariationen"


def test_invalid_counts_give_no_data() -> None:
    for args in ((float("nan"), 3), (3, 4, 0, 1), (-1, 3)):
        change = ind.compare_counts(*args)
        assert not change.significant and change.label_sv == "underlag saknas"


def test_large_counts_use_normal_approximation_with_continuity() -> None:
    before, after = 3000, 3200
    total = before + after
    z = (abs(after - total / 2) - 0.5) / math.sqrt(total * 0.25)
    expected = math.erfc(z / math.sqrt(2))
    change = ind.compare_counts(before, after)
    assert change.method.startswith("normal")
    assert change.p_value == pytest.approx(expected, rel=1e-12)
    assert change.significant  # z ~ 2.53
    assert change.rel_change == pytest.approx(200 / 3000)


def test_baseline_comparison_uses_exposure_k() -> None:
    """9 this week vs 3, 4, 2, 5 the previous four weeks (mean 3.5).

    Total 23; under no change this week holds 1/5 of it: Binomial(23, 0.2).
    """
    change = ind.compare_to_baseline(9, [3, 4, 2, 5])
    assert change.before == pytest.approx(3.5)
    assert change.after == 9
    assert change.diff == pytest.approx(5.5)
    assert change.p_value == pytest.approx(brute_binom_two_sided(9, 23, 0.2), rel=1e-9)
    same = ind.compare_to_baseline(9, 14, k=4)
    assert same == change
    with pytest.raises(ValueError):
        ind.compare_to_baseline(9, 14)
    assert ind.compare_to_baseline(3, []).label_sv == "underlag saknas"


def test_firmer_baseline_gives_smaller_p_value() -> None:
    # the same mean of 5, known from one week vs from four weeks
    one = ind.compare_to_baseline(14, [5])
    four = ind.compare_to_baseline(14, [5, 5, 5, 5])
    assert four.p_value < one.p_value


# --------------------------------------------------------------------------- share tests


def test_two_proportion_z_matches_manual_formula() -> None:
    p1, n1, p2, n2 = 0.30, 200, 0.40, 200
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se
    expected = math.erfc(abs(z) / math.sqrt(2))
    change = ind.compare_shares(p1, n1, p2, n2)
    assert change.method.startswith("z-test")
    assert change.p_value == pytest.approx(expected, rel=1e-12)
    assert change.significant and change.label_sv == "ökning utanför slumpvariationen"
    assert change.diff == pytest.approx(0.10)
    assert change.rel_change == pytest.approx(0.10 / 0.30)


def test_typical_small_municipality_change_is_noise() -> None:
    # 24 % -> 28 % with 300 answers each year: well within random variation
    change = ind.compare_shares(0.24, 300, 0.28, 300)
    assert not change.significant
    assert change.label_sv == "inom slumpvariationen"


def test_small_cells_use_fisher_exact() -> None:
    change = ind.compare_shares(0.1, 10, 0.5, 10)
    assert change.method.startswith("Fisher")
    assert change.p_value == pytest.approx(brute_fisher(1, 10, 5, 10), rel=1e-9)
    assert not change.significant
    big = ind.compare_shares(0.0, 30, 0.3, 30)  # 0/30 vs 9/30: expected 4.5 < 5
    assert big.method.startswith("Fisher")
    assert big.p_value == pytest.approx(brute_fisher(0, 30, 9, 30), rel=1e-9)
    assert big.significant


def test_share_edge_cases() -> None:
    empty = ind.compare_shares(0.3, 0, 0.4, 100)
    assert not empty.significant and empty.label_sv == "underlag saknas"
    same = ind.compare_shares(0.0, 50, 0.0, 50)
    assert same.p_value == pytest.approx(1.0) and not same.significant
    down = ind.compare_shares(0.5, 400, 0.35, 400)
    assert down.significant and down.label_sv == "minskning utanför slumpvariationen"


# --------------------------------------------------------------------------- periods


def _events(days: list[str], cats: list[str] | None = None) -> pd.DataFrame:
    times = pd.to_datetime(days, format="mixed").astype("datetime64[us]")
    frame = pd.DataFrame({"occurred_at": times})
    if cats is not None:
        frame["category"] = pd.Series(cats, dtype="str")
    return frame


def test_period_counts_fills_zeros_for_every_group_and_period() -> None:
    frame = _events(["2024-05-01", "2024-05-02", "2024-05-20", "2024-05-21 23:59"],
                    ["klotter", "klotter", "brand", "klotter"])
    out = ind.period_counts(frame, "occurred_at", "W", by=["category"],
                            today=date(2024, 6, 1))
    # weeks 18..21 x {brand, klotter} = 8 rows
    assert len(out) == 8
    assert list(out.columns) == ["period_start", "period", "category", "count", "complete"]
    table = out.set_index(["period", "category"])["count"]
    assert table[("v. 18 2024", "klotter")] == 2
    assert table[("v. 18 2024", "brand")] == 0
    assert table[("v. 19 2024", "klotter")] == 0
    assert table[("v. 20 2024", "brand")] == 0
    assert table[("v. 21 2024", "brand")] == 1
    assert table[("v. 21 2024", "klotter")] == 1
    assert out["count"].sum() == len(frame)
    assert out["count"].dtype == "int64"
    assert out["period_start"].dtype == "datetime64[us]"
    assert (out["period_start"].dt.day_of_week == 0).all()


def test_period_counts_with_full_vocabulary_and_range() -> None:
    frame = _events(["2024-02-10"], ["klotter"])
    out = ind.period_counts(frame, "occurred_at", "M", by=["category"],
                            categories={"category": ["brand", "klotter", "övrigt"]},
                            start=date(2024, 1, 15), end=date(2024, 3, 3),
                            today=date(2024, 3, 10))
    assert list(out["period"].unique()) == ["januari 2024", "februari 2024", "mars 2024"]
    assert len(out) == 9
    assert out["count"].sum() == 1
    assert list(out["category"][:3]) == ["brand", "klotter", "övrigt"]
    # March has not ended on 2024-03-10
    assert out.groupby("period", sort=False)["complete"].first().tolist() == [True, True,
                                                                              False]


def test_iso_week_boundaries_over_new_year() -> None:
    # 2020 has ISO week 53 (2020-12-28 .. 2021-01-03); 2024-12-30 opens week 1 of 2025
    frame = _events(["2020-12-27", "2020-12-28", "2021-01-03", "2021-01-04"])
    out = ind.period_counts(frame, "occurred_at", "W", today=date(2021, 2, 1))
    assert out["period"].tolist() == ["v. 52 2020", "v. 53 2020", "v. 1 2021"]
    assert out["count"].tolist() == [1, 2, 1]
    frame = _events(["2024-12-29", "2024-12-30", "2025-01-05", "2025-01-06"])
    out = ind.period_counts(frame, "occurred_at", "W", today=date(2025, 2, 1))
    assert out["period"].tolist() == ["v. 52 2024", "v. 1 2025", "v. 2 2025"]
    assert out["count"].tolist() == [1, 2, 1]
    assert out["period_start"].tolist() == [pd.Timestamp(d) for d in
                                            ("2024-12-23", "2024-12-30", "2025-01-06")]


def test_quarter_and_year_labels_and_sums() -> None:
    frame = _events(["2023-03-31", "2023-04-01", "2023-12-31", "2024-01-01"])
    frame["vehicles_checked"] = [10, 20, 30, 40]
    q = ind.period_counts(frame, "occurred_at", "Q", value_col="vehicles_checked",
                          today=date(2025, 1, 1))
    assert q["period"].tolist() == ["K1 2023", "K2 2023", "K3 2023", "K4 2023", "K1 2024"]
    assert q["vehicles_checked"].tolist() == [10, 20, 0, 30, 40]
    y = ind.period_counts(frame, "occurred_at", "Y", today=date(2025, 1, 1))
    assert y["period"].tolist() == ["2023", "2024"]
    assert y["count"].tolist() == [3, 1]


def test_period_counts_drops_missing_times_and_handles_empty() -> None:
    frame = _events(["2024-05-01", None])
    out = ind.period_counts(frame, "occurred_at", "W", today=date(2024, 6, 1))
    assert out["count"].tolist() == [1]
    empty = ind.period_counts(frame.iloc[:0], "occurred_at", "W", by=[],
                              today=date(2024, 6, 1))
    assert len(empty) == 0 and "count" in empty.columns
    with pytest.raises(ValueError):
        ind.period_counts(frame, "occurred_at", "D")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("freq", "today", "start", "end"),
    [
        ("W", date(2024, 5, 6), "2024-04-29", "2024-05-06"),  # Monday: v. 18 just ended
        ("W", date(2024, 5, 5), "2024-04-22", "2024-04-29"),  # Sunday: v. 18 still running
        ("W", date(2025, 1, 2), "2024-12-23", "2024-12-30"),
        ("M", date(2024, 5, 31), "2024-04-01", "2024-05-01"),
        ("M", date(2024, 1, 1), "2023-12-01", "2024-01-01"),
        ("Q", date(2024, 4, 1), "2024-01-01", "2024-04-01"),
        ("Y", date(2024, 6, 1), "2023-01-01", "2024-01-01"),
    ],
)
def test_latest_complete_period(freq: str, today: date, start: str, end: str) -> None:
    # ``today`` is not over: the data cover the day before it (the reference day).
    got = periods.latest_complete_period(today - timedelta(days=1), freq)
    assert got == (date.fromisoformat(start), date.fromisoformat(end))


# --------------------------------------------------------------------------- baselines


def test_with_baseline_means_and_tests() -> None:
    weekly = [3, 4, 2, 5, 9, 0, 1]
    # one event per count, spread over weeks starting 2024-01-01 (Monday of v. 1)
    days = [pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=i, days=j % 7)
            for i, c in enumerate(weekly) for j in range(c)]
    frame = _events([d.isoformat() for d in days])
    counts = ind.period_counts(frame, "occurred_at", "W",
                               end=date(2024, 2, 12), today=date(2024, 3, 1))
    assert counts["count"].tolist() == weekly
    out = ind.with_baseline(counts, k=4)
    for i in range(len(weekly)):
        row = out.iloc[i]
        if i < 4:
            assert math.isnan(row["baseline_prev_mean"])
            assert row["baseline_label_sv"] == "underlag saknas"
            assert not row["baseline_significant"]
            continue
        prev = weekly[i - 4:i]
        assert row["baseline_prev_mean"] == pytest.approx(sum(prev) / 4)
        expected = brute_binom_two_sided(weekly[i], sum(prev) + weekly[i], 0.2)
        assert row["baseline_p_value"] == pytest.approx(expected, rel=1e-9)
        assert row["baseline_significant"] == (expected < 0.05)
    # no 2023 data in the table: last year unknown, not zero
    assert out["same_period_last_year"].isna().all()


def test_partial_periods_never_enter_a_test_or_a_baseline() -> None:
    weekly = [3, 4, 2, 5, 9, 0, 1, 6]
    days = [pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=i, days=j % 7)
            for i, c in enumerate(weekly) for j in range(c)]
    # Data end on Wednesday 2024-02-21: the 8th week (from 2024-02-19) is partial.
    counts = ind.period_counts(_events([d.isoformat() for d in days]), "occurred_at", "W",
                               today=date(2024, 2, 22))
    assert counts["complete"].tolist() == [True] * 7 + [False]
    # A partial first week too (data begin mid-week in a real selection).
    counts.loc[0, "complete"] = False
    out = ind.with_baseline(counts, k=4)
    assert out["baseline_label_sv"].iloc[-1] == ind.LABEL_INCOMPLETE
    assert math.isnan(out["baseline_p_value"].iloc[-1])
    # Week 0 is partial: every baseline whose 4-week window holds it is missing.
    assert out["baseline_prev_mean"].iloc[:5].isna().all()
    assert out["baseline_label_sv"].iloc[4] == ind.LABEL_NO_DATA
    assert out["baseline_prev_mean"].iloc[5] == pytest.approx(sum(weekly[1:5]) / 4)


def test_with_baseline_per_group_and_incomplete_period() -> None:
    frame = _events(["2024-01-01", "2024-01-08", "2024-01-08", "2024-01-15"],
                    ["a", "a", "b", "b"])
    counts = ind.period_counts(frame, "occurred_at", "W", by=["category"],
                               today=date(2024, 1, 17))
    out = ind.with_baseline(counts, k=1)
    table = out.set_index(["period", "category"])
    assert table.loc[("v. 2 2024", "a"), "baseline_prev_mean"] == 1
    assert table.loc[("v. 2 2024", "b"), "baseline_prev_mean"] == 0
    assert table.loc[("v. 3 2024", "b"), "baseline_prev_mean"] == 1
    # week 3 is still running on 2024-01-17: never compared
    assert table.loc[("v. 3 2024", "b"), "baseline_label_sv"] == "ofullständig period"
    assert math.isnan(table.loc[("v. 3 2024", "b"), "baseline_p_value"])
    # the order of the output follows period_counts
    assert out["period_start"].is_monotonic_increasing


def test_same_period_last_year_weeks_and_months() -> None:
    # ISO week 18 of 2023 starts 2023-05-01, of 2024 starts 2024-04-29
    frame = _events(["2023-05-02", "2023-05-03", "2024-04-30"] + ["2021-01-01"])
    counts = ind.period_counts(frame, "occurred_at", "W", start=date(2020, 12, 28),
                               today=date(2024, 6, 1))
    out = ind.with_baseline(counts, k=4).set_index("period")
    assert out.loc["v. 18 2024", "same_period_last_year"] == 2
    assert out.loc["v. 18 2024", "last_year_diff"] == -1
    assert out.loc["v. 18 2023", "same_period_last_year"] == 0
    # v. 53 2020 exists, but its "last year" (2019) is outside the table: unknown, not 0
    assert math.isnan(out.loc["v. 53 2020", "same_period_last_year"])
    assert out.loc["v. 53 2020", "count"] == 1
    months = ind.period_counts(frame, "occurred_at", "M", today=date(2024, 6, 1))
    mout = ind.with_baseline(months, k=3).set_index("period")
    assert mout.loc["maj 2023", "count"] == 2
    assert mout.loc["maj 2023", "same_period_last_year"] == 0  # maj 2022 is in the table
    assert mout.loc["april 2024", "same_period_last_year"] == 0
    assert math.isnan(mout.loc["december 2021", "same_period_last_year"])
    expected = brute_binom_two_sided(2, 2, 0.5)  # 2 vs 0: p = 2 * 0.25 = 0.5
    assert mout.loc["maj 2023", "last_year_p_value"] == pytest.approx(expected)
    assert not mout.loc["maj 2023", "last_year_significant"]
    assert ind.with_baseline(months, k=3, freq="M").equals(ind.with_baseline(months, k=3))


def test_nullable_inputs_are_missing_not_errors() -> None:
    counts = pd.Series([5, None], dtype="Int64")
    pops = pd.Series([1000, 1000], dtype="Int64")
    rates = ind.rate_per_1000(counts, pops)
    assert rates.iloc[0] == pytest.approx(5.0) and math.isnan(rates.iloc[1])
    low, _ = ind.wilson_interval(pd.Series([1, None], dtype="Int64"), 10)
    assert not math.isnan(low.iloc[0]) and math.isnan(low.iloc[1])
    assert ind.compare_counts(pd.NA, 3).label_sv == "underlag saknas"
    assert ind.compare_shares(None, 10, 0.5, 10).label_sv == "underlag saknas"
    assert ind.compare_counts(np.int64(0), np.int64(6)).significant


def test_with_baseline_explicit_by_ignores_extra_columns() -> None:
    frame = _events(["2024-01-01", "2024-01-08", "2024-01-15"], ["a", "a", "a"])
    counts = ind.period_counts(frame, "occurred_at", "W", by=["category"],
                               today=date(2024, 2, 1))
    counts["note"] = ["x", "y", "z"]  # would split groups if taken as a group column
    out = ind.with_baseline(counts, k=2, by=["category"])
    assert out["baseline_prev_mean"].tolist()[2] == pytest.approx(1.0)
    inferred = ind.with_baseline(counts, k=2)
    assert inferred["baseline_prev_mean"].isna().all()
