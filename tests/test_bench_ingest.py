"""The ingest benchmark's pieces at a tiny size: the peers' pipelines do the same load as
ours (same accepted and rejected rows). A correctness test, never a timing one."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hjo_data.store import Store
from tests.benchmark_modules import load_benchmark


def _bench():
    return load_benchmark("bench_ingest")


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def generated(bench, tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("bench") / "incidents.csv"
    bad = bench.generate_incidents(path, 2_000, bad_share=0.02)
    return path, bad


def test_generated_file_has_bad_rows(generated) -> None:
    path, bad = generated
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2_001  # header + rows (no value holds a line break)
    assert 20 <= bad <= 80      # about 2 % of 2 000
    assert sum("2023-02-30 25:61" in line for line in lines) > 0


@pytest.mark.parametrize("tool", ["duckdb", "polars"])
def test_peer_accepts_and_rejects_the_rows_ours_does(bench, generated, tool, tmp_path) -> None:
    path, bad = generated
    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    ours = bench.run_ours(str(path), str(ours_dir))
    assert ours["rows_read"] == 2_000
    assert ours["duplicates"] == 0
    assert ours["rejected"] == bad  # every planted fault, nothing else
    peer_dir = tmp_path / tool
    peer_dir.mkdir()
    peer = bench.RUNNERS[tool](str(path), str(peer_dir))
    assert (peer["accepted"], peer["rejected"]) == (ours["accepted"], ours["rejected"])
    rejected = pq.read_table(peer_dir / "rejected.parquet").to_pydict()
    assert all(reason for reason in rejected["reason"])
    stored = Store(ours_dir / "store").read("incidents")
    accepted = pq.read_table(peer_dir / "accepted.parquet", columns=["incident_id"])
    assert sorted(accepted["incident_id"].to_pylist()) == sorted(stored["incident_id"])
    quarantine = next((ours_dir / "store" / "quarantine").glob("*.rejected.csv"))
    with quarantine.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert {int(r["rad"]) for r in rows} == set(rejected["line"])
