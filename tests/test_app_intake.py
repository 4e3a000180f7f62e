"""AppTest of the upload page for issue 11's intake cases: hostile or broken workbooks give
a Swedish message (never a traceback or a server path); JSON and .xls are accepted."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hjo_data.audit import read_audit
from hjo_data.auth import hash_password
from hjo_data.store import Store
from tests.test_formats import HOSTILE_REASONS, ROWS
from tests.workbooks import hostile_xlsx, xls_bytes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def users() -> dict:
    return {"anna": {"role": "redaktor", "password_hash": hash_password("anna-pw", n=2**10)}}


def _app(users: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "datahantering.py"), default_timeout=30)
    at.secrets["auth"] = {"users": users}
    now = time.time()
    at.session_state["hjo_auth"] = {"name": "anna", "role": "redaktor", "method": "password",
                                    "email": None, "last_seen": now, "login_at": now}
    at.run()
    return at


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error,
             *at.exception]
    return "\n".join(str(getattr(p, "value", p)) for p in parts)


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "application/octet-stream"))
    return at.run()


@pytest.mark.parametrize("case", list(HOSTILE_REASONS))
def test_hostile_workbook_upload_shows_a_swedish_message(case: str, users: dict,
                                                          isolated_store: Path) -> None:
    at = _upload(_app(users), "arbetsbok.xlsx", hostile_xlsx(ROWS)[case])
    assert not at.exception, at.exception
    errors = [e.value.replace("\\", "") for e in at.error]  # Markdown-escaped
    assert len(errors) == 1 and HOSTILE_REASONS[case] in errors[0]
    text = _texts(at)
    for leak in ("Traceback", "File \"", "/work/", str(ROOT), "site-packages", "Error:"):
        assert leak not in text
    assert not [b for b in at.button if b.key == "hjo_dh_save"]
    assert Store(isolated_store).read("incidents").empty


def test_unexpected_reader_failure_is_a_plain_swedish_message(
        users: dict, isolated_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even an unforeseen exception in reading shows no traceback on the page."""
    import hjo_data.ingest as ingest_mod  # patched where the page calls it

    def boom(*_a, **_k):
        raise RuntimeError(f"{ROOT}/hjo_data/secret.py exploded")

    monkeypatch.setattr(ingest_mod.reading, "read_bytes", boom)
    at = _upload(_app(users), "est.csv", b"Datum;Kategori\n2024-05-01;klotter\n")
    assert not at.exception, at.exception
    assert "oväntat fel" in at.error[0].value
    assert str(ROOT) not in _texts(at) and "exploded" not in _texts(at)


def _recent(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def test_json_and_xls_uploads_are_checked_and_saved(users: dict, isolated_store: Path) -> None:
    records = [{"Händelse-id": f"J{i}", "Tidpunkt": _recent(i + 1), "Kategori": "klotter",
                "Område": "Hamnen", "Rapportör": "polis"} for i in range(3)]
    at = _upload(_app(users), "est.json", json.dumps({"data": records}).encode())
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Lästa rader"], metrics["Nya rader"], metrics["Avvisade"]) == ("3", "3", "0")
    at.button(key="hjo_dh_save").click()
    at.run()
    assert not at.exception, at.exception
    assert sorted(Store(isolated_store).read("incidents")["incident_id"]) == ["J0", "J1", "J2"]

    rows = [ROWS[0], ["X1", _recent(2), "brand", "Hamnen", "kommun", "text"]]
    at = _upload(_app(users), "gammal.xls", xls_bytes({"EST": rows}))
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Lästa rader"], metrics["Nya rader"]) == ("1", "1")


def test_conflict_is_shown_and_replaced_only_when_chosen(users: dict,
                                                         isolated_store: Path) -> None:
    header = ";".join(ROWS[0])
    first = f"{header}\nK1;{_recent(3)};klotter;Hamnen;polis;Första\n".encode()
    second = f"{header}\nK1;{_recent(3)};klotter;Hamnen;polis;Rättad\n".encode()
    at = _upload(_app(users), "v1.csv", first)
    at.button(key="hjo_dh_save").click()
    at.run()
    at = _upload(_app(users), "v2.csv", second)
    assert not at.exception, at.exception
    conflicts = next(d.value for d in at.dataframe if "orsak" in d.value.columns
                     and d.value["orsak"].str.startswith("Konflikt").any())
    assert conflicts["rad"].tolist() == [2] and conflicts["värde"].tolist() == ["K1"]
    assert "Beskrivning" in conflicts["orsak"].iloc[0]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Nya rader"], metrics["Dubbletter"]) == ("0", "0")
    at.checkbox(key="hjo_dh_replace").check()
    at.run()
    at.button(key="hjo_dh_save").click()
    at.run()
    assert not at.exception, at.exception
    store = Store(isolated_store)
    assert store.read("incidents")["description"].tolist() == ["Rättad"]
    audit = read_audit()
    assert audit["action"].tolist() == ["upload", "upload", "replace"]
    assert audit.iloc[-1]["counts"] == {"replaced": 1}
