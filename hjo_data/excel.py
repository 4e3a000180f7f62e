"""Excel (.xlsx) -> :class:`rawtable.RawTable`, after a zip-bomb check.

* The workbook is opened with openpyxl ``read_only=True, data_only=True``: formulas are
  never evaluated; their cached values (what Excel last computed) are read. A formula cell
  without a cached value gets its formula text, read as text, with a warning naming the
  cells (validation then treats it like any text, exports neutralise a leading ``=``).
* Merged cells: the value sits in the top-left cell, the others read as empty.
* Dates/times become ISO text ("2024-05-01", "2024-05-01 14:30"), numbers plain text
  ("12", "12.5"), so validation is exactly the same as for CSV files.
* Line numbers are Excel row numbers; the header row is the first non-empty row.
* Before openpyxl sees the bytes, the zip directory is inspected: a total uncompressed size
  over ``MAX_UNCOMPRESSED_BYTES`` or a large member compressed more than
  ``MAX_RATIO``:1 is refused (zip bomb), as is anything that is not a zip at all.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from hjo_data.errors import RowError, UnreadableFileError
from hjo_data.formatting import fmt_megabytes
from hjo_data.rawtable import (
    RawTable,
    StructuralError,
    base_name,
    source_bytes,
    source_name,
    unique_names,
)

__all__ = [
    "EXCEL_SUFFIXES",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "check_zip",
    "is_excel_name",
    "list_sheets",
    "read_excel",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Total uncompressed size of all members a workbook may have.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: Largest compression ratio accepted for a member larger than ``_RATIO_MIN_BYTES``.
MAX_RATIO = 100
_RATIO_MIN_BYTES = 1024 * 1024
_MAX_FORMULA_CELLS_NAMED = 10


def is_excel_name(name: str | None) -> bool:
    return bool(name) and str(name).lower().endswith(EXCEL_SUFFIXES)


def _fail(file_name: str, message: str) -> UnreadableFileError:
    return UnreadableFileError(f"{file_name}: {message}")


def check_zip(data: bytes, file_name: str) -> None:
    """Refuse what is not a zip, or a zip that would inflate dangerously (Swedish message)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(file_name, "Filen är en äldre Excel-fil (.xls) eller en krypterad "
                               "arbetsbok. Spara den som .xlsx (utan lösenord) eller som CSV.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _fail(file_name, "Filen är inte en giltig Excel-arbetsbok (.xlsx) – den kan "
                               "vara skadad eller ha fått fel filändelse. Spara om "
                               "den i Excel (.xlsx) eller som CSV.") from exc
    total = sum(max(0, i.file_size) for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        limit = fmt_megabytes(MAX_UNCOMPRESSED_BYTES)
        raise _fail(file_name, f"Arbetsboken packas upp till {fmt_megabytes(total)} MB, mer än "
                               f"gränsen {limit} MB. Filen läses inte in (skydd mot s.k. "
                               "zip-bomber). Spara data som CSV i stället.")
    for info in infos:
        if info.file_size > _RATIO_MIN_BYTES:
            ratio = info.file_size / max(1, info.compress_size)
            if ratio > MAX_RATIO:
                raise _fail(file_name, f"Arbetsboken innehåller en del som packas upp "
                                       f"{ratio:.0f} gånger (gräns {MAX_RATIO}). Filen läses "
                                       "inte in (skydd mot s.k. zip-bomber).")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _fail(file_name, "Zip-filen är ingen Excel-arbetsbok (.xlsx).")


def _open(data: bytes, file_name: str, *, data_only: bool) -> Any:
    import openpyxl  # only for .xlsx uploads: a slow import (~0.6 s) CSV files never need

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on bad input
        raise _fail(file_name, "Excel-arbetsboken kunde inte öppnas – den kan vara skadad. "
                               "Spara om den i Excel eller som CSV.") from exc


def list_sheets(source: Any, *, name: str | None = None) -> list[str]:
    """Names of the workbook's sheets, in order. ``source``: bytes, path or file-like
    (size-checked like any upload; a file-like is rewound afterwards when possible)."""
    file_name = base_name(name if name is not None else source_name(source))
    if isinstance(source, bytes):
        data = source
    else:
        data = source_bytes(source, name=file_name)
        if hasattr(source, "seek"):
            source.seek(0)
    check_zip(data, file_name)
    wb = _open(data, file_name, data_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "SANT" if value else "FALSKT"
    if isinstance(value, dt.datetime):
        if value.hour or value.minute or value.second:
            return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_excel(data: bytes, *, name: str, sheet: str | int | None = None) -> RawTable:
    """Read one sheet (default: the first) of an .xlsx workbook into a RawTable."""
    check_zip(data, name)
    wb = _open(data, name, data_only=True)
    formula_wb = None
    try:
        sheets = list(wb.sheetnames)
        if not sheets:
            raise _fail(name, "Arbetsboken saknar kalkylblad.")
        if sheet is None or sheet == "":
            title = sheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(sheets):
                raise _fail(name, f"Arbetsboken har inget blad nummer {sheet + 1}.")
            title = sheets[sheet]
        elif sheet in sheets:
            title = sheet
        else:
            shown = ", ".join(f"'{s}'" for s in sheets)
            raise _fail(name, f"Bladet '{sheet}' finns inte. Blad i arbetsboken: {shown}.")
        ws = wb[title]
        if not hasattr(ws, "iter_rows"):
            raise _fail(name, f"'{title}' är ett diagramblad, inte en tabell.")
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        # Formula cells without a cached value read as None above; find them in a second
        # pass that keeps formulas (only when the sheet has any empty cells at all).
        formula_cells: dict[tuple[int, int], str] = {}
        if any(v is None for r in rows for v in r):
            formula_wb = _open(data, name, data_only=False)
            fws = formula_wb[title]
            for i, frow in enumerate(fws.iter_rows(values_only=True)):
                if i >= len(rows):
                    break
                for j, v in enumerate(frow):
                    if (isinstance(v, str) and v.startswith("=") and j < len(rows[i])
                            and rows[i][j] is None):
                        formula_cells[(i, j)] = v
    finally:
        wb.close()
        if formula_wb is not None:
            formula_wb.close()
    return _to_raw_table(rows, formula_cells, name=name, sheet=title, sheets=sheets)


def _to_raw_table(rows: list[tuple[Any, ...]], formula_cells: dict[tuple[int, int], str],
                  *, name: str, sheet: str, sheets: Iterable[str]) -> RawTable:
    texts = [[_cell_text(v) for v in row] for row in rows]
    for (fi, fj), formula in formula_cells.items():
        texts[fi][fj] = formula
    header_index = next((i for i, r in enumerate(texts) if any(c.strip() for c in r)), None)
    if header_index is None:
        raise _fail(name, f"Bladet '{sheet}' är tomt.")
    header = [c.replace("\ufeff", "").strip() for c in texts[header_index]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    if width == 0:
        raise _fail(name, f"Bladet '{sheet}' saknar rubrikrad.")
    columns: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    errors: list[RowError] = []
    for i in range(header_index + 1, len(texts)):
        cells = texts[i]
        if not any(c.strip() for c in cells):
            continue  # empty rows (also the empty parts of merged cells spanning rows)
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            raw_line = ";".join(cells).rstrip(";")
            used = max(j + 1 for j, c in enumerate(cells) if c.strip())
            errors.append(StructuralError(
                i + 1, "", raw_line[:200],
                f"Fel antal fält: {used} i stället för {width} (värden utanför rubrikraden)",
                raw=raw_line, fields=tuple(cells[:used])))
            continue
        cells = cells[:width] + [""] * (width - len(cells))
        for target, value in zip(columns, cells, strict=True):
            target.append(value)
        lines.append(i + 1)
    names = unique_names(header)
    frame = pd.DataFrame({n: pd.Series(v, dtype="str") for n, v in zip(names, columns,
                                                                          strict=True)})
    warnings: list[str] = []
    if formula_cells:
        cells_named = [f"{_column_letter(j)}{i + 1}" for i, j in sorted(formula_cells)]
        shown = ", ".join(cells_named[:_MAX_FORMULA_CELLS_NAMED])
        more = len(cells_named) - _MAX_FORMULA_CELLS_NAMED
        if more > 0:
            shown += f" och {more} till"
        warnings.append(f"Bladet '{sheet}': {len(cells_named)} formelceller saknar sparat "
                        f"värde ({shown}); formeltexten läses som text. Öppna och spara "
                        "filen i Excel så att värdena beräknas.")
    other = [s for s in sheets if s != sheet]
    if other:
        warnings.append(f"Arbetsboken har flera blad; bladet '{sheet}' lästes "
                        f"(övriga: {', '.join(repr(s) for s in other)}).")
    return RawTable(
        file_name=name, frame=frame, lines=np.asarray(lines, dtype=np.int64),
        encoding="xlsx", delimiter="", structural_errors=errors, parser="openpyxl",
        warnings=warnings, sheet=sheet,
    )
