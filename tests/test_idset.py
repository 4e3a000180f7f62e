"""idset: the streaming ingest's hash sets (exactness matters: a false duplicate would
drop a row)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from hjo_data.idset import SEED_A, SEED_B, HashCounts, IdSet, hash_strings


def test_hash_strings_depends_on_every_byte_and_the_length() -> None:
    values = ["", "a", "a\x00", "EST-00000001", "EST-00000002", "EST-000000010",
              "ä" * 9, "ä" * 9 + "x", "same", "same"]
    h = hash_strings(pa.array(values), SEED_A)
    assert h.dtype == np.uint64
    assert h[8] == h[9]
    assert len(set(h[:9].tolist())) == 9
    assert not np.array_equal(h, hash_strings(pa.array(values), SEED_B))


def test_hash_strings_is_the_same_for_slices_chunks_series_and_nulls() -> None:
    values = [f"id-{i * 7919}" for i in range(1000)]
    whole = hash_strings(pa.array(values, type=pa.large_string()), SEED_A)
    sliced = hash_strings(pa.array(values).slice(300, 400), SEED_A)
    chunked = hash_strings(pa.chunked_array([values[:10], values[10:]]), SEED_A)
    series = hash_strings(pd.Series(values, dtype="str"), SEED_A)
    assert np.array_equal(sliced, whole[300:700])
    assert np.array_equal(chunked, whole) and np.array_equal(series, whole)
    assert len(np.unique(whole)) == 1000
    with_null = hash_strings(pa.array(["x", None, ""]), SEED_A)
    assert with_null[1] == with_null[2] != with_null[0]


def test_id_set_lookup_and_clash() -> None:
    ids = IdSet.of_ids(pa.array(["a", "b", "c"]))
    k1 = hash_strings(pa.array(["b", "d", "a"]), SEED_A)
    k2 = hash_strings(pa.array(["b", "d", "a"]), SEED_B)
    k2[2] ^= np.uint64(1)  # "a" with another second hash: a clash, not a match
    same, clash = ids.lookup(k1, k2)
    assert same.tolist() == [True, False, False]
    assert clash.tolist() == [False, False, True]
    ids.add(k1[1:2], k2[1:2])
    assert ids.lookup(k1[1:2], k2[1:2])[0].tolist() == [True] and len(ids) == 4


def test_id_set_finds_the_pair_within_a_run_of_equal_first_hashes() -> None:
    ids = IdSet()
    ids.add(np.array([5, 5, 5, 1], dtype=np.uint64), np.array([10, 20, 30, 1],
                                                                 dtype=np.uint64))
    same, clash = ids.lookup(np.array([5, 5, 5], dtype=np.uint64),
                             np.array([30, 20, 40], dtype=np.uint64))
    assert same.tolist() == [True, True, False] and clash.tolist() == [False, False, True]


def test_hash_counts_add_up_over_chunks() -> None:
    counts = HashCounts()
    counts.add(np.array([3, 3, 7], dtype=np.uint64))
    assert counts.lookup(np.array([3, 7, 9], dtype=np.uint64)).tolist() == [2, 1, 0]
    counts.add(np.array([9, 3], dtype=np.uint64))
    assert counts.lookup(np.array([3, 7, 9], dtype=np.uint64)).tolist() == [3, 1, 1]
    assert len(counts) == 3
