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
* :class:`LoginThrottle` counts failures per (name, client), per client and per name:
  progressive waits (1 s doubling, cap 60 s) for the client that fails, only a short hold
  (at most 3 s) for everybody else while a name is under attack, bounded memory that a
  flood of junk names cannot use to reset an attacked name, aggregated audit lines. See
  the class and docs/LOGIN.md.
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "DEFAULT_IDLE_MINUTES",
    "ROLES",
    "ROLE_LABELS_SV",
    "Account",
    "AuthConfig",
    "LoginDecision",
    "LoginThrottle",
    "Role",
    "ThrottlePolicy",
    "UNKNOWN_NAME",
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

#: The one bucket shared by every name that is not an account: junk names cannot fill the
#: throttle's memory or the audit log, whatever their number.
UNKNOWN_NAME = "*"


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers of :class:`LoginThrottle` (times in seconds).

    A counter counts failures; it is forgotten ``forget_after`` seconds after its last
    failure. After ``free`` failures the next attempt must wait ``base * 2**(f - free)``
    seconds after the last failure (f = failures), at most the cap.
    """

    #: (name, client): failures of one name from one client before that client must wait.
    pair_free: int = 3
    #: client: failures from one client over all names (spraying) before it must wait.
    client_free: int = 10
    base_delay: float = 1.0
    #: Cap of the (name, client) and client waits: progressive delay, never a long lock.
    max_delay: float = 60.0
    #: name: failures from all clients before every attempt for the name is slowed down.
    name_free: int = 10
    name_base_delay: float = 0.25
    #: The most an attempt is held because its name is under attack (never refused).
    name_max_delay: float = 3.0
    forget_after: float = 3600.0
    #: Failed attempts per name are written to the audit log once per window (with counts).
    audit_window: float = 300.0
    #: Bound of the counters kept (memory and file size).
    max_entries: int = 5000

    @staticmethod
    def wait(failures: int, free: int, base: float, cap: float) -> float:
        """Seconds to wait after ``failures`` failures (0 while ``failures < free``)."""
        if failures < free:
            return 0.0
        return float(min(base * 2.0 ** min(failures - free, 60), cap))


@dataclass(frozen=True)
class LoginDecision:
    """Whether a login attempt may be checked now (:meth:`LoginThrottle.check`)."""

    allowed: bool
    #: Refused: seconds until this client may try this name again.
    wait: float = 0.0
    #: Allowed: seconds to hold the attempt before checking the password (name under attack).
    delay: float = 0.0


#: ``audit(user, counts, detail)``: writes one ``login_failed`` line (user None = unknown).
AuditSink = Callable[[str | None, dict[str, int], str], None]


class LoginThrottle:
    """Failed-login counters that a flood can neither reset nor turn against others.

    Three counters per attempt (a *client* is a session id or remote address, chosen by
    the page layer; it is stored hashed):

    * (name, client): progressive wait for that client on that name (1 s, 2 s, 4 s ...
      capped at 60 s after the third failure). Another client is not affected.
    * client: the same over all names (one client spraying many names).
    * name: failures from every client. It never refuses; it only holds each attempt for
      the name up to 3 s (:attr:`LoginDecision.delay`), so the owner of the name, from a
      client without failures, still logs in while an attacker floods the name.

    Names that are not accounts (``known_names``) share one bucket, :data:`UNKNOWN_NAME`.
    Memory is bounded (``max_entries``): expired counters go first, then the least
    suspicious (fewest failures, oldest); the name counters (one per account plus the
    unknown bucket) are never evicted, so junk attempts cannot reset an attacked name.
    Refused attempts cost no hashing and do not extend any wait. Failed and refused
    attempts reach the audit log aggregated: the first of a name's window at once, the rest
    as one line with counts when the window has passed (see :meth:`flush_audit`).

    The state is a JSON file shared by sessions and processes (under ``flock``) and
    survives a restart; ``path=None`` keeps it in memory. ``clock`` (epoch seconds) is
    injectable for tests.
    """

    FILE_NAME = "login_throttle.json"

    def __init__(self, path: str | Path | None = None, *, known_names: Iterable[str] = (),
                 policy: ThrottlePolicy | None = None, clock: Callable[[], float] | None = None,
                 audit: AuditSink | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.known = frozenset(str(n).strip().lower() for n in known_names)
        self.policy = policy if policy is not None else ThrottlePolicy()
        self._clock = clock
        self._audit = audit
        self._memory: dict[str, dict[str, Any]] = {"counters": {}, "audit": {}}
        self._mutex = threading.Lock()

    @classmethod
    def in_dir(cls, root: str | Path, **kwargs: Any) -> LoginThrottle:
        """A throttle persisted as ``<root>/login_throttle.json``."""
        return cls(Path(root) / cls.FILE_NAME, **kwargs)

    # ------------------------------------------------------------------ keys
    def now(self) -> float:
        return float(self._clock()) if self._clock is not None else time.time()

    def bucket(self, name: str) -> str:
        """The counter name of a user name: itself for an account, else the shared bucket."""
        text = str(name).strip().lower()
        return text if text in self.known else UNKNOWN_NAME

    @staticmethod
    def client_id(client: str) -> str:
        """Short hash of a client key (no addresses or session ids in the state file)."""
        return hashlib.sha256(str(client).encode("utf-8", "replace")).hexdigest()[:16]

    def _keys(self, name: str, client: str) -> tuple[str, str, str, str, str]:
        bucket, cid = self.bucket(name), self.client_id(client)
        return bucket, cid, f"p:{bucket}|{cid}", f"c:{cid}", f"n:{bucket}"

    def _failures(self, counters: Mapping[str, list[float]], key: str, now: float) -> int:
        entry = counters.get(key)
        if entry is None or now - entry[1] > self.policy.forget_after:
            return 0
        return int(entry[0])

    def _wait(self, counters: Mapping[str, list[float]], key: str, free: int,
              now: float) -> float:
        failures = self._failures(counters, key, now)
        pol = self.policy
        wait = pol.wait(failures, free, pol.base_delay, pol.max_delay)
        return max(0.0, counters[key][1] + wait - now) if wait else 0.0

    # ------------------------------------------------------------------ public
    def check(self, name: str, client: str) -> LoginDecision:
        """May ``client`` try ``name`` now? A refusal is counted for the audit log."""
        now = self.now()
        bucket, cid, pair, client_key, name_key = self._keys(name, client)
        with self._transaction() as state:
            self._flush_due(state, now)
            counters = state["counters"]
            wait = max(self._wait(counters, pair, self.policy.pair_free, now),
                       self._wait(counters, client_key, self.policy.client_free, now))
            if wait > 0:
                self._note(state, bucket, cid, "refused", now)
                return LoginDecision(False, wait=wait)
            pol = self.policy
            delay = pol.wait(self._failures(counters, name_key, now), pol.name_free,
                             pol.name_base_delay, pol.name_max_delay)
            return LoginDecision(True, delay=delay)

    def record_failure(self, name: str, client: str) -> float:
        """Count a wrong password; returns how long this client must now wait for ``name``."""
        now = self.now()
        bucket, cid, pair, client_key, name_key = self._keys(name, client)
        with self._transaction() as state:
            counters = state["counters"]
            for key in (pair, client_key, name_key):
                counters[key] = [self._failures(counters, key, now) + 1, now]
            self._prune(counters, now)
            self._note(state, bucket, cid, "failed", now)
            return max(self._wait(counters, pair, self.policy.pair_free, now),
                       self._wait(counters, client_key, self.policy.client_free, now))

    def record_success(self, name: str, client: str) -> None:
        """The right password: clears this (name, client) counter and writes the name's
        pending failures to the audit log first (so the log reads in order). The name
        and client counters stay: an attack on the name need not be over."""
        now = self.now()
        bucket, _cid, pair, _client_key, _name_key = self._keys(name, client)
        with self._transaction() as state:
            state["counters"].pop(pair, None)
            pending = state["audit"].pop(bucket, None)
            if pending is not None:
                self._emit_window(bucket, pending, now)

    def flush_audit(self, *, force: bool = False) -> int:
        """Write the audit lines of windows that have ended (``force``: of all windows);
        returns how many lines were written."""
        with self._transaction() as state:
            return self._flush_due(state, self.now(), force=force)

    def entry_count(self) -> int:
        """Number of counters kept (bounded by ``policy.max_entries``)."""
        with self._transaction() as state:
            return len(state["counters"])

    def failures(self, name: str, client: str | None = None) -> int:
        """Current failures of ``name`` from all clients, or from ``client`` only."""
        _bucket, _cid, pair, _client_key, name_key = self._keys(name, client or "")
        with self._transaction() as state:
            return self._failures(state["counters"], pair if client else name_key,
                                  self.now())

    # ------------------------------------------------------------------ audit
    def _note(self, state: dict[str, Any], bucket: str, cid: str, kind: str,
              now: float) -> None:
        """Count one failed/refused attempt in the name's audit window; the first of a
        window is written at once."""
        pending = state["audit"].get(bucket)
        if pending is not None and now - pending["start"] >= self.policy.audit_window:
            self._emit_window(bucket, pending, now)
            pending = None
        if pending is None:
            state["audit"][bucket] = {"start": now, "failed": 0, "refused": 0, "clients": []}
            detail = ("fel användarnamn eller lösenord" if kind == "failed"
                      else "spärrad (för många försök)")
            self._emit(bucket, {kind: 1}, detail)
            return
        pending[kind] = int(pending.get(kind, 0)) + 1
        clients = pending.setdefault("clients", [])
        if cid not in clients and len(clients) < 100:
            clients.append(cid)

    def _flush_due(self, state: dict[str, Any], now: float, *, force: bool = False) -> int:
        written = 0
        for bucket, pending in list(state["audit"].items()):
            if force or now - pending["start"] >= self.policy.audit_window:
                del state["audit"][bucket]
                written += self._emit_window(bucket, pending, now)
        return written

    def _emit_window(self, bucket: str, pending: Mapping[str, Any], now: float) -> int:
        failed, refused = int(pending.get("failed", 0)), int(pending.get("refused", 0))
        if failed + refused == 0:
            return 0
        clients = len(pending.get("clients", []))
        start = time.strftime("%H:%M:%S", time.localtime(pending["start"]))
        end = time.strftime("%H:%M:%S", time.localtime(now))
        more = "fler än " if clients >= 100 else ""
        detail = (f"{failed} misslyckade och {refused} spärrade försök till från "
                  f"{more}{clients} klient{'er' if clients != 1 else ''} {start}–{end}")
        self._emit(bucket, {"failed": failed, "refused": refused, "clients": clients},
                   detail)
        return 1

    def _emit(self, bucket: str, counts: dict[str, int], detail: str) -> None:
        if self._audit is None:
            return
        unknown = bucket == UNKNOWN_NAME
        self._audit(None if unknown else bucket, counts,
                    ("okänt användarnamn: " if unknown else "") + detail)

    # ------------------------------------------------------------------ storage
    def _prune(self, counters: dict[str, list[float]], now: float) -> None:
        """Keep at most ``max_entries`` counters: expired first, then the least suspicious
        (fewest failures, oldest). Name counters are never evicted (their number is
        bounded by the accounts). Prunes to 90 % so that a flood sorts rarely."""
        limit = self.policy.max_entries
        if len(counters) <= limit:
            return
        for key in [k for k, e in counters.items()
                    if now - e[1] > self.policy.forget_after]:
            del counters[key]
        if len(counters) <= limit:
            return
        evictable = sorted((k for k in counters if not k.startswith("n:")),
                           key=lambda k: (counters[k][0], counters[k][1]))
        excess = len(counters) - int(limit * 0.9)
        for key in evictable[:max(0, excess)]:
            del counters[key]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[dict[str, Any]]:
        """The state under the mutex and (persisted) the file lock; written back if changed."""
        with self._mutex:
            if self.path is None:
                yield self._memory
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                state = self._read_file()
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    self._write_file(state)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _read_file(self) -> dict[str, Any]:
        assert self.path is not None
        state: dict[str, Any] = {"counters": {}, "audit": {}}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return state
        if not isinstance(data, dict) or data.get("version") != 2:
            return state  # unreadable or the old format: start afresh
        for key, entry in (data.get("counters") or {}).items():
            try:
                state["counters"][str(key)] = [int(entry[0]), float(entry[1])]
            except (TypeError, ValueError, IndexError, KeyError):
                continue
        for bucket, pending in (data.get("audit") or {}).items():
            if isinstance(pending, dict) and isinstance(pending.get("start"), (int, float)):
                state["audit"][str(bucket)] = pending
        return state

    def _write_file(self, state: Mapping[str, Any]) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 2, **state}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
