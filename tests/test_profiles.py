"""Import profiles (hjo_data.profiles): TOML round trip, applying a profile to a survey-tool
export, safe names, Swedish errors for hand-edited files, finding a profile by the file's
headers, and the CLI (`ingest --profile`, `profiles`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hjo_data import cli, profiles
from hjo_data.ingest import prepare_ingest
from hjo_data.reading import read_raw
from hjo_data.store import Store

QUESTION = ("Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt "
            "eget bostadsområde?")
HEADERS = ["Löpnummer", "År", "Kön", "Ålder", QUESTION, "Bostadsområde", "Kommentar"]
#: A survey tool's export: the question as header, ages with "år", one free answer
#: ("Känner mig trygg"), one bad year (line 7; the header is line 1).
SURVEY_EXPORT = (";".join(HEADERS) + "\n" + "\n".join([
    "1;2025;Kvinna;16-29 år;Ganska trygg;Centrum;",
    "2;2025;Man;30-49 år;Mycket otrygg;Hamnen;bra",
    "3;2025;Kvinna;30-49 år;Känner mig trygg;Centrum;",
    "4;2025;Man;65 år eller äldre;Mycket trygg;Hamnen;",
    "5;2025;Kvinna;50-64 år;Ganska otrygg;Centrum;",
    "6;20x5;Man;30-49 år;Ganska trygg;Hamnen;",
]) + "\n").encode("utf-8")

MAPPING = {
    "name": "enkatverktyget",
    "dataset": "survey_responses",
    "headers": HEADERS,
    "columns": {"År": "year", "Kön": "gender", "Ålder": "age_group", QUESTION: "safety_evening",
                "Bostadsområde": "Område", "Kommentar": "ignorera"},
    "values": {"age_group": {"16-29 år": "16–29", "30-49 år": "30–49", "50-64 år": "50-64",
                             "65 år eller äldre": "65+"},
               "safety_evening": {"Känner mig trygg": "ganska trygg"}},
}


def _profile() -> profiles.ImportProfile:
    return profiles.profile_from_mapping(MAPPING)


def test_mapping_is_checked_and_normalised() -> None:
    p = _profile()
    assert p.name == "enkatverktyget" and p.dataset == "survey_responses"
    # a Swedish label as target ("Område") becomes the canonical name; "50-64" the
    # vocabulary's own spelling with an en dash
    assert p.columns["Bostadsområde"] == "area"
    assert p.values["age_group"]["50-64 år"] == "50–64"
    assert "Löpnummer" not in p.columns and p.headers == tuple(HEADERS)
    assert p.header_signature == tuple(sorted(
        ["löpnummer", "år", "kön", "ålder", "bostadsområde", "kommentar",
         "hur_trygg_eller_otrygg_känner_du_dig_om_du_går_ut_ensam_sent_en_kväll_i_ditt_eget_"
         "bostadsområde?"]))


def test_round_trip_through_a_readable_toml_file(isolated_store: Path) -> None:
    p = _profile()
    path = profiles.save_profile(p)
    assert path == isolated_store / "profiles" / "enkatverktyget.toml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Importprofil")
    assert f'"{QUESTION}" = "safety_evening"' in text
    assert 'Kommentar = "ignorera"' in text
    assert "[values.age_group]" in text and '"30-49 år" = "30–49"' in text
    assert profiles.load_profile("enkatverktyget") == p
    assert [q.name for q in profiles.list_profiles()[0]] == ["enkatverktyget"]
    assert not list(path.parent.glob(".profile.*"))  # no temp file left


def test_apply_profile_renames_drops_and_translates_keeping_lines() -> None:
    raw = read_raw(SURVEY_EXPORT, name="enkat.csv")
    out = profiles.apply_profile(raw, _profile())
    assert out.headers == ["Löpnummer", "År", "Kön", "Åldersgrupp", "Trygghet sent en kväll",
                           "Område"]
    assert out.frame["Åldersgrupp"].tolist() == ["16–29", "30–49", "30–49", "65+", "50–64",
                                                 "30–49"]
    assert out.frame["Trygghet sent en kväll"].tolist()[2] == "ganska trygg"
    assert out.frame["Löpnummer"].tolist() == ["1", "2", "3", "4", "5", "6"]
    np.testing.assert_array_equal(out.lines, raw.lines)
    assert out.rows_read == raw.rows_read == 6
    assert raw.headers == HEADERS  # the input is not changed


def test_ingest_with_the_profile_counts_by_hand() -> None:
    prepared = prepare_ingest(SURVEY_EXPORT, name="enkat.csv", profile=_profile())
    assert prepared.dataset.name == "survey_responses"
    # 6 rows: 5 valid, line 7 has year "20x5"
    assert (prepared.rows_read, prepared.valid, prepared.rejected) == (6, 5, 1)
    rejected = prepared.rejected_rows()
    assert rejected["rad"].tolist() == [7] and rejected["värde"].tolist() == ["20x5"]
    assert prepared.new_rows == 5 and prepared.duplicates == 0
    # the preview speaks the file's own headers
    assert dict(prepared.header_preview)[QUESTION] == "Trygghet sent en kväll"
    assert dict(prepared.header_preview)["Kommentar"] == "ignoreras"
    assert prepared.validated.accepted["age_group"].tolist() == ["16–29", "30–49", "30–49",
                                                                 "65+", "50–64"]


def test_profile_for_another_dataset_is_refused() -> None:
    with pytest.raises(profiles.ProfileError, match="gäller datamängden"):
        prepare_ingest(SURVEY_EXPORT, name="enkat.csv", dataset="incidents",
                       profile=_profile())


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "a\\b", ".dold", "", "  ",
                                  "x" * 65, "/etc/passwd", "namn.toml", "_x"])
def test_names_that_could_leave_the_folder_are_refused(name: str,
                                                       isolated_store: Path) -> None:
    with pytest.raises(profiles.ProfileError, match="Ogiltigt profilnamn"):
        profiles.validate_name(name)
    with pytest.raises(profiles.ProfileError, match="Ogiltigt profilnamn"):
        profiles.load_profile(name)
    with pytest.raises(profiles.ProfileError, match="Ogiltigt profilnamn"):
        profiles.save_profile(profiles.ImportProfile(name=name, dataset="survey",
                                                     columns={"a": "year"}))
    assert not any(isolated_store.parent.rglob("*.toml"))


@pytest.mark.parametrize("name", ["Enkätverktyg 2025", "skola_åk9", "R-export"])
def test_swedish_names_with_spaces_are_fine(name: str, isolated_store: Path) -> None:
    p = profiles.profile_from_mapping({**MAPPING, "name": name})
    assert profiles.save_profile(p).name == f"{name}.toml"
    assert profiles.load_profile(name).name == name


def test_hand_edited_file_with_unknown_column_names_it(isolated_store: Path) -> None:
    path = profiles.save_profile(_profile())
    path.write_text(path.read_text(encoding="utf-8").replace(
        '= "safety_evening"', '= "trygghet_kvall"'), encoding="utf-8")
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_profile("enkatverktyget")
    message = str(err.value)
    assert "okänd kolumn 'trygghet_kvall'" in message
    assert QUESTION in message and "enkatverktyget.toml" in message
    assert "safety_evening" in message  # the allowed names are listed
    # the broken file is reported, not listed, and never offered
    found, problems = profiles.list_profiles()
    assert found == [] and "trygghet_kvall" in problems[0]
    assert profiles.find_profile(HEADERS) is None


@pytest.mark.parametrize(("edit", "expected"), [
    ('[values.age_group]', "[values.åldern]"),
    ('"30-49 år" = "30–49"', '"30-49 år" = "medelålders"'),
    ('dataset = "survey_responses"', 'dataset = "enkater"'),
    ('"Kön" = "gender"', '"Kön" = "year"'),
    ('name = "enkatverktyget"', 'name = "enkatverktyget"\nname2 = [1'),
])
def test_other_hand_edits_give_swedish_errors(edit: str, expected: str,
                                              isolated_store: Path) -> None:
    path = profiles.save_profile(_profile())
    text = path.read_text(encoding="utf-8")
    assert edit in text
    path.write_text(text.replace(edit, expected), encoding="utf-8")
    with pytest.raises(profiles.ProfileError, match="Importprofilen 'enkatverktyget'"):
        profiles.load_profile("enkatverktyget")


def test_find_profile_by_header_signature(isolated_store: Path) -> None:
    assert profiles.find_profile(HEADERS) is None
    profiles.save_profile(_profile())
    # order, case and spacing do not matter; another set of headers does
    shuffled = [h.upper() + " " for h in reversed(HEADERS)]
    assert profiles.find_profile(shuffled).name == "enkatverktyget"
    assert profiles.find_profile(HEADERS, dataset="survey_responses").name == "enkatverktyget"
    assert profiles.find_profile(HEADERS, dataset="incidents") is None
    assert profiles.find_profile(HEADERS[:-1]) is None


# --------------------------------------------------------------------------- CLI


def _write_export(tmp_path: Path) -> Path:
    path = tmp_path / "enkat_2025.csv"
    path.write_bytes(SURVEY_EXPORT)
    return path


def test_cli_ingest_with_profile(tmp_path: Path, isolated_store: Path, capsys) -> None:
    profiles.save_profile(_profile())
    code = cli.main(["ingest", str(_write_export(tmp_path)), "--profile", "enkatverktyget",
                     "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # one row rejected, the rest stored
    assert (out["rows_read"], out["accepted"], out["rejected"], out["duplicates"]) == (
        6, 5, 1, 0)
    assert out["profile"] == "enkatverktyget" and out["profile_hint"] is None
    assert len(Store(isolated_store).read("survey_responses")) == 5


def test_cli_unknown_profile_lists_the_saved_ones(tmp_path: Path, isolated_store: Path,
                                                  capsys) -> None:
    profiles.save_profile(_profile())
    profiles.save_profile(profiles.profile_from_mapping({**MAPPING, "name": "skolan"}))
    code = cli.main(["ingest", str(_write_export(tmp_path)), "--profile", "saknas"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Importprofilen 'saknas' finns inte. Sparade profiler: enkatverktyget, skolan." in err
    assert not Store(isolated_store).has_data()


def test_cli_bad_profile_name_is_exit_2(tmp_path: Path, capsys) -> None:
    code = cli.main(["ingest", str(_write_export(tmp_path)), "--profile", "../../etc/x"])
    assert code == 2 and "Ogiltigt profilnamn" in capsys.readouterr().err


def test_cli_suggests_a_matching_profile(tmp_path: Path, isolated_store: Path,
                                         capsys) -> None:
    profiles.save_profile(_profile())
    cli.main(["ingest", str(_write_export(tmp_path)), "--dry-run"])  # no hint in a dry run
    capsys.readouterr()
    cli.main(["ingest", str(_write_export(tmp_path))])
    err = capsys.readouterr().err
    assert "samma rubriker som importprofilen 'enkatverktyget'" in err
    assert "--profile 'enkatverktyget'" in err


def test_cli_profiles_lists(isolated_store: Path, capsys) -> None:
    assert cli.main(["profiles"]) == 0
    assert "Inga importprofiler sparade" in capsys.readouterr().out
    profiles.save_profile(_profile())
    assert cli.main(["profiles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["profiles"]
    # 5 columns mapped, Kommentar ignored, 4 + 1 values translated
    assert listed == [{"name": "enkatverktyget", "dataset": "survey_responses",
                       "columns": 5, "ignored": 1, "values": 5}]
    (isolated_store / "profiles" / "trasig.toml").write_text("dataset = [", encoding="utf-8")
    assert cli.main(["profiles"]) == 1
    captured = capsys.readouterr()
    assert "enkatverktyget: Trygghetsmätning (svar)" in captured.out
    assert "Importprofilen 'trasig'" in captured.err


def test_a_header_the_profile_does_not_name_never_takes_a_mapped_column() -> None:
    """Applied to a file with one more header ("Kategori", an alias of the column the
    profile maps "Typ av händelse" to), the user's choice wins; the extra one is ignored."""
    profile = profiles.profile_from_mapping({
        "name": "est_export", "dataset": "incidents",
        "columns": {"Datum": "occurred_at", "Typ av händelse": "category", "Plats": "area",
                    "Rapportör": "source"},
        "values": {"category": {"Sönder": "skadegörelse"}}})
    data = ("Datum;Typ av händelse;Kategori;Plats;Rapportör\n"
            "2025-03-01;Sönder;brand;Hamnen;polis\n"
            "2025-03-02;klotter;brand;Hamnen;polis\n").encode()
    raw = read_raw(data, name="est.csv")
    out = profiles.apply_profile(raw, profile)
    assert out.headers == ["Tidpunkt", "Kategori", "Kategori (ej kopplad)", "Område",
                           "Rapportör"]
    prepared = prepare_ingest(data, name="est.csv", profile=profile)
    assert prepared.validated.accepted["category"].tolist() == ["skadegörelse", "klotter"]
    assert dict(prepared.header_preview)["Kategori"] == "ignoreras"
    assert dict(prepared.header_preview)["Typ av händelse"] == "Kategori"


def test_values_match_whatever_the_case_and_spacing() -> None:
    raw = read_raw((";".join(HEADERS) + "\n" + "1;2025;Kvinna;  30-49 ÅR ;känner MIG trygg;"
                    "Centrum;\n").encode(), name="enkat.csv")
    out = profiles.apply_profile(raw, _profile())
    assert out.frame["Åldersgrupp"].tolist() == ["30–49"]
    assert out.frame["Trygghet sent en kväll"].tolist() == ["ganska trygg"]
