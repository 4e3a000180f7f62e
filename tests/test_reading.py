"""Tests for hjo_data.reading: encodings, delimiters, headers, line numbers, fast == exact."""

from __future__ import annotations

import codecs
import csv
import io
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import reading
from hjo_data.errors import UnknownDatasetError, UnreadableFileError
from hjo_data.reading import detect_dataset, map_headers, read_raw
from hjo_data.schema import DATASETS

HEADER = ["Datum", "Kategori", "Område", "Källa", "Latitud", "Beskrivning"]
ROWS = [
    ["2024-05-01 22:15", "klotter", "Hamnen", "polis", "58,301", "Tag på vägg, färgglad"],
    ["2024-05-02", "skadegörelse", "Knäpplan", "kommun", "58,3", "Krossad ruta i väntkur"],
    ["2024-05-03", "nedskräpning", "Guldkroken", "skola", "", "Skräp överallt – åäö ÅÄÖ"],
]


def csv_text(rows: list[list[str]], delimiter: str = ";", terminator: str = "\r\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerows(rows)
    return out.getvalue()


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


def rows_of(raw: reading.RawTable) -> list[list[str]]:
    return [list(map(str, r)) for r in raw.frame.itertuples(index=False, name=None)]


def exact(data: bytes, name: str = "f.csv") -> reading.RawTable:
    """The exact (Python csv) path only."""
    return reading._read_raw(data, name=name, allow_fast=False)


def assert_same(a: reading.RawTable, b: reading.RawTable) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame)
    np.testing.assert_array_equal(a.lines, b.lines)
    assert a.lines.dtype == b.lines.dtype == np.int64
    assert a.structural_errors == b.structural_errors
    assert (a.encoding, a.delimiter) == (b.encoding, b.delimiter)


# --------------------------------------------------------------------------- encodings


EXPECTED_ENCODING = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252",
    "utf-16": "utf-16",
    "utf-16-le-bom": "utf-16",
    "utf-16-be-bom": "utf-16",
}


@pytest.mark.parametrize("encoding", list(EXPECTED_ENCODING))
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_every_encoding_and_delimiter(tmp_path: Path, encoding: str, delimiter: str) -> None:
    path = tmp_path / "händelser.csv"
    path.write_bytes(encode(csv_text([HEADER, *ROWS], delimiter), encoding))
    raw = read_raw(path)
    assert raw.encoding == EXPECTED_ENCODING[encoding]
    assert raw.delimiter == delimiter
    assert list(raw.frame.columns) == HEADER
    assert rows_of(raw) == ROWS
    assert raw.lines.tolist() == [2, 3, 4]
    assert raw.structural_errors == []
    assert raw.file_name == "händelser.csv"
    assert_same(raw, exact(path.read_bytes()))


def test_bom_is_not_part_of_first_header() -> None:
    raw = read_raw(codecs.BOM_UTF8 + b"Datum;Kategori\n2024-01-01;klotter\n")
    assert raw.encoding == "utf-8-sig"
    assert list(raw.frame.columns) == ["Datum", "Kategori"]
    assert rows_of(raw) == [["2024-01-01", "klotter"]]


def test_utf16_tab_text_from_excel_unicode_export() -> None:
    text = "Datum\tKategori\tOmråde\r\n2024-02-03\tbrand\tSäby\r\n"
    raw = read_raw(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), name="export.txt")
    assert (raw.encoding, raw.delimiter) == ("utf-16", "\t")
    assert rows_of(raw) == [["2024-02-03", "brand", "Säby"]]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(codec: str) -> None:
    text = "Datum\tKategori\n2024-02-03\tklotter på bänk\n"
    raw = read_raw(text.encode(codec))
    assert raw.encoding == "utf-16"
    assert rows_of(raw) == [["2024-02-03", "klotter på bänk"]]


def test_swedish_letters_survive_in_headers_and_values() -> None:
    text = "Område;Åtgärder;Kön\nÖstra Ängen;Målning av vägg;kvinna\n"
    for enc in ("utf-8", "cp1252", "utf-16"):
        raw = read_raw(text.encode(enc))
        assert list(raw.frame.columns) == ["Område", "Åtgärder", "Kön"]
        assert rows_of(raw) == [["Östra Ängen", "Målning av vägg", "kvinna"]]


def test_invalid_utf8_after_the_sniffed_prefix_switches_to_cp1252() -> None:
    filler = [["2024-01-01", "klotter", "x" * 50] for _ in range(2000)]  # > 64 KB of ASCII
    rows = [*filler, ["2024-01-02", "skadegörelse", "Västra hamnen"]]
    data = csv_text([["Datum", "Kategori", "Område"], *rows]).encode("cp1252")
    assert len(data) > 70_000
    raw = read_raw(data)
    assert raw.encoding == "cp1252"
    assert rows_of(raw)[-1] == ["2024-01-02", "skadegörelse", "Västra hamnen"]
    assert len(raw.frame) == len(rows)


def test_cp1252_undefined_bytes_do_not_crash() -> None:
    raw = read_raw(b"A;B\n\x81\xe5;\x9d\n")
    assert raw.encoding == "cp1252"
    assert rows_of(raw) == [["\x81å", "\x9d"]]


# --------------------------------------------------------------------------- values


def test_decimal_comma_and_thousands_space_preserved_as_text() -> None:
    data = "År;Andel;Antal\n2024;12,5;1 234\n2023;0,07;12\n".encode()
    raw = read_raw(data)
    assert raw.delimiter == ";"
    assert rows_of(raw) == [["2024", "12,5", "1 234"], ["2023", "0,07", "12"]]


def test_decimal_comma_quoted_in_comma_file() -> None:
    raw = read_raw(b'Indikator,Andel\notrygg_kvall,"23,5"\nklotter,"1,0"\n')
    assert raw.delimiter == ","
    assert rows_of(raw) == [["otrygg_kvall", "23,5"], ["klotter", "1,0"]]


def test_empty_cells_are_empty_strings_and_all_columns_str() -> None:
    raw = read_raw(b"a;b;c\n;x;\n1;;\n")
    assert rows_of(raw) == [["", "x", ""], ["1", "", ""]]
    assert not raw.frame.isna().any().any()
    assert all(dtype == "str" for dtype in raw.frame.dtypes)


def test_values_are_not_stripped_but_headers_are() -> None:
    raw = read_raw(b"  Datum ; Kategori \n 2024-01-01 ;klotter  \n")
    assert list(raw.frame.columns) == ["Datum", "Kategori"]
    assert rows_of(raw) == [[" 2024-01-01 ", "klotter  "]]


def test_rows_of_only_empty_fields_are_skipped_like_blank_lines() -> None:
    data = b"a;b\n1;2\n;\n3;4\n;\n;\n"
    raw = read_raw(data)
    assert rows_of(raw) == [["1", "2"], ["3", "4"]]
    assert raw.lines.tolist() == [2, 4]
    assert raw.parser == "pyarrow"
    assert_same(raw, exact(data))


def test_nul_bytes_are_stripped() -> None:
    raw = read_raw(b"a;b\n1\x00;x\x00y\n2;z\n")
    assert rows_of(raw) == [["1", "xy"], ["2", "z"]]
    assert raw.lines.tolist() == [2, 3]


def test_duplicate_and_empty_headers_get_unique_names() -> None:
    raw = read_raw(b"Kategori;Kategori;;Omr\n1;2;3;4\n")
    assert list(raw.frame.columns) == ["Kategori", "Kategori (2)", "Kolumn 3", "Omr"]
    assert rows_of(raw) == [["1", "2", "3", "4"]]


def test_excel_sep_line_is_honoured() -> None:
    raw = read_raw(b"sep=,\na,b\n1;2,3\n")
    assert raw.delimiter == ","
    assert list(raw.frame.columns) == ["a", "b"]
    assert rows_of(raw) == [["1;2", "3"]]
    assert raw.lines.tolist() == [3]


def test_delimiter_sniffing_prefers_consistent_field_counts() -> None:
    # The header holds a comma inside a quoted name; ';' splits every line into 3 fields.
    data = 'Datum;"Område, del";Andel\n2024-01-01;Hamnen, norra;1,5\n2024-01-02;Sanna;2,5\n'
    raw = read_raw(data.encode())
    assert raw.delimiter == ";"
    assert list(raw.frame.columns) == ["Datum", "Område, del", "Andel"]


# --------------------------------------------------------------------------- file name


def test_file_name_is_base_name_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "fil.csv"
    path.parent.mkdir()
    path.write_bytes(b"a;b\n1;2\n")
    assert read_raw(path).file_name == "fil.csv"
    assert read_raw(str(path)).file_name == "fil.csv"
    assert read_raw(b"a;b\n1;2\n", name="C:\\Users\\x\\export.csv").file_name == "export.csv"
    assert read_raw(b"a;b\n1;2\n", name="../../etc/ladda.csv").file_name == "ladda.csv"
    assert read_raw(b"a;b\n1;2\n").file_name  # some non-empty placeholder


# --------------------------------------------------------------------------- unreadable


def test_empty_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "tom.csv"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match=r"tom\.csv.*Filen är tom\."):
        read_raw(path)
    with pytest.raises(UnreadableFileError, match="Filen är tom"):
        read_raw(b" \r\n\n  ", name="blank.csv")
    with pytest.raises(UnreadableFileError, match="Filen är tom"):
        read_raw(codecs.BOM_UTF8, name="bom.csv")


def test_binary_garbage_is_unreadable() -> None:
    rnd = random.Random(3)
    garbage = bytes(rnd.randrange(256) for _ in range(4096))
    with pytest.raises(UnreadableFileError, match=r"skräp\.bin.*inte ut att vara en textfil"):
        read_raw(garbage, name="skräp.bin")


def test_many_nul_and_control_bytes_is_unreadable() -> None:
    data = b"a;b\n" + b"\x00\x01\x02\x03x" * 200
    with pytest.raises(UnreadableFileError, match="textfil"):
        read_raw(data, name="x.csv")


def test_excel_workbook_gets_a_helpful_message() -> None:
    with pytest.raises(UnreadableFileError, match=r"rapport\.xlsx.*CSV"):
        read_raw(b"PK\x03\x04" + bytes(200), name="rapport.xlsx")


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"finns\.csv.*hittades inte"):
        read_raw(tmp_path / "finns.csv")
    with pytest.raises(UnreadableFileError):
        read_raw(tmp_path)


def test_header_only_file_gives_zero_rows() -> None:
    raw = read_raw(b"Datum;Kategori;Omr\xc3\xa5de\r\n")
    assert list(raw.frame.columns) == ["Datum", "Kategori", "Område"]
    assert len(raw.frame) == 0
    assert raw.rows_read == 0
    assert raw.lines.dtype == np.int64 and raw.lines.size == 0
    assert all(dtype == "str" for dtype in raw.frame.dtypes)
    assert_same(raw, exact(b"Datum;Kategori;Omr\xc3\xa5de\r\n"))


def test_no_header_row_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match="rubrikrad"):
        read_raw(b";;\n1;2;3\n", name="x.csv")
    with pytest.raises(UnreadableFileError, match="rubrikrad"):
        read_raw(b"2024-01-01;12;3,5\n2024-01-02;13;4,5\n", name="x.csv")


# --------------------------------------------------------------------------- line numbers


def build(chunks: list[list[str] | str], delimiter: str = ";") -> tuple[bytes, list[int]]:
    """Join records (lists) and literal lines (str) into a file; return the start line of
    every record, counted independently: 1 + line breaks (\\r\\n, \\n or a lone \\r, as
    editors and Python's universal newlines count them) ending at or before its offset."""
    text, offsets = "", []
    for chunk in chunks:
        if isinstance(chunk, str):
            text += chunk
        else:
            offsets.append(len(text))
            text += csv_text([chunk], delimiter)
    break_ends = [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    starts = [1 + sum(end <= offset for end in break_ends) for offset in offsets]
    return text.encode(), starts


def test_quoted_newlines_give_exact_line_numbers() -> None:
    data, starts = build([
        ["Datum", "Beskrivning"],
        ["2024-01-01", "rad 1\r\nrad 2\r\nrad 3"],
        ["2024-01-02", "en rad"],
        ["2024-01-03", "a\nb"],
        ["2024-01-04", "slut"],
    ])
    raw = read_raw(data)
    assert raw.lines.tolist() == starts[1:] == [2, 5, 6, 8]
    assert rows_of(raw)[0] == ["2024-01-01", "rad 1\r\nrad 2\r\nrad 3"]
    assert raw.parser == "pyarrow"
    assert_same(raw, exact(data))


def test_blank_lines_are_skipped_and_counted() -> None:
    data, starts = build([
        ["a", "b"], "\r\n", ["1", "2"], "\r\n\r\n", ["3", "x\r\n\r\ny"], ["4", "5"], "\r\n",
    ])
    raw = read_raw(data)
    assert rows_of(raw) == [["1", "2"], ["3", "x\r\n\r\ny"], ["4", "5"]]
    assert raw.lines.tolist() == starts[1:] == [3, 6, 9]
    assert_same(raw, exact(data))


def test_blank_lines_before_the_header() -> None:
    data = b"\n\nDatum;Kategori\n2024-01-01;klotter\n"
    raw = read_raw(data)
    assert list(raw.frame.columns) == ["Datum", "Kategori"]
    assert raw.lines.tolist() == [4]
    assert_same(raw, exact(data))


def test_header_with_quoted_newline() -> None:
    data = b'"Datum\nvid h\xc3\xa4ndelse";Kategori\n2024-01-01;klotter\n'
    raw = read_raw(data)
    assert list(raw.frame.columns) == ["Datum\nvid händelse", "Kategori"]
    assert raw.lines.tolist() == [3]
    assert_same(raw, exact(data))


def test_wrong_field_count_goes_to_structural_errors() -> None:
    data, starts = build([
        ["a", "b", "c"],
        ["1", "2", "3"],
        ["4", "5"],
        ["6", "7", "8", "9"],
        ["10", "multi\nline", "12", "13"],
        ["14", "15", "16"],
    ])
    raw = read_raw(data, name="fel.csv")
    assert rows_of(raw) == [["1", "2", "3"], ["14", "15", "16"]]
    assert raw.lines.tolist() == [starts[1], starts[5]]
    errors = raw.structural_errors
    assert [e.line for e in errors] == [starts[2], starts[3], starts[4]] == [3, 4, 5]
    assert [e.reason for e in errors] == [
        "Fel antal fält: 2 i stället för 3",
        "Fel antal fält: 4 i stället för 3",
        "Fel antal fält: 4 i stället för 3",
    ]
    assert errors[0].value == "4;5"
    assert errors[2].value == '10;"multi\nline";12;13'
    assert all(e.column == "" for e in errors)
    assert raw.rows_read == 5
    assert raw.parser == "pyarrow"  # bad rows are collected by the (single-threaded) fast path
    assert_same(raw, exact(data))


def test_structural_error_value_is_truncated() -> None:
    long = "x" * 500
    raw = read_raw(f"a;b\n{long};{long};{long}\n1;2\n".encode())
    assert len(raw.structural_errors) == 1
    assert raw.structural_errors[0].value == (f"{long};{long};{long}")[:200]
    assert rows_of(raw) == [["1", "2"]]


def test_unterminated_quote_never_crashes() -> None:
    # The open quote on line 2 is a structural error of its own; line 3 is read normally
    # (before issue 11 the quote swallowed line 3 into one field: 1 row read).
    data = b'a;b\n1;"open\n2;3\n\n'
    raw = read_raw(data)
    assert raw.rows_read == 2
    assert rows_of(raw) == [["2", "3"]] and raw.lines.tolist() == [3]
    assert [(e.line, e.column) for e in raw.structural_errors] == [(2, "b")]
    assert_same(raw, exact(data))


def test_single_column_file_uses_exact_path() -> None:
    raw = read_raw(b"Kategori\nklotter\n\nbrand\n")
    assert rows_of(raw) == [["klotter"], ["brand"]]
    assert raw.lines.tolist() == [2, 4]


# --------------------------------------------------------------------------- fast == exact

TRICKY = {
    "plain": b"a;b\n1;2\n3;4\n",
    "crlf_no_final_newline": b"a;b\r\n1;2\r\n3;4",
    "quotes_and_newlines": b'a;b\r\n1;"x\r\ny"\r\n"3;";"""q"""\r\n',
    "lone_cr_inside_quotes": b'a;b\n1;"x\ry"\n2;3\n',
    "old_mac_line_ends": b"a;b\r1;2\r3;4\r",
    "blank_lines": b"a;b\n\n1;2\n\n\n3;4\n\n",
    "whitespace_line": b"a;b\n1;2\n   \n3;4\n",
    "trailing_empty_rows": b"a;b\n1;2\n;\n;\n",
    "wrong_counts": b"a;b;c\n1;2\n3;4;5\n6;7;8;9\n",
    "quote_mid_field": b'a;b\n1;x"y"z\n"p"q;2\n',
    "empty_header_row_first": b";;\na;b;c\n1;2;3\n",
    "sep_line": b"sep=;\na;b\n1;2\n",
    "tab": b"a\tb\n1,5\t2\n",
    "bom_quotes": codecs.BOM_UTF8 + b'"a";"b"\n"1";"2"\n',
    "utf16_newline_in_field": codecs.BOM_UTF16_LE + 'a\tb\r\n1\t"x\r\ny"\r\n'.encode("utf-16-le"),
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_fast_and_exact_paths_agree(name: str) -> None:
    data = TRICKY[name]
    assert_same(read_raw(data), exact(data))


@pytest.mark.parametrize("seed", range(40))
def test_random_files_match_reference_and_both_paths(seed: int) -> None:
    rnd = random.Random(seed)
    delimiter = rnd.choice([";", ",", "\t"])
    width = rnd.randint(2, 6)
    pool = ["", "x", "åäö", "1,5", "a;b", "tab\there", "q\"uote", "rad\nny", "cr\r\nlf",
            "  pad  ", "ÅÄÖ é", "lone\rcr", "end\r", "\nstart", "\r\n"]
    header = [f"Kol {i}" for i in range(width)]
    chunks: list[list[str] | str] = [header]
    good: list[tuple[int, list[str]]] = []  # (chunk index, row)
    bad: list[int] = []
    for _ in range(rnd.randint(0, 30)):
        kind = rnd.random()
        if kind < 0.1:
            chunks.append(rnd.choice(["\n", "\r\n"]))
            continue
        n = width if kind < 0.85 else rnd.choice([w for w in range(1, width + 3) if w != width])
        row = ["v" + rnd.choice(pool)] + [rnd.choice(pool) for _ in range(n - 1)]
        (good.append((len(chunks), row)) if n == width else bad.append(len(chunks)))
        chunks.append(row)
    data, starts = build(chunks, delimiter)
    start_of = {}
    k = 0
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, str):
            start_of[i] = starts[k]
            k += 1

    raw = read_raw(data)
    assert raw.delimiter == delimiter
    assert list(raw.frame.columns) == header
    assert rows_of(raw) == [row for _, row in good]
    assert raw.lines.tolist() == [start_of[i] for i, _ in good]
    assert [e.line for e in raw.structural_errors] == [start_of[i] for i in bad]
    assert raw.parser == "pyarrow"
    assert_same(raw, exact(data))


def test_fast_path_is_used_for_well_formed_files() -> None:
    data, _ = build([["a", "b"], ["1", "x\ny"], ["2", "3"]])
    assert read_raw(data).parser == "pyarrow"
    assert exact(data).parser == "python"


# --------------------------------------------------------------------------- header mapping


def test_map_headers_any_case_spacing_order_and_english() -> None:
    incidents = DATASETS["incidents"]
    headers = ["  KÄLLA ", "beskrivning", "Område", "occurred at", "Category", "LATITUDE",
               "lon", "Ärende-nr"]
    mapping = map_headers(headers, incidents)
    assert mapping.columns == {
        "  KÄLLA ": "source",
        "beskrivning": "description",
        "Område": "area",
        "occurred at": "occurred_at",
        "Category": "category",
        "LATITUDE": "lat",
        "lon": "lon",
    }
    assert mapping.unknown == ["Ärende-nr"]
    assert mapping.missing_required == []


def test_map_headers_unit_suffix_and_ascii_spelling() -> None:
    survey = DATASETS["survey"]
    mapping = map_headers(["Ar", "Indikator", "Andel (%)", "Antal svar (n)"], survey)
    assert mapping.columns == {"Ar": "year", "Indikator": "indicator", "Andel (%)": "share",
                               "Antal svar (n)": "n"}
    assert map_headers(["Omrade", "Kalla"], DATASETS["incidents"]).columns == {
        "Omrade": "area", "Kalla": "source"}
    assert map_headers(["Malgrupp"], DATASETS["activities"]).columns == {
        "Malgrupp": "target_group"}


def test_map_headers_extra_and_missing_columns() -> None:
    mapping = map_headers(["Datum", "Kategori", "Väder", "Handläggare"], DATASETS["incidents"])
    assert mapping.columns == {"Datum": "occurred_at", "Kategori": "category"}
    assert mapping.unknown == ["Väder", "Handläggare"]
    required = [c.name for c in DATASETS["incidents"].columns if c.required]
    assert mapping.missing_required == [c for c in required
                                        if c not in ("occurred_at", "category")]
    assert mapping.missing_required == ["area", "source"]


def test_map_headers_duplicates_keep_the_first() -> None:
    mapping = map_headers(["Kategori", "Typ", "kategori", "Datum"], DATASETS["incidents"])
    assert mapping.columns == {"Kategori": "category", "Datum": "occurred_at"}
    assert mapping.unknown == ["Typ", "kategori"]


def test_map_headers_accepts_frame_columns() -> None:
    raw = read_raw("Datum;Kategori;Kategori;Område;Källa\n1;2;3;4;5\n".encode())
    mapping = map_headers(raw.frame.columns, DATASETS["incidents"])
    assert mapping.columns == {"Datum": "occurred_at", "Kategori": "category",
                               "Område": "area", "Källa": "source"}
    assert mapping.unknown == ["Kategori (2)"]


# --------------------------------------------------------------------------- detection

DETECT = {
    "incidents": ["Ärendenr", "Datum", "Kategori", "Område", "Källa", "Latitud", "Longitud",
                  "Beskrivning"],
    "survey_responses": ["År", "Område", "Kön", "Åldersgrupp", "Trygghet kväll",
                         "Nedskräpning", "Klotter", "Vikt"],
    "survey": ["År", "Indikator", "Grupp", "Område", "Andel", "Antal svar"],
    "youth": ["År", "Årskurs", "Kön", "Indikator", "Andel", "Antal svar", "Geografi"],
    "traffic": ["Datum", "Plats", "Kontrolltyp", "Kontrollerade fordon", "Fortkörning",
                "Rattfylleri", "Ordningsböter"],
    "activities": ["Datum", "Aktivitet", "Område", "Arrangörer", "Deltagare", "Målgrupp"],
}


@pytest.mark.parametrize("expected", list(DETECT))
def test_detect_dataset_swedish_headers(expected: str) -> None:
    assert detect_dataset(DETECT[expected]).name == expected
    shuffled = list(reversed([h.upper() for h in DETECT[expected]]))
    assert detect_dataset(shuffled).name == expected


@pytest.mark.parametrize("expected", list(DETECT))
def test_detect_dataset_canonical_english_headers(expected: str) -> None:
    dataset = DATASETS[expected]
    assert detect_dataset([c.name for c in dataset.columns]).name == expected
    assert detect_dataset([c.label for c in dataset.columns]).name == expected


def test_detect_dataset_from_read_file() -> None:
    text = "Datum;Typ;Plats;Källa\n2024-01-01;klotter;Hamnen;polis\n"
    raw = read_raw(text.encode("cp1252"))
    assert detect_dataset(raw.frame.columns).name == "incidents"
    text = "Datum;Typ;Plats;Deltagare\n2024-01-01;trygghetsvandring;Hamnen;12\n"
    assert detect_dataset(read_raw(text.encode()).frame.columns).name == "activities"


def test_youth_beats_survey_even_with_area_column() -> None:
    # Same number of mapped columns for both: the grade column decides.
    headers = ["År", "Årskurs", "Område", "Indikator", "Andel", "Antal"]
    survey = map_headers(headers, DATASETS["survey"])
    youth = map_headers(headers, DATASETS["youth"])
    assert len(survey.columns) == len(youth.columns)
    assert detect_dataset(headers).name == "youth"


def test_survey_responses_when_safety_answer_present() -> None:
    headers = ["År", "Indikator", "Andel", "Antal", "Trygghet", "Kön", "Område"]
    assert detect_dataset(headers).name == "survey_responses"


def test_unknown_headers_raise_with_swedish_message() -> None:
    with pytest.raises(UnknownDatasetError) as info:
        detect_dataset(["Namn", "Telefon", "Fika"])
    message = str(info.value)
    assert "'Namn'" in message and "'Telefon'" in message and "'Fika'" in message
    for dataset in DATASETS.values():
        assert dataset.label in message


def test_utf16_with_odd_trailing_byte_is_still_read() -> None:
    data = codecs.BOM_UTF16_LE + "a\tb\r\n1\t2\r\n".encode("utf-16-le") + b"\x00"
    raw = read_raw(data)
    assert raw.encoding == "utf-16"
    assert rows_of(raw) == [["1", "2"]]


def test_get_dataset_by_name_or_label_with_swedish_error() -> None:
    from hjo_data.errors import UnknownDatasetError
    from hjo_data.schema import DATASETS, get_dataset

    assert get_dataset("incidents") is DATASETS["incidents"]
    assert get_dataset(DATASETS["traffic"].label.upper()) is DATASETS["traffic"]
    assert get_dataset(DATASETS["youth"]) is DATASETS["youth"]
    with pytest.raises(UnknownDatasetError, match="Okänd datamängd 'kattdjur'.*incidents"):
        get_dataset("kattdjur")
