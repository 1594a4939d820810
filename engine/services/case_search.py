"""What a manager types in the case list's search box, read as a case reference or as a child's initials,
and the initials a case keeps in its summary so they can be searched without opening the case."""

from __future__ import annotations

import re

MAX_TERM = 40


def initials_of(name: str) -> str:
    """A child's initials from their name: the first letter of each word ("Mary-Jane Smith" is MJS)."""
    return "".join(word[0] for word in re.findall(r"[^\W\d_]+", name or "")).upper()


def child_initials(data: dict) -> str | None:
    """Every child's initials, space between children ("JS AB"), from the notification's children."""
    children = data.get("children")
    if not isinstance(children, list):
        return None
    found = [initials_of(c.get("name", "")) for c in children if isinstance(c, dict)]
    return " ".join(i for i in found if i) or None


def read_term(text: str) -> tuple[str, str]:
    """``("reference", "RF-2026-0001")`` for a term with a digit or a hyphen (a reference or its
    beginning), ``("initials", "JS")`` for letters alone (dots and spaces dropped), ``("", "")`` for
    nothing."""
    term = (text or "").strip()[:MAX_TERM]
    if not term:
        return "", ""
    if re.search(r"[\d-]", term):
        return "reference", term.upper()
    letters = re.sub(r"[^\w]|[\d_]", "", term).upper()
    return ("initials", letters) if letters else ("", "")
