"""Login state for the pages: who is logged in, with which role, and the page guard.

Usage in a page::

    from ui.auth import require_role

    user = require_role("redaktor")   # shows "Logga in som redaktör …" and st.stop()s
    ...

How the audience (public/official) is decided, see :func:`current_audience`:

* Accounts configured (``[auth.users.*]`` and/or OIDC in ``.streamlit/secrets.toml``):
  official only for a logged-in user with role tjänsteperson or higher; ``HJO_MODE`` is
  ignored.
* No accounts configured (development, tests): ``HJO_MODE=official`` selects official mode,
  and ``HJO_DEV_ROLE=redaktor`` (or another role) acts as a logged-in developer so that
  guarded pages can be opened without secrets.

Session state key ``hjo_auth`` holds ``{name, role, method, email, last_seen, login_at}``;
tests may set it directly (the account must still exist in the secrets to count).
"""

from __future__ import annotations

import contextlib
import os
import secrets as _secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from hjo_data import audit
from hjo_data.auth import (
    ROLE_LABELS_SV,
    AuthConfig,
    LoginThrottle,
    User,
    authenticate,
    has_role,
    is_expired,
    load_auth_config,
    normalize_role,
    role_for_email,
)
from hjo_data.formatting import fmt_number
from hjo_data.store import default_root

SESSION_KEY = "hjo_auth"
_SID_KEY = "_hjo_session_id"
_FLASH_KEY = "_hjo_auth_flash"
DEV_ROLE_ENV = "HJO_DEV_ROLE"
MODE_ENV = "HJO_MODE"
LOGIN_PAGE = "pages/login.py"


# --------------------------------------------------------------------------- config


def auth_secrets() -> dict[str, Any]:
    """``st.secrets`` as a plain dict ({} when there is no secrets file)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - a broken secrets file must not break public pages
        return {}


def auth_config() -> AuthConfig:
    """Accounts, OIDC and timeout settings from the secrets."""
    return load_auth_config(auth_secrets())


def oidc_user_info() -> Mapping[str, Any]:
    try:
        return st.user.to_dict()
    except Exception:  # noqa: BLE001 - no script context / no auth section
        return {}


def session_id() -> str:
    """A random id per browser session (the throttle's client key without an address)."""
    sid = st.session_state.get(_SID_KEY)
    if not sid:
        sid = _secrets.token_urlsafe(12)
        st.session_state[_SID_KEY] = sid
    return str(sid)


#: Name of a request header with the client's address, set by the reverse proxy (e.g.
#: "X-Real-IP", see docs/DEPLOY.md). Only trustworthy when the proxy overwrites it.
CLIENT_IP_HEADER_ENV = "HJO_CLIENT_IP_HEADER"
#: Waits before checking a password of a name under attack; the throttle's clock (None =
#: time.time). Tests replace them.
_sleep = time.sleep
_clock: Callable[[], float] | None = None


def client_key() -> str:
    """The throttle's client: the address from the proxy's header (when configured), else
    Streamlit's remote address, else the browser session (local development)."""
    header = os.environ.get(CLIENT_IP_HEADER_ENV, "").strip()
    with contextlib.suppress(Exception):  # no script context / old Streamlit
        if header:
            value = str(st.context.headers.get(header) or "").split(",")[0].strip()
            if value:
                return "ip:" + value[:64]
        address = st.context.ip_address
        if isinstance(address, str) and address:  # (AppTest gives a mock object)
            return "ip:" + address[:64]
    return "session:" + session_id()


def _audit_failures(user: str | None, counts: dict[str, int], detail: str) -> None:
    record_audit("login_failed", user, counts=counts, detail=detail)


def throttle(cfg: AuthConfig | None = None) -> LoginThrottle:
    """The login throttle persisted in the store directory (accounts = known names)."""
    cfg = auth_config() if cfg is None else cfg
    return LoginThrottle.in_dir(default_root(), known_names=cfg.accounts,
                                audit=_audit_failures, clock=_clock)


def record_audit(action: str, user: str | None, **kwargs: Any) -> None:
    """Write an audit entry; a failing disk is reported, never crashes the page."""
    try:
        audit.log_event(action, user, **kwargs)
    except OSError as exc:
        st.error(f"Granskningsloggen kunde inte skrivas: {exc}", icon=":material/error:")


def md_escape(text: object) -> str:
    """Text safe to put inside Markdown (names from an identity provider are not trusted)."""
    out = str(text)
    for ch in "\\`*_{}[]()<>#+-.!|~:$":
        out = out.replace(ch, "\\" + ch)
    return out


def flash(message: str) -> None:
    """Show ``message`` once on the next run of the login page."""
    st.session_state[_FLASH_KEY] = message


def pop_flash() -> str | None:
    return st.session_state.pop(_FLASH_KEY, None)


# --------------------------------------------------------------------------- the user


def _dev_user() -> User | None:
    raw = os.environ.get(DEV_ROLE_ENV, "").strip()
    if not raw:
        return None
    try:
        role = normalize_role(raw)
    except ValueError:
        return None
    return User(name="utvecklare", role=role, method="dev")


def _end_session(reason: str, cfg: AuthConfig) -> None:
    record = st.session_state.pop(SESSION_KEY, None) or {}
    record_audit("logout", record.get("name"), role=record.get("role"), detail=reason)
    if record.get("method") == "oidc" and cfg.oidc:
        with contextlib.suppress(Exception):  # outside a real server
            st.logout()


def current_user(cfg: AuthConfig | None = None) -> User | None:
    """The logged-in user (None = publik). Applies the idle timeout and refreshes it."""
    cfg = auth_config() if cfg is None else cfg
    if not cfg.enabled:
        return _dev_user()
    now = time.time()
    record = st.session_state.get(SESSION_KEY)
    if isinstance(record, dict) and record.get("name"):
        if is_expired(record.get("last_seen"), now, cfg.idle_minutes):
            minutes = fmt_number(cfg.idle_minutes)
            _end_session("timeout", cfg)
            flash(f"Du har loggats ut efter {minutes} minuter utan aktivitet.")
            return None
        user = _validate(record, cfg)
        if user is None:  # account removed or role mapping changed to none
            st.session_state.pop(SESSION_KEY, None)
            return None
        st.session_state[SESSION_KEY] = {**record, "role": user.role, "last_seen": now}
        return user
    if cfg.oidc:
        info = oidc_user_info()
        if info.get("is_logged_in") is True:
            email = str(info.get("email") or "")
            role = role_for_email(cfg.role_map, email)
            if role is not None:
                user = User(name=str(info.get("name") or email), role=role, method="oidc",
                            email=email)
                sign_in(user)
                return user
    return None


def _validate(record: Mapping[str, Any], cfg: AuthConfig) -> User | None:
    method = record.get("method")
    if method == "password":
        account = cfg.accounts.get(str(record.get("name")))
        if account is None:
            return None
        return User(name=account.name, role=account.role, method="password")
    if method == "oidc" and cfg.oidc:
        info = oidc_user_info()
        email = str(record.get("email") or "")
        if info.get("is_logged_in") is not True or str(info.get("email") or "") != email:
            return None
        role = role_for_email(cfg.role_map, email)
        if role is None:
            return None
        return User(name=str(record.get("name")), role=role, method="oidc", email=email)
    return None


def sign_in(user: User) -> None:
    """Start a session for ``user`` (audited as login_ok)."""
    now = time.time()
    st.session_state[SESSION_KEY] = {"name": user.name, "role": user.role,
                                     "method": user.method, "email": user.email,
                                     "last_seen": now, "login_at": now}
    record_audit("login_ok", user.name, role=user.role, detail=user.method)


def sign_out() -> None:
    """End the session (audited as logout); OIDC users are logged out of Streamlit too."""
    _end_session("utloggad", auth_config())


def password_login(name: str, password: str, cfg: AuthConfig | None = None
                   ) -> tuple[User | None, str | None]:
    """Check a login form: (user, None) on success, (None, Swedish error) otherwise."""
    cfg = auth_config() if cfg is None else cfg
    name = (name or "").strip()
    if not name or not password:
        return None, "Fyll i både användarnamn och lösenord."
    gate, client = throttle(cfg), client_key()
    decision = gate.check(name, client)  # audits a refusal (aggregated per name)
    if not decision.allowed:
        return None, _locked_message(decision.wait)
    if decision.delay:  # the name is under attack: hold, never refuse
        _sleep(decision.delay)
    account = authenticate(cfg.accounts, name, password)
    if account is None:
        wait = gate.record_failure(name, client)  # audits (aggregated per name)
        if wait > 0:
            return None, "Fel användarnamn eller lösenord. " + _locked_message(wait)
        return None, "Fel användarnamn eller lösenord."
    gate.record_success(name, client)
    user = User(name=account.name, role=account.role, method="password")
    sign_in(user)
    return user, None


def _locked_message(seconds: float) -> str:
    secs = int(seconds + 0.999)
    span = (f"{(secs + 59) // 60} minuter" if secs >= 120
            else "1 sekund" if secs == 1 else f"{secs} sekunder")
    return f"För många misslyckade inloggningar. Försök igen om {span}."


# --------------------------------------------------------------------------- guards


def current_role() -> str:
    """Role of the session ("publik" when nobody is logged in)."""
    user = current_user()
    return user.role if user is not None else "publik"


#: The login page's menu entry once somebody is logged in (the page holds the logout).
LOGGED_IN_MENU = ("Konto och utloggning", ":material/account_circle:")


def login_menu_entry(role: str, title: str, icon: str) -> tuple[str, str]:
    """Menu title and icon of the login page: "Logga in" only while nobody is logged in."""
    return (title, icon) if role == "publik" else LOGGED_IN_MENU


def current_audience() -> str:
    """"official" or "public" for this session (see the module docstring)."""
    cfg = auth_config()
    user = current_user(cfg)
    if user is not None and has_role(user.role, "tjansteperson"):
        return "official"
    if not cfg.enabled and os.environ.get(MODE_ENV, "").strip().lower() == "official":
        return "official"
    return "public"


def require_role(role: str) -> User:
    """The current user if at least ``role``; otherwise a friendly notice and st.stop()."""
    need = normalize_role(role)
    user = current_user()
    if user is not None and has_role(user.role, need):
        return user
    label = ROLE_LABELS_SV[need].lower()
    st.warning(f"Logga in som {label} för att se den här sidan.", icon=":material/lock:")
    if user is not None:
        st.caption(f"Du är inloggad som {md_escape(user.name)} med rollen "
                   f"{user.role_label.lower()}, som inte räcker för den här sidan.")
    else:
        st.caption("Välj Logga in i menyn.")
    st.stop()
    raise RuntimeError("unreachable")  # st.stop() raises; keeps type checkers happy


def sidebar_user_box() -> None:
    """A small "Inloggad som …" line in the sidebar (nothing when nobody is logged in)."""
    user = current_user()
    message = pop_flash() if user is None else None
    with st.sidebar:
        if message:
            st.info(message, icon=":material/logout:")
        if user is not None:
            st.caption(f":material/person: Inloggad som **{md_escape(user.name)}** "
                       f"({user.role_label})")
