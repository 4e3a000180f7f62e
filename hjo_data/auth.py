"""Accounts, roles, password hashes, login throttling and session timeout (pure Python).

Accounts live outside the repository, in ``.streamlit/secrets.toml`` (git-ignored)::

    [auth]
    idle_timeout_minutes = 30          # optional (default 30)

    [auth.users.anna]
    role = "redaktor"
    password_hash = "scrypt$16384$8$1$<salt>$<hash>"   # python -m hjo_data user add anna

    [auth.roles]                       # OIDC (st.login): e-mail -> role
    "anna.svensson@hjo.se" = "redaktor"
    "@hjo.se" = "tjansteperson"        # a key starting with "@" matches a whole domain

The page layer (ui/auth.py) passes ``st.secrets`` (or any nested mapping) to
:func:`load_auth_config`; nothing here imports streamlit.

Choices worth knowing:

* Hashes are scrypt (n=2**14, r=8, p=1, 16-byte random salt) in a self-describing string,
  so the cost can be raised later without breaking existing hashes. Parameters read from a
  hash are bounded (a hostile or mistyped config cannot make verification eat the memory).
* :func:`authenticate` runs one scrypt verification whatever the outcome (a dummy hash for
  an unknown name), so response time does not reveal which user names exist.
* :class:`LoginThrottle` counts failures per key (``user:<name>`` and ``session:<id>``);
  from the 5th failure in a row the key is locked for 30 s, doubling with every further
  failure (cap 1 h). The state is a small JSON file in the store directory (shared between
  sessions and processes, survives a restart); entries are forgotten a day after the last
  failure. Unknown names are throttled like known ones (no enumeration by lock behaviour).
* Session timeout is a pure function of timestamps (:func:`is_expired`); the page layer
  keeps ``last_seen`` in the session state.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "DEFAULT_IDLE_MINUTES",
    "ROLES",
    "ROLE_LABELS_SV",
    "Account",
    "AuthConfig",
    "LoginThrottle",
    "Role",
    "User",
    "authenticate",
    "has_role",
    "hash_password",
    "is_expired",
    "is_valid_hash",
    "load_accounts",
    "load_auth_config",
    "normalize_role",
    "normalize_user_name",
    "oidc_configured",
    "role_for_email",
    "seconds_left",
    "verify_password",
]

Role = Literal["publik", "tjansteperson", "redaktor", "admin"]
#: Roles from least to most privileged: each role may do everything the ones before it may.
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_LABELS_SV: dict[str, str] = {
    "publik": "Publik",
    "tjansteperson": "Tjänsteperson",
    "redaktor": "Redaktör",
    "admin": "Administratör",
}
_ROLE_ALIASES = {
    "public": "publik",
    "tjänsteperson": "tjansteperson",
    "official": "tjansteperson",
    "redaktör": "redaktor",
    "editor": "redaktor",
    "administratör": "admin",
    "administrator": "admin",
}

DEFAULT_IDLE_MINUTES = 30.0

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAX_N = 2**20  # bounds for parameters read from a stored hash
_MAX_R = 32
_MAX_P = 16
_MAX_COST = 2**20  # n*r*p: 8 times the default work, so a hostile hash cannot stall a login
_MAXMEM = 256 * 1024 * 1024

_USER_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


# --------------------------------------------------------------------------- roles


def normalize_role(value: str) -> Role:
    """Canonical role name ("Redaktör" -> "redaktor"); ValueError (Swedish) when unknown."""
    text = str(value).strip().lower()
    text = _ROLE_ALIASES.get(text, text)
    if text not in ROLES:
        raise ValueError(
            f"Okänd roll {value!r}: ska vara en av {', '.join(ROLES)}."
        )
    return text  # type: ignore[return-value]


def has_role(user_role: str | None, required: str) -> bool:
    """True when ``user_role`` is at least ``required`` (None or unknown = publik)."""
    need = ROLES.index(normalize_role(required))
    if user_role is None:
        return need == 0
    try:
        have = ROLES.index(normalize_role(user_role))
    except ValueError:
        have = 0
    return have >= need


def normalize_user_name(name: str) -> str:
    """Lower-case user name; ValueError (Swedish) unless it is 1–64 of a-z 0-9 . _ -."""
    text = str(name).strip().lower()
    if not _USER_NAME_RE.match(text):
        raise ValueError(
            "Ogiltigt användarnamn: använd 1–64 tecken a–z, 0–9, punkt, bindestreck eller "
            "understreck (börja med en bokstav eller siffra)."
        )
    return text


# --------------------------------------------------------------------------- hashing


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, n: int = SCRYPT_N,
                  r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Salted scrypt hash as ``"scrypt$n$r$p$salt_b64$hash_b64"``."""
    if not isinstance(password, str) or password == "":
        raise ValueError("Lösenordet får inte vara tomt.")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                            maxmem=_MAXMEM, dklen=_HASH_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    """(n, r, p, salt, digest) of a well-formed, sanely bounded hash string; else None."""
    parts = str(encoded).strip().split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        return None
    if n * r * p > _MAX_COST or 128 * n * r > _MAXMEM // 2:
        return None
    if len(salt) < 8 or len(digest) < 16:
        return None
    return n, r, p, salt, digest


def is_valid_hash(encoded: str) -> bool:
    """True when ``encoded`` is a well-formed scrypt hash string this module can verify."""
    return _parse_hash(encoded) is not None


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against a hash string (False when malformed)."""
    parsed = _parse_hash(encoded)
    if parsed is None or not isinstance(password, str):
        return False
    n, r, p, salt, digest = parsed
    try:
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                                   maxmem=_MAXMEM, dklen=len(digest))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, digest)


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Account:
    """One local account. ``password_hash`` never appears in repr or in listings."""

    name: str
    role: Role
    password_hash: str = field(repr=False)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_SV[self.role]


@dataclass(frozen=True)
class AuthConfig:
    """Everything auth-related read from the secrets mapping."""

    accounts: dict[str, Account]
    #: Problems with the configuration (Swedish), e.g. an account without a valid hash.
    problems: tuple[str, ...] = ()
    oidc: bool = False
    #: OIDC e-mail (lower case, or "@domain") -> role.
    role_map: dict[str, Role] = field(default_factory=dict)
    idle_minutes: float = DEFAULT_IDLE_MINUTES
    #: The secrets declare users or OIDC keys, even if none is valid (fail closed).
    declared: bool = False

    @property
    def enabled(self) -> bool:
        """True when login is configured (then official mode needs a login).

        A configuration whose every account is broken still counts: a typo must not
        silently reopen the ``HJO_MODE=official`` development switch.
        """
        return bool(self.accounts) or self.oidc or self.declared


def _plain(value: Any) -> Any:
    """Nested Mapping (st.secrets AttrDict) -> plain dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _auth_section(secrets_map: Mapping[str, Any] | None) -> dict[str, Any]:
    if not secrets_map:
        return {}
    section = _plain(secrets_map).get("auth", {})
    return section if isinstance(section, dict) else {}


_OIDC_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret",
              "server_metadata_url")


def oidc_configured(secrets_map: Mapping[str, Any] | None) -> bool:
    """True when ``[auth]`` has what ``st.login()`` needs for the default provider."""
    auth = _auth_section(secrets_map)
    return all(isinstance(auth.get(k), str) and auth.get(k, "").strip() for k in _OIDC_KEYS)


def load_auth_config(secrets_map: Mapping[str, Any] | None) -> AuthConfig:
    """Read ``[auth]``: users, OIDC role map, idle timeout. Bad entries become problems."""
    auth = _auth_section(secrets_map)
    problems: list[str] = []
    accounts: dict[str, Account] = {}
    users = auth.get("users", {})
    if not isinstance(users, dict):
        users = {}
        problems.append("[auth.users] ska vara en tabell med ett avsnitt per användare.")
    for raw_name, entry in users.items():
        try:
            name = normalize_user_name(raw_name)
        except ValueError as exc:
            problems.append(f"Användaren {raw_name!r} hoppas över: {exc}")
            continue
        if not isinstance(entry, dict):
            problems.append(f"Användaren {name!r} hoppas över: avsnittet saknar innehåll.")
            continue
        try:
            role = normalize_role(entry.get("role", ""))
        except ValueError as exc:
            problems.append(f"Användaren {name!r} hoppas över: {exc}")
            continue
        pw_hash = str(entry.get("password_hash", ""))
        if not is_valid_hash(pw_hash):
            problems.append(f"Användaren {name!r} hoppas över: password_hash saknas eller är "
                            "ogiltig (skapa den med python -m hjo_data user add).")
            continue
        if name in accounts:
            problems.append(f"Användaren {name!r} finns två gånger; den första gäller.")
            continue
        accounts[name] = Account(name=name, role=role, password_hash=pw_hash)
    role_map: dict[str, Role] = {}
    roles = auth.get("roles", {})
    if isinstance(roles, dict):
        for email, role in roles.items():
            try:
                role_map[str(email).strip().lower()] = normalize_role(str(role))
            except ValueError as exc:
                problems.append(f"[auth.roles] {email!r}: {exc}")
    idle = auth.get("idle_timeout_minutes", DEFAULT_IDLE_MINUTES)
    try:
        idle_minutes = float(idle)
        if not idle_minutes > 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("idle_timeout_minutes ska vara ett positivt tal; 30 används.")
        idle_minutes = DEFAULT_IDLE_MINUTES
    declared = bool(users) or any(k in auth for k in _OIDC_KEYS)
    return AuthConfig(accounts=accounts, problems=tuple(problems),
                      oidc=oidc_configured(secrets_map), role_map=role_map,
                      idle_minutes=idle_minutes, declared=declared)


def load_accounts(secrets_map: Mapping[str, Any] | None) -> dict[str, Account]:
    """The valid local accounts of ``[auth.users.NAME]`` (name -> Account)."""
    return load_auth_config(secrets_map).accounts


def role_for_email(role_map: Mapping[str, str], email: str | None) -> Role | None:
    """Role of an OIDC user: exact e-mail first, then ``"@domain"``; None when unmapped."""
    if not email:
        return None
    key = str(email).strip().lower()
    role = role_map.get(key)
    if role is None and "@" in key:
        role = role_map.get("@" + key.rsplit("@", 1)[1])
    return normalize_role(role) if role is not None else None


def authenticate(accounts: Mapping[str, Account], name: str, password: str) -> Account | None:
    """The account when name and password match, else None (one scrypt run either way)."""
    try:
        key = normalize_user_name(name)
    except ValueError:
        key = ""
    account = accounts.get(key) if key else None
    encoded = account.password_hash if account is not None else _dummy_hash()
    ok = verify_password(password or "", encoded)
    return account if ok and account is not None else None


@dataclass(frozen=True)
class User:
    """The person behind a session: ``method`` is "password", "oidc" or "dev"."""

    name: str
    role: Role
    method: str = "password"
    email: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_SV[self.role]

    def has_role(self, required: str) -> bool:
        return has_role(self.role, required)


# --------------------------------------------------------------------------- session timeout


def is_expired(last_seen: float | None, now: float, idle_minutes: float = DEFAULT_IDLE_MINUTES
               ) -> bool:
    """True when more than ``idle_minutes`` passed since ``last_seen`` (epoch seconds).

    A missing ``last_seen`` counts as expired (no activity recorded = no valid session).
    """
    if last_seen is None:
        return True
    return now - float(last_seen) > idle_minutes * 60.0


def seconds_left(last_seen: float | None, now: float,
                 idle_minutes: float = DEFAULT_IDLE_MINUTES) -> float:
    """Seconds until the session times out (0 when already expired)."""
    if last_seen is None:
        return 0.0
    return max(0.0, idle_minutes * 60.0 - (now - float(last_seen)))


# --------------------------------------------------------------------------- throttling


class LoginThrottle:
    """Failed-login counter with growing lock-out, optionally persisted in a JSON file.

    ``keys`` are strings such as ``LoginThrottle.user_key("anna")`` and
    ``LoginThrottle.session_key(session_id)``; a login is refused while any of its keys is
    locked. Times are epoch seconds (pass ``now`` in tests).
    """

    FILE_NAME = "login_throttle.json"

    def __init__(self, path: str | Path | None = None, *, max_failures: int = 5,
                 base_delay: float = 30.0, max_delay: float = 3600.0,
                 forget_after: float = 86400.0, max_entries: int = 5000) -> None:
        self.path = Path(path) if path is not None else None
        self.max_failures = max_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_entries = max_entries
        self._state: dict[str, dict[str, float]] = {}
        self._mutex = threading.Lock()

    @classmethod
    def in_dir(cls, root: str | Path, **kwargs: Any) -> LoginThrottle:
        """A throttle persisted as ``<root>/login_throttle.json``."""
        return cls(Path(root) / cls.FILE_NAME, **kwargs)

    @staticmethod
    def user_key(name: str) -> str:
        return "user:" + str(name).strip().lower()[:128]

    @staticmethod
    def session_key(session_id: str) -> str:
        return "session:" + str(session_id)[:128]

    # ------------------------------------------------------------------ policy
    def delay_after(self, failures: int) -> float:
        """Lock-out in seconds after ``failures`` consecutive failures (0 below the limit)."""
        if failures < self.max_failures:
            return 0.0
        return float(min(self.base_delay * 2 ** (failures - self.max_failures), self.max_delay))

    def _locked_until(self, entry: Mapping[str, float]) -> float:
        return float(entry.get("last", 0.0)) + self.delay_after(int(entry.get("failures", 0)))

    # ------------------------------------------------------------------ public
    def locked_for(self, keys: Iterable[str], now: float | None = None) -> float:
        """Seconds the login stays locked for these keys (0.0 = may try now)."""
        now = time.time() if now is None else now
        with self._locked_state() as state:
            waits = [self._locked_until(state[k]) - now for k in keys if k in state]
        return max([0.0, *waits])

    def failures(self, key: str) -> int:
        with self._locked_state() as state:
            return int(state.get(key, {}).get("failures", 0))

    def record_failure(self, keys: Iterable[str], now: float | None = None) -> float:
        """Count one failure for every key; returns the resulting lock-out in seconds."""
        now = time.time() if now is None else now
        keys = list(keys)
        with self._locked_state(write=True) as state:
            for k in keys:
                entry = state.get(k)
                stale = entry is None or now - float(entry.get("last", 0.0)) > self.forget_after
                before = 0 if stale or entry is None else int(entry.get("failures", 0))
                state[k] = {"failures": before + 1, "last": now}
            self._prune(state, now)
            waits = [self._locked_until(state[k]) - now for k in keys]
        return max([0.0, *waits])

    def record_success(self, keys: Iterable[str]) -> None:
        """A successful login clears the counters of its keys."""
        keys = list(keys)
        with self._locked_state(write=True) as state:
            for k in keys:
                state.pop(k, None)

    # ------------------------------------------------------------------ storage
    def _prune(self, state: dict[str, dict[str, float]], now: float) -> None:
        for k in [k for k, e in state.items()
                  if now - float(e.get("last", 0.0)) > self.forget_after
                  and self._locked_until(e) <= now]:
            del state[k]
        if len(state) > self.max_entries:  # flood of names: keep the most recent ones
            keep = sorted(state, key=lambda k: state[k].get("last", 0.0))[-self.max_entries:]
            for k in set(state) - set(keep):
                del state[k]

    @contextlib.contextmanager
    def _locked_state(self, write: bool = False):  # noqa: ANN202 - context manager
        with self._mutex:
            if self.path is None:
                yield self._state
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                state = self._read_file()
                self._state = state
                yield state
                if write:
                    self._write_file(state)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _read_file(self) -> dict[str, dict[str, float]]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        out: dict[str, dict[str, float]] = {}
        for k, e in data.items():
            if isinstance(e, dict):
                try:
                    out[str(k)] = {"failures": int(e.get("failures", 0)),
                                   "last": float(e.get("last", 0.0))}
                except (TypeError, ValueError):
                    continue
        return out

    def _write_file(self, state: Mapping[str, Mapping[str, float]]) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
