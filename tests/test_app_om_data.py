"""AppTest of pages/om_data.py: freshness, ingest log per audience, definitions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hjo_data import promise
from hjo_data.schema import DATASETS

CSV = ("datum;kategori;område;källa\n"
       "2024-05-02 10:00;klotter;Hamnen;kommun\n"
       "2024-05-03 11:00;brand;Hjo centrum;polis\n"
       "2024-05-20 12:00;skadegörelse;Hamnen;skola\n")


def _ingest(store_root: Path) -> None:
    from hjo_data.ingest import ingest_file
    from hjo_data.store import Store

    ingest_file(CSV.encode("utf-8"), name="est_maj_hemlig.csv", store=Store(store_root),
                dataset="incidents")


def _frames(at) -> list:
    return [d.value for d in at.dataframe]


def test_renders_on_demo_data(page_app) -> None:
    at = page_app("om_data")
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Om data"]
    assert any("Demodata" in w.value for w in at.warning)
    fresh = _frames(at)[0]
    assert fresh["Datamängd"].tolist() == [d.label for d in DATASETS.values()]
    assert any("Inga filer har lästs in" in i.value for i in at.info)
    methods = "\n".join(m.value for m in at.markdown)
    for phrase in ("Wilson", "Poissontest", "z-test", "<5"):
        assert phrase in methods


def test_freshness_and_public_log_show_counts_not_file_names(page_app, isolated_store
                                                             ) -> None:
    _ingest(isolated_store)
    at = page_app("om_data")
    at.run()
    assert not at.exception
    fresh = _frames(at)[0].set_index("Datamängd")
    row = fresh.loc[DATASETS["incidents"].label]
    # Public mode: 3 rows is a small count -> "<5" (official mode shows 3, below).
    assert (row["Rader"], row["Data t.o.m."]) == ("<5", "2024-05-20")
    assert fresh.loc[DATASETS["traffic"].label, "Status"] == "Ingen data"
    log = _frames(at)[1]
    assert "Fil" not in log.columns
    assert log["Tillagda rader"].tolist() == ["<5"]
    assert "est_maj_hemlig" not in str(at.main)
    assert not any(str(v) == "3" for v in fresh["Rader"])


def test_official_log_shows_file_names(page_app, isolated_store,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HJO_MODE", "official")
    _ingest(isolated_store)
    at = page_app("om_data")
    at.run()
    assert not at.exception
    fresh = _frames(at)[0].set_index("Datamängd")
    assert fresh.loc[DATASETS["incidents"].label, "Rader"] == "3"
    log = _frames(at)[1]
    assert log["Fil"].tolist() == ["est_maj_hemlig.csv"]
    assert log["Sparade"].tolist() == [3]


def test_definitions_list_every_promise_indicator(page_app) -> None:
    from hjo_data.promise import load_promise

    at = page_app("om_data")
    at.run()
    definitions = _frames(at)[-1]
    labels = [i.label for g in load_promise().goals for i in g.indicators]
    assert definitions["Indikator"].tolist() == labels


@pytest.mark.parametrize("suppress_zero", [False, True])
def test_public_counts_honour_suppress_zero(page_app, isolated_store, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            suppress_zero: bool) -> None:
    """The promise's ``suppress_zero`` reaches Om data: a dataset with no rows and a batch
    with no rejected rows read "0", or the small mark when zeros are suppressed."""
    text = promise.DEFAULT_PROMISE_FILE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^suppress_zero = .*\n", "", text)  # set below, whatever it was
    text = re.sub(r"(?m)^\[settings\]$",
                  f"[settings]\nsuppress_zero = {str(suppress_zero).lower()}", text)
    promise_file = tmp_path / "lofte.toml"
    promise_file.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(promise_file))
    assert promise.load_promise_with_fallback().message is None
    _ingest(isolated_store)
    at = page_app("om_data")
    at.run()
    assert not at.exception
    zero = "<5" if suppress_zero else "0"
    fresh = _frames(at)[0].set_index("Datamängd")
    assert fresh.loc[DATASETS["traffic"].label, "Rader"] == zero
    assert fresh.loc[DATASETS["incidents"].label, "Rader"] == "<5"  # 3 rows: small anyway
    log = _frames(at)[1]
    assert log["Avvisade rader"].tolist() == [zero]
