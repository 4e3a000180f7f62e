"""Register by form: each form -> a validated row through the same path as files; bad
input -> Swedish errors naming the field; the same rules as an uploaded file."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from hjo_data.forms import (
    Finding,
    SafetyWalk,
    activity_row,
    commit_form,
    field_errors,
    incident_row,
    prepare_form,
    row_csv_bytes,
    safety_walk_errors,
    safety_walk_row,
)
from hjo_data.ingest import prepare_ingest
from hjo_data.schema import ACTIVITIES, INCIDENTS
from hjo_data.store import Store

TODAY = date(2024, 6, 1)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def _walk(**kw: object) -> SafetyWalk:
    base = dict(
        date=date(2024, 5, 2), area="Hjo centrum",
        participants={"Polisen": 2, "Hjo kommun": "4", "Näringsliv": 0},
        findings=[Finding("Trasig belysning", "Byt armatur", "klar"),
                  Finding("Klotter på skolan", "", "ej påbörjad"),
                  Finding("Skymmande buskage", "Beskär", "pågår"),
                  Finding("", "", "ej påbörjad")],  # an empty editor row: ignored
    )
    base.update(kw)
    return SafetyWalk(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- safety walk


def test_safety_walk_maps_onto_activities(store: Store) -> None:
    walk = _walk()
    assert safety_walk_errors(walk) == []
    sub = prepare_form("trygghetsvandring", safety_walk_row(walk), store=store, today=TODAY)
    assert sub.ok and sub.errors == [] and sub.prepared.new_rows == 1
    report = commit_form(sub, store, user="anna")
    assert (report.accepted, report.rejected, report.user) == (1, 0, "anna")
    row = store.read("activities").iloc[0]
    # By hand: 2 + 4 + 0 participants; three real findings, two with an action, one done.
    assert row["activity_type"] == "trygghetsvandring"
    assert (row["participants"], row["findings"]) == (6, 3)
    assert (row["actions_decided"], row["actions_done"]) == (2, 1)
    assert row["organisers"] == "Polisen;Hjo kommun"  # 0 participants: not an organiser
    assert str(row["date"].date()) == "2024-05-02" and row["area"] == "Hjo centrum"
    for text in ("Polisen 2", "Hjo kommun 4", "1) Trasig belysning – åtgärd: Byt armatur (klar)",
                 "2) Klotter på skolan – ingen åtgärd beslutad (ej påbörjad)",
                 "3) Skymmande buskage – åtgärd: Beskär (pågår)"):
        assert text in row["notes"]
    assert row["batch_id"] == report.batch_id
    assert store.ingest_log()["file"].tolist() == ["formulär_trygghetsvandring.csv"]


def test_walk_participants_as_pairs_and_duplicate_names() -> None:
    walk = _walk(participants=[("Polisen", 1), ("Polisen", 2.0), (None, None)])
    row = safety_walk_row(walk)
    assert row["Deltagare"] == "3" and row["Arrangörer"] == "Polisen"


@pytest.mark.parametrize(("walk_kw", "expected"), [
    ({"findings": [Finding("Trasig lampa", "", "klar")]},
     "Iakttagelse 1: status 'klar' men ingen åtgärd angiven."),
    ({"findings": [Finding("A", "x", "klar"), Finding("", "Städa", "pågår")]},
     "Iakttagelse 2: beskrivningen saknas."),
    ({"findings": [Finding("A", "x", "färdig")]},
     "Iakttagelse 1: okänd status 'färdig' (tillåtna: ej påbörjad, pågår, klar)."),
    ({"participants": [("Polisen", 2), ("", 3)]}, "Deltagare, rad 2: organisationen saknas."),
    ({"participants": {"Polisen": "två"}},
     "Deltagare, rad 1: antalet deltagare 'två' är inte ett heltal 0 eller större."),
    ({"participants": {"Polisen": -1}},
     "Deltagare, rad 1: antalet deltagare '-1' är inte ett heltal 0 eller större."),
])
def test_walk_structure_errors_name_the_field(walk_kw: dict, expected: str, store: Store
                                              ) -> None:
    walk = _walk(**walk_kw)
    errors = safety_walk_errors(walk)
    assert errors == [expected]
    sub = prepare_form("trygghetsvandring", safety_walk_row(walk), store=store, today=TODAY,
                       extra_errors=errors)
    assert not sub.ok and sub.errors[0] == expected
    with pytest.raises(ValueError):
        commit_form(sub, store)
    assert store.read("activities").empty and not store.log_path.exists()


def test_walk_row_errors_from_shared_validation(store: Store) -> None:
    walk = _walk(date="2024-06-30", area="  ")
    sub = prepare_form("trygghetsvandring", safety_walk_row(walk), store=store, today=TODAY,
                       extra_errors=safety_walk_errors(walk))
    # The walk's own rule (area required) first, then the shared validation's.
    assert sub.errors == ["Område: ange var trygghetsvandringen gjordes.",
                          "Datum: Datum i framtiden ('2024-06-30') i kolumnen 'Datum'."]
    assert not sub.ok


# --------------------------------------------------------------------------- activity


def test_activity_form_row(store: Store) -> None:
    row = activity_row(activity_date=date(2024, 4, 3), activity_type="EST-möte",
                       organisers="Polisen; Hjo kommun", participants=7, findings=2,
                       actions_decided=2, actions_done=1, notes="Genomgång av veckan")
    assert row["Datum"] == "2024-04-03" and row["Deltagare"] == "7"
    sub = prepare_form("aktivitet", row, store=store, today=TODAY)
    assert sub.ok
    commit_form(sub, store, user="anna")
    stored = store.read("activities").iloc[0]
    assert (stored["activity_type"], stored["participants"], stored["actions_done"]) == (
        "EST-möte", 7, 1)
    assert stored["area"] == "Hela kommunen"  # the schema default for an empty area


def test_activity_errors_name_each_field(store: Store) -> None:
    row = activity_row(activity_date="2024-02-30", activity_type="fest", participants="-3",
                       findings="många")
    sub = prepare_form("aktivitet", row, store=store, today=TODAY)
    fields = [e.split(":")[0] for e in sub.errors]
    assert fields == ["Datum", "Aktivitet", "Deltagare", "Iakttagelser"]
    assert "Ogiltigt datum '2024-02-30'" in sub.errors[0]
    assert "Okänt värde 'fest'" in sub.errors[1]
    assert "mindre än 0" in sub.errors[2]
    assert "Ogiltigt tal 'många'" in sub.errors[3]
    assert not sub.ok


# --------------------------------------------------------------------------- incident


def test_incident_form_masks_and_keeps_html_as_text(store: Store) -> None:
    row = incident_row(occurred_at=date(2024, 5, 1), at_time=time(14, 30), category="klotter",
                       area="Hamnen", source="kommun",
                       description="<script>alert(1)</script>; ring 19850101-1234 \"nu\"")
    assert row["Tidpunkt"] == "2024-05-01 14:30"
    sub = prepare_form("handelse", row, store=store, today=TODAY)
    assert sub.ok
    commit_form(sub, store, user="anna")
    stored = store.read("incidents").iloc[0]
    assert stored["description"].startswith("<script>alert(1)</script>; ring ")
    assert "19850101-1234" not in stored["description"]
    assert stored["description"].endswith('"nu"')
    assert bool(stored["occurred_at_has_time"])


def test_incident_errors(store: Store) -> None:
    row = incident_row(occurred_at="igår", category="klotter", area="", source="polis")
    sub = prepare_form("handelse", row, store=store, today=TODAY)
    assert [e.split(":")[0] for e in sub.errors] == ["Tidpunkt", "Område"]
    assert sub.errors[1] == "Område: Kolumnen 'Område' är tom."


def test_same_record_twice_is_a_duplicate(store: Store) -> None:
    row = incident_row(occurred_at="2024-05-01", category="brand", area="Hamnen",
                       source="polis")
    commit_form(prepare_form("handelse", row, store=store, today=TODAY), store)
    again = prepare_form("handelse", row, store=store, today=TODAY)
    assert again.ok and again.duplicate


def test_form_row_can_be_withdrawn(store: Store) -> None:
    row = incident_row(occurred_at="2024-05-01", category="brand", area="Hamnen",
                       source="polis")
    report = commit_form(prepare_form("handelse", row, store=store, today=TODAY), store)
    assert len(store.read("incidents")) == 1
    store.withdraw(report.batch_id)
    assert store.read("incidents").empty


# --------------------------------------------------------------------------- same rules


ROWS = [
    incident_row(occurred_at="2024-05-01 10:00", category="klotter", area="Hamnen",
                 source="polis"),
    incident_row(occurred_at="1999-12-31", category="klotter", area="Hamnen", source="polis"),
    incident_row(occurred_at="2024-05-01", category="klotter", area="", source="polis"),
    incident_row(occurred_at="2024-05-01", category="okänd sak", area="X", source="polis"),
    incident_row(occurred_at="2024-05-01", category="brand", area="X" * 10_001,
                 source="polis"),
]


@pytest.mark.parametrize("row", ROWS, ids=range(len(ROWS)))
def test_same_rules_as_an_uploaded_file(row: dict, store: Store, tmp_path: Path) -> None:
    # The same row written as a file by hand (comma-separated, unquoted where possible)
    # and uploaded the ordinary way.
    path = tmp_path / "hand.csv"
    lines = [",".join(row), ",".join(f'"{v}"' if "," in v else v for v in row.values())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    as_file = prepare_ingest(path, dataset=INCIDENTS, store=store, today=TODAY)
    sub = prepare_form("handelse", row, store=store, today=TODAY)
    assert sub.ok == (as_file.rejected == 0)
    if as_file.rejected:
        reason = as_file.rejected_rows()["orsak"].iloc[0]
        assert any(reason.rstrip(".") in e for e in sub.errors)
    else:
        pd_cols = [c for c in as_file.validated.accepted.columns if c != "_line"]
        assert as_file.validated.accepted[pd_cols].equals(
            sub.prepared.validated.accepted[pd_cols])
    assert as_file.warnings == sub.prepared.warnings


def test_row_csv_bytes_round_trip_with_separators_and_newlines(store: Store) -> None:
    notes = 'Rad 1; "citat"\nRad 2,\r\nslut'
    row = activity_row(activity_date="2024-05-01", activity_type="EST-möte", notes=notes)
    data = row_csv_bytes(row)
    sub = prepare_form("aktivitet", row, store=store, today=TODAY)
    assert sub.ok and data.count(b"\r\n") >= 2
    assert sub.prepared.validated.accepted["notes"].iloc[0] == notes.replace("\r\n", "\n")


def test_field_errors_checks_lat_lon_together() -> None:
    row = {c.label: "" for c in INCIDENTS.columns}
    row.update({"Tidpunkt": "2024-05-01", "Kategori": "brand", "Område": "X",
                "Rapportör": "polis", "Latitud": "58.3", "Longitud": "14.3"})
    assert field_errors(INCIDENTS, row, today=TODAY) == []
    row["Longitud"] = ""
    assert [e.split(":")[0] for e in field_errors(INCIDENTS, row, today=TODAY)] == [
        "Longitud"]
    assert field_errors(ACTIVITIES, {}, today=TODAY) == []


def test_unknown_form_kind() -> None:
    with pytest.raises(ValueError):
        prepare_form("okänd", {})


def test_field_errors_one_per_failing_field_in_one_row() -> None:
    # date, area and latitude wrong in the same form: every field gets its own error
    row = {c.label: "" for c in INCIDENTS.columns}
    row.update({"Tidpunkt": "igår", "Kategori": "brand", "Område": "", "Rapportör": "polis",
                "Latitud": "x", "Longitud": "14.3"})
    errors = field_errors(INCIDENTS, row, today=TODAY)
    assert [e.split(":")[0] for e in errors] == ["Tidpunkt", "Område", "Latitud"]
