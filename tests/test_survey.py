"""Survey shares against hand-counted small frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hjo_data import survey
from hjo_data.schema import SURVEY_PROBLEM_COLUMNS

Z = 1.96


def wilson(p: float, n: float) -> tuple[float, float]:
    """Textbook Wilson interval, written out independently of the code under test."""
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def responses() -> pd.DataFrame:
    """Ten answers. Hand count (unweighted unless noted):

    2023: Centrum: mycket trygg, ganska otrygg (w 2), ganska trygg
          Norr:    går aldrig ut, mycket otrygg, ganska trygg (w missing -> 1)
    2024: Centrum: mycket otrygg
          Norr:    går aldrig ut, ganska trygg, ganska trygg (w 3)
    """
    return pd.DataFrame({
        "year": pd.Series([2023] * 6 + [2024] * 4, dtype="int64"),
        "area": pd.Series(["Centrum", "Centrum", "Norr", "Norr", "Norr", "Centrum",
                           "Centrum", "Norr", "Norr", "Norr"], dtype="str"),
        "gender": pd.Series(["kvinna", "man"] * 5, dtype="str"),
        "age_group": pd.Series(["16–29"] * 5 + ["65+"] * 5, dtype="str"),
        "safety_evening": pd.Series(
            ["mycket trygg", "ganska otrygg", "går aldrig ut", "mycket otrygg",
             "ganska trygg", "ganska trygg", "mycket otrygg", "går aldrig ut",
             "ganska trygg", "ganska trygg"], dtype="str"),
        "problem_klotter": pd.Series(
            ["vet ej", "mycket stort problem", None, "inget problem", "ganska stort problem",
             "", "ganska litet problem", "ganska stort problem", "vet ej", "inget problem"],
            dtype="str"),
        "problem_brak": pd.Series(
            ["ganska stort problem", "ganska stort problem", "inget problem",
             "inget problem", "ganska litet problem", "mycket stort problem",
             None, None, None, None], dtype="str"),
        "weight": [1.0, 2.0, 1.0, 1.0, np.nan, 1.0, 1.0, 1.0, 1.0, 3.0],
    })


def test_otrygg_excluding_never_out() -> None:
    out = survey.survey_shares(responses(), include_never_out=False)
    assert list(out.columns) == ["year", "indicator", "share", "n", "ci_low", "ci_high",
                                 "n_effective"]
    row = out.set_index("year").loc[2023]
    # 2023 without "går aldrig ut": weights 1,2,1,1,1 ; otrygg: 2 (w2) + 1 = 3 of 6
    assert row["n"] == 5
    assert row["share"] == pytest.approx(3 / 6)
    assert row["n_effective"] == pytest.approx(36 / 8)  # (1+2+1+1+1)^2 / (1+4+1+1+1)
    low, high = wilson(0.5, 36 / 8)
    assert row["ci_low"] == pytest.approx(low) and row["ci_high"] == pytest.approx(high)
    row = out.set_index("year").loc[2024]
    # 2024: mycket otrygg (1), ganska trygg (1), ganska trygg (3) -> 1/5
    assert row["n"] == 3
    assert row["share"] == pytest.approx(1 / 5)
    assert row["n_effective"] == pytest.approx(25 / 11)


def test_otrygg_including_never_out_by_area() -> None:
    out = survey.survey_shares(responses(), by=["area"], include_never_out=True)
    table = out.set_index(["year", "area"])
    # 2023 Norr: går aldrig ut, mycket otrygg, ganska trygg -> 2 of 3
    assert table.loc[(2023, "Norr"), "share"] == pytest.approx(2 / 3)
    assert table.loc[(2023, "Norr"), "n"] == 3
    # 2024 Norr: går aldrig ut (1), ganska trygg (1), ganska trygg (3) -> 1/5
    assert table.loc[(2024, "Norr"), "share"] == pytest.approx(1 / 5)
    # 2023 Centrum has no never-out answers: weights 1, 2 (otrygg), 1 -> 2/4
    assert table.loc[(2023, "Centrum"), "share"] == pytest.approx(2 / 4)
    assert len(out) == 4


def test_problem_share_excludes_vet_ej_and_empty() -> None:
    out = survey.survey_shares(responses(), indicator="problem_klotter", include_never_out=False)
    table = out.set_index("year")
    # 2023 answered: mycket stort (w2), inget (w1), ganska stort (w1) -> 3/4, n = 3
    assert table.loc[2023, "n"] == 3
    assert table.loc[2023, "share"] == pytest.approx(3 / 4)
    # 2024 answered: ganska litet (1), ganska stort (1), inget (3) -> 1/5
    assert table.loc[2024, "share"] == pytest.approx(1 / 5)
    assert (out["indicator"] == "problem_klotter").all()


def test_several_indicators_stack_and_unweighted_equals_plain_count() -> None:
    frame = responses().drop(columns=["weight"])
    out = survey.survey_shares(frame, indicator=["otrygg_kvall", "problem_brak"],
                               include_never_out=False)
    assert set(out["indicator"]) == {"otrygg_kvall", "problem_brak"}
    brak = out[out["indicator"] == "problem_brak"].set_index("year")
    # 2023: ganska stort, ganska stort, inget, inget, ganska litet, mycket stort -> 3/6
    assert brak.loc[2023, "share"] == pytest.approx(0.5)
    assert brak.loc[2023, "n_effective"] == pytest.approx(6)
    assert 2024 not in brak.index  # nobody answered in 2024
    low, high = wilson(0.5, 6)
    assert brak.loc[2023, "ci_low"] == pytest.approx(low)


def test_unknown_indicator_and_empty_input() -> None:
    with pytest.raises(ValueError):
        survey.survey_shares(responses(), indicator="nonsense", include_never_out=False)
    empty = survey.survey_shares(responses().iloc[:0], by=["area"], include_never_out=False)
    assert len(empty) == 0
    assert list(empty.columns) == ["year", "indicator", "area", "share", "n", "ci_low",
                                   "ci_high", "n_effective"]


def aggregated() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [2022, 2023, 2023],
        "indicator": ["otrygg_kvall", "otrygg_kvall", "problem_klotter"],
        "group": ["Totalt", "Totalt", "Kvinnor"],
        "area": ["Hela kommunen", "Hela kommunen", "Hela kommunen"],
        "share": [0.2, 0.9, 0.35],
        "n": [100, 50, 40],
    })


def test_combine_survey_adds_wilson_and_prefers_micro_data() -> None:
    out = survey.combine_survey(responses(), aggregated(), include_never_out=False)
    assert list(out.columns) == ["year", "indicator", "area", "group", "share", "n",
                                 "ci_low", "ci_high", "n_effective", "source"]
    key = ["year", "indicator", "area", "group"]
    assert not out.duplicated(key).any()
    table = out.set_index(key)
    agg_row = table.loc[(2022, "otrygg_kvall", "Hela kommunen", "Totalt")]
    assert agg_row["source"] == "aggregerad"
    low, high = wilson(0.2, 100)
    assert agg_row["ci_low"] == pytest.approx(low) and agg_row["ci_high"] == pytest.approx(high)
    assert agg_row["n_effective"] == 100
    # 2023 total exists in both: the one computed from answers (3/6) wins over 0.9
    micro = table.loc[(2023, "otrygg_kvall", "Hela kommunen", "Totalt")]
    assert micro["source"] == "svar" and micro["share"] == pytest.approx(0.5)
    assert table.loc[(2023, "problem_klotter", "Hela kommunen", "Kvinnor"), "share"] == 0.35
    # breakdowns from the answers: per area, gender and age group
    assert table.loc[(2023, "otrygg_kvall", "Norr", "Totalt"), "share"] == pytest.approx(1 / 2)
    # 2023 women: mycket trygg, går aldrig ut (excluded), ganska trygg -> 0 of 2
    assert table.loc[(2023, "otrygg_kvall", "Hela kommunen", "kvinna"), "share"] == 0
    assert table.loc[(2023, "otrygg_kvall", "Hela kommunen", "kvinna"), "n"] == 2
    # 65+ in 2023: only the sixth answer (ganska trygg)
    assert table.loc[(2023, "otrygg_kvall", "Hela kommunen", "65+"), "n"] == 1


def test_combine_survey_with_one_source_missing() -> None:
    only_agg = survey.combine_survey(None, aggregated(), include_never_out=False)
    assert len(only_agg) == 3 and (only_agg["source"] == "aggregerad").all()
    assert len(survey.combine_survey(None, None, include_never_out=False)) == 0
    only_micro = survey.combine_survey(responses(), None, include_never_out=False)
    assert (only_micro["source"] == "svar").all()


def test_problem_index_ranks_with_cis() -> None:
    ranked = survey.problem_index(responses(), 2023)
    # 2023: klotter 3/4 (weighted); bråk: ganska stort (1), ganska stort (2), inget (1),
    # inget (1), ganska litet (1, missing weight), mycket stort (1) -> 4/7
    assert ranked["indicator"].tolist() == ["problem_klotter", "problem_brak"]
    assert ranked["rank"].tolist() == [1, 2]
    assert ranked["share"].tolist() == pytest.approx([3 / 4, 4 / 7])
    assert ranked["label"].tolist() == [SURVEY_PROBLEM_COLUMNS["problem_klotter"],
                                        SURVEY_PROBLEM_COLUMNS["problem_brak"]]
    # with a handful of answers the order is not established
    assert bool(ranked["overlaps_next"].iloc[0]) is True
    assert bool(ranked["overlaps_next"].iloc[1]) is False  # nothing below
    centrum = survey.problem_index(responses(), 2023, area="Centrum")
    # Centrum 2023 klotter: vet ej, mycket stort (w2), "" -> 1 of 1 answer
    assert centrum.set_index("indicator").loc["problem_klotter", "n"] == 1


def test_problem_index_from_combined_table_matches_micro() -> None:
    combined = survey.combine_survey(responses(), aggregated(), include_never_out=False)
    from_combined = survey.problem_index(combined, 2023)
    from_micro = survey.problem_index(responses(), 2023)
    pd.testing.assert_series_equal(from_combined["share"], from_micro["share"])
    women = survey.problem_index(combined, 2023, group="Kvinnor")
    assert women["indicator"].tolist() == ["problem_klotter"]
    assert women["share"].iloc[0] == 0.35


def test_aggregated_missing_area_and_group_get_defaults() -> None:
    agg = aggregated()
    agg["area"] = pd.Series([None, "", "Norr"], dtype="str")
    agg["group"] = pd.Series([None, "Totalt", " "], dtype="str")
    out = survey.combine_survey(None, agg, include_never_out=False)
    assert out["area"].tolist().count("Hela kommunen") == 2
    assert sorted(out["group"]) == ["Totalt"] * 3
    assert out["area"].notna().all() and out["group"].notna().all()


def test_missing_breakdown_value_is_not_a_group() -> None:
    frame = responses()
    frame["gender"] = frame["gender"].where(frame.index != 0)
    by_gender = survey.survey_shares(frame, by=["gender"], include_never_out=False)
    assert by_gender["gender"].notna().all()
    # the total still counts the answer without gender: 2023 n stays 5
    total = survey.survey_shares(frame, include_never_out=False).set_index("year")
    assert total.loc[2023, "n"] == 5
    assert by_gender[by_gender["year"] == 2023]["n"].sum() == 4
