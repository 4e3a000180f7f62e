"""Password policy for local accounts: long enough and not easy to guess.

A new password must

* have at least :data:`MIN_LENGTH` (12) characters, and
* not be one of the common passwords of zxcvbn's frequency list (30 000 passwords from
  real leaks, maintained with the package; compared case-insensitively), and
* get a zxcvbn score of at least :data:`MIN_SCORE` (3 of 4: "safely unguessable", about
  10^8 guesses or more). zxcvbn also knows common words, names, dates, keyboard rows and
  repeats; :data:`CONTEXT_WORDS` (the Swedish word for password, the dashboard's own
  words) and the user name are given to it as "user inputs", the site vocabulary zxcvbn
  is designed to take, so "lösenord1234" counts as easy.

:func:`password_problem` returns the Swedish reason a password is refused (None = OK).
It is used wherever a password is set (``python -m hjo_data user add``, the
Administration page's hash form). zxcvbn is imported here only, so pages that never set
a password do not pay its ~50 ms import.
"""

from __future__ import annotations

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from hjo_data.auth import hash_password, normalize_role, normalize_user_name

__all__ = ["CONTEXT_WORDS", "MIN_LENGTH", "MIN_SCORE", "account_snippet", "check_account",
           "password_problem", "policy_text"]

MIN_LENGTH = 12
MIN_SCORE = 3
#: zxcvbn refuses longer input; the first 72 characters are judged (a longer password is
#: at least as strong as its prefix).
_ZXCVBN_MAX = 72
#: Site vocabulary (zxcvbn "user inputs"): words an attacker tries first against this site.
CONTEXT_WORDS: tuple[str, ...] = (
    "lösenord", "losenord", "hjo", "kommun", "trygghet", "trygghetsdashboard",
    "dashboard", "medborgarlöfte", "polisen", "redaktör", "admin",
)
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])

#: zxcvbn's warnings (English) -> Swedish explanation.
_WARNINGS_SV: tuple[tuple[str, str], ...] = (
    ("common password", "det liknar ett vanligt lösenord"),
    ("repeats", "det består av upprepningar"),
    ("sequences", "det innehåller en enkel följd (t.ex. abc eller 1234)"),
    ("recent years", "det innehåller ett årtal"),
    ("dates", "det innehåller ett datum"),
    ("keyboard", "det följer tangentbordet"),
    ("keys", "det följer tangentbordet"),
    ("names", "det bygger på ett namn"),
    ("word by itself", "det är ett vanligt ord"),
)


def policy_text() -> str:
    """The rule in one Swedish sentence (shown where a password is chosen)."""
    return (f"Minst {MIN_LENGTH} tecken, inte ett vanligt lösenord och inte lätt att gissa "
            "(t.ex. ett ord med siffror efter). Flera ovanliga ord fungerar bra.")


def password_problem(password: str, *, user_name: str | None = None) -> str | None:
    """Swedish reason why ``password`` may not be used, or None when it is acceptable."""
    if not isinstance(password, str) or password == "":
        return "Lösenordet får inte vara tomt."
    if len(password) < MIN_LENGTH:
        return f"Lösenordet måste ha minst {MIN_LENGTH} tecken (det har {len(password)})."
    if password.strip().lower() in _COMMON:
        return ("Lösenordet finns i listan över vanliga lösenord från läckta "
                "lösenordsdatabaser. Välj ett annat.")
    inputs = [*CONTEXT_WORDS, *([user_name] if user_name else [])]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    if int(result["score"]) >= MIN_SCORE:
        return None
    warning = str(result.get("feedback", {}).get("warning") or "").lower()
    why = next((sv for key, sv in _WARNINGS_SV if key in warning),
               "det bygger på vanliga ord, namn eller siffror")
    return (f"Lösenordet är för lätt att gissa: {why}. Använd flera ovanliga ord "
            "eller en längre fras.")


def check_account(name: str, role: str) -> tuple[str, str]:
    """(normalised name, role) of a new local account; ValueError (Swedish) when unusable."""
    name = normalize_user_name(name)
    role = normalize_role(role)
    if role == "publik":
        raise ValueError("Rollen publik behöver inget konto.")
    return name, role


def account_snippet(name: str, role: str, password: str) -> str:
    """The ``[auth.users."NAME"]`` section for ``.streamlit/secrets.toml`` with a fresh
    scrypt hash; ValueError (Swedish) for a bad name, role or password (the policy)."""
    name, role = check_account(name, role)
    problem = password_problem(password, user_name=name)
    if problem is not None:
        raise ValueError(problem)
    return (f'[auth.users."{name}"]\nrole = "{role}"\n'
            f'password_hash = "{hash_password(password)}"')
