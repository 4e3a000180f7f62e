"""CLI: exit codes, --json, --strict, --store / HJO_DATA_DIR, auto-detection, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hjo_data import cli
from hjo_data.store import Store

REPO = Path(cli.__file__).resolve().parent.parent
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"
GOOD = [
    "E1;2024-05-01 10:00;klotter;Centrum;polis;Klotter på vägg",
    "E2;2024-05-02;skadegörelse;Hamnen;kommun;Krossad ruta",
]
BAD = "E9;31/31/2024;brand;Hamnen;polis;"


def csv_file(path: Path, *lines: str) -> Path:
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def run_json(capsys, argv: list[str]) -> tuple[int, dict, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out  # exactly one JSON object
    return code, json.loads(lines[0]), err


def test_ingest_json_exit_0(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    path = csv_file(tmp_path / "est.csv", *GOOD, GOOD[0])
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(store), "--json"])
    assert code == 0
    assert (d["dataset"], d["rows_read"], d["accepted"], d["rejected"], d["duplicates"]) == (
        "incidents", 3, 2, 0, 1)
    assert d["accepted"] + d["rejected"] + d["duplicates"] == d["rows_read"]
    assert d["errors"] == [] and d["rejected_file"] is None and d["stored"] is True
    assert d["file"] == "est.csv" and d["delimiter"] == ";"
    assert len(Store(store).read("incidents")) == 2


def test_ingest_json_exit_1_and_strict(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    path = csv_file(tmp_path / "est.csv", *GOOD, BAD)
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(store), "--json",
                                   "--strict"])
    assert code == 1
    assert d["stored"] is False and d["rejected"] == 1 and d["accepted"] == 2
    assert d["errors"][0]["line"] == 4
    assert not Store(store).has_data()
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(store), "--json"])
    assert code == 1
    assert (d["accepted"], d["rejected"], d["stored"]) == (2, 1, True)
    assert len(Store(store).read("incidents")) == 2


def test_ingest_human_summary(tmp_path: Path, capsys) -> None:
    path = csv_file(tmp_path / "est.csv", *GOOD, BAD)
    code = cli.main(["ingest", str(path), "--store", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("Läste 3 rader ur est.csv: 2 sparade, 1 avvisad, 0 dubbletter.")
    assert "rad 4, kolumn '" in out


def test_ingest_exit_2_missing_file(tmp_path: Path, capsys) -> None:
    store = tmp_path / "s"
    code, d, err = run_json(capsys, ["ingest", str(tmp_path / "finns_inte.csv"), "--store",
                                     str(store), "--json"])
    assert code == 2
    assert "error" in d and "finns_inte.csv" in err
    assert "Traceback" not in err
    assert not Store(store).has_data()


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff\xfe\x00" * 50])
def test_ingest_exit_2_unreadable(tmp_path: Path, capsys, content: bytes) -> None:
    path = tmp_path / "trasig.csv"
    path.write_bytes(content)
    code = cli.main(["ingest", str(path), "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert "trasig.csv" in err and "Traceback" not in err


def test_ingest_exit_2_unknown_dataset(tmp_path: Path, capsys) -> None:
    path = csv_file(tmp_path / "est.csv", *GOOD)
    code, d, err = run_json(capsys, ["ingest", str(path), "--dataset", "nope", "--store",
                                     str(tmp_path / "s"), "--json"])
    assert code == 2 and "nope" in d["error"] and "est.csv" in err
    other = tmp_path / "okänd.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    code = cli.main(["ingest", str(other), "--store", str(tmp_path / "s")])
    assert code == 2 and "okänd.csv" in capsys.readouterr().err


def test_explicit_dataset_and_autodetect_traffic(tmp_path: Path, capsys) -> None:
    path = tmp_path / "kontroller.csv"
    path.write_text(
        "Datum;Område;Kontrolltyp;Kontrollerade fordon;Fortkörning\n"
        "2024-04-02;Centrum;hastighet;55;4\n"
        "2024-04-09;Hamnen;nykterhet;80;1\n",
        encoding="utf-8",
    )
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(tmp_path / "s"),
                                   "--json"])
    assert code == 0 and d["dataset"] == "traffic" and d["accepted"] == 2
    stored = Store(tmp_path / "s").read("traffic")
    assert sorted(stored["vehicles_checked"].tolist()) == [55, 80]
    assert sorted(stored["speeding"].tolist()) == [1, 4]
    assert stored["drunk_driving"].tolist() == [0, 0]  # absent optional column -> default 0


def test_subprocess_env_store(tmp_path: Path) -> None:
    """`python -m hjo_data` honours HJO_DATA_DIR and exits with the documented codes."""
    path = csv_file(tmp_path / "est.csv", *GOOD)
    env = {**os.environ, "HJO_DATA_DIR": str(tmp_path / "env"), "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "hjo_data", "ingest", str(path), "--json"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["accepted"] == 2
    assert len(Store(tmp_path / "env").read("incidents")) == 2
    res = subprocess.run([sys.executable, "-m", "hjo_data", "ingest", "saknas.csv"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "saknas.csv" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_usage_error_returns_code(capsys) -> None:
    assert cli.main(["ingest"]) == 2
    assert cli.main([]) == 2
    capsys.readouterr()


def test_registry_allows_new_subcommands(capsys, monkeypatch) -> None:
    monkeypatch.setattr(cli, "SUBCOMMANDS", dict(cli.SUBCOMMANDS))
    seen = []

    @cli.subcommand("hello", help="säg hej",
                    configure=lambda p: p.add_argument("--name", default="Hjo"))
    def _hello(args) -> int:
        seen.append(args.name)
        return 0

    assert cli.main(["hello", "--name", "Vättern"]) == 0
    assert seen == ["Vättern"]
    assert {"ingest", "demo", "hello"} <= set(cli.SUBCOMMANDS)


def test_demo_ingest(tmp_path: Path, capsys) -> None:
    pytest.importorskip("hjo_data.demo")
    out_dir, store = tmp_path / "demo", tmp_path / "s"
    code = cli.main(["demo", "--rows", "300", "--seed", "7", "--out", str(out_dir), "--ingest",
                     "--store", str(store)])
    out = capsys.readouterr().out
    assert code == 0, out
    files = sorted(out_dir.glob("*.csv"))
    assert files
    st = Store(store)
    assert st.has_data() and len(st.ingest_log()) == len(files)
    assert len(st.read("incidents")) > 0
    assert all(st.ingest_log()["rejected"] == 0)


def test_cli_has_no_size_limit_by_default_but_max_mb_sets_one(tmp_path: Path, capsys,
                                                              monkeypatch) -> None:
    """The upload limit protects the web server; an operator's file on the command line is
    not cut by it (issue 11: `demo --rows 1000000 --ingest` failed on its own file)."""
    monkeypatch.setenv("HJO_MAX_UPLOAD_MB", "0.0001")  # about 100 bytes: below the file
    path = csv_file(tmp_path / "est.csv", *GOOD)
    assert path.stat().st_size > 0.0001 * 1024 * 1024
    store = tmp_path / "s"
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(store), "--json"])
    assert code == 0 and d["accepted"] == 2 and d["stored"] is True

    other = tmp_path / "s2"
    code, d, _ = run_json(capsys, ["ingest", str(path), "--store", str(other), "--json",
                                   "--max-mb", "0.0001"])
    assert code == cli.EXIT_UNREADABLE and d["stored"] is False
    assert "för stor" in d["error"]
    assert not Store(other).has_data()


def test_demo_ingest_is_not_cut_by_the_upload_limit(tmp_path: Path, capsys,
                                                    monkeypatch) -> None:
    monkeypatch.setenv("HJO_MAX_UPLOAD_MB", "0.001")  # about 1 kB: every demo file is larger
    code = cli.main(["demo", "--rows", "300", "--out", str(tmp_path / "demo"), "--ingest",
                     "--store", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "för stor" not in out + err
    assert len(Store(tmp_path / "s").read("incidents")) > 0
