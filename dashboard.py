"""Streamlit entry point: `make run`, i.e. `python dashboard.py [streamlit options]` (see serve()).

Pages live in pages/*.py (thin page scripts only; shared UI pieces in the ui/ package). A
page is listed only when its file exists, so the app runs at every stage of development.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `ui` and `hjo_data` import from the repo root
    sys.path.insert(0, str(ROOT))

from hjo_data.auth import has_role  # noqa: E402 - needs the sys.path line above
from hjo_data.promise import home_municipality  # noqa: E402
from ui.auth import current_role, login_menu_entry  # noqa: E402

#: (file, title, material icon, url path); the first existing page is the default.
PAGES = (
    ("pages/lagesbild.py", "Lägesbild", ":material/dashboard:", "lagesbild"),
    ("pages/trygghet.py", "Trygghet", ":material/shield:", "trygghet"),
    ("pages/handelser.py", "Händelser (EST)", ":material/report:", "handelser"),
    ("pages/trafik.py", "Trafik", ":material/directions_car:", "trafik"),
    ("pages/unga.py", "Unga", ":material/school:", "unga"),
    ("pages/aktiviteter.py", "Aktiviteter", ":material/event:", "aktiviteter"),
    ("pages/jamforelse.py", "Jämförelse", ":material/compare_arrows:", "jamforelse"),
    ("pages/om_data.py", "Om data", ":material/info:", "om-data"),
    ("pages/datahantering.py", "Datahantering", ":material/upload_file:", "datahantering"),
    ("pages/admin.py", "Administration", ":material/admin_panel_settings:", "admin"),
    ("pages/login.py", "Logga in", ":material/login:", "logga-in"),
)
LOGIN_PAGE = "pages/login.py"
#: Pages listed in the menu only for at least this role. Below that role they stay
#: registered but hidden, so a bookmarked link opens the page's own Swedish login notice
#: (the pages guard themselves with require_role) instead of Streamlit's English
#: "Page not found".
PAGE_ROLES = {"pages/datahantering.py": "redaktor", "pages/admin.py": "admin"}


def available_pages() -> list[st.Page]:
    """st.Page objects for the page files that exist (the first is the default)."""
    role = current_role()
    pages = []
    for file, title, icon, url in PAGES:
        allowed = file not in PAGE_ROLES or has_role(role, PAGE_ROLES[file])
        if file == LOGIN_PAGE:
            title, icon = login_menu_entry(role, title, icon)
        if (ROOT / file).is_file():
            pages.append(st.Page(ROOT / file, title=title, icon=icon, url_path=url,
                                 default=not pages,
                                 visibility="visible" if allowed else "hidden"))
    return pages


def page_icon() -> Image.Image:
    """The favicon drawn locally (a blue shield): a ":material/…" page icon makes the
    browser fetch it from fonts.gstatic.com, which fails offline and leaks the viewer."""
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(img).polygon([(4, 3), (28, 3), (28, 15), (16, 29), (4, 15)],
                                fill=(0, 114, 178, 255))
    return img


def serve(argv: list[str]) -> int:
    """`python dashboard.py [streamlit options]`: run the dashboard in Streamlit's server.

    Why not plain `streamlit run`: with a folder named `pages/` beside the entry script
    (whatever it holds; since the ui/ package it holds only page scripts), Streamlit 1.67
    runs a fresh server's very first script run in the legacy folder-based multipage mode
    (``PagesManager.uses_pages_directory`` is set from the folder's existence), so a deep
    link such as /handelser would run the page file without dashboard.py, with a menu of
    every script by file name, until st.navigation has run once. Declaring up front that
    this app uses st.navigation avoids that (tests/browser/test_deep_link.py fails without
    it). There is no public option for this.
    """
    # Streamlit's server internals: needed only to launch the server, not in the app.
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(Path(__file__).resolve()), *argv]
    return cli.main()


if __name__ == "__main__" and not st.runtime.exists():
    sys.exit(serve(sys.argv[1:]))

if st.query_params.get("presentation") == "1" and (ROOT / "pages/presentation.py").is_file():
    # Presentation mode (issue 4): full-screen public slides, no navigation or sidebar;
    # before set_page_config: the page sets its own (offline favicon).
    st.navigation([st.Page(ROOT / "pages/presentation.py", title="Presentation",
                           url_path="presentation", default=True)], position="hidden").run()
    st.stop()
def app_title() -> str:
    """"Trygghetsdashboard – Hjo": the place from the promise file's [municipality]."""
    home = home_municipality()
    return f"Trygghetsdashboard – {home}" if home else "Trygghetsdashboard"


st.set_page_config(page_title=app_title(), layout="wide", page_icon=page_icon())
pages = available_pages()
if pages:
    st.navigation(pages).run()
else:
    st.title(app_title())
    st.info("Inga sidor finns ännu.")
