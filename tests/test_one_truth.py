"""Acceptance (issue 10): one survey share, the promise's definition, on every surface.

A real-looking survey export is ingested through ``ingest_file`` (120 answers in 2024: 21
"otrygg", 10 "går aldrig ut"; 100 answers in 2023). The Trygghet page, the Lägesbild page,
the slides and the report must all show the same share text, under the promise's
``otrygg_includes_never_out`` -- for both settings of the flag. The expected share is
counted here from the raw answers and formatted by hand (not with hjo_data.formatting).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from hjo_data import report as rep
from hjo_data.datasource import load_bundle
from hjo_data.ingest import ingest_file
from hjo_data.periods import parse_period
from hjo_data.promise import DEFAULT_PROMISE_FILE, load_promise_with_fallback
from hjo_data.slides import build_deck, parse_config
from hjo_data.store import Store

INDICATOR_LABEL = "Andel otrygga ute ensam sent en kväll i eget bostadsområde"
TODAY = date(2025, 3, 1)

#: year -> (ganska otrygg, mycket otrygg, går aldrig ut, ganska trygg, mycket trygg)
ANSWERS = {2024: (12, 9, 10, 50, 39), 2023: (10, 5, 5, 45, 35)}
LABELS = ("ganska otrygg", "mycket otrygg", "går aldrig ut", "ganska trygg", "mycket trygg")


def _csv() -> bytes:
    lines = ["Löpnummer;År;Område;Kön;Åldersgrupp;Trygghet sent en kväll"]
    number = 0
    for year, counts in ANSWERS.items():
        for label, count in zip(LABELS, counts, strict=True):
            for i in range(count):
                number += 1
                gender = "kvinna" if i % 2 else "man"
                lines.append(f"{number};{year};Hjo centrum;{gender};30–49;{label}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _swedish_pct(numerator: int, denominator: int) -> str:
    """"25,8 %" (one decimal, decimal comma, no-break space), written out by hand."""
    tenths = round(numerator * 1000 / denominator)  # per mille, i.e. percent * 10
    return f"{tenths // 10},{tenths % 10}\u00a0%"


def _expected(year: int, never_out: bool) -> tuple[str, str]:
    """(the share under the promise's definition, the share under the other one)."""
    ganska, mycket, never, safe1, safe2 = ANSWERS[year]
    total = ganska + mycket + never + safe1 + safe2
    with_never = _swedish_pct(ganska + mycket + never, total)
    without = _swedish_pct(ganska + mycket, total - never)
    return (with_never, without) if never_out else (without, with_never)


def test_expected_shares_are_the_issue_figures() -> None:
    assert sum(ANSWERS[2024]) == 120
    assert _expected(2024, True) == ("25,8\u00a0%", "19,1\u00a0%")  # 31/120 and 21/110
    assert _expected(2024, False) == ("19,1\u00a0%", "25,8\u00a0%")


@pytest.fixture(params=[True, False], ids=["never_out_counts", "never_out_excluded"])
def never_out(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch, isolated_store: Path) -> bool:
    """The survey in the test store and a promise copy with the flag set."""
    flag: bool = request.param
    text = DEFAULT_PROMISE_FILE.read_text(encoding="utf-8")
    text, replaced = re.subn(r"(?m)^otrygg_includes_never_out = (true|false)$",
                             f"otrygg_includes_never_out = {'true' if flag else 'false'}",
                             text)
    assert replaced == 1
    path = tmp_path / "medborgarlofte.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(path))
    promise, message = load_promise_with_fallback()
    assert message is None and promise.settings.otrygg_includes_never_out is flag
    result = ingest_file(_csv(), name="trygghetsmatning.csv", store=Store(isolated_store))
    assert result.dataset == "survey_responses"
    assert (result.accepted, result.rejected, result.duplicates) == (220, 0, 0)
    return flag


def test_trygghet_page(never_out: bool, page_app) -> None:  # noqa: ANN001
    shown, other = _expected(2024, never_out)
    at = page_app("trygghet")
    at.run()
    assert not at.exception, at.exception
    table = next(t.value for t in at.dataframe if "Andel otrygga" in t.value.columns
                 and "Grupp" not in t.value.columns and len(t.value.columns) == 4)
    by_year = dict(zip(table["År"].astype(str), table["Andel otrygga"], strict=True))
    assert by_year["2024"] == shown
    assert by_year["2023"] == _expected(2023, never_out)[0]
    everything = " ".join(t.value.to_csv() for t in at.dataframe)
    assert other not in everything


def test_lagesbild_page(never_out: bool, page_app) -> None:  # noqa: ANN001
    shown, other = _expected(2024, never_out)
    at = page_app("lagesbild")
    at.run()
    assert not at.exception, at.exception
    metric = next(m for m in at.metric if m.label == INDICATOR_LABEL)
    assert metric.value == shown
    assert _expected(2023, never_out)[0] in metric.proto.delta  # "från 20,0 % (2023) ..."
    assert other not in " ".join(str(m.value) for m in at.metric)


def test_slides(never_out: bool) -> None:
    shown, _ = _expected(2024, never_out)
    config = parse_config('[[slides]]\nid = "mal"\ngoal = "trygg_plats"\n'
                          'indicator = "otrygg_kvall"\n')
    slide = build_deck(load_bundle(), load_promise_with_fallback().promise, config,
                       today=TODAY)[0]
    assert slide.message == INDICATOR_LABEL
    assert slide.big_number == shown
    assert f"förra: {_expected(2023, never_out)[0]} (2023)" in slide.subtitle


def test_report(never_out: bool) -> None:
    shown, other = _expected(2024, never_out)
    report = rep.build_report(load_bundle(), parse_period("2024"), today=TODAY)
    row = next(r for r in report.rows if r.label == INDICATOR_LABEL)
    assert row.value == shown
    chart = next(c for c in report.charts if c.title == "Trygghet sent en kväll")
    table = dict(zip(chart.table.frame["År"], chart.table.frame["Andel otrygga"],
                     strict=True))
    assert table["2024"] == shown
    page = rep.render_html(report)
    assert shown in page and other not in page
