"""AppTest runs of the Jämförelse page (official statistics vs county, Riket, peers)."""

from __future__ import annotations

from tests.conftest import incidents


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
