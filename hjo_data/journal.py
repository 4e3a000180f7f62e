"""Write-ahead journal: a store change (an ingest, a withdrawal) commits as one.

A change writes whole files (dataset part files, claims, history, quarantine), removes
files (a dataset part file emptied by a withdrawal, part files merged by compaction, a
migrated old-layout file) and appends lines to
the ingest log and the audit log. Without a journal a kill between "data file replaced"
and "log line appended" leaves rows nobody logged, audited or can undo. With it
(:class:`Transaction`, used through ``Store.transaction``):

1. **stage**: a marker ``<root>/journal/<txn>.staging`` is created, then every new file
   is written as ``.<name>.<txn>.hjo-new`` beside its target and fsynced; its SHA-256 is
   noted; a file to remove is only noted (no temp, SHA-256 ``null``);
2. **intent**: ``<root>/journal/<txn>.json`` (files: target, temp, backup, SHA-256; the
   ingest-log and audit lines to append) is written atomically and fsynced (then the
   staging marker is removed);
3. **install**: each target is hard-linked to ``.<name>.<txn>.hjo-old`` (the previous
   version) and replaced by its temp (``os.replace``) — or, for a removal, unlinked;
4. **log**, then **audit**: the lines are appended (fsynced);
5. **commit mark**: the backups are removed (everything is installed, so a recovery
   would roll forward), then the intent file.

:func:`recover` runs under the store lock whenever a journal entry is found (``Store``
checks on creation and whenever it takes the lock): an intent whose new files are all
present and complete (SHA-256) is rolled forward (install what is left, remove what is
to be removed, append the log and audit lines not yet there, commit); otherwise it is
rolled back (previous files restored from the backups, new ones removed, removed ones
put back from their backups). A staging marker without an intent
(killed while staging) has its temps deleted. So a kill at any step leaves either no
change or the whole change, logged, audited and undoable.

:data:`crash_hook` is called with each step's name (:data:`STEPS`); tests make it raise
or ``os._exit`` to kill the writer there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hjo_data import jsonl

__all__ = ["JOURNAL_DIR", "STEPS", "Transaction", "crash_hook", "pending", "recover"]

JOURNAL_DIR = "journal"
NEW_SUFFIX = ".hjo-new"
OLD_SUFFIX = ".hjo-old"
#: The points a commit passes, in order ("installed" after each replaced file).
STEPS: tuple[str, ...] = ("staged", "intent", "installed", "logged", "audited",
                          "committed")

#: Test hook: ``crash_hook(step)`` is called at every step of a commit.
crash_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if crash_hook is not None:
        crash_hook(name)


def fsync_path(path: Path) -> None:
    """fsync a file or directory (errors ignored: not every file system supports it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass(frozen=True)
class _File:
    target: Path
    temp: Path
    backup: Path
    #: None: the target is removed (no new content).
    sha256: str | None

    @property
    def removal(self) -> bool:
        return self.sha256 is None

    def to_json(self, root: Path) -> dict[str, str | None]:
        return {"target": str(self.target.relative_to(root)),
                "temp": str(self.temp.relative_to(root)),
                "backup": str(self.backup.relative_to(root)), "sha256": self.sha256}

    @classmethod
    def from_json(cls, root: Path, data: Mapping[str, Any]) -> _File:
        paths = [root / str(data[k]) for k in ("target", "temp", "backup")]
        if any(root.resolve() not in p.resolve().parents for p in paths):
            raise ValueError("journal path outside the store")
        sha = data["sha256"]
        return cls(*paths, sha256=None if sha is None else str(sha))


def _intent_dir(root: Path) -> Path:
    return root / JOURNAL_DIR


STAGING = ".staging"


def pending(root: str | Path) -> bool:
    """True when ``root`` has a journal entry (cheap: one directory listing)."""
    try:
        return any(p.suffix in (".json", STAGING) for p in _intent_dir(Path(root)).iterdir())
    except OSError:
        return False


class Transaction:
    """Files to replace and log lines to append, committed as one (see the module doc)."""

    def __init__(self, root: str | Path, txn_id: str, *, log_path: Path,
                 audit_path: Path) -> None:
        self.root = Path(root)
        self.id = "".join(c if c.isalnum() or c in "-_" else "_" for c in txn_id)[:100]
        self.log_path = log_path
        self.audit_path = audit_path
        self._files: dict[Path, _File] = {}
        self._log: list[dict[str, Any]] = []
        self._audit: list[dict[str, Any]] = []

    def stage(self, target: Path, write: Callable[[Path], None]) -> None:
        """Write the new content of ``target`` (``write(temp_path)``) to a fsynced temp."""
        target = Path(target)
        self._start()
        target.parent.mkdir(parents=True, exist_ok=True)
        temp, backup = self._side_paths(target)
        write(temp)
        fsync_path(temp)
        sha = _sha256(temp)
        if sha is None:
            raise OSError(f"staged file {temp} vanished")
        self._files[target] = _File(target, temp, backup, sha)

    def stage_removal(self, target: Path) -> None:
        """Remove ``target`` at commit (a temp staged for it in this transaction goes)."""
        target = Path(target)
        self._start()
        temp, backup = self._side_paths(target)
        temp.unlink(missing_ok=True)
        self._files[target] = _File(target, temp, backup, None)

    def staged(self, target: Path) -> Path | None:
        """The current content of ``target`` inside this transaction: its staged temp, the
        target itself when untouched, None when staged for removal."""
        f = self._files.get(Path(target))
        if f is None:
            return Path(target)
        return None if f.removal else f.temp

    def _start(self) -> None:
        if not self._files:
            marker = self._marker()
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            fsync_path(marker.parent)

    def _side_paths(self, target: Path) -> tuple[Path, Path]:
        return (target.parent / f".{target.name}.{self.id}{NEW_SUFFIX}",
                target.parent / f".{target.name}.{self.id}{OLD_SUFFIX}")

    def _marker(self) -> Path:
        return _intent_dir(self.root) / f"{self.id}{STAGING}"

    def log(self, entry: Mapping[str, Any]) -> None:
        """An ingest-log line to append at commit."""
        self._log.append(dict(entry))

    def audit(self, entry: Mapping[str, Any]) -> None:
        """An audit-log line to append at commit."""
        self._audit.append(dict(entry))

    def abort(self) -> None:
        """Forget the change (an error before commit): staged temps are removed."""
        _remove([*(f.temp for f in self._files.values()), self._marker()])
        self._files.clear()

    def commit(self) -> None:
        """Intent, install, log, audit, commit mark (see the module docstring)."""
        if not (self._files or self._log or self._audit):
            return
        _step("staged")
        files = list(self._files.values())
        intent = {"id": self.id, "files": [f.to_json(self.root) for f in files],
                  "log": self._log, "audit": self._audit}
        path = _intent_dir(self.root) / f"{self.id}.json"
        _write_intent(path, intent)
        self._marker().unlink(missing_ok=True)
        _step("intent")
        _install(files, hook=True)
        for entry in self._log:
            jsonl.append(self.log_path, entry)
        _step("logged")
        for entry in self._audit:
            jsonl.append(self.audit_path, entry)
        _step("audited")
        _remove(f.backup for f in files)  # all installed: recovery would roll forward
        path.unlink()
        fsync_path(path.parent)
        _step("committed")


def _write_intent(path: Path, intent: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(intent, ensure_ascii=False, default=str).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_path(path.parent)


def _install(files: Iterable[_File], *, hook: bool = False) -> None:
    """Replace each target by its temp (or remove it), keeping the previous version as
    the backup."""
    for f in files:
        if f.temp.exists() or (f.removal and f.target.exists()):
            if f.target.exists() and not f.backup.exists():
                try:
                    os.link(f.target, f.backup)
                except OSError:  # no hard links on this file system
                    shutil.copy2(f.target, f.backup)
            if f.removal:
                f.target.unlink()
            else:
                os.replace(f.temp, f.target)
            fsync_path(f.target.parent)
        if hook:
            _step("installed")


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


def _line_key(entry: Mapping[str, Any], kind: str) -> tuple[str, str]:
    what = entry.get("event" if kind == "log" else "action") or "ingest"
    return str(what), str(entry.get("batch_id"))


def _append_missing(path: Path, entries: list[Mapping[str, Any]], kind: str) -> None:
    if not entries:
        return
    present = {_line_key(e, kind) for e in jsonl.read(path)}
    for entry in entries:
        if _line_key(entry, kind) not in present:
            jsonl.append(path, entry)


def recover(root: str | Path, *, log_path: Path, audit_path: Path) -> list[str]:
    """Finish or undo every interrupted commit under ``root`` (caller holds the store
    lock). Returns one line per journal entry: "<id>: framåt" or "<id>: bakåt"."""
    root = Path(root)
    done: list[str] = []
    directory = _intent_dir(root)
    for path in sorted(directory.glob("*.json")) if directory.exists() else []:
        try:
            intent = json.loads(path.read_text(encoding="utf-8"))
            files = [_File.from_json(root, f) for f in intent.get("files", [])]
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # written atomically: never a real intent
            continue
        complete = all(_sha256(f.target) == f.sha256 or _sha256(f.temp) == f.sha256
                       for f in files if not f.removal)
        if complete:
            _install(files)
            _append_missing(log_path, list(intent.get("log", [])), "log")
            _append_missing(audit_path, list(intent.get("audit", [])), "audit")
            done.append(f"{intent.get('id')}: framåt")
        else:
            for f in files:
                if f.removal:  # removed (or about to be): put it back
                    if f.backup.exists():
                        os.replace(f.backup, f.target)
                elif _sha256(f.target) == f.sha256:  # installed: put the previous back
                    if f.backup.exists():
                        os.replace(f.backup, f.target)
                    else:
                        f.target.unlink(missing_ok=True)
            _remove(f.temp for f in files)
            done.append(f"{intent.get('id')}: bakåt")
        path.unlink(missing_ok=True)
        fsync_path(directory)
        _remove(f.backup for f in files)
    # Staging without an intent: the writer was killed before its intent, so nothing was
    # installed; its temps (and any backup a killed commit left) go. Every writer holds
    # the lock, so none of these is in use.
    markers = sorted(directory.glob(f"*{STAGING}")) if directory.exists() else []
    if markers:
        _remove([*root.rglob(f".*{NEW_SUFFIX}"), *root.rglob(f".*{OLD_SUFFIX}"), *markers])
        done.extend(f"{m.stem}: bakåt" for m in markers)
    return done
