"""Sections (hjo_data.sections): the view-models the pages, the report and the slides
render, and the Trygghet page's messages when there is no survey to show."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from hjo_data import figures, sections
from hjo_data.disclosure import DisclosureSettings
from hjo_data.promise import Settings
from tests.conftest import canonical, incidents


def _responses(year_counts: dict[int, tuple[int, int, int]]) -> pd.DataFrame:
    """(otrygg, går aldrig ut, trygg) answers per year, alternating gender."""
    rows = []
    for year, (unsafe, never, safe) in year_counts.items():
        answers = ["ganska otrygg"] * unsafe + ["går aldrig ut"] * never + ["ganska trygg"] * safe
        rows += [{"year": year, "area": "Hamnen", "gender": "kvinna" if i % 2 else "man",
                  "age_group": "30–49", "safety_evening": a, "weight": 1.0}
                 for i, a in enumerate(answers)]
    return canonical("survey_responses", rows)


@pytest.mark.parametrize("never_out", [True, False])
def test_safety_sections_follow_the_definition_and_hide_thin_cells(never_out: bool) -> None:
    frames = {"survey_responses": _responses({2023: (3, 1, 6), 2024: (20, 10, 70)})}
    definitions = Settings(otrygg_includes_never_out=never_out)
    shares = sections.survey_shares(frames, definitions)
    public = sections.safety_sections(shares, audience="public",
                                      disclosure=DisclosureSettings(), definitions=definitions,
                                      data_date=date(2024, 12, 31))
    assert [s.key for s in public] == ["tr_total", "tr_kon", "tr_alder", "tr_omrade"]
    total = public[0]
    rows = dict(zip(total.table["År"], total.table["Andel otrygga"], strict=True))
    expected = 30 / 100 if never_out else 20 / 90
    assert rows["2024"].startswith(f"{expected * 100:.1f}".replace(".", ","))
    assert rows["2023"] == "för få svar"  # 10 answers < 30
    assert total.numeric["share"].isna().sum() == 1  # the chart skips the hidden year
    assert ("räknas som otrygg" in total.note) is never_out
    assert total.figure is not None and total.figure.kind == "share_trend"
    fig = figures.build(total.figure)
    assert fig.layout.title.text == sections.SAFETY_TITLE
    official = sections.safety_sections(shares, audience="official",
                                        disclosure=DisclosureSettings(),
                                        definitions=definitions, data_date=None)[0]
    assert official.table.loc[official.table["År"] == "2023", "Andel otrygga"].item() != \
        "för få svar"


def test_empty_views_say_so() -> None:
    shares = sections.survey_shares({}, Settings())
    out = sections.safety_sections(shares, audience="public", disclosure=DisclosureSettings(),
                                   definitions=Settings(), data_date=None)
    assert all(s.is_empty and s.empty for s in out)
    assert sections.problem_years(shares) == []


def test_survey_less_store_says_there_is_no_survey(page_app, store_with) -> None:  # noqa: ANN001
    store_with(incidents=incidents([("2024-05-02T12:00:00", "klotter", "Hamnen")]))
    at = page_app("trygghet")
    at.run()
    assert not at.exception, at.exception
    texts = " ".join(i.value for i in at.info)
    assert "ingen trygghetsmätning i datalagret" in texts
    assert "längre period" not in texts


def test_survey_outside_the_period_suggests_a_longer_period(page_app, store_with) -> None:  # noqa: ANN001
    store_with(survey_responses=_responses({2022: (3, 1, 30)}),
               incidents=incidents([("2024-05-02T12:00:00", "klotter", "Hamnen")]))
    at = page_app("trygghet")
    at.query_params["fran"] = "2024-01-01"
    at.query_params["till"] = "2024-12-31"
    at.run()
    assert not at.exception, at.exception
    texts = " ".join(i.value for i in at.info)
    assert "välj en längre period" in texts


def test_incident_trend_marks_the_partial_last_period() -> None:
    rows = [(f"2024-0{m}-{d:02d}T12:00:00", "klotter", "Hamnen")
            for m in (4, 5) for d in range(1, 11)]
    rows += [("2024-06-10T12:00:00", "klotter", "Hamnen")]  # June: data end on the 14th
    section = sections.incident_trend_section(
        incidents(rows), granularity="M", audience="public",
        disclosure=DisclosureSettings(), data_date=date(2024, 6, 14))
    assert section.table["Period"].tolist() == ["april 2024", "maj 2024",
                                                "juni 2024 (ofullständig)"]
    assert section.table["Antal händelser"].tolist()[2] == "<5"  # 1 incident
    assert section.partial_until == date(2024, 6, 14)
    assert section.numeric["partial"].tolist() == [False, False, True]
    fig = figures.build(section.figure)
    full_bars, partial_bars = fig.data  # the partial period is its own, lighter trace
    assert len(full_bars.x) == 2 and len(partial_bars.x) == 1
    assert partial_bars.name.startswith("ofullständig, t.o.m.")
    assert list(fig.layout.xaxis.ticktext) == ["apr 2024", "maj 2024", "jun 2024"]
    # Data through June 30: nothing is partial.
    full = sections.incident_trend_section(
        incidents(rows), granularity="M", audience="official",
        disclosure=DisclosureSettings(), data_date=date(2024, 6, 30))
    assert full.partial_until is None and not full.numeric["partial"].any()


def test_report_and_slide_show_the_same_activities() -> None:
    from hjo_data import report as rep
    from hjo_data.periods import parse_period
    from hjo_data.slides import build_deck, parse_config
    from tests.conftest import make_promise

    rows = [{"date": datetime(2024, m, 10), "activity_type": "EST-möte"} for m in range(1, 6)]
    rows += [{"date": datetime(2024, 4, 2), "activity_type": "trygghetsvandring"}] * 4
    frames = {"activities": canonical("activities", rows)}
    promise = make_promise([{"id": "g", "title": "G"}], activities=[
        {"id": "est", "title": "EST", "activity_type": "EST-möte", "planned": {"2024": 40}},
        {"id": "tv", "title": "Vandringar", "activity_type": "trygghetsvandring",
         "planned": {"2024": 3}}])
    slide = build_deck(frames, promise, parse_config('[[slides]]\nid = "aktiviteter"\n'),
                       today=date(2024, 12, 31), data_date={"activities": date(2024, 5, 10)},
                       is_demo=False)[0]
    report = rep.build_report(frames, parse_period("2024"), promise=promise,
                              today=date(2024, 12, 31))
    chart = next(c for c in report.charts if c.title == "Aktiviteter i medborgarlöftet")
    table = chart.table.frame.set_index("Aktivitet")
    done = dict(zip(slide.figure.labels, slide.figure.values, strict=True))
    planned = dict(zip(slide.figure.labels, slide.figure.reference, strict=True))
    # counted by hand: 5 EST meetings, 4 walks; planned 40 and 3
    assert done == {"EST-möte": 5.0, "trygghetsvandring": 4.0}
    assert {k: int(v) for k, v in table["Genomförda"].items()} == {k: int(v) for k, v in
                                                                  done.items()}
    assert {k: int(v) for k, v in table["Planerade"].items()} == {k: int(v) for k, v in
                                                                 planned.items()}
    assert slide.big_number == "8 av 43"  # min(5, 40) + min(4, 3)


def test_unga_with_gender_only_data_shows_results_under_alla(page_app, store_with) -> None:  # noqa: ANN001
    store_with(youth=canonical("youth", [
        {"year": y, "grade": "åk 9", "gender": g, "indicator": "alkohol_12m", "share": s,
         "n": 60, "geography": ""}
        for y in (2022, 2024) for g, s in (("kvinna", 0.3), ("man", 0.2))]))
    at = page_app("unga")
    at.run()
    assert not at.exception, at.exception
    assert not any("Inga resultat" in i.value for i in at.info)
    assert any("Andel" in t.value.columns for t in at.dataframe)


def test_youth_comparison_section_hides_thin_shares_and_says_nothing_of_them() -> None:
    """Public mode: a geography with fewer than min_survey_n answers shows "för få svar",
    is NaN in the chart data and is left out of the notes; the others are as given."""
    frame = canonical("youth", [
        {"year": 2024, "grade": "åk 9", "gender": "alla", "indicator": "snus", "share": s,
         "n": n, "geography": geo}
        for geo, s, n in (("Hjo", 0.20, 100), ("Riket", 0.10, 5000), ("Region", 0.50, 10))])
    settings = DisclosureSettings(min_survey_n=30)
    section = sections.youth_comparison_section(
        frame, ("snus",), group="Tobak och nikotin", gender="alla", audience="public",
        disclosure=settings, data_date=None)
    shown = section.table.set_index("Geografi")["Andel"]
    assert shown["Region"] == "för få svar"
    assert shown["Hjo"].startswith("20,0") and shown["Riket"].startswith("10,0")
    numeric = section.numeric.set_index("geography")["share"]
    assert pd.isna(numeric["Region"]) and numeric["Hjo"] == pytest.approx(0.20)
    assert "Riket" in section.note and "Region (" not in section.note
    assert section.figure is not None and section.figure.kind == "ranked_share_bars"
    empty = sections.youth_comparison_section(
        frame[frame["geography"] == "Hjo"], ("snus",), group="Tobak och nikotin",
        gender="alla", audience="public", disclosure=settings, data_date=None)
    assert empty.is_empty and empty.empty == sections.YOUTH_NO_COMPARISON
