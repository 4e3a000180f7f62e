"""AppTests of the presentation mode (pages/presentation.py and dashboard ?presentation=1)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from hjo_data.slides import DEFAULT_CONFIG_FILE
from tests.conftest import ROOT, incidents

_SLIDE_ATTRS = re.compile(
    r'data-slide-id="([^"]+)" data-slide-index="(\d+)" data-slide-count="(\d+)"')


def _expected_ids() -> list[str]:
    raw = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    # several mal slides differ by goal, several jamforelse slides by indicator
    return [f"{s['id']}-{s['goal']}" if s.get("goal") else
            f"{s['id']}-{s['indicator']}" if s["id"] == "jamforelse" else s["id"]
            for s in raw["slides"]]


def _slide_body(at) -> str:
    bodies = [h.proto.body for h in at.html if 'presentation-slide-body' in h.proto.body]
    assert len(bodies) == 1, "exactly one slide must be shown"
    return bodies[0]


def _current(at) -> tuple[str, int, int]:
    match = _SLIDE_ATTRS.search(_slide_body(at))
    assert match, "slide attributes missing"
    return match.group(1), int(match.group(2)), int(match.group(3))


def _start(page_app, **params: str):
    at = page_app("presentation")
    at.query_params["interval"] = "0"
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_every_slide_renders_in_config_order_and_wraps(page_app):
    expected = _expected_ids()
    at = _start(page_app)
    seen = []
    for step in range(len(expected)):
        slide_id, index, count = _current(at)
        assert (index, count) == (step + 1, len(expected))
        assert f"{index}\u00a0/\u00a0{count}" in _slide_body(at)
        seen.append(slide_id)
        at.button(key="pres_next").click().run()
        assert not at.exception, at.exception
    assert seen == expected
    assert _current(at)[1] == 1  # wrapped around to the first slide


def test_previous_wraps_to_last_and_slide_param_sets_start(page_app):
    expected = _expected_ids()
    at = _start(page_app)
    at.button(key="pres_prev").click().run()
    assert _current(at)[:2] == (expected[-1], len(expected))
    at.button(key="pres_prev_remote").click().run()  # PageUp twin
    assert _current(at)[1] == len(expected) - 1
    at.button(key="pres_next_remote").click().run()  # PageDown twin
    assert _current(at)[1] == len(expected)

    at = _start(page_app, slide="3")
    assert _current(at)[:2] == (expected[2], 3)
    at.button(key="pres_next").click().run()
    assert _current(at)[1] == 4


def test_chrome_hidden_and_public_label_and_demo_label(page_app):
    at = _start(page_app)
    css = [h.proto.body for h in at.html if h.proto.body.lstrip().startswith("<style>")]
    assert css, "the presentation CSS must be on the page"
    for test_id in ("stSidebar", "stHeader", "stToolbar", "stDecoration", "stStatusWidget"):
        assert f'[data-testid="{test_id}"]' in css[0]
    assert "display: none" in css[0]
    body = _slide_body(at)
    assert "Publikt läge" in body
    assert "DEMODATA" in body  # empty store -> demo data
    assert not at.sidebar.children  # no filters, no navigation
    # Auto-advance off: the pause button is disabled; shortcuts are set on the buttons.
    assert at.button(key="pres_pause").disabled
    assert at.button(key="pres_next").proto.shortcut.lower() == "right"
    assert at.button(key="pres_next_remote").proto.shortcut.lower() == "pagedown"


def test_pause_toggles_with_auto_advance(page_app):
    at = _start(page_app, interval="30")
    pause = at.button(key="pres_pause")
    assert not pause.disabled and pause.label == "Pausa"
    pause.click().run()
    assert at.button(key="pres_pause").label == "Fortsätt"
    assert _current(at)[1] == 1  # pausing does not change the slide


def test_public_mode_forced_even_for_officials(page_app, store_with, monkeypatch):
    # 3 incidents in the latest complete week (v. 23 2024), 10 per week before.
    spec = []
    for day in ("06", "07", "08", "09", "13", "14", "15", "16", "20", "21", "22", "23",
                "27", "28", "29", "30"):
        spec += [(f"2024-05-{day}T{h:02d}:00", "skadegörelse", "Centrum") for h in (9, 12)]
    spec = spec[:40]
    spec += [(f"2024-06-0{d}T21:00", "ordningsstörning", "Centrum") for d in (3, 5, 7)]
    spec += [("2024-06-12T10:00", "skadegörelse", "Centrum")]
    frame = incidents(spec)
    frame["description"] = "PLANTED-PRES-DESC-91d"
    frame["lat"] = 58.3012345
    frame["lon"] = 14.2812345
    store_with(incidents=frame)
    monkeypatch.setenv("HJO_MODE", "official")
    position = _expected_ids().index("est_vecka") + 1
    at = _start(page_app, slide=str(position))
    body = _slide_body(at)
    assert _current(at)[0] == "est_vecka"
    assert 'class="pres-number">&lt;5<' in body
    assert "Publikt läge" in body and "DEMODATA" not in body
    # No slide carries the planted free text or positions.
    for step in range(len(_expected_ids())):
        body = _slide_body(at)
        for planted in ("PLANTED-PRES-DESC-91d", "58.3012345", "58,3012345", "14.2812345"):
            assert planted not in body, (step, planted)
        at.button(key="pres_next").click().run()
        assert not at.exception, at.exception


def test_dashboard_query_param_runs_presentation_without_navigation():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(ROOT) / "dashboard.py"), default_timeout=30)
    at.query_params["presentation"] = "1"
    at.query_params["interval"] = "0"
    at.run()
    assert not at.exception, at.exception
    assert _current(at)[:2] == (_expected_ids()[0], 1)
    at.button(key="pres_next").click().run()
    assert _current(at)[1] == 2


def test_footer_leaves_room_for_the_controls():
    """At 1280×720 a long footer ran under the Föregående/Pausa/Nästa buttons: the footer
    must end (``right:``) at least the controls' width (about 21.3rem measured in chromium,
    plus their 1.5vw offset) before the right edge, and must not be sized by a max-width
    in vw (70vw reached the buttons at 1280 px)."""
    import re

    from ui.presentation import CSS

    rule = re.search(r"\.pres-footer\s*\{([^}]*)\}", CSS)
    assert rule, "footer rule missing"
    body = rule.group(1)
    assert "max-width" not in body
    right = re.search(r"right:\s*calc\(\s*([\d.]+)vw\s*\+\s*([\d.]+)rem\s*\)", body)
    assert right, body
    controls_offset_vw, reserved_rem = float(right.group(1)), float(right.group(2))
    assert controls_offset_vw >= 1.5 and reserved_rem >= 22.5
