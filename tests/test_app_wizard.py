"""AppTest of the import wizard on Datahantering: a survey-tool export that does not match
is mapped column by column and value by value; the preview recounts through the normal dry
run; nothing is stored before "Spara"; the mapping is saved as a profile and offered again
for the next file with the same headers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hjo_data import profiles
from hjo_data.audit import read_audit
from hjo_data.auth import hash_password
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ("Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt "
            "eget bostadsområde?")
HEADER = ";".join(["Svars-ID", "Svarsår", "Kön", "Ålder", QUESTION, "Bostadsomr.",
                   "Övriga synpunkter"])
#: 8 answers. "Svarsår" is not recognised (År is required); "Bostadsomr." is a guess;
#: answers "Otrygg" (lines 3, 5) and "Varken trygg eller otrygg" (line 8) have no
#: vocabulary value; "Mkt trygg" (line 6) has a suggested one.
EXPORT = (HEADER + "\n" + "\n".join([
    "1;2025;Kvinna;16-29 år;Mycket trygg;Hjo centrum;",
    "2;2025;Man;30-49 år;Otrygg;Guldkroken;Mörkt vid <b>busshållplatsen</b>",
    "3;2025;Kvinna;65 år eller äldre;Ganska trygg;Hjo centrum;",
    "4;2025;Man;50-64 år;Otrygg;Korsberga;",
    "5;2025;Kvinna;30-49 år;Mkt trygg;Guldkroken;",
    "6;2025;Man;16-29 år;Ganska otrygg;Hjo centrum;",
    "7;2025;Kvinna;30-49 år;Varken trygg eller otrygg;Korsberga;",
    "8;2025;Man;50-64 år;Mycket otrygg;Hjo centrum;",
]) + "\n").encode("utf-8")
#: The next export: same headers, other answers (ids 9-13), "Otrygg" once (line 3).
NEXT_EXPORT = (HEADER + "\n" + "\n".join([
    "9;2025;Kvinna;30-49 år;Ganska trygg;Hjo centrum;",
    "10;2025;Man;Otrygg;Otrygg;Korsberga;",
    "11;2025;Kvinna;65 år eller äldre;Otrygg;Guldkroken;",
    "12;2025;Man;16-29 år;Mkt trygg;Hjo centrum;",
    "13;2025;Kvinna;50-64 år;Mycket trygg;Korsberga;",
]) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def users() -> dict:
    return {"anna": {"role": "redaktor", "password_hash": hash_password("anna-pw", n=2**10)}}


def _app(users: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "datahantering.py"), default_timeout=60)
    at.secrets["auth"] = {"users": users}
    now = time.time()
    at.session_state["hjo_auth"] = {"name": "anna", "role": "redaktor", "method": "password",
                                    "email": None, "last_seen": now, "login_at": now}
    return at.run()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def _widget(items, prefix: str):
    found = [w for w in items if (w.key or "").startswith(prefix)]
    assert len(found) == 1, [w.key for w in items]
    return found[0]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.error,
                                             *at.warning, *at.info, *at.success])


def _map_first_file(at: AppTest) -> AppTest:
    _upload(at, "enkat_2025.csv", EXPORT)
    assert not at.exception, at.exception
    assert any(s.value == "Importguide: koppla kolumner och värden" for s in at.subheader)
    # År is required and "Svarsår" has no suggestion: no check until it is mapped
    assert "Välj vilken kolumn i filen som är 'År'" in _texts(at)
    assert not at.metric and not [b for b in at.button if b.key == "hjo_dh_save"]
    _widget(at.selectbox, "hjo_wz_col_1_").set_value("year")
    return at.run()


def _map_and_save(at: AppTest) -> AppTest:
    """Map "Otrygg", name the profile "enkatverktyget" and save."""
    _widget(at.selectbox, "hjo_wz_val_safety_evening_0_").set_value("ganska otrygg")
    _widget(at.text_input, "hjo_wz_name_").input("enkatverktyget")
    at.run()
    at.button(key="hjo_dh_save").click()
    return at.run()


def test_mapping_changes_the_preview_counts(users: dict, isolated_store: Path) -> None:
    at = _map_first_file(_app(users))
    assert not at.exception, at.exception
    # the preselected suggestions: the NTU question, "Bostadsomr." (a guess), "Mkt trygg"
    assert _widget(at.selectbox, "hjo_wz_col_4_").value == "safety_evening"
    assert _widget(at.selectbox, "hjo_wz_col_5_").value == "area"
    assert _widget(at.selectbox, "hjo_wz_col_6_").value == "ignorera"
    otrygg = _widget(at.selectbox, "hjo_wz_val_safety_evening_0_")  # most frequent first
    assert otrygg.value == "__behall__"
    assert "säkerhet: medel" in _texts(at)  # "Bostadsomr." and "Mkt trygg"
    # 8 rows: lines 3, 5 ("Otrygg") and 8 ("Varken ...") rejected
    assert _metrics(at) == {"Lästa rader": "8", "Nya rader": "5", "Avvisade": "3",
                            "Dubbletter": "0"}
    summary = next(d.value for d in at.dataframe
                   if "Avvisat per kolumn och värde" in d.value.columns)
    assert summary.iloc[:, 0].tolist() == [
        "2 rader: okänt värde 'Otrygg' i Trygghet sent en kväll",
        "1 rad: okänt värde 'Varken trygg eller otrygg' i Trygghet sent en kväll"]
    otrygg.set_value("ganska otrygg")
    at.run()
    assert _metrics(at) == {"Lästa rader": "8", "Nya rader": "7", "Avvisade": "1",
                            "Dubbletter": "0"}
    # ignoring the area column makes a required column missing again
    _widget(at.selectbox, "hjo_wz_col_5_").set_value("ignorera")
    at.run()
    assert "Välj vilken kolumn i filen som är 'Område'" in _texts(at)
    assert not at.metric
    assert not Store(isolated_store).has_data()


def test_nothing_is_stored_before_spara_then_data_and_profile(users: dict,
                                                              isolated_store: Path) -> None:
    at = _map_first_file(_app(users))
    _widget(at.selectbox, "hjo_wz_val_safety_evening_0_").set_value("ganska otrygg")
    _widget(at.text_input, "hjo_wz_name_").input("enkatverktyget")
    at.run()
    assert not at.exception, at.exception
    assert not Store(isolated_store).has_data()
    assert not (isolated_store / "profiles").exists()
    assert "<b>" not in "".join(str(m.value) for m in at.markdown)  # no user HTML rendered
    at.button(key="hjo_dh_save").click()
    at.run()
    assert not at.exception, at.exception
    stored = Store(isolated_store).read("survey_responses")
    assert len(stored) == 7
    assert sorted(stored["safety_evening"].tolist()) == sorted(
        ["mycket trygg", "ganska otrygg", "ganska trygg", "ganska otrygg", "mycket trygg",
         "ganska otrygg", "mycket otrygg"])
    saved = profiles.load_profile("enkatverktyget", isolated_store)
    assert saved.dataset == "survey_responses"
    assert saved.columns["Svarsår"] == "year" and saved.columns["Bostadsomr."] == "area"
    assert saved.columns["Övriga synpunkter"] == "ignorera"
    assert "Svars-ID" not in saved.columns  # the respondent id is read as usual
    assert saved.values["safety_evening"] == {"Otrygg": "ganska otrygg",
                                              "Mkt trygg": "mycket trygg"}
    assert any("Importprofilen 'enkatverktyget' sparades" in s.value for s in at.success)
    audit = read_audit(isolated_store)
    assert audit["action"].tolist() == ["upload", "import_profile"]
    assert audit["detail"].tolist()[-1] == "enkatverktyget"


def test_saved_profile_is_offered_for_the_next_file(users: dict,
                                                    isolated_store: Path) -> None:
    at = _map_and_save(_map_first_file(_app(users)))
    _upload(at, "enkat_2026.csv", NEXT_EXPORT)
    assert not at.exception, at.exception
    offer = _widget(at.checkbox, "hjo_wz_use_")
    assert offer.value is True and "enkatverktyget" in offer.label
    assert _widget(at.selectbox, "hjo_wz_col_1_").value == "year"
    assert _widget(at.text_input, "hjo_wz_name_").value == "enkatverktyget"
    # the saved value mapping is preselected ("Otrygg" -> ganska otrygg); line 3's age
    # "Otrygg" is not an age band: 5 rows, 4 new, 1 rejected
    assert _metrics(at) == {"Lästa rader": "5", "Nya rader": "4", "Avvisade": "1",
                            "Dubbletter": "0"}
    # declining the profile falls back to the suggestions ("Svarsår" unmapped again)
    offer.uncheck()
    at.run()
    assert "Välj vilken kolumn i filen som är 'År'" in _texts(at)


def test_matching_file_shows_no_wizard(users: dict) -> None:
    at = _app(users)
    data = ("Datum;Kategori;Område;Rapportör\n2025-03-01;klotter;Hamnen;polis\n"
            ).encode()
    _upload(at, "est.csv", data)
    assert not at.exception, at.exception
    assert not any(s.value.startswith("Importguide") for s in at.subheader)
    assert _metrics(at)["Nya rader"] == "1"
