"""EST aggregations on hand-made frames; expected values are counted by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from hjo_data import est, periods
from tests.conftest import canonical, incidents


def test_latest_complete_week_is_the_week_before_as_of() -> None:
    # 2024-05-15 is a Wednesday in ISO week 20; the latest complete week is week 19.
    assert periods.latest_complete_period(date(2024, 5, 15), "W")[0] == date(2024, 5, 6)
    # Data through Sunday 2024-05-12: week 19 just ended (and stays the latest on Monday).
    assert periods.latest_complete_period(date(2024, 5, 12), "W")[0] == date(2024, 5, 6)
    assert periods.latest_complete_period(date(2024, 5, 13), "W")[0] == date(2024, 5, 6)
    # Data through Saturday: week 19 is not complete yet.
    assert periods.latest_complete_period(date(2024, 5, 11), "W")[0] == date(2024, 4, 29)


def test_weekly_lagesbild_baseline_and_last_year() -> None:
    spec = [
        # current week (2024-05-06..12): 3 klotter, 1 brand
        ("2024-05-06T10:00", "klotter", "A"), ("2024-05-08T22:00", "klotter", "A"),
        ("2024-05-12T23:59", "klotter", "B"), ("2024-05-07T01:00", "brand", "B"),
        # previous 4 weeks: klotter 1 + 0 + 2 + 1 = 4, brand 2
        ("2024-04-29T10:00", "klotter", "A"), ("2024-04-17T10:00", "klotter", "A"),
        ("2024-04-18T10:00", "klotter", "B"), ("2024-04-08T10:00", "klotter", "A"),
        ("2024-04-09T10:00", "brand", "A"), ("2024-04-30T10:00", "brand", "A"),
        # 5 weeks back: outside the baseline
        ("2024-04-05T10:00", "klotter", "A"),
        # same week last year (2023-05-08..14): 2 klotter
        ("2023-05-08T10:00", "klotter", "A"), ("2023-05-14T10:00", "klotter", "A"),
        # the running week (incomplete) is ignored
        ("2024-05-14T10:00", "klotter", "A"),
    ]
    week = est.weekly_lagesbild(incidents(spec), as_of=date(2024, 5, 15))
    assert week.week_start == pd.Timestamp("2024-05-06")
    t = week.table.set_index("group")
    assert t.index[0] == est.TOTAL_LABEL
    assert t.loc["klotter", "count"] == 3
    assert t.loc["klotter", "baseline"] == 4 / 4
    assert t.loc["klotter", "last_year"] == 2
    assert t.loc["brand", "count"] == 1
    assert t.loc["brand", "baseline"] == 2 / 4
    assert t.loc["brand", "last_year"] == 0
    assert t.loc[est.TOTAL_LABEL, "count"] == 4
    assert t.loc[est.TOTAL_LABEL, "baseline"] == 6 / 4
    assert t.loc["klotter", "diff"] == 3 - 1.0
    # Small counts: not beyond noise.
    assert not bool(t.loc["klotter", "significant"])


def test_weekly_lagesbild_flags_a_clear_increase() -> None:
    spec = [(f"2024-05-{6 + i % 5:02d}T10:00", "brand", "A") for i in range(30)]
    spec += [("2024-04-10T10:00", "brand", "A")]
    t = est.weekly_lagesbild(incidents(spec), as_of=date(2024, 5, 15)).table.set_index("group")
    assert bool(t.loc["brand", "significant"])
    assert "ökning" in t.loc["brand", "change"]


def test_hotspots_counts_per_1000_and_ranking() -> None:
    # window: 4 complete weeks before the week of 2024-05-15 -> 2024-04-15..2024-05-12
    spec = [("2024-05-01T10:00", "klotter", "A")] * 3 + [("2024-04-20T10:00", "brand", "B")] \
        + [("2024-03-01T10:00", "brand", "B")] * 8  # baseline only
    spots = est.hotspots(incidents(spec), {"A": 1500, "B": 400}, as_of=date(2024, 5, 15))
    assert spots["area"].tolist() == ["A", "B"]
    a, b = spots.iloc[0], spots.iloc[1]
    assert a["count"] == 3 and abs(a["per_1000"] - 3 / 1500 * 1000) < 1e-12
    assert b["count"] == 1 and abs(b["per_1000"] - 1 / 400 * 1000) < 1e-12
    assert b["baseline"] == 8 / 4


def test_population_from_frame_uses_year() -> None:
    pop = pd.DataFrame({"year": [2023, 2024, 2023], "area": ["A", "A", "B"],
                        "population": [100, 120, 50]})
    assert est.population_map(pop, year=2023) == {"A": 100.0, "B": 50.0}
    assert est.population_map(pop) == {"A": 120.0, "B": 50.0}


def test_heatmap_counts_only_known_times() -> None:
    frame = canonical("incidents", [
        {"occurred_at": pd.Timestamp("2024-05-06 10:15"), "occurred_at_has_time": True,
         "category": "klotter", "area": "A", "source": "polis"},   # Monday 10
        {"occurred_at": pd.Timestamp("2024-05-13 10:59"), "occurred_at_has_time": True,
         "category": "klotter", "area": "A", "source": "polis"},   # Monday 10
        {"occurred_at": pd.Timestamp("2024-05-12 23:00"), "occurred_at_has_time": True,
         "category": "klotter", "area": "A", "source": "polis"},   # Sunday 23
        {"occurred_at": pd.Timestamp("2024-05-07 00:00"), "occurred_at_has_time": False,
         "category": "klotter", "area": "A", "source": "polis"},   # no time: excluded
    ])
    grid = est.heatmap_counts(frame)
    assert grid.shape == (7, 24)
    assert grid.loc[0, 10] == 2
    assert grid.loc[6, 23] == 1
    assert grid.loc[1, 0] == 0
    assert int(grid.to_numpy().sum()) == 3


def test_monthly_counts_zero_filled() -> None:
    spec = [("2024-01-10T10:00", "klotter", "A"), ("2024-03-10T10:00", "klotter", "A"),
            ("2024-03-11T10:00", "brand", "A")]
    m = est.monthly_counts(incidents(spec), by="category")
    pivot = m.pivot(index="month", columns="group", values="count")
    assert list(pivot.index.month) == [1, 2, 3]
    assert pivot.loc[pd.Timestamp("2024-02-01"), "klotter"] == 0
    assert pivot.loc[pd.Timestamp("2024-03-01")].sum() == 2


def test_empty_frames_do_not_fail() -> None:
    empty = incidents([])
    assert est.weekly_lagesbild(empty, as_of=date(2024, 5, 15)).total["count"] == 0
    assert est.monthly_counts(empty).empty
    assert int(est.heatmap_counts(empty).to_numpy().sum()) == 0
    assert est.hotspots(empty, {}, as_of=date(2024, 5, 15)).empty


def test_covered_years_is_the_overlap_of_selection_and_reports() -> None:
    cube = est.incident_cube(incidents([("2022-03-01T10:00", "brand", "A"),
                                        ("2024-02-29T10:00", "brand", "B")]))
    whole = (date(2024, 2, 29) - date(2022, 3, 1)).days + 1
    assert abs(est.covered_years(cube, None, None) - whole / 365.25) < 1e-12
    # a selection starting long before the first report counts from the first report
    assert est.covered_years(cube, date(2019, 1, 1), None) == est.covered_years(cube, None,
                                                                                 None)
    inside = (date(2023, 12, 31) - date(2023, 1, 1)).days + 1
    assert abs(est.covered_years(cube, date(2023, 1, 1), date(2023, 12, 31))
               - inside / 365.25) < 1e-12
    assert est.covered_years(cube, date(2025, 1, 1), None) != est.covered_years(
        cube, date(2025, 1, 1), None)  # NaN: no reports in the selection


def test_area_rates_per_year_compare_across_selection_lengths() -> None:
    """The same pace in area A (12 a year) over one and over three years gives the same
    rate per 1 000 inhabitants and year; a plain per-1 000 count would triple."""
    rates = []
    for first_year in (2024, 2022):
        spec = [(f"{y}-{m:02d}-10T10:00", "klotter", "A")
                for y in range(first_year, 2025) for m in range(1, 13)]
        # reports from another area on the selection's first and last day: full coverage
        spec += [(f"{first_year}-01-01T09:00", "brand", "B"), ("2024-12-31T09:00", "brand",
                                                               "B")]
        frame = incidents(spec)
        years = est.covered_years(est.incident_cube(frame), date(first_year, 1, 1),
                                  date(2024, 12, 31))
        assert abs(years - (2025 - first_year)) < 0.01
        rate = est.area_rates(frame, {"A": 2000, "B": 500}, years=years)
        rates.append(rate.set_index("area").loc["A", "per_1000"])
    assert all(abs(r - 12 / 2000 * 1000) < 0.02 for r in rates), rates  # leap days


def test_yearly_rate_is_never_extrapolated_from_a_few_days() -> None:
    # Reports through 2026-12-11 and a selection from 2026-12-01: 11 days of data. A rate
    # "per 1 000 and year" from them would multiply the count by 33.
    spec = [(f"2026-{m:02d}-{d:02d}T10:00", "klotter", "A") for m in range(1, 13)
            for d in (1, 11) if (m, d) <= (12, 11)]
    frame = incidents(spec)
    cube = est.incident_cube(frame)
    short = est.covered_years(cube, date(2026, 12, 1), None)
    assert round(short * 365.25) == 11
    recent = frame.loc[(frame["occurred_at"] >= "2026-12-01").to_numpy()]
    rates = est.area_rates(recent, {"A": 1000}, years=short)
    assert rates["per_1000"].isna().all() and rates["count"].tolist() == [2]
    note = est.rate_missing_text(short)
    assert note is not None and "underlag saknas" in note and "11 dagar" in note
    # A quarter (90 days) or more: the rate is computed, from the covered days only.
    start = date(2026, 12, 11) - timedelta(days=est.MIN_RATE_DAYS - 1)
    years = est.covered_years(cube, start, None)
    assert round(years * 365.25) == est.MIN_RATE_DAYS and est.rate_missing_text(years) is None
    part = frame.loc[(frame["occurred_at"] >= pd.Timestamp(start)).to_numpy()]
    rate = est.area_rates(part, {"A": 1000}, years=years)["per_1000"].iloc[0]
    assert rate == pytest.approx(len(part) / 1000 * 1000 / (est.MIN_RATE_DAYS / 365.25))
    assert est.rate_missing_text(float("nan")) is not None
