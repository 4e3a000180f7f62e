"""Ingest benchmark (a script, not a test): ours against pyarrow, DuckDB and Polars.

One generated EST-shaped CSV per size (';', Swedish headers, decimal comma, about 0.5 %
bad rows: impossible or too early dates, numbers that are not numbers, a latitude
without longitude, an empty area). Four contenders, each run in its own subprocess (peak
RSS per run) and interleaved (A B C D, B C D A, ...) for several rounds:

* ``pyarrow``: ``pyarrow.csv.read_csv`` parse only (the baseline);
* ``duckdb`` / ``polars``: the same validated load into Parquet a competent user of each
  tool would write: every column read as text, typed casts (time stamps, decimal-comma
  numbers, the category vocabulary with fallback, area names and aliases), range and
  pair checks, personnummer masked in free text, in-file dedup on the id, rows failing
  any check kept with their reasons in a rejected Parquet, accepted rows in a Parquet;
* ``ours``: ``python -m hjo_data ingest FILE --json`` into an empty temp store (the CLI
  called in-process, so the child's clock covers the ingest, not interpreter start-up).

Printed per size: the median of the paired ratios (each round's time / that round's
pyarrow time), ours / DuckDB and ours / Polars paired, peak RSS of each, and ours' time
per row at the largest size over the smallest (1.0 = linear).

    python benchmarks/bench_ingest.py [--rows 1000000 10000000] [--rounds 3]

Data go under /tmp/bench-ingest (removed afterwards unless --keep).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOOLS = ("pyarrow", "duckdb", "polars", "ours")
DEFAULT_ROWS = (1_000_000, 10_000_000)
WORK = Path("/tmp/bench-ingest")
#: Share of generated rows that fail validation.
BAD_SHARE = 0.005
_GEN_BLOCK = 1_000_000

HEADERS = ("Händelse-id", "Tidpunkt", "Kategori", "Område", "Rapportör", "Latitud",
           "Longitud", "Beskrivning")


# ----------------------------------------------------------------------------- data

def generate_incidents(path: Path, rows: int, seed: int = 1497,
                       bad_share: float = BAD_SHARE) -> int:
    """Write a synthetic EST export; returns how many rows were made bad on purpose.
    Generated in blocks of a million rows (memory stays small at 10 M)."""
    import polars as pl  # lazy: a child loads only its own tool (peak RSS per tool)

    rng = np.random.default_rng(seed)
    bad_total = 0
    with path.open("wb") as out:
        for first in range(0, rows, _GEN_BLOCK):
            n = min(_GEN_BLOCK, rows - first)
            table, bad = _block(rng, first, n, bad_share)
            bad_total += bad
            # quotes only where a value needs them (as Excel writes CSV)
            pl.from_arrow(table).write_csv(out, separator=";", quote_style="necessary",
                                           include_header=first == 0)
    return bad_total


def _block(rng: np.random.Generator, first: int, n: int, bad_share: float
           ) -> tuple[pa.Table, int]:
    start = np.datetime64("2022-01-01T00:00", "m")
    minutes = rng.integers(0, 3 * 365 * 24 * 60, n)
    ts = np.datetime_as_string(start + minutes.astype("timedelta64[m]"), unit="m")
    ts = np.char.replace(ts, "T", " ").astype(object)
    no_time = rng.random(n) < 0.1  # some rows carry a date only
    ts[no_time] = np.array([t[:10] for t in ts[no_time]], dtype=object)
    cats = np.array(["skadegörelse", "klotter", "nedskräpning", "ordningsstörning", "brand",
                     "våld/hot", "stöld/inbrott", "narkotika", "alkohol", "mopedbuskörning",
                     "trafik", "övrigt", "Vandalism", "graffiti", "Okänd typ"], dtype=object)
    areas = np.array(["Hjo centrum", "Hamnen", "Stadsparken", "Guldkroken", "Knapegården",
                      "Hjo norra", "Hjo södra", "Korsberga", "Blikstorp", "Fågelås",
                      "Mofalla", "hjo-centrum", "Storgatan 5"], dtype=object)
    sources = np.array(["polis", "kommun", "skola", "bostadsbolag", "allmänhet",
                        "räddningstjänst", "Polisen", "väktare"], dtype=object)
    lat = 58.30 + rng.random(n) * 0.05
    lon = 14.27 + rng.random(n) * 0.05
    has_pos = rng.random(n) < 0.6
    lat_s = np.where(has_pos, np.char.replace(np.char.mod("%.5f", lat), ".", ","), "")
    lon_s = np.where(has_pos, np.char.replace(np.char.mod("%.5f", lon), ".", ","), "")
    lat_s, lon_s = lat_s.astype(object), lon_s.astype(object)
    descr = np.array(["", "Krossad ruta", "Klotter på vägg", "Stökigt vid kiosken; flera",
                      "Mopeder kör runt i parken", "Container i brand",
                      'Skylt "Hjo" nedriven'], dtype=object)
    area_v = areas[rng.integers(0, len(areas), n)]
    bad = np.flatnonzero(rng.random(n) < bad_share)
    kind = rng.integers(0, 5, bad.size)
    ts[bad[kind == 0]] = "2023-02-30 25:61"          # impossible date
    ts[bad[kind == 1]] = "1999-12-31 12:00"          # before 2000
    lat_s[bad[kind == 2]] = "58,3x"                  # not a number
    sel = bad[kind == 3]
    lat_s[sel], lon_s[sel] = "58,31", ""             # latitude without longitude
    area_v[bad[kind == 4]] = ""                      # required column empty
    ids = np.char.add("EST-", np.char.zfill(np.arange(first, first + n).astype(str), 8))
    table = pa.table({
        HEADERS[0]: pa.array(ids.astype(object).tolist()),
        HEADERS[1]: pa.array(ts.tolist()),
        HEADERS[2]: pa.array(cats[rng.integers(0, len(cats), n)].tolist()),
        HEADERS[3]: pa.array(area_v.tolist()),
        HEADERS[4]: pa.array(sources[rng.integers(0, len(sources), n)].tolist()),
        HEADERS[5]: pa.array(lat_s.tolist()),
        HEADERS[6]: pa.array(lon_s.tolist()),
        HEADERS[7]: pa.array(descr[rng.integers(0, len(descr), n)].tolist()),
    })
    return table, int(bad.size)


# ----------------------------------------------------------------------------- peers

def _vocabularies() -> dict[str, dict[str, str]]:
    """What a peer pipeline needs from our reference data: category synonyms (keys lower
    case) and area names/aliases -> canonical area (keys: letters and digits only)."""
    # lazy: a child loads only its own tool (peak RSS per tool)
    from hjo_data.reference import area_vocabulary
    from hjo_data.schema import get_dataset

    ds = get_dataset("incidents")
    return {
        "category": dict(ds.column("category").synonyms),
        "source": dict(ds.column("source").synonyms),
        "area": dict(area_vocabulary().lookup),
    }


def _limits() -> dict[str, object]:
    # lazy: a child loads only its own tool (peak RSS per tool)
    from hjo_data.schema import get_dataset

    ds = get_dataset("incidents")
    lat, lon = ds.column("lat"), ds.column("lon")
    return {"lat": (lat.minimum, lat.maximum), "lon": (lon.minimum, lon.maximum),
            "max_date": (date.today() + timedelta(days=2)).isoformat()}


#: Personnummer (YYMMDD-NNNN or YYYYMMDDNNNN) in free text: masked before anything is written.
PNR_RE = r"(^|\D)((19|20)?\d{6}[-+]?\d{4})(\D|$)"
TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def run_duckdb(csv_path: str, out_dir: str) -> dict:
    import duckdb  # lazy: a child loads only its own tool (peak RSS per tool)

    voc, lim = _vocabularies(), _limits()
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 2}")
    for name, mapping in voc.items():
        con.execute(f"CREATE TEMP TABLE voc_{name} (k VARCHAR PRIMARY KEY, v VARCHAR)")
        con.executemany(f"INSERT INTO voc_{name} VALUES (?, ?)", list(mapping.items()))
    (lat_lo, lat_hi), (lon_lo, lon_hi) = lim["lat"], lim["lon"]
    # the text table once (rowid = file order, hence the line), then one typed pass
    con.execute(f"""
    CREATE TEMP TABLE raw AS
    SELECT * FROM read_csv('{csv_path}', delim=';', quote='"', escape='"', header=true,
                           auto_detect=false, columns={{
                           'id': 'VARCHAR', 'ts': 'VARCHAR', 'cat': 'VARCHAR',
                           'area': 'VARCHAR', 'src': 'VARCHAR', 'lat': 'VARCHAR',
                           'lon': 'VARCHAR', 'descr': 'VARCHAR'}})
    """)
    strptime = ", ".join(f"try_strptime(trim(ts), '{f}')" for f in TS_FORMATS)
    con.execute(f"""
    CREATE TEMP TABLE checked AS
    WITH typed AS (
        SELECT raw.rowid + 2 AS line, raw.*,
            trim(coalesce(ts, '')) AS ts_t,
            coalesce({strptime}) AS occurred_at,
            length(trim(ts)) > 10 AS occurred_at_has_time,
            nullif(trim(coalesce(lat, '')), '') AS lat_t,
            nullif(trim(coalesce(lon, '')), '') AS lon_t,
            try_cast(replace(trim(lat), ',', '.') AS DOUBLE) AS lat_v,
            try_cast(replace(trim(lon), ',', '.') AS DOUBLE) AS lon_v,
            trim(coalesce(area, '')) AS area_t,
            vc.v AS cat_v, vs.v AS src_v, va.v AS area_v
        FROM raw
        LEFT JOIN voc_category vc ON vc.k = lower(trim(raw.cat))
        LEFT JOIN voc_source vs ON vs.k = lower(trim(raw.src))
        LEFT JOIN voc_area va ON va.k = regexp_replace(lower(raw.area), '[^[:alnum:]]', '', 'g')
    )
    SELECT
        line,
        nullif(trim(coalesce(id, '')), '') AS incident_id,
        occurred_at, occurred_at_has_time,
        coalesce(cat_v, 'övrigt') AS category,
        CASE WHEN cat_v IS NULL THEN trim(cat) ELSE '' END AS category_raw,
        coalesce(area_v, area_t) AS area,
        coalesce(src_v, 'övrigt') AS source,
        CASE WHEN src_v IS NULL THEN trim(src) ELSE '' END AS source_raw,
        lat_v AS lat, lon_v AS lon,
        regexp_replace(trim(coalesce(descr, '')), '{PNR_RE}', '\\1[personnummer]\\4', 'g')
            AS description,
        concat_ws('; ',
            CASE WHEN ts_t = '' THEN 'Kolumnen Tidpunkt är tom'
                 WHEN occurred_at IS NULL THEN 'Ogiltigt datum ''' || ts_t || ''' i Tidpunkt'
                 WHEN occurred_at < TIMESTAMP '2000-01-01' THEN 'Datum före 2000 i Tidpunkt'
                 WHEN occurred_at >= TIMESTAMP '{lim["max_date"]}'
                      THEN 'Datum i framtiden i Tidpunkt' END,
            CASE WHEN area_t = '' THEN 'Kolumnen Område är tom' END,
            CASE WHEN lat_t IS NOT NULL AND lat_v IS NULL
                      THEN 'Ogiltigt tal ''' || lat_t || ''' i Latitud'
                 WHEN lat_v < {lat_lo} OR lat_v > {lat_hi} THEN 'Latitud utanför området'
                 WHEN lat_v IS NOT NULL AND lon_t IS NULL THEN 'Latitud utan longitud' END,
            CASE WHEN lon_t IS NOT NULL AND lon_v IS NULL
                      THEN 'Ogiltigt tal ''' || lon_t || ''' i Longitud'
                 WHEN lon_v < {lon_lo} OR lon_v > {lon_hi} THEN 'Longitud utanför området'
                 WHEN lon_v IS NOT NULL AND lat_t IS NULL THEN 'Longitud utan latitud' END
        ) AS reason,
        concat_ws(';', id, ts, cat, area, src, lat, lon, descr) AS raw
    FROM typed
    """)
    con.execute("DROP TABLE raw")
    con.execute(f"""
    COPY (
        SELECT * EXCLUDE (reason, raw, line),
               coalesce(incident_id, md5(concat_ws('|', occurred_at, category, area,
                                                   source, lat, lon, description)))
                   AS record_id
        FROM checked WHERE reason = ''
        QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY line) = 1
    ) TO '{out_dir}/accepted.parquet' (FORMAT parquet, COMPRESSION lz4)
    """)
    con.execute(f"""
    COPY (SELECT line, reason, raw FROM checked WHERE reason <> '')
    TO '{out_dir}/rejected.parquet' (FORMAT parquet)
    """)
    accepted = con.execute(
        f"SELECT count(*) FROM '{out_dir}/accepted.parquet'").fetchone()[0]
    rejected = con.execute(
        f"SELECT count(*) FROM '{out_dir}/rejected.parquet'").fetchone()[0]
    con.close()
    return {"accepted": int(accepted), "rejected": int(rejected)}


def run_polars(csv_path: str, out_dir: str) -> dict:
    import polars as pl  # lazy: a child loads only its own tool (peak RSS per tool)

    voc, lim = _vocabularies(), _limits()
    (lat_lo, lat_hi), (lon_lo, lon_hi) = lim["lat"], lim["lon"]
    max_date = pl.lit(lim["max_date"]).str.to_datetime("%Y-%m-%d", time_unit="us")
    names = ["id", "ts", "cat", "area", "src", "lat", "lon", "descr"]
    raw = pl.scan_csv(csv_path, separator=";", quote_char='"', has_header=True,
                      new_columns=names, infer_schema=False, empty_string_is_null=False,
                      ).with_row_index("line", offset=2)
    t = {c: pl.col(c).str.strip_chars() for c in names}
    ts = pl.coalesce([t["ts"].str.to_datetime(f, strict=False, time_unit="us")
                      for f in TS_FORMATS])
    lat_v = t["lat"].str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    lon_v = t["lon"].str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    cat_v = t["cat"].str.to_lowercase().replace_strict(voc["category"], default=None)
    src_v = t["src"].str.to_lowercase().replace_strict(voc["source"], default=None)
    area_key = pl.col("area").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    area_v = area_key.replace_strict(voc["area"], default=None)
    typed = raw.with_columns(
        occurred_at=ts, lat_v=lat_v, lon_v=lon_v, cat_v=cat_v, src_v=src_v, area_v=area_v,
        **{f"{c}_t": t[c] for c in ("ts", "lat", "lon", "area")},
    )
    c = pl.col
    reason = pl.concat_str([
        pl.when(c("ts_t") == "").then(pl.lit("Kolumnen Tidpunkt är tom"))
        .when(c("occurred_at").is_null())
        .then(pl.format("Ogiltigt datum '{}' i Tidpunkt", c("ts_t")))
        .when(c("occurred_at") < pl.datetime(2000, 1, 1))
        .then(pl.lit("Datum före 2000 i Tidpunkt"))
        .when(c("occurred_at") >= max_date).then(pl.lit("Datum i framtiden i Tidpunkt")),
        pl.when(c("area_t") == "").then(pl.lit("Kolumnen Område är tom")),
        pl.when((c("lat_t") != "") & c("lat_v").is_null())
        .then(pl.format("Ogiltigt tal '{}' i Latitud", c("lat_t")))
        .when((c("lat_v") < lat_lo) | (c("lat_v") > lat_hi))
        .then(pl.lit("Latitud utanför området"))
        .when(c("lat_v").is_not_null() & (c("lon_t") == "")).then(pl.lit("Latitud utan longitud")),
        pl.when((c("lon_t") != "") & c("lon_v").is_null())
        .then(pl.format("Ogiltigt tal '{}' i Longitud", c("lon_t")))
        .when((c("lon_v") < lon_lo) | (c("lon_v") > lon_hi))
        .then(pl.lit("Longitud utanför området"))
        .when(c("lon_v").is_not_null() & (c("lat_t") == "")).then(pl.lit("Longitud utan latitud")),
    ], separator="; ", ignore_nulls=True)
    checked = typed.with_columns(reason=reason).collect(engine="streaming")
    ok = checked.filter(c("reason") == "")
    accepted = ok.select(
        incident_id=t["id"],
        occurred_at=c("occurred_at"),
        occurred_at_has_time=c("ts_t").str.len_chars() > 10,
        category=c("cat_v").fill_null("övrigt"),
        category_raw=pl.when(c("cat_v").is_null()).then(t["cat"]).otherwise(pl.lit("")),
        area=c("area_v").fill_null(c("area_t")),
        source=c("src_v").fill_null("övrigt"),
        source_raw=pl.when(c("src_v").is_null()).then(t["src"]).otherwise(pl.lit("")),
        lat=c("lat_v"), lon=c("lon_v"),
        description=t["descr"].str.replace_all(PNR_RE, "${1}[personnummer]${4}"),
    ).with_columns(record_id=pl.when(c("incident_id") != "").then(c("incident_id"))
                   .otherwise(pl.concat_str(pl.all().exclude("incident_id").cast(pl.String),
                                            separator="|", ignore_nulls=True).hash()
                              .cast(pl.String)))
    accepted = accepted.filter(c("record_id").is_first_distinct())
    accepted.write_parquet(f"{out_dir}/accepted.parquet", compression="lz4")
    rejected = checked.filter(c("reason") != "").select(
        "line", "reason", raw=pl.concat_str([c(n) for n in names], separator=";",
                                            ignore_nulls=True))
    rejected.write_parquet(f"{out_dir}/rejected.parquet")
    return {"accepted": accepted.height, "rejected": rejected.height}


def run_pyarrow(csv_path: str, _out_dir: str) -> dict:
    table = pacsv.read_csv(csv_path, parse_options=pacsv.ParseOptions(delimiter=";"))
    return {"accepted": table.num_rows, "rejected": 0}


def run_ours(csv_path: str, out_dir: str) -> dict:
    """``python -m hjo_data ingest FILE --json`` (the CLI in this process)."""
    from hjo_data import cli  # lazy: a child loads only its own tool (peak RSS per tool)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["ingest", csv_path, "--store", f"{out_dir}/store", "--json"])
    report = json.loads(out.getvalue())
    if code not in (0, 1) or "error" in report:
        raise RuntimeError(f"ingest failed ({code}): {report}")
    return {"accepted": report["accepted"], "rejected": report["rejected"],
            "duplicates": report["duplicates"], "rows_read": report["rows_read"]}


RUNNERS = {"pyarrow": run_pyarrow, "duckdb": run_duckdb, "polars": run_polars,
           "ours": run_ours}


# ----------------------------------------------------------------------------- driver

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(tool: str, csv_path: str, out_dir: str) -> dict:
    # Imports inside the timed region are each tool's own start-up: import them first.
    if tool == "duckdb":
        import duckdb  # noqa: F401 - warm import, see above
    elif tool == "polars":
        import polars  # noqa: F401 - warm import, see above
    elif tool == "ours":
        import hjo_data.cli  # noqa: F401 - warm import, see above
        import hjo_data.ingest  # noqa: F401 - warm import, see above
    t0 = time.perf_counter()
    counts = RUNNERS[tool](csv_path, out_dir)
    seconds = time.perf_counter() - t0
    return {"tool": tool, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **counts}


def _run_child(tool: str, csv_path: Path, out_dir: Path) -> dict:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    try:
        out = subprocess.run([sys.executable, __file__, "--child", tool, str(csv_path),
                              str(out_dir)], capture_output=True, text=True, cwd=REPO,
                             check=False)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"{tool} failed ({out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_size(rows: int, rounds: int, work: Path, keep: bool = False) -> dict:
    csv_path = work / f"incidents_{rows}.csv"
    t0 = time.perf_counter()
    if not (keep and csv_path.exists()):  # generation is deterministic: --keep reuses it
        generate_incidents(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"\n== {_n(rows)} rader ({size_mb:.0f} MB), genererade på "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    runs: dict[str, list[dict]] = {t: [] for t in TOOLS}
    for r in range(rounds):
        order = TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]  # rotate: no fixed slot
        for tool in order:
            runs[tool].append(_run_child(tool, csv_path, work / f"out-{tool}"))
        print(f"  omgång {r + 1}: " + ", ".join(
            f"{t} {runs[t][-1]['seconds']:.2f} s" for t in TOOLS), flush=True)
    if not keep:
        csv_path.unlink()
    secs = {t: [x["seconds"] for x in runs[t]] for t in TOOLS}
    result = {
        "rows": rows,
        "seconds": {t: _median(secs[t]) for t in TOOLS},
        "ratio_pyarrow": {t: _median([a / b for a, b in zip(secs[t], secs["pyarrow"],
                                                            strict=True)]) for t in TOOLS},
        "ours_vs": {p: _median([a / b for a, b in zip(secs["ours"], secs[p], strict=True)])
                    for p in ("duckdb", "polars")},
        "rss_mb": {t: max(x["peak_rss_mb"] for x in runs[t]) for t in TOOLS},
        "counts": {t: {k: runs[t][-1].get(k) for k in ("accepted", "rejected")}
                   for t in TOOLS},
        "ours_report": runs["ours"][-1],
    }
    print(f"  {'':<8}{'median s':>10}{'× pyarrow':>11}{'topp-RSS MB':>13}"
          f"{'godkända':>12}{'avvisade':>10}")
    for t in TOOLS:
        print(f"  {t:<8}{result['seconds'][t]:>10.2f}{result['ratio_pyarrow'][t]:>11.2f}"
              f"{result['rss_mb'][t]:>13.0f}{result['counts'][t]['accepted']:>12}"
              f"{result['counts'][t]['rejected']:>10}")
    for peer in ("duckdb", "polars"):
        ratio = result["ours_vs"][peer]
        print(f"  ours / {peer} (median av parvisa kvoter): {ratio:.2f}  "
              f"{'FÖRE' if ratio < 1 else 'EFTER'}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_ROWS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder and reuse its generated files")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    try:
        results = [bench_size(rows, args.rounds, args.work, args.keep) for rows in args.rows]
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    if len(results) > 1:
        small = min(results, key=lambda r: r["rows"])
        large = max(results, key=lambda r: r["rows"])
        per_row = ((large["seconds"]["ours"] / large["rows"])
                   / (small["seconds"]["ours"] / small["rows"]))
        rel = large["ratio_pyarrow"]["ours"] / small["ratio_pyarrow"]["ours"]
        print(f"\nLinjäritet ours: tid per rad {_n(large['rows'])} / {_n(small['rows'])} = "
              f"{per_row:.2f} (1.00 = linjär); kvot mot pyarrow {rel:.2f}")
        print(f"Topp-RSS ours vid {_n(large['rows'])} rader: "
              f"{large['rss_mb']['ours'] / 1024:.2f} GB (mål < 1 GB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
