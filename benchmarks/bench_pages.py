"""Page speed and memory benchmark (a script, not a test; tests never fail on timing).

    python benchmarks/bench_pages.py [--rows 1000000] [--pages lagesbild handelser ...]
                                     [--audience public|official|both] [--reingests 3]

Set-up (a separate process, not measured): ``--rows`` demo incidents (and the other demo
datasets) are written into a fresh store under /tmp. The measuring process then, like a
server after a (re)start:

1. loads the bundle once (store read + the incident aggregate, once per store version);
2. per page and audience, the **cold first render**: every page-level cache and the
   derived aggregates cleared (the bundle kept), one run of the page, timed against a
   first run of a trivial page made just before it (ratio of the pair, and seconds);
3. **filter changes**: each rerun changes a filter to a new value (the page's cached
   sections miss), interleaved with a rerun of the trivial page; reported: the median of
   the paired excesses (page rerun − trivial rerun) and the worst one;
4. **re-ingests**: ``--reingests`` small ingests (new store versions), each followed by a
   page run (the new bundle replaces the old); RSS after each.

Peak RSS of the measuring process (``resource.getrusage``) is printed at the end.
Targets (issue 14) at 5 M incidents: filter change ≤ 250 ms above the trivial rerun,
cold first render ≤ 1.5 s, one process < 1.5 GB; at 1 M < 1 GB including re-ingests.
Seconds are measured on this machine (2 shared cores): compare ratios between runs.
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS = 250.0
COLD_TARGET_S = 1.5
FIGURE_TARGET_KB = 200.0

TRIVIAL_PAGE = '''
import streamlit as st
st.title("Baslinje")
choice = st.sidebar.selectbox("Val", ["a", "b", "c", "d", "e"], key="val")
st.write(f"Valt: {choice}")
'''


# --------------------------------------------------------------------------- set-up


def setup_store(root: Path, rows: int) -> None:
    """Demo data for every dataset, written into the store at ``root`` (not measured)."""
    from hjo_data import demo
    from hjo_data.store import Store

    store = Store(root)
    for name, frame in demo.generate(rows=rows).items():
        if len(frame):
            store.append(name, frame, "bench")


def reingest(root: Path, round_no: int) -> None:
    """A small ingest: 500 new incidents (new record ids) -> a new store version."""
    from hjo_data import demo
    from hjo_data.store import Store

    frame = demo.generate(rows=500, seed=round_no)["incidents"]
    frame = frame.assign(record_id=frame["record_id"].map(lambda r: f"re{round_no}-{r}"),
                         incident_id=frame["incident_id"].map(lambda r: f"re{round_no}-{r}"))
    Store(root).append("incidents", frame, f"bench-{round_no}")


# --------------------------------------------------------------------------- helpers


def rss_mb() -> float:
    """Current resident set size (MB) from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clear_page_caches() -> None:
    """Every st.cache_resource except the bundle (and its public view), and the
    aggregates derived lazily from the incident frame: a cold page, a loaded bundle."""
    from streamlit.runtime.caching import cache_resource_api

    from hjo_data import est

    keep = ("_cached_bundle", "_public_bundle")
    for caches in cache_resource_api._resource_caches._function_caches.values():
        for cache in caches.values():
            if not any(k in cache.display_name for k in keep):
                cache.clear()
    for entry in list(est._MEMO.values()):
        entry[3].clear()
    gc.collect()


def _changes(at) -> list[Callable]:
    """Filter changes (callables on the AppTest), each a new value."""
    changes: list[Callable] = []
    periods = [w for w in at.date_input if w.key == "hjo_flt_period"]
    if periods:
        lo, hi = periods[0].min, periods[0].max
        span = (hi - lo).days
        for frac in (0.5, 0.25, 0.75, 0.1):
            start = lo + timedelta(days=int(span * frac))
            changes.append(lambda at, s=start, h=hi: at.date_input(
                key="hjo_flt_period").set_value((s, h)))
    if [w for w in at.multiselect if w.key == "hjo_flt_cat"]:
        for cat in ("klotter", "skadegörelse", "motorburen problematik"):
            changes.append(lambda at, c=cat: at.multiselect(key="hjo_flt_cat").set_value([c]))
    areas = [w for w in at.multiselect if w.key == "hjo_flt_area"]
    if areas and areas[0].options:
        for area in list(areas[0].options)[:2]:
            changes.append(lambda at, a=area: at.multiselect(key="hjo_flt_area").set_value([a]))
    if [w for w in at.selectbox if w.key == "hjo_flt_gran"]:
        for g in ("W", "Q", "M"):
            changes.append(lambda at, g=g: at.selectbox(key="hjo_flt_gran").set_value(g))
    return changes


def _timed_run(at) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"exception: {at.exception[0].message[:200]}")
    return elapsed


def _figure_sizes(at) -> list[tuple[str, float]]:
    out = []
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        title = json.loads(spec).get("layout", {}).get("title", {})
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        out.append((text or "(utan titel)", len(spec.encode("utf-8")) / 1024))
    return out


def bench_pages(only: list[str]) -> list[Path]:
    """The pages dashboard.py lists in PAGES (plus presentation); ``only``: stems."""
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    listed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets):
            listed = [e.elts[0].value for e in node.value.elts]  # type: ignore[attr-defined]
    listed.append("pages/presentation.py")
    pages = sorted({ROOT / f for f in listed if (ROOT / f).is_file()})
    return [p for p in pages if not only or p.stem in only]


# --------------------------------------------------------------------------- measuring


def measure(args: argparse.Namespace, store: Path) -> int:
    os.environ["HJO_DATA_DIR"] = str(store)
    os.environ.pop("HJO_MODE", None)
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    from ui.context import get_bundle

    # A running server compiles a page once; AppTest would re-compile on every run.
    shared_cache = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared_cache  # type: ignore

    rss_start = rss_mb()
    t0 = time.perf_counter()
    bundle = get_bundle()
    load_s = time.perf_counter() - t0
    rows = len(bundle.frames["incidents"])
    del bundle
    rss_loaded = rss_mb()

    trivial_file = Path(tempfile.mkdtemp()) / "trivial.py"
    trivial_file.write_text(TRIVIAL_PAGE, encoding="utf-8")
    trivial_values = iter(("b", "c", "d", "e", "a") * 1000)
    trivial = AppTest.from_file(str(trivial_file), default_timeout=60)
    trivial.run()

    def trivial_first() -> float:
        at = AppTest.from_file(str(trivial_file), default_timeout=60)
        return _timed_run(at)

    def trivial_rerun() -> float:
        trivial.selectbox(key="val").set_value(next(trivial_values))
        return _timed_run(trivial)

    audiences = ["public", "official"] if args.audience == "both" else [args.audience]
    results = []
    figures: list[tuple[str, str, float]] = []
    for page in bench_pages(args.pages):
        for audience in audiences:
            if audience == "official":
                os.environ["HJO_MODE"] = "official"
            else:
                os.environ.pop("HJO_MODE", None)
            clear_page_caches()
            base_first = trivial_first()
            at = AppTest.from_file(str(page), default_timeout=600)
            try:
                first = _timed_run(at)
            except RuntimeError as err:
                results.append((page.stem, audience, float("nan"), float("nan"), float("nan"),
                                float("nan"), str(err)[:60]))
                continue
            pairs = []
            for change in _changes(at) or [None] * 5:
                base = trivial_rerun()
                if change is not None:
                    change(at)
                pairs.append((_timed_run(at) - base) * 1000)
            results.append((page.stem, audience, first, first / base_first,
                             statistics.median(pairs), max(pairs), ""))
            if audience == audiences[0]:
                figures.extend((page.stem, t, kb) for t, kb in _figure_sizes(at))
    os.environ.pop("HJO_MODE", None)
    rss_pages = rss_mb()

    reingests = []
    if args.reingests:
        landing = AppTest.from_file(str(ROOT / "pages" / "lagesbild.py"), default_timeout=600)
        for i in range(1, args.reingests + 1):
            reingest(store, i)
            t = _timed_run(landing)  # the new version: the old bundle is dropped first
            gc.collect()
            reingests.append((i, t, rss_mb()))

    print(f"\nHändelser (incidents) i datalagret: {rows:,}".replace(",", " ")
          + f" · {date.today().isoformat()} · uppmätt på denna maskin ({os.cpu_count()} "
          f"kärnor, delad; belastning vid slutet {os.getloadavg()[0]:.1f})")
    print(f"Inläsning av bundle (lagret + händelseaggregatet, en gång per version): "
          f"{load_s:.2f} s; RSS {rss_start:.0f} -> {rss_loaded:.0f} MB")
    print(f"\n{'Sida':<14}{'Läge':<10}{'Första (kall)':>14}{'× trivial':>11}"
          f"{'Filterbyte, median över trivial':>33}{'sämsta':>9}")
    for name, aud, first, ratio, med, worst, err in results:
        if err:
            print(f"{name:<14}{aud:<10}  FEL: {err}")
            continue
        ok_first = "ok" if first <= COLD_TARGET_S else "ÖVER"
        ok_med = "ok" if med <= PAGE_TARGET_MS else "ÖVER"
        print(f"{name:<14}{aud:<10}{first:>10.2f} s {ok_first:<4}{ratio:>7.1f}×"
              f"{med:>+25.0f} ms {ok_med:<4}{worst:>+8.0f} ms")
    print(f"\nMål: första körning ≤ {COLD_TARGET_S} s, filterbyte ≤ {PAGE_TARGET_MS:.0f} ms "
          "över den triviala sidans omkörning (parvis, median).")
    print(f"RSS efter alla sidor: {rss_pages:.0f} MB")
    for i, t, rss in reingests:
        print(f"Ominläsning {i} (ny version, 500 händelser): sidan {t:.2f} s, RSS {rss:.0f} MB")
    print(f"Högsta RSS i processen (peak): {peak_rss_mb():.0f} MB")
    big = [f for f in figures if f[2] >= FIGURE_TARGET_KB]
    print(f"\nFigurer: {len(figures)}, största {max((f[2] for f in figures), default=0):.1f} KB"
          f" (mål < {FIGURE_TARGET_KB:.0f} KB)" + "".join(
              f"\n  ÖVER: {p} {t[:50]} {kb:.0f} KB" for p, t, kb in big))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pages", nargs="*", default=[])
    parser.add_argument("--audience", choices=("public", "official", "both"),
                        default="both")
    parser.add_argument("--reingests", type=int, default=3)
    parser.add_argument("--store", type=Path, default=None,
                        help="an existing store to measure (default: a fresh demo store)")
    parser.add_argument("--setup-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_only is not None:
        setup_store(args.setup_only, args.rows)
        return 0
    if args.store is not None:
        return measure(args, args.store)
    store = Path(tempfile.mkdtemp(prefix="hjo_bench_pages_"))
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows),
                        "--setup-only", str(store)], check=True)
        rows = f"{args.rows:,}".replace(",", " ")
        print(f"(Datalager med {rows} demohändelser skapat på "
              f"{time.perf_counter() - t0:.0f} s, i en egen process.)")
        return measure(args, store)
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
