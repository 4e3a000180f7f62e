"""Memory-bounded sets and counts of record ids for the streaming ingest.

A streamed file is deduplicated against the stored ids (read once) and the ids seen in
earlier chunks of the same file. Holding millions of ids as Python strings would cost
gigabytes; here an id is two independent 64-bit hashes (16 bytes), kept in sorted numpy
arrays: a lookup is a binary search per value, adding a chunk one pass over what is
kept. Two ids count as equal only when both hashes agree (a false match needs a 128-bit
collision); an agreement of the first hash alone is reported as a ``clash`` so the
caller can fall back to an exact check.

Strings are hashed with SipHash (pandas) under two fixed keys: the same id gives the
same hashes on every machine, and no crafted file finds a 128-bit collision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SEED_A", "SEED_B", "HashCounts", "IdSet", "hash_strings", "mix64"]

SEED_A = 0x243F6A8885A308D3
SEED_B = 0x13198A2E03707344


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fixed, platform-independent uint64 -> uint64 mix."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _key(seed: int) -> str:
    """pandas' hash key (16 characters) for a seed."""
    return f"{seed & 0xFFFFFFFFFFFFFFFF:016x}"[:16]


def hash_strings(values: pa.Array | pa.ChunkedArray | pd.Series, seed: int) -> np.ndarray:
    """A uint64 per string (null = empty): SipHash-2-4 keyed by ``seed`` (pandas'
    ``hash_array``). Keyed and non-linear: two seeds together need a 128-bit collision,
    which no crafted file can find."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array(
            [], type=pa.large_string())
    if isinstance(values, pa.Array):
        if values.null_count:
            values = pc.fill_null(values, "")
        objects = values.to_numpy(zero_copy_only=False)
    else:
        objects = values.fillna("").to_numpy(dtype=object)
    if objects.size == 0:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_array(objects.astype(object, copy=False), categorize=False,
                              hash_key=_key(seed))


class HashCounts:
    """How often each uint64 hash was seen (sorted keys + counts)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.counts = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.keys.size)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Times each of ``hashes`` was added before (0 when never)."""
        if self.keys.size == 0 or hashes.size == 0:
            return np.zeros(hashes.size, dtype=np.int64)
        idx = np.minimum(np.searchsorted(self.keys, hashes), self.keys.size - 1)
        return np.where(self.keys[idx] == hashes, self.counts[idx], 0)

    def add(self, hashes: np.ndarray) -> None:
        if hashes.size == 0:
            return
        keys, counts = np.unique(hashes, return_counts=True)
        pos = np.searchsorted(self.keys, keys)
        found = pos < self.keys.size
        found[found] = self.keys[pos[found]] == keys[found]
        np.add.at(self.counts, pos[found], counts[found])
        self.keys = np.insert(self.keys, pos[~found], keys[~found])
        self.counts = np.insert(self.counts, pos[~found], counts[~found])


class IdSet:
    """Pairs (k1, k2) of uint64: k1 sorted, k2 aligned with it."""

    def __init__(self) -> None:
        self.k1 = np.zeros(0, dtype=np.uint64)
        self.k2 = np.zeros(0, dtype=np.uint64)

    def __len__(self) -> int:
        return int(self.k1.size)

    @classmethod
    def of_ids(cls, ids: pa.Array | pa.ChunkedArray | pd.Series) -> IdSet:
        """The set of ``ids`` keyed (hash A, hash B) of the id text."""
        out = cls()
        out.add(hash_strings(ids, SEED_A), hash_strings(ids, SEED_B))
        return out

    def lookup(self, k1: np.ndarray, k2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(same, clash): the pair is in the set; only k1 is (with another k2)."""
        n = k1.size
        same = np.zeros(n, dtype=bool)
        clash = np.zeros(n, dtype=bool)
        if self.k1.size == 0 or n == 0:
            return same, clash
        idx = np.searchsorted(self.k1, k1)
        at = np.minimum(idx, self.k1.size - 1)
        hit = (idx < self.k1.size) & (self.k1[at] == k1)
        same = hit & (self.k2[at] == k2)
        for i in np.flatnonzero(hit & ~same):  # equal k1 run: look at its other pairs
            j = int(idx[i]) + 1
            while j < self.k1.size and self.k1[j] == k1[i] and not same[i]:
                same[i] = self.k2[j] == k2[i]
                j += 1
        clash = hit & ~same
        return same, clash

    def add(self, k1: np.ndarray, k2: np.ndarray) -> None:
        """Add pairs (the caller adds each pair once)."""
        if k1.size == 0:
            return
        order = np.argsort(k1, kind="stable")
        k1, k2 = k1[order], k2[order]
        pos = np.searchsorted(self.k1, k1)
        self.k1 = np.insert(self.k1, pos, k1)
        self.k2 = np.insert(self.k2, pos, k2)
