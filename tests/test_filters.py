"""Filters: URL round-trip, tolerant parsing, and applying them per dataset."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from hjo_data.filters import Filters, apply_filters
from tests.conftest import canonical, incidents


def test_round_trip_full() -> None:
    f = Filters(start=date(2024, 1, 1), end=date(2024, 3, 31), areas=("Hamnen", "Hjo centrum"),
                categories=("klotter", "brand"), sources=("polis",), granularity="W")
    assert Filters.from_query(f.to_query()) == f


def test_default_has_empty_query_and_round_trips() -> None:
    assert Filters().to_query() == {}
    assert Filters.from_query({}) == Filters()


def test_repeated_parameters_are_accepted() -> None:
    f = Filters.from_query({"kategori": ["klotter", "brand,skadegörelse"], "omrade": "A"})
    assert f.categories == ("klotter", "brand", "skadegörelse")
    assert f.areas == ("A",)


@pytest.mark.parametrize("params", [
    {"fran": "not-a-date"},
    {"fran": "2024-13-40", "till": "x"},
    {"period": "fortnight"},
    {"kategori": "inte-en-kategori"},
    {"kalla": ["", ",,,"]},
    {"fran": "2024-05-01", "till": "2024-01-01"},  # reversed: ignored
    {"fran": 123},  # wrong type
])
def test_invalid_values_are_ignored(params: dict) -> None:
    f = Filters.from_query(params)
    assert f == Filters()


def test_valid_parts_survive_invalid_neighbours() -> None:
    f = Filters.from_query({"fran": "2024-02-01", "kategori": "klotter,bogus",
                            "period": "q"})
    assert f.start == date(2024, 2, 1)
    assert f.categories == ("klotter",)
    assert f.granularity == "Q"


def _inc() -> pd.DataFrame:
    return incidents([
        ("2024-01-31T23:59:00", "klotter", "Hamnen"),
        ("2024-02-01T00:00:00", "brand", "Hamnen"),
        ("2024-02-29T22:00:00", "klotter", "Hjo centrum"),
        ("2024-03-01T00:00:00", "klotter", "Hjo centrum"),
    ])


def test_period_is_inclusive_of_end_day() -> None:
    out = apply_filters(_inc(), "incidents", Filters(start=date(2024, 2, 1),
                                                     end=date(2024, 2, 29)))
    assert list(out["occurred_at"]) == [pd.Timestamp("2024-02-01 00:00"),
                                        pd.Timestamp("2024-02-29 22:00")]


def test_area_category_source_combine() -> None:
    frame = pd.concat([_inc(), incidents([("2024-02-10T10:00:00", "klotter", "Hamnen")],
                                         source="polis")], ignore_index=True)
    f = Filters(areas=("Hamnen",), categories=("klotter",), sources=("polis",))
    out = apply_filters(frame, "incidents", f)
    expected = [r for r in frame.itertuples() if r.area == "Hamnen" and
                r.category == "klotter" and r.source == "polis"]
    assert len(out) == len(expected) == 1


def test_category_filter_not_applied_to_other_datasets() -> None:
    traffic = canonical("traffic", [
        {"date": datetime(2024, 2, 1), "area": "Hamnen", "control_type": "hastighet",
         "vehicles_checked": 10},
        {"date": datetime(2024, 5, 1), "area": "Hamnen", "control_type": "hastighet",
         "vehicles_checked": 12},
    ])
    f = Filters(end=date(2024, 3, 1), categories=("klotter",), sources=("polis",))
    out = apply_filters(traffic, "traffic", f)
    assert out["vehicles_checked"].tolist() == [10]


def test_year_datasets_overlap_period() -> None:
    survey = canonical("survey", [
        {"year": y, "indicator": "otrygg_kvall", "share": 0.2, "n": 100}
        for y in (2021, 2022, 2023, 2024)
    ])
    out = apply_filters(survey, "survey", Filters(start=date(2022, 6, 1),
                                                  end=date(2023, 2, 1)))
    assert out["year"].tolist() == [2022, 2023]


def test_no_filters_returns_same_frame_and_empty_stays_empty() -> None:
    frame = _inc()
    assert apply_filters(frame, "incidents", Filters()) is frame
    empty = frame.iloc[0:0]
    assert apply_filters(empty, "incidents", Filters(areas=("x",))).empty


def test_filter_to_nothing_keeps_columns() -> None:
    out = apply_filters(_inc(), "incidents", Filters(areas=("Ingenstans",)))
    assert out.empty
    assert list(out.columns) == list(_inc().columns)


def test_sorted_slice_and_unsorted_mask_agree() -> None:
    frame = _inc()
    shuffled = frame.iloc[[2, 0, 3, 1]]
    f = Filters(start=date(2024, 2, 1), end=date(2024, 2, 29))
    fast = apply_filters(frame, "incidents", f)  # sorted: positional slice
    slow = apply_filters(shuffled, "incidents", f)  # unsorted: boolean mask
    assert sorted(fast["record_id"]) == sorted(slow["record_id"])
    assert len(fast) == 2


def test_load_bundle_sorts_by_time(tmp_path) -> None:
    from hjo_data.datasource import load_bundle
    from hjo_data.store import Store

    frame = _inc().iloc[[3, 1, 0, 2]]
    Store(tmp_path).append("incidents", frame, "t")
    bundle = load_bundle(tmp_path)
    assert not bundle.is_demo
    assert bundle.frames["incidents"]["occurred_at"].is_monotonic_increasing
    assert bundle.data_date["incidents"] == date(2024, 3, 1)


# --------------------------------------------------------------------------- one semantics


def _edge_incidents() -> pd.DataFrame:
    """Rows on both sides of midnight at the period edges, without a date, without an
    area, from two sources."""
    spec = [("2024-01-31T23:59:59", "klotter", "Hamnen"),
            ("2024-02-01T00:00:00", "brand", "Hamnen"),
            ("2024-02-10T12:00:00", "klotter", "Hjo centrum"),
            ("2024-02-29T23:59:59", "klotter", "Hjo centrum"),
            ("2024-03-01T00:00:00", "skadegörelse", "Hamnen"),
            ("2024-03-15T08:00:00", "brand", "Hjo centrum")]
    frame = pd.concat([incidents(spec), incidents(spec[1:4], source="polis")],
                      ignore_index=True)
    frame.loc[1, "area"] = None
    frame.loc[2, "occurred_at"] = pd.NaT
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    return frame.sort_values("occurred_at", na_position="first", kind="stable")


_CASES = [
    Filters(),
    Filters(start=date(2024, 2, 1), end=date(2024, 2, 29)),
    Filters(start=date(2024, 2, 1)),
    Filters(end=date(2024, 2, 29)),
    Filters(end=date(2024, 1, 31)),
    Filters(start=date(2024, 3, 1), end=date(2024, 3, 1)),
    Filters(areas=("Hamnen",)),
    Filters(categories=("klotter", "brand"), sources=("polis",)),
    Filters(start=date(2024, 2, 1), end=date(2024, 2, 29), areas=("Hjo centrum",),
            categories=("klotter",)),
    Filters.span(date(2024, 2, 1), date(2024, 3, 1)),
]


@pytest.mark.parametrize("flt", _CASES)
def test_cube_select_equals_apply_filters(flt: Filters) -> None:
    from hjo_data.est import incident_cube

    frame = _edge_incidents()
    rows = apply_filters(frame, "incidents", flt)
    cube = incident_cube(frame).select(flt)
    assert cube.total == len(rows)
    for column in ("category", "area", "source"):
        expected = rows[column].fillna("okänt område").value_counts()
        assert cube.counts(column).sort_index().to_dict() == expected.sort_index().to_dict()
    # The keyword form is the same filter.
    assert incident_cube(frame).where(
        start=flt.start, end=flt.end, areas=flt.areas, categories=flt.categories,
        sources=flt.sources).total == len(rows)


def test_end_day_is_inclusive_and_span_end_exclusive() -> None:
    frame = _edge_incidents()
    feb = apply_filters(frame, "incidents", Filters(start=date(2024, 2, 1),
                                                    end=date(2024, 2, 29)))
    # Counted here from the rows: every dated row in February, 23:59:59 on the 29th included.
    times = frame["occurred_at"]
    expected = ((times >= datetime(2024, 2, 1)) & (times < datetime(2024, 3, 1))).sum()
    assert len(feb) == expected and (feb["occurred_at"].dt.month == 2).all()
    span = Filters.span(date(2024, 2, 1), date(2024, 3, 1))
    assert span == Filters(start=date(2024, 2, 1), end=date(2024, 2, 29))
    assert len(apply_filters(frame, "incidents", span)) == expected
