"""Public mode never leaks free text, personnummer or positions on any page (issue 4).

A store is filled through the real ingest (``hjo_data.ingest.ingest_file``) with small CSVs
carrying planted unique strings: incident descriptions, activity notes, a personnummer inside
a description and exact coordinates. Every page (except the login-guarded data-management
pages) is rendered with AppTest in public mode and everything the page sends to the browser
is searched: every element's proto (values, labels, bodies, markdown, html, plotly JSON,
Arrow bytes of data frames), every shown data frame and every plotly figure.

The same collector finds the notes, the incident descriptions (Händelser's row table) and
the coordinates in official mode (so the test can fail), and the small count (3 reports
from the police) shows as "<5" in public mode and as "3" in official mode.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hjo_data.ingest import ingest_file
from hjo_data.store import Store

ROOT = Path(__file__).resolve().parent.parent
PAGES_DIR = ROOT / "pages"

DESC = "LEAKTEST-DESC-7f3a"
NOTE = "LEAKTEST-NOTE-91c2"
PNR = "19811224-1234"
LAT, LON = "58.3011111", "14.2822222"
#: Coordinate digits: also catches rounded/reformatted forms ("58,30111", 58.301111...).
COORD_DIGITS = ("3011111", "2822222")
PLANTED = (DESC, NOTE, PNR, "811224-1234", "198112241234", *COORD_DIGITS)

#: Pages that need a logged-in role — not rendered here (pages/ holds only page scripts).
NOT_RENDERED = {"admin.py", "datahantering.py"}
#: Police reports in the incident file: a count 1..4 that public mode must show as "<5".
POLICE_REPORTS = 3
INCIDENT_ROWS = 70


def public_pages() -> list[str]:
    """Every page file that renders without login (new pages are picked up automatically)."""
    return sorted(p.stem for p in PAGES_DIR.glob("*.py") if p.name not in NOT_RENDERED)


# --------------------------------------------------------------------------- the store


def _incident_csv(today: date) -> str:
    """~70 incidents over the last ~20 weeks; 3 of them reported by the police."""
    lines = ["Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Latitud;Longitud;Beskrivning"]
    areas = ("Hjo centrum", "Hamnen", "Stadsparken", "Guldkroken")
    cats = ("skadegörelse", "klotter", "nedskräpning", "ordningsstörning")
    for i in range(INCIDENT_ROWS):
        when = today - timedelta(days=2 + 2 * i, hours=-(i % 12) - 8)
        source = "polis" if i in (4, 30, 55) else "kommun"
        desc = f"{DESC} ringde {PNR}" if i % 2 else f"{DESC} vid kiosken"
        lines.append(f"lk{i};{when:%Y-%m-%d %H:%M};{cats[i % 4]};{areas[i % 4]};{source};"
                     f"{LAT};{LON};{desc}")
    return "\n".join(lines) + "\n"


def _activity_csv(today: date) -> str:
    lines = ["Datum;Aktivitet;Område;Arrangörer;Deltagare;Målgrupp;Iakttagelser;"
             "Beslutade åtgärder;Genomförda åtgärder;Anteckningar"]
    kinds = ("trygghetsvandring", "EST-möte", "informationsinsats", "uppsökande arbete")
    for i in range(12):
        day = today - timedelta(days=5 + 11 * i)
        lines.append(f"{day:%Y-%m-%d};{kinds[i % 4]};Hamnen;polis, kommun;{10 + i};alla;"
                     f"3;2;1;{NOTE} nr {i} {PNR}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def leak_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Store filled through the real ingest: planted incidents and activities, plus demo
    survey/youth/traffic files so that every page has data to draw."""
    from hjo_data.demo import write_csvs

    base = tmp_path_factory.mktemp("leaks")
    root = base / "store"
    store = Store(root)
    today = date.today()
    files = {"incidents.csv": _incident_csv(today), "activities.csv": _activity_csv(today)}
    for name, text in files.items():
        path = base / name
        path.write_text(text, encoding="utf-8")
        report = ingest_file(path, store=store)
        assert report.accepted == text.count("\n") - 1, report.message  # all stored
    demo_dir = base / "demo"
    for path in write_csvs(demo_dir, rows=400, seed=7):
        if path.stem in ("survey", "survey_responses", "youth", "traffic"):
            ingest_file(path, store=store)
    stored = store.read("incidents")
    assert stored["description"].str.contains(DESC).all()  # the secrets are in the store
    assert (stored["source"] == "polis").sum() == POLICE_REPORTS
    return root


@pytest.fixture
def use_leak_store(leak_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HJO_DATA_DIR", str(leak_store))
    monkeypatch.delenv("HJO_MODE", raising=False)
    monkeypatch.delenv("HJO_DEV_ROLE", raising=False)
    return leak_store


# --------------------------------------------------------------------------- collecting


def _walk(node: object) -> Iterator[object]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def rendered_texts(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) of everything the page rendered: each node's proto as text (string
    fields, plotly JSON, Arrow bytes), each data frame's cells and each plotly figure."""
    out: list[tuple[str, str]] = []
    roots = [at.main, at.sidebar]
    for root in roots:
        for node in _walk(root):
            kind = type(node).__name__
            proto = getattr(node, "proto", None)
            if proto is not None:
                out.append((f"{kind} proto", str(proto)))
                arrow = getattr(getattr(proto, "data", None), "data", None)
                if isinstance(arrow, bytes):  # Arrow IPC of a data frame: raw UTF-8 strings
                    out.append((f"{kind} arrow", arrow.decode("utf-8", "replace")))
    for i, frame in enumerate(at.dataframe):
        value = frame.value
        if isinstance(value, pd.DataFrame):
            out.append((f"dataframe {i}", value.to_csv(sep=";")))
    for i, chart in enumerate(at.get("plotly_chart")):
        spec = getattr(chart.proto, "spec", "") or ""
        out.append((f"plotly {i}", spec))
        # Plotly >= 6 ships numeric arrays base64-encoded ({"dtype": "f8", "bdata": ...}):
        # decode them, or positions would pass unseen.
        decoded = _decode_typed_arrays(json.loads(spec)) if spec else None
        out.append((f"plotly {i} decoded", json.dumps(decoded, ensure_ascii=False)))
    return out


def _decode_typed_arrays(obj: object) -> object:
    """The figure JSON with every plotly typed array replaced by a plain list."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            raw = base64.b64decode(obj["bdata"])
            return np.frombuffer(raw, dtype=np.dtype(obj["dtype"])).tolist()
        return {k: _decode_typed_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_typed_arrays(v) for v in obj]
    return obj


def _numbers(obj: object) -> Iterator[float]:
    if isinstance(obj, bool):
        return
    if isinstance(obj, int | float):
        yield float(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)


def plotted_positions(at: AppTest) -> list[float]:
    """Numbers in any plotly figure within 1e-5 of the planted latitude or longitude
    (catches float32 or rounded copies that a text search would miss)."""
    targets = (float(LAT), float(LON))
    found = []
    for chart in at.get("plotly_chart"):
        spec = getattr(chart.proto, "spec", "") or ""
        if spec:
            found += [x for x in _numbers(_decode_typed_arrays(json.loads(spec)))
                      if any(abs(x - t) < 1e-5 for t in targets)]
    return found


def find_planted(texts: list[tuple[str, str]], planted: tuple[str, ...] = PLANTED
                 ) -> list[str]:
    hits = []
    for where, text in texts:
        for secret in planted:
            if secret in text or secret.replace(".", ",") in text:
                hits.append(f"{secret!r} in {where}")
    return hits


def render(page: str, *, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES_DIR / f"{page}.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --------------------------------------------------------------------------- tests


def test_every_public_page_is_covered() -> None:
    pages = public_pages()
    # The overview and the topic pages must be among the rendered ones.
    for page in ("lagesbild", "handelser", "aktiviteter", "trygghet", "trafik", "unga",
                 "om_data"):
        assert page in pages


@pytest.mark.parametrize("page", public_pages())
def test_public_page_leaks_nothing(page: str, use_leak_store: Path) -> None:
    query = {"presentation": "1", "interval": "0"} if page == "presentation" else None
    at = render(page, query=query)
    texts = rendered_texts(at)
    assert texts, "nothing rendered"
    assert not find_planted(texts)
    assert not plotted_positions(at)
    if page not in ("presentation", "login"):  # slides state the mode in their footer
        assert any("Publikt läge" in t for _, t in texts), "mode not visible"
    if page == "presentation":
        _check_every_slide(at)


def slide_body(at: AppTest) -> str:
    """HTML of the slide on screen (the st.html block with the slide test id)."""
    bodies = [h.proto.body for h in at.get("html")
              if "presentation-slide-body" in getattr(h.proto, "body", "")]
    assert len(bodies) == 1, f"{len(bodies)} slides on screen"
    return bodies[0]


def _slide_attr(body: str, name: str) -> str:
    return re.search(rf'{name}="([^"]*)"', body).group(1)  # type: ignore[union-attr]


def iter_slides(at: AppTest) -> Iterator[str]:
    """Each slide's HTML, stepping through the deck with the Nästa button."""
    body = slide_body(at)
    count = int(_slide_attr(body, "data-slide-count"))
    yield body
    for _ in range(count - 1):
        at.button(key="pres_next").click().run()
        assert not at.exception
        yield slide_body(at)


def _check_every_slide(at: AppTest) -> None:
    """Step through the whole deck and search everything on screen at each slide."""
    seen = set()
    for body in iter_slides(at):
        seen.add(_slide_attr(body, "data-slide-index"))
        assert not find_planted(rendered_texts(at))
        assert not plotted_positions(at)
    assert len(seen) >= 2, "the deck did not advance"


def _official(monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("HJO_MODE", "official")
    at = render(page)
    assert any("Tjänstepersonsläge" in t for _, t in rendered_texts(at))
    return at


def test_official_mode_shows_notes(use_leak_store: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector does find planted text when a page shows it (the test can fail)."""
    texts = rendered_texts(_official(monkeypatch, "aktiviteter"))
    hits = find_planted(texts, (NOTE,))
    assert any("dataframe" in h for h in hits), hits
    # Personnummer are masked at ingest, so not even officials see them.
    assert not find_planted(texts, (PNR, "811224-1234"))


def test_official_mode_shows_positions_and_descriptions(use_leak_store: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    at = _official(monkeypatch, "handelser")
    texts = rendered_texts(at)
    hits = find_planted(texts, COORD_DIGITS)
    assert any(h.endswith("decoded") for h in hits), hits
    assert len(plotted_positions(at)) >= 2  # latitude and longitude of the points
    # Officials see row-level incidents with their descriptions (issue 4) ...
    desc_hits = find_planted(texts, (DESC,))
    assert any(h.startswith(f"{DESC!r} in dataframe") for h in desc_hits), desc_hits
    table = next(f.value for f in at.dataframe if "Beskrivning" in f.value.columns)
    assert len(table) == INCIDENT_ROWS and table["Beskrivning"].str.contains(DESC).all()
    # ... but the personnummer inside a description was masked at ingest.
    assert not find_planted(texts, (PNR, "811224-1234", "198112241234"))


# --------------------------------------------------------------------------- small counts


def _reporter_table(at: AppTest) -> pd.DataFrame:
    for frame in at.dataframe:
        value = frame.value
        if isinstance(value, pd.DataFrame) and "Rapportör" in value.columns \
                and "Antal" in value.columns:
            return value
    raise AssertionError("table 'Händelser per rapportör' not found")


def _reporter_counts(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["Rapportör"].astype(str), table["Antal"].astype(str), strict=True))


def test_official_reporter_table_shows_the_small_count(use_leak_store: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setenv("HJO_MODE", "official")
    counts = _reporter_counts(_reporter_table(render("handelser")))
    assert counts["polis"] == str(POLICE_REPORTS)


def test_public_reporter_table_hides_counts_below_five(use_leak_store: Path) -> None:
    at = render("handelser")
    counts = _reporter_counts(_reporter_table(at))
    assert counts["polis"] == "<5", counts
    # Secondary suppression: the total (70) is published elsewhere, so the only other
    # reporter's count (70 - 3) must not be shown either, or 3 could be recomputed.
    table = _reporter_table(at)
    shown = set(table["Antal"].astype(str))
    assert str(POLICE_REPORTS) not in shown
    assert str(INCIDENT_ROWS - POLICE_REPORTS) not in shown, counts
    # The share column (if any) must not reveal it either: 3 of 70 = 4,3 %.
    if "Andel" in table.columns:
        share = f"{100 * POLICE_REPORTS / INCIDENT_ROWS:.1f}".replace(".", ",")
        assert not any(share in str(v) for v in table["Andel"]), table["Andel"].tolist()



def _weekly_counts(times: list[datetime]) -> dict[date, int]:
    """Incidents per ISO week (keyed by Monday), counted by hand."""
    out: dict[date, int] = {}
    for t in times:
        monday = t.date() - timedelta(days=t.weekday())
        out[monday] = out.get(monday, 0) + 1
    return out


def test_public_presentation_hides_small_weekly_count(use_leak_store: Path) -> None:
    """Every complete week of the planted incidents has 1..4 reports, so the EST slide's
    big number must be "<5" and no weekly bar value may be printed."""
    times = [datetime.strptime(line.split(";")[1], "%Y-%m-%d %H:%M")
             for line in _incident_csv(date.today()).splitlines()[1:]]
    weeks = _weekly_counts(times)
    inner = sorted(weeks)[1:-1]  # drop the partial first and last week
    assert inner and all(1 <= weeks[w] <= 4 for w in inner), weeks
    at = render("presentation", query={"presentation": "1", "interval": "0"})
    est = [b for b in iter_slides(at) if _slide_attr(b, "data-slide-id").startswith("est")]
    assert est, "no EST slide in the deck"
    body = est[0]
    number = re.search(r'class="pres-number">([^<]*)<', body)
    assert number is not None and number.group(1) == "&lt;5", body
    values = re.findall(r'class="pres-val">([^<]*)<', body)
    assert values and all(v in ("&lt;5", "0") for v in values), values
