"""`reviewflow demo` leaves one account per role and cases at different stages, dated from today."""

from __future__ import annotations

from engine.services import demo
from tests.conftest import MANAGER


def test_demo_accounts_sign_in_and_cases_stand_at_their_stages(deployed):
    seeded = demo.seed(deployed, password="correct horse battery")
    assert len(seeded["cases"]) == 4
    assert deployed.users.authenticate("police", "correct horse battery").roles == frozenset(
        {"Agency: Police"}
    )
    assert deployed.users.authenticate("police", "wrong password here") is None

    def steps(username):
        return sorted(t["element_id"] for t in deployed.tasks.for_user(deployed.users.actor(username)))

    assert steps("police") == ["return_agency_information"]
    assert steps("chair") == ["chair_decides"]
    # the new notification's Panel notification is open beside its check on other children (003 §3.4-3.6)
    assert steps("la") == [
        "check_other_children",
        "notify_panel_and_partners",
        "notify_panel_and_partners",
        "notify_sos_ofsted",
    ]
    overdue = [
        t
        for t in deployed.tasks.for_user(deployed.users.actor("la"))
        if t["element_id"] == "notify_sos_ofsted"
    ]
    assert overdue[0]["due_date"] < "2026-12-21"  # eleven days after awareness: already past
    assert all(
        i["status"] == "running"
        for i in deployed.queries.list_instances(MANAGER)
        if i["process_id"] != "incident_notification"
    )


def test_seeding_again_resets_the_password_and_adds_no_cases(deployed):
    demo.seed(deployed, password="first password 1")
    again = demo.seed(deployed, password="second password 2")
    assert again["cases"] == []
    assert deployed.users.authenticate("bu", "second password 2") is not None
    assert deployed.users.authenticate("bu", "first password 1") is None
