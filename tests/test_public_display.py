"""Public mode on the topic pages: small counts as "<5", thin survey cells as "för få
svar", no free text and no positions; the officials' view shows the exact values (which
proves each check can fail).

The store is hand-made: in the latest complete week (2024-05-06..12) "klotter" has 20
incidents in "Hjo centrum" and "brand" 3 in "Hamnen"; rattfylleri has 2 offences; one
activity type has 3 participants; the survey has 14 answers; a youth cell has n = 20.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from hjo_data.disclosure import MAX_NOISE
from hjo_data.schema import TRAFFIC_OFFENCES
from tests.conftest import canonical

PAGES = ("trygghet", "handelser", "trafik", "unga", "aktiviteter")
DESCRIPTION = "PLANTAD-BESKRIVNING-7391"
NOTE = "PLANTAD-ANTECKNING-5521"
LAT, LON = 58.304171, 14.281239
SMALL_BRAND = 3


def _incidents() -> pd.DataFrame:
    rows = []
    start = datetime(2024, 5, 6, 9)
    for i in range(20):
        rows.append({"occurred_at": start + timedelta(hours=7 * i), "category": "klotter",
                     "area": "Hjo centrum", "source": "kommun"})
    for i in range(SMALL_BRAND):
        rows.append({"occurred_at": start + timedelta(days=1, hours=3 * i),
                     "category": "brand", "area": "Hamnen", "source": "polis",
                     "description": DESCRIPTION, "lat": LAT, "lon": LON})
    rows.append({"occurred_at": datetime(2024, 5, 15, 8), "category": "klotter",
                 "area": "Hjo centrum", "source": "kommun"})  # sets the data date
    return canonical("incidents", rows)


def _store(store_with) -> None:  # noqa: ANN001
    traffic = canonical("traffic", [
        {"date": pd.Timestamp("2024-04-05"), "area": "Hjo centrum",
         "control_type": "hastighet", "vehicles_checked": 120, "speeding": 9},
        {"date": pd.Timestamp("2024-04-20"), "area": "Hjo centrum",
         "control_type": "nykterhet", "vehicles_checked": 80, "drunk_driving": 2},
    ])
    acts = canonical("activities", [
        {"date": pd.Timestamp("2024-04-01"), "activity_type": "trygghetsvandring",
         "organisers": "Polisen och kommunen", "participants": 3, "findings": 2,
         "actions_decided": 2, "actions_done": 1, "notes": NOTE},
        {"date": pd.Timestamp("2024-04-10"), "activity_type": "informationsinsats",
         "organisers": "Kommunen", "participants": 40, "notes": NOTE},
        {"date": pd.Timestamp("2024-04-12"), "activity_type": "EST-möte",
         "organisers": "Polisen", "participants": 12},
    ])
    answers = ["ganska otrygg"] * 4 + ["ganska trygg"] * 10
    survey = canonical("survey_responses", [
        {"year": 2024, "area": "Hjo centrum", "gender": "kvinna", "age_group": "30–49",
         "safety_evening": a, "weight": 1.0} for a in answers])
    youth = canonical("youth", [
        {"year": y, "grade": "åk 9", "gender": "alla", "indicator": "alkohol_12m",
         "share": s, "n": n, "geography": "Hjo"}
        for y, s, n in ((2022, 0.30, 80), (2024, 0.25, 20))])
    store_with(incidents=_incidents(), traffic=traffic, activities=acts,
               survey_responses=survey, youth=youth)


def _spec(chart) -> str:  # noqa: ANN001
    """A chart's JSON as plain text ("<" instead of "\\u003c")."""
    return json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)


def _tables(at) -> list[pd.DataFrame]:  # noqa: ANN001
    return [d.value for d in at.dataframe]


def _everything(at) -> str:  # noqa: ANN001
    """All text a viewer could reach: tables, texts, metrics, chart specs (hover too)."""
    parts = [t.to_csv() for t in _tables(at)]
    for kind in ("markdown", "caption", "info", "subheader", "metric", "expander"):
        for e in at.get(kind):
            parts.append(str(getattr(e, "value", "")) + str(getattr(e, "label", "")))
    parts += [_spec(c) for c in at.get("plotly_chart")]
    return "\n".join(parts)


def _cell(at, key_column: str, key: str, column: str) -> str:  # noqa: ANN001
    """The cell of the first shown table that has ``key_column`` and a row ``key``."""
    for table in _tables(at):
        if key_column in table.columns and column in table.columns:
            rows = table[table[key_column].astype(str) == key]
            if len(rows):
                return str(rows[column].iloc[0])
    raise AssertionError(f"no table with {key_column}={key!r} and column {column!r}")


def _run(page_app, name: str):  # noqa: ANN001, ANN202
    at = page_app(name)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(params=[False, True], ids=["public", "official"])
def official(request, store_with, monkeypatch) -> bool:  # noqa: ANN001
    """Both audiences over the hand-made store (True: HJO_MODE=official)."""
    _store(store_with)
    if request.param:
        monkeypatch.setenv("HJO_MODE", "official")
    return request.param


def test_handelser_small_category_and_area(page_app, official: bool) -> None:  # noqa: ANN001
    at = _run(page_app, "handelser")
    # Independent count of brand in the week 2024-05-06..12.
    frame = _incidents()
    week = (frame["occurred_at"] >= "2024-05-06") & (frame["occurred_at"] < "2024-05-13")
    brand = int((week & (frame["category"] == "brand")).sum())
    assert brand == SMALL_BRAND
    expected = str(brand) if official else "<5"
    assert _cell(at, "Kategori", "brand", "Senaste veckan") == expected
    assert _cell(at, "Område", "Hamnen", "Senaste veckan") == expected
    assert _cell(at, "Rapportör", "polis", "Antal") == expected
    # The week total (24 incidents) is not small: exact for officials; public: perturbed
    # by at most MAX_NOISE (docs/PRIVACY.md), the same value as the table's "Totalt" row.
    metric = next(m for m in at.metric if m.label == "Händelser senaste hela veckan")
    if official:
        assert metric.value == str(int(week.sum()))
    else:
        assert abs(int(metric.value) - int(week.sum())) <= MAX_NOISE
        assert _cell(at, "Kategori", "Totalt", "Senaste veckan") == metric.value
    # Hover texts of the week chart carry the marker too, never the small number.
    spec = next(_spec(c) for c in at.get("plotly_chart") if "per kategori" in _spec(c))
    assert ("brand: <5" in spec) != official
    assert (f"brand: {brand} " in spec) == official


def test_handelser_heatmap_is_coarse_in_public(page_app, store_with) -> None:  # noqa: ANN001
    _store(store_with)
    at = _run(page_app, "handelser")
    heat = next(t for t in _tables(at) if "Veckodag" in t.columns)
    assert list(heat.columns[1:]) == [f"{h:02d}–{(h + 3) % 24:02d}" for h in range(0, 24, 3)]
    assert (heat.iloc[:, 1:].astype(str) == "<5").to_numpy().any()


def test_metric_delta_arrow_follows_the_number(page_app, official: bool) -> None:  # noqa: ANN001
    at = _run(page_app, "handelser")
    metric = next(m for m in at.metric if m.label == "Händelser senaste hela veckan")
    if official:
        # 24 this week against a baseline of 0: an increase, against the desired direction.
        assert metric.proto.direction == metric.proto.MetricDirection.UP
        assert "ökning" in metric.proto.delta
    else:
        # Public: a baseline of 0 reads "<5" (docs/PRIVACY.md), so there is no published
        # difference to draw an arrow from (it would reveal the hidden baseline).
        assert metric.proto.direction == metric.proto.MetricDirection.NONE
        assert not metric.proto.delta


def test_trafik_small_offence_count(page_app, official: bool) -> None:  # noqa: ANN001
    at = _run(page_app, "trafik")
    label = TRAFFIC_OFFENCES["drunk_driving"]
    assert _cell(at, "Överträdelse", label, "Antal") == ("2" if official else "<5")
    per_100 = _cell(at, "Överträdelse", label, "Per 100 kontrollerade")
    assert (per_100 == "..") != official  # 2 / 200 * 100 would give the count away


def test_aktiviteter_small_participant_count(page_app, official: bool) -> None:  # noqa: ANN001
    at = _run(page_app, "aktiviteter")
    shown = _cell(at, "Aktivitet", "trygghetsvandring", "Deltagare")
    assert shown == ("3" if official else "<5")


def test_survey_cells_with_few_answers(page_app, official: bool) -> None:  # noqa: ANN001
    at = _run(page_app, "trygghet")
    share = _cell(at, "År", "2024", "Andel otrygga")
    # 4 of 14 answered "ganska otrygg" (n = 14 < 30).
    assert (share == "för få svar") != official
    if official:
        assert share.startswith("28,6")
    at = _run(page_app, "unga")
    youth = next(t for t in _tables(at) if "Årskurs" in t.columns)
    by_year = dict(zip(youth["År"].astype(str), youth["Andel"].astype(str), strict=True))
    assert by_year["2022"].startswith("30,0")  # n = 80: shown in both modes
    assert (by_year["2024"] == "för få svar") != official
    if not official:
        assert any("färre än 30 svar" in c.value for c in at.caption)


@pytest.mark.parametrize("name", PAGES)
def test_no_free_text_or_positions_in_public(page_app, store_with, name: str) -> None:  # noqa: ANN001
    _store(store_with)
    text = _everything(_run(page_app, name))
    for planted in (DESCRIPTION, NOTE, f"{LAT}", f"{LON}", "58.3041", "14.2812"):
        assert planted not in text, f"{planted} leaked on {name}"


def test_official_mode_shows_notes_and_points(page_app, store_with, monkeypatch) -> None:  # noqa: ANN001
    """The leak checks above can fail: the same store shows them to officials."""
    _store(store_with)
    monkeypatch.setenv("HJO_MODE", "official")
    assert NOTE in _everything(_run(page_app, "aktiviteter"))
    handelser = _run(page_app, "handelser")
    spec = "\n".join(_spec(c) for c in handelser.get("plotly_chart"))
    assert "Händelser (position)" in spec
    assert DESCRIPTION in _everything(handelser)
