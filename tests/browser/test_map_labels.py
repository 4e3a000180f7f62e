"""The Händelser map in a real browser at 1 280 and 1 920 px: every area's label is drawn
whole inside the chart (no "jo norra"), no two labels overlap, the close-up panel is
there; screenshots test-artifacts/map_<width>.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

#: Boxes of the map's area labels and of the chart (the plotly chart whose title names
#: the map); labels are the text points of the label traces.
LABELS_JS = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    const chart = charts.find(c => (c.querySelector('.gtitle') || {}).textContent
                                   ?.includes('per område (valt urval)'));
    if (!chart) return null;
    const svg = chart.querySelector('.main-svg').getBoundingClientRect();
    const labels = [...chart.querySelectorAll('.textpoint text')].map(t => {
        const r = t.getBoundingClientRect();
        return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom};
    });
    return {svg: {l: svg.left, r: svg.right, t: svg.top, b: svg.bottom}, labels};
}"""


@pytest.mark.parametrize("width", [1280, 1920])
def test_map_labels_whole_and_apart(browser, dashboard_url: str, width: int,
                                    artifacts_dir: Path, wait_for_app) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": 1000}, locale="sv-SE")
    ctx.set_default_timeout(90_000)
    page = ctx.new_page()
    try:
        page.goto(f"{dashboard_url}/handelser", wait_until="domcontentloaded")
        wait_for_app(page, text="Karta")
        page.get_by_text("Karta", exact=True).first.scroll_into_view_if_needed()
        page.wait_for_function(f"({LABELS_JS}) !== null")
        page.wait_for_timeout(500)
        found = page.evaluate(LABELS_JS)
        names = {text for text in (lab["text"] for lab in found["labels"])}
        # Eleven areas in data/reference/areas.geojson, each labelled once: name + value
        # (two tspans of one text element).
        assert len(found["labels"]) == 11, names
        for name in ("Hjo norra", "Hjo centrum", "Hamnen", "Stadsparken", "Blikstorp"):
            assert any(text.startswith(name) for text in names), (name, names)
        svg = found["svg"]
        for lab in found["labels"]:
            assert svg["l"] <= lab["l"] and lab["r"] <= svg["r"] and \
                svg["t"] <= lab["t"] and lab["b"] <= svg["b"], f"label cut: {lab}"
        boxes = found["labels"]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = a["r"] <= b["l"] or b["r"] <= a["l"] or a["b"] <= b["t"] or \
                    b["b"] <= a["t"]
                assert apart, f"labels overlap: {a['text']} / {b['text']}"
        chart = page.locator('[data-testid="stPlotlyChart"]').filter(
            has_text="valt urval").first
        chart.screenshot(path=str(artifacts_dir / f"map_{width}.png"))
    finally:
        ctx.close()
