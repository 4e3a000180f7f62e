"""Page rerun benchmark (a script, not a test): `bench_pages.py [rows [page ...]]`.

With ``rows`` (default 1 000 000) demo incidents in an empty store, each page is run once
(warm-up: data generation and caches), then re-run after filter changes (each change is a
new filter value, so the page's cached aggregates miss). The same is done for a trivial
Streamlit page in the same process (the baseline: AppTest's own overhead). Compiled page
code is reused between reruns, as in a running server. Reported per
page: median rerun time, the excess over the baseline, and the JSON size of each plotly
figure (``fig.to_json()``, as sent to the browser).

Targets: every page ≤ 250 ms above the baseline, every figure < 200 KB.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS = 250.0
FIGURE_TARGET_KB = 200.0

TRIVIAL_PAGE = '''
import streamlit as st
st.title("Baslinje")
choice = st.sidebar.selectbox("Val", ["a", "b", "c", "d", "e"], key="val")
st.write(f"Valt: {choice}")
'''


def _changes(at) -> list:
    """Filter changes to apply (callables on the AppTest), varied per rerun."""
    changes = []
    periods = [w for w in at.date_input if w.key == "hjo_flt_period"]
    if periods:
        widget = periods[0]
        lo, hi = widget.min, widget.max
        span = (hi - lo).days
        for frac in (0.5, 0.25, 0.75, 0.1):
            start = lo + timedelta(days=int(span * frac))
            changes.append(lambda at, s=start, h=hi: at.date_input(
                key="hjo_flt_period").set_value((s, h)))
    cats = [w for w in at.multiselect if w.key == "hjo_flt_cat"]
    if cats:
        for cat in ("klotter", "skadegörelse", "motorburen problematik"):
            changes.append(lambda at, c=cat: at.multiselect(key="hjo_flt_cat").set_value([c]))
    areas = [w for w in at.multiselect if w.key == "hjo_flt_area"]
    if areas and areas[0].options:
        for area in list(areas[0].options)[:2]:
            changes.append(lambda at, a=area: at.multiselect(key="hjo_flt_area").set_value([a]))
    grans = [w for w in at.selectbox if w.key == "hjo_flt_gran"]
    if grans:
        for g in ("W", "Q", "M"):
            changes.append(lambda at, g=g: at.selectbox(key="hjo_flt_gran").set_value(g))
    return changes


def _time_reruns(at, changes) -> list[float]:
    times = []
    for change in changes or [None] * 5:
        if change is not None:
            change(at)
        t0 = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t0) * 1000)
        if at.exception:
            raise RuntimeError(f"exception on rerun: {at.exception[0].message}")
    return times


def _figure_sizes(at) -> list[tuple[str, float]]:
    out = []
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        title = json.loads(spec).get("layout", {}).get("title", {})
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        out.append((text or "(utan titel)", len(spec.encode("utf-8")) / 1024))
    return out


def _bench_pages(only: list[str]) -> list[Path]:
    """The pages dashboard.py lists in PAGES (plus presentation). ``only``: page stems to
    keep."""
    import ast

    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    listed: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets):
            listed = [e.elts[0].value for e in node.value.elts]  # type: ignore[attr-defined]
    listed.append("pages/presentation.py")
    pages = sorted({ROOT / f for f in listed if (ROOT / f).is_file()})
    return [p for p in pages if not only or p.stem in only]


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    os.environ["HJO_DATA_DIR"] = tempfile.mkdtemp(prefix="hjo_bench_store_")
    os.environ["HJO_DEMO_ROWS"] = str(rows)
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    # A running server compiles a page once (its ScriptCache lives as long as the server);
    # AppTest makes a new cache per run, i.e. re-parses and compiles the page on every rerun
    # (~20–60 ms for a long page). Share one cache so reruns measure what users wait for.
    shared_cache = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared_cache  # type: ignore

    # Baseline: a trivial page, same process, same kind of rerun.
    trivial = Path(tempfile.mkdtemp()) / "trivial.py"
    trivial.write_text(TRIVIAL_PAGE, encoding="utf-8")
    base = AppTest.from_file(str(trivial), default_timeout=60)
    base.run()
    base_times = _time_reruns(base, [lambda at, v=v: at.selectbox(key="val").set_value(v)
                                     for v in ("b", "c", "d", "e", "a")])
    baseline = statistics.median(base_times)

    pages = _bench_pages(sys.argv[2:])
    results = []
    figures = []
    for page in pages:
        at = AppTest.from_file(str(page), default_timeout=600)
        t0 = time.perf_counter()
        at.run()
        first = (time.perf_counter() - t0) * 1000
        if at.exception:
            results.append((page.stem, first, float("nan"), float("nan"), "FEL: "
                            + at.exception[0].message[:60]))
            continue
        times = _time_reruns(at, _changes(at))
        med = statistics.median(times)
        worst = max(times)
        excess = med - baseline
        ok = "ok" if excess <= PAGE_TARGET_MS else "ÖVER MÅL"
        results.append((page.stem, first, med, worst, f"{excess:+.0f} ms {ok}"))
        figures.extend((page.stem, t, kb) for t, kb in _figure_sizes(at))

    print(f"\nDemo-händelser: {rows:,}".replace(",", " ") + f" · {date.today().isoformat()}")
    print(f"Baslinje (trivial sida): median {baseline:.0f} ms "
          f"(min {min(base_times):.0f}, max {max(base_times):.0f})\n")
    print(f"{'Sida':<14}{'Första körning':>16}{'Median omkörning':>18}{'Sämsta':>10}"
          f"   Över baslinjen (mål ≤ {PAGE_TARGET_MS:.0f} ms)")
    for name, first, med, worst, verdict in results:
        print(f"{name:<14}{first:>13.0f} ms{med:>15.0f} ms{worst:>7.0f} ms   {verdict}")
    print(f"\n{'Sida':<14}{'Figur':<60}{'JSON':>10}   (mål < {FIGURE_TARGET_KB:.0f} KB)")
    for page, title, kb in figures:
        ok = "ok" if kb < FIGURE_TARGET_KB else "ÖVER MÅL"
        print(f"{page:<14}{title[:58]:<60}{kb:>7.1f} KB   {ok}")
    failed = [r for r in results if not r[4].endswith(" ok")] + [
        f for f in figures if f[2] >= FIGURE_TARGET_KB]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
