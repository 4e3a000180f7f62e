"""Activities: done vs planned, safety walks, organisers."""

from __future__ import annotations

import pandas as pd

from hjo_data import activities as act
from tests.conftest import canonical, make_promise


def _log() -> pd.DataFrame:
    return canonical("activities", [
        {"date": pd.Timestamp("2023-04-01"), "activity_type": "trygghetsvandring",
         "organisers": "Polisen, Hjo kommun och ICA", "participants": 12,
         "target_group": "boende", "findings": 10, "actions_decided": 8, "actions_done": 6},
        {"date": pd.Timestamp("2023-09-01"), "activity_type": "trygghetsvandring",
         "organisers": "Hjo kommun", "participants": 8, "target_group": "boende; unga",
         "findings": 5, "actions_decided": 4, "actions_done": 1},
        {"date": pd.Timestamp("2023-05-01"), "activity_type": "EST-möte",
         "organisers": "Polisen; kommunen", "participants": 5},
        {"date": pd.Timestamp("2024-02-01"), "activity_type": "EST-möte",
         "organisers": "Polisen", "participants": 4},
    ])


def test_planned_frame_from_the_typed_promise() -> None:
    promise = make_promise([{"id": "g", "title": "G"}], activities=[
        {"id": "a", "activity_type": "trygghetsvandring", "title": "x",
         "planned": {"2023": 3, "2024": 3}},
        {"id": "b", "activity_type": "EST-möte", "title": "y", "planned": {"2023": 40}},
        {"id": "c", "activity_type": "EST-möte", "title": "z", "planned": {"2023": 2}},
    ])
    plan = act.planned_frame(promise).set_index(["year", "activity_type"])["planned"]
    assert plan[(2023, "EST-möte")] == 42  # several activities of one type are summed
    assert plan[(2024, "trygghetsvandring")] == 3


def test_done_vs_planned() -> None:
    plan = pd.DataFrame({"year": [2023, 2023, 2024], "activity_type":
                         ["trygghetsvandring", "EST-möte", "grannsamverkan"],
                         "planned": [3, 40, 2]})
    out = act.done_vs_planned(_log(), plan).set_index(["year", "activity_type"])
    assert out.loc[(2023, "trygghetsvandring"), "done"] == 2
    assert out.loc[(2023, "trygghetsvandring"), "share_done"] == 2 / 3
    assert out.loc[(2023, "EST-möte"), "share_done"] == 1 / 40
    assert out.loc[(2024, "grannsamverkan"), "done"] == 0      # planned, not done
    assert out.loc[(2024, "EST-möte"), "planned"] == 0         # done, not planned
    assert pd.isna(out.loc[(2024, "EST-möte"), "share_done"])


def test_safety_walks_share_of_actions_done() -> None:
    walks = act.safety_walks(_log()).set_index("year")
    assert walks.loc[2023, "walks"] == 2
    assert walks.loc[2023, "findings"] == 15
    assert walks.loc[2023, "share_done"] == (6 + 1) / (8 + 4)
    assert walks.loc[2023, "ci_low"] < walks.loc[2023, "share_done"] < walks.loc[2023, "ci_high"]


def test_organisers_and_target_groups() -> None:
    sectors = act.organiser_sectors(_log()).set_index("sector")
    assert sectors.loc["polis", "activities"] == 3
    assert sectors.loc["kommun", "activities"] == 3
    assert sectors.loc["näringsliv", "activities"] == 0  # "ICA" is not recognised
    assert sectors.loc["övriga", "activities"] == 1
    assert sectors.loc["samverkan (minst två parter)", "activities"] == 2
    targets = act.target_groups(_log()).set_index("group")
    assert targets.loc["boende", "activities"] == 2
    assert targets.loc["boende", "participants"] == 20
    parts = act.participants_by(_log()).set_index("group")
    assert parts.loc["trygghetsvandring", "participants"] == 20


def test_explode_matches_per_row_split_names() -> None:
    """The vectorised explode (distinct texts split once) equals split_names per row."""
    from hjo_data.activities import _explode, split_names

    texts = ["Polisen, Hjo kommun och ICA", "", None, "unga; äldre / föräldrar",
             "Polisen, Hjo kommun och ICA", "  skolan  ", "a + b & c", None, "unga"]
    frame = pd.DataFrame({"target_group": pd.array(texts, dtype="str"),
                          "participants": [3, 1, None, 7, 2, 0, 5, 4, 9]},
                         index=[10, 11, 12, 13, 14, 15, 16, 17, 18])
    got = _explode(frame, "target_group")
    expected = [(i, name, float(p) if p == p else 0.0)
                for i, (t, p) in enumerate(zip(texts, frame["participants"], strict=True))
                for name in split_names(t)]
    assert list(zip(got["_row"], got["name"], got["participants"].astype(float),
                    strict=True)) == expected
    empty = _explode(frame.iloc[0:0], "target_group")
    assert len(empty) == 0 and list(empty.columns) == ["_row", "name", "participants"]
