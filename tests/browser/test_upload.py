"""Real browser: a redaktör logs in, uploads a CSV with bad rows through the file uploader,
reads the validation report, saves, and sees the new data on the overview.

The server is started here (not the shared demo server): it needs accounts. Secrets come
from a temporary secrets.toml passed with ``--secrets.files`` (the repository's own
.streamlit/secrets.toml, if any, is not read); the account uses cheap scrypt parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from hjo_data.auth import hash_password
from tests.browser.conftest import CHROMIUM, running_dashboard

USER, PASSWORD = "redaktor1", "Ett-test-lösen-42"
DEMO_LABEL = "Demodata – inte verklig statistik"


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(url, store dir) of a dashboard with one redaktör account and an empty store."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian chromium saknas (/usr/bin/chromium)")
    tmp = tmp_path_factory.mktemp("editor_server")
    secrets = tmp / "secrets.toml"
    secrets.write_text(f'[auth.users.{USER}]\nrole = "redaktor"\n'
                       f'password_hash = "{hash_password(PASSWORD, n=2**10)}"\n',
                       encoding="utf-8")
    with running_dashboard(tmp, extra_args=("--secrets.files", str(secrets)),
                           drop_env=("HJO_MAX_UPLOAD_MB",)) as url:
        yield url, tmp / "store"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="sv-SE")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.page_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def _csv(today: date) -> tuple[bytes, date]:
    """Four good rows and two bad ones (lines 3 and 6; the header is line 1)."""
    latest = today - timedelta(days=2)
    rows = [
        f"{(today - timedelta(days=9)).isoformat()} 22:10;klotter;Hamnen;polis;Tag",
        "2024-13-45;klotter;Hamnen;polis;fel datum",
        f"{(today - timedelta(days=6)).isoformat()};brand;Hjo centrum;kommun;Container",
        f"{latest.isoformat()} 01:30;ordningsstörning;Stadsparken;polis;Stök",
        "<b>igår</b>;klotter;Hamnen;polis;html i datumet",
        f"{(today - timedelta(days=4)).isoformat()};skadegörelse;Guldkroken;skola;Fönster",
    ]
    text = "Datum;Kategori;Område;Rapportör;Beskrivning\n" + "\n".join(rows) + "\n"
    return text.encode("utf-8"), latest


def _grid_cells(page: object, header: str) -> list[str]:
    """Cell texts of the st.dataframe whose header row contains ``header`` (the data grid's
    accessible table)."""
    grids = page.locator('[data-testid="stDataFrame"]')  # type: ignore[attr-defined]
    for i in range(grids.count()):
        grid = grids.nth(i)
        if header in (grid.text_content() or ""):
            return [c.strip() for c in grid.locator("td").all_text_contents()]
    return []


def open_datahantering_as_editor(page, url: str, wait_for_app) -> None:
    """Log in as the editor from the start page and follow the link to Datahantering
    (same browser session, no reload)."""
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page, text="Läget just nu")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Logga in").click()
    wait_for_app(page, text="Användarnamn")
    page.get_by_label("Användarnamn").fill(USER)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    wait_for_app(page, text="Du är inloggad som")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Datahantering").click()
    wait_for_app(page, text="Fil att läsa in")


def test_redaktor_uploads_and_sees_data(page, editor_server, artifacts_dir: Path,
                                        wait_for_app) -> None:
    url, store_dir = editor_server
    data, latest = _csv(date.today())
    # Start at the root and follow the link: a deep link to a page that the navigation
    # only lists after the first run can show a "Page not found" dialog on a cold server.
    open_datahantering_as_editor(page, url, wait_for_app)
    # Streamlit's own uploader texts are English; the page shows Swedish ones (CSS).
    shown = page.evaluate("""() => {
        const after = s => getComputedStyle(document.querySelector(s), '::after').content;
        return [after('[data-testid="stFileUploaderDropzone"] button p'),
                after('[data-testid="stFileUploaderDropzoneInstructions"] span')];
    }""")
    assert shown[0] == '"Välj fil"' and "MB per fil" in shown[1], shown
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "est_vecka.csv", "mimeType": "text/csv", "buffer": data}])
    wait_for_app(page, text="Så tolkades kolumnerna")
    page.get_by_text("Avvisade rader").first.wait_for()
    metrics = [t.split("\n")[0] + "=" + t.split("\n")[-1]
               for t in page.locator('[data-testid="stMetric"]').all_inner_texts()]
    assert metrics == ["Lästa rader=6", "Nya rader=4", "Avvisade=2", "Dubbletter=0"]
    # The grid fills its accessible table once it has drawn: wait for a reason cell.
    page.locator('[data-testid="stDataFrame"] td', has_text="Ogiltigt datum").first.wait_for(
        state="attached")
    cells = _grid_cells(page, "Orsak")
    # Rows: line, column, value, reason — line 3 (bad month) and line 6 (HTML as a date).
    assert cells[0:3] == ["3", "Datum (Tidpunkt)", "2024-13-45"]
    assert cells[3].startswith("Ogiltigt datum '2024-13-45' i kolumnen 'Datum (Tidpunkt)'")
    assert cells[4:7] == ["6", "Datum (Tidpunkt)", "<b>igår</b>"]
    assert page.locator("b", has_text="igår").count() == 0  # text, never markup
    page.screenshot(path=str(artifacts_dir / "datahantering_validering.png"), full_page=True)

    page.get_by_role("button", name="Spara").click()
    wait_for_app(page, text="sparade")
    success = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    assert "4 sparade, 2 avvisade, 0 dubbletter" in success
    assert page.get_by_text("Ladda ner avvisade rader").first.is_visible()
    assert list((store_dir / "incidents").glob("year=*/*.parquet"))
    page.screenshot(path=str(artifacts_dir / "datahantering_sparad.png"), full_page=True)

    page.locator('[data-testid="stSidebarNav"]').get_by_text("Lägesbild").click()
    wait_for_app(page, text="Läget just nu")
    page.get_by_text(f"Data t.o.m. {latest.isoformat()}").first.wait_for(state="visible")
    assert page.get_by_text(DEMO_LABEL).count() == 0
    assert page.get_by_text("Tjänstepersonsläge").first.is_visible()
    assert not page.locator('[data-testid="stException"]').count()
    assert not page.page_errors, page.page_errors
    page.screenshot(path=str(artifacts_dir / "lagesbild_efter_uppladdning.png"),
                    full_page=True)
