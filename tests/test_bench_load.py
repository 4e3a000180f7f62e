"""benchmarks/bench_load.py: its protocol client really opens every page (a correctness
smoke test on a real server: 2 viewers for a few seconds; never a timing assertion)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import parse_qs

from tests.benchmark_modules import load_benchmark

bench_load = load_benchmark("bench_load")


def test_percentile_is_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0]
    assert bench_load.percentile(values, 50) == 5.0  # rank ceil(5.0) = 5 of 10 sorted
    assert bench_load.percentile(values, 95) == 10.0  # rank ceil(9.5) = 10
    assert bench_load.percentile(values, 91) == 10.0  # rank ceil(9.1) = 10
    assert bench_load.percentile(values, 90) == 9.0
    assert bench_load.percentile([2.5], 95) == 2.5


def test_queries_vary_filters_and_the_presentation_slide() -> None:
    variants = bench_load.filter_variants(date(2026, 6, 30))
    handelser = next(p for p in bench_load.PAGES if p.url == "handelser")
    presentation = next(p for p in bench_load.PAGES if p.presentation)
    assert bench_load.query_for(handelser, 0, variants) == ""
    assert parse_qs(bench_load.query_for(handelser, 1, variants)) == {"fran": ["2025-06-30"]}
    assert parse_qs(bench_load.query_for(presentation, 1, variants)) == {
        "presentation": ["1"], "slide": ["2"]}


def test_two_viewers_open_every_page_without_errors() -> None:
    # A small demo store (as the browser tests' server): the same pages, a faster start.
    with bench_load.running_server(3_000, None) as server:
        report = bench_load.measure(server, viewers=2, seconds=3, think=0.0,
                                    page_timeout=120, n_variants=1)
        # The title check can fail: a page asked for with another page's title is an error.
        trafik = next(p for p in bench_load.PAGES if p.url == "trafik")
        wrong = bench_load.run_async(bench_load.sequential(
            server.url, [(replace(trafik, expect="Aktiviteter"), "")], 120))
    assert report.errors == []
    names = {p.name for p in bench_load.PAGES}
    assert len(names) == 9
    # Every page ran (and showed its own title) in the warm-up and the single-viewer phase.
    assert sorted(r.page for r in report.warmup) == sorted(names)
    assert sorted(r.page for r in report.single) == sorted(names)
    assert report.load, "the concurrent phase finished no page"
    assert report.rss_peak_kb > 0
    assert [r.error for r in wrong] == ["title"]
    assert server.proc.poll() is not None  # the server is stopped when the block ends
    assert not server.log.parent.exists()  # and its temporary store is removed
