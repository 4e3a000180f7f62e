"""The dashboard in a real browser: loads on demo data, every page shows the demo label;
one 1920×1080 screenshot per page in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DEMO_LABEL = "Demodata – inte verklig statistik"
#: url path -> the page's title (h1) — the pages listed for the public in dashboard.py.
PAGES = {
    "lagesbild": "Lägesbild",
    "trygghet": "Trygghet",
    "handelser": "Händelser (EST)",
    "trafik": "Trafik",
    "unga": "Unga",
    "aktiviteter": "Aktiviteter",
    "om-data": "Om data",
}


@pytest.fixture(scope="module")
def context(browser):
    """One context for the module: the browser cache keeps Streamlit's scripts."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="sv-SE")
    ctx.set_default_timeout(90_000)  # generous: CI machines can be busy
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, watched):
    pg = watched(context.new_page())
    yield pg
    pg.close()


def _unexpected_errors(page) -> list[str]:
    return list(page.page_errors)


def _unexpected_requests(page) -> list[str]:
    """Every request outside the dashboard's own server: the pages work fully offline
    (the area map has no plotly geo/topojson, the favicon is drawn locally)."""
    return list(page.external_requests)


def test_dashboard_loads_demo_overview(page, dashboard_url: str, artifacts_dir: Path,
                                       wait_for_app) -> None:
    page.goto(dashboard_url, wait_until="domcontentloaded")
    wait_for_app(page, text="Läget just nu")
    heading = page.locator("h1").filter(has_text="Lägesbild").first
    assert heading.is_visible()
    assert page.get_by_text(DEMO_LABEL).first.is_visible()
    assert page.get_by_text("Publikt läge").first.is_visible()
    # The navigation lists the public pages (and no data-management page without login).
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav_text = nav.inner_text()
    for title in ("Trygghet", "Händelser (EST)", "Om data"):
        assert title in nav_text
    assert "Datahantering" not in nav_text and "Administration" not in nav_text
    assert not page.locator('[data-testid="stException"]').count()
    assert not _unexpected_errors(page), page.page_errors
    assert not _unexpected_requests(page), page.external_requests
    # The overview is longer than the screen: Streamlit's main container scrolls (so the
    # presentation test's "no scroll" measurement would notice scrolling).
    scroll = page.evaluate("""() => {
        const m = document.querySelector('[data-testid="stMain"]');
        return [m.scrollHeight, m.clientHeight];
    }""")
    assert scroll[0] > scroll[1], scroll
    page.screenshot(path=str(artifacts_dir / "page_lagesbild_1920x1080.png"))


@pytest.mark.parametrize("url_path", [p for p in PAGES if p != "lagesbild"])
def test_page_shows_demo_label(page, dashboard_url: str, artifacts_dir: Path,
                               url_path: str, wait_for_app) -> None:
    page.goto(f"{dashboard_url}/{url_path}", wait_until="domcontentloaded")
    wait_for_app(page, text=DEMO_LABEL)
    assert page.locator("h1").filter(has_text=PAGES[url_path]).first.is_visible()
    assert page.get_by_text(DEMO_LABEL).first.is_visible()
    assert not page.locator('[data-testid="stException"]').count(), \
        page.locator('[data-testid="stException"]').first.inner_text()
    # The normal pages DO show Streamlit's sidebar (the presentation test's chrome checks
    # use the same selectors, so this proves they match something real).
    assert page.locator('[data-testid="stSidebar"]').first.is_visible()
    assert not _unexpected_errors(page), page.page_errors
    assert not _unexpected_requests(page), page.external_requests
    page.screenshot(path=str(artifacts_dir / f"page_{url_path}_1920x1080.png"))


def test_pages_make_no_external_requests(page, dashboard_url: str, wait_for_app) -> None:
    """The Händelser page (area map drawn) loads with no request to any other host."""
    page.goto(f"{dashboard_url}/handelser", wait_until="domcontentloaded")
    wait_for_app(page, text=DEMO_LABEL)
    page.get_by_text("Karta", exact=True).first.scroll_into_view_if_needed()
    page.locator(".js-plotly-plot").last.wait_for(state="visible")
    page.wait_for_timeout(1000)  # a late fetch (e.g. a topojson) would have started
    assert not page.external_requests, page.external_requests
    assert not page.page_errors, page.page_errors
