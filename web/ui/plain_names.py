"""Plain names for what the engine knows by keys: a deadline's name from its rule set (R1: "Local authority
notifies the Panel"), a process's diagram name (scr_decision: "Serious case review decision"), and a source
paragraph written as people cite a document ("003 §8.5": "B&NES rapid review procedures (2020), paragraph
8.5"). Staff read the name first and the key after it, for looking it up."""

from __future__ import annotations

import re

# the source documents by their numbers (the seeds' README names them): short titles people recognise
DOCUMENTS = {
    "000": "B&NES serious case review procedures (2015)",
    "001": "East of England serious case review commissioning guide (2015)",
    "002": "Cumbria serious case review procedure (2019)",
    "003": "B&NES rapid review and practice review procedures (2020)",
    "004": "Bolton Framework for Action: serious case reviews",
}
_CITED = re.compile(r"^\s*(\d{3})\b\s*(.*)$", re.S)
_ONE = r"§\s*[0-9][0-9.]*[0-9](?:\s*-\s*§?\s*[0-9][0-9.]*[0-9])?|§\s*[0-9]"
_RUN = re.compile(rf"(?:{_ONE})(?:\s*,\s*(?:{_ONE}))*")  # §7.2, §7.10 or §3.4-§4.6: cited together


def humanised(identifier: str) -> str:
    """An identifier as words, when nothing better is known: scr_decision -> Scr decision."""
    return identifier.replace("_", " ").strip().capitalize() if identifier else ""


def process_name(process_id: str, names: dict[str, str]) -> str:
    """The process's name in its diagram, else its identifier as words."""
    return names.get(process_id) or humanised(process_id)


def deadline_name(key: str, names: dict[str, str]) -> str:
    """'Local authority notifies the Panel (R1)': the rule's name, its key after it; the key alone when no
    rule set names it."""
    if not key:
        return ""
    name = names.get(key)
    return f"{name} ({key})" if name else key


def source_reference(source: str) -> str:
    """'003 §8.5; 000 §3.1, §3.2' as 'B&NES rapid review and practice review procedures (2020), paragraph
    8.5; B&NES serious case review procedures (2015), paragraphs 3.1 and 3.2'. A part that names no known
    document is kept as written."""
    if not source:
        return ""
    return "; ".join(_one(part) for part in source.split(";") if part.strip())


def documents_cited(text: str) -> list[tuple[str, str]]:
    """The documents a step's instructions cite by number ('... (003 §3.7)'), each with its title, in the
    order first cited: a key to the citations, which stay as written in the text."""
    found = dict.fromkeys(re.findall(r"\b(\d{3}) (?:§|Appendix\b|\")", text or ""))
    return [(number, DOCUMENTS[number]) for number in found if number in DOCUMENTS]


def _one(part: str) -> str:
    cited = _CITED.match(part)
    if not cited or cited.group(1) not in DOCUMENTS:
        return part.strip()
    title, rest = DOCUMENTS[cited.group(1)], cited.group(2).strip()
    return f"{title}, {_paragraphs(rest)}" if rest else title


def _paragraphs(rest: str) -> str:
    """'§7.2, §7.10' -> 'paragraphs 7.2 and 7.10'; '§3.4-§4.6' -> 'paragraphs 3.4 to 4.6'; words between
    citations stay where they are."""
    return _RUN.sub(_said, rest)


def _said(run: re.Match) -> str:
    numbers = [
        re.sub(r"\s*-\s*§?\s*", " to ", n.strip().lstrip("§").strip()) for n in run.group(0).split(",")
    ]
    plural = len(numbers) > 1 or " to " in numbers[0]
    listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
    return f"paragraph{'s' if plural else ''} {listed}"
