"""Store layout benchmark (a script, not a test): a county-wide deployment queried directly.

Simulates Västra Götaland: 49 municipalities × 10 years of incidents (``--rows`` in all,
the municipality's name in ``area`` — the incidents schema has no municipality column),
written through our ``Store`` the way a streaming ingest writes (one transaction, one
``append`` per chunk). Then three ways to answer two questions are compared:

* ``duck_part``: DuckDB querying the store's files as they are
  (``read_parquet('<root>/incidents/**/*.parquet', hive_partitioning = true)``);
* ``duck_single``: DuckDB over a single-file copy of the same rows (the old layout);
* ``pandas``: ``Store.read('incidents')`` then a pandas groupby (what the app does);
* ``pandas_single``: the same groupby after reading the single file the way the old
  one-file ``Store.read`` did (the partitioned layout's cost to ``Store.read``).

Questions: ``per_year`` = incidents per municipality and year (all rows); ``one_year`` =
incidents per municipality in one year (the partitioned store prunes to one directory,
the single file filters on ``occurred_at``). Every run is its own subprocess (its clock
covers the query only; peak RSS of the process), runs are interleaved (A B C, B C A, ...)
and every ratio is the median of the per-round paired ratios. The three answers are
checked equal before any figure is printed.

    python benchmarks/bench_store.py [--rows 3000000] [--rounds 5]

Data go under /tmp/bench-store (removed afterwards unless --keep).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hjo_data.layout import conform  # noqa: E402  (after the repo is on sys.path)
from hjo_data.schema import INCIDENTS  # noqa: E402
from hjo_data.store import Store, frame_from_table  # noqa: E402

WORK = Path("/tmp/bench-store")
WAYS = ("duck_part", "duck_single", "pandas", "pandas_single")
QUESTIONS = ("per_year", "one_year")
FIRST_YEAR = 2015
YEARS = 10
#: The one year of the ``one_year`` question.
PICKED_YEAR = 2020
CHUNK = 500_000
CATEGORIES = ("klotter", "skadegörelse", "stöld", "våld", "ordningsstörning", "brand",
              "nedskräpning", "annat")


def municipalities(county: str = "14") -> list[str]:
    """The county's municipality names (Västra Götaland: 49)."""
    with (REPO / "data" / "reference" / "kommuner.csv").open(encoding="utf-8") as fh:
        return [r["kommun"] for r in csv.DictReader(fh) if r["lanskod"] == county]


def _chunk(rng: np.random.Generator, first: int, n: int, names: list[str]) -> pd.DataFrame:
    start = np.datetime64(f"{FIRST_YEAR}-01-01T00:00", "m")
    minutes = rng.integers(0, YEARS * 365 * 24 * 60, n)
    ids = np.char.add("L", np.arange(first, first + n).astype(str))
    return pd.DataFrame({
        "incident_id": ids,
        "occurred_at": (start + minutes).astype("datetime64[us]"),
        "occurred_at_has_time": np.ones(n, dtype=bool),
        "category": np.asarray(CATEGORIES, dtype=object)[rng.integers(0, len(CATEGORIES), n)],
        "category_raw": [""] * n,
        "area": np.asarray(names, dtype=object)[rng.integers(0, len(names), n)],
        "source": ["polis"] * n,
        "source_raw": [""] * n,
        "lat": np.full(n, np.nan),
        "lon": np.full(n, np.nan),
        "description": [""] * n,
        "record_id": ids,
    })


def build(root: Path, rows: int, seed: int = 1497) -> dict[str, float]:
    """Write ``rows`` incidents through Store (chunked appends, one transaction) and a
    single-file copy; returns write figures."""
    names = municipalities()
    rng = np.random.default_rng(seed)
    store = Store(root / "store")
    t0 = time.perf_counter()
    with store.transaction("bench"):
        for first in range(0, rows, CHUNK):
            store.append("incidents", _chunk(rng, first, min(CHUNK, rows - first), names),
                         "bench")
    t_store = time.perf_counter() - t0
    table = store.read_table("incidents")
    pq.write_table(table, root / "single.parquet", compression="lz4",
                   write_statistics=["occurred_at"])
    files = store.part_files("incidents")
    return {"rows": float(table.num_rows), "files": float(len(files)),
            "store_write_s": t_store, "municipalities": float(len(names))}


# ----------------------------------------------------------------------------- queries

def _duck(sql: str) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def run(way: str, question: str, root: Path) -> pd.DataFrame:
    """One answer as a frame (area, year, n) sorted."""
    glob = (root / "store" / "incidents" / "**" / "*.parquet").as_posix()
    single = (root / "single.parquet").as_posix()
    if way == "duck_part":
        where = f"WHERE year = {PICKED_YEAR}" if question == "one_year" else ""
        out = _duck(f"SELECT area, year, count(*) AS n FROM read_parquet('{glob}', "
                    f"hive_partitioning = true) {where} GROUP BY area, year")
    elif way == "duck_single":
        where = (f"WHERE occurred_at >= TIMESTAMP '{PICKED_YEAR}-01-01' AND occurred_at < "
                 f"TIMESTAMP '{PICKED_YEAR + 1}-01-01'" if question == "one_year" else "")
        out = _duck(f"SELECT area, year(occurred_at) AS year, count(*) AS n FROM "
                    f"read_parquet('{single}') {where} GROUP BY 1, 2")
    else:
        if way == "pandas":
            frame = Store(root / "store").read("incidents")
        else:
            frame = frame_from_table(INCIDENTS, conform(INCIDENTS, pq.read_table(single)))
        year = frame["occurred_at"].dt.year
        if question == "one_year":
            frame, year = frame[year == PICKED_YEAR], year[year == PICKED_YEAR]
        out = frame.groupby([frame["area"], year.rename("year")]).size().rename(
            "n").reset_index()
    out = out.astype({"area": str, "year": "int64", "n": "int64"})
    return out.sort_values(["area", "year"]).reset_index(drop=True)


def _rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss
    across fork + exec, so a child would report the parent's peak (the built table)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(way: str, question: str, root: str) -> dict:
    """One run in this process: the query's time, the process's peak RSS (and the RSS
    after the imports, the same for every way)."""
    base = _rss_mb()
    t0 = time.perf_counter()
    out = run(way, question, Path(root))
    seconds = time.perf_counter() - t0
    digest = int(pd.util.hash_pandas_object(out, index=False).sum())
    return {"seconds": seconds, "rss_mb": _rss_mb(), "base_mb": base, "digest": digest,
            "rows": int(out["n"].sum())}


def _run_child(way: str, question: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", way, question, str(root)],
                         capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(root: Path, rounds: int) -> dict[str, dict]:
    """Interleaved rounds per question; medians of paired ratios against duck_part."""
    results: dict[str, dict] = {}
    for question in QUESTIONS:
        runs: dict[str, list[dict]] = {w: [] for w in WAYS}
        for r in range(rounds):
            order = WAYS[r % len(WAYS):] + WAYS[:r % len(WAYS)]
            for way in order:
                runs[way].append(_run_child(way, question, root))
        digests = {w: {x["digest"] for x in runs[w]} for w in WAYS}
        if len({d for ds in digests.values() for d in ds}) != 1:
            raise SystemExit(f"{question}: the three ways disagree: {digests}")
        base = [x["seconds"] for x in runs["duck_part"]]
        single = [x["seconds"] for x in runs["pandas_single"]]
        results[question] = {
            "pandas_vs_single": statistics.median(
                x["seconds"] / b for x, b in zip(runs["pandas"], single, strict=True)),
            "rows_counted": runs["duck_part"][0]["rows"],
            "ratio_vs_duck_part": {w: statistics.median(
                x["seconds"] / b for x, b in zip(runs[w], base, strict=True)) for w in WAYS},
            "median_s": {w: statistics.median(x["seconds"] for x in runs[w]) for w in WAYS},
            "peak_rss_mb": {w: max(x["rss_mb"] for x in runs[w]) for w in WAYS},
            "imports_rss_mb": max(x["base_mb"] for w in WAYS for x in runs[w]),
        }
    return results


def _n(value: float) -> str:
    return f"{int(value):,}".replace(",", " ")


def report(written: dict[str, float], results: dict[str, dict]) -> str:
    lines = [f"{_n(written['rows'])} incidents, {_n(written['municipalities'])} "
             f"municipalities x {YEARS} years, {_n(written['files'])} part files "
             f"(written through Store in {written['store_write_s']:.1f} s)"]
    for question, res in results.items():
        lines.append(f"{question} ({_n(res['rows_counted'])} rows counted), time as a "
                     "multiple of duck_part (median of paired ratios), process peak RSS "
                     f"(after the imports: {res['imports_rss_mb']:.0f} MB):")
        for way in WAYS:
            lines.append(f"  {way:<14} x{res['ratio_vs_duck_part'][way]:6.2f}"
                         f"  (median {res['median_s'][way]:.3f} s, peak RSS "
                         f"{res['peak_rss_mb'][way]:.0f} MB)")
        lines.append(f"  pandas / pandas_single (the layout's cost to Store.read): x"
                     f"{res['pandas_vs_single']:.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=WORK)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    try:
        written = build(args.dir, args.rows)
        results = bench(args.dir, args.rounds)
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)
    print(json.dumps({"written": written, "results": results}) if args.json
          else report(written, results))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4])))
        sys.exit(0)
    sys.exit(main())
