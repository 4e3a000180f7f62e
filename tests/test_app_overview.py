"""AppTest of the landing page (pages/lagesbild.py) and the app frame (dashboard.py)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from tests.conftest import ROOT, incidents


def _spread(category: str, start: date, count: int) -> list:
    return [((datetime.combine(start, datetime.min.time())
              + timedelta(days=i % 28, hours=9)).isoformat(), category, "Hamnen")
            for i in range(count)]


def _rows() -> list:
    # April: 8 motorburen, May: 40 (days 1-28); the data runs through 2024-05-31, so May
    # is the latest complete month; nothing happens 2024-05-29..30.
    return (_spread("motorburen problematik", date(2024, 4, 1), 8)
            + _spread("motorburen problematik", date(2024, 5, 1), 40)
            + _spread("klotter", date(2024, 4, 1), 5)
            + [("2024-05-31T12:00:00", "klotter", "Hamnen")])


def _texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _chart_spec(at) -> dict:
    charts = at.get("plotly_chart")
    assert charts, "no plotly chart rendered"
    return json.loads(charts[0].proto.spec)


def test_renders_on_empty_store_with_demo_banner(page_app) -> None:
    at = page_app("lagesbild")
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Lägesbild"]
    assert any("Demodata – inte verklig statistik" in w.value for w in at.warning)
    assert "Läget just nu" in [s.value for s in at.subheader]
    assert any("badge[" in m.value and "Publikt läge" in m.value for m in at.markdown)


def test_dashboard_entry_runs(page_app) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Lägesbild"]  # the default page


def test_store_data_figures_match_independent_counts(page_app, store_with) -> None:
    frame = incidents(_rows())
    store_with(incidents=frame)
    at = page_app("lagesbild")
    at.run()
    assert not at.exception
    assert not any("Demodata" in w.value for w in at.warning)
    spec = _chart_spec(at)
    ys = spec["data"][0]["y"]
    if isinstance(ys, dict):  # plotly may encode arrays as typed buffers
        import base64

        import numpy as np

        ys = np.frombuffer(base64.b64decode(ys["bdata"]), dtype=ys["dtype"]).tolist()
    expected = Counter(datetime.fromisoformat(t).strftime("%Y-%m") for t, _, _ in _rows())
    months = ["2024-04", "2024-05"]
    assert list(ys) == [expected[m] for m in months]
    # Läget just nu names the motorburen jump (8 -> 40 is far beyond noise) ...
    text = next(m.value for m in at.markdown if "slumpvariationen" in m.value)
    # The promise counts motorburen per 1 000 inhabitants (population.csv, 2024).
    import csv

    with open(ROOT / "data" / "reference" / "population.csv", encoding="utf-8-sig") as fh:
        pop = next(int(r["population"]) for r in csv.DictReader(fh)
                   if r["year"] == "2024" and r["area"] == "Hela kommunen")

    def sv(x: float) -> str:
        return f"{x:.1f}".replace(".", ",")

    assert (f"har ökat från {sv(8 / pop * 1000)} (april 2024) till "
            f"{sv(40 / pop * 1000)} (maj 2024)") in text
    # EST reports from others than the police (all test rows are "kommun"): 13 -> 41.
    assert "EST-rapporter från andra än polisen har ökat från 13 (april 2024) till 41" in text
    # ... and klotter (5 in April, 1 in May: p ≈ 0.2) is within noise, so it is not named.
    assert "Klotter" not in text
    cards = _texts(at)
    klotter_card = cards.split("**Klotter per 1\u00a0000 invånare**")[1] if (
        "**Klotter per 1\u00a0000 invånare**" in cards) else cards.split(
        "**Klotter per 1 000 invånare**")[1]
    assert klotter_card.lstrip().startswith(":gray-badge[:material/drag_handle: Oförändrad")


def test_filter_leaving_no_rows_shows_friendly_message(page_app, store_with) -> None:
    store_with(incidents=incidents(_rows()))
    at = page_app("lagesbild")
    at.query_params["fran"] = "2024-05-29"
    at.query_params["till"] = "2024-05-30"
    at.run()
    assert not at.exception
    assert any("Inga händelser" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_url_reproduces_view_and_widget_changes_update_url(page_app, store_with) -> None:
    store_with(incidents=incidents(_rows()))
    at = page_app("lagesbild")
    at.query_params["period"] = "Q"
    at.run()
    assert at.selectbox(key="hjo_flt_gran").value == "Q"
    spec = _chart_spec(at)
    assert "kvartal" in json.dumps(spec["layout"]["title"])
    at.selectbox(key="hjo_flt_gran").set_value("W").run()
    assert not at.exception
    assert at.query_params["period"] == ["W"] or at.query_params["period"] == "W"


def test_official_mode_badge(page_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("lagesbild")
    at.run()
    assert not at.exception
    assert any("badge[" in m.value and "Tjänstepersonsläge" in m.value for m in at.markdown)


def test_csv_download_is_excel_safe() -> None:
    import pandas as pd

    from pages.common import csv_bytes

    table = pd.DataFrame({"Område": ["=HYPERLINK(1)", "Hamnen", "+46", "@x", "-1"],
                          "Antal": [1, 2, 3, 4, 5]})
    data = csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Område;Antal"
    cells = [line.split(";")[0] for line in lines[1:]]
    assert cells[1] == "Hamnen"
    for cell in (cells[0], cells[2], cells[3], cells[4]):
        assert cell.lstrip('"')[0] not in "=+-@"
