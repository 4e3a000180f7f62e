"""Lägesbild report (hjo_data.report): periods, public rules, HTML self-containment."""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime, timedelta

import pandas as pd
import plotly.offline
import pytest

from hjo_data import periods
from hjo_data import report as rep
from hjo_data.datasource import load_bundle
from hjo_data.formatting import fmt_datetime
from hjo_data.promise import DEFAULT_PROMISE_FILE, load_promise_with_fallback
from tests.conftest import canonical, make_promise, plausibly_published

PLOTLY_JS = plotly.offline.get_plotlyjs()
#: External references: src=/href= with a scheme-relative or http(s) URL, CSS url(...) to the
#: network, @import, <link>.
EXTERNAL = re.compile(
    r"""(?:\bsrc|\bhref)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import|<link\b|<script[^>]*\bsrc\s*=""", re.IGNORECASE)


def without_library(page: str) -> str:
    """The page with the inlined plotly.js removed (it must be there exactly once)."""
    assert page.count(PLOTLY_JS) == 1
    return page.replace(PLOTLY_JS, "")


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(("text", "gran", "start", "end"), [
    ("2024", "Y", date(2024, 1, 1), date(2025, 1, 1)),
    ("2024-Q2", "Q", date(2024, 4, 1), date(2024, 7, 1)),
    ("2024K2", "Q", date(2024, 4, 1), date(2024, 7, 1)),
    ("2024-k4", "Q", date(2024, 10, 1), date(2025, 1, 1)),
    ("2024-05", "M", date(2024, 5, 1), date(2024, 6, 1)),
    ("2024-12", "M", date(2024, 12, 1), date(2025, 1, 1)),
    # 2024-01-01 is a Monday, so ISO week 18 starts 17 weeks later.
    ("2024-W18", "W", date(2024, 1, 1) + timedelta(weeks=17),
     date(2024, 1, 1) + timedelta(weeks=18)),
    ("2024v18", "W", date(2024, 4, 29), date(2024, 5, 6)),
    # 2020 has 53 ISO weeks; week 1 of 2021 starts 2021-01-04, so week 53 starts 12-28.
    ("2020-W53", "W", date(2020, 12, 28), date(2021, 1, 4)),
    (" 2025 ", "Y", date(2025, 1, 1), date(2026, 1, 1)),
])
def test_parse_period_valid(text: str, gran: str, start: date, end: date) -> None:
    period = periods.parse_period(text)
    assert (period.granularity, period.start, period.end) == (gran, start, end)
    assert period.last_day == end - timedelta(days=1)


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-Q5", "2024K0", "24", "2024-5",
                                  "2024/05", "", "2021-W53", "2024-W00", "maj 2024",
                                  "2024-05-01", "20245", "1800", "2024-W18x"])
def test_parse_period_invalid_swedish_error(text: str) -> None:
    with pytest.raises(periods.PeriodError) as err:
        periods.parse_period(text)
    message = str(err.value)
    assert "Ogiltig period" in message
    assert "Ange år" in message


def test_period_labels() -> None:
    assert periods.parse_period("2024-W18").label == "v. 18 2024"
    assert periods.parse_period("2024-05").label == "maj 2024"
    assert periods.parse_period("2024K2").label == "K2 2024"
    assert periods.parse_period("2024").label == "2024"


# --------------------------------------------------------------------------- hand-made data

PROMISE = make_promise([{"id": "g1", "title": "Mål ett", "indicators": [
    {"id": "klotter", "label": "Klotter", "direction": "down",
     "spec": {"dataset": "incidents", "measure": "count", "category": "klotter"}},
    {"id": "otrygg", "label": "Otrygga", "direction": "down",
     "spec": {"dataset": "survey", "measure": "share", "indicator": "otrygg_kvall"}},
]}], settings={"suppression_threshold": 5, "min_survey_n": 30})


def _incidents(rows: list[tuple[datetime, str, str]], description: str = "") -> pd.DataFrame:
    return canonical("incidents", [
        {"incident_id": f"i{i}", "occurred_at": t, "category": c, "area": a, "source": "polis",
         "lat": 58.123456, "lon": 14.654321, "description": description}
        for i, (t, c, a) in enumerate(rows)])


def _frames(incidents: pd.DataFrame, survey_n: int = 20) -> dict[str, pd.DataFrame]:
    survey = canonical("survey", [
        {"year": y, "indicator": "otrygg_kvall", "group": "Totalt", "area": "Hela kommunen",
         "share": s, "n": survey_n} for y, s in ((2023, 0.25), (2024, 0.20))])
    return {"incidents": incidents, "survey": survey}


@pytest.fixture
def small_frames() -> dict[str, pd.DataFrame]:
    """May 2024: 7 klotter + 2 brand in area A; April 2024: 9 klotter (area B)."""
    may = [(datetime(2024, 5, 2 + i, 12), "klotter", "Område A") for i in range(7)]
    may += [(datetime(2024, 5, 20, 9), "brand", "Område A"),
            (datetime(2024, 5, 21, 9), "brand", "Område A")]
    april = [(datetime(2024, 4, 1 + i, 12), "klotter", "Område B") for i in range(9)]
    # One incident in June so the data reaches past May (May is complete).
    june = [(datetime(2024, 6, 3, 12), "klotter", "Område B")]
    return _frames(_incidents(may + april + june, description="HEMLIG-BESKRIVNING-42"))


def _category_table(report: rep.Report) -> dict[str, str]:
    chart = next(c for c in report.charts if c.title == "Händelser per kategori")
    frame = chart.table.frame
    return dict(zip(frame["Kategori"], frame["Antal"], strict=True))


def test_public_category_table_suppression(small_frames) -> None:
    period = periods.parse_period("2024-05")
    public = rep.build_report(small_frames, period, promise=PROMISE, today=date(2024, 6, 10))
    # brand = 2 is small. Public counts are perturbed by cell key (docs/PRIVACY.md; no
    # secondary "..", the total published on its own), so 9 minus klotter is noise.
    shown = _category_table(public)
    assert set(shown) == {"klotter", "brand", "Totalt"} and shown["brand"] == "<5"
    assert plausibly_published(shown["klotter"], 7)
    assert plausibly_published(shown["Totalt"], 9)
    official = rep.build_report(small_frames, period, audience="official", promise=PROMISE,
                                today=date(2024, 6, 10))
    assert _category_table(official) == {"klotter": "7", "brand": "2", "Totalt": "9"}


def test_public_goal_values_small_count_and_too_few_answers(small_frames) -> None:
    # Klotter in May 2024 = 7, April = 9: no small count; shrink May to 3 by dropping rows.
    inc = small_frames["incidents"]
    may_klotter = inc.index[(inc["category"] == "klotter")
                            & (inc["occurred_at"].dt.month == 5)][:4]
    frames = {**small_frames, "incidents": inc.drop(index=may_klotter)}
    period = periods.parse_period("2024-05")
    public = rep.build_report(frames, period, promise=PROMISE, today=date(2024, 6, 10))
    rows = {r.label: r for r in public.rows}
    assert rows["Klotter"].period == "maj 2024"
    assert rows["Klotter"].value == "<5"  # 3 klotter in May
    assert rows["Klotter"].previous == "9"  # April, not small
    assert rows["Otrygga"].value == "för få svar"  # n = 20 < 30
    assert rows["Otrygga"].previous == "för få svar"
    official = rep.build_report(frames, period, audience="official", promise=PROMISE,
                                today=date(2024, 6, 10))
    orows = {r.label: r for r in official.rows}
    assert orows["Klotter"].value.startswith("3 ")
    assert orows["Otrygga"].value.startswith("20,0")


def test_public_shares_shown_when_enough_answers(small_frames) -> None:
    frames = {**small_frames, **{"survey": _frames(small_frames["incidents"], 400)["survey"]}}
    public = rep.build_report(frames, periods.parse_period("2024"), promise=PROMISE,
                              today=date(2025, 1, 10))
    row = next(r for r in public.rows if r.label == "Otrygga")
    assert row.value.startswith("20,0")
    # 0.25 (n 400) vs 0.20 (n 400): z = 0.05 / sqrt(p(1-p)(2/400)) with p = 0.225 -> 1.69
    assert row.beyond_noise == "nej"


def test_html_escapes_data_text_and_has_no_external_refs() -> None:
    evil = "<script>alert(1)</script>"
    rows = [(datetime(2024, 5, 2 + i, 12), "klotter", evil) for i in range(6)]
    rows += [(datetime(2024, 6, 3, 12), "klotter", "x")]
    frames = _frames(_incidents(rows))
    for audience in ("public", "official"):
        report = rep.build_report(frames, periods.parse_period("2024-05"), audience=audience,
                                  promise=PROMISE, today=date(2024, 6, 10))
        page = rep.render_html(report)
        assert evil not in page
        assert "alert(1)</script>" not in page
        if audience == "official":  # shown, as text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        else:  # issue 11: an area not in areas.csv is never public, not even escaped
            assert "alert(1)" not in page and "Okänt område" in page
        assert not EXTERNAL.findall(without_library(page))


def test_public_report_has_no_row_level_data(small_frames) -> None:
    period = periods.parse_period("2024-05")
    public = rep.render_html(rep.build_report(small_frames, period, promise=PROMISE,
                                              today=date(2024, 6, 10)))
    official = rep.render_html(rep.build_report(small_frames, period, audience="official",
                                                promise=PROMISE, today=date(2024, 6, 10)))
    for secret in ("HEMLIG-BESKRIVNING-42", "58.123456", "58,123456", "14.654321"):
        assert secret not in public
    assert "HEMLIG-BESKRIVNING-42" in official
    assert "58.123456" in official
    assert "Tjänstepersonsläge" in official and "Publikt läge" in public


def test_official_appendix_lists_the_periods_latest_rows(small_frames, monkeypatch) -> None:
    monkeypatch.setattr(rep, "APPENDIX_ROWS", 4)
    period = periods.parse_period("2024-05")
    report = rep.build_report(small_frames, period, audience="official", promise=PROMISE,
                              today=date(2024, 6, 10))
    (table,) = report.appendix  # no activities in the frames: no activity table
    # Counted here: the incidents of May 2024, latest first, the first four of them.
    times = small_frames["incidents"]["occurred_at"]
    may = sorted(times[(times >= datetime(2024, 5, 1)) & (times < datetime(2024, 6, 1))],
                 reverse=True)
    assert table.title.endswith(f"(de senaste 4 av {len(may)})")
    assert list(table.frame.columns) == ["Tidpunkt", "Kategori", "Område", "Rapportör",
                                         "Position", "Beskrivning"]
    assert table.frame["Tidpunkt"].tolist() == [fmt_datetime(t) for t in may[:4]]
    assert set(table.frame["Beskrivning"]) == {"HEMLIG-BESKRIVNING-42"}
    assert table.note == "Endast i tjänstepersonsläge."


# --------------------------------------------------------------------------- demo data


@pytest.fixture(scope="module")
def demo_bundle():
    return load_bundle("/nonexistent/hjo-report-test-store", demo_rows=1500)


def _demo_periods(bundle) -> list[str]:
    """One period of each kind inside the demo data (which ends 'today')."""
    last = bundle.data_date["incidents"]
    year = last.year - 1
    return [str(year), f"{year}-Q2", f"{year}-05", f"{year}-W18"]


@pytest.mark.parametrize("kind", [0, 1, 2, 3], ids=["year", "quarter", "month", "week"])
def test_demo_html_report_each_period_kind(demo_bundle, kind: int) -> None:
    period = periods.parse_period(_demo_periods(demo_bundle)[kind])
    report = rep.build_report(demo_bundle, period)
    page = rep.render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="sv">' in page
    assert "@media print" in page
    assert rep.DEMO_LABEL in page
    assert f"Lägesbild {period.label}" in page
    for heading in ("Läget just nu", "Översikt", "Diagram", "Källor och datum",
                    "Definitioner"):
        assert f">{heading}" in page
    assert "Wilson" in page and "Poissontest" in page and "&lt;5" in page
    # Charts: interactive plotly divs, library inlined exactly once, nothing external.
    n_charts = sum(c.figure is not None for c in report.charts)
    assert n_charts >= 3
    assert page.count("Plotly.newPlot(") == n_charts
    assert not EXTERNAL.findall(without_library(page))
    # The overview lists every indicator of the promise with a yes/no noise verdict.
    assert report.rows and {r.beyond_noise for r in report.rows} <= {"ja", "nej", "–"}
    # Data date per dataset, as ISO dates.
    for label, _source, when in report.sources:
        assert label in page
        assert when == "inga data" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", when)


def test_status_text_matches_lagesbild_in_official_mode(demo_bundle) -> None:
    """Official texts are the unmodified lagesbild ones (public only swaps small values)."""
    from hjo_data import lagesbild as lb
    from hjo_data.filters import Filters
    from hjo_data.sections import latest_status_text

    period = periods.parse_period(_demo_periods(demo_bundle)[2])
    promise = load_promise_with_fallback().promise
    today = date.today()
    report = rep.build_report(demo_bundle, period, audience="official", promise=promise,
                              today=today)
    cards = lb.goal_cards(demo_bundle, promise, Filters(end=period.last_day,
                                                        granularity="M"), today)
    assert report.status_text == latest_status_text(cards, "official")


def test_broken_promise_file_report_uses_packaged_promise_with_notice(
        demo_bundle, tmp_path, monkeypatch) -> None:
    import html
    import tomllib

    broken = tmp_path / "trasigt.toml"
    broken.write_text("[goals\n", encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(broken))
    period = periods.parse_period(_demo_periods(demo_bundle)[0])
    report = rep.build_report(demo_bundle, period)
    warning = next(n for n in report.notices if "Standardlöftet" in n)
    assert broken.name in warning and str(tmp_path) not in warning
    packaged = tomllib.loads(DEFAULT_PROMISE_FILE.read_text(encoding="utf-8"))
    assert len(report.rows) == sum(len(g["indicators"]) for g in packaged["goals"])
    assert html.escape(warning) in rep.render_html(report)


def test_find_chromium_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(rep.CHROMIUM_ENV, str(tmp_path / "saknas"))
    assert rep.find_chromium() is None
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv(rep.CHROMIUM_ENV, str(fake))
    assert rep.find_chromium() == str(fake)


def test_render_pdf_reports_failing_browser(monkeypatch, tmp_path) -> None:
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\necho trasig >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(rep.PdfRenderError) as err:
        rep.render_pdf("<html></html>", tmp_path / "x.pdf", chromium=str(fake))
    assert "Chromium skapade ingen PDF" in str(err.value)
    assert not (tmp_path / "x.pdf").exists()


def test_write_report_pdf_without_chromium(monkeypatch, tmp_path, small_frames) -> None:
    monkeypatch.setattr(rep, "find_chromium", lambda: None)
    with pytest.raises(rep.ChromiumMissingError) as err:
        rep.write_report(small_frames, periods.parse_period("2024-05"), "pdf",
                         tmp_path / "r.pdf", promise=PROMISE)
    assert "Chromium" in str(err.value) and "HTML" in str(err.value)
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize("gran", ["W", "M", "Q", "Y"])
def test_period_code_is_what_parse_period_reads_back(gran: str) -> None:
    day = date(2019, 12, 20)
    while day < date(2021, 1, 10):  # ISO-year edges (2020-W53, 2019-W52 in 2019-12-30)
        period = periods.parse_period(periods.period_code(day, gran))
        assert period.granularity == gran and period.start <= day < period.end
        day += timedelta(days=3)


def test_period_codes_are_consecutive_and_newest_first() -> None:
    assert periods.period_codes(date(2024, 2, 10), "M", count=3) == [
        "2024-02", "2024-01", "2023-12"]
    codes = periods.period_codes(date(2021, 1, 2), "W", count=2)
    assert codes == ["2020-W53", "2020-W52"]  # 2021-01-02 belongs to ISO week 53 of 2020


ENGLISH_MONTHS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April"
    r"|June|July|August|September|October|November|December)\b")


def _date_like(values) -> bool:
    return any(isinstance(v, (date, pd.Timestamp)) or re.fullmatch(r"\d{4}-\d{2}(-\d{2})?.*",
                                                                     str(v))
               for v in (values if values is not None else ()))


@pytest.mark.parametrize("gran", ["M", "Y"])
def test_report_charts_have_swedish_months_and_mark_the_running_period(demo_bundle,
                                                                       gran: str) -> None:
    last = demo_bundle.data_date["incidents"]
    period = periods.parse_period(periods.period_code(last, gran))  # the running period
    report = rep.build_report(demo_bundle, period, today=last)
    page = without_library(rep.render_html(report))
    assert not ENGLISH_MONTHS.search(page)
    # plotly.js gets the Swedish locale too (toolbar, any month name it writes itself).
    assert '"locale": "sv"' in page and '"Ladda ner som PNG"' in page
    assert '"shortMonths": ["jan", "feb", "mar", "apr", "maj"' in page
    for chart in report.charts:
        fig = chart.figure
        if fig is None:
            continue
        assert not ENGLISH_MONTHS.search(json.dumps(fig.to_plotly_json(), default=str))
        # A date axis would get English month names from plotly.js: every axis with
        # dates on it is a category axis or has explicit (Swedish) tick labels.
        if any(_date_like(t.x) for t in fig.data if getattr(t, "x", None) is not None):
            axis = fig.layout.xaxis
            assert axis.type == "category" or axis.ticktext, chart.title
            assert not any(ENGLISH_MONTHS.search(str(t)) for t in axis.ticktext or ())
    # Independent: the period is partial unless the data end on its last day.
    last_day = (date(last.year, 12, 31) if gran == "Y"
                else date(last.year, last.month, calendar.monthrange(last.year,
                                                                     last.month)[1]))
    trend = next(c.figure for c in report.charts if c.title == "Händelser över tid")
    partial = [t for t in trend.data if str(t.name).startswith("ofullständig")]
    if last < last_day:
        assert [t.name for t in partial] == [f"ofullständig, t.o.m. {last.isoformat()}"]
        assert len(partial[0].y) == 1  # only the running period
    else:
        assert not partial
