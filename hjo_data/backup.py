"""Backup and restore of the store: a consistent snapshot taken under the store lock.

``python -m hjo_data backup DEST`` copies every file of the store (datasets, ingest log,
audit log, claims, history, quarantine, import profiles, login throttle state) into the
new directory DEST, with ``BACKUP.json`` listing each file's size and SHA-256. The copy is
made under the store lock (no ingest or withdrawal can run meanwhile; an interrupted
commit is finished or undone first, see journal.py), written to ``DEST.partial`` and
renamed when complete, so DEST is either a whole backup or absent.

``python -m hjo_data restore SRC`` checks every file of the backup against its
SHA-256 first (a damaged backup is refused, the store untouched). A store that already has
files is only replaced with ``--force``; its present content is then saved as a backup
beside it (``<store>.fore-aterstallning-<time>``) so that nothing is lost. The restore
runs under the store lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hjo_data.errors import HjoDataError
from hjo_data.formatting import fmt_int
from hjo_data.journal import NEW_SUFFIX, OLD_SUFFIX, fsync_path
from hjo_data.store import Store

__all__ = ["MANIFEST", "BackupError", "BackupResult", "backup", "restore"]

MANIFEST = "BACKUP.json"
FORMAT = 1
#: Never copied: lock files (held by the running process) and temps of a writer.
_SKIP_SUFFIXES = (".lock", ".tmp", NEW_SUFFIX, OLD_SUFFIX)


class BackupError(HjoDataError):
    """A backup cannot be written or restored (Swedish message)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    bytes: int
    #: Restore only: where the store's previous content was saved (None: it was empty).
    previous: Path | None = None

    @property
    def message(self) -> str:
        size = f"{fmt_int(self.files)} filer, {fmt_int(round(self.bytes / 1024))} kB"
        if self.previous is not None:
            return (f"Datalagret återställdes från {self.path} ({size}). Det tidigare "
                    f"innehållet sparades i {self.previous}.")
        return f"{self.path}: {size}."


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _store_files(root: Path) -> list[Path]:
    """The store's files (relative), lock files and writer temps left out."""
    if not root.exists():
        return []
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(_SKIP_SUFFIXES):
            out.append(path.relative_to(root))
    return out


def _copy_tree(root: Path, files: list[Path], dest: Path) -> list[dict[str, object]]:
    entries = []
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
        fsync_path(target)
        entries.append({"path": rel.as_posix(), "size": target.stat().st_size,
                        "sha256": _sha256(target)})
    for folder in {dest / rel.parent for rel in files} | {dest}:
        fsync_path(folder)
    return entries


def backup(store: Store, dest: str | Path) -> BackupResult:
    """Copy the store into the new directory ``dest`` (see the module docstring)."""
    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} finns redan och är inte en tom mapp – välj en ny mapp "
                          "för säkerhetskopian.")
    root = store.root.resolve()
    if dest.resolve() == root or root in dest.resolve().parents:
        raise BackupError(f"Säkerhetskopian kan inte ligga i datalagret ({store.root}).")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with store.lock():  # also finishes or undoes an interrupted commit first
        entries = _copy_tree(store.root, _store_files(store.root), partial)
        manifest = {"format": FORMAT, "created": datetime.now().astimezone().isoformat(
            timespec="seconds"), "store": str(store.root), "files": entries}
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        fsync_path(partial / MANIFEST)
    if dest.exists():
        dest.rmdir()  # an empty directory given as the destination
    os.replace(partial, dest)
    fsync_path(dest.parent)
    return BackupResult(dest, len(entries), sum(int(e["size"]) for e in entries))


def _verified_files(src: Path) -> list[dict[str, object]]:
    """The manifest's entries after checking every file (BackupError when damaged)."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        entries = list(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src} är ingen säkerhetskopia av datalagret ({MANIFEST} "
                          "saknas eller är skadad).") from exc
    for entry in entries:
        rel = Path(str(entry.get("path", "")))
        path = src / rel
        if rel.is_absolute() or ".." in rel.parts or not path.is_file():
            raise BackupError(f"Säkerhetskopian är ofullständig: {rel} saknas.")
        if path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            raise BackupError(f"Säkerhetskopian är skadad: {rel} stämmer inte med "
                              f"{MANIFEST} (storlek eller SHA-256). Inget återställdes.")
    return entries


def restore(src: str | Path, store: Store, *, force: bool = False) -> BackupResult:
    """Replace the store's content with the backup in ``src`` (see the module docstring)."""
    src = Path(src).expanduser()
    entries = _verified_files(src)
    previous: Path | None = None
    with store.lock():
        present = _store_files(store.root)
        if present and not force:
            raise BackupError(f"Datalagret {store.root} innehåller redan filer. Använd "
                              "--force för att ersätta dem (det nuvarande innehållet sparas "
                              "först som en säkerhetskopia bredvid).")
        if present:
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
            previous = store.root.with_name(f"{store.root.name}.fore-aterstallning-{stamp}")
            backup(store, previous)  # re-entrant lock: same snapshot rules
            for rel in present:
                (store.root / rel).unlink()
        files = [Path(str(e["path"])) for e in entries]
        _copy_tree(src, files, store.root)
    return BackupResult(src, len(entries), sum(int(e["size"]) for e in entries),
                        previous=previous)
