"""Presentation deck (hjo_data.slides): config order, public rules, config errors, navigation."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime

import pandas as pd
import pytest

from hjo_data import demo
from hjo_data.promise import load_promise
from hjo_data.slides import (
    DEFAULT_CONFIG_FILE,
    DEMO_LABEL,
    SlideConfigError,
    build_deck,
    clamp_interval,
    config_from_mapping,
    format_counter,
    load_config,
    parse_config,
    parse_interval,
    parse_slide_param,
    should_advance,
    step_index,
)
from tests.conftest import canonical, incidents, make_promise, plausibly_published

TODAY = date(2024, 6, 15)
NBSP = "\u00a0"


def _config(*slides: dict[str, object], interval: int = 20):
    return config_from_mapping({"slides": list(slides), "interval": interval})


def _texts(deck) -> str:
    return "\n".join(t for s in deck for t in s.texts)


# --------------------------------------------------------------------------- demo deck


@pytest.fixture(scope="module")
def demo_frames() -> dict[str, pd.DataFrame]:
    return demo.generate(rows=1500, today=TODAY)


def test_deck_follows_presentation_toml_order(demo_frames):
    raw = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    # several mal slides differ by goal, several jamforelse slides by indicator
    expected = [f"{s['id']}-{s['goal']}" if s.get("goal") else
                f"{s['id']}-{s['indicator']}" if s["id"] == "jamforelse" else s["id"]
                for s in raw["slides"]]
    deck = build_deck(demo_frames, load_promise(), load_config(), today=TODAY, is_demo=True)
    assert [s.id for s in deck] == expected
    # Titles set in the file are used verbatim.
    for slide, spec in zip(deck, raw["slides"], strict=True):
        if spec.get("title"):
            assert slide.title == spec["title"]
        assert slide.title and (slide.big_number or slide.message)


def test_demo_label_on_every_slide_only_for_demo_data(demo_frames):
    config = load_config()
    deck = build_deck(demo_frames, load_promise(), config, today=TODAY, is_demo=True)
    assert all(s.demo and DEMO_LABEL in s.footer for s in deck)
    real = build_deck(demo_frames, load_promise(), config, today=TODAY, is_demo=False)
    assert not any(s.demo or DEMO_LABEL in s.footer for s in real)


def test_no_free_text_personnummer_or_positions_on_any_slide(demo_frames):
    frames = dict(demo_frames)
    inc = frames["incidents"].copy()
    inc["description"] = "PLANTED-DESC-7f3a kontakta 19850615-1234"
    inc["lat"] = 58.3021987
    inc["lon"] = 14.2876543
    frames["incidents"] = inc
    act = frames["activities"].copy()
    act["notes"] = "PLANTED-NOTE-b81c"
    act["organisers"] = act["organisers"]  # organisers are public aggregates, unchanged
    frames["activities"] = act
    deck = build_deck(frames, load_promise(), load_config(), today=TODAY, is_demo=True)
    text = _texts(deck)
    for planted in ("PLANTED-DESC-7f3a", "PLANTED-NOTE-b81c", "19850615",
                    "58.3021987", "58,3021987", "14.2876543", "14,2876543", "58,30", "14,28"):
        assert planted not in text, planted
    assert not re.search(r"\d{6,8}[-+]?\d{4}", text)


# --------------------------------------------------------------------------- small counts


def _small_world() -> dict[str, pd.DataFrame]:
    """Incidents: 3 in the latest complete week (v. 23 2024), 10 in each of the 4 weeks
    before; klotter: 2 in May 2024, 8 in April 2024."""
    spec: list[tuple[str, str, str]] = []
    for monday in ("2024-05-06", "2024-05-13", "2024-05-20", "2024-05-27"):
        start = datetime.fromisoformat(monday)
        spec += [((start + pd.Timedelta(hours=5 + 10 * i)).isoformat(), "skadegörelse",
                  "Centrum") for i in range(10)]
    spec += [(f"2024-06-0{d}T21:00", "ordningsstörning", "Centrum") for d in (3, 5, 7)]
    spec += [("2024-06-12T10:00", "skadegörelse", "Centrum")]  # current, incomplete week
    spec += [("2024-05-02T12:00", "klotter", "Hamnen"), ("2024-05-03T12:00", "klotter",
                                                          "Hamnen")]
    spec += [(f"2024-04-{d:02d}T12:00", "klotter", "Hamnen") for d in range(1, 9)]
    return {"incidents": incidents(spec)}


def test_est_week_with_few_incidents_shows_small_mark():
    frames = _small_world()
    deck = build_deck(frames, load_promise(), _config({"id": "est_vecka"}), today=TODAY,
                      is_demo=False)
    slide = deck[0]
    assert slide.big_number == "<5"
    assert "v. 23 2024" in slide.message
    # 40 incidents over the 4 weeks before, published perturbed (docs/PRIVACY.md): 38..42.
    mean = re.search(r"snitt de fyra veckorna före: (\d+,\d)", slide.subtitle).group(1)
    assert plausibly_published(float(mean.replace(",", ".")) * 4, 40)
    # The 12-week trend hides the small week instead of drawing it.
    assert slide.figure is not None
    assert slide.figure.values[-1] is None
    assert plausibly_published(slide.figure.values[-2], 10)
    assert "3" not in slide.big_number


@pytest.mark.parametrize("measure", ["count", "rate_per_1000"])
def test_goal_indicator_small_incident_count_is_suppressed(measure, tmp_path, monkeypatch):
    # Population 9 000 from the reference file (the only source of population).
    (tmp_path / "population.csv").write_text(
        "year,area,population\n2024,Hela kommunen,9000\n", encoding="utf-8")
    monkeypatch.setenv("HJO_REFERENCE_DIR", str(tmp_path))
    promise = make_promise([{"id": "g", "title": "Mål G", "indicators": [
        {"id": "klotter", "label": "Klotter", "direction": "down",
         "spec": {"dataset": "incidents", "measure": measure, "category": "klotter"}}]}])
    deck = build_deck(_small_world(), promise, _config({"id": "mal", "goal": "g"}),
                      today=TODAY, is_demo=False)
    slide = deck[0]
    assert slide.big_number == "<5"
    assert slide.message == "Klotter"
    assert "maj 2024" in slide.subtitle and "april 2024" in slide.subtitle
    if measure == "count":
        assert "förra: 8 (april 2024)" in slide.subtitle
    else:
        # 8 / 9000 * 1000 = 0,888… -> "0,9" (the previous count 8 is not small).
        assert "förra: 0,9 (april 2024)" in slide.subtitle


@pytest.mark.parametrize("suppress_zero", [False, True])
def test_slides_honour_suppress_zero(suppress_zero):
    """The promise's ``suppress_zero`` reaches the slides: a zero offence count is hidden
    only when zeros are suppressed; the EST trend's zero weeks always are."""
    traffic = canonical("traffic", [
        {"date": datetime(2024, 5, 6), "area": "Hamnen", "control_type": "hastighet",
         "vehicles_checked": 12}])
    promise = make_promise([{"id": "g", "title": "G"}],
                           settings={"suppress_zero": suppress_zero})
    frames = {**_small_world(), "traffic": traffic}
    trafik, week = build_deck(frames, promise, _config({"id": "trafik"}, {"id": "est_vecka"}),
                              today=TODAY, is_demo=False,
                              data_date={"traffic": date(2024, 5, 6)})
    assert ("<5 överträdelser" in trafik.subtitle) is suppress_zero
    assert ("0 överträdelser" in trafik.subtitle) is not suppress_zero
    # Weekly totals of the trend, counted here from the rows (Mondays as week keys).
    times = frames["incidents"]["occurred_at"]
    per_week = (times.dt.normalize() - pd.to_timedelta(times.dt.day_of_week, unit="D")
                ).value_counts()
    mondays = [pd.Timestamp("2024-06-03") - pd.Timedelta(days=7 * i) for i in range(11, -1, -1)]
    expected = [int(per_week.get(m, 0)) for m in mondays]
    assert 0 in expected
    # Incident counts are perturbed (docs/PRIVACY.md): 0..4 are hidden whatever
    # suppress_zero says (a shown 0 would tell every "<5" is at least 1).
    for value, n in zip(week.figure.values, expected, strict=True):
        assert plausibly_published(value, n), (value, n)
        if n < 5:
            assert value is None


def test_traffic_small_offence_count_hides_rate():
    traffic = canonical("traffic", [
        {"date": datetime(2024, 3, 4), "area": "Centrum", "control_type": "hastighet",
         "vehicles_checked": 40, "speeding": 2},
        {"date": datetime(2024, 5, 6), "area": "Hamnen", "control_type": "fordon/EPA-moped",
         "vehicles_checked": 12, "tuned_vehicle": 1},
    ])
    frames = {**_small_world(), "traffic": traffic}
    deck = build_deck(frames, load_promise(), _config({"id": "trafik"}), today=TODAY, is_demo=False,
                      data_date={"traffic": date(2024, 5, 6)})
    slide = deck[0]
    assert slide.big_number == "2"  # controls held: the authorities' own work
    assert "52 kontrollerade fordon" in slide.subtitle.replace(NBSP, " ")
    assert "<5 överträdelser" in slide.subtitle
    assert "per 100" not in slide.subtitle
    assert "Varav 1 " in slide.detail.replace(NBSP, " ")
    # the dataset's one source text, as on the Trafik page and in the report
    from hjo_data.schema import DATASETS
    assert f"Källa: {DATASETS['traffic'].source}" in slide.footer


@pytest.mark.parametrize(("n", "share", "expected"), [
    (20, 0.25, "för få svar"),
    (29, 0.5, "för få svar"),
    (200, 0.253, "25,3" + NBSP + "%"),
])
def test_youth_share_needs_enough_answers(n, share, expected):
    youth = canonical("youth", [
        {"year": 2023, "grade": "åk 9", "gender": "alla", "indicator": "alkohol_12m",
         "share": share, "n": n, "geography": "Hjo"},
        {"year": 2023, "grade": "åk 9", "gender": "alla", "indicator": "snus",
         "share": 0.1, "n": 500, "geography": "Hjo"},
    ])
    deck = build_deck({"youth": youth}, load_promise(),
                      _config({"id": "unga", "indicator": "alkohol_12m", "grade": "åk 9"}),
                      today=TODAY, is_demo=False)
    assert deck[0].big_number == expected
    assert deck[0].message.startswith("Druckit alkohol")


def test_activities_done_vs_planned_counts_rows_per_type():
    rows = [{"date": datetime(2024, m, 10), "activity_type": "EST-möte"} for m in range(1, 6)]
    rows += [{"date": datetime(2024, 4, 2), "activity_type": "trygghetsvandring"}] * 4
    rows += [{"date": datetime(2023, 4, 2), "activity_type": "trygghetsvandring"}]
    activities = canonical("activities", rows)
    promise = make_promise([{"id": "g", "title": "G"}], activities=[
        {"id": "est", "title": "EST", "activity_type": "EST-möte", "planned": {"2024": 40}},
        {"id": "tv", "title": "Vandringar", "activity_type": "trygghetsvandring",
         "planned": {"2024": 3}},
    ])
    deck = build_deck({"activities": activities}, promise, _config({"id": "aktiviteter"}),
                      today=TODAY, is_demo=False,
                      data_date={"activities": date(2024, 5, 10)})
    slide = deck[0]
    # Done within plan: min(5, 40) + min(4, 3) = 8 of 43 planned (2023 is not counted).
    assert slide.big_number == "8 av 43"
    assert slide.figure is not None
    got = dict(zip(slide.figure.labels, slide.figure.values, strict=True))
    assert got == {"trygghetsvandring": 4.0, "EST-möte": 5.0}
    ref = dict(zip(slide.figure.labels, slide.figure.reference or (), strict=True))
    assert ref == {"trygghetsvandring": 3.0, "EST-möte": 40.0}


# --------------------------------------------------------------------------- config


def test_unknown_slide_id_is_a_clear_error():
    with pytest.raises(SlideConfigError) as err:
        parse_config('[[slides]]\nid = "titel"\n[[slides]]\nid = "vaderprognos"\n')
    message = str(err.value)
    assert "vaderprognos" in message and "bild 2" in message and "Kända bilder" in message


@pytest.mark.parametrize(("text", "needle"), [
    ('interval = 20\n', "minst en bild"),
    ('[[slides]]\nid = "mal"\n', "goal"),
    ('[[slides]]\nid = "titel"\nperiod = "igår"\n', "igår"),
    ('[[slides]]\nid = "titel"\ntitel = "x"\n', "okänd nyckel titel"),
    ('interval = "snabb"\n[[slides]]\nid = "titel"\n', "interval"),
    ('[[slides]]\nid = "titel"\n[[slides]]\nid = "titel"\n', "finns redan"),
    ('[[slides\nid = "titel"\n', "TOML"),
])
def test_config_errors(text, needle):
    with pytest.raises(SlideConfigError, match=needle):
        parse_config(text)


def test_unknown_goal_in_config_is_a_clear_error():
    with pytest.raises(SlideConfigError, match="finns_inte"):
        build_deck(_small_world(), load_promise(),
                   _config({"id": "mal", "goal": "finns_inte"}), today=TODAY)


def test_shipped_config_interval():
    raw = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    assert load_config().interval == raw["interval"]


# --------------------------------------------------------------------------- navigation


@pytest.mark.parametrize(("value", "expected"), [
    (0, 0), (-3, 0), (1, 5), (5, 5), (20, 20), (20.4, 20), (600, 600), (9999, 600)])
def test_clamp_interval(value, expected):
    assert clamp_interval(value) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (None, 20), ("", 20), ("abc", 20), ("0", 0), ("30", 30), ("2", 5), ("7,5", 8),
    ("100000", 600), ("nan", 20)])
def test_parse_interval(raw, expected):
    assert parse_interval(raw, 20) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", 0), ("3", 2), ("7", 6), ("99", 6), ("0", 0), ("-4", 0), ("x", 0), (None, 0)])
def test_parse_slide_param(raw, expected):
    assert parse_slide_param(raw, 7) == expected


def test_step_index_wraps_both_ways():
    assert [step_index(i, 4, 1) for i in range(4)] == [1, 2, 3, 0]
    assert [step_index(i, 4, -1) for i in range(4)] == [3, 0, 1, 2]
    assert step_index(0, 0, 1) == 0


def test_should_advance():
    assert should_advance(100.0, 120.0, 20)
    assert should_advance(100.0, 119.5, 20)  # timer jitter
    assert not should_advance(100.0, 105.0, 20)  # just changed by hand
    assert not should_advance(0.0, 1e9, 0)  # auto-advance off


def test_format_counter():
    assert format_counter(2, 7) == f"3{NBSP}/{NBSP}7"


# --------------------------------------------------------------------------- no promise


def test_without_promise_goal_slides_are_left_out(demo_frames):
    """No promise at all (even the packaged file broken): the data slides still show."""
    config = load_config()
    deck = build_deck(demo_frames, None, config, today=TODAY, is_demo=True)
    # the comparison slide needs the promise's official indicators too
    expected = [s.key for s in config.slides if s.id not in ("mal", "laget", "jamforelse")]
    assert [s.id for s in deck] == expected
    assert expected  # the packaged config has data slides
    # Slides that never use the promise are the same as in the full deck.
    full = {s.id: s for s in build_deck(demo_frames, load_promise(), config, today=TODAY,
                                        is_demo=True)}
    data_slides = [s for s in deck if s.kind in ("est_vecka", "trafik", "unga")]
    assert data_slides
    for slide in data_slides:
        assert slide == full[slide.id]


def test_without_promise_and_only_goal_slides_is_a_config_error(demo_frames):
    config = _config({"id": "laget"}, {"id": "mal", "goal": "samverkan"})
    with pytest.raises(SlideConfigError, match="Medborgarlöftet kunde inte läsas"):
        build_deck(demo_frames, None, config, today=TODAY, is_demo=True)


def test_every_dataset_names_its_source_once() -> None:
    from hjo_data.schema import DATASETS, source_text

    assert all(ds.source for ds in DATASETS.values())
    joined = source_text("survey_responses", "survey", "traffic")
    assert joined == f"{DATASETS['survey'].source}; {DATASETS['traffic'].source}"
