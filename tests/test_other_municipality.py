"""Another municipality by configuration only: a promise file whose [municipality] says
"Exempelby" (everything else copied from Hjo's) must make every youth figure, default and
title about Exempelby – nothing falls back to Hjo."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import demo, youth
from hjo_data import lagesbild as lb
from hjo_data import promise as promise_mod
from hjo_data.filters import Filters
from hjo_data.ingest import prepare_ingest
from hjo_data.slides import build_deck, parse_config
from hjo_data.store import Store
from tests.conftest import canonical

HOME = "Exempelby"


@pytest.fixture
def exempelby(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    text = promise_mod.DEFAULT_PROMISE_FILE.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^name = "Hjo kommun"$', 'name = "Exempelby kommun"', text)
    text = re.sub(r'(?m)^short_name = "Hjo"$', f'short_name = "{HOME}"', text)
    path = tmp_path / "exempelby.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(path))
    assert promise_mod.load_promise_with_fallback() == (promise_mod.load_promise(path), None)
    assert promise_mod.home_municipality() == HOME
    return path


def _youth_rows(share_home: float, share_country: float) -> pd.DataFrame:
    rows = [{"year": y, "grade": "åk 9", "gender": "alla", "indicator": "berusad_4v",
             "share": share, "n": n, "geography": geo}
            for y in (2022, 2024)
            for geo, share, n in ((HOME, share_home, 90), ("Riket", share_country, 3000))]
    return canonical("youth", rows)


def test_youth_file_without_geography_is_about_the_configured_municipality(
        exempelby: Path, tmp_path: Path) -> None:
    csv = ("År;Årskurs;Kön;Indikator;Andel;Antal svar\n"
           "2024;åk 9;alla;berusad_4v;12,5;80\n").encode()
    prepared = prepare_ingest(csv, name="ungdomsenkat.csv", store=Store(tmp_path / "s"))
    assert prepared.validated.accepted["geography"].tolist() == [HOME]


def test_youth_series_and_comparison_put_the_configured_municipality_first(
        exempelby: Path) -> None:
    data = _youth_rows(0.10, 0.30)
    series = youth.youth_series(data, ["berusad_4v"], grades=("åk 9",), genders=("alla",))
    assert series["share"].tolist() == [0.10, 0.10]  # only Exempelby, never pooled
    assert youth.geographies(data) == [HOME, "Riket"]
    comp = youth.comparison(data, ["berusad_4v"], year=2024, grade="åk 9")
    assert comp["geography"].tolist() == [HOME, "Riket"]


def test_goal_card_reads_the_configured_municipality_not_the_country(exempelby: Path) -> None:
    cards = lb.goal_cards({"youth": _youth_rows(0.10, 0.30)}, promise_mod.load_promise(),
                          Filters(), date(2024, 12, 31), population=5000)
    youth_inds = [i for c in cards for i in c.indicators if i.indicator_id == "berusad_4v_ak9"]
    assert len(youth_inds) == 1
    assert youth_inds[0].latest_value == pytest.approx(0.10)
    assert youth_inds[0].n == 90  # Exempelby's answers, not the country's 3 000


def test_demo_data_and_title_slide_name_the_configured_municipality(exempelby: Path) -> None:
    frames = demo.generate(rows=2_000, today=date(2025, 12, 31))
    geographies = set(frames["youth"]["geography"])
    assert HOME in geographies and "Hjo" not in geographies
    config = parse_config('[[slides]]\nid = "titel"\n')
    slide = build_deck(frames, promise_mod.load_promise(), config, today=date(2025, 12, 31),
                       is_demo=True)[0]
    assert slide.title == f"Trygghetsläget i {HOME}"
    assert "Exempelby kommun" in slide.subtitle and "Hjo" not in slide.subtitle


def test_om_data_names_the_configured_municipality(exempelby: Path, page_app) -> None:  # noqa: ANN001
    at = page_app("om_data")
    at.run()
    assert not at.exception
    intro = next(m.value for m in at.markdown if "Dashboarden sammanställer" in m.value)
    assert "Exempelby kommun" in intro and "Hjo" not in intro
