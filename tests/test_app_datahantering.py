"""AppTest of the Datahantering page: roles, upload with validation report, save, HTML as
text, size limit, form registration, undo, freshness, audit entries."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hjo_data.audit import read_audit
from hjo_data.auth import hash_password
from hjo_data.ingest import ingest_file
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent
ROLES = {"anna": "redaktor", "tove": "tjansteperson", "adam": "admin"}
HEADER = "Datum;Kategori;Område;Rapportör;Beskrivning"


@pytest.fixture(scope="module")
def users() -> dict:
    return {n: {"role": r, "password_hash": hash_password(f"{n}-pw", n=2**10)}
            for n, r in ROLES.items()}


def _app(users: dict, who: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "datahantering.py"), default_timeout=30)
    at.secrets["auth"] = {"users": users}
    if who:
        now = time.time()
        at.session_state["hjo_auth"] = {"name": who, "role": ROLES[who], "method": "password",
                                        "email": None, "last_seen": now, "login_at": now}
    return at


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error]
    return "\n".join(str(p.value) for p in parts)


def _days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    """The first st.dataframe with ``column`` (AppTest does not expose their keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


# --------------------------------------------------------------------------- roles


def test_public_cannot_see_the_page(users: dict) -> None:
    at = _app(users, None)
    at.run()
    assert not at.exception, at.exception
    assert at.warning[0].value == "Logga in som redaktör för att se den här sidan."
    assert not at.file_uploader and not at.tabs and not at.dataframe


def test_official_lacks_permission(users: dict) -> None:
    at = _app(users, "tove")
    at.run()
    assert not at.exception, at.exception
    assert at.warning[0].value == "Logga in som redaktör för att se den här sidan."
    assert "som inte räcker" in _texts(at)
    assert not at.file_uploader and not at.tabs


def test_admin_may_use_the_page(users: dict) -> None:
    at = _app(users, "adam")
    at.run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Ladda upp fil", "Registrera i formulär",
                                          "Inläsningar och ångra", "Aktualitet"]
    assert at.file_uploader[0].allowed_type == [".csv", ".txt", ".xlsx", ".xls", ".json",
                                                ".jsonl"]  # .xls, JSON: issue 11


# --------------------------------------------------------------------------- upload


def _est_file() -> tuple[bytes, list[int]]:
    """Five data rows; lines 3 and 5 (1-based, header = line 1) are bad."""
    rows = [
        f"{_days_ago(3)} 21:30;klotter;Hamnen;polis;Tag på vägg",
        "2024-13-45;klotter;Hamnen;polis;fel datum",
        f"{_days_ago(4)};brand;Hjo centrum;kommun;Container",
        f"{_days_ago(5)};skadegörelse;;kommun;område saknas",
        f"{_days_ago(6)};nedskräpning;Stadsparken;allmänhet;<b>fet</b>",
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode(), [3, 5]


def test_redaktor_uploads_checks_and_saves(users: dict, isolated_store: Path) -> None:
    data, bad_lines = _est_file()
    at = _app(users, "anna")
    at.run()
    _upload(at, "est.csv", data)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Lästa rader": "5", "Nya rader": "3", "Avvisade": "2",
                       "Dubbletter": "0"}
    headers = _frame(at, "Tolkas som")
    assert headers["Tolkas som"].tolist() == ["Tidpunkt", "Kategori", "Område", "Rapportör",
                                               "Beskrivning"]
    rejected = _frame(at, "orsak")
    assert rejected["rad"].tolist() == bad_lines
    # The file calls the time column "Datum": the report names it so (and how it was read).
    assert rejected["kolumn"].tolist() == ["Datum (Tidpunkt)", "Område"]
    assert "Ogiltigt datum '2024-13-45'" in rejected["orsak"].iloc[0]
    assert Store(isolated_store).read("incidents").empty  # nothing stored before "Spara"
    at.button(key="hjo_dh_save").click()
    at.run()
    assert not at.exception, at.exception
    assert "3 sparade, 2 avvisade, 0 dubbletter" in at.success[0].value.replace("\\", "")
    stored = Store(isolated_store).read("incidents")
    assert sorted(stored["area"]) == ["Hamnen", "Hjo centrum", "Stadsparken"]
    log = read_audit()
    assert log["action"].tolist() == ["upload"]
    assert (log.loc[0, "user"], log.loc[0, "role"], log.loc[0, "dataset"]) == (
        "anna", "redaktor", "incidents")
    assert log.loc[0, "counts"] == {"rows_read": 5, "accepted": 3, "rejected": 2,
                                    "duplicates": 0}
    assert Store(isolated_store).ingest_log()["user"].tolist() == ["anna"]
    # The uploader is reset and the quarantine file is offered for correction.
    assert at.file_uploader[0].value is None
    assert any(b.label.startswith("Ladda ner avvisade rader") for b in at.get("download_button"))


def test_kolada_response_uploads_as_statistik_with_skipped_values(
        users: dict, isolated_store: Path) -> None:
    page = {"values": [
        {"kpi": "N07403", "municipality": "1497", "period": 2023, "values": [
            {"gender": "T", "value": 498.1, "count": 1, "status": ""},
            {"gender": "K", "value": None, "count": 0, "status": "Missing"}]},
        {"kpi": "N07403", "municipality": "0014", "period": "2023", "values": [
            {"gender": "T", "value": 1002.7, "count": 49, "status": ""}]}],
        "count": 2, "next_page": None}
    at = _app(users, "anna")
    at.run()
    _upload(at, "kolada.json", json.dumps(page).encode())
    assert not at.exception, at.exception
    assert "Officiell statistik" in _texts(at)
    assert "Kolada API-svar (JSON)" in _texts(at).replace("\\", "")  # format named
    metrics = {m.label: m.value for m in at.metric}
    # 3 values: 2 new rows, the null one skipped ("ej publicerad"), never stored as 0
    assert metrics == {"Lästa rader": "3", "Nya rader": "2", "Avvisade": "0",
                       "Dubbletter": "0"}
    assert "1 överhoppad (1 ej publicerad)" in at.info[0].value.replace("\\", "")
    at.button(key="hjo_dh_save").click()
    at.run()
    assert not at.exception, at.exception
    stored = Store(isolated_store).read("statistik")
    assert sorted(stored["value"]) == [498.1, 1002.7]


def test_html_in_values_is_shown_as_text(users: dict) -> None:
    evil = "<script>alert('x')</script>"
    img = '<img src=x onerror="alert(1)">'
    data = (f"{HEADER}\n{evil};klotter;Hamnen;polis;text\n"
            f"{_days_ago(1)};klotter;;polis;{img}\n").encode()
    at = _app(users, "anna")
    at.run()
    _upload(at, "<b>fil</b>.csv", data)
    assert not at.exception, at.exception
    rejected = _frame(at, "orsak")
    assert rejected["värde"].iloc[0] == evil  # verbatim text in a data grid
    assert evil in rejected["orsak"].iloc[0]
    # Markdown elements never carry unescaped tags (file name, messages).
    for element in [*at.markdown, *at.caption, *at.warning, *at.error, *at.success]:
        assert "<script" not in element.value and "<b>" not in element.value
        assert "<img" not in element.value


def test_file_over_the_limit_is_refused(users: dict, isolated_store: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HJO_MAX_UPLOAD_MB", "0.001")  # about 1 kB
    data, _ = _est_file()
    data = data + b"".join(f"{_days_ago(2)};klotter;Hamnen;polis;x\n".encode()
                           for _ in range(40))
    assert len(data) > 1100
    at = _app(users, "anna")
    at.run()
    _upload(at, "stor.csv", data)
    assert not at.exception
    assert "Filen är för stor" in at.error[0].value
    assert not [b for b in at.button if b.key == "hjo_dh_save"]
    assert Store(isolated_store).read("incidents").empty


def test_wrong_file_gives_swedish_error(users: dict) -> None:
    at = _app(users, "anna")
    at.run()
    _upload(at, "tom.csv", HEADER.encode() + b"\n")
    assert not at.exception
    assert "bara en rubrikrad" in at.error[0].value


# --------------------------------------------------------------------------- forms


def test_register_incident_by_form(users: dict, isolated_store: Path) -> None:
    at = _app(users, "anna")
    at.run()
    at.radio(key="hjo_dh_form_kind").set_value("handelse").run()
    at.selectbox(key="hjo_dh_inc_cat").set_value("brand")
    at.selectbox(key="hjo_dh_inc_area").set_value("Hamnen")
    at.text_area(key="hjo_dh_inc_desc").input("Brand i papperskorg")
    next(b for b in at.button if b.label == "Registrera händelsen").click()
    at.run()
    assert not at.exception, at.exception
    assert "Enskild händelse sparad" in at.success[0].value
    stored = Store(isolated_store).read("incidents")
    assert stored[["category", "area", "description"]].values.tolist() == [
        ["brand", "Hamnen", "Brand i papperskorg"]]
    assert stored["occurred_at"].iloc[0].date() == date.today()
    log = read_audit()
    assert log["action"].tolist() == ["register"]
    assert log.loc[0, "counts"]["accepted"] == 1


def test_form_error_names_the_field(users: dict, isolated_store: Path) -> None:
    at = _app(users, "anna")
    at.run()
    at.radio(key="hjo_dh_form_kind").set_value("handelse").run()
    next(b for b in at.button if b.label == "Registrera händelsen").click()
    at.run()  # no area chosen
    assert not at.exception
    assert "Område: Kolumnen 'Område' är tom" in at.error[0].value.replace("\\", "")
    assert Store(isolated_store).read("incidents").empty
    assert read_audit().empty


# --------------------------------------------------------------------------- undo


def _est(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_undo_via_the_page_restores_the_store(users: dict, isolated_store: Path) -> None:
    store = Store(isolated_store)
    ingest_file(_est(f"{_days_ago(9)};klotter;Hamnen;polis;a",
                     f"{_days_ago(8)};brand;Hamnen;polis;b"), name="forsta.csv", store=store)
    before = store.read("incidents").sort_values("record_id").reset_index(drop=True)
    second = ingest_file(_est(f"{_days_ago(2)};klotter;Guldkroken;skola;c",
                              f"{_days_ago(8)};brand;Hamnen;polis;b"),  # a duplicate
                         name="andra.csv", store=store, user="anna")
    assert len(store.read("incidents")) == 3
    at = _app(users, "anna")
    at.run()
    table = _frame(at, "Batch")
    assert table["Fil"].tolist() == ["andra.csv", "forsta.csv"]  # newest first
    assert table["Status"].tolist() == ["aktiv", "aktiv"]
    assert at.selectbox(key="hjo_dh_batch").value == second.batch_id
    at.button(key="hjo_dh_undo").click()
    at.run()
    assert "Vill du ta bort" in at.warning[0].value
    assert len(store.read("incidents")) == 3  # nothing happens before the confirmation
    at.button(key="hjo_dh_undo_yes").click()
    at.run()
    assert not at.exception, at.exception
    after = store.read("incidents").sort_values("record_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)
    assert "1 rad togs bort" in at.success[0].value.replace("\\", "")
    assert _frame(at, "Batch")["Status"].iloc[0].startswith("återkallad")
    log = read_audit()
    assert log["action"].tolist() == ["withdraw"]
    assert (log.loc[0, "batch_id"], log.loc[0, "counts"]) == (second.batch_id,
                                                                {"removed": 1, "kept": 0})


def test_undo_can_be_cancelled(users: dict, isolated_store: Path) -> None:
    store = Store(isolated_store)
    ingest_file(_est(f"{_days_ago(9)};klotter;Hamnen;polis;a"), name="a.csv", store=store)
    at = _app(users, "anna")
    at.run()
    at.button(key="hjo_dh_undo").click()
    at.run()
    at.button(key="hjo_dh_undo_no").click()
    at.run()
    assert len(store.read("incidents")) == 1 and read_audit().empty
    assert [b for b in at.button if b.key == "hjo_dh_undo"]


# --------------------------------------------------------------------------- freshness


def test_freshness_tab_warns_for_old_data(users: dict, isolated_store: Path) -> None:
    store = Store(isolated_store)
    ingest_file(_est(f"{_days_ago(30)};klotter;Hamnen;polis;a"), name="gammal.csv",
                store=store)
    at = _app(users, "anna")
    at.run()
    table = _frame(at, "Data t.o.m.")
    row = table[table["Datamängd"] == "Händelser (EST)"].iloc[0]
    assert (row["Data t.o.m."], row["Ålder (dagar)"], row["Status"]) == (
        _days_ago(30), 30, "För gammal")
    assert "äldre än väntat" in _texts(at).replace("\\", "")
