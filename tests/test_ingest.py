"""ingest_file end to end (real reading + validation + store)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
from pathlib import Path

import pytest

from hjo_data.errors import UnknownDatasetError, UnreadableFileError
from hjo_data.ingest import IngestReport, ingest_file, swedish_int
from hjo_data.store import Store
from tests.conftest import stored_bytes

HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"
GOOD = [
    "E1;2024-05-01 10:00;klotter;Centrum;polis;Klotter på vägg",
    "E2;2024-05-02;skadegörelse;Hamnen;kommun;Krossad ruta",
    "E3;2024-05-03 22:15;brand;Hamnen;räddningstjänst;Container",
]
BAD_DATE = "E4;inte ett datum;brand;Hamnen;polis;=HYPERLINK(\"x\") 19900101-1234 ringde"
PNR_RE = re.compile(r"(?<!\d)(?:19|20)?\d{6}[-+]?\d{4}(?!\d)")

REPORT_KEYS = {"file", "dataset", "rows_read", "accepted", "rejected", "duplicates", "warnings",
               "rejected_file", "errors", "batch_id", "encoding", "delimiter", "stored",
               "message"}


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding=encoding)
    return path


def invariant(report: IngestReport) -> None:
    assert report.accepted + report.rejected + report.duplicates == report.rows_read


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def test_clean_file(tmp_path: Path, st: Store) -> None:
    path = write(tmp_path / "est.csv", *GOOD)
    report = ingest_file(path, store=st)
    assert (report.dataset, report.rows_read, report.accepted, report.rejected,
            report.duplicates) == ("incidents", 3, 3, 0, 0)
    assert report.stored and report.ok and report.rejected_file is None
    assert report.delimiter == ";" and report.encoding.startswith("utf-8")
    stored = st.read("incidents")
    assert sorted(stored["incident_id"]) == ["E1", "E2", "E3"]
    assert set(stored["batch_id"]) == {report.batch_id}
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    d = report.to_dict()
    assert set(d) >= REPORT_KEYS
    assert d["message"] == "Läste 3 rader ur est.csv: 3 sparade, 0 avvisade, 0 dubbletter."
    log = st.ingest_log()
    assert len(log) == 1
    entry = log.iloc[0]
    assert (entry["file"], entry["dataset"], entry["rows_read"], entry["accepted"],
            entry["added"], entry["rejected"], entry["duplicates"]) == (
        "est.csv", "incidents", 3, 3, 3, 0, 0)
    assert entry["sha256"] == report.sha256 and entry["batch_id"] == report.batch_id
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", entry["time"])


def test_rejects_duplicates_and_quarantine(tmp_path: Path, st: Store) -> None:
    path = write(tmp_path / "est.csv", *GOOD, BAD_DATE, GOOD[1])
    report = ingest_file(path, store=st)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates) == (5, 3, 1, 1)
    assert report.stored and not report.ok
    assert len(st.read("incidents")) == 3
    [err] = report.errors
    assert err.line == 5  # header is line 1
    assert "personnummer" not in err.reason
    # quarantine: BOM, ';', Swedish columns, masked and formula-safe
    qpath = Path(report.rejected_file)
    assert qpath.parent == st.quarantine_dir and qpath.name.endswith(".rejected.csv")
    data = qpath.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert not PNR_RE.search(text), text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    # the original columns (original headers) first, then rad/kolumn/orsak/originalrad
    assert rows[0] == [*HEADER.split(";"), "rad", "kolumn", "orsak", "originalrad"]
    assert len(rows) == 2 and rows[1][6] == "5" and rows[1][7] == "Tidpunkt"
    assert rows[1][1] == "inte ett datum" and rows[1][0] == "E4"
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "HYPERLINK" in rows[1][5] and rows[1][9] == ""
    assert st.ingest_log().iloc[0]["rejected_file"] == report.rejected_file
    d = report.to_dict()
    assert d["errors"][0]["line"] == 5 and set(d["errors"][0]) == {"line", "column", "value",
                                                                    "reason"}


def test_idempotent_reingest(tmp_path: Path, st: Store) -> None:
    path = write(tmp_path / "est.csv", *GOOD, GOOD[0])
    first = ingest_file(path, store=st)
    assert (first.accepted, first.duplicates) == (3, 1)
    parquet = stored_bytes(st, "incidents")
    second = ingest_file(path, store=st)
    invariant(second)
    assert (second.accepted, second.rejected, second.duplicates) == (0, 0, 4)
    assert second.ok and second.batch_id != first.batch_id
    assert stored_bytes(st, "incidents") == parquet
    assert len(st.ingest_log()) == 2
    assert st.ingest_log()["added"].tolist() == [3, 0]


def test_overlapping_files(tmp_path: Path, st: Store) -> None:
    a = write(tmp_path / "a.csv", *GOOD[:2])
    b = write(tmp_path / "b.csv", *GOOD[1:], "E5;2024-05-05;klotter;Centrum;skola;")
    ra, rb = ingest_file(a, store=st), ingest_file(b, store=st)
    assert (ra.accepted, ra.duplicates) == (2, 0)
    assert (rb.accepted, rb.duplicates) == (2, 1)
    stored = st.read("incidents")
    assert sorted(stored["incident_id"]) == ["E1", "E2", "E3", "E5"]
    assert stored.groupby("batch_id").size().to_dict() == {ra.batch_id: 2, rb.batch_id: 2}


def test_strict_stores_nothing(tmp_path: Path, st: Store) -> None:
    ingest_file(write(tmp_path / "old.csv", GOOD[0]), store=st)
    before = stored_bytes(st, "incidents")
    path = write(tmp_path / "est.csv", *GOOD, BAD_DATE)
    report = ingest_file(path, store=st, strict=True)
    invariant(report)
    # counts describe the rows: E2, E3 would have been new, E1 is already stored
    assert (report.rows_read, report.accepted, report.rejected, report.duplicates) == (4, 2, 1, 1)
    assert not report.stored
    assert "inget sparades" in report.message
    assert stored_bytes(st, "incidents") == before
    assert report.rejected_file and Path(report.rejected_file).exists()
    last = st.ingest_log().iloc[-1]
    assert (last["added"], bool(last["stored"])) == (0, False)
    # strict with a clean file stores normally
    ok = ingest_file(write(tmp_path / "ok.csv", *GOOD), store=st, strict=True)
    assert ok.stored and ok.accepted == 2 and ok.duplicates == 1


def test_bytes_source_and_explicit_dataset(st: Store) -> None:
    data = ("\n".join((HEADER, *GOOD)) + "\n").encode("cp1252")
    report = ingest_file(data, name="C:\\temp/export.csv", dataset="incidents", store=st)
    assert report.file == "export.csv"
    assert report.accepted == 3
    assert sorted(st.read("incidents")["area"].unique()) == ["Centrum", "Hamnen"]


def test_unknown_dataset_name(tmp_path: Path, st: Store) -> None:
    path = write(tmp_path / "est.csv", *GOOD)
    with pytest.raises(UnknownDatasetError, match="incidents"):
        ingest_file(path, dataset="händelser_x", store=st)
    assert not st.root.exists() or not any(st.root.rglob("*.parquet"))


def test_undetectable_headers(tmp_path: Path, st: Store) -> None:
    path = tmp_path / "x.csv"
    path.write_text("foo;bar;baz\n1;2;3\n", encoding="utf-8")
    with pytest.raises(UnknownDatasetError):
        ingest_file(path, store=st)
    assert st.ingest_log().empty and not st.has_data()


def test_missing_and_unreadable(tmp_path: Path, st: Store) -> None:
    with pytest.raises(UnreadableFileError, match="saknas.csv"):
        ingest_file(tmp_path / "saknas.csv", store=st)
    with pytest.raises(UnreadableFileError):
        ingest_file(tmp_path, store=st)  # a directory
    with pytest.raises(UnreadableFileError):
        ingest_file(b"", name="tom.csv", store=st)
    assert not st.has_data()


def test_concurrent_ingests(tmp_path: Path, st: Store) -> None:
    files = []
    for k in range(4):
        lines = [f"T{k}-{i};2024-06-{1 + i % 28:02d} 12:00;klotter;Centrum;polis;"
                 for i in range(300)]
        files.append(write(tmp_path / f"f{k}.csv", *lines))
    reports: list[IngestReport] = []
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        try:
            reports.append(ingest_file(path, store=Store(st.root)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.accepted for r in reports) == [300] * 4
    assert len(st.read("incidents")) == 1200
    assert len(st.ingest_log()) == 4


def test_version_changes_per_ingest(tmp_path: Path, st: Store) -> None:
    path = write(tmp_path / "est.csv", *GOOD)
    v0 = st.version()
    ingest_file(path, store=st)
    v1 = st.version()
    ingest_file(path, store=st)  # nothing added, but logged
    assert len({v0, v1, st.version()}) == 3


def test_swedish_int() -> None:
    assert swedish_int(0) == "0"
    nbsp = "\u00a0"
    assert swedish_int(1234) == f"1{nbsp}234"
    assert swedish_int(1234567) == f"1{nbsp}234{nbsp}567"


def test_structural_errors_and_personal_data(tmp_path: Path, st: Store) -> None:
    """Rows with the wrong field count are rejected (counted once); nothing unmasked is
    written: neither in the store, the quarantine file nor the log."""
    path = write(
        tmp_path / "est.csv",
        GOOD[0],
        "E7;2024-05-07 09:00;klotter;Centrum;polis;Anmälare 19900101-1234 hörd",
        "E8;2024-05-08;brand;Hamnen;polis;för;många;fält 850101-1234",
        "E9;2024-05-09",
    )
    report = ingest_file(path, store=st)
    invariant(report)
    assert (report.rows_read, report.accepted, report.rejected) == (4, 2, 2)
    assert sorted(e.line for e in report.errors) == [4, 5]
    stored = st.read("incidents")
    assert not stored["description"].str.contains(PNR_RE).any()
    assert stored.loc[stored["incident_id"] == "E7", "description"].item().startswith(
        "Anmälare ")
    for f in (Path(report.rejected_file), st.log_path):
        assert not PNR_RE.search(f.read_text(encoding="utf-8-sig"))
    assert not PNR_RE.search(str(report.to_dict()))


def test_error_list_is_capped(tmp_path: Path, st: Store, monkeypatch) -> None:
    import hjo_data.ingest as ingest_mod

    monkeypatch.setattr(ingest_mod, "ERROR_LIMIT", 3)
    bad = [f"X{i};inte ett datum;brand;Hamnen;polis;" for i in range(7)]
    report = ingest_file(write(tmp_path / "bad.csv", *bad, GOOD[0]), store=st)
    d = report.to_dict()
    assert d["rejected"] == 7 and len(d["errors"]) == 3 and d["errors_omitted"] == 4
    assert [e["line"] for e in d["errors"]] == [2, 3, 4]
    # the quarantine file still has every rejected row
    text = Path(d["rejected_file"]).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == 1 + 7


def test_large_file_hashed_on_a_thread_gives_the_file_hash(tmp_path: Path, st: Store) -> None:
    """Files above the threshold are hashed while they are parsed: same digest."""
    import hjo_data.ingest as ingest_mod

    lines = [f"E{i};2024-05-01 10:00;klotter;Centrum;polis;{'x' * 80}" for i in range(60_000)]
    path = write(tmp_path / "big.csv", *lines)
    assert path.stat().st_size >= ingest_mod._PARALLEL_HASH_BYTES
    report = ingest_file(path, store=st)
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.accepted == 60_000
    invariant(report)
