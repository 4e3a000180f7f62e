"""Youth indicators: Wilson CI from share and n, series, comparison."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hjo_data import youth
from tests.conftest import canonical


def _wilson(p: float, n: float, z: float = 1.96) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _data() -> pd.DataFrame:
    return canonical("youth", [
        {"year": 2022, "grade": "åk 9", "gender": "alla", "indicator": "snus", "share": 0.10,
         "n": 100, "geography": "Hjo"},
        {"year": 2024, "grade": "åk 9", "gender": "alla", "indicator": "snus", "share": 0.20,
         "n": 50, "geography": "Hjo"},
        {"year": 2024, "grade": "åk 9", "gender": "alla", "indicator": "snus", "share": 0.15,
         "n": 5000, "geography": "Riket"},
        {"year": 2024, "grade": "åk 7", "gender": "kvinna", "indicator": "rokning",
         "share": 0.05, "n": 40, "geography": "Hjo"},
    ])


def test_series_has_wilson_ci_and_only_home_geography() -> None:
    s = youth.youth_series(_data(), ["snus"], genders=("alla",))
    assert s["year"].tolist() == [2022, 2024]
    low, high = _wilson(0.20, 50)
    row = s[s["year"] == 2024].iloc[0]
    assert abs(row["ci_low"] - low) < 1e-9 and abs(row["ci_high"] - high) < 1e-9
    assert row["n"] == 50


def test_comparison_with_country() -> None:
    comp = youth.comparison(_data(), ["snus"], year=2024, grade="åk 9")
    assert comp["geography"].tolist() == ["Hjo", "Riket"]
    assert comp.set_index("geography").loc["Riket", "share"] == 0.15
    # No other geography for åk 7: empty
    assert youth.comparison(_data(), ["rokning"], year=2024, grade="åk 7",
                            gender="kvinna").empty


def test_groups_cover_every_indicator() -> None:
    from hjo_data.schema import YOUTH_INDICATORS

    covered = {i for inds in youth.YOUTH_GROUPS.values() for i in inds}
    assert covered == set(YOUTH_INDICATORS)


def test_comparison_notes_say_which_differences_are_beyond_noise() -> None:
    # Hand-computed two-proportion z-tests for Hjo 25 % (n = 90):
    #   vs Skaraborg 40 % (n = 2 000): z ≈ 2,85, p ≈ 0,004 -> beyond random variation
    #   vs Riket 28,6 % (n = 3 000):   z ≈ 0,75, p ≈ 0,46  -> within
    comp = pd.DataFrame({
        "indicator": ["alkohol_12m"] * 4,
        "indicator_label": ["Druckit alkohol senaste 12 månaderna"] * 4,
        "geography": ["Hjo", "Skaraborg", "Riket", "Göteborg"],
        "share": [0.25, 0.40, 0.286, np.nan],  # Göteborg hidden (too few answers)
        "n": [90, 2000, 3000, 12]})
    notes = youth.comparison_notes(comp, "Hjo")
    assert notes == ["Druckit alkohol senaste 12 månaderna: Hjo 25,0\u00a0% är lägre än "
                     "Skaraborg (40,0\u00a0%) – utöver slumpvariationen; skillnaden mot "
                     "Riket (28,6\u00a0%) ligger inom slumpvariationen."]
    assert youth.comparison_notes(comp.loc[comp["geography"] != "Hjo"], "Hjo") == []


def _by_gender_only() -> pd.DataFrame:
    """Hjo reports snus only per gender (2024, åk 9); Riket also reports "alla"."""
    rows = [("kvinna", 0.10, 60, "Hjo"), ("man", 0.25, 40, "Hjo"),
            ("alla", 0.15, 5000, "Riket"), ("kvinna", 0.12, 2500, "Riket")]
    return canonical("youth", [{"year": 2024, "grade": "åk 9", "indicator": "snus",
                                "gender": g, "share": s, "n": n, "geography": geo}
                               for g, s, n, geo in rows])


def test_alla_is_the_n_weighted_pool_when_only_genders_are_reported() -> None:
    series = youth.youth_series(_by_gender_only(), ["snus"], geography="Hjo",
                                genders=("alla",))
    assert len(series) == 1
    row = series.iloc[0]
    yes = 0.10 * 60 + 0.25 * 40  # pupils answering yes, from the gender rows
    assert row["gender"] == "alla" and bool(row["pooled"])
    assert math.isclose(row["share"], yes / 100) and row["n"] == 100
    low, high = _wilson(yes / 100, 100)
    assert math.isclose(row["ci_low"], low, rel_tol=1e-9)
    assert math.isclose(row["ci_high"], high, rel_tol=1e-9)
    # The genders themselves are unchanged; a reported "alla" row is never re-pooled.
    genders = youth.youth_series(_by_gender_only(), ["snus"], geography="Hjo",
                                 genders=("kvinna", "man"))
    assert genders["share"].tolist() == [0.10, 0.25] and not genders["pooled"].any()
    riket = youth.youth_series(_by_gender_only(), ["snus"], geography="Riket",
                               genders=("alla",))
    assert riket["share"].tolist() == [0.15] and not riket["pooled"].any()


def test_comparison_uses_the_pool_for_a_gender_split_home() -> None:
    comp = youth.comparison(_by_gender_only(), ["snus"], year=2024, grade="åk 9")
    shares = dict(zip(comp["geography"], comp["share"], strict=True))
    assert math.isclose(shares["Hjo"], (0.10 * 60 + 0.25 * 40) / 100)
    assert shares["Riket"] == 0.15  # the reported total, not a pool of its gender rows
