"""No secret, password hash, private key or cloud key in any file tracked by git.

The scanner is checked against synthetic leaks built at run time (so this file itself
contains none), and the committed example secrets file must pass as placeholders only.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 5_000_000

#: Values that are obviously placeholders, not secrets.
_PLACEHOLDER = re.compile(r"^$|<[^>]*>|\.\.\.|x{3,}|byt[ -]?ut|ersätt|change[-_ ]?me|example|"
                          r"placeholder|your[-_ ]", re.IGNORECASE)
_B64 = r"[A-Za-z0-9+/]"
PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "scrypt/pbkdf2 hash": re.compile(
        rf"(?:scrypt|pbkdf2[_-]?sha\d+)\$\d+\$(?:\d+\$\d+\$)?{_B64}{{16,}}={{0,2}}\$"
        rf"{_B64}{{32,}}={{0,2}}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
#: ``key = "value"`` (TOML/INI/Python/shell) whose value must be a placeholder.
_ASSIGN = re.compile(
    r"""^\s*(?:export\s+)?["']?(cookie_secret|client_secret|aws_secret_access_key)"""
    r"""["']?\s*[=:]\s*["']([^"'\n]*)["']""",
    re.IGNORECASE | re.MULTILINE)


def scan_text(text: str) -> list[str]:
    """Names of the secret kinds found in ``text`` (empty list = clean)."""
    found = [name for name, pattern in PATTERNS.items() if pattern.search(text)]
    for match in _ASSIGN.finditer(text):
        if not _PLACEHOLDER.search(match.group(2)):
            found.append(f"{match.group(1)} value")
    return found


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:  # pragma: no cover - no git
        pytest.skip(f"git ls-files failed: {exc}")
    return [ROOT / p for p in out.decode("utf-8", "replace").split("\0") if p]


def test_scanner_finds_synthetic_leaks() -> None:
    from hjo_data.auth import hash_password

    real_hash = hash_password("ett riktigt lösenord", n=2**4)
    leaks = {
        "scrypt/pbkdf2 hash": f'password_hash = "{real_hash}"',
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE...",
        "AWS access key id": "key = " + "AKIA" + "Q" * 16,
        "GitHub token": "ghp_" + "a1" * 18,
        "cookie_secret value": 'cookie_secret = "' + base64.b64encode(b"k" * 36).decode() + '"',
        "client_secret value": "client_secret = 'Zr8-uQ2pLx'",
    }
    for kind, text in leaks.items():
        assert kind in scan_text(text), kind


def test_scanner_accepts_placeholders() -> None:
    for text in ('cookie_secret = "<lång slumpsträng>"', 'client_secret = ""',
                 'password_hash = "<klistra in från: python -m hjo_data user add>"',
                 "# cookie_secret = \"xxx\"", 'client_secret = "..."'):
        assert scan_text(text) == [], text


def test_example_secrets_file_has_only_placeholders() -> None:
    example = ROOT / ".streamlit" / "secrets.example.toml"
    assert example.is_file()
    text = example.read_text(encoding="utf-8")
    assert scan_text(text) == []
    assert "scrypt$" not in text


def test_no_secrets_in_tracked_files() -> None:
    files = _tracked_files()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    assert ".streamlit/secrets.toml" not in names
    forbidden = [n for n in names
                 if re.search(r"(^|/)(id_rsa|id_ed25519)$|\.(pem|key|p12|pfx)$", n)]
    assert forbidden == []
    problems = []
    for path in files:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary (parquet, images): not text secrets
            continue
        found = scan_text(data.decode("utf-8", "replace"))
        if found:
            problems.append(f"{path.relative_to(ROOT)}: {', '.join(sorted(set(found)))}")
    assert problems == [], "\n".join(problems)
