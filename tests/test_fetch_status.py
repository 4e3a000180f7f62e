"""Per-source fetch status (hjo_data.fetch_status) and its table on Om data."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from hjo_data import fetch
from hjo_data.fetch import FetchConfig, Http, SourceConfig
from hjo_data.fetch_status import NEVER, source_status, status_table
from hjo_data.store import Store
from tests.recorded import GPS_HJO, feed_bytes

NOW = datetime(2026, 3, 2, 10, 0, 0).astimezone()
CFG = FetchConfig(contact="https://example.org", retries=0, sources={
    "polisen": SourceConfig(url="https://polisen.example/api/events", min_interval_minutes=30,
                            max_requests_per_hour=60),
    "kolada": SourceConfig(url="https://kolada.example/v2"),
})


class FakeOpener:
    """urlopen stand-in: serves ``body`` (or raises ``error``) and records the requests."""

    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body, self.error, self.urls = body, error, []

    def __call__(self, request, timeout: float):
        self.urls.append(request.full_url)
        if self.error is not None:
            raise self.error
        return io.BytesIO(self.body)


def _fetch_polisen(store: Store, now: datetime = NOW) -> fetch.SourceResult:
    opener = FakeOpener(feed_bytes())
    result = fetch.fetch_source("polisen", store=store, config=CFG,
                                http_=Http(CFG, opener=opener, sleep=lambda s: None), now=now)
    assert opener.urls == ["https://polisen.example/api/events?locationname=Hjo"]
    return result


def test_status_before_any_fetch(tmp_path: Path) -> None:
    statuses = source_status(Store(tmp_path / "s"))
    assert [s.source for s in statuses] == ["kolada", "polisen"]
    table = status_table(statuses, "official")
    assert table["Senaste hämtning"].tolist() == [NEVER, NEVER]
    assert table["Status"].tolist() == [NEVER, NEVER]


def test_status_after_fetches(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    _fetch_polisen(store)
    failed = fetch.fetch_source("kolada", store=store, config=CFG, now=NOW, http_=Http(
        CFG, opener=FakeOpener(error=OSError("nere")), sleep=lambda s: None))
    assert failed.state == "failed"
    by = {s.source: s for s in source_status(store)}
    assert by["polisen"].last_fetch == NOW
    assert by["polisen"].unmapped == {"Drönarlarm": 1}
    official = status_table(list(by.values()), "official").set_index("Källa")
    assert official.loc["Polisen", "Senaste hämtning"] == "2026-03-02 10:00"
    assert official.loc["Polisen", "Status"] == "klar, med avvisade rader"
    assert official.loc["Polisen", "Poster (lästa)"] == "14"
    assert official.loc["Polisen", "Nya"] == "7"
    assert official.loc["Polisen", "Överhoppade"] == (
        "5 (sammanfattning 2, annan kommun 1, länsnivå 1, ej händelse 1)")
    assert official.loc["Polisen", "Okända händelsetyper"] == "Drönarlarm"
    assert official.loc["Kolada", "Status"] == "misslyckades (2026-03-02 10:00)"
    assert official.loc["Kolada", "Senaste hämtning"] == NEVER  # a failure is no fetch
    assert official.loc["Kolada", ["Poster (lästa)", "Nya", "Överhoppade"]].tolist() == \
        ["–", "–", "–"]
    assert "nätverksfel (nere)" in official.loc["Kolada", "Meddelande"]
    public = status_table(list(by.values()), "public").set_index("Källa")
    assert "Meddelande" not in public.columns
    assert public.loc["Polisen", "Överhoppade"] == (
        "5 (sammanfattning <5, annan kommun <5, länsnivå <5, ej händelse <5)")
    assert public.loc["Polisen", "Nya"] == "7"


def test_an_unchanged_fetch_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    _fetch_polisen(store)
    _fetch_polisen(store, NOW + timedelta(hours=1))
    polisen = {s.source: s for s in source_status(store)}["polisen"]
    row = status_table([polisen], "official").iloc[0]
    assert row["Status"] == "klar (oförändrat sedan förra hämtningen)"
    assert row["Senaste hämtning"] == "2026-03-02 11:00"


def test_offline_reingest_is_not_a_fetch(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    _fetch_polisen(store)
    fetch.reingest_cache("polisen", store=store, now=NOW + timedelta(hours=2))
    polisen = {s.source: s for s in source_status(store)}["polisen"]
    assert polisen.last_fetch == NOW
    row = status_table([polisen], "official").iloc[0]
    assert row["Status"] == "klar, med avvisade rader (från sparade svar)"
    assert row["Nya"] == "0"


def test_om_data_shows_the_status_without_positions(page_app, isolated_store) -> None:
    _fetch_polisen(Store(isolated_store))
    at = page_app("om_data")
    at.run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if "Okända händelsetyper" in d.value.columns]
    assert len(tables) == 1
    table = tables[0].set_index("Källa")
    assert table.loc["Polisen", "Okända händelsetyper"] == "Drönarlarm"
    assert table.loc["Polisen", "Nya"] == "7"
    assert table.loc["Kolada", "Status"] == NEVER
    assert "Meddelande" not in table.columns  # public mode
    shown = str(at.main) + "".join(d.value.to_csv() for d in at.dataframe)
    assert GPS_HJO not in shown and "58.30159" not in shown
    assert any("visas aldrig som en position" in c.value for c in at.caption)
