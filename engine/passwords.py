"""The password policy, one function wherever a password is set (an invitation, a reset, the command line,
the demo accounts), following the NCSC's advice: length over composition. A password is 12 to 256
characters (a passphrase of three random words passes; nobody is told to add a digit or a symbol), is not
one of the 19,640 most common passwords (engine/data/common_passwords.txt, see COMMON_PASSWORDS.md beside
it), and does not contain the person's user name. Passwords never expire: a person changes theirs when
they choose to, or by the 'Forgotten your password?' link."""

from __future__ import annotations

import functools
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
# a user name this short ('la', 'bu') is in too many good passphrases to refuse them all
NAME_CHECKED_FROM = 3

TOO_SHORT = f"Your password must be at least {MIN_LENGTH} characters long"
TOO_LONG = f"Your password must be {MAX_LENGTH} characters or fewer"
TOO_COMMON = (
    "That password is one of the most common passwords, so it is easy to guess. Choose another, for "
    "example three random words"
)
HAS_NAME = "Your password must not contain your user name"
ENTER = "Enter a password"


@functools.cache
def common() -> frozenset[str]:
    """The deny-list, read once per process."""
    return frozenset(line for line in COMMON.read_text(encoding="utf-8").splitlines() if line)


def problem(password: str | None, username: str | None = None) -> str | None:
    """What is wrong with ``password`` for the person called ``username``, in words to show them; None if
    it may be used."""
    if not password:
        return ENTER
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    folded = password.casefold()
    if folded in common() or folded.strip() in common():
        return TOO_COMMON
    if username and len(username) >= NAME_CHECKED_FROM and username.casefold() in folded:
        return HAS_NAME
    return None
