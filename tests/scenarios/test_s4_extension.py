"""An alternative timescale agreed with Ofsted moves Bolton's S4: 004 "Timescales" says a serious case
review is completed within four months "unless an alternative timescale is agreed with the OFSTED".
The agreed date becomes S4's due date everywhere it shows (the case's deadlines, the task list, the
escalation), and the audit log says it moved, from when to when, why, and who agreed."""

from __future__ import annotations

from tests.scenarios.driver import form
from tests.scenarios.test_publication_gates import BU, CHAIR, OFSTED, bodies, scr_written

AGREED = {"name": "Inspector Example", "role": "Regulatory inspection manager", "organisation": "Ofsted"}
REASON = "A parent's criminal trial means practitioners cannot be interviewed yet."


def extended(deployed):
    """A Bolton review decided on 1 December 2027 (S4 due Saturday 1 April 2028), warned 20 working days
    before, whose timescale is then extended with Ofsted to Friday 30 June 2028 (004 "Timescales")."""
    p = scr_written(deployed, ruleset="BOLTON_PRE2015")
    assert p.deadlines("serious_case_review")["S4"] == ("2028-04-01", "pending")
    p.at("2028-03-06T09:00:00+00:00")
    p.do(
        "scr_timescale_extension",
        form(
            "timescale_extension",
            discussed_on="2028-03-06",
            s4_extended_to="2028-06-30",
            extension_reason=REASON,
            agreed_with=AGREED,
        ),
    )
    return p


def test_an_extension_agreed_with_ofsted_moves_the_s4_due_date(deployed):
    """004 "Timescales": the alternative timescale agreed with Ofsted is the one the review is held to,
    so the case's S4 and the steps it guards show the agreed date."""
    p = extended(deployed)
    assert p.deadlines("serious_case_review")["S4"] == ("2028-06-30", "pending")
    step = p.task("scr_board_sign_off")
    assert (step["due_date"], step["deadline_key"]) == ("2028-06-30", "S4")


def test_s4_escalates_on_the_agreed_date_not_the_old_one(deployed):
    """004 "Timescales": once a new timescale is agreed, the review is not late on the four-month date;
    the chair and the Business Unit are told when the agreed date passes (end of 30 June 2028, BST)."""
    p = extended(deployed)
    p.at("2028-04-02T09:00:00+00:00")  # the day after the four months
    assert p.sent("deadline_missed") == []
    assert p.deadlines("serious_case_review")["S4"] == ("2028-06-30", "pending")
    p.at("2028-06-30T22:59:00+00:00")
    assert p.sent("deadline_missed") == []
    p.at("2028-06-30T23:00:00+00:00")  # midnight in England
    missed = [r for r, _ in p.sent("deadline_missed")]
    assert sorted(missed) == [BU, CHAIR] and OFSTED not in missed
    assert "due by the end of 2028-06-30 (deadline S4)" in bodies(p, "deadline_missed")[CHAIR]
    assert p.deadlines("serious_case_review")["S4"] == ("2028-06-30", "missed")


def test_the_audit_log_records_the_move_with_its_reason_and_who_agreed(deployed):
    """004 "Timescales": the agreed extension is recorded as S4's new due date, with why it was needed and
    who at Ofsted agreed it, in the case's audit log."""
    p = extended(deployed)
    moved = [h for h in p.case("serious_case_review")["history"] if h["kind"] == "deadline_moved"]
    assert len(moved) == 1
    detail = moved[0]["detail"]
    assert (detail["key"], detail["before"], detail["after"]) == ("S4", "2028-04-01", "2028-06-30")
    assert detail["extended_by"] == "s4_extended_to" and detail["step"] == "Discuss the timescale with Ofsted"
    assert detail["extension"]["extension_reason"] == REASON and detail["extension"]["agreed_with"] == AGREED
    assert moved[0]["actor"] == "staff"


def test_a_new_date_without_an_agreed_extension_is_refused_and_s4_stays(deployed):
    """004 "Timescales": only a timescale agreed with Ofsted replaces the four months, so a date given while
    saying nothing was agreed is refused (422 naming it) and S4 keeps its due date."""
    import pytest

    from engine.services.errors import Invalid

    p = scr_written(deployed, ruleset="BOLTON_PRE2015")
    p.at("2028-03-06T09:00:00+00:00")
    with pytest.raises(Invalid) as refused:
        p.do(
            "scr_timescale_extension",
            form(
                "timescale_extension",
                discussed_on="2028-03-06",
                extension_agreed=False,
                s4_extended_to="2028-06-30",
                discussion_notes="No new date agreed.",
            ),
        )
    assert "s4_extended_to" in {d["path"] for d in refused.value.details}
    assert p.deadlines("serious_case_review")["S4"] == ("2028-04-01", "pending")
