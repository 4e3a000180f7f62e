"""Logga in / logga ut: local accounts (password form) or the municipality's OIDC login."""

from __future__ import annotations

import streamlit as st

from hjo_data.disclosure import AUDIENCE_LABEL_SV
from hjo_data.formatting import fmt_number
from ui.auth import (
    auth_config,
    current_audience,
    current_user,
    md_escape,
    oidc_user_info,
    password_login,
    pop_flash,
    sign_out,
)

st.title("Logga in")
cfg = auth_config()
user = current_user(cfg)
message = pop_flash()
if message:
    st.info(message, icon=":material/logout:")

if user is not None:
    st.success(f"Du är inloggad som **{md_escape(user.name)}** med rollen "
               f"**{user.role_label.lower()}**.", icon=":material/verified_user:")
    if user.method == "dev":
        st.caption("Utvecklarläge: inga konton är konfigurerade (HJO_DEV_ROLE).")
    else:
        minutes = fmt_number(cfg.idle_minutes)
        st.caption(f"Du loggas ut automatiskt efter {minutes} minuter utan aktivitet.")
        if st.button("Logga ut", icon=":material/logout:", key="hjo_logout"):
            sign_out()
            st.rerun()
    st.stop()

if not cfg.enabled:
    # Without accounts HJO_MODE decides the mode (ui.auth.current_audience): say which.
    mode = AUDIENCE_LABEL_SV[current_audience()].lower()
    st.info(f"Inloggning är inte konfigurerad på den här installationen, så dashboarden "
            f"visas i {mode}. Se docs/LOGIN.md för hur konton läggs upp.",
            icon=":material/info:")
    st.stop()

if not cfg.accounts and not cfg.oidc:
    st.error("Inloggningen är felkonfigurerad: inget giltigt konto finns i "
             ".streamlit/secrets.toml. Kontakta administratören.", icon=":material/error:")
    for problem in cfg.problems:
        st.caption(problem)
    st.stop()

st.write("Logga in för att se tjänstepersonsläget och, med rätt roll, hantera data.")

if cfg.oidc:
    info = oidc_user_info()
    if info.get("is_logged_in") is True:  # logged in at the IdP but no role here
        st.warning(f"Kontot {md_escape(info.get('email') or '')} har ingen roll i "
                   "dashboarden. Kontakta administratören.", icon=":material/lock:")
        if st.button("Logga ut", key="hjo_oidc_logout"):
            st.logout()
    elif st.button("Logga in med kommunens konto", type="primary",
                   icon=":material/login:", key="hjo_oidc_login"):
        try:
            st.login()
        except Exception as exc:  # noqa: BLE001 - e.g. Authlib missing, bad [auth] section
            st.error("Inloggningen via kommunens identitetstjänst kunde inte startas "
                     f"({type(exc).__name__}). Kontrollera [auth] i secrets.toml och att "
                     "paketet Authlib är installerat.", icon=":material/error:")

if cfg.accounts:
    container = (st.expander("Logga in med lokalt konto") if cfg.oidc else st.container())
    with container, st.form("hjo_login", clear_on_submit=True):
        name = st.text_input("Användarnamn", key="hjo_login_name", autocomplete="username",
                             max_chars=64)
        password = st.text_input("Lösenord", type="password", key="hjo_login_password",
                                 autocomplete="current-password", max_chars=256)
        submitted = st.form_submit_button("Logga in", type="primary", icon=":material/login:")
    if submitted:
        user, error = password_login(name, password, cfg)
        if error:
            st.error(error, icon=":material/error:")
        else:
            st.rerun()
