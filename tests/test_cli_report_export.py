"""End to end: ``python -m hjo_data report|export`` on stores filled through the real ingest.

PDF tests need Chromium (skipped when none is found) and extract the PDF text with pypdf.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pytest

from hjo_data import periods
from hjo_data import report as rep
from hjo_data.cli import main
from hjo_data.datasource import load_bundle
from tests.conftest import plausibly_published

pypdf = pytest.importorskip("pypdf")
needs_chromium = pytest.mark.skipif(rep.find_chromium() is None,
                                    reason="Chromium saknas (PDF kan inte skapas)")

DESCRIPTION = "UNIKBESKRIVNING-7f3a9"
NOTE = "UNIKANTECKNING-9c2e1"
PNR = "19810101-1234"
LAT, LON = "58.123456", "14.654321"
FORMULA = '=HYPERLINK("http://x.invalid","klicka")'
EVIL = "<script>alert(1)</script>"
#: Every planted secret in the forms it could appear in (dot or decimal comma).
SECRETS = (DESCRIPTION, NOTE, PNR, "19810101", LAT, LON, LAT.replace(".", ","),
           LON.replace(".", ","), "HYPERLINK")


def pdf_text(path: Path) -> str:
    """Text of every page, NFKC-normalised (Chromium sets "fi" as a ligature)."""
    reader = pypdf.PdfReader(str(path))
    return unicodedata.normalize(
        "NFKC", "\n".join(page.extract_text() or "" for page in reader.pages))


@pytest.fixture
def planted_store(tmp_path: Path) -> Path:
    """A store with May 2025 incidents/activities carrying planted secrets (real ingest)."""
    store = tmp_path / "planted"
    inc = ["Händelse-id;Tidpunkt;Kategori;Område;Rapportör;Latitud;Longitud;Beskrivning"]
    for i in range(40):
        day = 1 + i % 28
        desc = f"{DESCRIPTION} ringde {PNR}" if i % 2 else f"{DESCRIPTION} vid kiosken"
        area = EVIL if i < 6 else "Hamnen"
        inc.append(f"p{i};2025-05-{day:02d} 12:00;klotter;{area};polis;{LAT};{LON};{desc}")
    quoted = FORMULA.replace('"', '""')
    inc.append(f'p99;2025-05-30 13:00;skadegörelse;Hamnen;polis;;;"{quoted}"')
    for i in range(12):  # April, for the comparison
        inc.append(f"q{i};2025-04-{1 + i:02d} 10:00;klotter;Hamnen;kommun;;;vanlig")
    inc.append("r1;2025-06-02 10:00;klotter;Hamnen;kommun;;;juni")
    act = ["Datum;Aktivitet;Område;Arrangörer;Deltagare;Målgrupp;Iakttagelser;"
           "Beslutade åtgärder;Genomförda åtgärder;Anteckningar"]
    act.append(f"2025-05-10;trygghetsvandring;Hamnen;polis, kommun;12;alla;3;2;1;{NOTE}")
    files = {"incidents.csv": inc, "activities.csv": act}
    for name, lines in files.items():
        path = tmp_path / name
        path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
        code = main(["ingest", str(path), "--store", str(store)])
        assert code == 0, f"ingest of {name} failed with {code}"
    return store


def _run_report(store: Path, out: Path, audience: str, fmt: str = "html",
                period: str = "2025-05") -> int:
    return main(["report", "--period", period, "--format", fmt, "--out", str(out),
                 "--audience", audience, "--store", str(store)])


def test_public_html_report_never_leaks_planted_strings(planted_store, tmp_path, capsys):
    out = tmp_path / "publik.html"
    assert _run_report(planted_store, out, "public") == 0
    page = out.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in page, secret
    assert EVIL not in page
    # issue 11: an area not in areas.csv is never public, not even escaped
    assert "alert(1)" not in page and "Okänt område" in page
    assert "Demodata" not in page  # real (planted) store data, not demo
    assert "Skrev lägesbild maj 2025" in capsys.readouterr().out


def test_official_html_report_may_show_row_level_data(planted_store, tmp_path):
    out = tmp_path / "tjänst.html"
    assert _run_report(planted_store, out, "official") == 0
    page = out.read_text(encoding="utf-8")
    assert DESCRIPTION in page and NOTE in page and LAT in page
    # Personnummer are masked at ingest, so not even officials see them.
    assert PNR not in page
    assert EVIL not in page  # still escaped


@needs_chromium
@pytest.mark.parametrize("audience", ["public", "official"])
def test_pdf_report_text(planted_store, tmp_path, audience):
    out = tmp_path / f"{audience}.pdf"
    assert _run_report(planted_store, out, audience, "pdf") == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(out)
    assert "Lägesbild maj 2025" in text
    # Chart titles exist only inside the plotly SVG: present means the charts were drawn.
    assert "Händelser per område under maj 2025" in text
    if audience == "public":
        for secret in SECRETS:
            assert secret not in text, secret
        assert "Publikt läge" in text
    else:
        assert DESCRIPTION in text
        assert "Tjänstepersonsläge" in text


@needs_chromium
def test_demo_pdf_report(tmp_path):
    """A PDF on demo data (HTML of every period kind is tested in test_report.py; PDFs of
    the other kinds are left out to keep the suite fast: Chromium takes seconds each)."""
    bundle = load_bundle("/nonexistent/hjo-report-pdf-store", demo_rows=1500)
    period = periods.parse_period(f"{bundle.data_date['incidents'].year - 1}v18")
    path = rep.write_report(bundle, period, "pdf", tmp_path / "vecka.pdf")
    text = pdf_text(path)
    assert f"Lägesbild {period.label}" in text
    assert rep.DEMO_LABEL in text
    assert "Läget just nu" in text and "Definitioner" in text
    assert f"fram till {period.label}" in text  # the trend chart's title, drawn by plotly


def test_report_bad_period_exit_2(tmp_path, capsys):
    out = tmp_path / "r.html"
    code = main(["report", "--period", "2024-13", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Ogiltig period '2024-13'" in err and "Ange år" in err
    assert not out.exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--format", "docx", "Okänt format"),
    ("--audience", "alla", "Okänt läge"),
])
def test_report_bad_options_exit_2(tmp_path, capsys, option, value, message):
    code = main(["report", "--period", "2024", "--out", str(tmp_path / "r.html"),
                 option, value])
    assert code == 2
    assert message in capsys.readouterr().err


def test_report_pdf_without_chromium_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(rep, "find_chromium", lambda: None)
    out = tmp_path / "r.pdf"
    code = main(["report", "--period", "2024", "--format", "pdf", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "PDF kräver Chromium" in err and "--format html" in err
    assert not out.exists()


def test_report_format_from_out_suffix(monkeypatch, tmp_path):
    monkeypatch.setattr(rep, "find_chromium", lambda: None)
    # .pdf without --format means PDF: without Chromium that is the Chromium error.
    assert main(["report", "--period", "2024", "--out", str(tmp_path / "r.pdf")]) == 2
    assert main(["report", "--period", "2024", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------- export


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8")), delimiter=";"))


def test_export_official_neutralises_formula(planted_store, tmp_path):
    out = tmp_path / "alla.csv"
    code = main(["export", "incidents", "--out", str(out), "--audience", "official",
                 "--store", str(planted_store)])
    assert code == 0
    rows = _read_csv(out)
    header, body = rows[0], rows[1:]
    assert len(body) == 40 + 1 + 12 + 1
    desc = header.index("Beskrivning")
    cells = [r[desc] for r in body]
    assert "'" + FORMULA in cells  # neutralised, content kept
    # No cell anywhere may start like a formula.
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_export_public_is_aggregate_only(planted_store, tmp_path):
    out = tmp_path / "publik.csv"
    code = main(["export", "incidents", "--out", str(out), "--store", str(planted_store)])
    assert code == 0
    text = out.read_bytes().decode("utf-8-sig")
    for secret in SECRETS:
        assert secret not in text, secret
    rows = _read_csv(out)
    header = rows[0]
    assert "Beskrivning" not in header and "Latitud" not in header
    by_month = {r[0]: r for r in rows[1:]}
    # Hand count: May 2025 = 40 klotter + 1 skadegörelse, April = 12 klotter, June = 1.
    klotter, skada, total = (header.index(c) for c in ("klotter", "skadegörelse", "Totalt"))
    # Public counts are perturbed (docs/PRIVACY.md): 0..4 read "<5", others within ±2;
    # the total is published on its own, so 41 minus the shown klotter is noise, not 1.
    assert plausibly_published(by_month["2025-04"][klotter], 12)
    assert by_month["2025-05"][skada] == "<5"  # 1 is small
    assert plausibly_published(by_month["2025-05"][klotter], 40)
    assert plausibly_published(by_month["2025-05"][total], 41)
    assert by_month["2025-06"][total] == "<5"
    assert plausibly_published(by_month["2025-04"][total], 12)
    # The same records give the same published value: April has only klotter.
    assert by_month["2025-04"][total] == by_month["2025-04"][klotter]
    assert ".." not in {c for r in rows[1:] for c in r}  # no secondary suppression


def test_export_public_activities_has_no_notes(planted_store, tmp_path):
    out = tmp_path / "akt.csv"
    assert main(["export", "activities", "--out", str(out), "--store",
                 str(planted_store)]) == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert NOTE not in text
    assert re.search(r"^2025;", text, flags=re.MULTILINE)


def test_export_errors(tmp_path, planted_store, capsys):
    assert main(["export", "nosuch", "--out", str(tmp_path / "x.csv"),
                 "--store", str(planted_store)]) == 2
    assert "Okänd datamängd 'nosuch'" in capsys.readouterr().err
    empty = tmp_path / "tom"
    assert main(["export", "incidents", "--out", str(tmp_path / "y.csv"),
                 "--store", str(empty)]) == 2
    assert "är tomt" in capsys.readouterr().err
    assert main(["export", "incidents", "--out", str(tmp_path / "z.csv"), "--by",
                 "description", "--store", str(planted_store)]) == 2
    assert "får inte användas i publikt läge" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in ("x.csv", "y.csv", "z.csv"))


def test_export_message_names_columns_in_swedish(planted_store, tmp_path, capsys):
    out = tmp_path / "publik.csv"
    assert main(["export", "incidents", "--out", str(out), "--store",
                 str(planted_store)]) == 0
    message = capsys.readouterr().out
    # The default grouping is month and category: both named the way the UI names them.
    assert "antal per månad och kategori" in message, message
    assert "category" not in message, message
