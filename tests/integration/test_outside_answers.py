"""Answers from outside a case waits for (003 §8.5: the Panel's answer to a rapid review) are recorded by the
role the diagram names, with data the declared form accepts: an unknown outcome is refused naming its field,
another role is refused, the day it arrived defaults to today, and a second delivery finds the case no longer
waiting."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from engine.services.errors import Conflict, Forbidden, Invalid
from tests.awaiting_panel import waiting_for_the_panel

BU = Actor("bu", frozenset({"Business Unit"}))
PRG = Actor("prg", frozenset({"Practice Review Group"}))
MANAGER = Actor("mo", frozenset({"manager"}))


def test_the_case_says_what_it_waits_for_from_whom_since_when_and_who_records_it(deployed):
    p = waiting_for_the_panel(deployed)
    rapid = p.case("rapid_review")
    [waiting] = deployed.outside.waiting_for(rapid["id"], BU)
    assert waiting["message"] == "panel_response"
    assert waiting["step"] == "Panel's answer received"
    assert waiting["sender"] == "the Child Safeguarding Practice Review Panel"
    assert waiting["recorded_by"] == "Business Unit" and waiting["may_record"]
    # no step stores when a wait began: the step before it (telling the family) was completed then
    assert waiting["since"] == "2026-12-21T09:00:00+00:00"
    assert not deployed.outside.waiting_for(rapid["id"], PRG)[0]["may_record"]
    assert [r["business_key"] for r in deployed.outside.awaited_by(BU)] == [rapid["business_key"]]
    assert deployed.outside.awaited_by(PRG) == []


def test_an_unknown_outcome_is_refused_naming_its_field(deployed):
    p = waiting_for_the_panel(deployed)
    rapid = p.case("rapid_review")
    with pytest.raises(Invalid) as refused:
        deployed.instances.deliver_message(
            "panel_response", {"outcome": "maybe", "received_date": "2027-01-04"}, BU, instance_id=rapid["id"]
        )
    assert [d["path"] for d in refused.value.details] == ["outcome", "received_date"]
    assert "outcome" in refused.value.message
    assert p.case("rapid_review")["status"] == "running"  # nothing delivered


def test_a_role_that_does_not_record_the_answer_is_forbidden(deployed):
    p = waiting_for_the_panel(deployed)
    rapid = p.case("rapid_review")
    with pytest.raises(Forbidden):
        deployed.instances.deliver_message(
            "panel_response", {"outcome": "no_national_review"}, PRG, instance_id=rapid["id"]
        )
    with pytest.raises(Forbidden):
        deployed.outside.form(rapid["id"], "panel_response", PRG)
    assert deployed.outside.waiting_for(rapid["id"], BU)  # still waiting


def test_recorded_once_with_its_date_and_never_twice(deployed):
    p = waiting_for_the_panel(deployed)
    rapid = p.case("rapid_review")
    deployed.instances.deliver_message(
        "panel_response", {"outcome": "no_national_review"}, MANAGER, instance_id=rapid["id"]
    )
    done = p.case("rapid_review")
    assert done["status"] == "completed"
    assert done["data"]["panel_response"] == {"outcome": "no_national_review", "received_date": "2026-12-21"}
    [audited] = [h for h in done["history"] if h["kind"] == "message_received"]
    assert audited["actor"] == "mo" and audited["detail"]["data"]["received_date"] == "2026-12-21"
    with pytest.raises(Conflict):
        deployed.instances.deliver_message(
            "panel_response", {"outcome": "no_national_review"}, MANAGER, instance_id=rapid["id"]
        )
    assert deployed.outside.waiting_for(rapid["id"], BU) == []
