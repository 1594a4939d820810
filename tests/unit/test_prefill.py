"""Where a form's answers start from (``x-prefill``): declared on a field, a case field of the same shape or a
list of texts made into rows; at the top of a form, the record the whole form starts from; misdeclared, a
clear problem for ``reviewflow check``."""

from __future__ import annotations

from engine.services import forms as form_rules
from engine.services import prefill

ROWS = {"type": "array", "items": {"type": "object", "properties": {"objective": {"type": "string"}}}}


def form(**properties) -> dict:
    return {"type": "object", "properties": properties}


def test_a_field_starts_from_the_case_field_it_names():
    schema = form(children={"type": "array", "x-prefill": "children"}, note={"type": "string"})
    data = {"children": [{"name": "A"}], "note": "not declared: never carried"}
    assert prefill.declared(schema, data) == {"children": [{"name": "A"}]}
    assert prefill.declared(schema, {"children": []}) == {}  # nothing given yet: nothing filled


def test_a_list_of_texts_becomes_rows():
    schema = form(items={**ROWS, "x-prefill": {"from": "recommendations", "as": "objective"}})
    data = {"recommendations": ["First.", " ", "Second."]}
    assert prefill.declared(schema, data) == {"items": [{"objective": "First."}, {"objective": "Second."}]}


def test_a_whole_form_starts_from_the_first_record_found():
    schema = {**form(objective={"type": "string"}), "x-prefill": ["first_item", "next_item"]}
    assert prefill.declared(schema, {"next_item": {"objective": "Again."}}) == {"objective": "Again."}
    assert prefill.has_declarations(schema) and not prefill.has_declarations(form(a={"type": "string"}))


def test_answers_carried_over_leave_their_dates_and_decisions_out():
    schema = form(
        text={"type": "string"},
        on={"type": "string", "format": "date"},
        sign_off={"type": "object", "properties": {"by": {"type": "string"}, "date": {"format": "date"}}},
    )
    earlier = {"text": "Kept.", "on": "2027-01-01", "sign_off": {"by": "Board", "date": "2027-01-01"}}
    assert prefill.carried_over(schema, earlier) == {"text": "Kept.", "sign_off": {"by": "Board"}}
    assert prefill.carried_over({**schema, "x-check-answers": True}, earlier) == {}


def test_a_misdeclared_prefill_is_named_where_it_is():
    assert form_rules.keyword_problems(form(a={"type": "string", "x-prefill": "children"})) == []
    assert form_rules.keyword_problems(form(a={"type": "string", "x-prefill": "no spaces"})) == [
        (
            "properties/a/x-prefill",
            'x-prefill names a case-data field ("children"), {"from": "<field>", "as": "<row field>"} or '
            '{"agency": "<field>"}',
        )
    ]
    wrong_row = form(items={**ROWS, "x-prefill": {"from": "recommendations", "as": "action"}})
    assert form_rules.keyword_problems(wrong_row) == [
        ("properties/items/x-prefill", "x-prefill makes rows of 'items': its rows have no field 'action'")
    ]
    assert form_rules.keyword_problems({**form(), "x-prefill": "one"}) == [
        ("x-prefill", "x-prefill at the top of a form lists the records it may start from")
    ]


def test_an_agencys_return_starts_with_its_own_name_from_the_request():
    schema = form(agency={"type": "string", "x-prefill": {"agency": "panel_agency"}})
    names = {"police": "Police"}.get
    assert prefill.declared(schema, {"panel_agency": "police"}, names) == {"agency": "Police"}
    assert prefill.declared(schema, {}, names) == {}
    assert form_rules.keyword_problems(schema) == []
    assert form_rules.keyword_problems(form(agency={"type": "string", "x-prefill": {"agency": 3}})) != []


def test_a_new_record_each_time_and_a_record_of_its_own_never_start_from_the_last_answers():
    assert prefill.carries_over(form(text={"type": "string"}))
    assert not prefill.carries_over({**form(), "x-new-each-time": True})  # one interview, then the next
    assert not prefill.carries_over({**form(), "x-prefill": ["first_item"]})  # its own item, not another's
    assert not prefill.carries_over({**form(), "x-check-answers": True})  # a decision, made afresh
    assert form_rules.keyword_problems({**form(), "x-new-each-time": True}) == []
    assert form_rules.keyword_problems({**form(), "x-new-each-time": "yes"}) == [
        ("x-new-each-time", "x-new-each-time must be true or false, not 'yes'")
    ]
