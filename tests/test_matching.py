"""Matching by meaning: headers (names, units, survey question texts) and values."""

from __future__ import annotations

from datetime import date

import pytest

from hjo_data.errors import UnknownDatasetError, UnreadableFileError
from hjo_data.matching import (
    CERTAIN,
    HeaderMatch,
    ValueMatch,
    suggest_columns,
    suggest_values,
    vocabulary,
)
from hjo_data.reading import detect_dataset, map_headers, read_raw
from hjo_data.schema import DATASETS
from hjo_data.validation import validate

NTU = ("Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt eget "
       "bostadsområde?")


# --------------------------------------------------------------------------- headers


def test_one_match_per_header_in_order() -> None:
    headers = ["År", "Okänd sak", NTU]
    matches = suggest_columns(headers, "survey_responses")
    assert [m.header for m in matches] == headers
    assert all(isinstance(m, HeaderMatch) for m in matches)
    assert matches[0] == HeaderMatch("År", "year", 1.0, "känt kolumnnamn")
    assert matches[1].column is None and matches[1].confidence == 0.0
    assert matches[2].column == "safety_evening"
    assert matches[2].confidence == 1.0
    assert "NTU" in matches[2].reason


@pytest.mark.parametrize("header", [
    NTU,
    NTU.upper(),
    "  hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt eget "
    "bostadsområde  ",
    "Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i det område där "
    "du bor?",
    "Om du går ut ensam sent en kväll i ditt bostadsområde, känner du dig då...?",
    "Hur trygg känner du dig när du är ute ensam sent på kvällen i det område där du bor?",
    "1. Hur trygg känner du dig om du går ut ensam sent en kväll i ditt område?",
])
def test_safety_question_variants_are_certain(header: str) -> None:
    (match,) = suggest_columns([header], "survey_responses")
    assert match.column == "safety_evening"
    assert match.confidence >= CERTAIN


def test_vague_safety_header_is_only_a_suggestion() -> None:
    (match,) = suggest_columns(["Hur trygg känner du dig i kvällarna?"], "survey_responses")
    assert match.column == "safety_evening"
    assert match.confidence < CERTAIN


@pytest.mark.parametrize(("header", "column"), [
    ("Hur stort problem anser du följande vara i ditt bostadsområde? [Nedskräpning]",
     "problem_nedskrapning"),
    ("Hur stort problem är följande i ditt bostadsområde? - Klotter", "problem_klotter"),
    ("Hur stort problem anser du följande vara i ditt bostadsområde? [Bilar eller mopeder "
     "som körs på ett störande sätt]", "problem_trafik"),
    ("Hur stort problem anser du följande vara i ditt bostadsområde? [Personer som är "
     "påverkade av alkohol eller narkotika]", "problem_paverkade"),
    ("Problem i området: Bråk och stök", "problem_brak"),
    ("Hur stort problem anser du följande vara i ditt bostadsområde? [Skadegörelse]",
     "problem_skadegorelse"),
])
def test_problem_matrix_items(header: str, column: str) -> None:
    (match,) = suggest_columns([header], "survey_responses")
    assert (match.column, match.confidence >= CERTAIN) == (column, True)


@pytest.mark.parametrize(("dataset", "header", "column"), [
    ("youth", "Antal svarande", "n"),
    ("youth", "Andel (%)", "share"),
    ("survey", "Andel (prel.)", "share"),
    ("survey", "Antal (antal)", "n"),
    ("youth", "ANTAL ELEVER", "n"),
    ("survey_responses", "Hur gammal är du?", "age_group"),
    ("survey_responses", "I vilket område bor du?", "area"),
    ("survey_responses", "Vilket kön har du?", "gender"),
    ("survey_responses", "Tidstämpel", "year"),
])
def test_synonyms_units_and_survey_tool_questions(dataset: str, header: str,
                                                  column: str) -> None:
    (match,) = suggest_columns([header], dataset)
    assert match.column == column
    assert match.confidence >= CERTAIN


def test_misspelt_header_is_suggested_not_used() -> None:
    (match,) = suggest_columns(["Kategorii"], "incidents")
    assert match.column == "category"
    assert 0 < match.confidence < CERTAIN
    mapping = map_headers(["Kategorii", "Datum", "Område", "Källa"], DATASETS["incidents"])
    assert "Kategorii" in mapping.unknown
    assert mapping.missing_required == ["category"]
    assert [m.header for m in mapping.uncertain] == ["Kategorii"]


def test_explicit_year_beats_time_stamp() -> None:
    mapping = map_headers(["Tidstämpel", "År", "Område", "Kön", "Ålder", NTU],
                          DATASETS["survey_responses"])
    assert mapping.columns["År"] == "year"
    assert "Tidstämpel" in mapping.unknown


def test_question_text_header_is_detected() -> None:
    headers = ["Tidstämpel", "Kön", "Hur gammal är du?", "I vilket område bor du?", NTU]
    assert detect_dataset(headers).name == "survey_responses"


def test_uncertain_header_refusal_names_the_suggestion() -> None:
    text = ("År;Område;Kön;Åldersgrupp;Hur trygg känner du dig i kvällarna?\n"
            "2025;Centrum;kvinna;30-49;mycket trygg\n")
    headers = read_raw(text.encode()).headers
    with pytest.raises(UnknownDatasetError) as info:
        detect_dataset(headers)
    assert "'Hur trygg känner du dig i kvällarna?' liknar 'Trygghet sent en kväll'" in str(
        info.value)
    with pytest.raises(UnreadableFileError) as info2:
        validate(read_raw(text.encode(), name="q.csv"), DATASETS["survey_responses"])
    message = str(info2.value)
    assert "'Hur trygg känner du dig i kvällarna?' liknar 'Trygghet sent en kväll'" in message
    assert "importprofil" in message


# --------------------------------------------------------------------------- values


def test_vocabulary() -> None:
    assert vocabulary("survey_responses", "age_group") == ["16–29", "30–49", "50–64", "65+"]
    assert vocabulary("survey_responses", "area") is None
    assert vocabulary("incidents", "occurred_at") is None


@pytest.mark.parametrize("value", ["30-49 år", "30–49", "30 - 49 år", "30-49", "30 – 49 ÅR",
                                   " 30-49år "])
def test_age_band_spellings(value: str) -> None:
    (match,) = suggest_values([value], "survey_responses", "age_group")
    assert (match.target, match.missing, match.confidence >= CERTAIN) == ("30–49", False, True)


def test_age_band_inside_a_band_is_only_a_suggestion() -> None:
    (match,) = suggest_values(["30-39 år"], "survey_responses", "age_group")
    assert match.target == "30–49"
    assert match.confidence < CERTAIN
    (older,) = suggest_values(["65 år och äldre"], "survey_responses", "age_group")
    assert older.target == "65+" and older.confidence >= CERTAIN


@pytest.mark.parametrize(("value", "target"), [
    ("Inget problem", "inget problem"),
    ("Litet problem", "ganska litet problem"),
    ("Ganska stort problem", "ganska stort problem"),
    ("MYCKET STORT PROBLEM.", "mycket stort problem"),
])
def test_problem_likert(value: str, target: str) -> None:
    (match,) = suggest_values([value], "survey_responses", "problem_klotter")
    assert match.target == target and match.confidence >= CERTAIN


@pytest.mark.parametrize(("value", "target"), [
    ("Mycket trygg", "mycket trygg"), ("ganska trygg", "ganska trygg"),
    ("Ganska otrygg.", "ganska otrygg"), ("MYCKET OTRYGG", "mycket otrygg"),
    ("Jag går aldrig ut ensam sent", "går aldrig ut"),
])
def test_safety_likert(value: str, target: str) -> None:
    (match,) = suggest_values([value], "survey_responses", "safety_evening")
    assert match.target == target and match.confidence >= CERTAIN


@pytest.mark.parametrize("value", ["Vet ej", "Vill ej svara", "Annat/vill ej svara",
                                   "Ej svar", "vet inte", "Annat / vill ej svara"])
def test_no_answer_is_missing(value: str) -> None:
    (match,) = suggest_values([value], "survey_responses", "safety_evening")
    assert match == ValueMatch(value, None, 1.0, True)


def test_vocabulary_value_wins_over_missing() -> None:
    # "vet ej" is an answer of the problem questions, "annat" a gender.
    assert suggest_values(["Vet ej"], "survey_responses", "problem_brak")[0].target == "vet ej"
    assert suggest_values(["Annat"], "survey_responses", "gender")[0].target == "annat"


@pytest.mark.parametrize(("label", "indicator"), [
    ("Druckit alkohol senaste 12 månaderna", "alkohol_12m"),
    ("Har druckit alkohol de senaste 12 månaderna", "alkohol_12m"),
    ("Berusad senaste 4 veckorna", "berusad_4v"),
    ("Känt sig berusad av alkohol senaste 4 veckorna", "berusad_4v"),
    ("Röker dagligen eller ibland", "rokning"),
    ("Använder e-cigarett", "e_cigarett"),
    ("Snusar dagligen eller ibland", "snus"),
    ("Använt narkotika någon gång", "narkotika_nagonsin"),
    ("Spelat om pengar senaste 12 månaderna", "spel_om_pengar"),
    ("Använt dopningsmedel", "dopning"),
    ("Psykosomatiska besvär (minst 2 ggr/vecka)", "psykosomatiska_besvar"),
])
def test_youth_indicator_labels(label: str, indicator: str) -> None:
    (match,) = suggest_values([label], "youth", "indicator")
    assert match.target == indicator and match.confidence >= CERTAIN


def test_unknown_youth_indicator_has_no_target() -> None:
    (match,) = suggest_values(["Känner sig ensam ofta"], "youth", "indicator")
    assert match.target is None and not match.missing


def test_free_column_keeps_value() -> None:
    assert suggest_values(["Hamnen"], "incidents", "area") == [
        ValueMatch("Hamnen", "Hamnen", 1.0, False)]


# --------------------------------------------------------------------------- ingest path


def _table(text: str):
    return read_raw(text.encode("utf-8"), name="t.csv")


def test_every_reason_problems_and_summary() -> None:
    # line 2: two bad columns; lines 3-9: seven different bad dates; line 10: ok
    rows = ["x;2024-01-01;ingen aning;Hamnen;polis"]
    rows += [f"x;2024-13-0{d};klotter;Hamnen;polis" for d in range(1, 8)]
    rows += ["x;2024-01-02;klotter;Hamnen;polis"]
    text = "Id;Datum;Kategori;Område;Rapportör\n" + "\n".join(rows) + "\n"
    text = text.replace("x;2024-01-01;ingen aning;Hamnen;polis",
                        "x;igår;klotter;;polis")
    out = validate(_table(text), DATASETS["incidents"], today=date(2024, 6, 1))
    assert len(out.accepted) == 1
    assert out.rejected["line"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    first = out.rejected.iloc[0]
    assert first["column"] == "Datum (Tidpunkt); Område"
    assert first["reason"] == ("Ogiltigt datum 'igår' i kolumnen 'Datum (Tidpunkt)' (tillåtna "
                               "format: ÅÅÅÅ-MM-DD, ÅÅÅÅ-MM-DD TT:MM, ÅÅÅÅMMDD, D.M.ÅÅÅÅ); "
                               "Kolumnen 'Område' är tom")
    assert len(out.problems) == 9
    assert out.problems["kind"].value_counts().to_dict() == {"ogiltigt datum": 8,
                                                             "tomt värde": 1}
    assert out.summary[0] == "1 rad: ogiltigt datum '2024-13-01' i Datum (Tidpunkt)"
    assert "… 3 rader till: ogiltigt datum i Datum (Tidpunkt) (3 andra värden)" in out.summary
    assert "1 rad: tomt värde i Område" in out.summary
    assert len(out.summary) == 7


def test_no_answer_kept_in_required_column_with_warning() -> None:
    text = ("År;Område;Kön;Åldersgrupp;Trygghet\n"
            "2025;Hamnen;Vill ej svara;30-49 år;Vet ej\n"
            "2025;Hamnen;kvinna;Vet ej;mycket trygg\n"
            "2025;Hamnen;Ej svar;30 – 49;vet inte\n")
    out = validate(_table(text), DATASETS["survey_responses"], today=date(2026, 1, 1))
    assert len(out.rejected) == 0
    assert out.accepted["gender"].tolist() == ["", "kvinna", ""]
    assert out.accepted["age_group"].tolist() == ["30–49", "", "30–49"]
    assert out.accepted["safety_evening"].tolist() == ["", "mycket trygg", ""]
    assert "1 rad: 'Vet ej' i kolumnen 'Trygghet (Trygghet sent en kväll)' räknas som saknat " \
           "svar" in out.warnings
    assert "1 rad: 'Ej svar' i kolumnen 'Kön' räknas som saknat svar" in out.warnings


def test_no_answer_is_an_error_outside_survey_answers() -> None:
    text = "År;Årskurs;Kön;Indikator;Andel;Antal svar\n2024;Vet ej;alla;snus;0,1;100\n"
    out = validate(_table(text), DATASETS["youth"], today=date(2026, 1, 1))
    assert len(out.accepted) == 0
    assert out.rejected["reason"][0].startswith("Okänt värde 'Vet ej' i kolumnen 'Årskurs'")


def test_year_from_time_stamp_and_question_headers() -> None:
    text = (f'"Tidstämpel","Kön","Hur gammal är du?","I vilket område bor du?","{NTU}"\n'
            '"2024-11-30 23:59:59","Man","65 år eller äldre","Hamnen","Ganska otrygg"\n'
            '"30.11.2023","Man","16-29 år","Hamnen","Mycket trygg"\n')
    out = validate(_table(text), DATASETS["survey_responses"], today=date(2026, 1, 1))
    assert len(out.rejected) == 0
    assert out.accepted["year"].tolist() == [2024, 2023]
    assert out.accepted["age_group"].tolist() == ["65+", "16–29"]


def test_uncertain_value_is_not_used_on_the_ingest_path() -> None:
    # "30-39" lies inside 30–49 but is not that band: a suggestion, never a silent change
    text = "År;Område;Kön;Åldersgrupp;Trygghet\n2025;Hamnen;kvinna;30-39;mycket trygg\n"
    out = validate(_table(text), DATASETS["survey_responses"], today=date(2026, 1, 1))
    assert len(out.accepted) == 0
    assert out.summary == ["1 rad: okänt värde '30-39' i Åldersgrupp"]


@pytest.mark.parametrize(("column", "value", "target"), [
    ("safety_evening", "1 - Mycket trygg", "mycket trygg"),
    ("safety_evening", "2. Ganska trygg", "ganska trygg"),
    ("safety_evening", "Mycket otrygg (4)", "mycket otrygg"),
    ("problem_klotter", "3 - Ganska litet problem", "ganska litet problem"),
])
def test_numbered_answers(column: str, value: str, target: str) -> None:
    (match,) = suggest_values([value], "survey_responses", column)
    assert match.target == target and match.confidence >= CERTAIN


def test_numbered_no_answer_and_numbers_alone() -> None:
    (match,) = suggest_values(["9 - Vet ej"], "survey_responses", "safety_evening")
    assert match.missing and match.target is None
    # a bare code keeps its meaning from the vocabulary ("1" = mycket trygg), no numbering
    assert suggest_values(["1"], "survey_responses", "safety_evening")[0].target == \
        "mycket trygg"


@pytest.mark.parametrize(("column", "value", "target"), [
    ("grade", "År 9", "åk 9"), ("grade", "Gymnasiet åk 2", "gy 2"), ("grade", "Klass 7", "åk 7"),
    ("gender", "Båda könen", "alla"), ("gender", "Flickor", "kvinna"),
])
def test_school_table_values(column: str, value: str, target: str) -> None:
    (match,) = suggest_values([value], "youth", column)
    assert match.target == target and match.confidence >= CERTAIN
