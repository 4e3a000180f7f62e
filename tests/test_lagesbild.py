"""Goal cards and the "Läget just nu" text on hand-made frames.

Expected p-values come from simple reference implementations written here (exact binomial
sum with math.comb; the pooled two-proportion z-test by hand), not from the module.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from hjo_data.est import incidents_per_period
from hjo_data.filters import Filters
from hjo_data.lagesbild import (
    STATUS_BETTER,
    STATUS_NO_DATA,
    STATUS_NOISE,
    STATUS_WORSE,
    goal_cards,
)
from hjo_data.sections import latest_status_text
from tests.conftest import canonical, incidents, make_promise

TODAY = date(2024, 6, 15)  # latest complete month: May 2024


def ref_poisson_p(c1: int, c2: int, e1: float, e2: float) -> float:
    """Exact conditional test, as documented on Om data: given n = c1 + c2, c2 is
    Binomial(n, e2 / (e1 + e2)); two-sided p = twice the smaller tail (at most 1)."""
    n, p = c1 + c2, e2 / (e1 + e2)
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return min(1.0, 2 * min(sum(pmf[:c2 + 1]), sum(pmf[c2:])))


def ref_fisher_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact test: tables with the same margins no likelier than seen."""
    m = x1 + x2
    def prob(k: int) -> float:
        return math.comb(n1, k) * math.comb(n2, m - k) / math.comb(n1 + n2, m)
    seen = prob(x1)
    return sum(prob(k) for k in range(max(0, m - n2), min(n1, m) + 1)
               if prob(k) <= seen * (1 + 1e-9))


def ref_z_p(p1: float, n1: int, p2: float, n2: int) -> float:
    pool = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    return 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))


def spread(category: str, month_start: date, count: int, area: str = "Hamnen") -> list:
    """``count`` incidents spread over the first 28 days of a month."""
    return [((datetime.combine(month_start, datetime.min.time())
              + timedelta(days=i % 28, hours=12)).isoformat(), category, area)
            for i in range(count)]


def frames() -> dict[str, pd.DataFrame]:
    rows = (spread("motorburen problematik", date(2024, 4, 1), 10)
            + spread("motorburen problematik", date(2024, 5, 1), 40)
            + spread("skadegörelse", date(2024, 4, 1), 20)
            + spread("skadegörelse", date(2024, 5, 1), 22)
            # one June incident makes the data run into the (incomplete) current month
            + [("2024-06-14T10:00:00", "klotter", "Hamnen")])
    survey = canonical("survey", [
        {"year": 2022, "indicator": "otrygg_kvall", "group": "Totalt",
         "area": "Hela kommunen", "share": 0.30, "n": 400},
        {"year": 2024, "indicator": "otrygg_kvall", "group": "Totalt",
         "area": "Hela kommunen", "share": 0.20, "n": 400},
        # a breakdown row that must not be mixed into the total
        {"year": 2024, "indicator": "otrygg_kvall", "group": "kvinna",
         "area": "Hela kommunen", "share": 0.90, "n": 50},
    ])
    activities = canonical("activities", [
        {"date": datetime(2022, 5, 1), "activity_type": "trygghetsvandring",
         "area": "Hamnen", "actions_decided": 10, "actions_done": 5},
        {"date": datetime(2023, 5, 1), "activity_type": "trygghetsvandring",
         "area": "Hamnen", "actions_decided": 10, "actions_done": 6},
    ])
    return {"incidents": incidents(rows), "survey": survey, "activities": activities}


PROMISE = make_promise([
    {"id": "trygg", "title": "Trygg plats", "indicators": [
        {"id": "motor", "label": "Motorburen problematik", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "count",
                  "category": "motorburen problematik"}},
        {"id": "skade", "label": "Skadegörelse", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "count", "category": "skadegörelse"}},
        {"id": "skade_rate", "label": "Skadegörelse per 1 000 invånare", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "rate_per_1000",
                  "category": "skadegörelse"}},
        {"id": "otrygg", "label": "Andel otrygga", "direction": "down",
         "spec": {"dataset": "survey", "measure": "share", "indicator": "otrygg_kvall"}},
    ]},
    {"id": "samverkan", "title": "Samverkan", "indicators": [
        {"id": "atgardat", "label": "Andel åtgärdade", "direction": "up",
         "spec": {"dataset": "activities", "measure": "share_done",
                  "activity_type": "trygghetsvandring"}},
        {"id": "unga", "label": "Berusad åk 9", "direction": "down",
         "spec": {"dataset": "youth", "measure": "share", "indicator": "berusad_4v",
                  "grade": "åk 9"}},
    ]},
])


@pytest.fixture(scope="module")
def cards():
    return goal_cards(frames(), PROMISE, Filters(), TODAY, population=9_000)


def by_id(cards, ind_id):
    return next(i for c in cards for i in c.indicators if i.indicator_id == ind_id)


def test_one_card_per_goal(cards) -> None:
    assert [c.goal_id for c in cards] == ["trygg", "samverkan"]
    assert [len(c.indicators) for c in cards] == [4, 2]


def test_count_change_beyond_noise_is_worse(cards) -> None:
    ind = by_id(cards, "motor")
    assert (ind.previous_value, ind.latest_value) == (10, 40)
    assert ind.latest_period == "maj 2024" and ind.previous_period == "april 2024"
    assert ind.change.p_value == pytest.approx(ref_poisson_p(10, 40, 30, 31), rel=1e-6)
    assert ind.change.significant
    assert ind.status == STATUS_WORSE  # more incidents, desired direction down


def test_count_change_within_noise(cards) -> None:
    ind = by_id(cards, "skade")
    assert (ind.previous_value, ind.latest_value) == (20, 22)
    assert ind.change.p_value == pytest.approx(ref_poisson_p(20, 22, 30, 31), rel=1e-6)
    assert not ind.change.significant
    assert ind.status == STATUS_NOISE


def test_rate_per_1000(cards) -> None:
    ind = by_id(cards, "skade_rate")
    assert ind.latest_value == pytest.approx(22 / 9_000 * 1000)
    assert ind.previous_value == pytest.approx(20 / 9_000 * 1000)
    assert ind.denominator == "befolkning 9\u00a0000 invånare"


def test_survey_share_uses_total_row_and_z_test(cards) -> None:
    ind = by_id(cards, "otrygg")
    assert (ind.previous_value, ind.latest_value) == (0.30, 0.20)
    assert (ind.previous_period, ind.latest_period) == ("2022", "2024")
    assert ind.change.p_value == pytest.approx(ref_z_p(0.30, 400, 0.20, 400), rel=1e-6)
    assert ind.status == STATUS_BETTER
    assert ind.denominator.startswith("n = 400")


def test_share_done_ratio(cards) -> None:
    ind = by_id(cards, "atgardat")
    assert (ind.previous_value, ind.latest_value) == (0.5, 0.6)
    # 5 of 10 vs 6 of 10: expected cells below 5, so Fisher's exact test (as on Om data)
    assert ind.change.p_value == pytest.approx(ref_fisher_p(5, 10, 6, 10), rel=1e-6)
    assert ind.change.test == "Fishers exakta test"
    assert ind.status == STATUS_NOISE


def test_missing_dataset_is_no_data(cards) -> None:
    assert by_id(cards, "unga").status == STATUS_NO_DATA


def test_latest_status_text_names_only_changes_beyond_noise(cards) -> None:
    text = latest_status_text(cards)
    assert "Motorburen problematik har ökat från 10" in text
    assert "till 40" in text and "utanför slumpvariationen" in text
    assert "Andel otrygga har minskat från 30,0\u00a0% (2022) till 20,0\u00a0% (2024)" in text
    assert "Skadegörelse" not in text  # within noise: not named
    assert "Andel åtgärdade" not in text


def test_latest_status_text_says_when_nothing_changed() -> None:
    quiet = {"incidents": incidents(spread("klotter", date(2024, 4, 1), 15)
                                    + spread("klotter", date(2024, 5, 1), 16)
                                    + [("2024-06-01T10:00:00", "klotter", "Hamnen")])}
    promise = make_promise([{"id": "g", "title": "G", "indicators": [
        {"id": "k", "label": "Klotter", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "count", "category": "klotter"}}]}])
    cards = goal_cards(quiet, promise, Filters(), TODAY)
    assert cards[0].indicators[0].status == STATUS_NOISE
    text = latest_status_text(cards)
    assert "Klotter" not in text
    assert "Ingen indikator har förändrats mer än vad slumpen kan förklara" in text


def test_filter_end_moves_the_comparison() -> None:
    cards = goal_cards(frames(), PROMISE, Filters(end=date(2024, 4, 30)), TODAY,
                       population=9_000)
    ind = by_id(cards, "motor")
    assert ind.latest_period == "april 2024"
    assert ind.latest_value == 10
    assert ind.previous_value is None  # no data before April: nothing to compare with
    assert ind.status == STATUS_NOISE


def test_quarter_granularity() -> None:
    data = frames()
    # Data up to 2024-06-14 only: Q2 is incomplete, Q1 has no data before it -> no data.
    cards = goal_cards(data, PROMISE, Filters(granularity="Q"), date(2024, 7, 2))
    assert by_id(cards, "motor").status == STATUS_NO_DATA
    # Data through the last day of June: Q2 is the latest complete quarter.
    data["incidents"] = pd.concat([data["incidents"], incidents(
        [("2024-06-30T18:00:00", "klotter", "Hamnen")])], ignore_index=True)
    cards = goal_cards(data, PROMISE, Filters(granularity="Q"), date(2024, 7, 2))
    ind = by_id(cards, "motor")
    assert ind.latest_period == "K2 2024"
    assert ind.latest_value == 50


def test_real_promise_file_gives_valid_cards() -> None:
    from hjo_data.promise import load_promise

    promise = load_promise()
    cards = goal_cards(frames(), promise, Filters(), TODAY, population=9_000)
    assert [c.goal_id for c in cards] == [g.id for g in promise.goals]
    statuses = {i.status for c in cards for i in c.indicators}
    assert statuses <= {STATUS_BETTER, STATUS_WORSE, STATUS_NOISE, STATUS_NO_DATA}
    motor = by_id(cards, "motorburen")
    assert motor.latest_value == pytest.approx(40 / 9_000 * 1000)




def test_incidents_per_period_fills_gaps() -> None:
    frame = incidents(spread("klotter", date(2024, 1, 1), 3)
                      + spread("brand", date(2024, 3, 1), 2))
    table = incidents_per_period(frame, "M")
    assert table["period"].tolist() == ["januari 2024", "februari 2024", "mars 2024"]
    assert table["antal"].tolist() == [3, 0, 2]
    weekly = incidents_per_period(frame, "W")
    assert weekly["antal"].sum() == 5
    assert (pd.to_datetime(weekly["period_start"]).dt.day_of_week == 0).all()


@pytest.mark.parametrize("never_out", [True, False])
def test_survey_card_follows_the_promise_definition(never_out: bool) -> None:
    """The card's share is the promise's definition, counted here by hand (weights 1)."""
    answers = ["mycket trygg", "ganska otrygg", "går aldrig ut", "mycket otrygg",
               "ganska trygg", "ganska trygg"]
    rows = [{"year": 2023 + (i % 2), "area": "Hamnen", "gender": "kvinna",
             "age_group": "30–49", "safety_evening": answers[i % len(answers)],
             "weight": 1.0} for i in range(60)]
    responses = canonical("survey_responses", rows)
    promise = make_promise([{"id": "g", "title": "G", "indicators": [
        {"id": "o", "label": "Otrygga", "direction": "down",
         "spec": {"dataset": "survey", "measure": "share", "indicator": "otrygg_kvall"}}]}],
        settings={"otrygg_includes_never_out": never_out})
    ind = goal_cards({"survey_responses": responses}, promise, Filters(), TODAY)[0].indicators[0]
    latest = [r["safety_evening"] for r in rows if r["year"] == 2024]
    unsafe = sum(a in ("ganska otrygg", "mycket otrygg") for a in latest)
    never = sum(a == "går aldrig ut" for a in latest)
    expected = (unsafe + never) / len(latest) if never_out else unsafe / (len(latest) - never)
    assert ind.latest_value == pytest.approx(expected)
    assert ind.n == (len(latest) if never_out else len(latest) - never)


def test_youth_split_only_by_gender_pools_the_gender_rows() -> None:
    """No "alla" row: the card pools kvinna and man weighted by n (the share of everyone
    who answered), instead of "ingen data"."""
    youth = canonical("youth", [
        {"year": y, "grade": "åk 9", "gender": g, "indicator": "berusad_4v", "share": s,
         "n": n, "geography": ""}
        for y, g, s, n in ((2022, "kvinna", 0.10, 100), (2022, "man", 0.20, 50),
                           (2024, "kvinna", 0.30, 80), (2024, "man", 0.10, 120))])
    ind = by_id(goal_cards({"youth": youth}, PROMISE, Filters(), TODAY, population=9_000),
                "unga")
    assert ind.status != STATUS_NO_DATA
    assert ind.latest_value == pytest.approx((0.30 * 80 + 0.10 * 120) / 200)
    assert ind.previous_value == pytest.approx((0.10 * 100 + 0.20 * 50) / 150)
    assert (ind.n, ind.previous_n) == (200, 150)


def test_compact_incidents_give_the_same_cards_and_trend() -> None:
    from hjo_data.est import compact_incidents
    from hjo_data.lagesbild import incident_filter_columns

    data = frames()
    compact = {**data, "incidents": compact_incidents(
        data["incidents"], incident_filter_columns(PROMISE))}
    assert compact["incidents"]["_n"].sum() == len(data["incidents"])
    assert len(compact["incidents"]) < len(data["incidents"])
    full = goal_cards(data, PROMISE, Filters(), TODAY, population=9_000)
    small = goal_cards(compact, PROMISE, Filters(), TODAY, population=9_000)
    for a, b in zip([i for c in full for i in c.indicators],
                    [i for c in small for i in c.indicators], strict=True):
        assert (a.latest_value, a.previous_value, a.status) == (
            b.latest_value, b.previous_value, b.status)
    for gran in ("W", "M", "Q"):
        pd.testing.assert_frame_equal(incidents_per_period(data["incidents"], gran),
                                      incidents_per_period(compact["incidents"], gran))


# --------------------------------------------------------------------------- audience


def _one(spec: dict, frames_: dict, today: date = TODAY):
    promise = make_promise([{"id": "g", "title": "G", "indicators": [spec]}])
    return goal_cards(frames_, promise, Filters(), today, population=10_000)[0].indicators[0]


def test_indicator_texts_hide_small_counts_and_rates_publicly() -> None:
    from hjo_data.disclosure import DisclosureSettings
    from hjo_data.sections import indicator_texts

    # April 2 klotter, May 9: the count and the rate of April reveal 2.
    rows = spread("klotter", date(2024, 4, 1), 2) + spread("klotter", date(2024, 5, 1), 9)
    rows += [("2024-06-14T10:00:00", "brand", "Hamnen")]
    data = {"incidents": incidents(rows)}
    count = _one({"id": "k", "label": "Klotter", "direction": "down",
                  "spec": {"dataset": "incidents", "measure": "count", "category": "klotter"}},
                 data)
    rate = _one({"id": "r", "label": "Klotter per 1 000", "direction": "down",
                 "spec": {"dataset": "incidents", "measure": "rate_per_1000",
                          "category": "klotter"}}, data)
    assert (count.count, count.previous_count) == (9, 2)
    pub = indicator_texts(count, "public")
    assert (pub.latest, pub.previous, pub.previous_hidden) == ("9", "<5", True)
    off = indicator_texts(count, "official")
    assert (off.latest, off.previous) == ("9", "2")
    pub_rate = indicator_texts(rate, "public")
    assert pub_rate.previous_full == "<5 händelser per månad"
    assert pub_rate.latest == "0,9"  # 9 / 10 000 * 1 000, not small
    assert indicator_texts(rate, "official").previous == "0,2"
    # A higher threshold from the promise settings hides 9 as well.
    strict = indicator_texts(count, "public", DisclosureSettings(threshold=10))
    assert (strict.latest, strict.previous) == ("<10", "<10")


def test_indicator_texts_too_few_answers() -> None:
    from hjo_data.sections import indicator_texts

    survey = canonical("survey", [
        {"year": y, "indicator": "otrygg_kvall", "group": "Totalt", "area": "Hela kommunen",
         "share": s, "n": n} for y, s, n in ((2022, 0.3, 29), (2023, 0.2, 30))])
    ind = _one({"id": "o", "label": "Otrygga", "direction": "down",
                "spec": {"dataset": "survey", "measure": "share",
                         "indicator": "otrygg_kvall"}},
               {"survey": survey})
    assert (ind.n, ind.previous_n) == (30, 29)
    t = indicator_texts(ind, "public")
    assert (t.latest, t.previous) == ("20,0\u00a0%", "för få svar")


def test_public_status_text_has_no_small_count() -> None:
    rows = spread("klotter", date(2024, 4, 1), 1) + spread("klotter", date(2024, 5, 1), 14)
    rows += [("2024-06-14T10:00:00", "brand", "Hamnen")]
    promise = make_promise([{"id": "g", "title": "G", "indicators": [
        {"id": "k", "label": "Klotter", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "count", "category": "klotter"}}]}])
    cards = goal_cards({"incidents": incidents(rows)}, promise, Filters(), TODAY,
                       population=10_000)
    public = latest_status_text(cards)  # public is the default
    # April's 1 is hidden, so the change is not assessed in public (docs/PRIVACY.md).
    assert "Klotter" not in public and "utanför slumpvariationen" not in public
    assert "1 indikator bygger på för få händelser eller svar för en bedömning." in public
    assert "från 1 " not in public
    assert "från 1 (april 2024)" in latest_status_text(cards, "official")


def test_yearly_counts_and_ratios_compare_complete_years_only() -> None:
    acts = canonical("activities", [
        {"date": datetime(y, 5, 1), "activity_type": "trygghetsvandring", "area": "Hamnen",
         "findings": 10, "actions_decided": 10, "actions_done": done}
        for y, done in ((2022, 5), (2023, 8), (2024, 1))])
    count = _one({"id": "c", "label": "Vandringar", "direction": "up",
                  "spec": {"dataset": "activities", "measure": "count",
                           "activity_type": "trygghetsvandring"}},
                 {"activities": acts})
    ratio = _one({"id": "r", "label": "Åtgärdade", "direction": "up",
                  "spec": {"dataset": "activities", "measure": "share_done",
                           "activity_type": "trygghetsvandring"}}, {"activities": acts})
    # TODAY is 2024-06-15: 2024 is not complete, so 2023 is compared with 2022.
    assert (count.latest_period, count.previous_period) == ("2023", "2022")
    assert (ratio.latest_period, ratio.previous_period) == ("2023", "2022")
    assert ratio.latest_value == pytest.approx(8 / 10)
    assert (ratio.count, ratio.n) == (8, 10)
    # On the last day of 2024 the year is complete.
    late = _one({"id": "r", "label": "Åtgärdade", "direction": "up",
                 "spec": {"dataset": "activities", "measure": "share_done",
                          "activity_type": "trygghetsvandring"}}, {"activities": acts},
                today=date(2024, 12, 31))
    assert late.latest_period == "2024"


def test_no_promise_means_no_goal_cards_and_plain_filter_columns() -> None:
    """``promise=None`` (no promise could be read) is "no promise", not built-in goals."""
    from hjo_data import lagesbild
    from hjo_data.lagesbild import incident_filter_columns

    assert goal_cards(frames(), None, Filters(), TODAY, population=9_000) == []
    assert incident_filter_columns(None) == ("category", "source")
    # The goals live only in the promise file.
    assert not hasattr(lagesbild, "DEFAULT_PROMISE")
    # A promise's own incident filters are added (so None really drops them).
    area_promise = make_promise([{"id": "g", "title": "G", "indicators": [
        {"id": "i", "label": "I", "direction": "down",
         "spec": {"dataset": "incidents", "measure": "count", "area": "Hamnen"}}]}])
    assert incident_filter_columns(area_promise) == ("category", "source", "area")


def test_population_for_year_reads_the_reference_file_and_never_raises(tmp_path,  # noqa: ANN001
                                                                        monkeypatch) -> None:
    from hjo_data.lagesbild import population_for_year

    (tmp_path / "population.csv").write_text(
        "year,area,population\n2023,Hela kommunen,9100\n2025,Hela kommunen,9300\n"
        "2025,Centrum,1400\n", encoding="utf-8")
    monkeypatch.setenv("HJO_REFERENCE_DIR", str(tmp_path))
    assert population_for_year(2025) == 9300  # the total row, never total + areas
    assert population_for_year(2030) == 9300  # newest figure for later years
    (tmp_path / "population.csv").write_text("year,area,population\n2025,Centrum,1400\n",
                                             encoding="utf-8")
    assert population_for_year(2025) is None  # no total: rates say "underlag saknas"


def test_test_text_shows_p_only_to_officials(cards) -> None:  # noqa: ANN001
    from hjo_data.sections import test_text

    ind = by_id(cards, "motor")
    assert test_text(ind, "public") == ind.change.test
    official = test_text(ind, "official")
    assert official.startswith(f"{ind.change.test}, p = ")
    assert "," in official.split("p = ")[1]  # decimal comma
