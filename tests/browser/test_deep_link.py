"""Real browser: a deep link is the first request a fresh server gets (a bookmark, a link in
a mail). The app must open that page with its own menu, not Streamlit's folder-based one
(which would list every module in pages/, helpers included) and no "Page not found"."""

from __future__ import annotations

import pytest

from tests.browser.conftest import running_dashboard, wait_until_rendered


@pytest.mark.parametrize(("path", "heading"), [("handelser", "Händelser (EST)"),
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
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Lägesbild" in nav and "Händelser (EST)" in nav
            for helper in ("common", "auth ui", "report ui", "presentation"):
                assert helper not in nav.lower().splitlines(), nav
            assert page.get_by_text("Page not found").count() == 0
            assert "Datahantering" not in nav  # listed only for editors
        finally:
            context.close()
