"""The form keywords that judge a date against the case (engine/services/forms.py): a deadline is met or
missed by the date recorded for the act, so that date must be believable (003 §3.4, §4.6, §7.7, §7.8):
not after today, not before the date it follows, explained when it is late; an answer that agrees with
the practice review group cannot record something else (003 §4.5)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock
from engine.bpmn import bundle
from engine.calendar import WorkingDayCalendar
from engine.services import forms
from web.ui import forms as web_forms

SCHEMA = {
    "type": "object",
    "x-source": "003 §4.6",
    "properties": {
        "planned_date": {"title": "Planned publication date", "type": "string", "format": "date"},
        "meeting_date": {
            "title": "Date of the meeting",
            "type": "string",
            "format": "date",
            "x-not-future": True,
            "x-late-reason": {"deadline": "R4", "reason_field": "late_reason"},
        },
        "late_reason": {"title": "Why was the meeting late?", "type": "string"},
        "sent_date": {
            "title": "Date sent",
            "type": "string",
            "format": "date",
            "x-not-before": {"field": "meeting_date", "working_days": 2, "source": "003 §7.7"},
        },
        "agrees": {"type": "boolean"},
        "decision": {"title": "Decision", "type": "string", "enum": ["lcspr", "no_lcspr"]},
        "periods": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "from_date": {"type": "string", "format": "date"},
                    "to_date": {
                        "type": "string",
                        "format": "date",
                        "x-not-before": {"field": "from_date", "source": "000 §2"},
                    },
                },
            },
        },
    },
    "allOf": [
        {
            "if": {"properties": {"agrees": {"const": True}}, "required": ["agrees"]},
            "then": {
                "properties": {
                    "decision": {"x-equals-case": {"field": "lcspr_decision", "source": "003 §4.5"}}
                }
            },
        }
    ],
}


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_now("2027-01-06T10:00")
    yield
    clock.set_now(None)


def problems(data, context: forms.CaseContext | None = None):
    if context is None:
        return forms.validate(SCHEMA, data)
    with forms.in_case(context):
        return forms.validate(SCHEMA, data)


def case(**kwargs) -> forms.CaseContext:
    return forms.CaseContext(**{"today": clock.today(), "calendar": WorkingDayCalendar(), **kwargs})


def test_a_date_after_today_is_refused_naming_the_field_and_paragraph():
    """An act that is recorded has happened (003 §4.6): its date cannot be after today on the product
    clock."""
    assert problems({"meeting_date": "2027-01-06"}) == []
    [p] = problems({"meeting_date": "2027-01-07"})
    assert (p["path"], p["kind"], p["source"]) == ("meeting_date", "x-not-future", "003 §4.6")
    assert "6 January 2027" in p["message"] and p["message"].endswith("(003 §4.6)")


def test_today_comes_from_the_case_context_when_one_is_set():
    """The caller that validates a task's submission says what today is (003 §4.6)."""
    assert problems({"meeting_date": "2027-01-07"}, case(today=dt.date(2027, 1, 8))) == []


@pytest.mark.parametrize(
    "meeting, earliest",
    [
        ("2026-12-23", "2026-12-29"),  # Christmas Day and the Boxing Day substitute (Mon 28 Dec) are skipped
        ("2026-12-31", "2027-01-05"),  # New Year's Day and the weekend are skipped
        ("2027-03-25", "2027-03-31"),  # Good Friday 26 March and Easter Monday 29 March 2027 are skipped
    ],
)
def test_not_before_counts_england_working_days_across_holidays(meeting, earliest):
    """ "No later than seven working days before" (003 §7.7) counts England working days: the earliest
    allowed date skips weekends and bank holidays; the day before it is refused."""
    clock.set_now("2027-06-01T10:00")
    day = dt.date.fromisoformat(earliest)
    assert problems({"meeting_date": meeting, "sent_date": earliest}) == []
    [p] = problems({"meeting_date": meeting, "sent_date": (day - dt.timedelta(days=1)).isoformat()})
    assert (p["path"], p["kind"], p["source"]) == ("sent_date", "x-not-before", "003 §7.7")
    assert f"{day.day} {day:%B %Y}" in p["message"] and "‘Date of the meeting’" in p["message"]


def test_not_before_uses_the_administrators_calendar_overrides():
    """A one-off bank holiday added by the administrator stops the count too (003 §7.7)."""
    extra = case(calendar=WorkingDayCalendar(extra_holidays=[dt.date(2027, 1, 4)]))
    assert problems({"meeting_date": "2026-12-31", "sent_date": "2027-01-05"}) == []
    assert [
        p["path"] for p in problems({"meeting_date": "2026-12-31", "sent_date": "2027-01-05"}, extra)
    ] == ["sent_date"]


def test_not_before_finds_the_other_date_in_the_row_then_the_case_data():
    """A reversed timeframe is refused (000 §2); the other date is the row's own, else the case data's."""
    [p] = problems({"periods": [{"from_date": "2026-05-02", "to_date": "2026-05-01"}]})
    assert (p["path"], p["source"]) == ("periods/0/to_date", "000 §2")
    assert (
        problems({"sent_date": "2026-12-24"}, case(data={"meeting_date": "2026-12-24"}))[0]["path"]
        == "sent_date"
    )
    assert problems({"sent_date": "2026-12-24"}) == []  # no other date: nothing to compare


def test_a_late_date_needs_a_reason():
    """Past its deadline's due date for this case, the date is kept only with a reason (003 §3.4)."""
    late = case(deadlines={"R4": dt.date(2026, 12, 18)}, sources={"R4": "003 §3.4"})
    [p] = problems({"meeting_date": "2026-12-21"}, late)
    assert (p["path"], p["kind"], p["source"]) == ("late_reason", "x-late-reason", "003 §3.4")
    assert "18 December 2026" in p["message"]
    assert problems({"meeting_date": "2026-12-21", "late_reason": "  "}, late)[0]["path"] == "late_reason"
    assert problems({"meeting_date": "2026-12-21", "late_reason": "The chair was ill."}, late) == []
    assert problems({"meeting_date": "2026-12-18"}, late) == []  # on the due date: on time
    assert problems({"meeting_date": "2026-12-21"}) == []  # no case: no deadline to compare


def test_a_deadline_not_armed_yet_is_worked_out_from_the_rule_set():
    """The due date is this case's: counted from the case data by the rule set when no timer holds it."""
    from pathlib import Path

    from engine.rules import load_rulesets

    rulesets = load_rulesets(Path(__file__).resolve().parents[2] / "processes" / "rulesets")
    context = forms.case_context(
        {"notification_date": "2026-12-04"}, {}, rulesets["WT2018"], WorkingDayCalendar()
    )
    # R4: 10 working days after 4 December 2026 is 18 December
    assert problems({"meeting_date": "2026-12-18"}, context) == []
    assert problems({"meeting_date": "2026-12-21"}, context)[0]["source"] == "003 §3.4"


def test_an_answer_that_agrees_must_match_the_case():
    """The Executive cannot agree with the group's recommendation and record the opposite (003 §4.5)."""
    prg = case(data={"lcspr_decision": "lcspr"})
    [p] = problems({"agrees": True, "decision": "no_lcspr"}, prg)
    assert (p["path"], p["kind"], p["source"]) == ("decision", "x-equals-case", "003 §4.5")
    assert problems({"agrees": True, "decision": "lcspr"}, prg) == []
    assert problems({"agrees": False, "decision": "no_lcspr"}, prg) == []


def test_the_web_form_shows_the_errors_beside_the_field():
    """The page puts each message on its field, named by its label (003 §4.6)."""
    shown = web_forms.error_map(SCHEMA, problems({"meeting_date": "2027-01-07"}), {})
    assert shown["meeting_date"].startswith("Date of the meeting must be today (6 January 2027) or earlier")
    fields = web_forms.build(
        SCHEMA, {}, web_forms.Values.from_data(SCHEMA, {"meeting_date": "2027-01-07"}), shown
    )
    assert {f.name: f.error for f in fields}["meeting_date"] == shown["meeting_date"]  # beside its field
    late = case(deadlines={"R4": dt.date(2026, 12, 18)}, sources={"R4": "003 §3.4"})
    shown = web_forms.error_map(SCHEMA, problems({"meeting_date": "2026-12-21"}, late), {})
    assert shown["late_reason"].startswith("Enter why the meeting was late: say why it was late")


@pytest.mark.parametrize(
    "field, pointer, message",
    [
        ({"x-not-futur": True}, "properties/d/x-not-futur", "unknown keyword 'x-not-futur'"),
        ({"x-not-before": {"field": 7}}, "properties/d/x-not-before/field", "field must be a string"),
        (
            {"x-not-before": {"field": "a", "working_days": -1}},
            "properties/d/x-not-before/working_days",
            "working_days must be a whole number of 0 or more",
        ),
        (
            {"x-not-before": {"field": "a", "working_days": True}},
            "properties/d/x-not-before/working_days",
            "working_days must be a whole number",
        ),
        (
            {"x-late-reason": {"deadline": "R99", "reason_field": "why"}},
            "properties/d/x-late-reason/deadline",
            "unknown deadline key 'R99'",
        ),
        (
            {"x-late-reason": {"deadline": "R4", "reason_field": "nowhere"}},
            "properties/d/x-late-reason/reason_field",
            "the form has no field 'nowhere'",
        ),
        ({"x-equals-case": 3}, "properties/d/x-equals-case", "x-equals-case names a case-data field"),
    ],
)
def test_reviewflow_check_refuses_unknown_or_malformed_keywords(field, pointer, message):
    """A misspelt or malformed keyword would silently check nothing: the check names file, pointer and
    problem (003 §7.7)."""
    import json
    from pathlib import Path

    form = {
        "type": "object",
        "x-source": "003 §7.7",
        "properties": {"d": {"type": "string", "format": "date", **field}, "why": {"type": "string"}},
    }
    files = _files(Path(__file__).resolve().parents[2])
    files["demo_keywords.json"] = json.dumps(form).encode()
    with pytest.raises(bundle.BundleInvalid) as caught:
        bundle.build(files)
    lines = [str(p) for p in caught.value.problems]
    assert any(line.startswith(f"demo_keywords.json: {pointer}: {message}") for line in lines), lines


def _files(root):
    """The rule sets, for the deadline keys a form may name."""
    out = {}
    for path in sorted((root / "processes" / "rulesets").glob("*.toml")):
        out["rulesets/" + path.name] = path.read_bytes()
    return out


RULE = """name = "LOCAL_X"
[deadlines.R4]
name = "Meeting held"
anchor = "notification_date"
count = 10
unit = "working_days"
direction = "after"
source = "003 §3.4"
"""


@pytest.mark.parametrize("line", ["recorded_by = 7", 'recorded_by = "rapid review date"'])
def test_a_rule_names_its_recorded_date_field_or_is_refused(line):
    """``recorded_by`` names the case-data field holding the act's date (003 §3.4); anything else is refused
    with ``file: key: message``."""
    from engine.rules import RuleSetError, parse_ruleset_text

    with pytest.raises(RuleSetError) as caught:
        parse_ruleset_text("local.toml", RULE + line + "\n")
    assert str(caught.value).startswith(
        "local.toml: R4: recorded_by must be the name of the case-data date field"
    )


def test_a_rule_without_recorded_by_keeps_the_hash_cases_started_with():
    """Cases keep the rule set they started with (003 §3.4): adding the field must not change the hash of a
    rule that does not use it, or every running case's snapshot would be refused."""
    from engine.rules import RuleSet, parse_ruleset_text, recorded_date, resolve_rulesets

    plain = resolve_rulesets([parse_ruleset_text("local.toml", RULE)])["LOCAL_X"]
    snapshot = plain.to_dict()
    assert "recorded_by" not in snapshot["rules"]["R4"]
    assert RuleSet.from_dict(snapshot).content_hash == plain.content_hash
    with_field = resolve_rulesets(
        [parse_ruleset_text("local.toml", RULE + 'recorded_by = "rapid_review_date"\n')]
    )["LOCAL_X"]
    assert with_field.content_hash != plain.content_hash
    assert RuleSet.from_dict(with_field.to_dict()).rules["R4"].recorded_by == "rapid_review_date"
    assert recorded_date(with_field.rules["R4"], {"rapid_review_date": "2027-01-06"}) == dt.date(2027, 1, 6)
    assert recorded_date(with_field.rules["R4"], {}) is None
