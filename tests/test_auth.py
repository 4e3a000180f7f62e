"""hjo_data.auth: hashes, roles, account config, throttling, session timeout."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from hjo_data import auth
from hjo_data.auth import (
    ROLES,
    authenticate,
    has_role,
    hash_password,
    is_expired,
    load_auth_config,
    normalize_role,
    normalize_user_name,
    oidc_configured,
    role_for_email,
    seconds_left,
    verify_password,
)

FAST = {"n": 2**10}  # cheap hashes where the cost does not matter


# --------------------------------------------------------------------------- hashing


def test_hash_format_and_independent_recomputation() -> None:
    encoded = hash_password("korrekt häst batteri")
    kind, n, r, p, salt_b64, hash_b64 = encoded.split("$")
    assert (kind, n, r, p) == ("scrypt", str(2**14), "8", "1")
    salt = base64.b64decode(salt_b64)
    assert len(salt) == 16
    expected = hashlib.scrypt("korrekt häst batteri".encode(), salt=salt, n=2**14, r=8, p=1,
                              dklen=32)
    assert base64.b64decode(hash_b64) == expected


def test_hashes_are_salted() -> None:
    a, b = hash_password("samma lösenord", **FAST), hash_password("samma lösenord", **FAST)
    assert a != b
    assert verify_password("samma lösenord", a) and verify_password("samma lösenord", b)


def test_verify_right_wrong_and_malformed() -> None:
    encoded = hash_password("rätt-lösenord", **FAST)
    assert verify_password("rätt-lösenord", encoded)
    assert not verify_password("fel-lösenord", encoded)
    assert not verify_password("rätt-lösenord ", encoded)
    assert not verify_password("", encoded)
    parts = encoded.split("$")
    for bad in ("", "scrypt", "plain$abc", encoded.replace("scrypt", "bcrypt"),
                "$".join(parts[:5]), "$".join([*parts[:4], "!!inte-base64!!", parts[5]]),
                "$".join([parts[0], "1000", *parts[2:]])):  # n not a power of two
        assert not verify_password("rätt-lösenord", bad), bad


def test_tampered_hash_fails() -> None:
    encoded = hash_password("rätt-lösenord", **FAST)
    parts = encoded.split("$")
    digest = bytearray(base64.b64decode(parts[5]))
    digest[0] ^= 1
    parts[5] = base64.b64encode(bytes(digest)).decode()
    assert not verify_password("rätt-lösenord", "$".join(parts))


def test_hostile_cost_parameters_are_refused_without_running() -> None:
    salt = base64.b64encode(b"s" * 16).decode()
    digest = base64.b64encode(b"d" * 32).decode()
    for n, r, p in ((2**20, 32, 16), (2**20, 8, 1), (2**30, 1, 1)):
        assert not auth.is_valid_hash(f"scrypt${n}${r}${p}${salt}${digest}")


def test_verify_uses_constant_time_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = auth.hmac.compare_digest

    def spy(a, b):  # noqa: ANN001, ANN202
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    encoded = hash_password("x" * 12, **FAST)
    assert verify_password("x" * 12, encoded)
    assert not verify_password("y" * 12, encoded)
    assert len(calls) == 2


def test_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="tomt"):
        hash_password("")


# --------------------------------------------------------------------------- roles


def test_role_order_matrix() -> None:
    order = ["publik", "tjansteperson", "redaktor", "admin"]
    assert list(ROLES) == order
    for i, have in enumerate(order):
        for j, need in enumerate(order):
            assert has_role(have, need) is (i >= j), (have, need)
    assert has_role(None, "publik") and not has_role(None, "tjansteperson")
    assert not has_role("okänd", "tjansteperson")


def test_role_aliases_and_errors() -> None:
    assert normalize_role("Redaktör") == "redaktor"
    assert normalize_role(" tjänsteperson ") == "tjansteperson"
    assert normalize_role("ADMIN") == "admin"
    with pytest.raises(ValueError, match="Okänd roll"):
        normalize_role("chef")


def test_user_names() -> None:
    assert normalize_user_name(" Anna.Svensson ") == "anna.svensson"
    for bad in ("", "../etc", "a b", "å" * 3, "x" * 65, '"; drop', "-anna"):
        with pytest.raises(ValueError):
            normalize_user_name(bad)


# --------------------------------------------------------------------------- config


def _secrets(**users: tuple[str, str]) -> dict:
    return {"auth": {"users": {name: {"role": role, "password_hash": h}
                               for name, (role, h) in users.items()}}}


def test_load_accounts_and_problems() -> None:
    good = hash_password("lösenord-anna", **FAST)
    cfg = load_auth_config({"auth": {
        "users": {
            "Anna": {"role": "redaktör", "password_hash": good},
            "bo": {"role": "chef", "password_hash": good},
            "cecilia": {"role": "admin"},
            "../x": {"role": "admin", "password_hash": good},
            "dan": {"role": "tjansteperson", "password_hash": "scrypt$1$2$3$4$5"},
        },
        "roles": {"Eva@Hjo.se": "admin", "@hjo.se": "tjänsteperson", "x@y.se": "kung"},
        "idle_timeout_minutes": 15,
    }})
    assert list(cfg.accounts) == ["anna"]
    assert cfg.accounts["anna"].role == "redaktor"
    assert len(cfg.problems) == 5  # bo, cecilia, ../x, dan, x@y.se
    assert cfg.role_map == {"eva@hjo.se": "admin", "@hjo.se": "tjansteperson"}
    assert cfg.idle_minutes == 15
    assert cfg.enabled and not cfg.oidc
    assert good not in repr(cfg.accounts["anna"])


def test_empty_config_is_disabled() -> None:
    for value in (None, {}, {"auth": {}}, {"other": 1}):
        cfg = load_auth_config(value)
        assert not cfg.enabled and cfg.accounts == {} and cfg.idle_minutes == 30


def test_broken_config_still_requires_login() -> None:
    # Every account invalid (e.g. the example file copied unchanged): login stays required.
    cfg = load_auth_config({"auth": {"users": {"anna": {"role": "redaktor",
                                                        "password_hash": "<klistra in>"}}}})
    assert cfg.accounts == {} and cfg.enabled and cfg.problems
    assert load_auth_config({"auth": {"client_id": "x"}}).enabled  # half-configured OIDC


def test_oidc_detection() -> None:
    full = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c",
            "client_id": "id", "client_secret": "s",
            "server_metadata_url": "https://idp/.well-known/openid-configuration"}
    assert oidc_configured({"auth": full})
    assert load_auth_config({"auth": full}).enabled
    for missing in full:
        partial = {k: v for k, v in full.items() if k != missing}
        assert not oidc_configured({"auth": partial}), missing


def test_role_for_email() -> None:
    roles = {"eva@hjo.se": "admin", "@hjo.se": "tjansteperson"}
    assert role_for_email(roles, "Eva@HJO.se") == "admin"
    assert role_for_email(roles, "per@hjo.se") == "tjansteperson"
    assert role_for_email(roles, "per@example.com") is None
    assert role_for_email(roles, None) is None


def test_authenticate(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_auth_config(_secrets(anna=("redaktor", hash_password("lösen-anna-1", **FAST))))
    assert authenticate(cfg.accounts, "ANNA", "lösen-anna-1").name == "anna"
    assert authenticate(cfg.accounts, "anna", "fel") is None
    # Unknown names still cost one verification (no user enumeration by timing).
    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda p, h: calls.append(h) or real(p, h))
    assert authenticate(cfg.accounts, "okand", "lösen-anna-1") is None
    assert authenticate(cfg.accounts, "../..", "x") is None
    assert len(calls) == 2


# --------------------------------------------------------------------------- timeout


def test_session_timeout() -> None:
    t0 = 1_700_000_000.0
    assert not is_expired(t0, t0 + 29 * 60)
    assert not is_expired(t0, t0 + 30 * 60)
    assert is_expired(t0, t0 + 30 * 60 + 1)
    assert is_expired(t0, t0 + 11 * 60, idle_minutes=10)
    assert is_expired(None, t0)
    assert seconds_left(t0, t0 + 60) == 29 * 60
    assert seconds_left(t0, t0 + 3600) == 0


# --------------------------------------------------------------------------- throttle


# The throttle itself is tested in tests/test_throttle.py (redesigned with issue 13).


# --------------------------------------------------------------------------- CLI


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
         stdin: str = "") -> tuple[int, str, str]:
    import io

    from hjo_data.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_user_add_prints_snippet_that_loads(monkeypatch: pytest.MonkeyPatch, capsys,  # noqa: ANN001
                                                isolated_store: Path) -> None:
    import tomllib

    password = "Mitt långa lösen 42"
    code, out, err = _cli(["user", "add", "Anna", "--role", "redaktör", "--password-stdin"],
                          monkeypatch, capsys, stdin=password + "\n")
    assert code == 0, err
    assert password not in out and password not in err
    cfg = load_auth_config(tomllib.loads(out))
    assert list(cfg.accounts) == ["anna"] and cfg.accounts["anna"].role == "redaktor"
    assert authenticate(cfg.accounts, "anna", password) is not None
    assert "secrets.toml" in err
    from hjo_data.audit import read_audit

    log = read_audit(isolated_store)
    assert log["action"].tolist() == ["user_add"]
    assert "anna" in log.loc[0, "detail"] and password not in log.to_string()


def test_cli_user_add_prompts_twice(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # noqa: ANN001
    answers = iter(["Första-lösenordet", "Andra-lösenordet"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, out, err = _cli(["user", "add", "bo", "--role", "admin"], monkeypatch, capsys)
    assert code == 1 and out == "" and "inte lika" in err
    answers = iter(["Samma-lösenord-1", "Samma-lösenord-1"])
    code, out, _ = _cli(["user", "add", "bo", "--role", "admin"], monkeypatch, capsys)
    assert code == 0 and 'role = "admin"' in out


@pytest.mark.parametrize(("args", "stdin", "message"), [
    # Deliberately changed with issue 13: the minimum went from 10 to 12 characters.
    (["user", "add", "bo", "--role", "admin", "--password-stdin"], "kort\n", "minst 12"),
    (["user", "add", "bo", "--role", "admin", "--password-stdin"], "1234567890\n",
     "minst 12"),
    (["user", "add", "bo", "--role", "admin", "--password-stdin"], "lösenord1234\n",
     "för lätt att gissa"),
    (["user", "add", "bo", "--role", "admin", "--password-stdin"], "qwerty123456\n",
     "vanliga lösenord"),
    (["user", "add", "bo", "--role", "chef", "--password-stdin"], "x" * 12, "Okänd roll"),
    (["user", "add", "bo", "--role", "publik", "--password-stdin"], "x" * 12, "publik"),
    (["user", "add", "../bo", "--role", "admin", "--password-stdin"], "x" * 12,
     "Ogiltigt användarnamn"),
])
def test_cli_user_add_refuses(monkeypatch: pytest.MonkeyPatch, capsys, args: list[str],  # noqa: ANN001
                              stdin: str, message: str) -> None:
    code, out, err = _cli(args, monkeypatch, capsys, stdin=stdin)
    assert code == 1 and out == "" and message in err
