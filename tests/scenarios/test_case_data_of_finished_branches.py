"""What a branch recorded stays on the case once that branch ends, while the others go on: the check on other
children (003 §3.5) ends on its own branch beside the rapid review, and the people deciding on the case (the
PRG, the Executive, managers on the case page) must still see its answers."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form


def test_the_check_on_other_children_is_on_the_case_after_its_branch_ends(deployed):
    p = Partnership(deployed)
    p.start(date_aware="2026-12-18", notification_date=None)
    p.do(
        "check_other_children",
        form("safety_check", safety_actions="Sibling placed with an aunt under a plan."),
    )
    case = p.case("incident_notification")
    assert case["status"] != "completed"  # the notifications are still open
    assert case["data"]["safety_actions"] == "Sibling placed with an aunt under a plan."
    assert case["data"]["other_children_at_risk"] is True
