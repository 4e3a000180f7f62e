"""AppTest: login form, throttling, session timeout, role guards, audience, admin page.

Secrets reach the app through ``at.secrets`` (AppTest swaps ``st.secrets`` for the run);
the accounts use cheap scrypt parameters (n=2**10) so the tests stay fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hjo_data.audit import read_audit
from hjo_data.auth import hash_password
from tests.conftest import incidents

ROOT = Path(__file__).resolve().parent.parent
PASSWORDS = {"anna": "Anna-lösen-123", "tove": "Tove-lösen-456", "adam": "Adam-lösen-789"}
ROLES = {"anna": "redaktor", "tove": "tjansteperson", "adam": "admin"}
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-only",
        "client_id": "hjo-dashboard", "client_secret": "test-only",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def users() -> dict:
    return {name: {"role": ROLES[name], "password_hash": hash_password(pw, n=2**10)}
            for name, pw in PASSWORDS.items()}


def _app(name: str, users: dict | None, **auth_extra: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)
    if users is not None or auth_extra:
        at.secrets["auth"] = {**({"users": users} if users else {}), **auth_extra}
    return at


def _login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="hjo_login_name").input(name)
    at.text_input(key="hjo_login_password").input(password)
    next(b for b in at.button if b.label == "Logga in").click()
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error]
    return "\n".join(str(p.value) for p in parts)


def _logged_in(role: str, name: str, method: str = "password") -> dict:
    now = time.time()
    return {"name": name, "role": role, "method": method, "email": None,
            "last_seen": now, "login_at": now}


# --------------------------------------------------------------------------- login page


def test_wrong_password_swedish_error_and_audit(users: dict) -> None:
    at = _app("login", users)
    at.run()
    assert not at.exception
    _login(at, "anna", "fel-lösenord")
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Fel användarnamn eller lösenord."]
    assert "hjo_auth" not in at.session_state
    log = read_audit()
    assert log["action"].tolist() == ["login_failed"]
    assert log.loc[0, "user"] == "anna"
    raw = "".join(str(v) for v in log.to_numpy().ravel())
    assert "fel-lösenord" not in raw  # the attempted password is never logged


def test_right_password_logs_in_and_shows_role(users: dict) -> None:
    at = _app("login", users)
    at.run()
    _login(at, "Anna", PASSWORDS["anna"])
    assert not at.exception, at.exception
    assert at.session_state["hjo_auth"]["name"] == "anna"
    assert at.session_state["hjo_auth"]["role"] == "redaktor"
    assert "redaktör" in at.success[0].value
    log = read_audit()
    assert log["action"].tolist() == ["login_ok"]
    assert (log.loc[0, "user"], log.loc[0, "role"]) == ("anna", "redaktor")
    # Logging out ends the session and is audited.
    next(b for b in at.button if b.label == "Logga ut").click()
    at.run()
    assert "hjo_auth" not in at.session_state
    assert read_audit()["action"].tolist() == ["login_ok", "logout"]


def test_throttle_waits_for_this_browser_only(users: dict,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliberately changed with issue 13: no hard lock of the name any more. The browser
    that fails waits (1 s after the third failure, doubling); another browser logs in."""
    import ui.auth

    monkeypatch.setattr(ui.auth, "_clock", lambda: 1_800_000_000.0)  # time stands still
    at = _app("login", users)
    at.run()
    for _ in range(2):
        _login(at, "anna", "fel")
        assert at.error[0].value == "Fel användarnamn eller lösenord."
    _login(at, "anna", "fel")
    assert at.error[0].value == ("Fel användarnamn eller lösenord. För många misslyckade "
                                 "inloggningar. Försök igen om 1 sekund.")
    # Now even the right password is refused in this browser (not even checked).
    _login(at, "anna", PASSWORDS["anna"])
    assert "För många misslyckade inloggningar" in at.error[0].value
    assert "hjo_auth" not in at.session_state
    assert read_audit()["action"].tolist() == ["login_failed"]  # the rest is aggregated
    # Another browser is not locked out: anna logs in there.
    other = _app("login", users)
    other.run()
    _login(other, "anna", PASSWORDS["anna"])
    assert not other.error, [e.value for e in other.error]
    assert other.session_state["hjo_auth"]["name"] == "anna"
    log = read_audit()
    assert log["action"].tolist() == ["login_failed", "login_failed", "login_ok"]
    assert log.loc[1, "counts"] == {"failed": 2, "refused": 1, "clients": 1}
    assert "2 misslyckade och 1 spärrade" in log.loc[1, "detail"]


def _idle_for(users: dict, minutes: int) -> tuple[object, dict]:
    """The login page run for anna's session last seen ``minutes`` ago."""
    at = _app("login", users)
    session = _logged_in("redaktor", "anna")
    session["last_seen"] -= minutes * 60
    at.session_state["hjo_auth"] = session
    at.run()
    return at, session


def test_session_times_out(users: dict) -> None:
    at, _ = _idle_for(users, 31)
    assert not at.exception
    assert "hjo_auth" not in at.session_state
    assert "loggats ut efter 30 minuter" in _texts(at)
    log = read_audit()
    assert (log.loc[0, "action"], log.loc[0, "detail"]) == ("logout", "timeout")


def test_idle_session_within_timeout_is_kept_and_refreshed(users: dict) -> None:
    at, fresh = _idle_for(users, 29)
    assert at.session_state["hjo_auth"]["last_seen"] > fresh["last_seen"] + 28 * 60


def test_removed_account_loses_its_session(users: dict) -> None:
    at = _app("login", {k: v for k, v in users.items() if k != "anna"})
    at.session_state["hjo_auth"] = _logged_in("redaktor", "anna")
    at.run()
    assert "hjo_auth" not in at.session_state
    assert at.text_input(key="hjo_login_name")  # the form is shown again


def test_no_accounts_configured_says_so() -> None:
    at = _app("login", None)
    at.run()
    assert not at.exception
    assert "Inloggning är inte konfigurerad" in at.info[0].value
    assert "visas i publikt läge" in at.info[0].value


def test_no_accounts_names_the_mode_hjo_mode_selects(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """HJO_MODE=official without accounts is the officials' mode: the login page must not
    claim the public one."""
    monkeypatch.setenv("HJO_MODE", "official")
    at = _app("login", None)
    at.run()
    assert not at.exception
    text = at.info[0].value
    assert "visas i tjänstepersonsläge" in text and "publikt" not in text


# --------------------------------------------------------------------------- guards


def _guarded_script(role: str) -> None:
    import streamlit as st

    from ui.auth import require_role

    require_role(role)
    st.markdown("HEMLIGT INNEHÅLL")


def _guarded(role: str) -> AppTest:
    return AppTest.from_function(_guarded_script, default_timeout=30, kwargs={"role": role})


@pytest.mark.parametrize(("who", "allowed"), [(None, False), ("tove", False),
                                              ("anna", True), ("adam", True)])
def test_redaktor_only_page(users: dict, who: str | None, allowed: bool) -> None:
    at = _guarded("redaktor")
    at.secrets["auth"] = {"users": users}
    if who:
        at.session_state["hjo_auth"] = _logged_in(ROLES[who], who)
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert ("HEMLIGT INNEHÅLL" in text) is allowed
    if not allowed:
        assert at.warning[0].value == "Logga in som redaktör för att se den här sidan."


def test_session_state_role_is_not_trusted(users: dict) -> None:
    # A session claiming a higher role than the account has gets the account's role.
    at = _guarded("redaktor")
    at.secrets["auth"] = {"users": users}
    at.session_state["hjo_auth"] = _logged_in("admin", "tove")
    at.run()
    assert "HEMLIGT INNEHÅLL" not in _texts(at)
    assert at.session_state["hjo_auth"]["role"] == "tjansteperson"


def test_dev_role_only_without_accounts(users: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HJO_DEV_ROLE", "redaktor")
    at = _guarded("redaktor")
    at.run()
    assert "HEMLIGT INNEHÅLL" in _texts(at)
    at = _guarded("redaktor")
    at.secrets["auth"] = {"users": users}
    at.run()
    assert "HEMLIGT INNEHÅLL" not in _texts(at)


def _audience_script() -> None:
    import streamlit as st

    from ui.auth import current_audience

    st.markdown(f"AUDIENCE={current_audience()}")


@pytest.mark.parametrize(("accounts", "mode", "who", "expected"), [
    (False, "", None, "public"),
    (False, "official", None, "official"),          # dev/tests: HJO_MODE decides
    (True, "official", None, "public"),             # accounts exist: login required
    (True, "official", "tove", "official"),
    (True, "", "tove", "official"),
    (True, "", "anna", "official"),
])
def test_official_mode_requires_login(users: dict, monkeypatch: pytest.MonkeyPatch,
                                      accounts: bool, mode: str, who: str | None,
                                      expected: str) -> None:
    if mode:
        monkeypatch.setenv("HJO_MODE", mode)
    at = AppTest.from_function(_audience_script, default_timeout=30)
    if accounts:
        at.secrets["auth"] = {"users": users}
    if who:
        at.session_state["hjo_auth"] = _logged_in(ROLES[who], who)
    at.run()
    assert f"AUDIENCE={expected}" in _texts(at)


def _page_setup_script() -> None:
    from ui.context import page_setup

    page_setup("Test")


def test_page_setup_badge_follows_login(users: dict, store_with,  # noqa: ANN001
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny store instead of demo data keeps this fast.
    store_with(incidents=incidents([("2024-05-06T10:00", "klotter", "Hjo centrum")]))
    monkeypatch.setenv("HJO_MODE", "official")
    badges = []
    for who in (None, "tove"):
        at = AppTest.from_function(_page_setup_script, default_timeout=30)
        at.secrets["auth"] = {"users": users}
        if who:
            at.session_state["hjo_auth"] = _logged_in(ROLES[who], who)
        at.run()
        assert not at.exception, at.exception
        badges.append(" ".join(m.value for m in at.markdown if "badge" in m.value))
    assert "Publikt läge" in badges[0] and "Tjänstepersonsläge" not in badges[0]
    assert "Tjänstepersonsläge" in badges[1]


# --------------------------------------------------------------------------- OIDC


def test_oidc_user_mapped_to_role(users: dict) -> None:
    at = _app("login", None, **OIDC, roles={"eva@hjo.se": "redaktor"})
    at.user = {"is_logged_in": True, "email": "eva@hjo.se", "name": "Eva"}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["hjo_auth"]["role"] == "redaktor"
    assert at.session_state["hjo_auth"]["method"] == "oidc"
    assert "redaktör" in at.success[0].value
    assert read_audit()["action"].tolist() == ["login_ok"]


def test_oidc_unmapped_user_and_login_button(users: dict) -> None:
    at = _app("login", None, **OIDC, roles={"eva@hjo.se": "redaktor"})
    at.user = {"is_logged_in": True, "email": "okand@example.com"}
    at.run()
    assert "hjo_auth" not in at.session_state
    assert "har ingen roll" in at.warning[0].value
    at = _app("login", None, **OIDC)
    at.user = {"is_logged_in": False}
    at.run()
    labels = [b.label for b in at.button]
    assert "Logga in med kommunens konto" in labels
    assert not at.text_input  # no local form without local accounts


# --------------------------------------------------------------------------- admin


def test_admin_page_needs_admin(users: dict) -> None:
    at = _app("admin", users)
    at.session_state["hjo_auth"] = _logged_in("redaktor", "anna")
    at.run()
    assert at.warning[0].value == "Logga in som administratör för att se den här sidan."
    assert not at.dataframe


def test_admin_page_lists_users_and_audit_without_hashes(users: dict) -> None:
    login = _app("login", users)
    login.run()
    _login(login, "anna", "fel")
    _login(login, "anna", PASSWORDS["anna"])
    at = _app("admin", users)
    at.session_state["hjo_auth"] = _logged_in("admin", "adam")
    at.run()
    assert not at.exception, at.exception
    audit_df = at.dataframe[0].value  # first tab: the audit log
    assert audit_df["Händelse"].tolist() == ["Inloggning", "Misslyckad inloggning"]
    users_df = at.dataframe[1].value  # second tab: the accounts
    assert sorted(users_df["Användare"]) == sorted(PASSWORDS)
    shown = users_df.to_string() + audit_df.to_string() + _texts(at)
    assert "scrypt$" not in shown
    assert all(u["password_hash"] not in shown for u in users.values())


def test_admin_page_creates_a_hash_only_for_a_good_password(users: dict) -> None:
    import tomllib

    from hjo_data.auth import authenticate, load_auth_config

    at = _app("admin", users)
    at.session_state["hjo_auth"] = _logged_in("admin", "adam")
    at.run()

    def submit(name: str, pw: str, again: str | None = None) -> None:
        at.text_input(key="hjo_admin_new_name").input(name)
        at.text_input(key="hjo_admin_new_pw").input(pw)
        at.text_input(key="hjo_admin_new_pw2").input(pw if again is None else again)
        next(b for b in at.button if b.label == "Skapa lösenordshash").click()
        at.run()

    for weak, why in (("1234567890", "minst 12 tecken"), ("lösenord1234", "lätt att gissa")):
        submit("eva", weak)
        assert not at.exception and why in at.error[0].value and not at.code
    submit("eva", "Korrekt häst batteri 7", "annat")
    assert at.error[0].value == "Lösenorden är inte lika."
    submit("Eva", "Korrekt häst batteri 7")
    assert not at.error and not at.exception
    cfg = load_auth_config(tomllib.loads(at.code[0].value))
    assert cfg.accounts["eva"].role == "tjansteperson"
    assert authenticate(cfg.accounts, "eva", "Korrekt häst batteri 7") is not None
    log = read_audit()
    assert log["action"].tolist() == ["user_add"] and log.loc[0, "user"] == "adam"
    assert "Korrekt" not in log.to_string()


def test_login_menu_entry_follows_the_session() -> None:
    from ui.auth import LOGGED_IN_MENU, login_menu_entry

    entry = ("Logga in", ":material/login:")
    assert login_menu_entry("publik", *entry) == entry
    for role in ("tjansteperson", "redaktor", "admin"):
        assert login_menu_entry(role, *entry) == LOGGED_IN_MENU


def test_dashboard_menu_follows_login(users: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit

    shown: list[str] = []
    real_page = streamlit.Page

    def recording_page(*args: object, **kwargs: object) -> object:
        # AppTest has no view of the navigation menu: record what the entry script lists.
        if kwargs.get("visibility", "visible") == "visible":
            shown.append(str(kwargs["title"]))
        return real_page(*args, **kwargs)

    monkeypatch.setattr(streamlit, "Page", recording_page)

    def menu(session: dict | None) -> list[str]:
        shown.clear()
        # A fresh AppTest per state: on a second run AppTest re-registers the pages/ folder.
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.secrets["auth"] = {"users": users}
        if session is not None:
            at.session_state["hjo_auth"] = session
        at.run()
        assert not at.exception
        # every page stays registered (a bookmark reaches the page's own login notice)
        assert "Datahantering" in [p["page_name"] for p in at._registered_pages.values()]
        return list(shown)

    public = menu(None)
    assert "Logga in" in public and "Datahantering" not in public
    editor = menu(_logged_in("redaktor", "anna"))
    assert "Konto och utloggning" in editor and "Logga in" not in editor
    assert "Datahantering" in editor and "Administration" not in editor


def test_bookmarked_restricted_page_shows_a_swedish_login_notice(users: dict) -> None:
    """A link to Datahantering before logging in: the page's own notice in Swedish,
    not Streamlit's English "Page not found" (the page is registered, only hidden)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.secrets["auth"] = {"users": users}
    at.run()
    at.switch_page("pages/datahantering.py")
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Datahantering"]
    assert any("Logga in som redaktör" in w.value for w in at.warning)
    assert not at.get("file_uploader")  # nothing of the page beyond the notice
