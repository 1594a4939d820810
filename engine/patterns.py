"""Regular expressions written by process owners (a form field's ``pattern``): refused at deploy when
they can backtrack catastrophically, and matched at run time under a time limit all the same.

A backtracking matcher takes exponential time on patterns such as ``^(a+)+$`` (a quantifier inside a
quantifier) or ``^(a|ab)*$`` (alternatives that can match the same text, under a quantifier): thirty
characters typed into a form would hold a server thread for minutes. :func:`problem` finds both shapes
in the parsed pattern, conservatively (a refused pattern can always be written another way, for
example with a possessive quantifier or an atomic group, which never backtrack). :func:`search`
matches with the ``regex`` package, which has the same syntax and Unicode classes as Python's ``re``
but stops after a time limit, so a pattern deployed before this check costs at most that much.
"""

from __future__ import annotations

import re
import re._constants as C
import re._parser as sre_parse
import time

import regex

MAX_PATTERN_LENGTH = 1000
#: the time one match may take; a form's whole validation stops matching after MAX_TOTAL_SECONDS
MATCH_SECONDS = 0.05
MAX_TOTAL_SECONDS = 0.5

# characters to test what a part of a pattern can start with: ASCII, and a few of each Unicode kind
_PROBES = [chr(c) for c in range(128)] + list("\u00a0\u00e9\u00df\u0663\u4e2d\u2028\u3000\U0001f600")
_ALL = frozenset(_PROBES)
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
_CATEGORY = {
    C.CATEGORY_DIGIT: r"\d",
    C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w",
    C.CATEGORY_NOT_WORD: r"\W",
}


class PatternTimeout(Exception):
    """Matching took longer than the limit: the value is treated as not matching."""


def problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be deployed, or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is {len(pattern):,} characters long; the limit is {MAX_PATTERN_LENGTH:,}"
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"not a valid regular expression: {exc}"
    except Exception as exc:
        return f"not a valid regular expression: {exc}"
    try:
        return _catastrophic(list(parsed), inside_repeat=False)
    except RecursionError:
        return "the pattern is nested too deeply"


def _catastrophic(items, inside_repeat: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            _low, high, body = av
            repeats = high is C.MAXREPEAT or high > 1
            if repeats:
                inner = _variable_repeat(list(body))
                if inner and (high is C.MAXREPEAT or inner == "unbounded") and not _delimited(list(body)):
                    return (
                        "a quantifier inside a quantifier (such as (a+)+) can take exponential time on some "
                        "text: write it without the nesting, or make the inner one possessive (a++)"
                    )
                overlap = _overlapping_branch(list(body))
                if overlap:
                    return (
                        "alternatives that can match the same text under a quantifier (such as (a|ab)*) "
                        "can take exponential time on some text: make them exclusive"
                    )
            found = _catastrophic(list(body), inside_repeat or repeats)
            if found:
                return found
        elif op == C.SUBPATTERN:
            found = _catastrophic(list(av[3]), inside_repeat)
            if found:
                return found
        elif op == C.BRANCH:
            for alternative in av[1]:
                found = _catastrophic(list(alternative), inside_repeat)
                if found:
                    return found
        elif op in (C.ASSERT, C.ASSERT_NOT):
            found = _catastrophic(list(av[1]), inside_repeat)
            if found:
                return found
        elif op == C.GROUPREF_EXISTS:
            for part in av[1:]:
                if part is not None:
                    found = _catastrophic(list(part), inside_repeat)
                    if found:
                        return found
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into their body
    return None


def _variable_repeat(items) -> str | None:
    """'unbounded' or 'bounded' if a backtracking repeat of varying length is inside ``items``."""
    kind = None
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if high is C.MAXREPEAT:
                return "unbounded"
            if high != low:
                kind = "bounded"
            kind = _variable_repeat(list(body)) or kind
        elif op == C.SUBPATTERN:
            kind = _variable_repeat(list(av[3])) or kind
        elif op == C.BRANCH:
            for alternative in av[1]:
                kind = _variable_repeat(list(alternative)) or kind
        if kind == "unbounded":
            return kind
    return kind


def _delimited(items) -> bool:
    """Does every pass of a repeated body start with a character its inner repeats cannot take (as in
    ``( [A-Z][a-z]*)*``)? Then the passes can be told apart and the nesting is harmless."""
    first = _first(items)
    return first != _ALL and not (first & _repeated_chars(items))


def _repeated_chars(items) -> frozenset:
    """The characters the variable repeats inside ``items`` can take."""
    out: set = set()
    for op, av in items:
        if op in _REPEATS or op == C.POSSESSIVE_REPEAT:
            low, high, body = av
            if high is C.MAXREPEAT or high != low:
                out |= _chars(list(body))
            out |= _repeated_chars(list(body))
        elif op == C.SUBPATTERN:
            out |= _repeated_chars(list(av[3]))
        elif op == C.ATOMIC_GROUP:
            out |= _repeated_chars(list(av))
        elif op == C.BRANCH:
            for alternative in av[1]:
                out |= _repeated_chars(list(alternative))
    return frozenset(out)


def _chars(items) -> frozenset:
    """Every character ``items`` can match anywhere."""
    out: set = set()
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            out |= _first_of(op, av)[0]
        elif op in _REPEATS or op == C.POSSESSIVE_REPEAT:
            out |= _chars(list(av[2]))
        elif op == C.SUBPATTERN:
            out |= _chars(list(av[3]))
        elif op == C.ATOMIC_GROUP:
            out |= _chars(list(av))
        elif op == C.BRANCH:
            for alternative in av[1]:
                out |= _chars(list(alternative))
        elif op not in (C.AT, C.ASSERT, C.ASSERT_NOT):
            return _ALL
    return frozenset(out)


def _overlapping_branch(items) -> bool:
    """Is there an alternation (outside any atomic part) two of whose branches can start alike?"""
    for op, av in items:
        if op == C.BRANCH:
            firsts = [_first(list(alternative)) for alternative in av[1]]
            for i, a in enumerate(firsts):
                if any(a & b for b in firsts[i + 1 :]):
                    return True
            if any(_overlapping_branch(list(alternative)) for alternative in av[1]):
                return True
        elif (op == C.SUBPATTERN and _overlapping_branch(list(av[3]))) or (
            op in _REPEATS and _overlapping_branch(list(av[2]))
        ):
            return True
    return False


def _first(items) -> frozenset:
    """The probe characters a sequence can start with (everything, when it can match nothing)."""
    out: set = set()
    for op, av in items:
        chars, empty = _first_of(op, av)
        out |= chars
        if not empty:
            return frozenset(out)
    return _ALL


def _first_of(op, av) -> tuple[frozenset, bool]:
    if op == C.LITERAL:
        return frozenset({chr(av)}), False
    if op == C.NOT_LITERAL:
        return _ALL - {chr(av)}, False
    if op == C.ANY:
        return _ALL - {"\n"}, False
    if op == C.IN:
        return frozenset(c for c in _PROBES if _in_class(av, c)), False
    if op in _REPEATS or op == C.POSSESSIVE_REPEAT:
        low, _high, body = av
        first = _first(list(body))
        return first, low == 0 or first == _ALL
    if op in (C.SUBPATTERN, C.ATOMIC_GROUP):
        body = av[3] if op == C.SUBPATTERN else av
        first = _first(list(body))
        return first, first == _ALL
    if op == C.BRANCH:
        firsts = [_first(list(alternative)) for alternative in av[1]]
        union = frozenset().union(*firsts)
        return union, any(f == _ALL for f in firsts)
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return frozenset(), True
    return _ALL, True  # back-references and the like: anything


def _in_class(members, char: str) -> bool:
    negate, hit = False, False
    for op, av in members:
        if op == C.NEGATE:
            negate = True
        elif op == C.LITERAL:
            hit = hit or char == chr(av)
        elif op == C.RANGE:
            hit = hit or av[0] <= ord(char) <= av[1]
        elif op == C.CATEGORY:
            hit = hit or re.match(_CATEGORY.get(av, r"[\s\S]"), char) is not None
        else:
            hit = True
    return hit != negate


# --- matching at run time ------------------------------------------------------------------------


#: how often a match stopped by its time limit is tried again when the thread did not get the processor
#: for most of that time (a busy server, not a slow pattern)
RETRIES_WHEN_WAITING = 3


class Budget:
    """The processor time left for one validation's pattern matches. It is counted in this thread's CPU
    time, so a busy machine (the thread waiting for the processor) never makes a valid form fail."""

    def __init__(self, seconds: float = MAX_TOTAL_SECONDS):
        self.deadline = time.thread_time() + seconds

    def left(self) -> float:
        return self.deadline - time.thread_time()


def search(pattern: str, text: str, budget: Budget | None = None) -> bool:
    """``re.search(pattern, text)``, but never longer than the time limit: raises PatternTimeout. The
    matcher's limit is wall time; a match it stops while this thread used less than half of it (the
    thread was waiting for the processor) is tried again, a few times at most."""
    for _ in range(1 + RETRIES_WHEN_WAITING):
        limit = MATCH_SECONDS if budget is None else min(MATCH_SECONDS, budget.left())
        if limit <= 0:
            raise PatternTimeout(pattern)
        used = time.thread_time()
        try:
            return regex.search(pattern, text, timeout=limit, concurrent=True) is not None
        except TimeoutError:
            if time.thread_time() - used >= limit / 2:  # the pattern itself is slow
                raise PatternTimeout(pattern) from None
    raise PatternTimeout(pattern)
