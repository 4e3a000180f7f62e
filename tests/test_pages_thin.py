"""pages/ holds only thin page scripts: no helper modules, each at most 150 code lines.

Code lines: non-blank lines that are not comments (docstrings count). Shared UI pieces
belong in ui/, pure computations in hjo_data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
MAX_CODE_LINES = 150


def code_lines(text: str) -> int:
    """Non-blank lines that are not only a comment."""
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith("#"))


def test_code_lines_counts_docstrings_not_comments_or_blanks() -> None:
    text = '"""Doc\n\nstring."""\n\n# comment\nx = 1  # trailing\n    # indented comment\n'
    assert code_lines(text) == 3  # two docstring lines + the assignment


def _listed_pages() -> set[str]:
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            return {Path(entry[0]).name for entry in ast.literal_eval(node.value)}
    raise AssertionError("dashboard.py has no PAGES")


def test_pages_holds_only_page_scripts() -> None:
    files = {p.name for p in PAGES.iterdir() if p.suffix == ".py"}
    # presentation.py is opened by dashboard.py's ?presentation=1 hook, not the menu.
    assert files == _listed_pages() | {"presentation.py"}


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES.glob("*.py")))
def test_page_is_thin(page: str) -> None:
    n = code_lines((PAGES / page).read_text(encoding="utf-8"))
    assert n <= MAX_CODE_LINES, f"pages/{page}: {n} code lines (max {MAX_CODE_LINES})"
