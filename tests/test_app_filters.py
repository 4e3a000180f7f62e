"""The sidebar filters (ui/filters.py): only filters that apply to a page's data, a period
widget spanning the page's own data, and every filter kept across page changes."""

from __future__ import annotations

from datetime import date

import pytest

from hjo_data.filters import Filters
from tests.conftest import canonical, incidents

INCIDENTS = [("2024-03-04T10:00:00", "klotter", "Hamnen"),
             ("2024-05-20T12:00:00", "skadegörelse", "Hjo centrum"),
             ("2024-05-28T12:00:00", "klotter", "Hamnen")]


def _youth(years: range) -> object:
    return canonical("youth", [{"year": y, "indicator": "alkohol_12m", "grade": "åk 9",
                                "gender": "alla", "share": 0.3, "n": 120} for y in years])


def _query(at: object, key: str) -> str | None:
    value = at.query_params.get(key)  # type: ignore[attr-defined]
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize(("page", "has_granularity"), [("lagesbild", True),
                                                       ("handelser", False),
                                                       ("trygghet", False),
                                                       ("unga", False),
                                                       ("trafik", False),
                                                       ("aktiviteter", False)])
def test_tidsindelning_only_where_the_page_draws_per_period(page_app, page: str,
                                                           has_granularity: bool) -> None:
    at = page_app(page).run()
    assert not at.exception
    labels = [s.label for s in at.selectbox]
    assert ("Tidsindelning" in labels) is has_granularity, labels


def test_period_widget_spans_the_pages_own_data(page_app, store_with) -> None:
    """Youth data from 2019 must not stretch Händelser's period widget back to 2019 when
    the incidents start in March 2024 (the charts start there)."""
    store_with(incidents=incidents(INCIDENTS), youth=_youth(range(2019, 2025)))
    at = page_app("handelser").run()
    assert not at.exception
    first = min(date.fromisoformat(t[:10]) for t, _, _ in INCIDENTS)
    last = max(date.fromisoformat(t[:10]) for t, _, _ in INCIDENTS)
    assert tuple(at.date_input(key="hjo_flt_period").value) == (first, last)
    young = page_app("unga").run()
    assert not young.exception
    assert tuple(young.date_input(key="hjo_flt_period").value) == (date(2019, 1, 1),
                                                                   date(2024, 12, 31))


def test_a_period_outside_the_page_is_shown_as_chosen(page_app, store_with) -> None:
    """A period chosen on Unga (from 2020) is shown as it is on Händelser (whose data start
    in 2024), not clipped, so it stays the same for the next page unless changed here;
    the first/last day of the page's data mean "no limit"."""
    store_with(incidents=incidents(INCIDENTS), youth=_youth(range(2019, 2025)))
    at = page_app("handelser")
    at.query_params["fran"] = "2020-01-01"
    at.run()
    assert not at.exception
    assert tuple(at.date_input(key="hjo_flt_period").value) == (date(2020, 1, 1),
                                                                date(2024, 5, 28))
    assert _query(at, "fran") == "2020-01-01"
    at.date_input(key="hjo_flt_period").set_value((date(2024, 5, 1), date(2024, 5, 28)))
    at.run()
    assert not at.exception
    assert (_query(at, "fran"), _query(at, "till")) == ("2024-05-01", None)
    at.date_input(key="hjo_flt_period").set_value((date(2024, 3, 4), date(2024, 5, 20)))
    at.run()
    assert (_query(at, "fran"), _query(at, "till")) == (None, "2024-05-20")


def test_filters_survive_a_page_change(page_app, store_with) -> None:
    """Streamlit starts a widget on another page from its default, whatever the session
    holds under its key: the area chosen on Händelser was lost on Trafik. The filters
    remembered in the session seed the widgets of the new page."""
    store_with(incidents=incidents(INCIDENTS))
    at = page_app("trafik")
    at.session_state["_hjo_filters"] = Filters(areas=("Hamnen",), categories=("klotter",),
                                               granularity="Q")
    at.session_state["_hjo_filters_page"] = "Händelser (EST)"  # the page left behind
    at.session_state["hjo_flt_area"] = []  # a stale widget value of that page
    at.run()
    assert not at.exception
    assert at.multiselect(key="hjo_flt_area").value == ["Hamnen"]
    # Category and granularity do not apply on Trafik: kept for the next page (URL).
    assert _query(at, "omrade") == "Hamnen"
    assert (_query(at, "kategori"), _query(at, "period")) == ("klotter", "Q")
