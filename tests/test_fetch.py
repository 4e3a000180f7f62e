"""Fetching the open sources (hjo_data.fetch): a loopback HTTP server serves recorded
responses (tests/recorded.py); no internet. Retries, back-off, timeout, paging, cache,
politeness, offline re-ingest, one source failing while the other succeeds."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hjo_data import __version__, fetch
from hjo_data.cli import main
from hjo_data.fetch import FetchConfig, Http, SourceConfig
from hjo_data.promise import load_promise
from hjo_data.reference import ReferenceDataError
from hjo_data.store import Store
from tests.recorded import (
    FEED_EVENTS,
    FEED_SKIPPED,
    GPS_HJO,
    NEW_EVENT,
    feed_bytes,
    kolada_page,
    kolada_value,
)

NOW = datetime(2026, 3, 2, 10, 0, 0).astimezone()
CONTACT = "https://example.org/trygghet"
EVENTS_PATH = "/api/events?locationname=Hjo"


class Recorded:
    """Routes (path with query) -> responses in turn (the last one repeats)."""

    def __init__(self) -> None:
        self.routes: dict[str, list[tuple[int, bytes, dict[str, str], float]]] = {}
        self.seen: list[tuple[str, str]] = []  # (path, User-Agent)

    def add(self, path: str, *responses: tuple) -> None:
        self.routes[path] = [(*r, {}, 0.0)[:4] if len(r) < 4 else r for r in responses]

    def next(self, path: str) -> tuple[int, bytes, dict[str, str], float]:
        queue = self.routes.get(path)
        if not queue:
            return 404, b'{"error": "not found"}', {}, 0.0
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Recorded]]:
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            recorded.seen.append((self.path, self.headers.get("User-Agent", "")))
            status, body, headers, delay = recorded.next(self.path)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", recorded
    finally:
        httpd.shutdown()
        httpd.server_close()


def config(base: str, *, retries: int = 3, backoff: float = 2.0, timeout: float = 5.0,
           polisen_interval: float = 30, per_hour: int | None = 60) -> FetchConfig:
    return FetchConfig(contact=CONTACT, timeout=timeout, retries=retries, backoff=backoff,
                       sources={
                           "kolada": SourceConfig(url=f"{base}/v2", years=2),
                           "polisen": SourceConfig(url=f"{base}/api/events",
                                                   min_interval_minutes=polisen_interval,
                                                   max_requests_per_hour=per_hour),
                       })


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def http(cfg: FetchConfig, sleeps: Sleeps | None = None) -> Http:
    return Http(cfg, sleep=sleeps if sleeps is not None else Sleeps())


# ----------------------------------------------------------------------------- Polisen

def test_fetch_polisen_caches_ingests_and_sends_the_user_agent(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, feed_bytes()))
    store = Store(tmp_path / "s")
    cfg = config(base)
    result = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg), now=NOW)
    assert result.state == "rejected" and result.exit_code == 1  # two broken events
    assert (result.rows_read, result.accepted, result.rejected, result.duplicates,
            result.skipped) == (14, 7, 2, 0, 5)
    assert result.skipped_reasons == FEED_SKIPPED
    assert result.unmapped == {"Drönarlarm": 1}
    assert result.newest == "2025-01-15 22:05:00"
    assert result.requests == 1
    assert rec.seen == [(EVENTS_PATH, f"Hjo-Trygghetsdashboard/{__version__} (+{CONTACT})")]
    cached = fetch.raw_dir(store, "polisen") / result.files[0]
    assert cached.read_bytes() == feed_bytes()  # the response exactly as it came
    assert cached.name == f"{NOW:%Y%m%dT%H%M%S}.json"
    assert len(store.read("incidents")) == 7
    log = fetch.log_entries(store)
    assert [e["source"] for e in log] == ["polisen"] and log[0]["accepted"] == 7
    assert GPS_HJO not in fetch.fetch_log_path(store).read_text(encoding="utf-8")


def test_refetch_counts_duplicates_and_respects_the_minimum_interval(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, feed_bytes()), (200, feed_bytes([NEW_EVENT, *FEED_EVENTS])))
    store = Store(tmp_path / "s")
    cfg = config(base, polisen_interval=30)
    fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg), now=NOW)
    early = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                               now=NOW + timedelta(minutes=10))
    assert early.state == "too_soon" and early.exit_code == 0 and early.requests == 0
    assert "minsta intervall är 30 min" in early.message and "om 20 min" in early.message
    assert len(rec.seen) == 1  # no request was made
    later = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                               now=NOW + timedelta(minutes=31))
    assert (later.accepted, later.duplicates, later.skipped) == (1, 7, 5)
    assert len(store.read("incidents")) == 8
    files = sorted(p.name for p in fetch.raw_dir(store, "polisen").glob("*.json"))
    assert len(files) == 2


def test_an_unchanged_response_is_neither_cached_nor_ingested_again(server, tmp_path) -> None:
    base, rec = server
    changed = feed_bytes([NEW_EVENT, *FEED_EVENTS])
    rec.add(EVENTS_PATH, (200, feed_bytes()), (200, feed_bytes()), (200, changed))
    store = Store(tmp_path / "s")
    cfg = config(base, polisen_interval=30)
    first = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg), now=NOW)
    same = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                              now=NOW + timedelta(hours=1))
    assert same.state == "ok" and same.requests == 1
    assert (same.unchanged, same.files, same.rows_read) == (1, [], 0)
    assert same.responses[0]["file"] == first.files[0]  # the figures trace to that file
    assert fetch.summary_text(same).endswith("oförändrat sedan förra hämtningen.")
    assert len(list(fetch.raw_dir(store, "polisen").glob("*.json"))) == 1
    assert len(store.log_entries()) == 1  # no ingest batch for nothing new
    new = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                             now=NOW + timedelta(hours=2))
    assert (new.unchanged, new.accepted, new.duplicates) == (0, 1, 7)
    assert len(list(fetch.raw_dir(store, "polisen").glob("*.json"))) == 2
    # the cache lost its file: the same content is cached (and read) again
    (fetch.raw_dir(store, "polisen") / new.files[0]).unlink()
    rec.add(EVENTS_PATH, (200, changed))
    again = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                               now=NOW + timedelta(hours=3))
    assert again.unchanged == 0 and len(again.files) == 1 and again.duplicates == 8


def test_an_edited_event_replaces_the_stored_one(server, tmp_path) -> None:
    base, rec = server
    edited = list(FEED_EVENTS)
    edited[2] = {**edited[2], "summary": "Bil i diket på väg 195. Föraren fördes till sjukhus."}
    rec.add(EVENTS_PATH, (200, feed_bytes()), (200, feed_bytes(edited)))
    store = Store(tmp_path / "s")
    cfg = config(base, polisen_interval=0)
    fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg), now=NOW)
    second = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                                now=NOW + timedelta(hours=1))
    assert second.rejected == 2 and second.accepted + second.duplicates == 7
    stored = store.read("incidents").set_index("incident_id")
    assert len(stored) == 7
    assert stored.loc["polisen-600010", "description"].endswith("fördes till sjukhus.")


def test_hourly_request_budget(server, tmp_path) -> None:
    base, rec = server
    for month in ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03"):
        rec.add(f"{EVENTS_PATH}&DateTime={month}", (200, b"[]"))
    store = Store(tmp_path / "s")
    cfg = config(base, per_hour=3, polisen_interval=0)
    result = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                                since=date(2025, 11, 20), now=NOW)
    assert result.state == "failed" and result.exit_code == 2
    assert "gränsen för antal anrop per timme" in result.message
    assert result.requests == 3 and len(rec.seen) == 3
    # the three requests of this hour count for the next run too: nothing is asked
    again = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                               now=NOW + timedelta(minutes=5))
    assert again.state == "failed" and again.requests == 0 and len(rec.seen) == 3
    # an hour later the budget is back
    rec.add(EVENTS_PATH, (200, b"[]"))
    hour = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg),
                              now=NOW + timedelta(minutes=61))
    assert hour.state == "ok" and hour.requests == 1 and hour.rows_read == 0


def test_polisen_since_asks_month_by_month() -> None:
    urls = fetch.polisen_urls("https://polisen.se/api/events", "Hjo", date(2025, 11, 20),
                              date(2026, 2, 3))
    assert urls == [f"https://polisen.se/api/events?locationname=Hjo&DateTime={m}"
                    for m in ("2025-11", "2025-12", "2026-01", "2026-02")]
    assert fetch.polisen_urls("https://polisen.se/api/events", "Hjo", None, date(2026, 1, 1)) \
        == ["https://polisen.se/api/events?locationname=Hjo"]


# ----------------------------------------------------------------------------- retries

def test_retries_with_exponential_back_off(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (503, b"busy"), (500, b"oops"), (200, feed_bytes()))
    sleeps = Sleeps()
    cfg = config(base, backoff=2.0)
    result = fetch.fetch_source("polisen", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg, sleeps), now=NOW)
    assert result.accepted == 7 and result.requests == 3
    assert sleeps == [2.0, 4.0]


def test_retry_after_is_honoured(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (429, b"slow down", {"Retry-After": "7"}), (200, b"[]"))
    sleeps = Sleeps()
    cfg = config(base, backoff=2.0)
    result = fetch.fetch_source("polisen", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg, sleeps), now=NOW)
    assert result.state == "ok" and sleeps == [7.0]


def test_gives_up_after_the_last_retry(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (500, b"down"))
    sleeps = Sleeps()
    cfg = config(base, retries=3, backoff=1.5)
    store = Store(tmp_path / "s")
    result = fetch.fetch_source("polisen", store=store, config=cfg, http_=http(cfg, sleeps),
                                now=NOW)
    assert result.state == "failed" and result.requests == 4
    assert sleeps == [1.5, 3.0, 6.0]
    assert result.message == "Polisen: HTTP 500 efter 4 försök."
    assert not fetch.raw_dir(store, "polisen").exists()  # nothing cached, nothing stored
    assert store.read("incidents").empty
    assert fetch.log_entries(store)[-1]["state"] == "failed"


def test_client_error_is_not_retried(server, tmp_path) -> None:
    base, rec = server  # no route: 404
    sleeps = Sleeps()
    cfg = config(base)
    result = fetch.fetch_source("polisen", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg, sleeps), now=NOW)
    assert result.state == "failed" and result.requests == 1 and sleeps == []
    assert "HTTP 404" in result.message


def test_timeout(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, b"[]", {}, 1.5))
    sleeps = Sleeps()
    cfg = config(base, retries=1, backoff=0.5, timeout=0.2)
    started = time.monotonic()
    result = fetch.fetch_source("polisen", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg, sleeps), now=NOW)
    assert result.state == "failed" and result.requests == 2 and sleeps == [0.5]
    assert result.message == "Polisen: inget svar inom 0,2 s efter 2 försök."
    assert time.monotonic() - started < 1.4  # did not wait for the slow answers


def test_not_json_is_retried_then_fails(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, "<html>underhåll</html>".encode()))
    cfg = config(base, retries=1, backoff=0)
    result = fetch.fetch_source("polisen", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg), now=NOW)
    assert result.message == "Polisen: svaret är inte giltig JSON efter 2 försök."


# ----------------------------------------------------------------------------- Kolada

KOLADA_GEOS = "1497,0014,0000,1498,1446"
#: With years = 2: the two years before NOW's and NOW's own.
KOLADA_PATH = f"/v2/data/kpi/N07403/municipality/{KOLADA_GEOS}/year/2024,2025,2026"


def _kolada_pages(base: str) -> tuple[bytes, bytes]:
    page1 = kolada_page([kolada_value("N07403", "1497", 2024, 512.3, 401.0, 620.5),
                         kolada_value("N07403", "0014", 2024, 980.1)],
                        next_page=f"{base}{KOLADA_PATH}?page=2&per_page=2")
    page2 = kolada_page([kolada_value("N07403", "1497", "2025", None),
                         kolada_value("N07403", "0000", 2025, 1040.0)], next_page=None)
    return page1, page2


def test_kolada_request_from_the_promise() -> None:
    kpis, geos = fetch.kolada_request(load_promise())
    assert kpis == ["N07403"]
    assert geos == ["1497", "0014", "0000", "1498", "1446"]
    assert fetch.kolada_url("https://api.kolada.se/v2", kpis, geos, [2024, 2025]) == (
        "https://api.kolada.se/v2/data/kpi/N07403/municipality/1497,0014,0000,1498,1446"
        "/year/2024,2025")


def _fetch_two_kolada_pages(server, tmp_path):  # noqa: ANN001, ANN202
    """Serve the two recorded Kolada pages and fetch them into a new store."""
    base, rec = server
    page1, page2 = _kolada_pages(base)
    rec.add(KOLADA_PATH, (200, page1))
    rec.add(f"{KOLADA_PATH}?page=2&per_page=2", (200, page2))
    store = Store(tmp_path / "s")
    cfg = config(base)
    result = fetch.fetch_source("kolada", store=store, config=cfg, http_=http(cfg), now=NOW)
    return rec, store, result, (page1, page2)


def test_kolada_follows_next_page_and_caches_every_page(server, tmp_path) -> None:
    rec, store, result, (page1, page2) = _fetch_two_kolada_pages(server, tmp_path)
    assert [p for p, _ in rec.seen] == [KOLADA_PATH, f"{KOLADA_PATH}?page=2&per_page=2"]
    assert result.requests == 2
    stamp = f"{NOW:%Y%m%dT%H%M%S}"
    assert result.files == [f"{stamp}.json", f"{stamp}-p2.json"]
    folder = fetch.raw_dir(store, "kolada")
    # each page as it came, with one key added: when it was fetched
    when = NOW.isoformat(timespec="seconds")
    for name, page in ((f"{stamp}.json", page1), (f"{stamp}-p2.json", page2)):
        cached = (folder / name).read_bytes()
        assert cached.startswith(b'{"fetched_at": "' + when.encode() + b'", "values": [')
        assert json.loads(cached) == {"fetched_at": when, **json.loads(page)}


def test_kolada_pages_are_ingested_by_the_kolada_reader(server, tmp_path) -> None:
    _, store, result, _ = _fetch_two_kolada_pages(server, tmp_path)
    # page 1: 1497 T/K/M + 0014 T = 4 values; page 2: 1497 null (skipped), 0000 T
    assert result.state == "ok", result.message
    assert (result.rows_read, result.accepted, result.skipped) == (6, 5, 1)
    stat = store.read("statistik")
    assert len(stat) == 5
    hjo = stat[(stat["geo_code"] == "1497") & (stat["gender"] == "T")]
    assert hjo["value"].tolist() == [512.3]
    assert set(stat["fetched_at"]) == {NOW.isoformat(timespec="seconds")}


def test_next_page_to_another_host_is_refused(server, tmp_path) -> None:
    base, rec = server
    rec.add(KOLADA_PATH, (200, kolada_page([], next_page="https://evil.example/v2/x")))
    cfg = config(base)
    result = fetch.fetch_source("kolada", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg), now=NOW)
    assert result.state == "failed" and "annan webbplats (evil.example)" in result.message
    assert len(rec.seen) == 1


def test_kolada_without_indicators_is_not_configured(server, tmp_path) -> None:
    base, rec = server
    cfg = config(base)
    promise = load_promise()
    bare = replace(promise, goals=tuple(replace(g, official=()) for g in promise.goals))
    result = fetch.fetch_source("kolada", store=Store(tmp_path / "s"), config=cfg,
                                http_=http(cfg), now=NOW, promise=bare)
    assert result.state == "not_configured" and result.exit_code == 0 and not rec.seen


# ----------------------------------------------------------------------------- refresh

def test_one_failing_source_never_touches_the_other(server, tmp_path) -> None:
    base, rec = server
    rec.add(KOLADA_PATH, (500, b"down"))
    rec.add(EVENTS_PATH, (200, feed_bytes()))
    store = Store(tmp_path / "s")
    cfg = config(base, retries=1, backoff=0)
    results = fetch.refresh(store=store, config=cfg, http_=http(cfg), now=NOW)
    by = {r.source: r for r in results}
    assert by["kolada"].state == "failed" and by["kolada"].requests == 2
    assert by["polisen"].accepted == 7 and by["polisen"].requests == 1
    assert len(store.read("incidents")) == 7
    assert max(r.exit_code for r in results) == 2
    assert [e["source"] for e in fetch.log_entries(store)] == ["kolada", "polisen"]


def test_offline_reingest_with_the_network_off(server, tmp_path) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, feed_bytes()))
    first = Store(tmp_path / "a")
    cfg = config(base)
    fetch.fetch_source("polisen", store=first, config=cfg, http_=http(cfg), now=NOW)
    # a fresh store with only the cache: every figure comes back without the network
    second = Store(tmp_path / "b")
    shutil.copytree(first.root / "raw", second.root / "raw")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    results = fetch.refresh(store=second, config=cfg, http_=Http(cfg, opener=no_network),
                            offline=True, now=NOW)
    by = {r.source: r for r in results}
    assert by["polisen"].offline and by["polisen"].accepted == 7
    assert by["polisen"].skipped == 5 and by["polisen"].unmapped == {"Drönarlarm": 1}
    assert by["kolada"].files == [] and by["kolada"].state == "ok"
    assert sorted(second.read("incidents")["record_id"]) == \
        sorted(first.read("incidents")["record_id"])
    again = fetch.reingest_cache("polisen", store=second, now=NOW)
    assert (again.accepted, again.duplicates) == (0, 7)


# ----------------------------------------------------------------------------- config, CLI

def test_config_file(tmp_path: Path) -> None:
    cfg = fetch.load_config()  # the packaged data/sources.toml
    assert cfg.sources["polisen"].max_requests_per_hour == 60
    assert cfg.sources["polisen"].min_interval_minutes == 30
    assert fetch.user_agent(cfg).startswith(f"Hjo-Trygghetsdashboard/{__version__} (+https://")
    bad = tmp_path / "s.toml"
    bad.write_text('[fetch]\ncontact = ""\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="'contact' saknas"):
        fetch.load_config(bad)
    bad.write_text('[fetch]\ncontact = "x"\n[polisen]\nurl = "ftp://x"\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="https://"):
        fetch.load_config(bad)


def _sources_file(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[fetch]\ncontact = "{CONTACT}"\nretries = 0\ntimeout_seconds = 5\n'
        f'[polisen]\nurl = "{base}/api/events"\nmin_interval_minutes = 30\n'
        f'max_requests_per_hour = 60\n[kolada]\nurl = "{base}/v2"\nyears = 2\n',
        encoding="utf-8")
    return path


def test_cli_fetch_and_offline_refresh(server, tmp_path, monkeypatch, capsys) -> None:
    base, rec = server
    rec.add(EVENTS_PATH, (200, feed_bytes()))
    monkeypatch.setenv("HJO_SOURCES_FILE", str(_sources_file(tmp_path, base)))
    store = str(tmp_path / "s")
    code = main(["fetch", "polisen", "--json", "--store", store])
    captured = capsys.readouterr()
    out = json.loads(captured.out)["sources"][0]
    assert code == 1 and out["source"] == "polisen" and out["state"] == "rejected"
    assert out["accepted"] + out["rejected"] + out["duplicates"] + out["skipped"] \
        == out["rows_read"] == 14
    assert "Polisen: hämtade händelser för Hjo – 7 nya" in captured.err
    # too soon: no request, exit 0, said in Swedish
    assert main(["fetch", "polisen", "--store", store]) == 0
    assert "minsta intervall" in capsys.readouterr().out
    assert len(rec.seen) == 1
    code = main(["refresh", "--offline", "--json", "--store", store])
    sources = {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert code == 1 and sources["polisen"]["duplicates"] == 7
    assert sources["polisen"]["offline"] is True


def test_cli_refresh_exit_code_when_a_source_fails(server, tmp_path, monkeypatch,
                                                   capsys) -> None:
    base, rec = server
    year = date.today().year  # the CLI runs at the real time
    rec.add(f"/v2/data/kpi/N07403/municipality/{KOLADA_GEOS}/year/{year - 2},{year - 1},{year}",
            (503, b"down"))
    rec.add(EVENTS_PATH, (200, b"[]"))
    monkeypatch.setenv("HJO_SOURCES_FILE", str(_sources_file(tmp_path, base)))
    code = main(["refresh", "--store", str(tmp_path / "s")])
    captured = capsys.readouterr()
    assert code == 2
    assert "Kolada: HTTP 503 efter 1 försök." in captured.err
    assert "Polisen: hämtade händelser för Hjo – 0 nya, 0 dubbletter." in captured.out


def test_cli_since_must_be_a_date(capsys) -> None:
    assert main(["fetch", "polisen", "--since", "igår"]) == 2
    assert "ogiltigt datum 'igår'" in capsys.readouterr().err
