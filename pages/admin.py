"""Administration (admin only): audit log, accounts (never their hashes), how to add a user."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hjo_data.audit import ACTION_LABELS_SV, read_audit
from hjo_data.auth import ROLE_LABELS_SV, normalize_user_name
from hjo_data.formatting import fmt_int
from hjo_data.passwords import account_snippet, policy_text
from ui.auth import auth_config, record_audit, require_role

COUNT_LABELS_SV = {
    "rows_read": "lästa", "accepted": "godkända", "rejected": "avvisade",
    "duplicates": "dubbletter", "added": "tillagda", "removed": "borttagna",
    "rows": "rader", "findings": "iakttagelser",
}

st.title("Administration")
admin = require_role("admin")
cfg = auth_config()


def _counts_text(counts: object) -> str:
    if not isinstance(counts, dict) or not counts:
        return ""
    return " · ".join(f"{COUNT_LABELS_SV.get(k, k)} {fmt_int(v)}" for k, v in counts.items())


def audit_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The audit log for display: newest first, Swedish headers, text only."""
    # Newest first; ties (same second) keep the log's order, reversed.
    frame = frame.sort_values("time", kind="stable").iloc[::-1]
    return pd.DataFrame({
        "Tid": frame["time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
        "Användare": frame["user"].fillna(""),
        "Roll": frame["role"].map(lambda r: ROLE_LABELS_SV.get(r, "") if isinstance(r, str)
                                  else ""),
        "Händelse": frame["action"].map(lambda a: ACTION_LABELS_SV.get(a, a)),
        "Datamängd": frame["dataset"].fillna(""),
        "Batch": frame["batch_id"].fillna(""),
        "Antal": frame["counts"].map(_counts_text),
        "Detalj": frame["detail"].fillna(""),
    })


tab_log, tab_users = st.tabs(["Granskningslogg", "Konton"])

with tab_log:
    log = read_audit()
    if log.empty:
        st.info("Granskningsloggen är tom.", icon=":material/info:")
    else:
        actions = sorted(log["action"].dropna().unique())
        picked = st.multiselect("Händelse", actions, key="hjo_admin_actions",
                                format_func=lambda a: ACTION_LABELS_SV.get(a, a),
                                placeholder="Alla händelser")
        shown = log[log["action"].isin(picked)] if picked else log
        st.caption(f"{fmt_int(len(shown))} av {fmt_int(len(log))} poster. Loggen kan bara "
                   "läggas till i, aldrig ändras.")
        st.dataframe(audit_table(shown), hide_index=True, key="hjo_admin_audit")

with tab_users:
    for problem in cfg.problems:
        st.warning(problem, icon=":material/warning:")
    if cfg.accounts:
        users = pd.DataFrame({
            "Användare": [a.name for a in cfg.accounts.values()],
            "Roll": [a.role_label for a in cfg.accounts.values()],
        })
        st.dataframe(users, hide_index=True, key="hjo_admin_users")
        st.caption("Lösenord och lösenordshashar visas aldrig.")
    else:
        st.info("Inga lokala konton är konfigurerade.", icon=":material/info:")
    if cfg.oidc:
        st.subheader("Inloggning via kommunens identitetstjänst (OIDC)")
        if cfg.role_map:
            st.dataframe(pd.DataFrame({
                "E-post eller domän": list(cfg.role_map),
                "Roll": [ROLE_LABELS_SV[r] for r in cfg.role_map.values()],
            }), hide_index=True, key="hjo_admin_roles")
        else:
            st.warning("OIDC är konfigurerat men [auth.roles] är tomt: ingen kan få en roll.",
                       icon=":material/warning:")
    st.subheader("Lägga till ett konto")
    st.markdown(
        "1. Kör på servern:\n\n"
        "   ```\n   python -m hjo_data user add NAMN --role redaktor\n   ```\n\n"
        "   Lösenordet frågas efter två gånger och skrivs aldrig ut. Roller: "
        "`tjansteperson`, `redaktor`, `admin`.\n"
        "2. Klistra in det utskrivna avsnittet `[auth.users.NAMN]` i "
        "`.streamlit/secrets.toml` (filen är inte versionshanterad).\n"
        "3. Kontot gäller från nästa sidladdning. Ta bort avsnittet för att stänga kontot.\n\n"
        "Se docs/LOGIN.md för inloggning via kommunens identitetstjänst."
    )
    with st.form("hjo_admin_new_account", clear_on_submit=True):
        st.caption("… eller skapa avsnittet här. " + policy_text())
        new_name = st.text_input("Användarnamn", key="hjo_admin_new_name", max_chars=64)
        new_role = st.selectbox("Roll", ["tjansteperson", "redaktor", "admin"],
                                format_func=ROLE_LABELS_SV.get, key="hjo_admin_new_role")
        pw = st.text_input("Lösenord", type="password", key="hjo_admin_new_pw",
                           autocomplete="new-password", max_chars=256)
        again = st.text_input("Lösenord igen", type="password", key="hjo_admin_new_pw2",
                              autocomplete="new-password", max_chars=256)
        create = st.form_submit_button("Skapa lösenordshash")
    if create:
        try:
            if pw != again:
                raise ValueError("Lösenorden är inte lika.")
            snippet = account_snippet(new_name, new_role, pw)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.code(snippet, language="toml")
            st.caption("Klistra in i .streamlit/secrets.toml på servern. Lösenordet sparas "
                       "inte.")
            record_audit("user_add", admin.name, role=admin.role,
                         detail=f"hash skapad för {normalize_user_name(new_name)} ({new_role})")
