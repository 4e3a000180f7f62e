"""Keyboard only (WCAG 2.1.1): from the top of the page, Tab reaches the sidebar filters and
the presentation's slide controls, and Enter / Space / the arrow keys operate them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

RENDER_TIMEOUT_MS = 90_000
MAX_TABS = 80
SLIDE = '[data-testid="presentation-slide-body"]'
#: What has the keyboard focus: its widget's label (Streamlit wraps each widget in a
#: container with a data-testid) or the button's text, and whether it is in the sidebar.
FOCUS_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const widget = el.closest('[data-testid="stMultiSelect"], [data-testid="stDateInput"],'
        + ' [data-testid="stSelectbox"], [data-testid="stButton"]');
    const label = widget && widget.querySelector('[data-testid="stWidgetLabel"]');
    return {
        tag: el.tagName, text: (el.innerText || '').trim(),
        widget: widget ? widget.getAttribute('data-testid') : null,
        label: label ? label.innerText.trim() : null,
        sidebar: !!el.closest('[data-testid="stSidebar"]'),
        visible: (() => {  // on screen, so a sighted keyboard user sees where focus is
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                && r.left < innerWidth && r.top < innerHeight
                && getComputedStyle(el).visibility !== 'hidden';
        })(),
    };
}"""


@pytest.fixture
def page(browser, watched):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
    ctx.set_default_timeout(RENDER_TIMEOUT_MS)
    pg = watched(ctx.new_page())
    yield pg
    ctx.close()


def tab_to(page, wanted, *, backwards: bool = False) -> list[dict]:
    """Press Tab (Shift+Tab) until ``wanted(focus)`` holds; the focus path so far. Every
    element the focus lands on must be visible (no focus on an off-screen element)."""
    path: list[dict] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            continue
        path.append(focus)
        assert focus["visible"], f"focus on an invisible element: {focus}"
        if wanted(focus):
            return path
    raise AssertionError(f"not reached with {MAX_TABS} × Tab: {path}")


def test_sidebar_filters_are_reached_and_operated_with_the_keyboard(
        page, dashboard_url: str, wait_for_app) -> None:
    page.goto(f"{dashboard_url}/handelser", wait_until="domcontentloaded")
    wait_for_app(page, text="Händelser (EST)")
    page.locator("body").focus()
    path = tab_to(page, lambda f: f["sidebar"] and f["label"] == "Område")
    labels = [f["label"] for f in path if f["sidebar"]]
    assert "Period" in labels, labels  # the date range comes before the area filter
    # ArrowDown opens the option list; typing narrows it, Enter picks the highlighted
    # area: the filter is applied (URL and chip).
    page.keyboard.press("ArrowDown")
    page.get_by_role("option").first.wait_for(state="visible")
    first_area = "Hamnen"
    page.keyboard.type("Hamn")
    page.get_by_role("option", name=first_area).wait_for(state="visible")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => new URL(location.href).searchParams.has('omrade')",
                           timeout=RENDER_TIMEOUT_MS)
    wait_for_app(page)
    picked = page.evaluate("() => new URL(location.href).searchParams.get('omrade')")
    assert first_area in picked.split(","), picked
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    assert first_area in chips.inner_text(), chips.inner_text()
    # The next filter (Kategori) follows with Tab.
    tab_to(page, lambda f: f["sidebar"] and f["label"] == "Kategori")


def _slide_index(page) -> int:
    return int(page.locator(SLIDE).first.get_attribute("data-slide-index"))


def _wait_for_slide(page, index: int) -> None:
    page.wait_for_function(
        """([sel, want]) => {
            const s = document.querySelectorAll(sel);
            return s.length === 1 && s[0].getAttribute('data-slide-index') === want;
        }""", arg=[SLIDE, str(index)], timeout=RENDER_TIMEOUT_MS)


def test_slide_controls_are_reached_and_operated_with_the_keyboard(
        page, dashboard_url: str, wait_for_app) -> None:
    page.goto(f"{dashboard_url}/?presentation=1&interval=0", wait_until="domcontentloaded")
    wait_for_app(page)
    page.locator(SLIDE).first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    assert _slide_index(page) == 1
    page.locator("body").focus()
    tab_to(page, lambda f: f["widget"] == "stButton" and "Nästa" in f["text"])
    page.keyboard.press("Enter")
    _wait_for_slide(page, 2)
    page.keyboard.press("Space")
    _wait_for_slide(page, 3)
    # Round the whole tab cycle (back to Streamlit's skip link): every stop is visible.
    tab_to(page, lambda f: f["tag"] == "A" and "main content" in f["text"])
    tab_to(page, lambda f: f["widget"] == "stButton" and "Föregående" in f["text"],
           backwards=True)
    page.keyboard.press("Space")
    _wait_for_slide(page, 2)
    page.keyboard.press("Enter")
    _wait_for_slide(page, 1)
