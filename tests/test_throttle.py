"""Login throttle (issue 13): progressive delay per (name, client) and per client, a
per-name slowdown that never locks the owner out, bounded memory a flood cannot use to
reset an attacked name, aggregated audit lines. All with an injected clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hjo_data.auth import (
    UNKNOWN_NAME,
    LoginThrottle,
    ThrottlePolicy,
    authenticate,
    hash_password,
    load_auth_config,
)

T0 = 1_800_000_000.0
NAMES = ("anna", "bo", "tove")


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Sink(list):
    """Collects the audit lines the throttle writes."""

    def __call__(self, user: str | None, counts: dict[str, int], detail: str) -> None:
        self.append((user, dict(counts), detail))


def _gate(clock: Clock, sink: Sink | None = None, path: Path | None = None,
          **policy: object) -> LoginThrottle:
    return LoginThrottle(path, known_names=NAMES, clock=clock, audit=sink,
                         policy=ThrottlePolicy(**policy))


def test_progressive_delay_per_name_and_client() -> None:
    clock = Clock()
    gate = _gate(clock)
    # The first two failures cost nothing; from the third: 1 s, 2 s, 4 s ... capped at 60 s.
    assert gate.record_failure("anna", "c1") == 0
    assert gate.record_failure("anna", "c1") == 0
    expected = [1, 2, 4, 8, 16, 32, 60, 60]
    for want in expected:
        assert gate.record_failure("anna", "c1") == want
        refused = gate.check("anna", "c1")
        assert not refused.allowed and refused.wait == want
        clock.t += want - 0.5
        assert gate.check("anna", "c1").wait == pytest.approx(0.5)  # refusals do not extend
        clock.t += 0.5
        assert gate.check("anna", "c1").allowed
    assert gate.failures("anna", "c1") == 2 + len(expected)
    # The right password clears this client's counter for the name.
    gate.record_success("anna", "c1")
    assert gate.failures("anna", "c1") == 0
    assert gate.check("anna", "c1").allowed


def test_other_clients_are_not_refused_and_the_owner_logs_in_during_a_flood() -> None:
    """An attacker floods anna's name from 1 000 clients; anna, from her own browser,
    logs in with the right password after a short hold, never refused."""
    accounts = load_auth_config({"auth": {"users": {
        "anna": {"role": "redaktor", "password_hash": hash_password("Rätt-lösen-2026",
                                                                    n=2**10)}}}}).accounts
    clock = Clock()
    gate = _gate(clock)
    for _ in range(3):  # three wrong guesses from each of 1 000 clients (0.5 s per round)
        for i in range(1_000):
            assert gate.check("anna", f"attacker-{i}").allowed
            gate.record_failure("anna", f"attacker-{i}")
            clock.t += 0.0005
    # Each attacker client must now wait a second; refused attempts cost no hashing.
    assert not any(gate.check("anna", f"attacker-{i}").allowed for i in range(1_000))
    assert gate.failures("anna") == 3_000
    decision = gate.check("anna", "annas-webbläsare")
    assert decision.allowed
    assert decision.delay == 3.0  # the name is under attack: held (cap), not refused
    assert authenticate(accounts, "anna", "Rätt-lösen-2026") is not None
    gate.record_success("anna", "annas-webbläsare")
    # The attacker's clients are still waiting; the name counter is not reset by a success.
    assert not gate.check("anna", "attacker-1").allowed
    assert gate.failures("anna") == 3_000


def test_name_slowdown_grows_then_caps() -> None:
    clock = Clock()
    gate = _gate(clock)
    delays = []
    for i in range(16):  # 16 failures from 16 clients (no pair or client wait)
        delays.append(gate.check("bo", f"c{i}").delay)
        gate.record_failure("bo", f"c{i}")
    # 0 below 10 failures, then 0.25 s doubling: 0.25, 0.5, 1, 2, 3 (cap), 3
    assert delays == [0.0] * 10 + [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]
    clock.t += 3601  # forgotten an hour after the last failure
    assert gate.check("bo", "ny").delay == 0.0 and gate.failures("bo") == 0


def test_one_client_spraying_many_names_waits() -> None:
    clock = Clock()
    gate = LoginThrottle(known_names=[f"u{i}" for i in range(20)], clock=clock)
    waits = [gate.record_failure(f"u{i}", "sprayer") for i in range(12)]
    # One failure per name (no pair wait); the client waits from its 10th failure.
    assert waits == [0.0] * 9 + [1.0, 2.0, 4.0]
    assert not gate.check("u15", "sprayer").allowed
    assert gate.check("u15", "kollega").allowed


def test_flood_of_junk_names_cannot_reset_an_attacked_name() -> None:
    clock = Clock()
    cap = 5_000
    gate = _gate(clock, max_entries=cap)
    for _ in range(6):
        gate.record_failure("anna", "attacker")
    wait = gate.check("anna", "attacker").wait
    assert wait == 8.0  # 6 failures: 2**(6 - 3)
    peak = 0
    for i in range(100_000):  # 100 000 junk attempts, each from a new client
        gate.record_failure(f"skräp{i}", f"s{i}")
        if i % 500 == 0:
            peak = max(peak, gate.entry_count())
    assert max(peak, gate.entry_count()) <= cap
    # anna's state survived: the attacker still waits, the name count is intact.
    assert gate.check("anna", "attacker").wait == wait
    assert gate.failures("anna", "attacker") == 6 and gate.failures("anna") == 6
    # All junk names share one bucket (no entry per junk name).
    assert gate.failures("skräp1") == gate.failures("skräp99999") == 100_000
    assert gate.bucket("skräp1") == UNKNOWN_NAME


def test_audit_is_aggregated_per_name_and_window() -> None:
    clock = Clock()
    sink = Sink()
    gate = _gate(clock, sink)
    gate.record_failure("anna", "c1")  # the first of a window is written at once
    assert sink == [("anna", {"failed": 1}, "fel användarnamn eller lösenord")]
    failed = refused = 0
    for i in range(60):  # 60 attempts from 4 clients within the 5-minute window
        client = f"c{i % 4 + 1}"
        if gate.check("anna", client).allowed:
            gate.record_failure("anna", client)
            failed += 1
        else:
            refused += 1
        clock.t += 1
    assert len(sink) == 1  # nothing more yet
    # Hand count (each client tries every 4 s; waits 1, 2, 4, 8, 16, 32 s from its 3rd
    # failure): c1 (one failure before) fails at 0 4 8 12 16 24 40 = 7, refused 8 times;
    # c2 fails at 1 5 9 13 17 21 29 45 = 8, refused 7 times; c3 and c4 as c2.
    assert (failed, refused) == (7 + 3 * 8, 8 + 3 * 7)
    clock.t = T0 + 300
    assert gate.flush_audit() == 1
    user, counts, detail = sink[1]
    assert user == "anna" and counts == {"failed": failed, "refused": refused, "clients": 4}
    assert f"{failed} misslyckade och {refused} spärrade" in detail
    # Junk names: one bucket, the typed names are never logged (a password typed in the
    # name field must not end up in the log).
    for i in range(1_000):
        gate.record_failure(f"Hemligt{i}", f"x{i}")
    gate.flush_audit(force=True)
    junk = [line for line in sink if line[0] is None]
    assert len(junk) == 2 and junk[1][1]["failed"] == 999
    assert all("okänt användarnamn" in line[2] and "Hemligt" not in line[2] for line in junk)


def test_success_writes_pending_failures_first() -> None:
    clock = Clock()
    sink = Sink()
    gate = _gate(clock, sink)
    for _ in range(2):
        gate.record_failure("tove", "c")
    gate.record_success("tove", "c")
    assert [c for _, c, _ in sink] == [{"failed": 1}, {"failed": 1, "refused": 0,
                                                        "clients": 1}]


def test_state_persists_in_a_file_and_survives_garbage(tmp_path: Path) -> None:
    clock = Clock()
    first = _gate(clock, path=tmp_path / "t.json")
    for _ in range(4):
        first.record_failure("anna", "c1")
    restarted = _gate(clock, path=tmp_path / "t.json")  # e.g. after a server restart
    assert restarted.check("anna", "c1").wait == 2.0
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["version"] == 2 and "c1" not in json.dumps(data)  # client ids are hashed
    (tmp_path / "t.json").write_text("{inte json")
    assert _gate(clock, path=tmp_path / "t.json").check("anna", "c1").allowed
    # The old format (one dict of keys) is ignored, not misread.
    (tmp_path / "t.json").write_text(json.dumps({"user:anna": {"failures": 9, "last": T0}}))
    assert _gate(clock, path=tmp_path / "t.json").failures("anna") == 0
