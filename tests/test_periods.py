"""The calendar (hjo_data.periods) against independent computations: ``date.isocalendar``,
``date.fromisocalendar``, day-by-day walks and plain arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from hjo_data import periods
from hjo_data.formatting import SWEDISH_MONTHS

GRANS = ("W", "M", "Q", "Y")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


#: Every day of 2019..2027 (ISO years 2020 and 2026 have week 53; 2020 and 2024 are leap).
ALL_DAYS = _days(date(2019, 12, 20), date(2027, 1, 10))


def _key(d: date, gran: str) -> tuple[int, int]:
    """Independent period identity of a day."""
    if gran == "W":
        iso = d.isocalendar()
        return iso[0], iso[1]
    if gran == "M":
        return d.year, d.month
    if gran == "Q":
        return d.year, (d.month - 1) // 3
    return d.year, 0


@pytest.mark.parametrize("gran", GRANS)
def test_period_start_and_end_match_a_day_by_day_walk(gran: str) -> None:
    # A period is a maximal run of consecutive days with the same independent key.
    runs: dict[tuple[int, int], list[date]] = {}
    for d in ALL_DAYS:
        runs.setdefault(_key(d, gran), []).append(d)
    inner = list(runs.values())[1:-1]  # the first and last run are cut by the range
    assert inner
    for days in inner:
        for d in (days[0], days[len(days) // 2], days[-1]):
            assert periods.period_start(d, gran) == days[0]
            assert periods.next_start(d, gran) == days[-1] + timedelta(days=1)
            assert periods.last_day(d, gran) == days[-1]
            assert periods.period_bounds(d, gran) == (days[0], days[-1] + timedelta(days=1))
        assert periods.previous_start(days[0], gran) == periods.period_start(
            days[0] - timedelta(days=1), gran)


def test_iso_weeks_53_and_weeks_crossing_years() -> None:
    for iso_year in range(2015, 2032):
        has_53 = date(iso_year, 12, 28).isocalendar()[1] == 53  # Dec 28 is always in the last
        monday = date.fromisocalendar(iso_year, 53 if has_53 else 52, 1)
        assert periods.period_start(monday + timedelta(days=6), "W") == monday
        label = periods.period_label(monday, "W")
        assert label == f"v. {53 if has_53 else 52} {iso_year}"
        # The next week is week 1 of the next ISO year, even when it starts in December.
        nxt = periods.next_start(monday, "W")
        assert nxt == date.fromisocalendar(iso_year + 1, 1, 1)
        assert periods.period_label(nxt, "W") == f"v. 1 {iso_year + 1}"
    assert {y for y in range(2015, 2032) if date(y, 12, 28).isocalendar()[1] == 53} >= {2020,
                                                                                       2026}
    # 2021-01-03 (a Sunday) belongs to week 53 of 2020; 2024-12-30 opens week 1 of 2025.
    assert periods.period_label(date(2021, 1, 3), "W") == "v. 53 2020"
    assert periods.period_code(date(2024, 12, 30), "W") == "2025-W01"


def test_quarter_ends_and_leap_years() -> None:
    for year in (2023, 2024, 2100, 2000):
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        assert periods.last_day(date(year, 2, 10), "M") == date(year, 2, 29 if leap else 28)
        assert periods.last_day(date(year, 2, 10), "Q") == date(year, 3, 31)
        assert periods.last_day(date(year, 5, 10), "Q") == date(year, 6, 30)
        assert periods.last_day(date(year, 8, 10), "Q") == date(year, 9, 30)
        assert periods.last_day(date(year, 11, 10), "Q") == date(year, 12, 31)
        q_days = sum((periods.next_start(date(year, m, 1), "Q") - date(year, m, 1)).days
                     for m in (1, 4, 7, 10))
        assert q_days == (366 if leap else 365)
    assert periods.next_start(date(2024, 12, 31), "Q") == date(2025, 1, 1)
    assert periods.period_label(date(2024, 12, 31), "Q") == "K4 2024"


def test_labels_are_swedish() -> None:
    for month in range(1, 13):
        assert periods.period_label(date(2024, month, 17), "M") == \
            f"{SWEDISH_MONTHS[month - 1]} 2024"
    assert periods.period_label(date(2024, 5, 2), "M") == "maj 2024"
    assert periods.period_label(date(2024, 5, 2), "Y") == "2024"


@pytest.mark.parametrize("gran", GRANS)
def test_shift_and_range_agree_with_repeated_next_start(gran: str) -> None:
    start = periods.period_start(date(2019, 12, 30), gran)
    walk = [start]
    for _ in range(30):
        walk.append(periods.next_start(walk[-1], gran))
    assert [periods.shift(start, gran, i) for i in range(31)] == walk
    assert [periods.shift(walk[-1], gran, -i) for i in range(31)] == walk[::-1]
    got = periods.period_range(walk[0] + timedelta(days=1), walk[-1], gran)
    assert [t.date() for t in got] == walk
    assert str(got.dtype) == "datetime64[us]"
    assert periods.periods_back(walk[-1], gran, 5) == walk[-5:]
    assert len(periods.period_range(walk[3], walk[1], gran)) == 0


@pytest.mark.parametrize("gran", GRANS)
def test_vectorised_starts_equal_scalar_starts(gran: str) -> None:
    rng = np.random.default_rng(7)
    offsets = rng.integers(0, len(ALL_DAYS) * 24 * 60, size=500)
    times = pd.Series(pd.Timestamp("2019-12-20") + pd.to_timedelta(offsets, unit="min"))
    times.iloc[5] = pd.NaT
    got = periods.period_starts(times, gran)
    assert str(got.dtype) == "datetime64[us]"
    assert pd.isna(got.iloc[5])
    expected = [pd.NaT if pd.isna(t) else pd.Timestamp(periods.period_start(t, gran))
                for t in times]
    assert got.tolist()[:5] == expected[:5]
    assert got.drop(index=5).tolist() == [e for i, e in enumerate(expected) if i != 5]


@pytest.mark.parametrize(("as_of", "gran", "start", "end"), [
    (date(2024, 5, 5), "W", date(2024, 4, 29), date(2024, 5, 6)),   # Sunday: v. 18 covered
    (date(2024, 5, 4), "W", date(2024, 4, 22), date(2024, 4, 29)),  # Saturday: v. 17
    (date(2024, 5, 31), "M", date(2024, 5, 1), date(2024, 6, 1)),
    (date(2024, 5, 30), "M", date(2024, 4, 1), date(2024, 5, 1)),
    (date(2024, 2, 29), "M", date(2024, 2, 1), date(2024, 3, 1)),   # leap day ends February
    (date(2024, 3, 31), "Q", date(2024, 1, 1), date(2024, 4, 1)),
    (date(2024, 12, 30), "Y", date(2023, 1, 1), date(2024, 1, 1)),
    (date(2024, 12, 31), "Y", date(2024, 1, 1), date(2025, 1, 1)),
])
def test_latest_complete_period(as_of: date, gran: str, start: date, end: date) -> None:
    assert periods.latest_complete_period(as_of, gran) == (start, end)
    assert periods.is_complete(start, gran, as_of)
    assert not periods.is_complete(end, gran, as_of)


@pytest.mark.parametrize("gran", GRANS)
def test_partial_mask_equals_is_complete(gran: str) -> None:
    starts = periods.period_range(date(2023, 11, 1), date(2025, 2, 1), gran)
    for until in (date(2024, 12, 31), date(2024, 12, 29), date(2024, 2, 29)):
        for since in (None, date(2023, 11, 15)):
            mask = periods.partial_mask(pd.Series(starts), gran, until, since)
            # Independent: a period is partial when a day of it is outside [since, until].
            expected = [any(d > until or (since is not None and d < since)
                            for d in _days(s.date(), periods.last_day(s, gran)))
                        for s in starts]
            assert mask.tolist() == expected
            assert mask.tolist() == [not periods.is_complete(s, gran, until, since)
                                     for s in starts]


def test_reference_day_is_the_last_covered_day_clipped_by_today_and_end() -> None:
    today = date(2026, 12, 3)
    assert periods.reference_day(date(2026, 11, 20), today=today) == date(2026, 11, 20)
    assert periods.reference_day(date(2027, 1, 5), today=today) == today  # never after today
    assert periods.reference_day(None, today=today) == today
    assert periods.reference_day(date(2026, 11, 20), today=today,
                                 end=date(2026, 6, 30)) == date(2026, 6, 30)
    assert periods.reference_day(None, today=today, end=date(2026, 6, 30)) == date(2026, 6, 30)
    frames = {"incidents": pd.DataFrame({"occurred_at": pd.to_datetime(
        ["2026-10-01 10:00", "2026-11-20 23:59", None])})}
    assert periods.last_data_day(frames) == date(2026, 11, 20)
    assert periods.last_data_day(frames, "traffic") is None
    assert periods.last_data_day({"incidents": frames["incidents"].iloc[:0]}) is None


def test_report_period_codes_round_trip_and_default_to_a_complete_period() -> None:
    for gran in GRANS:
        for d in (date(2020, 12, 31), date(2021, 1, 3), date(2024, 2, 29)):
            period = periods.parse_period(periods.period_code(d, gran))
            assert period.start == periods.period_start(d, gran)
            assert period.end == periods.next_start(d, gran)
            assert period.code == periods.period_code(d, gran)
    # 3 days into December: the picker offers December but preselects November.
    codes, default = periods.report_choices(date(2026, 12, 3), "M")
    assert codes[:2] == ["2026-12", "2026-11"]
    assert codes[default] == "2026-11"
    assert "ofullständig" in periods.choice_label(codes[0], date(2026, 12, 3))
    assert periods.choice_label(codes[1], date(2026, 12, 3)) == "november 2026"
    # On the last day of a month the data cover all of it: that month is the default.
    codes, default = periods.report_choices(date(2026, 11, 30), "M")
    assert codes[default] == "2026-11"
    # A week whose Sunday is covered is complete.
    codes, default = periods.report_choices(date(2026, 11, 29), "W")
    assert codes[default] == periods.period_code(date(2026, 11, 29), "W")


def test_named_periods() -> None:
    as_of = date(2026, 12, 3)
    assert periods.named_period("latest_month", as_of)[:2] == (date(2026, 11, 1),
                                                               date(2026, 12, 1))
    start, end, label = periods.named_period("year_to_date", as_of)
    assert (start, end) == (date(2026, 1, 1), date(2026, 12, 4))
    assert "t.o.m. 2026-12-03" in label
    assert periods.partial_text(as_of) == "ofullständig, t.o.m. 2026-12-03"


def test_unknown_granularity() -> None:
    with pytest.raises(ValueError, match="okänd periodlängd"):
        periods.period_start(date(2024, 1, 1), "D")
