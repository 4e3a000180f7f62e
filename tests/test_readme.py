"""The README's set-up section: the documented way into Datahantering works as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.auth import DEV_ROLE_ENV

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _setup_section() -> str:
    return README.split("## Set-up", 1)[1].split("\n## ", 1)[0]


def test_setup_keeps_exactly_two_commands_and_says_how_to_stop() -> None:
    section = _setup_section()
    first_block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    assert [line.split()[0:2] for line in first_block.strip().splitlines()] == [
        ["make", "run"], ["make", "test"]]
    assert "Ctrl+C" in section and "keeps the terminal busy" in section


def test_documented_editor_command_opens_datahantering(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    command = re.search(rf"^({DEV_ROLE_ENV})=(\w+) make run", _setup_section(), re.M)
    assert command, "README must show the HJO_DEV_ROLE command"
    monkeypatch.setenv(command.group(1), command.group(2))
    at = AppTest.from_file(str(ROOT / "pages" / "datahantering.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert not any("Logga in som" in w.value for w in at.warning)
    assert [t.label for t in at.tabs][0] == "Ladda upp fil"
