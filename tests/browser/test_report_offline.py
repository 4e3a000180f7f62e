"""The HTML lägesbild (``python -m hjo_data report … --format html``) opened in chromium with
the network disabled: every chart is drawn, nothing is fetched, nothing fails to load."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent.parent
REPORT_DEMO_ROWS = 2_000
ENGLISH_MONTHS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April"
    r"|June|July|August|September|October|November|December)\b")


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A public HTML report for the latest year of the demo data (empty store), made by the
    real CLI in a subprocess."""
    from hjo_data.datasource import load_bundle

    tmp = tmp_path_factory.mktemp("report")
    store = tmp / "store"
    store.mkdir()
    latest = load_bundle(store, demo_rows=REPORT_DEMO_ROWS).data_date.get("incidents")
    assert latest is not None  # the year of the latest EST report is the report period
    out = tmp / "lagesbild.html"
    env = {k: v for k, v in os.environ.items() if k not in ("HJO_MODE", "HJO_DEV_ROLE")}
    env.update({"HJO_DATA_DIR": str(store), "HJO_DEMO_ROWS": str(REPORT_DEMO_ROWS)})
    proc = subprocess.run(
        [sys.executable, "-m", "hjo_data", "report", "--period", str(latest.year),
         "--format", "html", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.stat().st_size > 0
    return out


def test_html_report_renders_charts_offline(browser, html_report: Path,
                                            artifacts_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    requested: list[str] = []
    failed: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            requested.append(url)
            r.abort()

    context.set_default_timeout(90_000)
    context.route("**/*", route)
    page = context.new_page()
    console_errors: list[str] = []
    page_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("requestfailed", lambda req: failed.append(req.url))
    try:
        page.goto(html_report.as_uri(), wait_until="load", timeout=90_000)
        page.wait_for_selector(".plotly .main-svg", state="visible", timeout=90_000)
        # Every chart container of the report got drawn (plotly adds .main-svg to each).
        page.wait_for_function(
            """() => {
                const plots = document.querySelectorAll('.plotly-graph-div, .js-plotly-plot');
                return plots.length > 0 &&
                       [...plots].every(p => p.querySelector('.main-svg'));
            }""", timeout=90_000)
        charts = page.locator(".js-plotly-plot")
        assert charts.count() >= 1
        drawn = page.locator(".plotly .main-svg")
        assert drawn.first.is_visible()
        # Something is actually plotted: bars, lines or markers inside a drawn chart.
        assert page.locator(".plotly .main-svg .trace, .plotly .main-svg path.point, "
                            ".plotly .main-svg .bars path").count() > 0
        assert page.get_by_text("Publikt läge").first.is_visible()
        # The axes plotly.js drew speak Swedish: no English month name in any tick.
        ticks = page.locator(".plotly .xtick text, .plotly .ytick text").all_text_contents()
        assert ticks
        english = [t for t in ticks if ENGLISH_MONTHS.search(t)]
        assert not english, english
        assert any(re.search(r"\b(jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec) \d{4}", t)
                   for t in ticks), ticks
        page.screenshot(path=str(artifacts_dir / "report_html_offline.png"), full_page=True)
    finally:
        context.close()
    assert not requested, f"the report requests network resources: {requested}"
    assert not failed, f"failed loads: {failed}"
    assert not page_errors, page_errors
    assert not [m for m in console_errors if "Failed to load" in m or "ERR_" in m], \
        console_errors
    assert not console_errors, console_errors
