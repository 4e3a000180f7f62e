"""Hostile input: every case gives a clear Swedish message and loses nothing.

Excel-specific cases (zip bombs, formulas, merged cells) are in test_excel.py.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import reading
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import ingest_file, prepare_ingest
from hjo_data.reading import FileTooLargeError, read_raw
from hjo_data.store import Store
from hjo_data.validation import MAX_FIELD_CHARS

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2024, 6, 1)
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"


def est_lines(n: int, prefix: str = "E") -> list[str]:
    return [f"{prefix}{i};2024-05-{1 + i % 28:02d} 10:00;klotter;Centrum;polis;text {i}"
            for i in range(n)]


def est_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode(encoding)


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "hjo_store")


# --------------------------------------------------------------------------- size limit

def test_size_limit_bytes_and_env(monkeypatch, st: Store) -> None:
    monkeypatch.setenv("HJO_MAX_UPLOAD_MB", "1")
    assert reading.max_upload_bytes() == 1024 * 1024
    data = est_bytes(est_lines(30_000))
    assert len(data) > 1024 * 1024
    with pytest.raises(FileTooLargeError, match=r"stor\.csv: Filen är för stor \(\d+,?\d* MB\)"
                                                r"\. Största tillåtna storlek är 1 MB"):
        ingest_file(data, name="stor.csv", store=st)
    assert not st.root.exists()
    monkeypatch.delenv("HJO_MAX_UPLOAD_MB")
    assert reading.max_upload_bytes() == 50 * 1024 * 1024
    assert ingest_file(data, name="stor.csv", store=st, today=TODAY).accepted == 30_000


def test_size_limit_path_is_checked_before_reading(tmp_path: Path, monkeypatch) -> None:
    big = tmp_path / "jätte.csv"
    with big.open("wb") as fh:  # sparse: 200 MB without writing them
        fh.write(HEADER.encode() + b"\n")
        fh.truncate(200 * 1024 * 1024)

    def no_reading(*_a, **_k):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(FileTooLargeError, match=r"jätte\.csv: Filen är för stor \(200 MB\)\. "
                                                r"Största tillåtna storlek är 50 MB"):
        read_raw(big)


class _Upload:
    """A file-like like Streamlit's UploadedFile: ``size`` known, reads are recorded."""

    def __init__(self, data: bytes, name: str, size: int | None = None) -> None:
        self._data, self.name, self.reads = data, name, []
        if size is not None:
            self.size = size

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        return self._data if n < 0 else self._data[:n]


def test_size_limit_file_like(st: Store) -> None:
    up = _Upload(b"", "uppladdad.csv", size=300 * 1024 * 1024)
    with pytest.raises(FileTooLargeError, match=r"uppladdad\.csv.*300 MB"):
        prepare_ingest(up, store=st)
    assert up.reads == []
    # unknown size: read at most limit + 1 bytes, then refused
    stream = _Upload(b"x" * 2000, "ström.csv")
    with pytest.raises(FileTooLargeError, match=r"ström\.csv"):
        read_raw(stream, max_bytes=1000)
    assert stream.reads == [1001]
    ok = _Upload(est_bytes(est_lines(3)), "ok.csv", size=len(est_bytes(est_lines(3))))
    assert prepare_ingest(ok, store=st, today=TODAY).new_rows == 3
    # a real file object already read once (a rerun) is read again from its start
    upload = io.BytesIO(est_bytes(est_lines(4)))
    upload.read()
    assert prepare_ingest(upload, name="igen.csv", store=st, today=TODAY).new_rows == 4


def test_streamlit_config_matches_default_limit() -> None:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == reading.DEFAULT_MAX_UPLOAD_MB


# --------------------------------------------------------------------------- unreadable

@pytest.mark.parametrize("data, pattern", [
    (b"", r"tom\.csv: Filen är tom"),
    (b"\n\n  \n", r"tom\.csv: Filen är tom"),
    (bytes(range(256)) * 40, r"tom\.csv: .*inte ut att vara en textfil"),
    (b"%PDF-1.7\n" + os.urandom(3000), r"tom\.csv: Filen är en PDF"),
    (b"\x89PNG\r\n\x1a\n" + os.urandom(3000), r"tom\.csv: Filen är en bild"),
])
def test_empty_and_binary_files(data: bytes, pattern: str, st: Store) -> None:
    with pytest.raises(UnreadableFileError, match=pattern):
        ingest_file(data, name="../tom.csv", store=st)
    assert not st.root.exists()


def test_only_a_header(st: Store) -> None:
    with pytest.raises(UnreadableFileError, match=r"rubrik\.csv: Filen innehåller bara en "
                                                  r"rubrikrad"):
        ingest_file(est_bytes([]), name="rubrik.csv", store=st)


# --------------------------------------------------------------------------- encodings, NUL

def test_mixed_encodings_line_by_line(st: Store) -> None:
    lines = ["E1;2024-05-01;klotter;Västra stan;polis;Skräp på ängen",
             "E2;2024-05-02;klotter;Östermalm;polis;Åsa ringde",
             "E3;2024-05-03;klotter;Hamnen;polis;inget speciellt"]
    data = (HEADER + "\n").encode() + lines[0].encode("utf-8") + b"\n" + \
        lines[1].encode("cp1252") + b"\n" + lines[2].encode() + b"\n"
    report = ingest_file(data, name="blandad.csv", store=st, today=TODAY)
    assert report.accepted == 3
    assert report.encoding == "utf-8+cp1252"
    [warning] = [w for w in report.warnings if "teckenkodning" in w]
    assert "rad 3 " in warning and "Windows-1252" in warning
    stored = st.read("incidents").set_index("record_id")
    assert stored.loc["E1", "area"] == "Västra stan" and stored.loc["E2", "area"] == "Östermalm"
    assert stored.loc["E2", "description"] == "Åsa ringde"


def test_plain_cp1252_file_has_no_mixed_warning(st: Store) -> None:
    data = est_bytes(["E1;2024-05-01;klotter;Östermalm;polis;Åsa"], encoding="cp1252")
    report = ingest_file(data, name="ansi.csv", store=st, today=TODAY)
    assert report.encoding == "cp1252" and not any("teckenkodning" in w
                                                   for w in report.warnings)
    assert st.read("incidents")["area"].tolist() == ["Östermalm"]


def test_nul_bytes_removed_with_warning_rows_kept(st: Store) -> None:
    lines = est_lines(4)
    lines[1] = lines[1].replace("text", "te\x00xt")
    lines[3] = "\x00" + lines[3]
    report = ingest_file(est_bytes(lines), name="nul.csv", store=st, today=TODAY)
    assert report.accepted == 4
    [warning] = [w for w in report.warnings if "NUL" in w]
    assert "raderna 3, 5" in warning
    stored = st.read("incidents").set_index("record_id")
    assert stored.loc["E1", "description"] == "text 1" and "E3" in stored.index


# --------------------------------------------------------------------------- structure

def test_too_many_and_too_few_fields_are_structural_errors(st: Store) -> None:
    lines = est_lines(3)
    lines.insert(1, "X1;2024-05-01;klotter;Centrum")          # line 3: too few
    lines.insert(3, "X2;2024-05-01;klotter;Centrum;polis;a;b")  # line 5: too many
    report = ingest_file(est_bytes(lines), name="fält.csv", store=st, today=TODAY)
    assert (report.rows_read, report.accepted, report.rejected) == (5, 3, 2)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "Fel antal fält: 4 i stället för 6"), (5, "Fel antal fält: 7 i stället för 6")]
    # nothing lost: the short row's fields sit in their columns, the long row's whole text
    # in 'originalrad'
    text = Path(report.rejected_file).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][:6] == ["X1", "2024-05-01", "klotter", "Centrum", "", ""]
    assert rows[2][:6] == [""] * 6 and rows[2][-1] == "X2;2024-05-01;klotter;Centrum;polis;a;b"


def test_header_of_another_dataset(st: Store) -> None:
    traffic = b"Datum;Plats;Kontrolltyp;Kontrollerade fordon\n2024-05-01;Centrum;fart;10\n"
    with pytest.raises(UnreadableFileError) as info:
        ingest_file(traffic, name="trafik.csv", dataset="incidents", store=st)
    message = str(info.value)
    assert "trafik.csv" in message and "passar inte datamängden 'Händelser (EST)'" in message
    assert "Förväntade kolumner: 'Tidpunkt', 'Kategori', 'Område', 'Rapportör'" in message
    assert "liknar snarare datamängden 'Trafikkontroller'" in message
    assert not st.root.exists()


# --------------------------------------------------------------------------- cell content

def test_extremely_long_field_rejects_the_row_never_truncates(st: Store) -> None:
    exact = "a" * MAX_FIELD_CHARS
    long = "b" * (MAX_FIELD_CHARS + 1)
    lines = [f"E1;2024-05-01;klotter;Centrum;polis;{exact}",
             f"E2;2024-05-01;klotter;Centrum;polis;{long}"]
    report = ingest_file(est_bytes(lines), name="lång.csv", store=st, today=TODAY)
    assert (report.accepted, report.rejected) == (1, 1)
    [err] = report.errors
    assert err.line == 3 and err.column == "Beskrivning"
    assert "'Beskrivning' är för långt (10\u00a0001 tecken; högst 10\u00a0000)" in err.reason
    assert st.read("incidents")["description"].tolist() == [exact]
    # the whole value is in quarantine (nothing lost)
    assert long in Path(report.rejected_file).read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)"> & <b>fet</b>',
    "javascript:alert(document.cookie)",
    "=HYPERLINK(\"http://evil\",\"klick\")",
    "=1+2",
    "@SUM(A1)",
])
def test_html_js_and_formulas_stored_byte_identical(text: str, st: Store) -> None:
    field = '"' + text.replace('"', '""') + '"'
    data = est_bytes([f"E1;2024-05-01;klotter;Centrum;polis;{field}"])
    ingest_file(data, name="x.csv", store=st, today=TODAY)
    stored = st.read("incidents")["description"].item()
    assert stored.encode("utf-8") == text.encode("utf-8")


def test_path_in_file_name_uses_only_a_sanitised_base_name(st: Store) -> None:
    lines = est_lines(2) + ["E9;trasig;klotter;Centrum;polis;x"]
    report = ingest_file(est_bytes(lines), name="../../../etc/pass wd;rm -rf.csv", store=st,
                         today=TODAY)
    assert report.file == "pass wd;rm -rf.csv"
    quarantine = Path(report.rejected_file)
    assert quarantine.parent == st.quarantine_dir
    assert quarantine.name.endswith("_incidents_pass_wd_rm_-rf.csv.rejected.csv")
    assert st.ingest_log().iloc[0]["file"] == "pass_wd_rm_-rf.csv"
    for path in st.root.rglob("*"):
        assert st.root in path.resolve().parents


# --------------------------------------------------------------------------- concurrency

def test_two_simultaneous_uploads_both_land_whole(tmp_path: Path) -> None:
    store = tmp_path / "store"
    paths = []
    for k in range(2):
        path = tmp_path / f"upload{k}.csv"
        path.write_bytes(est_bytes(est_lines(5_000, prefix=f"P{k}-")))
        paths.append(path)
    from hjo_data.cli import main

    ctx = multiprocessing.get_context("fork")  # no re-import: fast; arrow is fork-safe
    procs = [ctx.Process(target=main, args=(["ingest", str(p), "--store", str(store)],))
             for p in paths]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    stored = Store(store).read("incidents")
    counts = stored.groupby("batch_id").size()
    assert sorted(counts.tolist()) == [5_000, 5_000]
    assert stored["record_id"].is_unique and len(Store(store).ingest_log()) == 2


_KILL_SCRIPT = r"""
import sys
from hjo_data.ingest import prepare_ingest, commit_ingest
from hjo_data.store import Store
store = Store(sys.argv[1])
prepared = prepare_ingest(sys.argv[2], store=store)
print("COMMIT", flush=True)
commit_ingest(prepared, store)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_during_commit_leaves_batch_whole_or_absent(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "store"
    old = ingest_file(est_bytes(est_lines(1000, prefix="OLD")), name="old.csv",
                      store=Store(root), today=date.today())
    n_new = 150_000
    big = tmp_path / "big.csv"
    big.write_bytes(est_bytes(est_lines(n_new, prefix="NEW")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(root), str(big)],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "COMMIT"
    time.sleep(np.random.default_rng(seed).uniform(0.0, 0.15))  # a random moment (commit ≈ 0.1 s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    st = Store(root)
    stored = st.read("incidents")  # reads fine
    counts = stored.groupby("batch_id").size().to_dict()
    assert counts.pop(old.batch_id) == 1000  # the earlier batch is untouched
    assert list(counts.values()) in ([], [n_new])  # the new batch: all or nothing
    # the store stays usable: the lock is free and another ingest works
    again = ingest_file(est_bytes(est_lines(5, prefix="AFTER")), name="after.csv", store=st,
                        today=date.today())
    assert again.accepted == 5
    assert not list(root.glob(".*.tmp"))


# --------------------------------------------------------------------------- identical rows

SURVEY_HEADER = "År;Område;Kön;Åldersgrupp;Trygghet sent en kväll"


def test_identical_survey_respondents_are_all_kept(st: Store) -> None:
    rows = ["2024;Centrum;kvinna;30-49;ganska trygg"] * 3 + ["2024;Hamnen;man;65+;mycket trygg"]
    data = ("\n".join([SURVEY_HEADER, *rows]) + "\n").encode()
    report = ingest_file(data, name="enkät.csv", store=st, today=TODAY)
    assert (report.accepted, report.duplicates) == (4, 0)
    again = ingest_file(data, name="enkät.csv", store=st, today=TODAY)
    assert (again.accepted, again.duplicates) == (0, 4)  # re-ingest stays idempotent
    stored = st.read("survey_responses")
    assert len(stored) == 4 and stored["record_id"].is_unique
    # a unique row keeps the plain content hash, whatever its position in the file
    solo = ("\n".join([SURVEY_HEADER, rows[3]]) + "\n").encode()
    assert prepare_ingest(solo, name="s.csv", store=st, today=TODAY).duplicates == 1


def test_respondent_id_column(st: Store) -> None:
    header = "Löpnummer;" + SURVEY_HEADER
    rows = ["1;2024;Centrum;kvinna;30-49;ganska trygg",
            "2;2024;Centrum;kvinna;30-49;ganska trygg",
            "1;2024;Centrum;kvinna;30-49;ganska trygg"]  # respondent 1 twice: a duplicate
    data = ("\n".join([header, *rows]) + "\n").encode()
    prepared = prepare_ingest(data, name="enkät.csv", store=st, today=TODAY)
    assert ("Löpnummer", "Respondent-id (för dubblettkontroll)") in prepared.header_preview
    assert not any("Okända kolumner" in w for w in prepared.warnings)
    report = ingest_file(data, name="enkät.csv", store=st, today=TODAY)
    assert (report.accepted, report.duplicates) == (2, 1)
    ids = st.read("survey_responses")["record_id"]
    assert ids.str.startswith("r").all()


def test_aggregated_survey_rows_still_deduplicate(st: Store) -> None:
    data = ("År;Indikator;Andel;Antal svar\n" + "2024;otrygg_kvall;0,2;100\n" * 2).encode()
    report = ingest_file(data, name="agg.csv", store=st, today=TODAY)
    assert (report.accepted, report.duplicates) == (1, 1)


def test_identical_incidents_without_id_are_all_kept(st: Store) -> None:
    data = ("Tidpunkt;Kategori;Område;Rapportör\n" + "2024-05-01;klotter;Centrum;polis\n" * 3
            + "2024-05-01;brand;Centrum;polis\n").encode()
    assert ingest_file(data, name="utan_id.csv", store=st, today=TODAY).accepted == 4
    again = ingest_file(data, name="utan_id.csv", store=st, today=TODAY)
    assert (again.accepted, again.duplicates) == (0, 4)


def test_identical_traffic_controls_counted_per_file(st: Store) -> None:
    row = "2024-05-01;Centrum;hastighet;40;2"
    data = ("Datum;Plats;Kontrolltyp;Kontrollerade fordon;Fortkörning\n"
            + f"{row}\n" * 2).encode()
    assert ingest_file(data, name="t.csv", store=st, today=TODAY).accepted == 2
    frame = st.read("traffic")
    assert int(frame["vehicles_checked"].sum()) == 80 and isinstance(frame, pd.DataFrame)
