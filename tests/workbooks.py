"""Workbooks written byte by byte for the format tests: a legacy .xls (BIFF8 in an OLE2
compound document, as Excel 97-2003 saves it), an OLE2 container as Excel writes a
password-protected .xlsx, and hostile .xlsx packages (written with zipfile).

No writer library is involved, so the reader is tested against the file formats
themselves (MS-CFB, MS-XLS), not against another library's idea of them.
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import datetime

import openpyxl

SECTOR = 512
FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --------------------------------------------------------------------------- OLE2 (MS-CFB)

def _dir_entry(name: str, kind: int, *, child: int = NO_STREAM, start: int = END,
               size: int = 0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack(
        "<64sHBBIII16sIQQIQ", encoded.ljust(64, b"\0"), len(encoded), kind, 1 if name else 0,
        NO_STREAM, NO_STREAM, child, b"\0" * 16, 0, 0, 0, start, size)


def compound_document(stream_name: str, stream: bytes) -> bytes:
    """An OLE2 file with one stream (padded to 4096 bytes: no mini stream needed)."""
    stream = stream.ljust(max(4096, -(-len(stream) // SECTOR) * SECTOR), b"\0")
    n = len(stream) // SECTOR
    fat = [FAT_SECTOR, END] + [i + 1 for i in range(2, 2 + n - 1)] + [END]
    fat += [FREE] * (SECTOR // 4 - len(fat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", OLE2_MAGIC, b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, 1, 1, 0, 4096, END, 0, END, 0)
    header += struct.pack("<109I", 0, *([FREE] * 108))
    directory = (_dir_entry("Root Entry", 5, child=1) +
                 _dir_entry(stream_name, 2, start=2, size=len(stream)) +
                 _dir_entry("", 0) + _dir_entry("", 0))
    return header + struct.pack(f"<{SECTOR // 4}I", *fat) + directory + stream


# --------------------------------------------------------------------------- BIFF8 (MS-XLS)

def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 6))


def _xf(format_index: int) -> bytes:
    return _record(0x00E0, struct.pack("<HHHBBBBIIH", 0, format_index, 0xFFF5 & 0xFFF1,
                                       0x20, 0, 0, 0, 0, 0, 0x20C0))


def _unicode(text: str, length_bytes: int) -> bytes:
    fmt = "<B" if length_bytes == 1 else "<H"
    return struct.pack(fmt, len(text)) + b"\x01" + text.encode("utf-16-le")


_EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_XF = 16  # XF index with built-in number format 14 (a date); index 15 is general


def _cell(row: int, col: int, value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, datetime):
        serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
        return _record(0x0203, struct.pack("<HHHd", row, col, _DATE_XF, serial))
    if isinstance(value, bool):
        return _record(0x0205, struct.pack("<HHHBB", row, col, 15, int(value), 0))
    if isinstance(value, int | float):
        return _record(0x0203, struct.pack("<HHHd", row, col, 15, float(value)))
    return _record(0x0204, struct.pack("<HHH", row, col, 15) + _unicode(str(value), 2))


def xls_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A BIFF8 .xls workbook: text (LABEL), numbers, booleans and dates (NUMBER with a
    date format), one sheet per entry."""
    font = _record(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0)
                   + _unicode("Arial", 1))
    xfs = b"".join(_xf(0) for _ in range(16)) + _xf(14)
    bodies = []
    for rows in sheets.values():
        width = max((len(r) for r in rows), default=0)
        cells = b"".join(_cell(i, j, v) for i, row in enumerate(rows) for j, v in enumerate(row))
        bodies.append(_bof(0x0010) + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0,
                                                                 width, 0))
                      + cells + _record(0x000A))
    names = list(sheets)
    head_len = (len(_bof(0x0005)) + len(_record(0x0042, b"\0\0")) + len(_record(0x0022, b"\0\0"))
                + 5 * len(font) + len(xfs)
                + sum(len(_record(0x0085, b"\0" * 6 + _unicode(n, 1))) for n in names)
                + len(_record(0x000A)))
    offsets, pos = [], head_len
    for body in bodies:
        offsets.append(pos)
        pos += len(body)
    globals_ = (_bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))
                + _record(0x0022, struct.pack("<H", 0)) + font * 5 + xfs
                + b"".join(_record(0x0085, struct.pack("<IBB", off, 0, 0) + _unicode(n, 1))
                           for off, n in zip(offsets, names, strict=True))
                + _record(0x000A))
    assert len(globals_) == head_len
    return compound_document("Workbook", globals_ + b"".join(bodies))


def encrypted_xlsx_bytes() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE2 container whose streams
    are EncryptionInfo and EncryptedPackage (only the first is needed to tell)."""
    return compound_document("EncryptionInfo", b"\x04\x00\x04\x00\x40\x00\x00\x00" * 8)


# --------------------------------------------------------------------------- .xlsx

def xlsx_members(rows: list[list[object]]) -> dict[str, bytes]:
    """The parts of a valid one-sheet workbook (openpyxl writes inline strings)."""
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def xlsx_with(rows: list[list[object]], replace: dict[str, bytes]) -> bytes:
    members = xlsx_members(rows)
    members.update(replace)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                             else b"&lol;") * 10)
                             for i in range(1, 10)) + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def hostile_xlsx(rows: list[list[object]]) -> dict[str, bytes]:
    """Hostile and broken workbooks that must each give a Swedish reason, never a crash."""
    sheet = xlsx_members(rows)[SHEET]
    first = str(rows[1][0]).encode()
    return {
        "truncated": xlsx_with(rows, {SHEET: sheet[: len(sheet) // 2]}),
        "billion_laughs": xlsx_with(rows, {SHEET: BILLION_LAUGHS + sheet.replace(
            b"<t>" + first + b"</t>", b"<t>&lol9;</t>")}),
        "xxe": xlsx_with(rows, {SHEET: XXE + sheet.replace(b"<t>" + first + b"</t>",
                                                            b"<t>&xxe;</t>")}),
        "not_a_zip": b"Detta \xe4r ingen arbetsbok, bara text med fel fil\xe4ndelse.\n",
        "encrypted": encrypted_xlsx_bytes(),
    }
