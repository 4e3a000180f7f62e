"""Password policy (issue 13): at least 12 characters, not a common password (zxcvbn's
frequency list), zxcvbn score >= 3 with the site's own words; Swedish reasons."""

from __future__ import annotations

import pytest

from hjo_data.passwords import MIN_LENGTH, password_problem, policy_text


@pytest.mark.parametrize(("password", "why"), [
    ("", "tomt"),
    ("1234567890", "minst 12 tecken (det har 10)"),
    ("kort-lösen1", "minst 12 tecken (det har 11)"),
    # In zxcvbn's list of passwords from leaks (case does not help):
    ("qwerty123456", "vanliga lösenord"),
    ("1QAZ2WSX3EDC", "vanliga lösenord"),
    ("123456654321", "vanliga lösenord"),
    # Not in the list but easy: the Swedish word for password plus digits.
    ("lösenord1234", "för lätt att gissa"),
    ("Lösenord1234!", "för lätt att gissa"),
    ("l0senord1234", "för lätt att gissa"),
    ("aaaaaaaaaaaaaa", "upprepningar"),
])
def test_refused_with_a_swedish_reason(password: str, why: str) -> None:
    problem = password_problem(password)
    assert problem is not None and why in problem, problem


def test_user_name_counts_as_easy() -> None:
    assert password_problem("bengtsson2026") is None  # a surname + year: zxcvbn says fine
    problem = password_problem("bengtsson2026", user_name="bengtsson")
    assert problem is not None and "för lätt att gissa" in problem


@pytest.mark.parametrize("password", [
    "Mitt långa lösen 42", "korrekt häst batteri", "Samma-lösenord-1", "Anna-lösen-123",
    "x9!Kq2#vLm7@Pz" * 10,  # longer than zxcvbn's 72-character limit: no crash
])
def test_good_passwords_accepted(password: str) -> None:
    assert password_problem(password, user_name="anna") is None


def test_policy_text_names_the_minimum() -> None:
    assert f"Minst {MIN_LENGTH} tecken" in policy_text()
