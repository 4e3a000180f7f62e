"""What reading a file produces and how its bytes are fetched: :class:`RawTable`, the
structural-error type, the upload size limit and file-name helpers.

Shared by ``reading`` (CSV/text) and ``excel`` (.xlsx) so that both depend on this module
and ``reading`` may import ``excel`` without a cycle (reading -> excel -> rawtable).
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Union

import numpy as np
import pandas as pd

from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.formatting import fmt_megabytes

#: Default upload limit in MB (env HJO_MAX_UPLOAD_MB; keep .streamlit/config.toml's
#: server.maxUploadSize equal, it is the first line of defence in the browser upload).
DEFAULT_MAX_UPLOAD_MB = 50
#: ``max_bytes`` value meaning "no size limit" (files given on the command line by an
#: operator; the upload limit protects the web server, not the CLI).
NO_LIMIT = -1
#: What read_raw accepts: a path, the bytes, or a binary file-like (e.g. Streamlit's
#: UploadedFile; its size is checked before it is read).
Source = Union[str, Path, bytes, bytearray, memoryview, IO[bytes]]  # noqa: UP007

_UNNAMED_FILE = "uppladdad fil"


class FileTooLargeError(UnreadableFileError):
    """The file exceeds the upload limit; raised before the file is read."""


@dataclass(frozen=True)
class StructuralError(RowError):
    """A row that could not be split into the header's fields. ``raw`` is the whole
    original text (``value`` is shortened for reports); ``fields`` the parsed fields, if
    any, so quarantine can offer them in the original columns."""

    raw: str = ""
    fields: tuple[str, ...] = ()


@dataclass
class RawTable:
    """A file split into rows and fields; nothing interpreted yet (see ARCHITECTURE.md)."""

    file_name: str
    frame: pd.DataFrame
    lines: np.ndarray
    encoding: str
    delimiter: str
    structural_errors: list[RowError] = field(default_factory=list)
    #: Which parser produced the table: "pyarrow" (fast path), "python" (exact path) or
    #: "openpyxl" (Excel).
    parser: str = "pyarrow"
    #: Swedish notes about the reading itself (mixed encodings, NUL bytes, formulas, ...);
    #: validation passes them on into its warnings.
    warnings: list[str] = field(default_factory=list)
    #: Excel: the sheet read; None for text files.
    sheet: str | None = None
    #: Source rows deliberately not turned into rows: Swedish reason -> count (e.g.
    #: "sammanfattning", "annan kommun"); they count in ``rows_read``.
    skipped: dict[str, int] = field(default_factory=dict)
    #: The source format that read the file (formats.SourceFormat.name), None for generic.
    source_format: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.structural_errors) + sum(self.skipped.values())

    @property
    def headers(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def max_upload_bytes() -> int:
    """Upload limit in bytes: $HJO_MAX_UPLOAD_MB (MB, decimals allowed) or 50 MB."""
    text = os.environ.get("HJO_MAX_UPLOAD_MB", "").strip().replace(",", ".")
    try:
        mb = float(text) if text else float(DEFAULT_MAX_UPLOAD_MB)
    except ValueError:
        mb = float(DEFAULT_MAX_UPLOAD_MB)
    if mb <= 0:
        mb = float(DEFAULT_MAX_UPLOAD_MB)
    return int(mb * 1024 * 1024)


def source_name(source: object) -> str | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return None
    if isinstance(source, str | Path):
        return str(source)
    return getattr(source, "name", None)


def _size_of(source: object) -> int | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).nbytes
    if isinstance(source, str | Path):
        try:
            return Path(source).stat().st_size
        except OSError:
            return None
    size = getattr(source, "size", None)
    if isinstance(size, int):
        return size
    try:
        pos = source.tell()  # type: ignore[attr-defined]
        end = source.seek(0, io.SEEK_END)  # type: ignore[attr-defined]
        source.seek(pos)  # type: ignore[attr-defined]
        return int(end) - int(pos)
    except (AttributeError, OSError, ValueError):
        return None


def _limit(max_bytes: int | None) -> int | None:
    """The byte limit to apply: the upload limit for None, no limit for NO_LIMIT."""
    if max_bytes is None:
        return max_upload_bytes()
    return None if max_bytes == NO_LIMIT else int(max_bytes)


def check_size(source: Source, *, name: str | None = None, max_bytes: int | None = None
               ) -> int | None:
    """Raise :class:`FileTooLargeError` when ``source`` is over the limit, without reading
    it (path: stat; bytes: length; file-like: ``size`` or seek/tell). Returns the size.
    ``max_bytes``: None = the upload limit, :data:`NO_LIMIT` = none (the CLI's default)."""
    limit = _limit(max_bytes)
    size = _size_of(source)
    if limit is not None and size is not None and size > limit:
        file_name = base_name(name if name is not None else source_name(source))
        raise FileTooLargeError(
            f"{file_name}: Filen är för stor ({fmt_megabytes(size)} MB). Största tillåtna "
            f"storlek är {fmt_megabytes(limit)} MB. Dela upp filen i mindre delar (t.ex. per år) "
            "och läs in dem var för sig."
        )
    return size


def source_bytes(source: Source, *, name: str | None = None, max_bytes: int | None = None
                 ) -> bytes:
    """The bytes of ``source`` after :func:`check_size`; a file-like is read at most to
    the limit + 1 byte (its size may be unknown), so an oversized stream is never read."""
    limit = _limit(max_bytes)
    file_name = base_name(name if name is not None else source_name(source))
    if hasattr(source, "read") and hasattr(source, "seek"):
        # an upload is read from its start, also when read before (Streamlit reruns)
        with contextlib.suppress(OSError, ValueError):
            source.seek(0)  # type: ignore[union-attr]
    check_size(source, name=file_name, max_bytes=NO_LIMIT if limit is None else limit)
    read_size = -1 if limit is None else limit + 1
    if isinstance(source, bytes):
        return source
    if isinstance(source, bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            if path.is_dir():
                raise unreadable(file_name, "Sökvägen är en mapp, inte en fil.")
            with path.open("rb") as fh:
                data = fh.read(read_size)
        except UnreadableFileError:
            raise
        except FileNotFoundError as exc:
            raise unreadable(file_name, "Filen hittades inte.") from exc
        except PermissionError as exc:
            raise unreadable(file_name, "Saknar behörighet att läsa filen.") from exc
        except OSError as exc:
            raise unreadable(file_name, "Filen kunde inte öppnas.") from exc
    else:
        data = source.read(read_size)
        if isinstance(data, str):
            data = data.encode("utf-8")
    if limit is not None and len(data) > limit:
        check_size(data, name=file_name, max_bytes=limit)
    return bytes(data)


def base_name(name: str | None) -> str:
    if not name:
        return _UNNAMED_FILE
    base = str(name).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return base or _UNNAMED_FILE


def unreadable(file_name: str, message: str) -> UnreadableFileError:
    return UnreadableFileError(f"{file_name}: {message}")


def unique_names(headers: list[str]) -> list[str]:
    """Frame column names: the header text, made unique ("Kategori (2)"), never empty."""
    names: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers):
        base = header or f"Kolumn {i + 1}"
        candidate, k = base, 2
        while candidate in seen:
            candidate, k = f"{base} ({k})", k + 1
        seen.add(candidate)
        names.append(candidate)
    return names
