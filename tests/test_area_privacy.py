"""Areas as a vocabulary (issue 11): aliases resolve to the canonical area; an area not in
areas.csv is kept (officials see it) but never public: every public surface shows
"Okänt område". Personnummer are masked in every text column. No user value is rendered
as HTML or a link (plotly labels escaped, Markdown never carries the raw value)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from hjo_data import cli, figures, reference
from hjo_data.ingest import ingest_file
from hjo_data.store import Store
from tests.test_public_leaks import find_planted, public_pages, render, rendered_texts

ADDRESS = "Storgatan 12 LEAKAREA"
PNR = "19811224-1234"
HTML_AREA = "<b>AREAHTML</b>"
LINK_AREA = "[klicka](http://evil.example)"
PLANTED = (ADDRESS, "LEAKAREA", PNR, "811224-1234", "AREAHTML", "evil.example")
HEADER = "Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Beskrivning"


def _incidents(today: date) -> str:
    areas = ["Hamnen", "Hjo centrum", ADDRESS, f"Hos {PNR}", HTML_AREA, LINK_AREA]
    lines = [HEADER]
    for i in range(60):
        when = today - timedelta(days=1 + i)
        lines.append(f"a{i};{when:%Y-%m-%d} 12:00;klotter;{areas[i % len(areas)]};kommun;x")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def area_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("areas")
    store = Store(base / "store")
    path = base / "incidents.csv"
    path.write_text(_incidents(date.today()), encoding="utf-8")
    report = ingest_file(path, store=store)
    assert report.accepted == 60, report.message
    stored = store.read("incidents")
    # kept, as written (the personnummer masked even in Område)
    assert (stored["area"] == ADDRESS).sum() == 10
    assert (stored["area"] == "Hos [personnummer]").sum() == 10
    assert not stored["area"].str.contains(PNR).any()
    return base / "store"


@pytest.fixture
def use_area_store(area_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HJO_DATA_DIR", str(area_store))
    monkeypatch.delenv("HJO_MODE", raising=False)
    monkeypatch.delenv("HJO_DEV_ROLE", raising=False)
    return area_store


@pytest.mark.parametrize("page", public_pages())
def test_no_public_page_shows_an_unknown_area(page: str, use_area_store: Path) -> None:
    query = {"presentation": "1", "interval": "0"} if page == "presentation" else None
    texts = rendered_texts(render(page, query=query))
    assert not find_planted(texts, PLANTED)


def test_public_area_filter_offers_okant_omrade(use_area_store: Path) -> None:
    at = render("handelser")
    options = [o for w in at.multiselect if w.label == "Område" for o in w.options]
    assert "Okänt område" in options and "Hamnen" in options
    assert not [o for o in options if "LEAKAREA" in o or "AREAHTML" in o]


def test_officials_see_the_raw_area_escaped_in_charts(use_area_store: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HJO_MODE", "official")
    at = render("handelser")
    texts = rendered_texts(at)
    assert find_planted(texts, (ADDRESS,))          # the collector can find it
    options = [o for w in at.multiselect if w.label == "Område" for o in w.options]
    assert ADDRESS in options and "Okänt område" not in options
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec or ""
        assert "<b>AREAHTML" not in spec and "<a " not in spec
    # Markdown elements never carry the raw link or bold markup of a value
    for element in [*at.markdown, *at.caption, *at.subheader, *at.header, *at.title]:
        assert LINK_AREA not in element.value and HTML_AREA not in element.value


def test_public_report_and_exports_hide_unknown_areas(area_store: Path, tmp_path: Path) -> None:
    month = (date.today() - timedelta(days=1)).strftime("%Y-%m")
    out = tmp_path / "rapport.html"
    assert cli.main(["report", "--period", month, "--out", str(out), "--store",
                     str(area_store)]) == 0
    html = out.read_text(encoding="utf-8")
    assert not [p for p in PLANTED if p in html]
    csv_out = tmp_path / "per_omrade.csv"
    assert cli.main(["export", "incidents", "--out", str(csv_out), "--by", "area",
                     "--store", str(area_store)]) == 0
    text = csv_out.read_text(encoding="utf-8-sig")
    assert "Okänt område" in text and not [p for p in PLANTED if p in text]
    official = tmp_path / "alla.csv"
    assert cli.main(["export", "incidents", "--out", str(official), "--audience", "official",
                     "--store", str(area_store)]) == 0
    assert ADDRESS in official.read_text(encoding="utf-8-sig")


def test_aliases_resolve_case_and_punctuation_insensitively(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    ref = tmp_path / "ref"
    shutil.copytree(reference.DEFAULT_REFERENCE_DIR, ref)
    areas = pd.read_csv(ref / "areas.csv", dtype=str, keep_default_na=False)
    areas["aliases"] = ["Centrum|Hjo C" if n == "Hjo centrum" else "" for n in areas["name"]]
    areas.to_csv(ref / "areas.csv", index=False)
    monkeypatch.setenv("HJO_REFERENCE_DIR", str(ref))
    vocab = reference.area_vocabulary()
    assert vocab.resolve("hjo-c.") == "Hjo centrum" and vocab.resolve("HAMNEN") == "Hamnen"
    assert vocab.resolve("Storgatan 1") is None
    rows = [f"E{i};2024-05-0{i} 10:00;klotter;{a};polis;x"
            for i, a in enumerate(["centrum", "Hjo  C", "hamnen", "Okänd gata 3"], start=1)]
    store = Store(tmp_path / "s")
    report = ingest_file(("\n".join([HEADER, *rows]) + "\n").encode(), name="a.csv",
                         store=store, today=date(2024, 6, 1))
    assert report.accepted == 4
    stored = store.read("incidents").set_index("incident_id")["area"].to_dict()
    assert stored == {"E1": "Hjo centrum", "E2": "Hjo centrum", "E3": "Hamnen",
                      "E4": "Okänd gata 3"}


def test_masking_covers_every_text_column_and_raw_values(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    rows = [f"E1;2024-05-01 10:00;anmälan {PNR};Hamnen;{PNR} själv;x",     # category, source
            f"{PNR};2024-05-02 10:00;klotter;Hamnen;polis;x",               # the id column
            f"E3;inte ett datum;klotter;Hamnen {PNR};polis;x"]              # rejected row
    report = ingest_file(("\n".join([HEADER, *rows]) + "\n").encode(), name="a.csv",
                         store=store, today=date(2024, 6, 1))
    assert (report.accepted, report.rejected) == (2, 1)
    stored = store.read("incidents")
    assert stored["category_raw"].tolist()[0] == "anmälan [personnummer]"
    assert stored["source_raw"].tolist()[0] == "[personnummer] själv"
    assert "[personnummer]" in stored["incident_id"].tolist()
    for text in (stored.to_csv(), Path(report.rejected_file).read_text("utf-8-sig"),
                 store.log_path.read_text("utf-8"), json.dumps(report.to_dict())):
        assert PNR not in text and "811224-1234" not in text


def test_plotly_labels_never_render_user_markup() -> None:
    frame = pd.DataFrame({"Område": [HTML_AREA, '<a href="http://evil">x</a>', "a & b"],
                          "Antal": [3, 2, 1]})
    fig = figures.bar_chart(frame, x="Område", y="Antal", title="t", x_title="", y_title="")
    spec = str(fig.to_dict()["data"])
    assert "<b>AREAHTML" not in spec and "<a href" not in spec
    assert "&lt;b>AREAHTML&lt;/b>" in spec and "a & b" in spec
