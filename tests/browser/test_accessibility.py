"""WCAG 2.1 A/AA in a real browser: axe-core (bundled by ``axe-playwright-python``) on every
page a public visitor can reach and on every slide of the presentation, after the page has
settled: no serious or critical violation.

The window is 1 280 px wide (a council member's laptop) and, after the first render, as tall
as the page, so every section is on screen: axe reports contrast only as "needs review"
for text scrolled out of view. Every "Visa data" expander is opened first, so the notes
and tables inside are checked too. No rule and no element is excluded.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

RENDER_TIMEOUT_MS = 90_000
WIDTH = 1280
#: url path -> page title: every page in a public visitor's menu (dashboard.PAGES without
#: the role-gated ones), including the login page.
PUBLIC_PAGES = {
    "lagesbild": "Lägesbild",
    "trygghet": "Trygghet",
    "handelser": "Händelser (EST)",
    "trafik": "Trafik",
    "unga": "Unga",
    "aktiviteter": "Aktiviteter",
    "jamforelse": "Jämförelse",
    "om-data": "Om data",
    "logga-in": "Logga in",
}
#: WCAG 2.0/2.1 level A and AA rules (axe-core tags).
AXE_OPTIONS = {"runOnly": {"type": "tag",
                           "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
BLOCKING = ("serious", "critical")
SLIDE = '[data-testid="presentation-slide-body"]'
#: Grow the window to the page's height: Streamlit's main container scrolls inside it.
PAGE_HEIGHT_JS = """() => {
    const m = document.querySelector('[data-testid="stMain"]');
    return m ? m.scrollHeight : 0;
}"""
OPEN_EXPANDERS_JS = """() => document.querySelectorAll(
    '[data-testid="stExpander"] details:not([open]) > summary').forEach(s => s.click())"""

_AXE = Axe()


def blocking_violations(page) -> list[str]:
    """axe-core's serious/critical WCAG 2.1 A/AA violations on the page, one readable line
    per element (rule, impact, selector, html, axe's message)."""
    found = _AXE.run(page, options=AXE_OPTIONS).response["violations"]
    lines = []
    for rule in found:
        if rule["impact"] not in BLOCKING:
            continue
        for node in rule["nodes"]:
            why = "; ".join(check["message"] for part in ("any", "all", "none")
                            for check in node.get(part, []))
            lines.append(f"{rule['id']} ({rule['impact']}) {node['target']}: "
                         f"{node['html'][:160]} -> {why[:240]}")
    return lines


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 900}, locale="sv-SE")
    ctx.set_default_timeout(RENDER_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, watched):
    pg = watched(context.new_page())
    yield pg
    pg.close()


def settle_full_height(page, wait_for_app) -> None:
    """Open the expanders, then make the window as tall as the page, and wait again."""
    wait_for_app(page)
    page.evaluate(OPEN_EXPANDERS_JS)
    wait_for_app(page)
    height = int(page.evaluate(PAGE_HEIGHT_JS))
    page.set_viewport_size({"width": WIDTH, "height": min(max(900, height + 40), 16_000)})
    page.wait_for_timeout(300)  # layout and plotly's resize
    wait_for_app(page)


@pytest.mark.parametrize("url_path", list(PUBLIC_PAGES))
def test_public_page_has_no_serious_axe_violation(page, dashboard_url: str, url_path: str,
                                                   wait_for_app) -> None:
    page.goto(f"{dashboard_url}/{url_path}", wait_until="domcontentloaded")
    wait_for_app(page, text=PUBLIC_PAGES[url_path])
    settle_full_height(page, wait_for_app)
    assert page.locator("h1").filter(has_text=PUBLIC_PAGES[url_path]).first.is_visible()
    assert not page.locator('[data-testid="stException"]').count()
    problems = blocking_violations(page)
    assert not problems, f"/{url_path}:\n" + "\n".join(problems)


def test_every_slide_has_no_serious_axe_violation(page, dashboard_url: str,
                                                  wait_for_app) -> None:
    page.goto(f"{dashboard_url}/?presentation=1&interval=0", wait_until="domcontentloaded")
    wait_for_app(page)
    slide = page.locator(SLIDE).first
    slide.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    count = int(slide.get_attribute("data-slide-count"))
    assert count >= 3
    for index in range(1, count + 1):
        if index > 1:
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                """([sel, want]) => {
                    const s = document.querySelectorAll(sel);
                    return s.length === 1 && s[0].getAttribute('data-slide-index') === want;
                }""", arg=[SLIDE, str(index)], timeout=RENDER_TIMEOUT_MS)
            wait_for_app(page)
        problems = blocking_violations(page)
        assert not problems, f"slide {index}/{count}:\n" + "\n".join(problems)


def test_axe_check_finds_a_real_contrast_violation(page, dashboard_url: str,
                                                   wait_for_app) -> None:
    """The harness is not inert: light grey text (#aaaaaa on white, 2.3:1) put into a page
    is reported as a serious colour-contrast violation."""
    page.goto(f"{dashboard_url}/om-data", wait_until="domcontentloaded")
    wait_for_app(page, text="Om data")
    page.evaluate("""() => {
        const p = document.createElement('p');
        p.id = 'axe-probe'; p.textContent = 'Svag text'; p.style.color = '#aaaaaa';
        document.querySelector('[data-testid="stMain"] h1').after(p);
    }""")
    problems = blocking_violations(page)
    assert any("color-contrast (serious)" in line and "axe-probe" in line
               for line in problems), problems
