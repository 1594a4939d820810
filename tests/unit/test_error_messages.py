"""Every kind of problem the engine finds with a form reads as a GOV.UK error message: it names its field
from the form's titles (its row or group too), says what to do, and never shows the validator's words."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict

from engine.services import forms as form_rules
from tests.unit.test_forms import FORMS
from web.ui import errors, form_page, forms

SCHEMA = {
    "type": "object",
    "required": ["date_aware", "at_risk", "reason", "kind", "evidence", "contact", "agencies"],
    "properties": {
        "date_aware": {
            "title": "When did the local authority become aware?",
            "type": "string",
            "format": "date",
        },
        "date_of_birth": {"title": "Date of birth", "type": "string", "format": "date"},
        "at_risk": {"title": "Are other children at risk?", "type": "boolean"},
        "confirmed": {"title": "Records secured", "type": "boolean"},
        "reason": {
            "title": "Reason",
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "pattern": "^\\s*\\S[\\s\\S]*$",
        },
        "summary": {"title": "Summary", "type": "string", "minLength": 20},
        "reference": {"title": "Reference", "type": "string", "pattern": "^RF-[0-9]{4}$"},
        "kind": {"title": "What kind of review?", "type": "string", "enum": ["lcspr", "none"]},
        "abuse": {
            "title": "Is abuse or neglect known or suspected?",
            "type": "string",
            "enum": ["known", "no"],
        },
        "score": {"title": "Score", "type": "integer", "minimum": 1, "maximum": 5},
        "criteria": {
            "title": "Which criteria apply?",
            "type": "array",
            "minItems": 1,
            "maxItems": 2,
            "uniqueItems": True,
            "items": {"type": "string", "enum": ["a", "b", "c"]},
        },
        "agencies": {"title": "Agencies", "type": "array", "items": {"type": "string"}, "minItems": 1},
        "evidence": {
            "title": "Evidence",
            "type": "array",
            "items": {
                "title": "Source",
                "type": "object",
                "required": ["evidence"],
                "properties": {"evidence": {"title": "Evidence", "type": "string", "minLength": 1}},
            },
        },
        "contact": {
            "title": "Who is making this referral?",
            "type": "object",
            "required": ["name", "email"],
            "properties": {
                "name": {"title": "Name", "type": "string", "minLength": 1},
                "email": {
                    "title": "Email address",
                    "type": "string",
                    "format": "email",
                    "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
                },
            },
        },
        "agreed": {"title": "Does the Executive Group agree?", "type": "boolean", "const": True},
        "home_area": {"title": "Home area", "type": "string"},
        "lives_here": {"title": "Does the child normally live here?", "type": "boolean"},
        "other": {"title": "Other agency", "type": "string"},
        "named": {"title": "Named agency", "type": "string"},
    },
    "dependentRequired": {"other": ["named"]},
    "allOf": [
        {
            "if": {"properties": {"lives_here": {"const": False}}, "required": ["lives_here"]},
            "then": {"required": ["home_area"]},
        }
    ],
}

INTERNAL = re.compile(
    r"is a required property|was expected|does not match|\^|\\\\|is not valid under|is a dependency|"
    r"is not of type|is too (long|short)|non-unique|\[|\{"
)


def shown(data: dict) -> dict[str, str]:
    return errors.error_map(SCHEMA, form_rules.validate(SCHEMA, data), {})


VALID = {
    "date_aware": "2026-12-18",
    "at_risk": False,
    "reason": "Because.",
    "kind": "lcspr",
    "evidence": [{"evidence": "Records"}],
    "contact": {"name": "Sam", "email": "sam@example.org"},
    "agencies": ["Police"],
}


def test_the_valid_answers_have_no_errors():
    assert shown(VALID) == {}


@pytest.mark.parametrize(
    "change, name, expected",
    [
        ({"date_aware": None}, "date_aware", "Enter the date the local authority became aware"),
        ({"at_risk": None}, "at_risk", "Select yes if other children are at risk"),
        ({"reason": None}, "reason", "Enter reason"),
        ({"reason": "   "}, "reason", "Enter reason"),  # blank: the pattern that refuses only whitespace
        ({"reason": ""}, "reason", "Enter reason"),  # minLength 1
        ({"reason": "x" * 2001}, "reason", "Reason must be 2,000 characters or fewer"),
        ({"summary": "short"}, "summary", "Summary must be 20 characters or more"),
        ({"reference": "RF 12"}, "reference", "Reference must be in the correct format"),
        ({"kind": None}, "kind", "Select what kind of review"),
        ({"kind": "maybe"}, "kind", "Select what kind of review"),  # enum
        ({"abuse": "perhaps"}, "abuse", "Select if abuse or neglect is known or suspected"),
        ({"score": 9}, "score", "Score must be 5 or less"),
        ({"score": 0}, "score", "Score must be 1 or more"),
        ({"score": "four"}, "score", "Score must be a whole number"),  # type
        ({"criteria": []}, "criteria", "Select at least 1 for ‘Which criteria apply?’"),
        ({"criteria": ["a", "b", "c"]}, "criteria", "Select no more than 2 for ‘Which criteria apply?’"),
        (
            {"criteria": ["a", "a"]},
            "criteria",
            "The answer to ‘Which criteria apply?’ must not have the same answer twice",
        ),
        ({"agencies": []}, "agencies", "Enter at least 1 for ‘Agencies’"),
        ({"agencies": None}, "agencies", "Enter agencies"),
        (
            {"evidence": None},
            "evidence.0.evidence",
            "Enter evidence for source 1",
        ),  # a required list: its row
        (
            {"evidence": [{"evidence": "a"}, {"evidence": "b"}, {"evidence": ""}]},
            "evidence.2.evidence",
            "Enter evidence for source 3",
        ),
        ({"contact": None}, "contact.name", "Enter name in ‘Who is making this referral?’"),
        (
            {"contact": {"name": "Sam", "email": "not an address"}},
            "contact.email",
            "Enter email address in ‘Who is making this referral?’ in the correct format, "
            "like name@example.org",
        ),
        ({"date_of_birth": "2026-02-31"}, "date_of_birth", "Date of birth must be a real date"),
        (
            {"agreed": False},
            "agreed",
            "The answer to ‘Does the Executive Group agree?’ must be ‘yes’ with your other answers",
        ),
        ({"lives_here": False}, "home_area", "Enter home area"),  # if/then
        ({"other": "Youth service"}, "named", "Enter named agency"),  # dependentRequired
    ],
)
def test_each_kind_of_problem_reads_as_a_gov_uk_message(change, name, expected):
    data = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    messages = shown(data)
    assert messages[name] == expected, messages
    assert not INTERNAL.search(messages[name]), messages[name]


def test_a_field_no_form_would_ask_and_a_field_ruled_out_are_named():
    refused = {"path": "home_area", "kind": "not", "message": "leave this out"}
    assert (
        errors.message(SCHEMA, refused) == "Leave home area blank: it does not apply with your other answers"
    )
    extra = {"path": "surplus", "kind": "additionalProperties", "message": "'surplus' was unexpected"}
    assert errors.message(SCHEMA, extra) == "Surplus is not a question on this form"
    odd = {"path": "reason", "kind": "oneOf", "message": "is not valid under any of the given schemas"}
    assert errors.message(SCHEMA, odd) == "Check reason: it is not an answer this form accepts"


def test_dates_and_numbers_that_cannot_be_read_are_named_with_the_rest_of_the_errors():
    """One date that is not a real date does not hide the other errors: every error at once."""
    posted = MultiDict(
        {
            "date_aware-day": "31",
            "date_aware-month": "2",
            "date_aware-year": "2027",
            "score": "four",
            "reason": "x" * 2001,
        }
    )
    data, parse_problems = forms.parse(SCHEMA, posted)
    problems = form_page.also_wrong(SCHEMA, data, parse_problems)
    messages = errors.error_map(SCHEMA, problems, parse_problems)
    assert messages["date_aware"] == "The date the local authority became aware must be a real date"
    assert messages["score"] == "Score must be a whole number"
    assert messages["reason"] == "Reason must be 2,000 characters or fewer"
    assert messages["at_risk"] == "Select yes if other children are at risk"
    assert messages["contact.name"] == "Enter name in ‘Who is making this referral?’"
    assert "date_aware" not in {p["path"] for p in problems}  # not also "enter" the date just named
    fields = forms.build(SCHEMA, {}, forms.Values.from_form(posted), messages)
    listed = form_page.summary(fields, messages)
    assert [e["href"] for e in listed][:3] == ["#f-date_aware-day", "#f-at_risk", "#f-reason"]  # page order
    assert len(listed) == len(messages)


def test_optional_only_when_no_answer_ever_requires_it():
    fields = {f.name: f for f in forms.build(SCHEMA, {}, forms.Values({}, {}), {})}
    assert not fields["reason"].optional  # required
    assert not fields["home_area"].optional  # required when the child does not live here (if/then)
    assert not fields["named"].optional  # required with "other" (dependentRequired)
    assert fields["summary"].optional and fields["other"].optional


def test_no_message_on_any_shipped_form_shows_the_validators_words():
    """Every property of every form, left out, too long, or of the wrong kind: a plain message."""
    for path in sorted(FORMS.glob("*.json")):
        if path.name.endswith(".ui.json"):
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        for key, node in schema.get("properties", {}).items():
            for kind in ("required", "maxLength", "pattern", "enum", "type", "minItems", "format", "const"):
                text = errors.message(
                    schema, {"path": key, "kind": kind, "message": "x", "limit": node.get("maxLength", 1)}
                )
                assert text and not INTERNAL.search(text.replace("‘", "").replace("’", "")), (
                    path.name,
                    key,
                    text,
                )


@pytest.mark.parametrize(
    "question, said",
    [
        ("Are other children at risk?", "other children are at risk"),
        ("Has the child been seriously harmed?", "the child has been seriously harmed"),
        ("Did this happen outside England?", "this happened outside England"),
        ("Does the child normally live in this area?", "the child normally lives in this area"),
        (
            "When did the local authority become aware of the incident?",
            "when the local authority became aware of the incident",
        ),
        ("Who is making this referral?", "who is making this referral"),
        ("Which records did you review?", "which records you reviewed"),
        ("Is the date of the incident an estimate?", "the date of the incident is an estimate"),
        ("Why was the meeting late?", "why the meeting was late"),
        ("Is the reviewer independent of the case?", "the reviewer is independent of the case"),
        (
            "Have the organisations involved been asked to secure their records?",
            "the organisations involved have been asked to secure their records",
        ),
    ],
)
def test_questions_turn_into_statements(question, said):
    assert errors.statement(question)[1] == said


def test_a_question_it_cannot_turn_around_is_quoted():
    assert errors.statement("Could any other children be at risk, and what has been done?") is None
    node = {"title": "Is the work of satisfactory quality?", "type": "boolean"}
    schema = {"type": "object", "properties": {"independent": node}}
    assert (
        errors.message(schema, {"path": "independent", "kind": "required"})
        == "Select yes or no for ‘Is the work of satisfactory quality?’"
    )


def test_a_group_field_its_parent_requires_with_some_answers_is_not_optional():
    """chair_decision.json: the peer challenge's date, chair and outcome are required once it was sought."""
    schema = json.loads((FORMS / "chair_decision.json").read_text(encoding="utf-8"))
    fields = {f.name: f for f in forms.build(schema, {}, forms.Values({}, {}), {})}
    group = {f.name: f for f in fields["peer_challenge"].children}
    assert not any(f.optional for f in group.values())
    assert fields["advice_sought"].optional and not fields["review_type"].optional


def test_the_check_answers_keyword_is_checked_where_forms_are_deployed():
    assert form_rules.keyword_problems({"type": "object", "x-check-answers": True}) == []
    assert form_rules.keyword_problems({"type": "object", "x-check-answers": "yes"}) == [
        ("x-check-answers", "x-check-answers must be true or false, not 'yes'")
    ]
    nested = {"type": "object", "properties": {"a": {"type": "string", "x-check-answers": True}}}
    assert form_rules.keyword_problems(nested) == [
        ("properties/a/x-check-answers", "x-check-answers belongs to the whole form, at its top level")
    ]
    shipped = [p.name for p in FORMS.glob("*.json") if json.loads(p.read_text()).get("x-check-answers")]
    assert {
        "chair_decision.json",
        "executive_ratification.json",
        "executive_ratification_partners.json",
        "publication_decision.json",
        "publication_final_decision.json",
    } <= set(shipped)


def test_every_shipped_example_can_be_shown_to_be_checked():
    """The check page's summary of each form's example answers: every row has its Change link, and a
    date reads in words."""
    from tests.unit.test_forms import EXAMPLES
    from web.ui import check_answers

    for name, example in EXAMPLES.items():
        schema = json.loads((FORMS / name).read_text(encoding="utf-8"))
        sections = check_answers.sections(schema, {}, example, "/tasks/t")
        rows = [row for section in sections for row in section["rows"]]
        assert rows, name
        for row in rows:
            [change] = row["actions"]["items"]
            assert change["href"].startswith("/tasks/t#f-") and change["visuallyHiddenText"], name
            assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row["value"]["html"])), name
