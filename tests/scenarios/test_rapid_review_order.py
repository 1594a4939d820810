"""The order of the Working Together 2018 steps where the procedures let things happen side by side: the
rapid review starts when the notification arrives, beside the check on other children and the local
authority's notifications (003 §3.4-3.7, §4.1); telling the family runs beside the local review (003 §5.3).
The clock starts on Monday 21 December 2026, the day of notification; dates worked out by hand as in
test_wt2018_rapid_review (25 and 28 December 2026 and 1 January 2027 are bank holidays)."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form

AWARE = "2026-12-18"


def notified_today(service, **changes) -> Partnership:
    p = Partnership(service)
    p.start(date_aware=AWARE, notification_date=None, **changes)
    return p


def test_the_rapid_review_starts_on_the_day_of_notification_beside_the_check_on_other_children(deployed):
    """003 §3.4: "Upon the completion of a serious incident notification" the Business Unit informs the
    chairs, who schedule the PRG meeting "within ten working days of notification"; §4.1: the information
    request goes out "when the serious incident notification is received". The rapid review's clocks (R4, R5,
    R6: §3.4, §4.4, §4.6) run from the notification, so it does not wait for the check on other children or
    for the local authority's notifications (§3.5-3.7), which go on beside it."""
    p = notified_today(deployed)
    assert {"check_other_children", "notify_panel_and_partners", "arrange_rapid_review"} <= set(
        p.open_steps()
    )
    assert [r for r, _ in p.sent("chairs_informed")] == [
        "independent-chair@example.org",
        "prg-chair@example.org",
    ]
    rapid = p.case("rapid_review")
    assert rapid["data"]["notification_date"] == "2026-12-21"
    # its clocks run from today: 10 working days (22, 23, 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan), then 15
    planned = {
        d["key"]: (d["due_date"], d["anchor_date"])
        for d in rapid["deadlines"]
        if d["key"] in ("R4", "R5", "R6")
    }
    assert planned == {
        "R4": ("2027-01-07", "2026-12-21"),
        "R5": ("2027-01-07", "2026-12-21"),
        "R6": ("2027-01-14", "2026-12-21"),
    }

    # the same day, the Business Unit circulates the request and the agencies answer
    p.rapid_review_information_in()
    # 10 working days from Monday 21 December: 22, 23, 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan
    task = p.task("record_rapid_review")
    assert (task["due_date"], task["deadline_key"]) == ("2027-01-07", "R4")
    deadlines = {d["key"]: d for d in p.case("rapid_review")["deadlines"]}
    assert {k: (deadlines[k]["due_date"], deadlines[k]["anchor_date"]) for k in ("R4", "R5")} == {
        "R4": ("2027-01-07", "2026-12-21"),
        "R5": ("2027-01-07", "2026-12-21"),
    }
    p.rapid_review_recorded("no_lcspr", "Learning is already being acted on.")
    [r6] = [d for d in p.case("rapid_review")["deadlines"] if d["key"] == "R6"]
    assert (r6["due_date"], r6["anchor_date"]) == ("2027-01-14", "2026-12-21")  # 15 working days

    # the check on other children and the Panel notification are still open: neither held the review up
    assert {"check_other_children", "notify_panel_and_partners"} <= set(p.open_steps())
    p.do("check_other_children", form("safety_check"))
    p.do("notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-21"))
    assert p.case("incident_notification")["status"] == "completed"
    assert p.errors() == []


def test_a_looked_after_childs_death_is_notified_beside_the_rapid_review(deployed):
    """003 §3.7: the Secretary of State and Ofsted are told of a looked-after child's death; that notice, like
    the check on other children, runs beside the rapid review, which starts with the notification (003 §3.4,

      §4.1)."""
    p = notified_today(
        deployed, child_died=True, seriously_harmed=False, abuse_or_neglect="suspected", looked_after=True
    )
    assert {
        "check_other_children",
        "notify_panel_and_partners",
        "notify_sos_ofsted",
        "arrange_rapid_review",
    } <= set(p.open_steps())
    assert p.case("rapid_review")["status"] == "running"
    task = p.task("notify_sos_ofsted")
    assert task["deadline_key"] == "R3"  # its reminder and escalation are kept
    p.do("notify_sos_ofsted", form("statutory_notification", date_sent="2026-12-21"))
    assert sorted(r for r, _ in p.sent("lac_death_notification")) == [
        "ofsted-notifications@example.org",
        "secretary-of-state@example.org",
    ]


def rapid_review_ratified(p: Partnership, decision: str) -> None:
    p.rapid_review_information_in()
    p.at("2027-01-07T10:00:00+00:00")
    p.rapid_review_recorded(decision)
    p.at("2027-01-12T10:00:00+00:00")
    p.ratified(decision, on="2027-01-12")


def test_the_local_review_starts_while_the_family_is_still_to_be_told(deployed):
    """003 §5.3: the decision and its rationale are communicated, "including to families"; nothing makes the
    local review (003 §6) or the notice naming its reviewer (R8: 003 §4.7) wait for that conversation."""
    p = notified_today(deployed)
    rapid_review_ratified(p, "lcspr")
    assert "tell_family_decision" in p.open_steps()
    local = p.case("local_cspr")
    assert local["status"] == "running"
    task = p.task("commission_reviewer")
    assert (task["deadline_key"], task["due_date"]) == ("R8", "2027-01-19")
    p.do("tell_family_decision", form("family_decision_contact", informed_date="2027-01-12"))
    assert "tell_family_decision" not in p.open_steps()


def test_telling_the_family_may_be_deferred_on_police_advice_with_the_reason_recorded(deployed, api):
    """003 §5.3 (the family is told of the decision) with §9 (parallel processes: a criminal investigation may
    make the police advise waiting): a deferral needs its reason; the step then comes back until the family is
    told, and the case keeps the deferral."""
    p = notified_today(deployed)
    rapid_review_ratified(p, "no_lcspr")
    task_id = p.task("tell_family_decision")["id"]
    deferred = form(
        "family_decision_contact",
        informed_date=None,
        method=None,
        deferred_on_police_advice=True,
        informed_by="Manager Example, Business Unit",
    )
    r = api("POST", f"/tasks/{task_id}/complete", json={"data": deferred})
    assert r.status_code == 422, r.get_json()
    assert "deferral_reason" in {d["path"] for d in r.get_json()["error"]["details"]}

    reason = (
        "The senior investigating officer asks that the family is not told "
        "before the interviews on 20 January."
    )
    r = api("POST", f"/tasks/{task_id}/complete", json={"data": {**deferred, "deferral_reason": reason}})
    assert r.status_code == 200, r.get_json()
    rapid = p.case("rapid_review")
    assert [d["reason"] for d in rapid["data"]["family_deferrals"]] == [reason]
    # the family is still owed the decision: the step is open again
    assert "tell_family_decision" in p.open_steps()
    p.at("2027-01-21T10:00:00+00:00")
    p.do("tell_family_decision", form("family_decision_contact", informed_date="2027-01-21"))
    assert "tell_family_decision" not in p.open_steps()
    p.answer("rapid_review", "panel_response", outcome="no_national_review")
    assert p.case("rapid_review")["status"] == "completed"
