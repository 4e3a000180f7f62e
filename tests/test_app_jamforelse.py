"""AppTest runs of the Jämförelse page (official statistics vs county, Riket, peers)."""

from __future__ import annotations

import json
import re

import pytest

from hjo_data import demo, sections
from hjo_data.disclosure import DisclosureSettings
from hjo_data.ingest import ingest_file
from hjo_data.promise import load_promise
from hjo_data.store import Store
from tests.conftest import incidents


def _tables(at) -> list:  # noqa: ANN001
    return [d.value for d in at.dataframe]


def _captions(at) -> str:  # noqa: ANN001
    """Caption texts as the reader sees them (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(c.value for c in at.caption))


@pytest.mark.parametrize("mode", ["public", "official"])
def test_page_on_demo_data(page_app, monkeypatch, mode: str) -> None:  # noqa: ANN001
    if mode == "official":
        monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("jamforelse")
    at.run()
    assert not at.exception, at.exception
    promise = load_promise()
    # one chart and table per official indicator, under its goal's heading
    assert len(at.get("plotly_chart")) == len(promise.official_indicators())
    goals = [h.value for h in at.main.header]
    assert goals == [g.short_title for g in promise.goals if g.official]
    tables = _tables(at)
    violence = tables[0]
    assert set(violence["Geografi"]) == {"Hjo", "Västra Götalands län", "Riket", "Tidaholm",
                                         "Karlsborg"}
    captions = _captions(at)
    assert "utöver slumpvariationen" in captions or "inom slumpvariationen" in captions
    assert "Demodata" in captions  # demo rows say so
    assert "Seriebrott 2023" in captions  # the drug offences' break
    # gender choice: the NTU-like demo indicator has K and M
    assert at.radio(key="jmf_kon").options == ["Totalt", "Kvinnor", "Män"]


def test_page_table_is_the_sections_table(page_app) -> None:  # noqa: ANN001
    at = page_app("jamforelse")
    at.run()
    frames = demo.generate(rows=200)
    expected = sections.comparison_sections(frames["statistik"], load_promise(),
                                            audience="public",
                                            disclosure=DisclosureSettings())
    shown = _tables(at)
    assert len(shown) == len(expected)
    for table, section in zip(shown, expected, strict=True):
        assert table.reset_index(drop=True).equals(section.table.reset_index(drop=True))


def test_gender_choice_shows_the_gender_rows(page_app) -> None:  # noqa: ANN001
    at = page_app("jamforelse")
    at.run()
    at.radio(key="jmf_kon").set_value("K").run()
    assert not at.exception, at.exception
    women = demo.generate(rows=200)["statistik"]
    women = women[(women["gender"] == "K") & (women["indicator_id"] == "otrygghet_kvall")]
    ntu = next(t for t in _tables(at) if "Antal svar (n)" in t.columns)
    # hand check: the page's K rows are the demo's K rows (value with one decimal)
    assert len(ntu) == len(women)
    assert ntu["Värde (%)"].iloc[0] == f"{women['value'].iloc[0]:.1f}".replace(".", ",") \
        + "\u00a0%"


def test_page_without_official_statistics_says_so_in_swedish(page_app, store_with  # noqa: ANN001
                                                             ) -> None:
    # a store with data but no statistik: no demo data, no comparison
    store_with(incidents=incidents([("2024-05-06T10:00", "klotter", "Hjo centrum")]))
    at = page_app("jamforelse")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Jämförelse"
    assert any("ingen officiell statistik i datalagret" in i.value for i in at.info)
    assert not at.get("plotly_chart")


# --------------------------------------------------------------------------- Kolada

KOLADA_VALUES = {  # (municipality id, year) -> N07403 value; Hjo, two peers, county, Riket
    ("1497", 2022): 655.1, ("1497", 2023): 612.3,
    ("1498", 2022): 801.4, ("1498", 2023): 833.1,
    ("1446", 2022): 690.2, ("1446", 2023): 702.9,
    ("0014", 2022): 998.7, ("0014", 2023): 1010.2,
    ("0000", 2022): 1041.5, ("0000", 2023): 1050.0,
}


def kolada_response() -> bytes:
    """A recorded Kolada API v2 response (GET /v2/data/kpi/N07403/municipality/...)
    in the documented shape: period as a number, only gender T, one page."""
    values = [{"kpi": "N07403", "municipality": geo, "period": year,
               "values": [{"gender": "T", "value": value, "count": 1, "status": ""}]}
              for (geo, year), value in KOLADA_VALUES.items()]
    return json.dumps({"values": values, "count": len(values), "next_page": None}).encode()


def test_hjo_and_two_peers_from_recorded_kolada_response(page_app, isolated_store,  # noqa: ANN001
                                                         tmp_path) -> None:
    path = tmp_path / "kolada_N07403.json"
    path.write_bytes(kolada_response())
    report = ingest_file(path, store=Store(isolated_store))
    assert report.accepted == len(KOLADA_VALUES)
    at = page_app("jamforelse")
    at.run()
    assert not at.exception, at.exception
    table = _tables(at)[0]  # N07403, the promise's first official indicator
    latest = table[table["Period"] == "2023"].set_index("Geografi")
    value = "Värde (antal/100 000 inv)"
    # hand copy of the recorded response's 2023 values
    assert latest[value].to_dict() == {
        "Hjo": "612,3", "Västra Götalands län": "1\u00a0010,2", "Riket": "1\u00a0050,0",
        "Tidaholm": "833,1", "Karlsborg": "702,9"}
    assert "Källa: Kolada (RKA)" in "\n".join(c.value for c in at.caption)
    assert "2023: Hjo 612,3 per 100\u00a0000 invånare. Hjo ligger lägre än Västra Götalands " \
        "län (1\u00a0010,2) och Riket (1\u00a0050,0) – utöver slumpvariationen." in _captions(at)
    assert "Demodata" not in _captions(at)
