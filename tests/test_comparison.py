"""Official statistics compared (hjo_data.comparison): rates, intervals, the beyond-noise
sentence, series breaks and the section every surface shows.

Expected values are computed by hand here: exact Poisson limits from the standard table
(Garwood), Wilson written out, MOVER by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hjo_data import comparison as cmp
from hjo_data import figures, sections
from hjo_data.disclosure import DisclosureSettings
from hjo_data.indicators import poisson_interval
from hjo_data.promise import Comparison, OfficialIndicator, SeriesBreak, load_promise

COMP = Comparison(home="1497", county="0014", riket="0000", peers=("1498", "1446"),
                  population="FOLK")
VIOLENCE = OfficialIndicator("trygg_plats", "kolada", "N07403", "Våldsbrott",
                             "antal/100 000 inv")
DAMAGE = OfficialIndicator("trygg_plats", "bra", "skadegorelse", "Skadegörelse", "antal",
                           per_100k=True, breaks=(SeriesBreak("2022", "Ny rutin"),))
UNSAFE = OfficialIndicator("trygg_plats", "ntu", "otrygg", "Otrygghet", "%")
NAMES = {"1497": "Hjo", "0014": "Västra Götalands län", "0000": "Riket",
         "1498": "Tidaholm", "1446": "Karlsborg"}
RATE = "antal/100 000 inv"


def row(indicator: str, geo: str, period: str, value: float, unit: str, *,
        n: float = math.nan, gender: str = "T", source: str = "kolada",
        ci: tuple[float, float] = (math.nan, math.nan)) -> dict[str, object]:
    level = {"0014": "lan", "0000": "riket"}.get(geo, "kommun")
    return {"source": source, "indicator_id": indicator, "indicator": indicator,
            "geo_code": geo, "geo_name": NAMES[geo], "geo_level": level, "period": period,
            "gender": gender, "value": value, "unit": unit, "n": n, "ci_low": ci[0],
            "ci_high": ci[1], "status": "", "fetched_at": "2025-03-01"}


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(cmp.STATISTIK_COLUMNS))


def compare(statistik: pd.DataFrame, indicator: OfficialIndicator,
            gender: str = "T") -> cmp.IndicatorComparison:
    lookup = cmp.population_lookup(statistik, COMP, COMP.population)
    return cmp.compare_indicator(statistik, indicator, COMP, home_name="Hjo", gender=gender,
                                 population=lookup)


# --------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(("count", "low", "high"), [
    (0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.6235, 11.668), (10, 4.7954, 18.390),
])
def test_exact_poisson_interval_matches_the_table(count: int, low: float, high: float) -> None:
    got = poisson_interval(count)
    assert got[0] == pytest.approx(low, abs=5e-4)
    assert got[1] == pytest.approx(high, abs=5e-3)


def test_large_counts_use_byar_continuously() -> None:
    exact, byar = poisson_interval(1000), poisson_interval(1001)
    assert byar[0] - exact[0] == pytest.approx(1.0, abs=0.1)
    assert byar[1] - exact[1] == pytest.approx(1.0, abs=0.1)
    assert math.isnan(poisson_interval(-1)[0]) and math.isnan(poisson_interval(None)[1])


def test_rate_with_count_gets_the_poisson_interval_scaled() -> None:
    # BRÅ: 10 crimes, 111,1 per 100 000 -> the interval of 10 scaled by 111,1 / 10
    stats = frame(row("N07403", "1497", "2023", 111.1, RATE, n=10, source="kolada"))
    series = compare(stats, VIOLENCE).series
    assert series["ci_low"].iloc[0] == pytest.approx(4.7954 * 11.11, abs=0.01)
    assert series["ci_high"].iloc[0] == pytest.approx(18.390 * 11.11, abs=0.06)
    assert series["count"].iloc[0] == 10 and not series["count_estimated"].iloc[0]


def test_rate_without_count_estimates_it_from_the_population() -> None:
    # population 10 000 (population indicator), 50 per 100 000 -> 5 crimes
    stats = frame(row("N07403", "1497", "2023", 50.0, RATE),
                  row("FOLK", "1497", "2023", 10_000, "invånare"))
    series = compare(stats, VIOLENCE).series
    assert series["count"].iloc[0] == 5 and series["count_estimated"].iloc[0]
    assert series["ci_low"].iloc[0] == pytest.approx(16.235, abs=0.01)
    assert series["ci_high"].iloc[0] == pytest.approx(116.68, abs=0.05)


def test_counts_become_rates_per_100k_with_the_population() -> None:
    # 5 crimes among 10 000 -> 50 per 100 000; Tidaholm 30 among 12 000 -> 250;
    # Karlsborg has no population -> no value (never a count shown as a rate)
    stats = frame(row("skadegorelse", "1497", "2023", 5, "antal", source="bra"),
                  row("skadegorelse", "1498", "2023", 30, "antal", source="bra"),
                  row("skadegorelse", "1446", "2023", 7, "antal", source="bra"),
                  row("FOLK", "1497", "2023", 10_000, "invånare"),
                  row("FOLK", "1498", "2023", 12_000, "invånare"))
    comp = compare(stats, DAMAGE)
    assert comp.kind == "rate" and comp.unit == cmp.RATE_UNIT
    by_geo = comp.series.set_index("geo_code")
    assert by_geo.loc["1497", "value"] == pytest.approx(50.0)
    assert by_geo.loc["1498", "value"] == pytest.approx(250.0)
    assert math.isnan(by_geo.loc["1446", "value"])
    assert by_geo.loc["1497", "ci_low"] == pytest.approx(16.235, abs=0.01)


def test_share_with_n_gets_wilson_and_a_source_interval_wins() -> None:
    stats = frame(row("otrygg", "0014", "2023", 30.0, "%", n=1000, source="ntu"),
                  row("otrygg", "0000", "2023", 25.0, "%", n=1000, source="ntu",
                      ci=(23.0, 27.5)))
    series = compare(stats, UNSAFE).series.set_index("geo_code")
    p, n, z = 0.3, 1000, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert series.loc["0014", "ci_low"] == pytest.approx((centre - half) * 100)
    assert series.loc["0014", "ci_high"] == pytest.approx((centre + half) * 100)
    assert (series.loc["0000", "ci_low"], series.loc["0000", "ci_high"]) == (23.0, 27.5)


# --------------------------------------------------------------------------- gaps


def test_gap_beyond_noise_and_within_noise_in_one_sentence() -> None:
    # Hjo: 10 crimes among 10 000 = 100 per 100 000, 95 % CI (47,95; 183,90).
    # County 300: diff -200, upper -200 + 83,90 = -116,1 < 0 -> lower, beyond noise.
    # Riket 150: diff -50, upper -50 + 83,90 = 33,9 > 0 -> within noise.
    stats = frame(row("N07403", "1497", "2023", 100.0, RATE, n=10),
                  row("N07403", "0014", "2023", 300.0, RATE),
                  row("N07403", "0000", "2023", 150.0, RATE))
    comp = compare(stats, VIOLENCE)
    county, riket = comp.gaps
    assert county.beyond_noise and county.high == pytest.approx(-200 + 83.90, abs=0.01)
    assert county.low == pytest.approx(-200 - 52.05, abs=0.01)
    assert not riket.beyond_noise and riket.high == pytest.approx(33.90, abs=0.01)
    assert comp.sentence == (
        "2023: Hjo 100,0 per 100\u00a0000 invånare. Hjo ligger lägre än Västra Götalands län "
        "(300,0) – utöver slumpvariationen. Avståndet till Riket (150,0) ligger inom "
        "slumpvariationen, så det går inte att säga att Hjo skiljer sig därifrån.")


def test_gap_uses_both_intervals_when_the_reference_has_one() -> None:
    # shares: Hjo 40 % (30; 50), county 30 % (28; 32): diff 10,
    # lower = 10 - sqrt(10² + 2²) = -0,198 -> within noise (the county's width counts)
    low, high = cmp.mover_interval(40, 30, 50, 30, 28, 32)
    assert low == pytest.approx(10 - math.sqrt(104))
    assert high == pytest.approx(10 + math.sqrt(104))
    stats = frame(row("otrygg", "1497", "2023", 40.0, "%", source="ntu", ci=(30.0, 50.0)),
                  row("otrygg", "0014", "2023", 30.0, "%", source="ntu", ci=(28.0, 32.0)))
    comp = compare(stats, UNSAFE)
    assert not comp.gaps[0].beyond_noise
    assert "utöver" not in comp.sentence and "högre" not in comp.sentence
    assert "Avståndet till Västra Götalands län (30,0\u00a0%) ligger inom" in comp.sentence


def test_higher_beyond_noise_for_a_share() -> None:
    stats = frame(row("otrygg", "1497", "2023", 45.0, "%", source="ntu", ci=(41.0, 49.0)),
                  row("otrygg", "0000", "2023", 30.0, "%", source="ntu", ci=(29.0, 31.0)))
    comp = compare(stats, UNSAFE)
    assert comp.gaps[0].beyond_noise and comp.gaps[0].diff == pytest.approx(15.0)
    assert comp.sentence == ("2023: Hjo 45,0\u00a0%. Hjo ligger högre än Riket (30,0\u00a0%) "
                             "– utöver slumpvariationen.")


def test_without_an_interval_no_gap_is_called_a_difference() -> None:
    # no count, no population, no interval: nothing can be said about noise
    stats = frame(row("N07403", "1497", "2023", 100.0, RATE),
                  row("N07403", "0014", "2023", 900.0, RATE))
    comp = cmp.compare_indicator(stats, VIOLENCE, COMP, home_name="Hjo",
                                 population=lambda geo, period: math.nan)
    assert not comp.gaps[0].assessable and not comp.gaps[0].beyond_noise
    assert "Osäkerheten kan inte beräknas" in comp.sentence
    assert "lägre" not in comp.sentence and "utöver" not in comp.sentence


def test_latest_period_is_the_home_municipalitys_and_peers_get_no_sentence() -> None:
    stats = frame(row("N07403", "1497", "2022", 100.0, RATE, n=10),
                  row("N07403", "1497", "2023", 110.0, RATE, n=11),
                  row("N07403", "0014", "2022", 300.0, RATE),
                  row("N07403", "1498", "2023", 900.0, RATE))
    comp = compare(stats, VIOLENCE)
    assert comp.latest_period == "2023"
    assert comp.gaps == ()
    assert comp.sentence == ("2023: det finns ingen uppgift för Västra Götalands län att "
                             "jämföra Hjo med.")
    assert list(comp.series["period"]) == ["2022", "2022", "2023", "2023"]
    assert list(comp.series["role"]) == ["home", "county", "home", "peer"]


def test_no_home_row_says_so() -> None:
    stats = frame(row("otrygg", "0014", "2023", 30.0, "%", n=1000, source="ntu"))
    comp = compare(stats, UNSAFE)
    assert comp.latest_period is None
    assert comp.sentence == cmp.NO_HOME.format(home="Hjo")


def test_only_the_configured_source_gender_and_geographies_count() -> None:
    stats = frame(row("N07403", "1497", "2023", 100.0, RATE, source="bra"),
                  row("N07403", "1497", "2023", 90.0, RATE, gender="K"),
                  row("N07403", "1497", "2023", 80.0, RATE),
                  row("N07403", "0014", "2023", math.nan, RATE))
    stats.loc[len(stats)] = {**row("N07403", "1497", "2023", 70.0, RATE), "geo_code": "1480"}
    assert list(compare(stats, VIOLENCE).series["value"]) == [80.0]
    assert list(compare(stats, VIOLENCE, gender="K").series["value"]) == [90.0]


def test_demo_rows_stand_in_for_the_configured_source() -> None:
    stats = frame(row("N07403", "1497", "2023", 100.0, RATE, source="demo"))
    comp = compare(stats, VIOLENCE)
    assert comp.is_demo and list(comp.series["value"]) == [100.0]


@pytest.mark.parametrize(("period", "start", "end", "year"), [
    ("2021", 2021, 2021, 2021), ("2019-2022", 2019, 2022, None), ("x", None, None, None)])
def test_periods(period: str, start: int | None, end: int | None, year: int | None) -> None:
    assert (cmp.period_start(period), cmp.period_end(period), cmp.period_year(period)) == \
        (start, end, year)


@pytest.mark.parametrize(("unit", "kind"), [
    ("%", "share"), ("Andel (procent)", "share"), ("antal/100 000 inv", "rate"),
    ("Per 100\u00a0000 inv.", "rate"), ("antal", "count"), ("index", "value")])
def test_unit_kind(unit: str, kind: str) -> None:
    assert cmp.unit_kind(unit) == kind


# --------------------------------------------------------------------------- section


def damage_stats() -> pd.DataFrame:
    return frame(
        row("skadegorelse", "1497", "2021", 3, "antal", source="bra"),
        row("skadegorelse", "1497", "2022", 12, "antal", source="bra"),
        row("skadegorelse", "0014", "2022", 800.0, RATE, source="bra"),
        row("FOLK", "1497", "2021", 10_000, "invånare"),
        row("FOLK", "1497", "2022", 10_000, "invånare"))


def test_section_table_figure_and_breaks() -> None:
    comp = compare(damage_stats(), DAMAGE)
    section = sections.comparison_section(comp, audience="official",
                                          disclosure=DisclosureSettings())
    assert section.key == "jmf_bra_skadegorelse"
    assert list(section.table.columns) == ["Period", "Geografi",
                                           f"Värde ({cmp.RATE_UNIT})", "95 % KI",
                                           "Antal (underlag)", "Status"]
    assert list(section.table["Värde (per 100 000 inv)"]) == ["30,0", "120,0", "800,0"]
    assert list(section.table["Antal (underlag)"]) == ["3", "12", "–"]
    assert "Seriebrott 2022: Ny rutin" in section.notes
    assert section.data_date is not None and section.data_date.isoformat() == "2022-12-31"
    fig = figures.build(section.figure)
    assert [t.name for t in fig.data] == ["Hjo", "Västra Götalands län"]
    assert list(fig.data[0].y) == pytest.approx([30.0, 120.0])
    # the break line sits between 2021 (index 0) and 2022 (index 1)
    assert fig.layout.shapes[0].x0 == 0.5
    assert fig.layout.annotations[0].text == "Seriebrott"
    assert fig.layout.annotations[0].hovertext == "Ny rutin"


def test_public_section_hides_small_counts_but_keeps_the_published_value() -> None:
    comp = compare(damage_stats(), DAMAGE)
    section = sections.comparison_section(comp, audience="public",
                                          disclosure=DisclosureSettings())
    assert list(section.table["Antal (underlag)"]) == ["<5", "12", "–"]
    assert list(section.table["Värde (per 100 000 inv)"]) == ["30,0", "120,0", "800,0"]
    assert math.isnan(section.numeric["count"].iloc[0])
    assert any("visas som ”<5”" in n for n in section.notes)


def test_empty_section_and_sections_of_the_promise() -> None:
    promise = load_promise()
    secs = sections.comparison_sections(frame(), promise, audience="public",
                                        disclosure=DisclosureSettings())
    assert len(secs) == len(promise.official_indicators())
    assert all(s.is_empty and s.empty == sections.COMPARISON_EMPTY for s in secs)
    assert sections.comparison_sections(frame(), None, audience="public",
                                        disclosure=DisclosureSettings()) == []


def test_bra_count_and_rate_indicators_are_joined() -> None:
    # BRÅ publishes "skadegorelse" (antal) and "skadegorelse_per_100k" (per 100 000 inv)
    per = "per 100 000 inv"
    stats = frame(row("skadegorelse", "1497", "2023", 10, "antal", source="bra"),
                  row("skadegorelse_per_100k", "1497", "2023", 111.1, per, source="bra"),
                  row("skadegorelse", "0014", "2023", 15000, "antal", source="bra"),
                  row("skadegorelse_per_100k", "0014", "2023", 850.0, per, source="bra"),
                  row("skadegorelse", "1498", "2023", 5, "antal", source="bra"),
                  row("FOLK", "1498", "2023", 10_000, "invånare"))
    comp = compare(stats, DAMAGE)
    by_geo = comp.series.set_index("geo_code")
    assert list(comp.series["geo_code"]) == ["1497", "0014", "1498"]  # one row each
    assert by_geo.loc["1497", "value"] == pytest.approx(111.1)  # the published rate
    assert by_geo.loc["1497", "count"] == 10 and not by_geo.loc["1497", "count_estimated"]
    assert by_geo.loc["1497", "ci_low"] == pytest.approx(4.7954 * 11.11, abs=0.01)
    assert by_geo.loc["0014", "count"] == 15000
    # a count without a published rate: per 100 000 from the population (5 / 10 000)
    assert by_geo.loc["1498", "value"] == pytest.approx(50.0)
    assert comp.gaps[0].beyond_noise  # 111,1 (53,3; 204,3) vs 850 (±1,6 %)
