"""The layering rules of docs/ARCHITECTURE.md, checked on the source (``ast``, nothing is
imported):

* ``hjo_data`` never imports streamlit, ``ui`` or ``pages`` (function-level imports too);
* no import cycles among the modules of ``hjo_data`` and ``ui`` (every import counts, also
  one inside a function: it is only a cycle put off until call time);
* an import inside a function says in a comment why it is not at the top;
* the module map in docs/ARCHITECTURE.md names exactly the modules that exist.

(The page size limit is tests/test_pages_thin.py.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The packages whose modules are checked (those that exist).
PACKAGES = tuple(p for p in ("hjo_data", "ui") if (ROOT / p / "__init__.py").is_file())
FORBIDDEN_IN_HJO_DATA = ("streamlit", "ui", "pages")


# --------------------------------------------------------------------------- the tools


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(source: str, module: str) -> Iterator[str]:
    """Every module name ``source`` imports, wherever the import stands (module level,
    inside functions or try blocks), except under ``if TYPE_CHECKING:``. ``from p import
    x`` yields ``p.x`` as well as ``p`` (x may be a submodule); relative imports are
    resolved against ``module``."""
    package = module.rsplit(".", 1)[0] if "." in module else module

    def walk(node: ast.AST) -> Iterator[ast.AST]:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                yield from (n for stmt in child.orelse for n in [stmt, *walk(stmt)])
                continue
            yield child
            yield from walk(child)

    for node in walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _modules() -> dict[str, Path]:
    """``hjo_data.reading`` -> its file, for every module of the checked packages."""
    return {f"{pkg}.{path.stem}" if path.stem != "__init__" else pkg: path
            for pkg in PACKAGES for path in sorted((ROOT / pkg).glob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the checked modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set(imported_names(path.read_text(encoding="utf-8"), name))
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def unexplained_local_imports(source: str) -> list[int]:
    """Lines of imports inside a function with no comment on that line or the two lines
    before it (an import belongs at the top unless a comment says why it cannot be)."""
    lines = source.splitlines()
    found: set[int] = set()
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import | ast.ImportFrom):
                window = lines[max(0, node.lineno - 3):node.lineno]
                if not any("#" in line for line in window):
                    found.add(node.lineno)
    return sorted(found)


def documented_modules(text: str, package: str) -> set[str]:
    """File names (``x.py``) the module map (the first code block) lists under
    ``package/``: the name column of the lines indented by two after the ``package/``
    line, up to the next line that starts in the first column (a module only mentioned in
    another's description does not count)."""
    block = text.split("```", 2)[1]
    names: set[str] = set()
    inside = False
    for line in block.splitlines():
        if line and not line[0].isspace():
            inside = line.split()[0] == f"{package}/"
            continue
        if inside and len(line) - len(line.lstrip()) < 4:  # deeper: a continuation line
            # the name column: what stands before the description (2+ spaces)
            entry = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
            names.update(re.findall(r"[\w]+\.py", entry))
    return names


# --------------------------------------------------------------------------- self-tests


def test_imports_are_found_at_every_level() -> None:
    source = (
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from .other import thing\n"
        "if TYPE_CHECKING:\n"
        "    import only_for_types\n"
        "def f():\n"
        "    try:\n"
        "        import streamlit as st\n"
        "    except ImportError:\n"
        "        pass\n"
        "    from ui.context import page_setup\n")
    found = set(imported_names(source, "hjo_data.mod"))
    assert {"os", "hjo_data.sibling", "hjo_data.other", "streamlit", "ui.context",
            "ui.context.page_setup"} <= found
    assert "only_for_types" not in found


def test_cycle_finder_detects_a_synthetic_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"},
             "g": set()}
    assert find_cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_unexplained_local_imports_are_found() -> None:
    source = ("import os\n"
              "def f():\n"
              "    import json\n"
              "    x = 1\n"
              "    y = 2\n"
              "    import csv  # slow, only here\n"
              "    # a reason\n"
              "    from a import b\n"
              "    from a import c\n")
    assert unexplained_local_imports(source) == [3]


def test_documented_modules_reads_the_name_column() -> None:
    text = ("```\n"
            "hjo_data/     pure\n"
            "  a.py        does x; see c.py\n"
            "              and f.py (a continuation)\n"
            "  b.py / d.py  two\n"
            "other/        not this\n"
            "  e.py        no\n"
            "```\n")
    assert documented_modules(text, "hjo_data") == {"a.py", "b.py", "d.py"}


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("path", sorted((ROOT / "hjo_data").glob("*.py")),
                         ids=lambda p: p.name)
def test_hjo_data_never_imports_the_ui(path: Path) -> None:
    names = set(imported_names(path.read_text(encoding="utf-8"), f"hjo_data.{path.stem}"))
    bad = sorted(n for n in names if n.split(".")[0] in FORBIDDEN_IN_HJO_DATA)
    assert not bad, f"hjo_data/{path.name} imports {bad}"


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 20  # the graph really holds the packages' modules
    assert "hjo_data.schema" in graph["hjo_data.reading"]
    assert find_cycles(graph) == []


@pytest.mark.parametrize("path", [*_modules().values(), ROOT / "dashboard.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_inside_functions_say_why(path: Path) -> None:
    lines = unexplained_local_imports(path.read_text(encoding="utf-8"))
    assert not lines, f"{path.relative_to(ROOT)}: move the imports on lines {lines} to the " \
                      "top, or say in a comment why they must stay inside the function"


@pytest.mark.parametrize("package", PACKAGES)
def test_module_map_names_exactly_the_modules(package: str) -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    documented = documented_modules(text, package) - {"__init__.py"}
    existing = {p.name for p in (ROOT / package).glob("*.py")} - {"__init__.py"}
    assert sorted(existing - documented) == [], "modules missing from the module map"
    assert sorted(documented - existing) == [], "module map names modules that do not exist"
