"""Deadline rule sets: every statutory timescale defined once, as data.

A rule set is a TOML file in ``processes/rulesets/``; a local override names a
base set in ``extends`` and replaces or adds rules. Diagrams refer to a deadline
by key (``deadline("R6")``), never by figure, so a process owner changes a
timescale in one place, and a case keeps the resolved rule set it started with.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

from engine.calendar import WorkingDayCalendar, add_months

UNITS = ("working_days", "calendar_days", "calendar_months", "years")
DIRECTIONS = ("after", "before")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class RuleSetError(ValueError):
    def __init__(self, file: str, key: str | None, message: str):
        self.file, self.key, self.message = file, key, message
        super().__init__(f"{file}: {key or '-'}: {message}")


class DeadlineError(ValueError):
    """A deadline cannot be computed for this case (unknown key, missing or bad anchor date)."""


@dataclass(frozen=True)
class Rule:
    key: str
    name: str
    anchor: str
    count: int
    unit: str
    direction: str
    source: str
    figure_in_source: bool = True
    note: str = ""


@dataclass(frozen=True)
class RuleSet:
    name: str
    title: str
    rules: dict[str, Rule]
    extends: str | None = None
    source_file: str = ""
    content_hash: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "extends": self.extends, "source_file": self.source_file,
                "content_hash": self.content_hash, "rules": {k: asdict(r) for k, r in sorted(self.rules.items())}}

    @classmethod
    def from_dict(cls, d: Mapping) -> "RuleSet":
        return cls(d["name"], d["title"], {k: Rule(**r) for k, r in d["rules"].items()}, d.get("extends"),
                   d.get("source_file", ""), d.get("content_hash", ""))


@dataclass
class ParsedRuleSet:
    """One file's own content, before ``extends`` is resolved."""
    file: str
    name: str
    title: str
    extends: str | None
    rules: dict[str, Rule] = field(default_factory=dict)


def parse_ruleset_text(file: str, text: str) -> ParsedRuleSet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(file, None, f"not valid TOML: {exc}") from None
    name = raw.get("name")
    if not isinstance(name, str) or not re.match(r"^[A-Z][A-Z0-9_]{1,31}$", name):
        raise RuleSetError(file, None, "'name' must be a rule-set name such as WT2018")
    title = raw.get("title", name)
    extends = raw.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise RuleSetError(file, None, "'extends' must name another rule set")
    deadlines = raw.get("deadlines", {})
    if not isinstance(deadlines, dict):
        raise RuleSetError(file, None, "[deadlines] must be a table of deadline keys")
    unknown = set(raw) - {"name", "title", "extends", "deadlines"}
    if unknown:
        raise RuleSetError(file, None, f"unknown setting(s): {', '.join(sorted(unknown))}")
    parsed = ParsedRuleSet(file, name, str(title), extends)
    for key, body in deadlines.items():
        parsed.rules[key] = _rule(file, key, body)
    return parsed


def _rule(file: str, key: str, body) -> Rule:
    if not _KEY.match(key):
        raise RuleSetError(file, key, "deadline keys are upper-case letters and digits, such as R6 or S2")
    if not isinstance(body, dict):
        raise RuleSetError(file, key, "a deadline must be a table")
    required = ("name", "anchor", "count", "unit", "direction", "source")
    missing = [f for f in required if f not in body]
    if missing:
        raise RuleSetError(file, key, f"missing {', '.join(missing)}")
    unknown = set(body) - set(required) - {"figure_in_source", "note"}
    if unknown:
        raise RuleSetError(file, key, f"unknown field(s): {', '.join(sorted(unknown))}")
    if body["unit"] not in UNITS:
        raise RuleSetError(file, key, f"unit must be one of {', '.join(UNITS)}, not {body['unit']!r}")
    if body["direction"] not in DIRECTIONS:
        raise RuleSetError(file, key, f"direction must be after or before, not {body['direction']!r}")
    count = body["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise RuleSetError(file, key, "count must be a whole number of 0 or more")
    if not isinstance(body["anchor"], str) or not _NAME.match(body["anchor"]):
        raise RuleSetError(file, key, "anchor must be the name of a date field, such as date_aware")
    for f in ("name", "source"):
        if not isinstance(body[f], str) or not body[f].strip():
            raise RuleSetError(file, key, f"{f} must be non-empty text")
    return Rule(key, body["name"].strip(), body["anchor"], count, body["unit"], body["direction"],
                body["source"].strip(), bool(body.get("figure_in_source", True)), str(body.get("note", "")).strip())


def resolve_rulesets(parsed: list[ParsedRuleSet]) -> dict[str, RuleSet]:
    """Resolve ``extends`` chains; duplicates, unknown parents and cycles are errors."""
    by_name: dict[str, ParsedRuleSet] = {}
    for p in parsed:
        if p.name in by_name:
            raise RuleSetError(p.file, None, f"rule set {p.name} is also defined in {by_name[p.name].file}")
        by_name[p.name] = p
    out: dict[str, RuleSet] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> dict[str, Rule]:
        p = by_name[name]
        if p.extends is None:
            return dict(p.rules)
        if p.extends not in by_name:
            raise RuleSetError(p.file, None, f"extends {p.extends}, which does not exist")
        if p.extends in seen:
            raise RuleSetError(p.file, None, f"extends forms a cycle: {' -> '.join(seen + (p.extends,))}")
        return {**resolve(p.extends, seen + (p.extends,)), **p.rules}

    for name, p in by_name.items():
        rules = resolve(name, (name,))
        digest = hashlib.sha256(json.dumps({k: asdict(r) for k, r in sorted(rules.items())}, sort_keys=True).encode())
        out[name] = RuleSet(name, p.title, rules, p.extends, p.file, digest.hexdigest())
    return out


def load_rulesets(directory: Path) -> dict[str, RuleSet]:
    parsed = []
    for path in sorted(Path(directory).glob("*.toml")):
        parsed.append(parse_ruleset_text(path.name, path.read_text(encoding="utf-8")))
    return resolve_rulesets(parsed)


@dataclass(frozen=True)
class Due:
    key: str
    name: str
    anchor: str
    anchor_date: dt.date
    due_date: dt.date
    on_working_day: bool
    source: str


def _anchor_date(rule: Rule, data: Mapping) -> dt.date:
    value = data.get(rule.anchor)
    if value is None or value == "":
        raise DeadlineError(f"deadline {rule.key}: the case has no '{rule.anchor}' to count from")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise DeadlineError(f"deadline {rule.key}: '{rule.anchor}' is {value!r}, not a date (YYYY-MM-DD)") from None


def compute_due(rule: Rule, data: Mapping, calendar: WorkingDayCalendar) -> Due:
    anchor = _anchor_date(rule, data)
    sign = 1 if rule.direction == "after" else -1
    if rule.unit == "working_days":
        due = calendar.add_working_days(anchor, sign * rule.count)
    elif rule.unit == "calendar_days":
        due = anchor + dt.timedelta(days=sign * rule.count)
    elif rule.unit == "calendar_months":
        due = add_months(anchor, sign * rule.count)
    else:
        due = add_months(anchor, sign * 12 * rule.count)
    return Due(rule.key, rule.name, rule.anchor, anchor, due, calendar.is_working_day(due), rule.source)


def select_ruleset(rulesets: Mapping[str, RuleSet], data: Mapping) -> RuleSet:
    name = data.get("ruleset") or data.get("regime")
    if not name:
        raise DeadlineError("the case names no rule set: set 'regime' (WT2015, WT2018, WT2023) or 'ruleset'")
    if name not in rulesets:
        raise DeadlineError(f"no rule set named '{name}'")
    return rulesets[name]
