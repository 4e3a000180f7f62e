"""The store benchmark's pieces at a tiny size: the county data land in one partition per
year, and the three ways (DuckDB on the partitioned store, DuckDB on one file, pandas via
Store.read) give the same answers, equal to counts made here from the generated rows.
A correctness test, never a timing one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.benchmark_modules import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_store")


def test_county_has_49_municipalities(bench) -> None:
    names = bench.municipalities()
    assert len(names) == 49 and "Hjo" in names and "Göteborg" in names


def test_three_ways_agree_with_a_hand_count(bench, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(bench, "CHUNK", 1_500)  # several chunks in one transaction
    rows = 4_000
    written = bench.build(tmp_path, rows, seed=7)
    assert written["rows"] == rows
    # Regenerate the same rows independently of the store and count them here.
    rng = np.random.default_rng(7)
    names = bench.municipalities()
    raw = pd.concat([bench._chunk(rng, first, min(1_500, rows - first), names)
                     for first in range(0, rows, 1_500)])
    years = raw["occurred_at"].dt.year
    assert sorted(years.unique()) == list(range(2015, 2025))
    parts = sorted({p.parent.name for p in (tmp_path / "store" / "incidents").rglob("*.parquet")})
    assert parts == [f"year={y}" for y in range(2015, 2025)]
    # 3 chunks x 10 years
    assert written["files"] == 30
    per_year = raw.groupby([raw["area"], years.rename("year")]).size()
    picked = raw[years == bench.PICKED_YEAR].groupby("area").size()
    for way in bench.WAYS:
        got = bench.run(way, "per_year", tmp_path).set_index(["area", "year"])["n"]
        assert got.sum() == rows
        assert got.to_dict() == per_year.to_dict(), way
        one = bench.run(way, "one_year", tmp_path)
        assert set(one["year"]) == {bench.PICKED_YEAR}
        assert one.set_index("area")["n"].to_dict() == picked.to_dict(), way
