"""The engine's problems with a submitted form as GOV.UK error messages: each names its field in plain
English from the form's titles (and, in a list of rows or a group of fields, which row or group), says what
to do, and never shows the validator's own words (a regular expression, "True was expected", "is a required
property").

Titles are often questions ("When did the local authority become aware of the incident?"); GOV.UK messages
turn them around ("Enter the date the local authority became aware of the incident", "Select yes if other
children are at risk"). :func:`statement` does that for the common shapes of an English question and says
when it cannot, and the message then quotes the question instead.
"""

from __future__ import annotations

import re

# --- questions as statements -----------------------------------------------------------------------

_WH = {"what", "when", "where", "why", "how", "who", "which", "whose"}
_BE_HAVE_MODAL = {
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "can",
    "could",
    "will",
    "would",
    "should",
    "must",
    "may",
}
_DO = {"do", "does", "did"}
_PRONOUNS = {"it", "there", "this", "that", "they", "you", "we", "he", "she", "anyone", "someone", "everyone"}
_DETERMINERS = {
    "the",
    "a",
    "an",
    "any",
    "other",
    "another",
    "these",
    "those",
    "this",
    "that",
    "your",
    "their",
    "its",
    "his",
    "her",
    "our",
    "some",
    "all",
    "every",
    "each",
    "both",
}
# words that begin what is said of the subject (so the subject ends before them)
_PARTICIPLES = {
    "been",
    "known",
    "seen",
    "done",
    "given",
    "made",
    "taken",
    "sent",
    "held",
    "told",
    "written",
    "kept",
    "met",
    "shown",
    "found",
    "sought",
    "brought",
    "thought",
    "taught",
    "heard",
    "paid",
    "said",
    "led",
    "chosen",
    "spoken",
    "drawn",
    "had",
    "agreed",
}
_PREDICATE_WORDS = {
    "be",
    "being",
    "not",
    "subject",
    "still",
    "now",
    "already",
    "also",
    "likely",
    "able",
    "aware",
    "safe",
    "alive",
    "ready",
    "satisfied",
    "content",
    "late",
    "early",
    "overdue",
    "due",
    "necessary",
    "important",
    "independent",
    "appropriate",
    "different",
    "possible",
    "complete",
    "missing",
    "relevant",
    "sure",
}
_PREPOSITIONS = {
    "at",
    "in",
    "on",
    "by",
    "to",
    "with",
    "within",
    "under",
    "over",
    "into",
    "after",
    "before",
    "for",
}
_CONNECTORS = {"of", "and", "or", "for", "with", "in", "to", "by", "from"}  # "the date of the incident"
_NOT_ADVERBS = {"family", "only", "early", "supply", "reply", "apply", "assembly", "italy", "july", "rely"}
_IRREGULAR_PAST = {
    "become": "became",
    "come": "came",
    "go": "went",
    "have": "had",
    "do": "did",
    "make": "made",
    "take": "took",
    "give": "gave",
    "see": "saw",
    "know": "knew",
    "tell": "told",
    "send": "sent",
    "meet": "met",
    "get": "got",
    "say": "said",
    "leave": "left",
    "find": "found",
    "think": "thought",
    "speak": "spoke",
    "write": "wrote",
    "hold": "held",
    "keep": "kept",
    "begin": "began",
    "run": "ran",
    "put": "put",
    "set": "set",
    "read": "read",
    "seek": "sought",
    "feel": "felt",
    "hear": "heard",
    "pay": "paid",
    "lead": "led",
    "bring": "brought",
    "choose": "chose",
    "understand": "understood",
}
# verbs a "do" or modal question is asked with: its subject ends before them
_VERBS = {
    *_IRREGULAR_PAST,
    "happen",
    "live",
    "believe",
    "agree",
    "disagree",
    "need",
    "want",
    "consider",
    "apply",
    "include",
    "attend",
    "receive",
    "contact",
    "die",
    "start",
    "work",
    "expect",
    "accept",
    "support",
    "involve",
    "recommend",
    "share",
    "require",
    "respond",
    "reply",
    "answer",
    "raise",
    "decide",
    "change",
    "wish",
    "show",
    "name",
    "challenge",
    "recognise",
    "communicate",
}


def _past(verb: str) -> str:
    if verb in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ied"
    return verb + "ed"


def _third_person(verb: str) -> str:
    special = {"have": "has", "do": "does", "go": "goes", "be": "is"}
    if verb in special:
        return special[verb]
    if re.search(r"(s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _adverb(word: str) -> bool:
    return word.endswith("ly") and len(word) > 4 and word not in _NOT_ADVERBS


def _participle(word: str) -> bool:
    return word in _PARTICIPLES or (word.endswith("ed") and len(word) > 3)


# words in -ing that name a thing, not an act ("the immediate safeguarding arrangements")
_ING_NOUNS = {
    "safeguarding",
    "meeting",
    "training",
    "funding",
    "housing",
    "hearing",
    "wellbeing",
    "building",
    "setting",
    "parenting",
    "offending",
    "planning",
    "learning",
    "briefing",
    "understanding",
}


def _subject_end(words: list[str], aux: str, wh: bool = False) -> int | None:
    """How many of ``words`` (what follows the question's auxiliary ``aux``) are its subject; None when
    that cannot be told from the shape of the question."""
    if not words:
        return None
    low = [w.lower() for w in words]
    verbs = aux in _DO or aux not in ("is", "are", "was", "were")  # do, have and modals: a verb follows

    def verb_at(i: int) -> bool:
        return i >= 2 - (low[0] in _PRONOUNS) and low[i] in _VERBS and verbs

    if low[0] in _PRONOUNS and (
        low[0] not in _DETERMINERS or len(low) == 1 or _stop(low, 1, aux) or low[1] in _VERBS
    ):
        return 1
    if low[0] in _PRONOUNS - _DETERMINERS:
        return 1
    if low[0] not in _DETERMINERS and (
        low[0] in _PREDICATE_WORDS or _participle(low[0]) or low[0].endswith("ing") or low[0] in _VERBS
    ):
        return None
    if aux in _DO:
        for i in range(1, len(low)):
            if verb_at(i) or _adverb(low[i]):
                return i
        return None
    for i in range(1, len(low)):
        if verb_at(i) and aux not in ("is", "are", "was", "were"):
            return i
        if low[i] in _PREPOSITIONS and low[i - 1] not in _CONNECTORS:
            last = low[-1]
            if not wh and _participle(last) and len(low) - 1 > i:  # "are the criteria for a review met"
                return _strong_from(low, i + 1, aux) or i
            return i
        if _stop(low, i, aux):
            return i
    return None


def _stop(low: list[str], i: int, aux: str) -> bool:
    """Whether word ``i`` begins what is said of the subject (not a word of a longer subject)."""
    word = low[i]
    following = low[i + 1] if i + 1 < len(low) else ""
    if word in ("a", "an", "the"):
        return low[i - 1] not in _CONNECTORS
    if _participle(word):
        return following not in ("been", "be")  # "the organisations involved have been asked"
    if word.endswith("ing") and len(word) > 4 and word not in _ING_NOUNS:
        return i == 2 or low[i - 1] in _PRONOUNS  # "the review making", not "child safeguarding practice"
    return word in _PREDICATE_WORDS or _adverb(word)


def _strong_from(low: list[str], start: int, aux: str) -> int | None:
    for i in range(start, len(low)):
        if _participle(low[i]) and (i == len(low) - 1 or low[i + 1] not in ("been", "be")):
            return i
    return None


def _invert(aux: str, rest: list[str], wh: bool) -> list[str] | None:
    """``aux`` ``rest`` (a question's auxiliary verb and what follows it) in the order of a statement."""
    end = _subject_end(rest, aux, wh)
    if aux in _DO:
        if end is None:
            return None
        subject, after = rest[:end], list(rest[end:])
        adverbs = []
        while after and _adverb(after[0].lower()):
            adverbs.append(after.pop(0))
        if not after:
            return None
        form = {"did": _past, "does": _third_person, "do": lambda v: v}[aux]
        said = [form(after[0].lower())]
        tail = after[1:]
        if len(tail) >= 2 and tail[0].lower() in ("and", "or") and tail[1].lower() in _VERBS:
            said += [tail[0], form(tail[1].lower())]  # "know and understand" -> "knows and understands"
            tail = tail[2:]
        return [*subject, *adverbs, *said, *tail]
    if end is None:
        if wh and rest and rest[0].lower() in _DETERMINERS | _PRONOUNS:
            return [*rest, aux]  # "what is your decision" -> "what your decision is"
        return None
    if any(w.lower() in _BE_HAVE_MODAL | _DO | {"whose", "which", "who"} for w in rest[:end]):
        return None  # a clause inside the subject: too long to be sure where it ends
    return [*rest[:end], aux, *rest[end:]]


def _first_lower(word: str) -> str:
    return word if word.isupper() and len(word) > 1 else word[:1].lower() + word[1:]


def statement(title: str) -> tuple[str, str] | None:
    """A question as a statement, and its kind: ``("yes_no", "other children are at risk")`` for "Are
    other children at risk?", ``("wh", "when the local authority became aware of the incident")`` for "When
    did the local authority become aware of the incident?"; None if ``title`` is not a question this can
    turn around (it then stays a question, quoted)."""
    text = title.strip()
    if not text.endswith("?") or "?" in text[:-1] or "," in text:
        return None
    words = text[:-1].split()
    if len(words) < 2:
        return None
    first = words[0].lower()
    if first in _WH:
        auxiliaries = _BE_HAVE_MODAL | _DO
        # the question word, with its noun if it has one: "which records did you review"
        at = next((i for i in range(1, min(len(words), 4)) if words[i].lower() in auxiliaries), None)
        if at is None:
            return "wh", " ".join([first, *words[1:]])  # "what happened", "what kind of review"
        asked = [first, *words[1:at]]
        rest = words[at + 1 :]
        if (
            first in ("who", "what", "which", "whose")
            and rest
            and rest[0].lower() not in _DETERMINERS | _PRONOUNS
        ):
            if words[at].lower() in _DO:
                return None
            return "wh", " ".join(words).lower()[:1] + " ".join(words)[1:]  # "who will chair it": as asked
        turned = _invert(words[at].lower(), rest, wh=True)
        if turned is None:
            if words[at].lower() in _DO:
                return None
            turned = words[at:]  # "who is making this referral": the question word is the subject
        return "wh", " ".join([*asked, *turned])
    if first in _BE_HAVE_MODAL | _DO:
        turned = _invert(first, words[1:], wh=False)
        return ("yes_no", " ".join(turned)) if turned else None
    return None


# --- where a field is, and what it is --------------------------------------------------------------


def _lower(label: str) -> str:
    return _first_lower(label.rstrip("?").rstrip(":"))


def locate(schema: dict, path: str) -> tuple[str, dict, str]:
    """The title and schema of the field at ``path`` (``children/0/name``), and where it is on the page
    when its title alone does not say (`` for child 1``, `` in ‘Who is making this referral?’``)."""
    node, where = schema, []
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        if node.get("type") == "array":
            items = node.get("items", {})
            if part.isdigit():
                where.append(f" for {(items.get('title') or 'row').lower()} {int(part) + 1}")
                node = items
                continue
            node = items
        node = node.get("properties", {}).get(part, {})
        if node.get("type") == "object" and i < len(parts) - 1 and node.get("title"):
            where.append(f" in ‘{node['title']}’")
    label = node.get("title") or (parts[-1].replace("_", " ").capitalize() if parts else "This form")
    return label, node, "".join(reversed(where))


def _is_choice(node: dict) -> bool:
    items = node.get("items", {}) if isinstance(node.get("items"), dict) else {}
    return (
        node.get("type") == "boolean"
        or "enum" in node
        or "enum" in items
        or "x-directory" in node
        or "const" in node
    )


_NOT_BLANK = {"^\\s*\\S[\\s\\S]*$", "\\S", "^\\S", "^(?!\\s*$).+"}


def _noun(label: str, where: str, start: bool = False, node: dict | None = None) -> str:
    """The field as the subject or object of a message: its title, or the answer to its question (the
    date, for a date asked with "When …?")."""
    said = statement(label)
    if said and said[0] == "wh" and said[1].startswith("when ") and (node or {}).get("format") == "date":
        text = f"the date {said[1][len('when ') :]}{where}"
    elif said is not None or label.endswith("?"):
        text = f"the answer to ‘{label}’{where}"
    else:
        text = f"{_lower(label)}{where}"
    return text[:1].upper() + text[1:] if start else text


def _ask(verb: str, label: str, where: str, node: dict) -> str:
    """ "Enter …" or "Select …": what to do to answer the field."""
    said = statement(label)
    if node.get("type") == "boolean" and verb == "Select":
        if said and said[0] == "yes_no":
            return f"Select yes if {said[1]}{where}"
        return f"Select yes or no for ‘{label}’{where}"
    if said and said[0] == "wh":
        text = said[1]
        if node.get("format") == "date" and text.startswith("when "):
            text = "the date " + text[len("when ") :]
        return f"{verb} {text}{where}"
    if said and said[0] == "yes_no" and verb == "Select":
        return f"Select if {said[1]}{where}"
    if label.endswith("?"):
        return f"{verb} an answer to ‘{label}’{where}"
    return f"{verb} {_lower(label)}{where}"


def _expected(problem: dict, node: dict) -> str:
    """What a ``const`` asked for, in the words the page shows."""
    value = node.get("const")
    if value is True or "True was expected" in problem.get("message", ""):
        return "yes"
    if value is False or "False was expected" in problem.get("message", ""):
        return "no"
    return str(value).replace("_", " ") if value is not None else "another answer"


def message(schema: dict, problem: dict) -> str:
    """One problem (``{path, kind, message, limit?}`` from engine/services/forms.validate) as the GOV.UK
    message shown beside its field and in the error summary."""
    path, kind, limit = problem.get("path", ""), problem.get("kind"), problem.get("limit")
    if path in ("", "(root)"):
        return problem.get("message", "There is a problem with the form")
    label, node, where = locate(schema, path)
    items = node.get("items", {}) if isinstance(node.get("items"), dict) else {}
    kind_of_node = node.get("type")
    rows = kind_of_node == "array" and items.get("type") == "object"
    choice = _is_choice(node)
    verb = "Select" if choice else "Enter"
    pattern = node.get("pattern")
    blank_check = kind in ("minLength", "pattern") and (
        (kind == "minLength" and (limit or 1) <= 1) or (kind == "pattern" and pattern in _NOT_BLANK)
    )
    if kind in ("required", "dependentRequired") or blank_check:
        if rows:
            item = (items.get("title") or "row").lower()
            return f"Add {'an' if item[:1] in 'aeiou' else 'a'} {item}{where}"
        return _ask(verb, label, where, node)
    if (kind == "format" and node.get("format") == "email") or (
        kind == "pattern" and (node.get("format") == "email" or "email" in label.lower())
    ):
        return f"Enter {_noun(label, where)} in the correct format, like name@example.org"
    if kind == "format" and node.get("format") == "date":
        return f"{_noun(label, where, start=True, node=node)} must be a real date"
    if kind == "format":
        return f"{_noun(label, where, start=True)} must be in the correct format"
    if kind == "pattern":
        return f"{_noun(label, where, start=True)} must be in the correct format"
    if kind == "maxLength":
        return f"{_noun(label, where, start=True)} must be {limit:,} characters or fewer"
    if kind == "minLength":
        return f"{_noun(label, where, start=True)} must be {limit:,} characters or more"
    if kind in ("enum", "type") and choice:
        return _ask("Select", label, where, node)
    if kind == "type":
        wanted = {"integer": "a whole number", "number": "a number"}.get(kind_of_node)
        if wanted:
            return f"{_noun(label, where, start=True)} must be {wanted}"
        return _ask(verb, label, where, node)
    if kind == "const":
        return (
            f"{_noun(label, where, start=True)} must be ‘{_expected(problem, node)}’ with your other answers"
        )
    bounds = {
        "minimum": "{n} or more",
        "maximum": "{n} or less",
        "exclusiveMinimum": "more than {n}",
        "exclusiveMaximum": "less than {n}",
    }
    if kind in bounds:
        n = f"{limit:,}" if isinstance(limit, int) else str(limit)
        return f"{_noun(label, where, start=True)} must be {bounds[kind].format(n=n)}"
    if kind in ("minItems", "maxItems"):
        most = "no more than" if kind == "maxItems" else "at least"
        if rows:
            item = (items.get("title") or "row").lower()
            return f"Add {most} {limit} {item}{'' if limit == 1 else 's'} to ‘{label}’{where}"
        if choice:
            return f"Select {most} {limit} for ‘{label}’{where}"
        return f"Enter {most} {limit} for ‘{label}’{where}"
    if kind == "uniqueItems":
        return f"{_noun(label, where, start=True)} must not have the same answer twice"
    if kind == "not":
        return f"Leave {_noun(label, where)} blank: it does not apply with your other answers"
    if kind == "additionalProperties":
        return f"{_noun(label, where, start=True)} is not a question on this form"
    if kind in ("x-not-future", "x-not-before", "x-equals-case"):  # the product's own words
        return f"{_noun(label, where, start=True, node=node)} {problem.get('message', '')}".rstrip()
    if kind == "x-late-reason":
        return f"{_ask('Enter', label, where, node)}: {problem.get('message', '')}"
    if kind == "file":  # a file refused for its size or what it really is: the product's own words
        return problem.get("message") or "Choose another file"
    if kind == "x-directory":  # a value outside the partnership's list: it names the value, in plain words
        return problem.get("message") or f"Choose {_noun(label, where)} from the list"
    return f"Check {_noun(label, where)}: it is not an answer this form accepts"


def parse_message(schema: dict, name: str, text: str) -> str:
    """A problem found while reading the page (a date that is not a real date, a number that is not a
    number), by field name (``children.0.date_of_birth``)."""
    label, node, where = locate(schema, name.replace(".", "/"))
    return f"{_noun(label, where, start=True, node=node)} {text}"


def _required_children(schema: dict, path: str) -> list[str] | None:
    """A required group left empty: the paths of the fields it requires (its first row's, for a list of
    rows), so each is named beside its own input; None if it is not such a group."""
    _label, node, _where = locate(schema, path)
    if node.get("type") == "array" and node.get("items", {}).get("type") == "object":
        node, path = node["items"], f"{path}/0"
    if node.get("type") != "object":
        return None
    out = []
    for key in node.get("required", []):
        if key not in node.get("properties", {}):
            continue
        inner = _required_children(schema, f"{path}/{key}")
        out.extend(inner if inner is not None else [f"{path}/{key}"])
    return out or None


def error_map(schema: dict, problems: list[dict], parse_problems: dict[str, str]) -> dict[str, str]:
    """Every problem by the name of its field (``children.0.name``), as GOV.UK messages; a problem with the
    whole form under ``_form``."""
    out = {name: parse_message(schema, name, text) for name, text in parse_problems.items()}
    for p in problems:
        path = p.get("path", "")
        if path in ("", "(root)"):
            out.setdefault("_form", message(schema, p))
            continue
        if p.get("kind") == "required":
            expanded = _required_children(schema, path)
            if expanded:
                for inner in expanded:
                    out.setdefault(inner.replace("/", "."), message(schema, {**p, "path": inner}))
                continue
        out.setdefault(path.replace("/", "."), message(schema, p))
    return out
