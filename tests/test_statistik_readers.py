"""The statistik readers on fixtures in the shapes the sources publish: Kolada API v2 JSON
(pages, null values, number/string periods), Kolada-shaped CSV, BRÅ's text export and
CSV, FoHM survey tables. Expected values are hand counts from the fixtures (comments)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hjo_data import formats, reading
from hjo_data.errors import UnreadableFileError
from hjo_data.ingest import ingest_file, prepare_ingest
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _configured_title(source: str, indicator_id: str) -> str:
    """The packaged promise's title of an official indicator, read from the TOML itself."""
    doc = tomllib.loads((ROOT / "data" / "medborgarlofte.toml").read_text(encoding="utf-8"))
    for goal in doc["goals"]:
        for ind in goal.get("official_indicators", []):
            if (ind["source"], ind["indicator_id"]) == (source, indicator_id):
                return ind["title"]
    raise KeyError(indicator_id)


def _rows(store: Store) -> dict[tuple[str, str, str, str], float]:
    """(indicator_id, geo_code, period, gender) -> value of every stored row."""
    frame = store.read("statistik")
    return {(r.indicator_id, r.geo_code, r.period, r.gender): r.value
            for r in frame.itertuples()}


def _adds_up(report) -> bool:
    return (report.accepted + report.rejected + report.duplicates + report.skipped
            == report.rows_read)


# =========================================================================== Kolada JSON

def _kolada_value(gender: str, value: float | None, count: int = 1, status: str = "") -> dict:
    return {"gender": gender, "value": value, "count": count, "status": status}


#: Page 1 of a response for N07403 (Hjo, the county), paging on. 5 inner values:
#: 4 published, 1 null (Hjo 2023 K, status "Missing") -> skipped "ej publicerad".
PAGE_1 = {
    "values": [
        {"kpi": "N07403", "municipality": "1497", "period": 2022,
         "values": [_kolada_value("T", 512.3)]},
        {"kpi": "N07403", "municipality": "1497", "period": "2023",
         "values": [_kolada_value("T", 498.1), _kolada_value("K", None, 0, "Missing"),
                    _kolada_value("M", 701.0)]},
        {"kpi": "N07403", "municipality": "0014", "period": 2023,
         "values": [_kolada_value("T", 1002.7, 49)]},
    ],
    "count": 3,
    "next_page": "https://api.kolada.se/v2/data/kpi/N07403/year/2022,2023?page=2&per_page=3",
}
#: Page 2: Riket 2023 and a KPI the promise does not configure (title = id).
PAGE_2 = {
    "values": [
        {"kpi": "N07403", "municipality": "0000", "period": 2023.0,
         "values": [_kolada_value("T", 1040.2, 290)]},
        {"kpi": "U07414", "municipality": "1497", "period": 2023,
         "values": [_kolada_value("T", 0.0)]},
    ],
    "count": 2,
    "next_page": None,
}


def _json(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def test_kolada_page_exact_values_and_null_skipped(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(_json(PAGE_1), name="kolada_n07403_p1.json", store=store)
    assert report.dataset == "statistik"  # recognised without --dataset
    assert (report.rows_read, report.accepted, report.skipped, report.rejected) == (5, 4, 1, 0)
    assert report.skipped_reasons == {"ej publicerad": 1}
    assert _adds_up(report)
    assert any("next_page" in w for w in report.warnings)  # page 2 missing
    assert _rows(store) == {
        ("N07403", "1497", "2022", "T"): 512.3,
        ("N07403", "1497", "2023", "T"): 498.1,
        ("N07403", "1497", "2023", "M"): 701.0,
        ("N07403", "0014", "2023", "T"): 1002.7,
    }
    frame = store.read("statistik").set_index("geo_code")
    assert frame.loc[["0014"], "geo_name"].tolist() == ["Västra Götalands län"]
    assert frame.loc[["0014"], "geo_level"].tolist() == ["lan"]
    assert set(frame.loc[["1497"], "geo_name"]) == {"Hjo"}
    assert set(frame.loc[["1497"], "geo_level"]) == {"kommun"}
    assert set(frame["source"]) == {"kolada"}
    assert set(frame["indicator"]) == {_configured_title("kolada", "N07403")}
    assert frame["n"].isna().all()  # Kolada's count is not a sample size


def test_kolada_list_of_pages_in_one_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(_json([PAGE_1, PAGE_2]), name="kolada_alla_sidor.json", store=store)
    # 5 + 2 inner values: 6 stored, 1 skipped; the last page ends the paging: no warning
    assert (report.rows_read, report.accepted, report.skipped) == (7, 6, 1)
    assert not any("next_page" in w for w in report.warnings)
    rows = _rows(store)
    assert rows[("N07403", "0000", "2023", "T")] == 1040.2  # period 2023.0 -> "2023"
    assert rows[("U07414", "1497", "2023", "T")] == 0.0  # a published zero stays a zero
    frame = store.read("statistik")
    assert frame.loc[frame["indicator_id"] == "U07414", "indicator"].tolist() == ["U07414"]
    assert frame.loc[frame["geo_code"] == "0000", "geo_level"].tolist() == ["riket"]


def test_kolada_pages_as_separate_files_and_repeated_fetches(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = [ingest_file(_json(p), name=f"p{i}.json", store=store)
             for i, p in enumerate((PAGE_1, PAGE_2))]
    assert [r.accepted for r in first] == [4, 2]
    # the same response fetched again: every published value is a duplicate
    again = [ingest_file(_json(p), name=f"p{i}.json", store=store)
             for i, p in enumerate((PAGE_1, PAGE_2))]
    assert [(r.accepted, r.duplicates, r.skipped, r.revised) for r in again] == [
        (0, 4, 1, 0), (0, 2, 0, 0)]
    assert all(_adds_up(r) for r in first + again)
    assert len(store.read("statistik")) == 6
    assert store.read_history("statistik").empty


def test_kolada_revision_replaces_and_keeps_history(tmp_path: Path) -> None:
    store = Store(tmp_path)
    prel = ingest_file(_json(PAGE_1), name="prel.json", store=store)
    revised = json.loads(json.dumps(PAGE_1))
    revised["values"][1]["values"][0]["value"] = 505.0  # Hjo 2023 T: 498.1 -> 505.0
    revised["values"][1]["values"][1]["value"] = 301.2  # Hjo 2023 K: now published
    report = ingest_file(_json(revised), name="slutlig.json", store=store)
    # 5 values: 1 revised + 1 new stored, 3 unchanged duplicates, nothing skipped
    assert (report.accepted, report.revised, report.duplicates, report.skipped) == (2, 1, 3, 0)
    assert "1 reviderat värde" in report.message
    rows = _rows(store)
    assert rows[("N07403", "1497", "2023", "T")] == 505.0
    assert rows[("N07403", "1497", "2023", "K")] == 301.2
    history = store.read_history("statistik")
    assert history[["geo_code", "period", "gender", "value"]].values.tolist() == [
        ["1497", "2023", "T", 498.1]]
    assert history["batch_id"].tolist() == [prel.batch_id]
    assert history["replaced_by"].tolist() == [report.batch_id]


def test_kolada_unknown_municipality_is_rejected_with_reason(tmp_path: Path) -> None:
    doc = {"values": [{"kpi": "N07403", "municipality": "9999", "period": 2023,
                       "values": [_kolada_value("T", 1.0), _kolada_value("K", None)]}],
           "next_page": None}
    report = ingest_file(_json(doc), name="x.json", store=Store(tmp_path))
    assert (report.rows_read, report.rejected, report.accepted) == (2, 2, 0)
    assert "Okänd kommun eller region '9999'" in report.errors[0].reason
    assert _adds_up(report)


def test_kolada_broken_json_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match="inte giltig JSON"):
        reading.read_bytes(b'{"values": [{"kpi": "N07403", "municipality": "1497", ',
                           name="trasig.json")


def test_kolada_cli_json_without_dataset(tmp_path: Path) -> None:
    path = tmp_path / "kolada.json"
    path.write_bytes(_json(PAGE_1))
    cmd = [sys.executable, "-m", "hjo_data", "ingest", str(path), "--json", "--store",
           str(tmp_path / "s")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["dataset"], data["rows_read"], data["accepted"], data["skipped"]) == (
        "statistik", 5, 4, 1)
    assert data["skipped_reasons"] == {"ej publicerad": 1}
    assert "1 överhoppad (1 ej publicerad)" in data["message"]
    broken = tmp_path / "trasig.json"
    broken.write_bytes(b'{"values": [{"kpi": "N07403", "municipality"')
    proc = subprocess.run([*cmd[:4], str(broken), *cmd[5:]], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert proc.returncode == 2 and "JSON" in json.loads(proc.stdout)["error"]


# =========================================================================== Kolada CSV

#: As saved from Kolada's web: 7 lines = 7 values. Hand count: accepted 4 (Hjo 2021 T,
#: "Hjo kommun" 2022 T, 1497 2022 K, VG län 2022 T), skipped 2 (".." and empty),
#: rejected 1 (Okändby).
KOLADA_CSV = """kommun;år;kön;n07540
Hjo;2021;T;12,5
Hjo;2021;K;..
Hjo kommun;2022;Totalt;13,1
1497;2022;Kvinnor;14,0
Skövde;2022;Män;
Västra Götalands län;2022;T;11,2
Okändby;2022;T;9,9
"""


def test_kolada_csv_by_kpi_id(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(KOLADA_CSV.encode("utf-8"), name="kolada_export.csv", store=store)
    assert report.dataset == "statistik"
    assert (report.rows_read, report.accepted, report.skipped, report.rejected) == (7, 4, 2, 1)
    assert _adds_up(report)
    assert report.errors[0].line == 8 and "Okändby" in report.errors[0].reason
    assert _rows(store) == {
        ("N07540", "1497", "2021", "T"): 12.5,
        ("N07540", "1497", "2022", "T"): 13.1,
        ("N07540", "1497", "2022", "K"): 14.0,
        ("N07540", "0014", "2022", "T"): 11.2,
    }


def test_kolada_csv_by_title_and_english_headers(tmp_path: Path) -> None:
    store = Store(tmp_path)
    title = _configured_title("kolada", "N07403")
    text = f'municipality,year,gender,"{title}"\nHjo,2023,T,498.1\nTidaholm,2023,T,610.4\n'
    report = ingest_file(text.encode("utf-8"), name="kolada.csv", store=store,
                         dataset="statistik")
    assert (report.accepted, report.rejected) == (2, 0)
    assert _rows(store) == {("N07403", "1497", "2023", "T"): 498.1,
                            ("N07403", "1498", "2023", "T"): 610.4}
    # a title nobody configured: a stable slug id, the header as the title
    other = "Kommun;År;Andel elever som känner sig trygga\nHjo;2023;81,5\n"
    ingest_file(other.encode("utf-8"), name="egen.csv", store=store, dataset="statistik")
    frame = store.read("statistik")
    row = frame[frame["indicator_id"] == "andel_elever_som_kanner_sig_trygga"]
    assert row["indicator"].tolist() == ["Andel elever som känner sig trygga"]
    assert row["value"].tolist() == [81.5]


def test_kolada_csv_two_kpis_on_one_line(tmp_path: Path) -> None:
    text = "Kommun;År;N07403;U07414\nHjo;2023;498,1;..\nKarlsborg;2023;455,0;3,2\n"
    store = Store(tmp_path)
    report = ingest_file(text.encode("cp1252"), name="två.csv", store=store)
    # 2 lines x 2 KPIs = 4 values: 3 stored, 1 skipped
    assert (report.rows_read, report.accepted, report.skipped) == (4, 3, 1)
    assert _rows(store) == {("N07403", "1497", "2023", "T"): 498.1,
                            ("N07403", "1446", "2023", "T"): 455.0,
                            ("U07414", "1446", "2023", "T"): 3.2}


# =========================================================================== BRÅ

#: The statistics database's text export as downloaded (ISO-8859-1). Hand count:
#: Hjo 4 categories x 2 measures = 8 values (Narkotikabrott ".." x 2 skipped, Rån "-" = 0),
#: Skövde 2 x 2 = 4 values; the note line is not a row. 12 read, 10 stored, 2 skipped.
BRA_TEXT = (
    "Anmälda brott, kommuner, 2024 (preliminära uppgifter);;\r\n"
    "&nbsp;;Antal;/100 000 inv\r\n"
    "Hjo kommun;;\r\n"
    "Samtliga brott;812;8 987\r\n"
    "Skadegörelsebrott;95;1 051\r\n"
    "Narkotikabrott;..;..\r\n"
    "Rån;-;-\r\n"
    "Skövde kommun;;\r\n"
    "Samtliga brott;4 321;7 712\r\n"
    "Skadegörelsebrott;1 002;1 788,4\r\n"
    "Uppgifterna för 2024 är preliminära.;;\r\n"
).encode("iso-8859-1")


def test_bra_text_export(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(BRA_TEXT, name="anmalda_brott_kommuner.txt", store=store)
    assert (report.dataset, report.encoding) == ("statistik", "iso-8859-1")
    assert (report.rows_read, report.accepted, report.skipped, report.rejected) == (12, 10, 2, 0)
    assert report.skipped_reasons == {"ej publicerad": 2}
    rows = _rows(store)
    assert rows[("skadegorelsebrott", "1497", "2024", "T")] == 95
    assert rows[("skadegorelsebrott_per_100k", "1497", "2024", "T")] == 1051
    assert rows[("samtliga_brott_per_100k", "1497", "2024", "T")] == 8987
    assert rows[("ran", "1497", "2024", "T")] == 0  # "-" is zero
    assert rows[("skadegorelsebrott", "1496", "2024", "T")] == 1002
    assert rows[("skadegorelsebrott_per_100k", "1496", "2024", "T")] == 1788.4
    assert ("narkotikabrott", "1497", "2024", "T") not in rows  # ".." never stored
    frame = store.read("statistik")
    assert set(frame["status"]) == {"preliminär"} and set(frame["source"]) == {"bra"}
    units = dict(zip(frame["indicator_id"], frame["unit"], strict=True))
    assert units["skadegorelsebrott"] == "antal"
    assert units["skadegorelsebrott_per_100k"] == "per 100 000 inv"
    lines = prepare_ingest(BRA_TEXT, name="b.txt", store=store).validated.accepted["_line"]
    assert sorted(set(lines)) == [4, 5, 7, 9, 10]


def test_bra_text_export_through_the_cli_with_dataset(tmp_path: Path) -> None:
    path = tmp_path / "anmalda_brott.txt"
    path.write_bytes(BRA_TEXT)
    cmd = [sys.executable, "-m", "hjo_data", "ingest", str(path), "--dataset", "statistik",
           "--json", "--store", str(tmp_path / "s")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["rows_read"], data["accepted"], data["skipped"], data["encoding"]) == (
        12, 10, 2, "iso-8859-1")
    # the same download again: all duplicates, nothing revised
    again = json.loads(subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                      check=False).stdout)
    assert (again["accepted"], again["duplicates"], again["revised"]) == (0, 10, 0)


def test_bra_text_export_with_years_in_the_header(tmp_path: Path) -> None:
    text = ("Anmälda brott;;;;\n"
            "&nbsp;;2022;;2023;\n"
            "&nbsp;;Antal;/100 000 inv;Antal;/100 000 inv\n"
            "Hjo kommun;;;;\n"
            "Skadegörelsebrott;80;889;..;..\n"
            "Okändby kommun;;;;\n"
            "Skadegörelsebrott;1;2;3;4\n")
    store = Store(tmp_path)
    report = ingest_file(text.encode("iso-8859-1"), name="bra.txt", store=store)
    # Hjo: 2 stored (2022), 2 skipped (2023 ".."); Okändby: 4 rejected (unknown place)
    assert (report.rows_read, report.accepted, report.skipped, report.rejected) == (8, 2, 2, 4)
    assert _rows(store) == {("skadegorelsebrott", "1497", "2022", "T"): 80,
                            ("skadegorelsebrott_per_100k", "1497", "2022", "T"): 889}
    assert set(store.read("statistik")["status"]) == {""}  # final figures


#: BRÅ's CSV (UTF-8 with BOM, no-break space as thousands separator, decimal comma).
#: 4 municipalities x 2 measures = 8 values: 6 stored, 2 skipped (Tidaholm "..").
BRA_CSV = ("\ufeffSkadegörelsebrott 2024\n"
           "Kommun;Antal (prel.);Per 100 000 inv. (prel.)\n"
           "Hjo;95;1 051,2\n"
           "Skövde;1\u00a0002;1 788,4\n"
           "Tidaholm;..;..\n"
           "Karlsborg;-;-\n").encode("utf-8")


def test_bra_csv(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(BRA_CSV, name="bra_export.csv", store=store)
    assert report.dataset == "statistik"
    assert (report.rows_read, report.accepted, report.skipped) == (8, 6, 2)
    rows = _rows(store)
    assert rows[("skadegorelsebrott", "1497", "2024", "T")] == 95
    assert rows[("skadegorelsebrott_per_100k", "1497", "2024", "T")] == 1051.2
    assert rows[("skadegorelsebrott", "1496", "2024", "T")] == 1002
    assert rows[("skadegorelsebrott_per_100k", "1496", "2024", "T")] == 1788.4
    assert rows[("skadegorelsebrott", "1446", "2024", "T")] == 0
    assert set(store.read("statistik")["status"]) == {"preliminär"}
    # the final figures later: the same keys with other values are revisions
    final = BRA_CSV.replace(b" (prel.)", b"").replace(b";95;1 051,2", b";97;1 073,3")
    again = ingest_file(final, name="bra_slutlig.csv", store=store)
    # Hjo's two values changed; the 4 others differ in status only ("preliminär" -> "")
    assert (again.revised, again.duplicates) == (6, 0)
    assert _rows(store)[("skadegorelsebrott", "1497", "2024", "T")] == 97
    assert len(store.read_history("statistik")) == 6


def test_bra_csv_year_from_the_file_name_or_refused() -> None:
    body = b"Kommun;Antal;Per 100 000 inv.\nHjo;95;1 051,2\n"
    raw = reading.read_bytes(body, name="bra_anmalda_brott_2023.csv")
    assert raw.frame["period"].tolist() == ["2023", "2023"]
    assert raw.frame["indicator_id"].tolist() == ["anmalda_brott", "anmalda_brott_per_100k"]
    with pytest.raises(UnreadableFileError, match="inget år"):
        reading.read_bytes(body, name="bra.csv")


# =========================================================================== FoHM

#: 6 data lines: 5 stored, 1 skipped (".."); the footnote is not a row.
FOHM = ("Andel (%) som avstått från att gå ut ensam av oro för brott;;;;;;\n"
        "Region;År;Kön;Andel;Konfidensintervall nedre;Konfidensintervall övre;Antal svar\n"
        "20 Dalarnas län;2019-2022;Totalt;23,4;21,9;24,9;4 512\n"
        "20 Dalarnas län;2019-2022;Kvinnor;31,0;28,8;33,2;2 398\n"
        "20 Dalarnas län;2019-2022;Män;15,1;13,4;16,8;2 114\n"
        "14 Västra Götalands län;2019-2022;Totalt;21,7;20,9;22,5;11 803\n"
        "14 Västra Götalands län;2015-2018;Totalt;..;..;..;\n"
        "00 Riket;2019-2022;Totalt;20,2;19,8;20,6;61 234\n"
        "Källa: Folkhälsomyndigheten;;;;;;\n")
FOHM_ID = "andel_som_avstatt_fran_att_ga_ut_ensam_av_oro_for_brott"


def test_fohm_table(tmp_path: Path) -> None:
    store = Store(tmp_path)
    report = ingest_file(FOHM.encode("utf-8"), name="fohm_otrygghet.csv", store=store)
    assert report.dataset == "statistik"
    assert (report.rows_read, report.accepted, report.skipped, report.rejected) == (6, 5, 1, 0)
    frame = store.read("statistik").set_index(["geo_code", "period", "gender"])
    dalarna = frame.loc[("0020", "2019-2022", "K")]
    assert (dalarna["value"], dalarna["ci_low"], dalarna["ci_high"], dalarna["n"]) == (
        31.0, 28.8, 33.2, 2398)
    assert dalarna["geo_name"] == "Dalarnas län" and dalarna["geo_level"] == "lan"
    assert dalarna["indicator_id"] == FOHM_ID and dalarna["unit"] == "procent"
    assert dalarna["source"] == "fohm"
    assert frame.loc[("0000", "2019-2022", "T"), "value"] == 20.2
    assert frame.loc[("0014", "2019-2022", "T"), "n"] == 11803
    assert ("0014", "2015-2018", "T") not in frame.index


def test_ntu_table_with_ki_columns_gets_the_configured_id(tmp_path: Path) -> None:
    title = "Otrygghet vid utevistelse sent på kvällen"
    text = (f'"{title}"\n'
            '"Län","År","Kön","Andel","KI undre","KI övre"\n'
            '"Västra Götalands län","2022","Totalt","28.1","26.9","29.3"\n')
    store = Store(tmp_path)
    report = ingest_file(text.encode("cp1252"), name="ntu_lan.csv", store=store)
    assert report.accepted == 1
    row = store.read("statistik").iloc[0]
    assert (row["source"], row["indicator_id"]) == ("ntu", "otrygghet_kvall")
    assert (row["geo_code"], row["value"], row["ci_low"], row["ci_high"]) == (
        "0014", 28.1, 26.9, 29.3)
    assert pytest.approx(row["n"], nan_ok=True) != 0  # no n column: missing, never 0


# =========================================================================== registry

def test_every_statistik_reader_is_registered_in_order() -> None:
    names = [f.name for f in formats.FORMATS if f.dataset == "statistik"]
    assert names == ["kolada-json", "bra-text", "bra-csv", "fohm", "statistik-csv"]


@pytest.mark.parametrize("data, name, expected", [
    (_json(PAGE_1), "x.json", "kolada-json"),
    (KOLADA_CSV.encode(), "x.csv", "statistik-csv"),
    (BRA_TEXT, "x.txt", "bra-text"),
    (BRA_CSV, "x.csv", "bra-csv"),
    (FOHM.encode(), "x.csv", "fohm"),
])
def test_each_fixture_is_sniffed_by_its_own_reader(data: bytes, name: str,
                                                   expected: str) -> None:
    fmt = formats.sniff(data, name)
    assert fmt is not None and fmt.name == expected


@pytest.mark.parametrize("text", [
    "Datum;Kategori;Område;Källa\n2024-05-01;klotter;Hamnen;polis\n",
    "År;Årskurs;Kön;Indikator;Andel;Antal svar\n2024;åk 9;alla;berusad_4v;12,5;80\n",
    "År;Indikator;Andel;Antal svar\n2024;otrygg_kvall;21,5;300\n",
])
def test_other_datasets_files_are_not_taken(text: str) -> None:
    assert formats.sniff(text.encode(), "x.csv") is None
