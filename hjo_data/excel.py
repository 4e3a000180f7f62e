"""Excel (.xlsx, and legacy .xls through xlrd) -> :class:`rawtable.RawTable`, after a
zip-bomb and XML-entity check.

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
  ``MAX_RATIO``:1 is refused (zip bomb), as is anything that is not a zip at all, and any
  XML part that declares a DTD (``<!DOCTYPE``: entity bombs, external entities / XXE).
  defusedxml (a pinned dependency) makes openpyxl's own parser refuse them as well.
* Whatever else goes wrong inside a workbook (truncated XML, a broken zip member, an
  encrypted or password-protected file, a corrupt .xls) ends here as an
  :class:`UnreadableFileError` with a Swedish reason: nothing from the parser (exception
  text, traceback, server paths) reaches the user.
* Legacy .xls (BIFF, an OLE2 container) is read with xlrd; an OLE2 container holding an
  encrypted .xlsx ("EncryptionInfo") is named as such.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd
import xlrd
from defusedxml import DefusedXmlException

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
    "is_ole2",
    "list_sheets",
    "read_excel",
    "read_xls",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: The OLE2 compound-document signature: legacy .xls, or an encrypted .xlsx.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Bytes of each XML part inspected for a DTD (it can only stand in the prolog).
_PROLOG_BYTES = 4096
_DOCTYPES = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_DAMAGED = ("Excel-arbetsboken kunde inte läsas – den är skadad eller ofullständig{where}. "
            "Öppna den i Excel och spara om den (.xlsx), eller spara data som CSV.")
_DAMAGED_XLS = ("Filen är en äldre Excel-fil (.xls) som inte kunde läsas – den är skadad eller "
                "ofullständig. Öppna den i Excel och spara om den (.xlsx), eller spara data "
                "som CSV.")
_HOSTILE = ("Arbetsboken innehåller XML-deklarationer (DTD/entiteter, t.ex. en s.k. "
            "entitetsbomb eller en extern entitet) som en vanlig Excel-fil aldrig har. "
            "Filen läses inte in av säkerhetsskäl. Spara om den i Excel eller som CSV.")
_ENCRYPTED = ("Arbetsboken är lösenordsskyddad (krypterad) och kan inte läsas. Ta bort "
              "lösenordet i Excel (Arkiv > Info > Skydda arbetsbok) och spara om den, eller "
              "spara data som CSV.")
#: Total uncompressed size of all members a workbook may have.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
#: Largest compression ratio accepted for a member larger than ``_RATIO_MIN_BYTES``.
MAX_RATIO = 100
_RATIO_MIN_BYTES = 1024 * 1024
_MAX_FORMULA_CELLS_NAMED = 10


def is_excel_name(name: str | None) -> bool:
    return bool(name) and str(name).lower().endswith(EXCEL_SUFFIXES)


def is_ole2(data: bytes) -> bool:
    """An OLE2 compound document (legacy .xls or an encrypted .xlsx)."""
    return data[:8] == OLE2_MAGIC


def _reason(exc: BaseException, where: str = "") -> str:
    """The Swedish reason for an exception raised while a workbook was parsed (the
    whole chain counts: openpyxl wraps the XML parser's error in a ValueError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DefusedXmlException):
            return _HOSTILE
        if isinstance(current, ParseError) and "entity" in str(current).lower():
            return _HOSTILE  # an undefined/expanding entity without defusedxml
        current = current.__cause__ or current.__context__
    return _DAMAGED.format(where=where)


def _fail(file_name: str, message: str) -> UnreadableFileError:
    return UnreadableFileError(f"{file_name}: {message}")


def check_zip(data: bytes, file_name: str) -> None:
    """Refuse what is not a zip, or a zip that would inflate dangerously (Swedish message)."""
    if is_ole2(data):
        if _encrypted_ooxml(data):
            raise _fail(file_name, _ENCRYPTED)
        raise _fail(file_name, "Filen är en äldre Excel-fil (.xls), inte .xlsx. Byt "
                               "filändelsen till .xls eller spara den som .xlsx eller CSV.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _refuse_dtd(zf, infos, file_name)
    except UnreadableFileError:
        raise
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


def _refuse_dtd(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], file_name: str) -> None:
    """Refuse a workbook whose XML parts declare a DTD (entity bombs, XXE), before any XML
    parser sees them. Only each part's prolog is read (sizes are checked before)."""
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with zf.open(info) as member:
                head = member.read(_PROLOG_BYTES)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                NotImplementedError) as exc:
            raise _fail(file_name, _DAMAGED.format(where=f" (delen {info.filename})")) from exc
        if any(marker in head for marker in _DOCTYPES):
            raise _fail(file_name, _HOSTILE)


def _encrypted_ooxml(data: bytes) -> bool:
    """An OLE2 container holding an encrypted OOXML package (its "EncryptionInfo"
    stream), as Excel writes a password-protected .xlsx."""
    return "EncryptionInfo".encode("utf-16-le") in data[:1 << 20] or \
        "EncryptionInfo".encode("utf-16-le") in data[-(1 << 20):]


def _open(data: bytes, file_name: str, *, data_only: bool) -> Any:
    import openpyxl  # only for .xlsx uploads: a slow import (~0.6 s) CSV files never need

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on bad input
        raise _fail(file_name, _reason(exc)) from exc


def list_sheets(source: Any, *, name: str | None = None) -> list[str]:
    """Names of the workbook's sheets, in order ([] when ``source`` is no workbook at all).
    ``source``: bytes, path or file-like (size-checked like any upload; a file-like is
    rewound afterwards when possible)."""
    file_name = base_name(name if name is not None else source_name(source))
    if isinstance(source, bytes):
        data = source
    else:
        data = source_bytes(source, name=file_name)
        if hasattr(source, "seek"):
            source.seek(0)
    if not is_ole2(data) and data[:4] != b"PK\x03\x04":
        return []  # no workbook (e.g. text named .xls): reading says what it is
    try:
        if is_ole2(data):
            return list(_open_xls(data, file_name).sheet_names())
        check_zip(data, file_name)
        wb = _open(data, file_name, data_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - the parser boundary: never a traceback
        raise _fail(file_name, _reason(exc)) from exc


def _open_xls(data: bytes, file_name: str) -> Any:
    """An xlrd Book of a legacy .xls (on demand: sheets are parsed when asked for)."""
    if _encrypted_ooxml(data):
        raise _fail(file_name, _ENCRYPTED)
    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True,
                                  logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise _fail(file_name, _ENCRYPTED) from exc
        raise _fail(file_name, _DAMAGED_XLS) from exc


def _xls_cell(cell: Any, datemode: int) -> object:
    """An xlrd cell as the Python value openpyxl would give (dates as datetime)."""
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(cell.value, datemode)
        except (xlrd.XLDateError, ValueError, OverflowError):
            return cell.value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#FEL")
    return cell.value


def read_xls(data: bytes, *, name: str, sheet: str | int | None = None) -> RawTable:
    """Read one sheet (default: the first) of a legacy .xls workbook (xlrd) into a
    RawTable: the same cell texts, line numbers and warnings as :func:`read_excel`."""
    try:
        book = _open_xls(data, name)
        try:
            sheets = list(book.sheet_names())
            title = _pick_sheet(name, sheets, sheet)
            ws = book.sheet_by_name(title)
            rows = [tuple(_xls_cell(c, book.datemode) for c in ws.row(i))
                    for i in range(ws.nrows)]
        finally:
            book.release_resources()
        return _to_raw_table(rows, {}, name=name, sheet=title, sheets=sheets,
                             parser="xlrd", encoding="xls")
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - the parser boundary: never a traceback
        raise _fail(name, _DAMAGED_XLS) from exc


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


def _pick_sheet(name: str, sheets: list[str], sheet: str | int | None) -> str:
    """The sheet's title: by name or 0-based index, default the first."""
    if not sheets:
        raise _fail(name, "Arbetsboken saknar kalkylblad.")
    if sheet is None or sheet == "":
        return sheets[0]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(sheets):
            raise _fail(name, f"Arbetsboken har inget blad nummer {sheet + 1}.")
        return sheets[sheet]
    if sheet in sheets:
        return sheet
    shown = ", ".join(f"'{s}'" for s in sheets)
    raise _fail(name, f"Bladet '{sheet}' finns inte. Blad i arbetsboken: {shown}.")


def read_excel(data: bytes, *, name: str, sheet: str | int | None = None) -> RawTable:
    """Read one sheet (default: the first) of an .xlsx workbook into a RawTable. Any
    failure while parsing is an :class:`UnreadableFileError` with a Swedish reason."""
    try:
        return _read_xlsx(data, name=name, sheet=sheet)
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - the parser boundary: never a traceback
        raise _fail(name, _reason(exc)) from exc


def _read_xlsx(data: bytes, *, name: str, sheet: str | int | None) -> RawTable:
    check_zip(data, name)
    wb = _open(data, name, data_only=True)
    formula_wb = None
    try:
        sheets = list(wb.sheetnames)
        title = _pick_sheet(name, sheets, sheet)
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
                  *, name: str, sheet: str, sheets: Iterable[str], parser: str = "openpyxl",
                  encoding: str = "xlsx") -> RawTable:
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
        encoding=encoding, delimiter="", structural_errors=errors, parser=parser,
        warnings=warnings, sheet=sheet,
    )
