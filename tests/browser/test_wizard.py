"""Real browser: a redaktör uploads a survey-tool export that does not match, maps a column
and a value in the import wizard, saves data and profile; then the command line ingests
the next export with ``--profile`` (same store) and the counts add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.browser.conftest import ROOT
from tests.browser.test_upload import (  # noqa: F401
    editor_server,
    open_datahantering_as_editor,
    page,
)
from tests.test_app_wizard import EXPORT, NEXT_EXPORT

PROFILE = "enkatverktyget"


def _pick(pg, key_prefix: str, option: str, wait_for_app) -> None:
    """Choose ``option`` in the select box whose widget key starts with ``key_prefix``."""
    box = pg.locator(f'[class*="st-key-{key_prefix}"] input[role="combobox"]')
    box.click()
    box.fill(option)
    pg.get_by_role("option", name=option, exact=True).click()
    wait_for_app(pg)


def _metrics(pg) -> list[str]:
    return [t.split("\n")[0] + "=" + t.split("\n")[-1]
            for t in pg.locator('[data-testid="stMetric"]').all_inner_texts()]


def test_wizard_maps_saves_profile_and_cli_uses_it(page, editor_server,  # noqa: F811
                                                   artifacts_dir: Path, wait_for_app,
                                                   tmp_path: Path) -> None:
    url, store_dir = editor_server
    open_datahantering_as_editor(page, url, wait_for_app)

    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "enkat_2025.csv", "mimeType": "text/csv", "buffer": EXPORT}])
    wait_for_app(page, text="Importguide")
    page.get_by_text("Välj vilken kolumn i filen som är 'År'").first.wait_for()
    _pick(page, "hjo_wz_col_1_", "År (year)", wait_for_app)  # "Svarsår"
    page.get_by_text("Kontroll före sparande").first.wait_for()
    assert _metrics(page) == ["Lästa rader=8", "Nya rader=5", "Avvisade=3", "Dubbletter=0"]
    _pick(page, "hjo_wz_val_safety_evening_0_", "ganska otrygg", wait_for_app)  # "Otrygg"
    assert _metrics(page) == ["Lästa rader=8", "Nya rader=7", "Avvisade=1", "Dubbletter=0"]
    page.locator('[class*="st-key-hjo_wz_name_"] input').fill(PROFILE)
    page.keyboard.press("Enter")
    wait_for_app(page)
    assert not (store_dir / "profiles").exists()  # nothing stored before Spara
    assert page.locator("b", has_text="busshållplatsen").count() == 0
    page.screenshot(path=str(artifacts_dir / "importguide.png"), full_page=True)

    page.get_by_role("button", name="Spara", exact=True).click()
    wait_for_app(page, text="sparade")
    success = page.locator('[data-testid="stAlertContentSuccess"]').all_inner_texts()
    assert any(f"Importprofilen '{PROFILE}' sparades" in t for t in success), success
    assert any("7 sparade, 1 avvisad, 0 dubbletter" in t for t in success), success
    assert (store_dir / "profiles" / f"{PROFILE}.toml").is_file()
    assert not page.locator('[data-testid="stException"]').count()
    assert not page.page_errors, page.page_errors

    # The next export on the command line with the saved profile, same store.
    next_file = tmp_path / "enkat_2026.csv"
    next_file.write_bytes(NEXT_EXPORT)
    env = {**os.environ, "HJO_DATA_DIR": str(store_dir)}
    res = subprocess.run([sys.executable, "-m", "hjo_data", "ingest", str(next_file),
                          "--profile", PROFILE, "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    report = json.loads(res.stdout)
    # 5 rows: line 3 has "Otrygg" as age (rejected), the rest stored; "Otrygg" as an
    # answer is mapped by the profile
    assert res.returncode == 1, res.stderr
    assert (report["rows_read"], report["accepted"], report["rejected"],
            report["duplicates"]) == (5, 4, 1, 0)
    assert report["profile"] == PROFILE
    assert [e["line"] for e in report["errors"]] == [3]
