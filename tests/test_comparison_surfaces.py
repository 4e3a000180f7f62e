"""The official-statistics comparison on every surface: the section (page), the report,
the jamforelse slide and the Lägesbild goal cards show the same numbers, counted by hand
from the fixture below."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from hjo_data import comparison as cmp
from hjo_data import demo, periods, sections
from hjo_data.disclosure import DisclosureSettings
from hjo_data.promise import load_promise
from hjo_data.report import build_report
from hjo_data.slides import SlideConfigError, build_deck, config_from_mapping

TODAY = date(2025, 6, 15)
RATE = "antal/100 000 inv"
# N07403 (Kolada: rates only) and BRÅ drug offences (rate with its count in n)
ROWS = [
    ("kolada", "N07403", "1497", "Hjo", "2023", 700.0, math.nan),
    ("kolada", "N07403", "1497", "Hjo", "2024", 612.3, math.nan),
    ("kolada", "N07403", "0014", "Västra Götalands län", "2024", 1010.2, math.nan),
    ("kolada", "N07403", "0000", "Riket", "2024", 1050.0, math.nan),
    ("kolada", "N07403", "1498", "Tidaholm", "2024", 833.1, math.nan),
    ("kolada", "N07403", "1446", "Karlsborg", "2024", 702.9, math.nan),
    ("bra", "narkotikabrott", "1497", "Hjo", "2024", 33.0, 3),
    ("bra", "narkotikabrott", "0014", "Västra Götalands län", "2024", 880.0, 15488),
]


def statistik() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["source", "indicator_id", "geo_name_code", "geo_name",
                                        "period", "value", "n"])
    return pd.DataFrame({
        "source": frame["source"], "indicator_id": frame["indicator_id"],
        "indicator": frame["indicator_id"], "geo_code": frame["geo_name_code"],
        "geo_name": frame["geo_name"], "geo_level": "kommun", "period": frame["period"],
        "gender": "T", "value": frame["value"], "unit": RATE, "n": frame["n"],
        "ci_low": math.nan, "ci_high": math.nan, "status": "", "fetched_at": "2025-03-01"})


def _slide(frames: dict[str, pd.DataFrame], indicator: str = "N07403"):  # noqa: ANN202
    config = config_from_mapping({"slides": [{"id": "jamforelse", "indicator": indicator}]})
    return build_deck(frames, load_promise(), config, today=TODAY, is_demo=False)[0]


def test_slide_shows_the_sections_latest_values() -> None:
    slide = _slide({"statistik": statistik()})
    assert slide.id == "jamforelse-N07403"
    assert slide.big_number == "612,3"
    assert slide.message == "Hjo 2024, per 100\u00a0000 invånare"
    assert slide.subtitle == ("Västra Götalands län 1\u00a0010,2 · Riket 1\u00a0050,0 · "
                              "Tidaholm 833,1 · Karlsborg 702,9")
    assert slide.figure is not None
    assert slide.figure.values == (612.3, 1010.2, 1050.0, 833.1, 702.9)
    assert slide.detail == (
        "2024: Hjo 612,3 per 100\u00a0000 invånare. Hjo ligger lägre än Västra Götalands län "
        "(1\u00a0010,2) och Riket (1\u00a0050,0) – utöver slumpvariationen.")
    assert "Källa: Kolada (RKA)" in slide.footer and "Data t.o.m. 2024" in slide.footer


def test_slide_public_hides_a_small_count_but_not_the_published_rate() -> None:
    slide = _slide({"statistik": statistik()}, "narkotikabrott")
    assert slide.big_number == "33,0"
    assert "<5" not in " ".join(slide.texts)  # the slide shows values, never the count 3


def test_slide_without_data_and_unknown_indicator() -> None:
    slide = _slide({"statistik": statistik().iloc[0:0]})
    assert slide.big_number == "–" and slide.status == "nodata"
    with pytest.raises(SlideConfigError, match="N99999"):
        _slide({"statistik": statistik()}, "N99999")


def test_page_section_report_and_slide_show_the_same_table() -> None:
    promise = load_promise()
    frames = {"statistik": statistik()}
    section = sections.comparison_sections(frames["statistik"], promise, audience="public",
                                           disclosure=DisclosureSettings())[0]
    report = build_report(frames, periods.parse_period("2025-05"), audience="public",
                          promise=promise, today=TODAY)
    chart = next(c for c in report.charts if c.title == section.title)
    assert chart.table is not None
    pd.testing.assert_frame_equal(chart.table.frame, section.table)
    latest = section.table[section.table["Period"] == "2024"]
    value_col = f"Värde ({RATE})"
    # hand count: Hjo's 2024 value in the fixture
    assert latest.iloc[0]["Geografi"] == "Hjo" and latest.iloc[0][value_col] == "612,3"
    assert _slide(frames).big_number == latest.iloc[0][value_col]


def test_goal_cards_show_the_official_latest_value() -> None:
    promise = load_promise()
    lines = sections.official_lines(statistik(), promise)
    assert lines["trygg_plats"] == (
        "Anmälda våldsbrott per 100 000 invånare 2024: Hjo 612,3 · Västra Götalands län "
        "1\u00a0010,2 · Riket 1\u00a0050,0 (Hjo lägre än Västra Götalands län och Riket "
        "utöver slumpen)",)
    assert lines["andts"] == (
        "Anmälda narkotikabrott per 100 000 invånare 2024: Hjo 33,0 · Västra Götalands län "
        "880,0 (Hjo lägre än Västra Götalands län utöver slumpen)",)
    assert sections.official_lines(None, promise) == {}


def test_hjo_rate_gap_is_beyond_noise_by_hand() -> None:
    # Hjo 612,3 per 100 000 with about 9 000 inhabitants: ~55 crimes, exact 95 % CI of
    # the count about (41; 72) -> rate about (456; 795), well below the county's 1 010,2
    comp = cmp.compare_one(statistik(), load_promise(), load_promise().official_indicators()[0])
    home = comp.series[(comp.series["role"] == "home") & (comp.series["period"] == "2024")]
    assert 440 < home["ci_low"].iloc[0] < 470 and 780 < home["ci_high"].iloc[0] < 810
    assert all(g.beyond_noise and g.diff < 0 for g in comp.gaps)


def test_demo_statistik_covers_every_official_indicator_and_geography() -> None:
    promise = load_promise()
    first = demo.generate(rows=100, today=TODAY)["statistik"]
    again = demo.generate(rows=100, today=TODAY)["statistik"]
    pd.testing.assert_frame_equal(first, again)  # deterministic
    assert set(first["source"]) == {"demo"}
    assert set(first["period"]) == {str(y) for y in range(2015, 2025)}  # published next year
    comp = promise.comparison
    assert comp is not None
    crimes = first[first["indicator_id"] == "N07403"]
    assert set(crimes["geo_code"]) == set(comp.geo_codes)
    assert crimes["n"].isna().all()  # Kolada gives rates only
    drugs = first[first["indicator_id"] == "narkotikabrott"]
    assert (drugs["n"] >= 0).all()  # BRÅ-like: the count beside the rate
    survey = first[first["indicator_id"] == "otrygghet_kvall"]
    assert set(survey["gender"]) == {"T", "K", "M"}
    assert set(survey["geo_code"]) == {comp.county, comp.riket}
    # the demo shows both sentences: violent crime beyond noise, vandalism within
    found = {c.indicator.indicator_id: c for c in cmp.compare_all(first, promise)}
    assert any(g.beyond_noise for g in found["N07403"].gaps)
    assert found["N07403"].is_demo
