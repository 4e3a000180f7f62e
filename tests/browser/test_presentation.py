"""Presentation mode (``/?presentation=1``) in a real browser at 1920×1080 and 1280×720:
no scrollbar, no Streamlit chrome, every slide fits, the presenter's keys advance the deck.
Screenshots: test-artifacts/presentation_<w>x<h>.png (first slide) and _slideNN.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

#: Same bound as the conftest's render wait (generous: CI machines can be busy).
RENDER_TIMEOUT_MS = 90_000
VIEWPORTS = [(1920, 1080), (1280, 720)]
SLIDE = '[data-testid="presentation-slide-body"]'
COUNTER = '[data-testid="presentation-counter"]'
#: Streamlit chrome that must not be visible in presentation mode.
CHROME = (
    '[data-testid="stHeader"]',
    '[data-testid="stToolbar"]',
    '[data-testid="stDecoration"]',
    '[data-testid="stSidebar"]',
    '[data-testid="stSidebarCollapsedControl"]',
    '[data-testid="stSidebarNav"]',
    '[data-testid="stMainMenu"]',
    '[data-testid="stAppDeployButton"]',
    '[data-testid="stStatusWidget"]',
    "#MainMenu",
    "header",
    "footer",
)
#: Scroll extents of the document and of Streamlit's own scroll containers.
SCROLL_JS = """() => {
    const doc = document.scrollingElement || document.documentElement;
    const out = {doc: [doc.scrollHeight, window.innerHeight, doc.scrollWidth,
                       window.innerWidth]};
    const boxes = {
        main: document.querySelector('[data-testid="stMain"]')
              || document.querySelector('section.main'),
        view: document.querySelector('[data-testid="stAppViewContainer"]'),
        slide: document.querySelector('[data-testid="presentation-slide-body"]'),
    };
    for (const [name, el] of Object.entries(boxes)) {
        if (el) out[name] = [el.scrollHeight, el.clientHeight, el.scrollWidth,
                             el.clientWidth];
    }
    return out;
}"""
#: Bottom/right edge of every visible element of the slide (must lie inside the viewport).
EDGES_JS = """(sel) => {
    const slide = document.querySelector(sel);
    let bottom = 0, right = 0;
    for (const el of [slide, ...slide.querySelectorAll('*')]) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
    }
    return [bottom, right];
}"""


#: Fixed-position parts of a slide (their text) that must not cover each other.
OVERLAP_JS = """() => {
    const sels = ['.pres-footer', '.pres-counter', '.pres-demo', '.pres-title',
                  '.st-key-presentation-controls'];
    const boxes = sels.map(s => [s, document.querySelector(s)])
        .filter(([, el]) => el).map(([s, el]) => {
            if (s.startsWith('.st-key')) return [s, el.getBoundingClientRect()];
            const range = document.createRange();  // the text itself, not the block's box
            range.selectNodeContents(el);
            return [s, range.getBoundingClientRect()];
        });
    const hits = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, r] = boxes[i], [b, q] = boxes[j];
        if (r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom)
            hits.push(a + ' / ' + b);
    }
    return hits;
}"""


@pytest.fixture(params=VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def viewport(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param


@pytest.fixture
def presentation(browser, dashboard_url: str, viewport: tuple[int, int], wait_for_app,
                 watched):
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height},
                                  locale="sv-SE")
    context.set_default_timeout(RENDER_TIMEOUT_MS)
    page = watched(context.new_page())
    page.goto(f"{dashboard_url}/?presentation=1&interval=0", wait_until="domcontentloaded")
    wait_for_app(page)
    page.locator(SLIDE).first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    yield page
    context.close()


def _slide_index(page) -> int:
    return int(page.locator(SLIDE).first.get_attribute("data-slide-index"))


def _wait_for_slide(page, index: int) -> None:
    page.wait_for_function(
        """([sel, want]) => {
            const s = document.querySelectorAll(sel);
            return s.length === 1 && s[0].getAttribute('data-slide-index') === String(want);
        }""", arg=[SLIDE, index], timeout=RENDER_TIMEOUT_MS)


def _assert_fits(page, label: str) -> None:
    m = page.evaluate(SCROLL_JS)
    doc_h, inner_h, doc_w, inner_w = m["doc"]
    assert doc_h <= inner_h, f"{label}: vertical scroll {m}"
    assert doc_w <= inner_w, f"{label}: horizontal scroll {m}"
    for name in ("main", "view"):
        if name in m:
            sh, ch, sw, cw = m[name]
            assert sh <= ch and sw <= cw, f"{label}: {name} scrolls {m}"
    # The slide's own box clips (overflow hidden): its content must fit, or text is cut off.
    sh, ch, sw, cw = m["slide"]
    assert sh <= ch + 1 and sw <= cw + 1, f"{label}: slide content overflows {m}"
    bottom, right = page.evaluate(EDGES_JS, SLIDE)
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert bottom <= height + 0.5 and right <= width + 0.5, \
        f"{label}: slide element outside the screen ({bottom:.0f}, {right:.0f})"
    assert not page.evaluate(OVERLAP_JS), f"{label}: parts overlap"


def _assert_no_chrome(page, label: str) -> None:
    for sel in CHROME:
        loc = page.locator(sel)
        for i in range(loc.count()):
            assert not loc.nth(i).is_visible(), f"{label}: Streamlit chrome visible: {sel}"


def test_presentation_fits_without_chrome(presentation, viewport: tuple[int, int],
                                          artifacts_dir: Path) -> None:
    """Every slide: no scrollbar, no chrome, nothing outside the screen; one screenshot
    per slide (advancing with the Right arrow key)."""
    page = presentation
    width, height = viewport
    size = f"{width}x{height}"
    count = int(page.locator(SLIDE).first.get_attribute("data-slide-count"))
    assert count >= 2
    assert _slide_index(page) == 1
    page.screenshot(path=str(artifacts_dir / f"presentation_{size}.png"))
    for index in range(1, count + 1):
        if index > 1:
            page.keyboard.press("ArrowRight")
            _wait_for_slide(page, index)
        label = f"{size} slide {index}/{count}"
        _assert_fits(page, label)
        _assert_no_chrome(page, label)
        assert page.locator(COUNTER).first.is_visible(), label
        page.screenshot(path=str(artifacts_dir / f"presentation_{size}_slide{index:02d}.png"))
    assert not page.locator('[data-testid="stException"]').count()
    assert not page.page_errors, page.page_errors
    # Offline: no external fonts, tiles, icons or scripts.
    assert not page.external_requests, page.external_requests


@pytest.mark.parametrize("viewport", [VIEWPORTS[1]], ids=["1280x720"], indirect=True)
def test_presenter_keys_advance_and_go_back(presentation) -> None:
    """A presenter remote sends PageDown/PageUp; a keyboard the arrow keys."""
    page = presentation
    count = int(page.locator(SLIDE).first.get_attribute("data-slide-count"))
    counter = page.locator(COUNTER).first.inner_text()
    page.keyboard.press("PageDown")
    _wait_for_slide(page, 2)
    assert page.locator(COUNTER).first.inner_text() != counter
    page.keyboard.press("ArrowRight")
    _wait_for_slide(page, 3 if count >= 3 else 1)
    page.keyboard.press("PageUp")
    _wait_for_slide(page, 2)
    page.keyboard.press("ArrowLeft")
    _wait_for_slide(page, 1)
    page.keyboard.press("ArrowLeft")  # wraps around to the last slide
    _wait_for_slide(page, count)
    assert page.locator(COUNTER).first.inner_text() != counter
