"""JSON Schema forms as GOV.UK pages: what a submitted page becomes, and what the engine's problems say."""

from __future__ import annotations

import json

from werkzeug.datastructures import MultiDict

from tests.unit.test_forms import EXAMPLES, FORMS
from web.ui import form_page, forms


def load(name):
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


def test_every_example_survives_being_shown_and_submitted_again():
    """Show a form filled with its example, read the page back as a browser would send it: the same data."""
    for name, example in EXAMPLES.items():
        schema = load(name)
        values = forms.Values.from_data(schema, example)
        posted = MultiDict(
            [(k, v) for k, v in values.single.items()]
            + [(k, v) for k, vs in values.multi.items() for v in vs]
        )
        data, problems = forms.parse(schema, posted)
        assert problems == {}, name
        assert data == example, name


def test_dates_numbers_and_choices_are_typed_and_bad_ones_named():
    schema = load("independent_chair_checklist.json")
    data, problems = forms.parse(
        schema,
        MultiDict(
            {
                "child_died": "false",
                "signed_date-day": "31",
                "signed_date-month": "2",
                "signed_date-year": "2027",
                "culpability_score": "four",
            }
        ),
    )
    assert data == {"child_died": False}
    assert problems == {"signed_date": "must be a real date", "culpability_score": "must be a whole number"}


def test_problems_read_as_gov_uk_error_messages():
    schema = load("incident_notification.json")
    messages = forms.error_map(
        schema,
        [
            {"path": "child_died", "message": "'child_died' is a required property", "kind": "required"},
            {"path": "children/0/name", "message": "too long", "kind": "maxLength", "limit": 200},
            {"path": "referrer/email", "message": "not an email", "kind": "format"},
            {"path": "abuse_or_neglect", "message": "", "kind": "required"},
        ],
        {},
    )
    assert messages["child_died"] == "Select yes if the child has died"
    assert messages["children.0.name"] == "Full name must be 200 characters or fewer" or messages[
        "children.0.name"
    ].endswith("must be 200 characters or fewer")
    assert messages["referrer.email"] == (
        "Enter email address in ‘Who is making this referral?’ in the correct format, like name@example.org"
    )
    assert messages["abuse_or_neglect"].startswith("Select")


def test_removing_a_row_moves_later_rows_up():
    values = forms.Values(
        {
            "children.rows": "3",
            "children.0.name": "A",
            "children.1.name": "B",
            "children.2.name": "C",
            "children.2.date_of_birth-day": "9",
        },
        {},
    )
    left = form_page.without_row(values, "children", 1)
    assert left.single == {
        "children.rows": "2",
        "children.0.name": "A",
        "children.1.name": "C",
        "children.1.date_of_birth-day": "9",
    }
    assert form_page.without_row(values, "children", 7).single == values.single
