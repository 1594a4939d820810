"""The password policy (NCSC: length over composition, a deny-list, no user name, no expiry): one function
for every place a password is set."""

from __future__ import annotations

from engine import passwords


def test_length_counts_and_composition_does_not():
    assert passwords.problem("eleven char") == passwords.TOO_SHORT
    assert passwords.problem("twelve chars") is None  # no digit, capital or symbol needed
    assert passwords.problem("x" * 256) is None
    assert passwords.problem("x" * 257) == passwords.TOO_LONG
    assert passwords.problem("") == passwords.ENTER


def test_common_passwords_are_refused_however_they_are_typed():
    assert len(passwords.common()) > 19_000
    for common in ("qwerty123456", "QWERTY123456", "1q2w3e4r5t6y", "justinbieber"):
        assert passwords.problem(common) == passwords.TOO_COMMON, common


def test_a_password_may_not_contain_the_user_name():
    assert passwords.problem("Police are my colleagues", "police") == passwords.HAS_NAME
    assert passwords.problem("flat tyre salad bowl", "la") is None  # a two-letter name is in too many words
