"""Deadline rule sets: every statutory timescale defined once, as data.

A rule set is a TOML file in ``processes/rulesets/``; a local override names a base set
in ``extends`` and replaces or adds rules. Diagrams refer to a deadline by key
(``deadline("R6")``), never by figure, so a process owner changes a timescale in one
place, and a case keeps the resolved rule set it started with (``RuleSet.to_dict()``
is the snapshot stored with it; ``content_hash`` tells two versions apart).

A national set (WT2015, WT2018, WT2023) also says the days it governs (``[in_force]``, with its source):
a case runs under the set in force on the day the local authority became aware (``ruleset_in_force``);
local sets have no days of their own and are chosen by a manager.

Files on disk (``load_rulesets``) and uploaded files (``parse_ruleset_text`` then
``resolve_rulesets``) go through the same parser and the same resolver, so a file
that deploys is a file that loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.calendar import WorkingDayCalendar, add_months

__all__ = [
    "DIRECTIONS",
    "UNITS",
    "DeadlineError",
    "Due",
    "InForce",
    "ParsedRuleSet",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "compute_due",
    "load_rulesets",
    "parse_ruleset_text",
    "recorded_date",
    "regime_of",
    "resolve_rulesets",
    "ruleset_in_force",
    "select_ruleset",
]

UNITS = ("working_days", "calendar_days", "calendar_months", "years")
DIRECTIONS = ("after", "before")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")  # R6, S2, or a local key such as LOCAL_1
_SET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")  # WT2018, BOLTON_PRE2015
_ANCHOR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # a task-data key: date_aware
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_TOML_WHERE = re.compile(r"\s*\(at (line (\d+), column \d+|end of document)\)\s*$")

_TOP_LEVEL = {"name", "title", "extends", "in_force", "deadlines"}
_REQUIRED = ("name", "anchor", "count", "unit", "direction", "source")
_OPTIONAL = ("figure_in_source", "note", "recorded_by", "extended_by")


class RuleSetError(ValueError):
    """A rule-set file is wrong. ``str()`` is ``file: key: message`` (``-`` when no deadline key
    is at fault), the shape ``reviewflow check`` prints; ``line`` is set for TOML syntax errors."""

    def __init__(self, file: str, key: str | None, message: str, line: int | None = None):
        self.file, self.key, self.message, self.line = file, key, message, line
        super().__init__(f"{file}: {key or '-'}: {message}")


class DeadlineError(ValueError):
    """A deadline cannot be computed for this case (no rule set, missing or malformed anchor date)."""


@dataclass(frozen=True)
class Rule:
    """One deadline: ``count`` ``unit`` ``direction`` the date in task-data field ``anchor``. ``recorded_by``
    names the case-data field holding the date of the act itself (sent, published, met): when it is set,
    the deadline is met or missed by that date, not by when the form was submitted. ``extended_by`` names
    the case-data field holding a new due date agreed for this case (Bolton's S4: an alternative timescale
    agreed with Ofsted, 004 "Timescales"): when it holds a date, that date is the due date."""

    key: str
    name: str
    anchor: str
    count: int
    unit: str
    direction: str
    source: str
    figure_in_source: bool = True
    note: str = ""
    recorded_by: str = ""
    extended_by: str = ""


def _rule_dict(rule: Rule) -> dict[str, Any]:
    """A rule as plain data; ``recorded_by`` and ``extended_by`` only where they are set, so a rule without
    them hashes and is stored as it was before the fields existed (cases keep the snapshot they started
    with)."""
    out = asdict(rule)
    for optional in ("recorded_by", "extended_by"):
        if not out[optional]:
            del out[optional]
    return out


@dataclass(frozen=True)
class InForce:
    """The days a national rule set governs: cases whose local authority became aware from ``start`` to
    ``end`` (both included; no end: still in force) run under it. ``source`` says where the dates come
    from."""

    start: dt.date
    end: dt.date | None
    source: str
    note: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "until": self.end.isoformat() if self.end else None,
            "source": self.source,
            "note": self.note,
        }


def _rules_hash(rules: Mapping[str, Rule], in_force: InForce | None = None) -> str:
    """sha256 of the resolved rules (and the days the set is in force, where it says) as canonical JSON.
    Name and title are left out on purpose: the hash says whether two versions count the same way and
    govern the same days, so a new version is deployed when either changes."""
    content: dict[str, Any] = {k: _rule_dict(r) for k, r in sorted(rules.items())}
    if in_force is not None:  # a set without dates hashes as it always did
        content = {"rules": content, "in_force": in_force.to_dict()}
    canonical = json.dumps(content, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RuleSet:
    """A resolved rule set: its own rules plus everything it inherits through ``extends``."""

    name: str
    title: str
    rules: dict[str, Rule]
    extends: str | None = None
    source_file: str = ""
    content_hash: str = ""
    in_force: InForce | None = None  # a national regime's own days; never inherited through ``extends``

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for the snapshot a case keeps."""
        out = {
            "name": self.name,
            "title": self.title,
            "extends": self.extends,
            "source_file": self.source_file,
            "content_hash": self.content_hash or _rules_hash(self.rules, self.in_force),
            "rules": {k: _rule_dict(r) for k, r in sorted(self.rules.items())},
        }
        if self.in_force is not None:
            out["in_force"] = self.in_force.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RuleSet:
        """Rebuild a snapshot; a stored hash that no longer matches its rules is refused, so a case
        never runs on a snapshot that was edited in place."""
        file = d.get("source_file") or d.get("name") or "snapshot"
        rules: dict[str, Rule] = {}
        for key, body in d["rules"].items():
            body = dict(body)
            if body.pop("key", key) != key:
                raise RuleSetError(file, key, "the rule's key does not match its entry")
            rules[key] = _rule(file, key, body)
        in_force = _in_force(file, d["in_force"]) if d.get("in_force") else None
        digest = _rules_hash(rules, in_force)
        stored = d.get("content_hash") or digest
        if stored != digest:
            raise RuleSetError(file, None, "the stored content hash does not match the rules")
        return cls(
            d["name"],
            d.get("title") or d["name"],
            rules,
            d.get("extends"),
            d.get("source_file", ""),
            digest,
            in_force,
        )


@dataclass(frozen=True)
class ParsedRuleSet:
    """One file's own content, before ``extends`` is resolved."""

    file: str
    name: str
    title: str
    extends: str | None
    rules: dict[str, Rule] = field(default_factory=dict)
    in_force: InForce | None = None


def parse_ruleset_text(file: str, text: str) -> ParsedRuleSet:
    """Parse and check one file (from disk or an upload); ``resolve_rulesets`` joins them up."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        what = str(exc)
        where = _TOML_WHERE.search(what)
        line = int(where.group(2)) if where and where.group(2) else None
        reason = what[: where.start()] if where else what
        at = f" at line {line}" if line else (" at the end of the file" if where else "")
        raise RuleSetError(file, None, f"not valid TOML{at}: {reason}", line) from None
    unknown = set(raw) - _TOP_LEVEL
    if unknown:
        raise RuleSetError(
            file,
            None,
            f"unknown setting(s): {', '.join(sorted(unknown))} (expected {', '.join(sorted(_TOP_LEVEL))})",
        )
    name = raw.get("name")
    if not isinstance(name, str) or not _SET_NAME.match(name):
        raise RuleSetError(file, None, "'name' must be a rule-set name in capitals, such as WT2018")
    title = raw.get("title", name)
    if not isinstance(title, str) or not title.strip():
        raise RuleSetError(file, None, "'title' must be non-empty text")
    extends = raw.get("extends")
    if extends is not None and (not isinstance(extends, str) or not _SET_NAME.match(extends)):
        raise RuleSetError(file, None, "'extends' must name another rule set, such as WT2015")
    if extends == name:
        raise RuleSetError(file, None, f"extends forms a cycle: {name} -> {name}")
    deadlines = raw.get("deadlines", {})
    if not isinstance(deadlines, dict):
        raise RuleSetError(file, None, "[deadlines] must be a table of deadline keys")
    rules = {key: _rule(file, key, body) for key, body in deadlines.items()}
    in_force = _in_force(file, raw["in_force"]) if "in_force" in raw else None
    return ParsedRuleSet(file, name, title.strip(), extends, rules, in_force)


def _in_force(file: str, body: object) -> InForce:
    """Check an ``[in_force]`` table: ``from`` (a date), optional ``until`` (a later date), ``source``,
    ``note``. Dates are TOML dates in a file and ISO text in a stored snapshot."""

    def fail(message: str) -> RuleSetError:
        return RuleSetError(file, None, f"[in_force]: {message}")

    def day(value: object, what: str) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise fail(f"{what} must be a date such as 2023-12-15, not {value!r}")

    if not isinstance(body, dict):
        raise fail("must be a table with from, until, source")
    unknown = set(body) - {"from", "until", "source", "note"}
    if unknown:
        raise fail(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "from" not in body:
        raise fail("missing from: the first day the rule set governs")
    start = day(body["from"], "from")
    end = day(body["until"], "until") if body.get("until") is not None else None
    if end is not None and end < start:
        raise fail(f"until ({end}) is before from ({start})")
    source, note = body.get("source"), body.get("note", "")
    if not isinstance(source, str) or not source.strip():
        raise fail("source must say where the dates come from")
    if not isinstance(note, str):
        raise fail("note must be text")
    return InForce(start, end, source.strip(), note.strip())


def _rule(file: str, key: str, body: object) -> Rule:
    """Check one ``[deadlines.KEY]`` table; every message names the file and the key."""

    def fail(message: str) -> RuleSetError:
        return RuleSetError(file, key, message)

    if not _KEY.match(key):
        raise fail("deadline keys are capital letters, digits and _, such as R6 or S2")
    if not isinstance(body, dict):
        raise fail("a deadline must be a table")
    missing = [f for f in _REQUIRED if f not in body]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    unknown = set(body) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise fail(f"unknown field(s): {', '.join(sorted(unknown))}")
    for f in ("name", "source"):
        if not isinstance(body[f], str) or not body[f].strip():
            raise fail(f"{f} must be non-empty text")
    if not isinstance(body["anchor"], str) or not _ANCHOR.match(body["anchor"]):
        raise fail("anchor must be the name of a date field, such as date_aware")
    count = body["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise fail(f"count must be a whole number of 0 or more, not {count!r}")
    if body["unit"] not in UNITS:
        raise fail(f"unit must be one of {', '.join(UNITS)}, not {body['unit']!r}")
    if body["direction"] not in DIRECTIONS:
        raise fail(f"direction must be after or before, not {body['direction']!r}")
    figure = body.get("figure_in_source", True)
    if not isinstance(figure, bool):
        raise fail("figure_in_source must be true or false")
    note = body.get("note", "")
    if not isinstance(note, str):
        raise fail("note must be text")
    if not figure and not note.strip():
        raise fail(
            "a count the documents do not give (figure_in_source = false) needs a note saying whose it is"
        )
    recorded_by = body.get("recorded_by", "")
    if not isinstance(recorded_by, str) or (recorded_by and not _ANCHOR.match(recorded_by)):
        raise fail(
            "recorded_by must be the name of the case-data date field recording the act, such as date_sent"
        )
    extended_by = body.get("extended_by", "")
    if not isinstance(extended_by, str) or (extended_by and not _ANCHOR.match(extended_by)):
        raise fail(
            "extended_by must be the name of the case-data date field holding an agreed new due date, "
            "such as s4_extended_to"
        )
    if extended_by and extended_by == body["anchor"]:
        raise fail(
            "extended_by cannot be the anchor: it holds the agreed due date, not the date counted from"
        )
    return Rule(
        key,
        body["name"].strip(),
        body["anchor"],
        count,
        body["unit"],
        body["direction"],
        body["source"].strip(),
        figure,
        note.strip(),
        recorded_by,
        extended_by,
    )


def resolve_rulesets(parsed: Iterable[ParsedRuleSet]) -> dict[str, RuleSet]:
    """Resolve ``extends`` chains (a child replaces or adds rules); duplicate names, unknown
    parents and cycles are errors naming the file at fault."""
    by_name: dict[str, ParsedRuleSet] = {}
    for p in parsed:
        if p.name in by_name:
            raise RuleSetError(p.file, None, f"rule set {p.name} is also defined in {by_name[p.name].file}")
        by_name[p.name] = p

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, Rule]:
        p = by_name[name]
        if p.extends is None:
            return dict(p.rules)
        if p.extends not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise RuleSetError(p.file, None, f"extends {p.extends}, which does not exist (known: {known})")
        if p.extends in chain:
            raise RuleSetError(p.file, None, f"extends forms a cycle: {' -> '.join((*chain, p.extends))}")
        return {**resolve(p.extends, (*chain, p.extends)), **p.rules}

    out: dict[str, RuleSet] = {}
    for name, p in sorted(by_name.items()):
        rules = dict(sorted(resolve(name, (name,)).items(), key=lambda kv: _key_order(kv[0])))
        out[name] = RuleSet(
            name, p.title, rules, p.extends, p.file, _rules_hash(rules, p.in_force), p.in_force
        )
    _check_one_in_force_a_day(out)
    return out


def _check_one_in_force_a_day(rulesets: Mapping[str, RuleSet]) -> None:
    """Two national sets may not govern the same day, or a case's rules would depend on file order."""
    dated = sorted((rs for rs in rulesets.values() if rs.in_force), key=lambda rs: rs.in_force.start)
    for earlier, later in itertools.pairwise(dated):
        if earlier.in_force.end is None or earlier.in_force.end >= later.in_force.start:
            raise RuleSetError(
                later.source_file,
                None,
                f"[in_force]: from {later.in_force.start} overlaps "
                f"{earlier.name} ({earlier.source_file}), in force until "
                f"{earlier.in_force.end or 'further notice'}",
            )


def ruleset_in_force(rulesets: Mapping[str, RuleSet] | Iterable[RuleSet], day: dt.date) -> RuleSet | None:
    """The national rule set governing a case whose local authority became aware on ``day`` (catalogue,
    reading notes: a case does not choose its regime); None before the first one."""
    sets = rulesets.values() if isinstance(rulesets, Mapping) else rulesets
    return next((rs for rs in sets if rs.in_force and rs.in_force.covers(day)), None)


def regime_of(rulesets: Mapping[str, RuleSet], name: str) -> str | None:
    """The national regime a set belongs to: itself if it has days in force, else the nearest set it
    extends that has (BOLTON_PRE2015 runs on the WT2015 path)."""
    seen = set()
    while name in rulesets and name not in seen:
        seen.add(name)
        if rulesets[name].in_force is not None:
            return name
        name = rulesets[name].extends or ""
    return None


def _key_order(key: str) -> tuple:
    """R2 before R10: letters, then the number."""
    m = re.match(r"^([A-Z_]*?)(\d+)$", key)
    return (m.group(1), int(m.group(2)), "") if m else (key, -1, key)


def load_rulesets(directory: Path) -> dict[str, RuleSet]:
    """Every ``*.toml`` in ``directory``, resolved; errors name the file (and the line for bad TOML)."""
    parsed = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise RuleSetError(path.name, None, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
        parsed.append(parse_ruleset_text(path.name, text))
    return resolve_rulesets(parsed)


@dataclass(frozen=True)
class Due:
    """A deadline worked out for one case. ``on_working_day`` is False when a month-based date
    lands on a weekend or holiday: the date is shown as it is, never moved."""

    key: str
    name: str
    anchor: str
    anchor_date: dt.date
    due_date: dt.date
    on_working_day: bool
    source: str
    extended_by: str = ""  # the field whose agreed date replaced the counted one, if any
    computed_date: dt.date | None = None  # the counted date it replaced


def _anchor_date(rule: Rule, data: Mapping[str, Any], field_name: str | None = None) -> dt.date:
    """The anchor (or another date field of the rule) as a date. Dates travel as ``YYYY-MM-DD``; a datetime
    (object or ISO string) counts from the date it shows. Anything else is an error naming the deadline
    and the field."""
    field_name = field_name or rule.anchor
    value = data.get(field_name)
    if value is None or value == "":
        raise DeadlineError(f"deadline {rule.key}: the case has no '{field_name}' to count from")
    day = _as_date(value)
    if day is None:
        raise DeadlineError(f"deadline {rule.key}: '{field_name}' is {value!r}, not a date (YYYY-MM-DD)")
    return day


def _as_date(value: Any) -> dt.date | None:
    """A date as case data holds one (``YYYY-MM-DD``, a datetime or an ISO datetime string counting as the
    date it shows), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            return (
                dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value).date()
            )
        except ValueError:
            return None
    return None


def compute_due(rule: Rule, data: Mapping[str, Any], calendar: WorkingDayCalendar) -> Due:
    """The due date of ``rule`` for a case whose task data is ``data``, counted on ``calendar``; a new due
    date agreed for the case (in the rule's ``extended_by`` field) replaces the counted one."""
    anchor = _anchor_date(rule, data)
    if rule.direction not in DIRECTIONS:
        raise DeadlineError(f"deadline {rule.key}: direction {rule.direction!r} is not after or before")
    n = rule.count if rule.direction == "after" else -rule.count
    if rule.unit == "working_days":
        due = calendar.add_working_days(anchor, n)
    elif rule.unit == "calendar_days":
        due = anchor + dt.timedelta(days=n)
    elif rule.unit == "calendar_months":
        due = add_months(anchor, n)
    elif rule.unit == "years":
        due = add_months(anchor, 12 * n)
    else:
        raise DeadlineError(f"deadline {rule.key}: unit {rule.unit!r} is not one of {', '.join(UNITS)}")
    if rule.extended_by and data.get(rule.extended_by) not in (None, ""):
        agreed = _anchor_date(rule, data, rule.extended_by)
        return Due(
            rule.key,
            rule.name,
            rule.anchor,
            anchor,
            agreed,
            calendar.is_working_day(agreed),
            rule.source,
            rule.extended_by,
            due,
        )
    return Due(rule.key, rule.name, rule.anchor, anchor, due, calendar.is_working_day(due), rule.source)


def recorded_date(rule: Rule | None, data: Mapping[str, Any]) -> dt.date | None:
    """The date the act was recorded as done (``recorded_by``), or None when the rule has no such field or
    the case does not hold a date in it."""
    if rule is None or not rule.recorded_by:
        return None
    return _as_date(data.get(rule.recorded_by))


def select_ruleset(rulesets: Mapping[str, RuleSet], data: Mapping[str, Any]) -> RuleSet:
    """The case's rule set: a local override named in ``ruleset`` wins over the ``regime``."""
    field_name = "ruleset" if data.get("ruleset") else "regime"
    name = data.get(field_name)
    if not name:
        raise DeadlineError("the case names no rule set: set 'regime' (WT2015, WT2018, WT2023) or 'ruleset'")
    if not isinstance(name, str) or name not in rulesets:
        known = ", ".join(sorted(rulesets)) or "none deployed"
        raise DeadlineError(f"'{field_name}' is {name!r}: no rule set of that name (known: {known})")
    return rulesets[name]
