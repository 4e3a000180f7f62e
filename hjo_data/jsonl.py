"""Append-only JSON-lines files (the ingest log and the audit log).

Appends are crash-safe for the file as a whole: each line is written with ``O_APPEND``
under an exclusive ``flock`` and fsynced. A process killed mid-write can leave a torn last
line; the next append starts on a fresh line so the torn one never swallows a new entry,
and readers skip lines that are not a JSON object.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["append", "read"]


def append(path: str | Path, entry: Mapping[str, Any]) -> None:
    """Append ``entry`` as one JSON line (creating the file and its folder)."""
    line = (json.dumps(dict(entry), ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a torn last line (crash) must not swallow this one
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read(path: str | Path) -> list[dict[str, Any]]:
    """Every JSON-object line, oldest first (torn, empty or non-object lines skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                entries.append(obj)
    return entries
