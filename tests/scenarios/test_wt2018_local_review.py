"""Working Together 2018: a rapid review that becomes a local child safeguarding practice review, from
the Executive's decision to publication, the reminder after a year online and the action plan tracked
from its sign-off; the Executive disagreeing with the PRG; the Panel asking for more information; a report not
published; a publication delayed by a criminal trial. Dates worked out by hand: Good Friday 2027 is 26 March
and Easter Monday 29 March."""

from __future__ import annotations

from engine import clock
from tests.scenarios.driver import LOCAL_REVIEW_STEPS, MANAGER, REPORTERS, Partnership, form


def rapid_review_done(service, prg="lcspr", executive="lcspr", agrees=True) -> Partnership:
    """Notified on Monday 21 December 2026; ratified on Tuesday 12 January 2027."""
    p = Partnership(service)
    p.agencies_answered()
    p.at("2027-01-07T10:00:00+00:00")
    p.rapid_review_recorded(prg, "Learning already acted on.")
    p.at("2027-01-12T10:00:00+00:00")
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_agrees=agrees,
            executive_lcspr_decision=executive,
            executive_rationale=None if agrees else "The PRG underestimated the learning.",
            ratification_date="2027-01-12",
            decision_date="2027-01-12" if executive == "lcspr" else None,
        ),
    )
    return p


def review_conducted(p: Partnership) -> None:
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do(
        "lcspr_terms_of_reference",
        form("terms_of_reference", contributors=REPORTERS, agency_reports_due="2027-03-01"),
    )
    for agency in ("Police", "Health"):
        p.do(
            "lcspr_agency_reports",
            form(
                "agency_report",
                agency=agency,
                chronology=[
                    {
                        "date": f"2026-0{3 if agency == 'Police' else 4}-01",
                        "event": f"{agency} contact",
                        "child_seen": True,
                        "wishes_sought": False,
                    }
                ],
            ),
            agency=agency,
        )
    p.steps(LOCAL_REVIEW_STEPS, until="lcspr_write_report")


def report_assured(service) -> Partnership:
    p = rapid_review_done(service)
    p.do("tell_family_decision", form("family_contact"))
    review_conducted(p)
    p.do(
        "lcspr_partners_sign_off", form("report_sign_off_partners")
    )  # a 2026 case runs under Working Together 2023
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    p.do("lcspr_action_plan", form("action_plan"))
    return p


def test_executive_disagrees_so_its_rationale_goes_to_the_panel_and_the_case_is_converted(deployed):
    p = rapid_review_done(deployed, prg="no_lcspr", executive="lcspr", agrees=False)
    task = p.task("send_executive_rationale")
    assert (task["due_date"], task["deadline_key"]) == (
        "2027-01-14",
        "R7",
    )  # 15 working days from 21 December
    p.do("send_executive_rationale", form("statutory_notification"))
    assert [r for r, _ in p.sent("executive_rationale")] == ["panel-notifications@example.org"]
    assert p.deadlines("rapid_review")["R7"] == ("2027-01-14", "met")
    p.do("tell_family_decision", form("family_contact"))
    local = p.case("local_cspr")
    assert (local["data"]["converted_from"], local["data"]["review_type"]) == ("rapid_review", "converted")
    assert local["business_key"] == p.case("rapid_review")["business_key"]
    assert [h["kind"] for h in p.case("rapid_review")["history"]].count("handed_over") == 1


def test_the_panel_asks_for_more_information_then_answers(deployed):
    p = rapid_review_done(deployed, prg="no_lcspr", executive="no_lcspr")
    p.do("tell_family_decision", form("family_contact"))
    p.answer(
        "rapid_review", "panel_response", outcome="more_information", detail="The school's referrals, please."
    )
    p.do("send_more_information", form("panel_information"))
    assert p.case("rapid_review")["status"] == "running"
    p.answer("rapid_review", "panel_response", outcome="national_review")
    assert p.case("rapid_review")["status"] == "completed"
    assert sorted(r for r, _ in p.sent("national_review_notice")) == [
        "executive@example.org",
        "partners@example.org",
    ]


def test_local_review_published_then_a_reminder_after_a_year_and_monitored_from_sign_off(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    assert p.instances("local_cspr")[0]["data"]["decision_date"] == "2027-01-12"
    # R8 has no figure in 003 §4.7: the rule set's 5 working days; R9 is six calendar months
    assert p.deadlines("local_cspr") == {
        "R8": ("2027-01-19", "pending")
    }  # R9 is armed once the reviewer is commissioned
    review_conducted(p)
    assert [r for r, _ in p.sent("local_review_commissioned")] == [
        "panel-notifications@example.org",
        "ofsted-notifications@example.org",
        "dfe-notifications@example.org",
    ]
    chronology = p.case("local_cspr")["data"]["case_chronology"]["chronology"]
    assert [r["agency"] for r in chronology] == ["Police", "Health"]
    p.do(
        "lcspr_partners_sign_off",
        form(
            "report_sign_off_partners",
            signed_off=False,
            partner_sign_offs=None,
            changes_required="Say more about the school's referrals.",
        ),
    )
    assert p.open_steps() == ["lcspr_write_report"]  # back to the reviewer
    p.do("lcspr_write_report", form("overview_report"))
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners"))
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    p.do("lcspr_action_plan", form("action_plan", report_agreed_date="2027-03-05"))
    assert p.case("recommendation_monitoring")["business_key"] == p.case("local_cspr")["business_key"]
    p.at("2027-03-10T10:00:00+00:00")
    p.publication_decided("lcspr_publication_decision", "2027-04-01", on="2027-03-10")
    task = p.task("lcspr_send_before_publication")
    # 7 working days before Thursday 1 April 2027, skipping Easter Monday and Good Friday: Friday 19 March
    assert (task["due_date"], task["deadline_key"]) == ("2027-03-19", "R10")
    p.at("2027-03-17T09:00:00+00:00")  # reminder: 2 working days before
    assert p.sent_on("deadline_reminder")[-1] == "2027-03-17"
    p.at("2027-03-18T10:00:00+00:00")
    p.do("lcspr_send_before_publication", form("report_sent", date_sent="2027-03-18"))
    assert [r for r, _ in p.sent("report_before_publication_with_plan")] == [
        "panel-notifications@example.org",
        "secretary-of-state@example.org",
        "ofsted-notifications@example.org",
    ]
    p.do("lcspr_family_publication", form("family_contact"))
    p.at("2027-04-01T09:00:00+00:00")
    p.do("lcspr_publish", form("publication_record", date_published="2027-04-01"))
    local = p.case("local_cspr")
    assert dict(p.deadlines("local_cspr").items()) == {
        "R8": ("2027-01-19", "met"),
        "AGENCY_REPORTS": ("2027-03-01", "met"),
        "R10": ("2027-03-19", "met"),
        "R9": ("2027-07-12", "met"),
    }
    assert local["data"]["publication_date"] == "2027-04-01"
    monitoring = p.case("recommendation_monitoring")
    assert monitoring["business_key"] == local["business_key"]
    # R11: one year on the website. 1 April 2028 is a Saturday; the report may come down from then, at the
    # partnership's discretion (available on request): a reminder, not a step
    p.at("2028-03-31T22:59:00+00:00")
    assert p.sent("report_online_year_passed") == []
    p.at("2028-03-31T23:00:00+00:00")  # midnight in England (BST)
    assert [r for r, _ in p.sent("report_online_year_passed")] == ["business-unit@example.org"]
    assert p.case("local_cspr")["status"] == "completed"
    assert p.errors() == []


def test_the_review_overruns_six_months_reminder_then_escalation(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    # R9 due Monday 12 July 2027; reminder 20 working days before, at 09:00 BST (08:00 UTC)
    p.at("2027-06-14T07:59:00+00:00")
    assert "2027-06-14" not in p.sent_on("deadline_reminder")
    p.at("2027-06-14T08:00:00+00:00")
    assert "2027-06-14" in p.sent_on("deadline_reminder")
    p.at("2027-07-12T22:59:00+00:00")
    assert p.deadlines("local_cspr")["R9"] == ("2027-07-12", "pending")
    p.at("2027-07-12T23:00:00+00:00")
    assert p.deadlines("local_cspr")["R9"] == ("2027-07-12", "missed")
    missed = [
        m
        for m in p.service.outbox.list(MANAGER)
        if m["template"] == "deadline_missed" and "completion and publication" in m["subject"]
    ]
    assert sorted(m["recipient"] for m in missed) == [
        "executive@example.org",
        "independent-chair@example.org",
    ]


def test_report_not_published_justification_to_panel_and_secretary_of_state(deployed):
    p = report_assured(deployed)
    p.publication_decided(
        "lcspr_publication_decision",
        None,
        publication_decision="not_published",
        justification="Publication would identify the surviving sibling.",
    )
    assert sorted(r for r, _ in p.sent("publication_justification")) == [
        "panel-notifications@example.org",
        "secretary-of-state@example.org",
    ]
    p.finally_not_published("lcspr_final_publication_decision")
    local = p.case("local_cspr")
    assert local["status"] == "completed"
    assert "R10" not in p.deadlines("local_cspr")
    assert p.case("recommendation_monitoring")["status"] == "running"


def test_publication_delayed_by_criminal_proceedings(deployed):
    p = report_assured(deployed)
    p.publication_decided(
        "lcspr_publication_decision",
        "2027-06-15",
        delayed_by_other_proceedings=True,
        delay_details="A parent's criminal trial is listed for September.",
    )
    assert sorted(r for r, _ in p.sent("publication_delayed")) == [
        "panel-notifications@example.org",
        "secretary-of-state@example.org",
    ]
    p.do("lcspr_proceedings_delay", form("proceedings_delay", publication_date="2027-10-21"))
    # 7 working days before Thursday 21 October 2027: Tuesday 12 October
    assert p.deadlines("local_cspr")["R10"] == ("2027-10-12", "pending")
    # the step shows its most urgent deadline: the review's six months (R9) run out first
    task = p.task("lcspr_send_before_publication")
    assert (task["due_date"], task["deadline_key"]) == ("2027-07-12", "R9")


def test_new_information_goes_to_the_panel_and_an_unassured_chair_sends_the_report_back(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do("lcspr_terms_of_reference", form("terms_of_reference", contributors=REPORTERS))
    p.each_agency("lcspr_agency_reports", "agency_report")
    p.steps(LOCAL_REVIEW_STEPS, until="lcspr_capture_improvements")
    p.do(
        "lcspr_supervise",
        form(
            "review_supervision",
            new_information_national=True,
            new_information_summary="A second child in another area was harmed.",
        ),
    )
    assert [r for r, _ in p.sent("panel_new_information")] == ["panel-notifications@example.org"]
    p.do("lcspr_write_report", form("overview_report"))
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners"))
    p.do(
        "lcspr_scrutiny",
        form(
            "chair_scrutiny",
            scrutiny_outcome="not_assured",
            scrutiny_comments="The recommendations have no dates.",
        ),
    )
    assert p.open_steps() == ["lcspr_write_report"]
