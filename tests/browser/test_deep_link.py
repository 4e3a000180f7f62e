"""Real browser: a deep link is the first request a fresh server gets (a bookmark, a link in
a mail). The app must open that page with its own menu (role-filtered, Swedish titles), not
Streamlit's folder-based one (which would list every script in pages/ by file name and run
the page without dashboard.py), no "Page not found", and apply the link's filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, running_dashboard, wait_until_rendered

#: An area of the demo data (data/reference/areas.csv) and a category.
AREA = "Hamnen"
CATEGORY = "klotter"


def _menu(page) -> str:  # noqa: ANN001 - playwright page
    return page.locator('[data-testid="stSidebarNav"]').inner_text()


def _assert_own_menu(page) -> None:  # noqa: ANN001
    nav = _menu(page)
    assert "Lägesbild" in nav and "Händelser (EST)" in nav and "Om data" in nav, nav
    # Streamlit's folder-based menu names entries after the files ("lagesbild", "admin")
    # and lists every script in pages/, the hidden ones too.
    lines = [line.strip() for line in nav.lower().splitlines()]
    for file_name in ("lagesbild", "handelser", "om data", "presentation", "admin",
                      "datahantering"):
        assert lines.count(file_name) == (1 if file_name == "om data" else 0), nav
    assert "Datahantering" not in nav  # listed only for editors
    assert page.get_by_text("Page not found").count() == 0


@pytest.mark.parametrize(("path", "heading"), [("handelser", "Händelser (EST)"),
                                               ("trygghet", "Trygghet"),
                                               ("om-data", "Om data"),
                                               ("logga-in", "Logga in"),
                                               # restricted: the page's own notice
                                               ("datahantering", "Logga in som redaktör")])
def test_deep_link_on_a_fresh_server(browser, tmp_path, path: str, heading: str) -> None:
    with running_dashboard(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            page = context.new_page()
            page.goto(f"{url}/{path}")
            wait_until_rendered(page, text=heading)
            assert page.locator("h1").first.inner_text().strip() == heading \
                or path == "datahantering"
            _assert_own_menu(page)
        finally:
            context.close()


def test_deep_link_with_filters_on_a_fresh_server(browser, tmp_path: Path) -> None:
    """``/handelser?omrade=…&kategori=…`` as the very first request: the Händelser page
    opens with those filters in the sidebar, and they are still applied (and in the URL)
    after moving to Trygghet and back."""
    with running_dashboard(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{url}/handelser?omrade={AREA}&kategori={CATEGORY}")
            wait_until_rendered(page, text="Händelser (EST)")
            _assert_own_menu(page)
            sidebar = page.locator('[data-testid="stSidebar"]')
            area_widget = sidebar.locator('[data-testid="stMultiSelect"]').filter(
                has_text="Område")
            category_widget = sidebar.locator('[data-testid="stMultiSelect"]').filter(
                has_text="Kategori")
            assert AREA in area_widget.inner_text()
            assert CATEGORY in category_widget.inner_text()
            assert f"omrade={AREA}" in page.url and f"kategori={CATEGORY}" in page.url
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "deep_link_handelser_filters.png"),
                            full_page=False)
            # Another page via the menu: the area applies there too and stays in the URL.
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Trygghet").click()
            wait_until_rendered(page, text="Andel otrygga")
            assert "/trygghet" in page.url and f"omrade={AREA}" in page.url, page.url
            area_widget = page.locator('[data-testid="stSidebar"] [data-testid='
                                       '"stMultiSelect"]').filter(has_text="Område")
            assert AREA in area_widget.inner_text()
            # Through a page without filters (Logga in) back to Händelser.
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Logga in").click()
            wait_until_rendered(page, text="Inloggning är inte konfigurerad")
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Händelser (EST)").click()
            wait_until_rendered(page, text="Veckans lägesbild")
            category_widget = page.locator('[data-testid="stSidebar"] [data-testid='
                                           '"stMultiSelect"]').filter(has_text="Kategori")
            assert CATEGORY in category_widget.inner_text()
            assert f"omrade={AREA}" in page.url and f"kategori={CATEGORY}" in page.url, \
                page.url
        finally:
            context.close()
