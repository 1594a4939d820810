"""Working Together 2015: a notifiable incident, the independent chair's decision on a serious case
review (with peer challenge, deferral and the National Panel's challenge of a "no"), the SCR itself
with the four-step escalation for late agency reports, publication across the Spring bank holiday, and
Bolton's pre-2015 timescales on the same path. The clock starts on Monday 21 December 2026."""

from __future__ import annotations

from engine import clock
from tests.scenarios.driver import MANAGER, REPORTERS, SCR_STEPS, TRANSITIONAL, Partnership, form

# The chair decides against the criteria's "must commission" only with a reason (000 §2.3)
DEPARTURE = "Definitive evidence in the agencies' returns of no concern about how agencies worked together."


def decision_pending(service, **changes) -> Partnership:
    p = Partnership(service)
    p.start(
        regime="WT2015",
        regime_reason=TRANSITIONAL,
        date_aware="2026-12-18",
        notification_date=None,
        **changes,
    )
    p.do("check_other_children", form("safety_check"))
    task = p.task("notify_ofsted_lscb")
    assert (task["due_date"], task["deadline_key"]) == ("2026-12-29", "S1")
    p.do("notify_ofsted_lscb", form("statutory_notification"))
    assert sorted(r for r, _ in p.sent("notifiable_incident_report")) == [
        "business-unit@example.org",
        "dfe-notifications@example.org",
        "ofsted-notifications@example.org",
    ]
    # for the attention of the LSCB chair and the SCR sub group chair (000 §4.2)
    assert [r for r, _ in p.sent("scr_notification_request")] == [
        "independent-chair@example.org",
        "scr-subgroup-chair@example.org",
    ]
    return p


def recommended(p: Partnership, chair_checklist: dict | None = None) -> None:
    p.do("request_information", form("information_request", information_required_by="2027-01-08"))
    p.each_agency("return_case_information", "agency_case_information")
    p.do("subgroup_meeting", form("subgroup_recommendation"))
    p.do(
        "chair_checklist",
        chair_checklist or form("independent_chair_checklist", serious_harm="yes", peer_consultation=None),
    )


def decided(p: Partnership, **decision) -> None:
    """The chair decides on 15 January 2027 and the decision is notified."""
    p.at("2027-01-15T10:00:00+00:00")  # recorded on the day (x-not-future, 003 §3.6)
    p.do("chair_decides", form("chair_decision", **{"decision_date": "2027-01-15", **decision}))
    p.do("notify_decision", form("statutory_notification"))


def no_scr_decided(service) -> Partnership:
    """A case recommended for an SCR, and the chair's decision, departing from the criteria, is no review."""
    p = decision_pending(service)
    recommended(p)
    decided(p, review_decision="no_review", criteria_departure_reason=DEPARTURE)
    return p


def deferred(p: Partnership, element_id: str, requested: str, due_by: str) -> None:
    """The chair defers the decision at ``element_id`` until ``requested`` is in, by ``due_by``."""
    undecided = {"review_decision": None, "review_type": None, "decision_date": None}
    asked = {"information_requested": requested, "information_due_by": due_by}
    p.do(element_id, form("chair_decision", chair_decision="defer", **undecided, **asked))


def report_written(p: Partnership, **scope) -> None:
    """From the reviewers' appointment to the overview report."""
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do("scr_scope", form("terms_of_reference", **{"contributors": REPORTERS, **scope}))
    p.each_agency("scr_agency_reports", "agency_report")
    p.steps(SCR_STEPS, until="scr_overview_report")


def test_scr_commissioned_conducted_and_published(deployed):
    p = decision_pending(deployed)
    assert p.deadlines("scr_decision") == {}
    recommended(p)
    assert p.case("scr_decision")["data"]["outcome"] == "must_commission"
    task = p.task("chair_decides")
    assert (task["due_date"], task["deadline_key"]) == ("2027-01-21", "S2")  # one calendar month
    p.at("2027-01-15T10:00:00+00:00")
    p.do("chair_decides", form("chair_decision", decision_date="2027-01-15"))
    task = p.task("notify_decision")
    assert (task["due_date"], task["deadline_key"]) == ("2027-01-22", "S3")  # 5 working days
    p.do("notify_decision", form("statutory_notification", date_sent="2027-01-15"))
    assert sorted(r for r, _ in p.sent("scr_decision_notice")) == [
        "dfe-notifications@example.org",
        "ofsted-notifications@example.org",
        "panel-notifications@example.org",
    ]
    assert sorted(r for r, _ in p.sent("referrer_decision")) == [
        "referrer@example.org",
        "scr-panel-chair@example.org",
    ]
    assert {k: s for k, (_, s) in p.deadlines("scr_decision").items()} == {
        "S8": "met",
        "S2": "met",
        "S3": "met",
    }

    scr = p.case("serious_case_review")
    assert scr["data"]["decision_date"] == "2027-01-15"
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    assert [r for r, _ in p.sent("scr_reviewers_named")] == ["panel-notifications@example.org"]
    assert p.deadlines("serious_case_review")["S4"] == ("2027-07-15", "pending")  # six calendar months
    p.do("scr_scope", form("terms_of_reference", contributors=REPORTERS, agency_reports_due="2027-03-01"))
    p.each_agency("scr_agency_reports", "agency_report")
    p.steps(SCR_STEPS, until="scr_board_sign_off")
    p.do("scr_action_plan", form("action_plan", report_agreed_date="2027-05-10"))
    assert p.case("recommendation_monitoring")["status"] == "running"  # tracked from sign-off
    p.at("2027-05-10T10:00:00+00:00")
    p.publication_decided("scr_publication_decision", "2027-06-03", on="2027-05-10")
    # at least 7 working days before Thursday 3 June 2027, skipping the Spring bank holiday (31 May)
    assert p.deadlines("serious_case_review")["S5"] == ("2027-05-24", "pending")
    p.at("2027-05-20T10:00:00+00:00")
    p.do("scr_send_before_publication", form("report_sent", date_sent="2027-05-20"))
    assert sorted(r for r, _ in p.sent("report_before_publication_with_plan")) == [
        "dfe-notifications@example.org",
        "ofsted-notifications@example.org",
        "panel-notifications@example.org",
    ]
    p.do("scr_family_publication", form("family_contact"))
    p.at("2027-06-03T09:00:00+00:00")
    p.do("scr_publish", form("publication_record", date_published="2027-06-03"))
    assert {k: s for k, (_, s) in p.deadlines("serious_case_review").items()} == {
        "S4": "met",
        "AGENCY_REPORTS": "met",
        "S5": "met",
    }
    assert p.case("recommendation_monitoring")["status"] == "running"
    # S6: at least 12 months on the website (3 June 2028 is a Saturday), then on request: a reminder, not a
    # step
    p.at("2028-06-02T22:59:00+00:00")
    assert p.sent("report_online_year_passed") == []
    p.at("2028-06-02T23:00:00+00:00")
    assert [r for r, _ in p.sent("report_online_year_passed")] == ["business-unit@example.org"]
    assert p.case("serious_case_review")["status"] == "completed"
    assert p.errors() == []


def test_agency_reports_late_escalate_in_four_steps(deployed):
    p = decision_pending(deployed)
    recommended(p)
    decided(p)
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do("scr_scope", form("terms_of_reference", contributors=REPORTERS, agency_reports_due="2027-03-01"))
    p.do("scr_agency_reports", form("agency_report", agency="Health"), agency="Health")

    def steps():
        return [
            s
            for s in (1, 2, 3, 4)
            if any(f"Escalation step {s}:" in m["subject"] for m in p.service.outbox.list(MANAGER))
        ]

    p.at("2027-02-25T08:59:00+00:00")
    assert steps() == []
    p.at("2027-02-25T09:00:00+00:00")  # step 1: two working days before Monday 1 March
    assert steps() == [1]
    p.at("2027-03-02T00:00:00+00:00")  # step 2: the end of 1 March has passed
    assert steps() == [1, 2]
    p.at("2027-03-09T00:00:00+00:00")  # step 3: five more working days
    assert steps() == [1, 2, 3]
    p.at("2027-03-16T00:00:00+00:00")  # step 4: the LSCB independent chair, for the Board
    assert steps() == [1, 2, 3, 4]
    assert p.deadlines("serious_case_review")["AGENCY_REPORTS"] == ("2027-03-01", "missed")
    p.do("scr_agency_reports", form("agency_report", agency="Police"), agency="Police")
    assert "scr_overview_report" not in p.open_steps()  # practitioners and family still to come
    assert sorted(p.open_steps()) == [
        "scr_capture_improvements",
        "scr_family",
        "scr_interview",
        "scr_practitioners",
    ]


def test_scr_not_commissioned_and_challenged_by_the_national_panel(deployed):
    p = decision_pending(deployed)
    recommended(p)
    decided(
        p,
        review_decision="no_review",
        chair_rationale="No cause for concern about joint working was found.",
        criteria_departure_reason=DEPARTURE,
    )
    assert p.open_steps() == []
    p.answer(
        "scr_decision",
        "national_panel_response",
        outcome="challenge",
        advice="Concerns about information sharing between the school and health were not weighed.",
    )
    p.do("respond_to_challenge", form("panel_challenge_response"))
    assert sorted(r for r, _ in p.sent("challenge_outcome")) == [
        "dfe-notifications@example.org",
        "ofsted-notifications@example.org",
        "panel-notifications@example.org",
    ]
    scr = p.case("serious_case_review")
    assert scr["data"]["decision_date"] == "2027-03-01"
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    assert p.deadlines("serious_case_review")["S4"] == ("2027-09-01", "pending")


def test_no_scr_and_the_national_panel_agrees(deployed):
    p = no_scr_decided(deployed)
    p.answer("scr_decision", "national_panel_response", outcome="agreed")
    assert p.case("scr_decision")["status"] == "completed"
    assert p.instances("serious_case_review") == []


def test_unsure_chair_must_consult_a_peer_chair_and_may_defer(deployed):
    p = decision_pending(deployed)
    recommended(p, form("independent_chair_checklist"))  # serious harm: unsure
    assert p.case("scr_decision")["data"]["checklist_outcome"] == "consult_peer_chair"
    p.do("peer_challenge_task", form("peer_challenge"))
    p.at("2027-01-08T10:00:00+00:00")  # after the peer challenge of 7 January (x-not-future, 003 §3.6)
    deferred(p, "chair_decides", "The GP's records.", "2027-01-20")
    p.do("gather_more_information", form("information_request"))
    p.at("2027-01-19T10:00:00+00:00")
    p.do(
        "chair_decides",
        form(
            "chair_decision",
            review_decision="other_review",
            review_type="systems",
            decision_date="2027-01-19",
            criteria_departure_reason=DEPARTURE,
        ),
    )
    p.do("notify_decision", form("statutory_notification"))
    # another review instead of an SCR is a decision not to initiate one: the Panel scrutinises it first (000
    # §5.2)
    assert p.instances("multi_agency_review") == []
    p.answer("scr_decision", "national_panel_response", outcome="agreed")
    mar = p.case("multi_agency_review")
    assert mar["data"]["decision_date"] == "2027-01-19"
    p.do("mar_type", form("review_type_decision"))
    today = clock.today().isoformat()
    # the LSCB chair approves the sub group's recommendation on the request's own form (000 §10.2, Appendix 6)
    signed = {"name": "Chair Example", "date": today}
    p.do("mar_chair", form("review_request_chair_decision", decision_date=today, chair_signature=signed))
    p.do("mar_report", form("review_report"))
    assert p.case("multi_agency_review")["status"] == "completed"
    assert p.case("recommendation_monitoring")["status"] == "running"


def test_bolton_initial_panel_within_a_month_and_a_four_month_scr(deployed):
    p = decision_pending(deployed, ruleset="BOLTON_PRE2015", referral_date="2026-12-11")
    p.initial_panel_prepared()
    task = p.task("initial_scr_panel")
    assert (task["due_date"], task["deadline_key"]) == ("2027-01-11", "S9")  # one month from the referral
    p.do("initial_scr_panel", form("subgroup_recommendation"))
    p.do("chair_checklist", form("independent_chair_checklist", serious_harm="yes", peer_consultation=None))
    decided(p)
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    # four months, not six (004 "Timescales"); 15 May 2027 is a Saturday: shown, not moved
    assert p.deadlines("serious_case_review")["S4"] == ("2027-05-15", "pending")


def test_challenge_considered_and_the_decision_upheld(deployed):
    p = no_scr_decided(deployed)
    p.answer("scr_decision", "national_panel_response", outcome="challenge")
    p.do("respond_to_challenge", form("panel_challenge_response", final_outcome="decision_upheld"))
    assert p.case("scr_decision")["status"] == "completed"
    assert len(p.sent("challenge_outcome")) == 3 and p.instances("serious_case_review") == []


def test_scr_report_not_published_then_delayed_variant(deployed):
    p = decision_pending(deployed)
    recommended(p)
    decided(p)
    report_written(p)
    p.do(
        "scr_board_sign_off",
        form(
            "report_sign_off",
            signed_off=False,
            signed_off_by=None,
            changes_required="The analysis of the GP's role is thin.",
        ),
    )
    p.do("scr_overview_report", form("overview_report"))
    p.do("scr_board_sign_off", form("report_sign_off"))
    p.do("scr_action_plan", form("action_plan"))
    p.at("2027-05-25T10:00:00+00:00")  # decided on 20 May, the family told on 25 May (x-not-future, 003 §3.6)
    p.not_published("scr_publication_decision")
    assert p.sent("publication_delayed") == []
    assert sorted(r for r, _ in p.sent("publication_justification")) == [
        "dfe-notifications@example.org",
        "panel-notifications@example.org",
    ]
    p.finally_not_published("scr_final_publication_decision")
    scr = p.case("serious_case_review")
    assert scr["status"] == "completed" and p.case("recommendation_monitoring")["status"] == "running"
    assert p.deadlines("serious_case_review")["S4"][1] == "met"


def test_a_review_request_the_sub_group_declines_or_the_chair_sends_back(deployed):
    from tests.scenarios.driver import STAFF

    p = Partnership(deployed)
    deployed.instances.start(
        "multi_agency_review", {"regime": "WT2015", **form("multi_agency_review_request")}, STAFF
    )
    p.do("mar_type", form("review_type_decision"))
    p.at("2027-01-08T10:00:00+00:00")  # after the peer challenge of 7 January (x-not-future, 003 §3.6)
    today = clock.today().isoformat()
    p.do(
        "mar_chair",
        form(
            "review_request_chair_decision",
            review_approval="more_information",
            chair_comments="Which services were involved?",
            decision_date=today,
            chair_signature={"name": "Chair Example", "date": today},
        ),
    )
    assert p.open_steps() == ["mar_type"]  # back to the sub group
    p.do("mar_type", form("review_type_decision", proceed=False, recommended_review_type=None))
    assert p.case("multi_agency_review")["status"] == "completed"
    # the requester is told and the chair sees every "no" (000 §10.2, Appendix 6)
    assert sorted(r for r, _ in p.sent("review_request_declined")) == [
        "business-unit@example.org",
        "independent-chair@example.org",
        "referrer@example.org",
    ]


def test_scr_publication_delayed_by_a_trial(deployed):
    p = decision_pending(deployed)
    recommended(p)
    decided(p)
    report_written(p)
    p.do("scr_board_sign_off", form("report_sign_off"))
    p.do("scr_action_plan", form("action_plan"))
    p.at("2027-05-25T10:00:00+00:00")  # decided on 20 May, the family told on 25 May (x-not-future, 003 §3.6)
    p.publication_delayed("scr_publication_decision", "Trial listed for November.")
    # Working Together 2015 has no Secretary of State recipient: those who get the report before publication
    assert sorted(r for r, _ in p.sent("publication_delayed")) == [
        "dfe-notifications@example.org",
        "ofsted-notifications@example.org",
        "panel-notifications@example.org",
    ]
    p.do("scr_proceedings_delay", form("proceedings_delay", publication_date="2027-12-02"))
    # at least 7 working days before Thursday 2 December 2027: Tuesday 23 November
    assert p.deadlines("serious_case_review")["S5"] == ("2027-11-23", "pending")
