"""Händelser: officials download every incident of the selection (not just the 200 rows on
screen); the file is built only on click and reads back through ingest; never in public mode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from hjo_data import export
from hjo_data.formatting import fmt_int
from hjo_data.ingest import prepare_ingest
from hjo_data.store import Store
from tests.conftest import canonical

LABEL_START = "Ladda ner alla "
FORMULA_ROW = 1501  # Hamnen, June 2024: inside the filtered selection


class _RecordingManager(MediaFileManager):
    """The AppTest runtime's media manager, keeping every deferred download callable by the
    id of its button."""

    callables: dict[str, Callable[[], object]] = {}

    def add_deferred(self, data_callable, *args, element_id: str = "",  # noqa: ANN001, ANN002
                     **kwargs) -> str:  # noqa: ANN003
        _RecordingManager.callables[element_id] = data_callable
        return super().add_deferred(data_callable, *args, element_id=element_id, **kwargs)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], object]]:
    """Deferred download callables registered while the page ran, by button id."""
    import streamlit.testing.v1.app_test as app_test

    _RecordingManager.callables = {}
    monkeypatch.setattr(app_test, "MediaFileManager", _RecordingManager)
    return _RecordingManager.callables


@pytest.fixture
def export_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of export.export_dataset (the page must not build the file on a rerun)."""
    calls: list[int] = []
    real = export.export_dataset

    def counting(frame, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(len(frame))
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(export, "export_dataset", counting)
    return calls


def _rows() -> list[dict]:
    """2 600 incidents over 2024 in two areas; half of them in Hamnen."""
    start = datetime(2024, 1, 1, 6)
    rows = [{"incident_id": f"EST-{i}", "occurred_at": start + timedelta(hours=3 * i + i % 3),
             "category": ("klotter", "skadegörelse", "brand")[i % 3],
             "area": "Hamnen" if i % 2 else "Hjo centrum", "source": "kommun",
             "description": f"Händelse nr {i}"} for i in range(2600)]
    rows[FORMULA_ROW]["description"] = "=HYPERLINK(\"http://x\")"  # a formula-like text in the file
    return rows


def _download_buttons(at) -> list:  # noqa: ANN001
    return [b for b in at.get("download_button") if b.proto.label.startswith(LABEL_START)]


def test_official_download_of_whole_selection(page_app, store_with, monkeypatch,  # noqa: ANN001
                                              deferred, export_calls, tmp_path: Path) -> None:
    rows = _rows()
    store_with(incidents=canonical("incidents", rows))
    monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("handelser")
    at.query_params["omrade"] = "Hamnen"
    at.query_params["fran"] = "2024-02-01"
    at.query_params["till"] = "2024-12-31"
    at.run()
    assert not at.exception, at.exception

    # Independently: the rows of the filtered area and period.
    expected = {r["incident_id"] for r in rows if r["area"] == "Hamnen"
                and datetime(2024, 2, 1) <= r["occurred_at"] < datetime(2025, 1, 1)}
    assert 1000 < len(expected) < len(rows)  # more than the table, fewer than the store
    buttons = _download_buttons(at)
    assert [b.proto.label for b in buttons] == [
        f"Ladda ner alla {fmt_int(len(expected))} händelser i urvalet (CSV)"]
    n = len(expected)  # Swedish digit grouping (no-break space) in the label
    assert f"alla {n // 1000}\xa0{n % 1000:03d} händelser" in buttons[0].proto.label
    # The on-screen table still holds 200 rows.
    assert any(len(f.value) == 200 and "Beskrivning" in f.value.columns for f in at.dataframe)

    # Deferred: the run registered a callable and built no export file.
    assert export_calls == []
    assert buttons[0].proto.deferred_file_id
    data = deferred[buttons[0].proto.id]()
    assert export_calls == [len(expected)]
    assert data.startswith(b"\xef\xbb\xbf")
    # Rows with descriptions left the system: the audit log says how many and which filter.
    from hjo_data.audit import read_entries
    exports = [e for e in read_entries() if e["action"] == "export"]
    assert len(exports) == 1
    assert exports[0]["counts"] == {"rows": len(expected)}
    assert "omrade=Hamnen" in exports[0]["detail"] and exports[0]["dataset"] == "incidents"
    shown = next(b for b in at.get("download_button")
                 if b.proto.label == "Ladda ner CSV (visade rader)")
    assert b"Beskrivning" in deferred[shown.proto.id]()  # the 200 rows, descriptions too
    exports = [e for e in read_entries() if e["action"] == "export"]
    assert [e["counts"]["rows"] for e in exports] == [len(expected), 200]

    # The file reads back through ingest: every selected incident, nothing rejected.
    prepared = prepare_ingest(data, name="urval.csv", store=Store(tmp_path / "other"))
    assert prepared.dataset.name == "incidents"
    assert prepared.validated.rejected.empty
    accepted = prepared.validated.accepted
    assert set(accepted["incident_id"]) == expected and len(accepted) == len(expected)
    assert rows[FORMULA_ROW]["incident_id"] in expected
    # Neutralised in the file (leading apostrophe), so it is text, never a formula.
    assert "'=HYPERLINK(\"http://x\")" in set(accepted["description"])


def test_no_whole_selection_download_in_public_mode(page_app, store_with,  # noqa: ANN001
                                                    deferred, export_calls) -> None:
    store_with(incidents=canonical("incidents", _rows()))
    at = page_app("handelser")
    at.run()
    assert not at.exception, at.exception
    assert at.subheader  # the page itself rendered
    assert _download_buttons(at) == []
    assert not any("urvalet (CSV)" in b.proto.label for b in at.get("download_button"))
    # No callable a client could ask for (the chart downloads hold aggregates only).
    assert deferred and not [i for i in deferred if "est_alla_csv" in i]
    assert export_calls == []
