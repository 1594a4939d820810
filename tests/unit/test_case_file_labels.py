"""Answers as a person reads them: each value under its field's title, in the form's order, options by their
titles, dates as long dates, objects and lists of objects nested; what the form does not describe is left
out rather than shown by its key."""

from __future__ import annotations

from engine.services.case_file import MAX_ITEMS, labelled

SCHEMA = {
    "type": "object",
    "properties": {
        "met_on": {"title": "Date of the meeting", "type": "string", "format": "date"},
        "decision": {
            "title": "What was decided?",
            "type": "string",
            "enum": ["lcspr", "no_lcspr"],
            "x-enum-titles": ["A local review", "No local review"],
        },
        "agreed": {"title": "Agreed?", "type": "boolean"},
        "criteria": {
            "title": "Which criteria apply?",
            "type": "array",
            "items": {"type": "string", "enum": ["a", "b"], "x-enum-titles": ["Criterion A", "Criterion B"]},
        },
        "lead": {
            "title": "Lead",
            "type": "object",
            "properties": {"name": {"title": "Name", "type": "string"}},
        },
        "events": {
            "title": "Events",
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"on": {"title": "Date", "type": "string", "format": "date"}},
            },
        },
        "notes": {"title": "Notes", "type": "string"},
    },
}


def test_values_are_labelled_by_titles_in_the_forms_order():
    ui = {"ui:order": ["agreed", "met_on"]}
    shown = labelled(
        SCHEMA,
        ui,
        {
            "met_on": "2027-01-12",
            "agreed": False,
            "decision": "no_lcspr",
            "criteria": ["b", "a"],
            "lead": {"name": "Reviewer Example"},
            "events": [{"on": "2026-11-02"}],
            "notes": "",
            "internal_flag": True,
        },
    )
    assert shown == [
        {"key": "Agreed?", "text": "No"},
        {"key": "Date of the meeting", "text": "12 January 2027"},
        {"key": "What was decided?", "text": "No local review"},
        {"key": "Which criteria apply?", "items": ["Criterion B", "Criterion A"], "more": 0},
        {"key": "Lead", "rows": [{"key": "Name", "text": "Reviewer Example"}]},
        {"key": "Events", "groups": [[{"key": "Date", "text": "2 November 2026"}]], "more": 0},
    ]  # the empty note and the field no form describes are left out


def test_a_long_list_says_how_many_more_there_are():
    [row] = labelled(SCHEMA, {}, {"events": [{"on": "2026-11-02"}] * (MAX_ITEMS + 3)})
    assert len(row["groups"]) == MAX_ITEMS and row["more"] == 3


def test_a_value_of_another_shape_than_its_field_is_still_shown_as_text():
    assert labelled(SCHEMA, {}, {"met_on": "not a date", "notes": 42}) == [
        {"key": "Date of the meeting", "text": "not a date"},
        {"key": "Notes", "text": "42"},
    ]
