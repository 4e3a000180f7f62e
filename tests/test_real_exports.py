"""Real export shapes through the normal ingest path (CLI, no profile): a survey tool's
export with question-text headers, a school-survey table, an R ``write.csv`` table.

Expected counts are hand-counted from the fixtures below (line numbers in comments).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from hjo_data import cli
from hjo_data.store import Store

REPO = Path(cli.__file__).resolve().parent.parent

NTU = ("Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt eget "
       "bostadsområde?")
PROBLEM = "Hur stort problem anser du följande vara i ditt bostadsområde? [{}]"

# (a) survey tool export (Netigate / Google Forms style): quoted headers = the questions,
# a time stamp instead of a year, text answers as the respondent saw them.
SURVEY_HEADERS = [
    "Tidstämpel", "Hur gammal är du?", "Kön", "I vilket område bor du?", NTU,
    PROBLEM.format("Nedskräpning"),
    PROBLEM.format("Bilar eller mopeder som körs på ett störande sätt"),
    "Övriga synpunkter",
]
SURVEY_ROWS = [
    # line 2: ok
    ["2025-03-14 10:22:31", "30-49 år", "Kvinna", "Hjo centrum", "Ganska trygg",
     "Litet problem", "Ganska stort problem", ""],
    # line 3: ok
    ["2025-03-14 11:05:02", "16-29 år", "Man", "Hamnen", "Mycket trygg", "Inget problem",
     "Mycket stort problem", "Mopeder på kvällarna, särskilt vid torget"],
    # line 4: ok, gender "Annat/vill ej svara" = no answer; "Vet ej" is a problem answer
    ["2025-03-14 12:40:13", "65 år eller äldre", "Annat/vill ej svara", "Hjo centrum",
     "Mycket otrygg", "Vet ej", "Vet ej", ""],
    # line 5: ok, safety "Vet ej" = no answer
    ["2025-03-15 08:01:55", "50-64 år", "Kvinna", "Korsberga", "Vet ej", "Litet problem",
     "Litet problem", ""],
    # line 6: ok
    ["2025-03-15 09:12:00", "30–49", "Kvinna", "Hamnen", "Går aldrig ut ensam sent",
     "Ganska stort problem", "Inget problem", ""],
    # line 7: rejected, TWO reasons (age and safety)
    ["2025-03-15 19:30:41", "tretton", "Man", "Hamnen", "Sådär", "Inget problem",
     "Inget problem", ""],
    # line 8: rejected (no year in the time stamp)
    ["igår", "30-49 år", "Man", "Hamnen", "Ganska trygg", "Inget problem", "Inget problem",
     ""],
    # line 9: ok, gender "Vill ej svara" = no answer
    ["2025-03-16 14:02:09", "50 - 64 år", "Vill ej svara", "Fågelås", "Ganska otrygg.",
     "MYCKET STORT PROBLEM", "Ganska stort problem", "Ring mig"],
    # lines 10, 11: ok (same answers as line 2: distinct respondents)
    ["2025-03-16 14:02:09", "30-49 år", "Kvinna", "Hjo centrum", "Ganska trygg",
     "Litet problem", "Ganska stort problem", ""],
    ["2025-03-17 21:45:30", "30-49 år", "Kvinna", "Hjo centrum", "Ganska trygg",
     "Litet problem", "Ganska stort problem", ""],
]

# (b) school survey table (levnadsvaneundersökning): long indicator labels, "Andel (%)"
# with decimal comma, "Antal svarande"; UTF-8 with BOM, semicolons.
SCHOOL = """\ufeffÅr;Kön;Årskurs;Indikator;Andel (%);Antal svarande
2024;Flickor;Åk 9;Druckit alkohol senaste 12 månaderna;38,5;96
2024;Pojkar;Åk 9;Druckit alkohol senaste 12 månaderna;31,2;102
2024;Totalt;Åk 9;Druckit alkohol senaste 12 månaderna;34,7;198
2024;Totalt;Åk 9;Berusad senaste 4 veckorna;12,1;198
2024;Totalt;Gy 2;Använt narkotika någon gång;9,8;143
2024;Totalt;Åk 9;Använder e-cigarett (dagligen eller ibland);14,0;198
2024;Totalt;Åk 9;Känner sig ensam ofta;22,3;198
2024;Totalt;Åk 9;Snusar;..;198
2024;Totalt;Åk 7;Röker;3,1;0
2024;Okänd;Åk 10;Snusar;140;abc
2024;Totalt;Åk 9;Berusad senaste 4 veckorna;12,1;198
"""
# line 2-7 ok; line 8 unknown indicator kept with a warning; line 9 ".." rejected;
# line 10 n = 0 rejected; line 11 rejected with FOUR reasons; line 12 repeats line 5.

# (c) R write.csv(..., fileEncoding = "latin1"): quoted headers, an unnamed leading
# row-index column, NA for a missing number, decimal point, CRLF.
R_TABLE = (
    '"","År","Område","Indikator","Andel","Antal svar"\r\n'
    '"1",2023,"Hjo centrum","Andel otrygga",0.214,412\r\n'
    '"2",2023,"Hjo centrum","Nedskräpning",0.31,405\r\n'
    '"3",2023,"Korsberga","otrygg_kvall",0.18,96\r\n'
    '"4",2024,"Hjo centrum","otrygg_kvall",0.19,398\r\n'
    '"5",2024,"Hjo centrum","Bråk och stök",0.12,390\r\n'
    '"6",2024,"Hjo centrum","otrygg_kvall",NA,398\r\n'
    '"7",2024,"Hjo centrum","otrygg_kvall",0.19,398\r\n'
    '"8",2024,"Fågelås","Klotter",0.07,88\r\n'
).encode("latin-1")
# line 7 (R row 6) rejected: NA; line 8 (R row 7) repeats line 5 (R row 4).


def survey_bytes(rows: list[list[str]] = SURVEY_ROWS) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(SURVEY_HEADERS)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def ingest(path: Path, store: Path) -> tuple[int, dict]:
    """``python -m hjo_data ingest FILE --json`` in a subprocess: (exit code, report)."""
    env = {**os.environ, "HJO_DATA_DIR": str(store)}
    proc = subprocess.run([sys.executable, "-m", "hjo_data", "ingest", str(path), "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    return proc.returncode, json.loads(proc.stdout)


def counts(report: dict) -> tuple[int, int, int, int]:
    return report["rows_read"], report["accepted"], report["rejected"], report["duplicates"]


def adds_up(report: dict) -> bool:
    return (report["accepted"] + report["rejected"] + report["duplicates"]
            + report.get("skipped", 0)) == report["rows_read"]


def test_survey_tool_export_ingests_without_profile(tmp_path: Path) -> None:
    path = tmp_path / "trygghetsenkat_export.csv"
    path.write_bytes(survey_bytes())
    code, report = ingest(path, tmp_path / "store")
    assert code == 1
    assert report["dataset"] == "survey_responses"
    assert counts(report) == (10, 8, 2, 0)
    assert adds_up(report)
    assert [e["line"] for e in report["errors"]] == [7, 8]
    # every reason of the two-error row, in the report and in quarantine
    two = report["errors"][0]["reason"]
    assert "Okänt värde 'tretton'" in two and "Okänt värde 'Sådär'" in two
    quarantine = pd.read_csv(report["rejected_file"], sep=";", dtype=str, encoding="utf-8-sig",
                             keep_default_na=False)
    assert quarantine["rad"].tolist() == ["7", "8"]
    assert "'tretton'" in quarantine["orsak"][0] and "'Sådär'" in quarantine["orsak"][0]
    assert quarantine["Hur gammal är du?"].tolist() == ["tretton", "30-49 år"]
    # no answers are warnings, counted per value
    warnings = report["warnings"]
    assert "1 rad: 'Annat/vill ej svara' i kolumnen 'Kön' räknas som saknat svar" in warnings
    assert "1 rad: 'Vill ej svara' i kolumnen 'Kön' räknas som saknat svar" in warnings
    assert sum("'Vet ej'" in w and "saknat svar" in w for w in warnings) == 1
    summary = report["rejection_summary"]
    assert "1 rad: okänt värde 'tretton' i Hur gammal är du? (Åldersgrupp)" in summary
    assert len(summary) == 3

    stored = Store(tmp_path / "store").read("survey_responses")
    assert len(stored) == 8
    assert set(stored["year"]) == {2025}
    assert stored["age_group"].value_counts().to_dict() == {
        "30–49": 4, "50–64": 2, "16–29": 1, "65+": 1}
    assert stored["safety_evening"].value_counts().to_dict() == {
        "ganska trygg": 3, "mycket trygg": 1, "mycket otrygg": 1, "går aldrig ut": 1,
        "ganska otrygg": 1, "": 1}
    assert (stored["gender"] == "").sum() == 2
    assert stored["problem_nedskrapning"].value_counts().to_dict() == {
        "ganska litet problem": 4, "inget problem": 1, "vet ej": 1,
        "ganska stort problem": 1, "mycket stort problem": 1}

    # the same file again: every valid row is a duplicate
    code, again = ingest(path, tmp_path / "store")
    assert code == 1
    assert counts(again) == (10, 0, 2, 8)
    assert adds_up(again)


def test_summary_counts_rows_per_column_and_value(tmp_path: Path) -> None:
    headers = "År;Område;Kön;Ålder;Trygghet kväll\n"
    rows = ["2025;Hamnen;Kvinna;30-39 år;Ganska trygg\n"] * 52 + [
        "2025;Hamnen;Man;30-39 år;ingen aning\n"] * 3 + ["2025;Hamnen;Man;30-49 år;Ganska trygg\n"]
    path = tmp_path / "enkat.csv"
    path.write_text(headers + "".join(rows), encoding="utf-8")
    code, report = ingest(path, tmp_path / "store")
    assert code == 1
    assert counts(report) == (56, 1, 55, 0)
    assert report["rejection_summary"] == [
        "55 rader: okänt värde '30-39 år' i Ålder (Åldersgrupp)",
        "3 rader: okänt värde 'ingen aning' i Trygghet kväll (Trygghet sent en kväll)",
    ]


def test_school_table_ingests_without_profile(tmp_path: Path) -> None:
    path = tmp_path / "levnadsvanor_2024.csv"
    path.write_bytes(SCHOOL.encode("utf-8"))
    code, report = ingest(path, tmp_path / "store")
    assert code == 1
    assert report["dataset"] == "youth"
    assert counts(report) == (11, 7, 3, 1)
    assert adds_up(report)
    assert [e["line"] for e in report["errors"]] == [9, 10, 11]
    four = report["errors"][2]
    assert four["column"] == "Årskurs; Kön; Andel; Antal svarande (Antal svar)"
    for part in ("'Åk 10'", "'Okänd'", "'140'", "'abc'"):
        assert part in four["reason"]
    assert any("okänd indikator 'Känner sig ensam ofta' sparas som den står" in w
               for w in report["warnings"])

    stored = Store(tmp_path / "store").read("youth").sort_values(["indicator", "gender"])
    assert stored["indicator"].value_counts().to_dict() == {
        "alkohol_12m": 3, "berusad_4v": 1, "narkotika_nagonsin": 1, "e_cigarett": 1,
        "Känner sig ensam ofta": 1}
    alcohol = stored[stored["indicator"] == "alkohol_12m"].set_index("gender")
    assert alcohol["share"].round(4).to_dict() == {"alla": 0.347, "kvinna": 0.385,
                                                   "man": 0.312}
    assert alcohol["n"].to_dict() == {"alla": 198, "kvinna": 96, "man": 102}
    assert set(stored["grade"]) == {"åk 9", "gy 2"}


def test_r_write_csv_latin1_with_row_index(tmp_path: Path) -> None:
    path = tmp_path / "trygghet_r.csv"
    path.write_bytes(R_TABLE)
    code, report = ingest(path, tmp_path / "store")
    assert code == 1
    assert report["dataset"] == "survey"
    assert report["encoding"] == "cp1252" and report["delimiter"] == ","
    assert counts(report) == (8, 6, 1, 1)
    assert adds_up(report)
    assert [(e["line"], e["value"]) for e in report["errors"]] == [(7, "NA")]
    assert not any("Okända kolumner" in w for w in report["warnings"])
    assert any("radnummer" in w for w in report["warnings"])
    stored = Store(tmp_path / "store").read("survey")
    assert sorted(stored["area"].unique()) == ["Fågelås", "Hjo centrum", "Korsberga"]
    assert stored["indicator"].value_counts().to_dict() == {
        "otrygg_kvall": 3, "problem_nedskrapning": 1, "problem_brak": 1,
        "problem_klotter": 1}


def test_clean_export_exit_0_and_uncertain_header_exit_2(tmp_path: Path) -> None:
    clean = [r for i, r in enumerate(SURVEY_ROWS) if i not in (5, 6)]
    path = tmp_path / "ren.csv"
    path.write_bytes(survey_bytes(clean))
    code, report = ingest(path, tmp_path / "store")
    assert code == 0
    assert counts(report) == (8, 8, 0, 0)

    vague = tmp_path / "osaker.csv"
    vague.write_text("År;Område;Kön;Åldersgrupp;Hur trygg känner du dig i kvällarna?\n"
                     "2025;Hamnen;Kvinna;30-49;Ganska trygg\n", encoding="utf-8")
    code, report = ingest(vague, tmp_path / "store2")
    assert code == 2
    assert report["stored"] is False
    assert ("'Hur trygg känner du dig i kvällarna?' liknar 'Trygghet sent en kväll'"
            in report["error"])
    assert not list((tmp_path / "store2").rglob("*.parquet"))
