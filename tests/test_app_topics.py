"""AppTest runs of the topic pages: demo data, hand-made stores, filters leaving no rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from hjo_data import periods
from tests.conftest import canonical, incidents, plausibly_published

PAGES = ("trygghet", "handelser", "trafik", "unga", "aktiviteter")


def _texts(at) -> str:  # noqa: ANN001
    parts = [e.value for e in at.info] + [e.value for e in at.markdown] \
        + [e.value for e in at.subheader] + [str(m.value) for m in at.metric]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_with_empty_store(page_app, name: str) -> None:  # noqa: ANN001
    at = page_app(name)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value  # Swedish page title shown


@pytest.mark.parametrize("name", PAGES)
def test_page_with_filter_leaving_no_rows(page_app, store_with, name: str) -> None:  # noqa: ANN001
    store_with(incidents=incidents([("2024-05-06T10:00", "klotter", "Hjo centrum")]))
    at = page_app(name)
    at.query_params["omrade"] = "Finns inte"
    at.run()
    assert not at.exception, at.exception
    assert at.info, "a friendly message is expected instead of empty charts"


def test_handelser_weekly_metric_matches_hand_count(page_app, store_with) -> None:  # noqa: ANN001
    last = date(2024, 5, 15)
    spec = [((datetime(2024, 5, 6, 10) + timedelta(hours=7 * i)).isoformat(),
             "klotter" if i % 3 else "brand", "Hjo centrum") for i in range(17)]
    spec += [("2024-04-20T10:00", "klotter", "Hamnen"), (f"{last.isoformat()}T08:00",
                                                          "klotter", "Hamnen")]
    frame = incidents(spec)
    store_with(incidents=frame)
    at = page_app("handelser")
    at.run()
    assert not at.exception, at.exception
    # Independent count: rows in ISO week 19 of 2024 (2024-05-06 .. 2024-05-12).
    times = frame["occurred_at"]
    expected = int(((times >= "2024-05-06") & (times < "2024-05-13")).sum())
    metric = next(m for m in at.metric if m.label == "Händelser senaste hela veckan")
    # Public mode: perturbed by its cell key within the published bound (docs/PRIVACY.md).
    assert plausibly_published(metric.value, expected)
    assert periods.latest_complete_period(last, "W")[0] == date(2024, 5, 6)


def test_trafik_rate_metric(page_app, store_with) -> None:  # noqa: ANN001
    traffic = canonical("traffic", [
        {"date": pd.Timestamp("2024-03-05"), "area": "Hjo centrum", "control_type": "hastighet",
         "vehicles_checked": 120, "speeding": 9},
        {"date": pd.Timestamp("2024-04-05"), "area": "Hamnen", "control_type": "nykterhet",
         "vehicles_checked": 80, "drunk_driving": 1},
    ])
    store_with(traffic=traffic)
    at = page_app("trafik")
    at.run()
    assert not at.exception, at.exception
    metric = next(m for m in at.metric if m.label == "Per 100 fordon")
    assert metric.value == "5,0"  # (9 + 1) / (120 + 80) * 100


def test_aktiviteter_and_unga_with_data(page_app, store_with, monkeypatch) -> None:  # noqa: ANN001
    acts = canonical("activities", [
        {"date": pd.Timestamp("2024-04-01"), "activity_type": "trygghetsvandring",
         "organisers": "Polisen och kommunen", "participants": 10, "findings": 6,
         "actions_decided": 4, "actions_done": 3, "notes": "Trasig belysning vid torget"},
    ])
    youth = canonical("youth", [
        {"year": y, "grade": g, "gender": "alla", "indicator": "alkohol_12m", "share": s,
         "n": 80, "geography": "Hjo"}
        for y, s in ((2022, 0.3), (2024, 0.25)) for g in ("åk 9", "gy 2")])
    store_with(activities=acts, youth=youth)
    monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("aktiviteter")
    at.run()
    assert not at.exception, at.exception
    assert any("Anteckningar" in e.label for e in at.expander)
    at = page_app("unga")
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) >= 1


def _values(obj) -> list:  # noqa: ANN001
    """Plain list from a plotly array, decoding typed arrays ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(obj, dict) and "bdata" in obj:
        return np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"]).tolist()
    return list(obj)


def _chart(at, title_start: str):  # noqa: ANN001, ANN202
    """The plotly Figure (decoded, typed arrays included) whose title starts so."""
    import plotly.io as pio

    for chart in at.get("plotly_chart"):
        fig = pio.from_json(chart.proto.spec)
        if (fig.layout.title.text or "").startswith(title_start):
            return fig
    raise AssertionError(f"no chart titled {title_start!r}")


def test_trygghet_share_matches_hand_count(page_app, store_with, monkeypatch) -> None:  # noqa: ANN001
    # 14 answers: below the public minimum n, so the officials' view shows the number.
    monkeypatch.setenv("HJO_MODE", "official")
    answers = ["ganska otrygg"] * 3 + ["mycket otrygg"] + ["ganska trygg"] * 5 \
        + ["mycket trygg"] * 3 + ["går aldrig ut"] * 2
    rows = [{"year": 2024, "area": "Hjo centrum", "gender": "kvinna" if i % 2 else "man",
             "age_group": "30–49", "safety_evening": a, "weight": 1.0}
            for i, a in enumerate(answers)]
    store_with(survey_responses=canonical("survey_responses", rows))
    at = page_app("trygghet")
    at.run()
    assert not at.exception, at.exception
    spec = _chart(at, "Andel otrygga ensam ute sent en kväll")
    line = spec.data[1]
    unsafe = sum(a in ("ganska otrygg", "mycket otrygg") for a in answers)
    # Either definition of the denominator (with or without "går aldrig ut") is accepted.
    candidates = {round(unsafe / (len(answers) - 2) * 100, 6),
                  round((unsafe + 2) / len(answers) * 100, 6)}
    assert round(_values(line.y)[0], 6) in candidates


def test_unga_and_aktiviteter_values(page_app, store_with) -> None:  # noqa: ANN001
    youth = canonical("youth", [
        {"year": y, "grade": "åk 9", "gender": "alla", "indicator": "alkohol_12m", "share": s,
         "n": 80, "geography": "Hjo"} for y, s in ((2022, 0.3), (2024, 0.25))])
    acts = canonical("activities", [
        {"date": pd.Timestamp("2024-04-01"), "activity_type": "trygghetsvandring",
         "organisers": "Polisen", "actions_decided": 4, "actions_done": 3},
        {"date": pd.Timestamp("2024-06-01"), "activity_type": "trygghetsvandring",
         "organisers": "Kommunen", "actions_decided": 4, "actions_done": 1}])
    store_with(youth=youth, activities=acts)
    at = page_app("unga")
    at.run()
    assert not at.exception, at.exception
    spec = _chart(at, "Druckit alkohol")
    assert [round(v, 6) for v in _values(spec.data[0].y)] == [30.0, 25.0]
    at = page_app("aktiviteter")
    at.run()
    assert not at.exception, at.exception
    spec = _chart(at, "Andel genomförda åtgärder")
    # The data end 2024-06-01: 2024 is a running year, drawn as the partial (dashed) point.
    line = next(t for t in spec.data if str(t.name) == "ofullständig, t.o.m. 2024-06-01")
    assert line.line.dash == "dash"
    assert round(_values(line.y)[0], 6) == round((3 + 1) / (4 + 4) * 100, 6)
    done = _chart(at, "Genomförda och planerade").data[0]
    assert dict(zip(_values(done.x), _values(done.y), strict=True))["trygghetsvandring"] == 2


def _row_table(at) -> pd.DataFrame | None:  # noqa: ANN001
    for frame in at.dataframe:
        value = frame.value
        if isinstance(value, pd.DataFrame) and "Beskrivning" in value.columns:
            return value
    return None


def test_handelser_latest_rows_only_for_officials(page_app, store_with,  # noqa: ANN001
                                                  monkeypatch) -> None:
    start = datetime(2024, 1, 1, 8)
    n = 230  # more than the table shows
    rows = [{"occurred_at": start + timedelta(hours=13 * i), "category": "klotter",
             "area": "Hamnen", "source": "kommun", "description": f"Beskrivning nr {i}"}
            for i in range(n)]
    rows[-1]["description"] = "=HYPERLINK(\"x\")"  # the newest: a formula-like text
    rows[5]["occurred_at_has_time"] = False
    store_with(incidents=canonical("incidents", rows))
    monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("handelser")
    at.run()
    assert not at.exception, at.exception
    assert any(s.value == "Senaste händelser (rader)" for s in at.subheader)
    table = _row_table(at)
    assert table is not None
    # Independently: the 200 newest rows, newest first.
    newest = sorted(range(n), key=lambda i: rows[i]["occurred_at"], reverse=True)[:200]
    assert len(table) == 200
    assert list(table["Beskrivning"]) == [rows[i]["description"] for i in newest]
    assert list(table["Tidpunkt"])[:2] == [
        rows[i]["occurred_at"].strftime("%Y-%m-%d %H:%M") for i in newest[:2]]
    assert list(table.columns) == ["Tidpunkt", "Kategori", "Område", "Rapportör",
                                   "Beskrivning"]
    assert any(b.proto.label.startswith("Ladda ner CSV (visade rader)")
               for b in at.get("download_button"))
    assert "Beskrivning nr" in str([e.proto for e in at.main])  # the public check can fail

    # Public mode: the section does not exist and no description is sent anywhere.
    monkeypatch.delenv("HJO_MODE")
    at = page_app("handelser")
    at.run()
    assert not at.exception, at.exception
    assert not any("rader" in s.value for s in at.subheader)
    assert _row_table(at) is None
    assert "Beskrivning nr" not in str([e.proto for e in at.main])


def test_aktiviteter_year_without_a_plan_shows_only_what_was_done(page_app,  # noqa: ANN001
                                                                  store_with) -> None:
    from hjo_data.promise import load_promise

    planned_years = {int(y) for a in load_promise().activities for y in a.planned}
    year = max(planned_years) + 2  # the promise plans nothing for this year
    acts = canonical("activities", [
        {"date": pd.Timestamp(f"{year}-03-01"), "activity_type": "grannsamverkan",
         "organisers": "Polisen"}])
    store_with(activities=acts)
    at = page_app("aktiviteter")
    at.query_params["start"] = f"{year}-01-01"
    at.query_params["end"] = f"{year}-12-31"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="akt_ar").value == year
    spec = _chart(at, f"Genomförda aktiviteter {year}")
    assert [t.name for t in spec.data] == ["Genomförda"]  # no empty "Planerade" series
    assert any(f"inga planerade antal för {year}" in c.value for c in at.caption)


def test_unga_comparison_says_whether_differences_are_beyond_noise(page_app,  # noqa: ANN001
                                                                   store_with) -> None:
    youth_rows = canonical("youth", [
        {"year": 2024, "grade": "åk 9", "gender": "alla", "indicator": "alkohol_12m",
         "share": share, "n": n, "geography": geo}
        for geo, share, n in (("Hjo", 0.25, 90), ("Skaraborg", 0.40, 2000),
                              ("Riket", 0.286, 3000))])
    store_with(youth=youth_rows)
    at = page_app("unga")
    at.run()
    assert not at.exception, at.exception
    notes = [c.value for c in at.caption if "slumpvariationen" in c.value]
    assert len(notes) == 1
    assert "lägre än Skaraborg" in notes[0] and "Riket" in notes[0]



def test_unga_default_alla_shows_gender_split_data(page_app, store_with) -> None:  # noqa: ANN001
    """Youth data reported only per gender: the default "Alla" shows the n-weighted pool
    (with a note), not "Inga resultat"."""
    rows = [(2022, "kvinna", 0.20, 70), (2022, "man", 0.30, 50),
            (2024, "kvinna", 0.10, 60), (2024, "man", 0.40, 40)]
    store_with(youth=canonical("youth", [
        {"year": y, "grade": "åk 9", "gender": g, "indicator": "alkohol_12m", "share": s,
         "n": n, "geography": "Hjo"} for y, g, s, n in rows]))
    at = page_app("unga")
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="unga_kon").value == "alla"
    assert not any("Inga resultat" in i.value for i in at.info)
    expected = []
    for year in (2022, 2024):
        parts = [(s, n) for y, _, s, n in rows if y == year]
        expected.append(round(100 * sum(s * n for s, n in parts) / sum(n for _, n in parts),
                              6))
    spec = _chart(at, "Druckit alkohol")
    assert [round(v, 6) for v in _values(spec.data[0].y)] == expected
    assert any("sammanvägda" in c.value for c in at.caption)
