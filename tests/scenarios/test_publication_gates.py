"""The gates between a signed-off report and its publication, under each regime: who signs off, what
goes to whom before publication and when publication may be recorded, what happens when the full report
is not published or publication is delayed, how long the report stays online, and the serious case
review's six months. Cases start at the local review (or the serious case review) itself; the clock
is moved to Wednesday 1 December 2027 (after every example date), so that Christmas 2027 and New Year 2028,
with their substitute bank holidays, fall in the counting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.services.errors import Invalid
from engine.store.models import OutboxMessage
from tests.scenarios.driver import LOCAL_REVIEW_STEPS, REPORTERS, SCR_STEPS, STAFF, Partnership, form

START = "2027-12-01T10:00:00+00:00"
PANEL, SOS, OFSTED, DFE = (
    "panel-notifications@example.org",
    "secretary-of-state@example.org",
    "ofsted-notifications@example.org",
    "dfe-notifications@example.org",
)
CHAIR, BU = "independent-chair@example.org", "business-unit@example.org"
PARTNERS = {
    "local_authority": {
        "name": "Director Example",
        "role": "Director of Children's Services",
        "date": "2027-12-01",
    },
    "integrated_care_board": {
        "name": "Nurse Example",
        "role": "Chief Nurse (delegate)",
        "date": "2027-12-01",
        "delegate": True,
    },
    "police": {"name": "Superintendent Example", "role": "Head of Public Protection", "date": "2027-12-01"},
}


# --- walking a review to its gates ---------------------------------------------------------------


def local_review_written(service, regime: str = "WT2023") -> Partnership:
    """A local review started by hand (as the Business Unit may, 003 §4.7), conducted up to its report."""
    p = Partnership(service)
    p.at(START)
    service.instances.start("local_cspr", {"regime": regime, "decision_date": "2027-12-01"}, STAFF)
    p.do("commission_reviewer", form("reviewer_appointment"))
    p.do("lcspr_terms_of_reference", form("terms_of_reference", contributors=REPORTERS))
    p.each_agency("lcspr_agency_reports", "agency_report")
    p.steps(LOCAL_REVIEW_STEPS, if_open=("lcspr_capture_improvements",), until="lcspr_write_report")
    return p


def local_review_signed_off(service, regime: str = "WT2023") -> Partnership:
    p = local_review_written(service, regime)
    if regime == "WT2023":
        p.do("lcspr_partners_sign_off", form("report_sign_off_partners", partner_sign_offs=PARTNERS))
    else:
        p.do("lcspr_sign_off", form("report_sign_off"))
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    if p.tasks("lcspr_action_plan"):
        p.do("lcspr_action_plan", form("action_plan", report_agreed_date="2027-12-01"))
    return p


def scr_written(service, **start) -> Partnership:
    """A serious case review started by hand (000 §7.1), conducted up to its overview report."""
    p = Partnership(service)
    p.at(START)
    service.instances.start(
        "serious_case_review", {"regime": "WT2015", "decision_date": "2027-12-01", **start}, STAFF
    )
    p.do("appoint_lead_reviewer", form("reviewer_appointment"))
    p.do("scr_scope", form("terms_of_reference", contributors=REPORTERS))
    p.each_agency("scr_agency_reports", "agency_report")
    p.steps(SCR_STEPS, if_open=("scr_capture_improvements",), until="scr_overview_report")
    return p


def scr_signed_off(service, **start) -> Partnership:
    p = scr_written(service, **start)
    p.do("scr_board_sign_off", form("report_sign_off"))
    if p.tasks("scr_action_plan"):
        p.do("scr_action_plan", form("action_plan", report_agreed_date="2027-12-01"))
    return p


def bodies(p: Partnership, template: str) -> dict[str, str]:
    """recipient -> body of each message queued from ``template``."""
    with p.service.core.db.reading() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)).all()
        return {m.recipient: m.body for m in rows}


def refused(p: Partnership, step: str, data: dict) -> list[str]:
    with pytest.raises(Invalid) as caught:
        p.do(step, data)
    assert caught.value.status == 422
    return [d["path"] for d in caught.value.details]


# --- 8. publication no earlier than 7 working days after the report was sent ------------------------


def sent_for_publication_on_5_january(p: Partnership, review: str, **decision) -> None:
    """The ``review`` (step prefix) to be published on Wednesday 5 January 2028 (``decision``: changes to
    the example decision), its report sent on Wednesday 22 December 2027 and the family told; the clock
    then on 5 January."""
    p.do(
        f"{review}_publication_decision",
        form("publication_decision", publication_date="2028-01-05", **decision),
    )
    p.at("2027-12-22T10:00:00+00:00")
    p.do(f"{review}_send_before_publication", form("report_sent", date_sent="2027-12-22"))
    p.do(f"{review}_family_publication", form("family_contact"))
    p.at("2028-01-05T10:00:00+00:00")


def test_local_review_publication_is_refused_until_seven_working_days_after_sending(deployed):
    """003 §7.7: the report goes to the Panel, the Secretary of State and Ofsted no later than seven
    working days before publication, so publication cannot be recorded earlier than that. Sent on
    Wednesday 22 December 2027: the 7th working day after is Wednesday 5 January 2028 (27 and 28
    December and 3 January are the substitute bank holidays for Christmas, Boxing Day and New Year's
    Day); 4 January is only the 6th, and 6 January has not happened yet."""
    p = local_review_signed_off(deployed)
    sent_for_publication_on_5_january(p, "lcspr", decided_on="2027-12-01")
    assert refused(p, "lcspr_publish", form("publication_record", date_published="2028-01-04")) == [
        "date_published"
    ]
    assert refused(p, "lcspr_publish", form("publication_record", date_published="2028-01-06")) == [
        "date_published"
    ]
    p.do("lcspr_publish", form("publication_record", date_published="2028-01-05"))
    assert p.case("local_cspr")["data"]["publication_date"] == "2028-01-05"


def test_serious_case_review_publication_is_refused_until_seven_working_days_after_sending(deployed):
    """000 Appendix 7 (S5): copies go to Ofsted, the DfE and the National Panel at least seven working
    days before publication (000 §8.5 and 002 §1.10 say one week; the stricter figure is used)."""
    p = scr_signed_off(deployed)
    sent_for_publication_on_5_january(p, "scr", decided_on="2027-12-01")
    assert refused(p, "scr_publish", form("publication_record", date_published="2028-01-04")) == [
        "date_published"
    ]
    p.do("scr_publish", form("publication_record", date_published="2028-01-05"))
    assert p.case("serious_case_review")["data"]["publication_date"] == "2028-01-05"


# --- 9. a decision short of full publication --------------------------------------------------------


def test_improvements_only_is_justified_to_the_panel_and_secretary_of_state_and_their_comments_recorded(
    deployed,
):
    """003 §7.9: the justification for any decision not to publish the full report goes to the Panel
    and the Secretary of State, and the partnership has due regard to their comments before it decides
    finally; 003 §7.3: it then publishes the information about improvements."""
    p = local_review_signed_off(deployed)
    p.do(
        "lcspr_publication_decision",
        form(
            "publication_decision",
            publication_decision="improvements_only",
            justification="The full report would identify the sibling.",
            publication_date="2028-02-01",
        ),
    )
    assert sorted(bodies(p, "publication_justification")) == [PANEL, SOS]
    assert "identify the sibling" in bodies(p, "publication_justification")[PANEL]
    assert "lcspr_final_publication_decision" in p.open_steps()
    assert p.tasks("lcspr_send_before_publication") == []  # nothing is sent before they answer
    p.do("lcspr_final_publication_decision", form("publication_final_decision"))
    assert "lcspr_send_before_publication" in p.open_steps()
    local = p.case("local_cspr")
    assert local["data"]["publication_decision"] == "improvements_only"
    assert local["data"]["publication_comments"].startswith("The Panel")


def test_not_publishing_an_scr_is_justified_to_the_dfe_and_the_panel_then_decided_with_their_advice(deployed):
    """000 Appendix 7 "Publication of reports": if an LSCB considers a report should not be published
    it informs the DfE and the National Panel, which advises; after a challenge the final decision goes
    to Ofsted, the DfE and the National Panel."""
    p = scr_signed_off(deployed)
    p.not_published("scr_publication_decision")
    assert sorted(bodies(p, "publication_justification")) == [DFE, PANEL]
    assert "scr_final_publication_decision" in p.open_steps() and p.tasks("scr_send_before_publication") == []
    p.finally_not_published("scr_final_publication_decision", panel_challenged=True)
    assert sorted(bodies(p, "publication_final_decision")) == [DFE, OFSTED, PANEL]
    assert p.case("serious_case_review")["status"] == "completed"


# --- 13. three safeguarding partners under Working Together 2023 -----------------------------------


def test_under_2023_sign_off_needs_the_three_safeguarding_partners(deployed):
    """Working Together 2023 (catalogue §7): reports are signed off by the three safeguarding partners
    (local authority, integrated care board, police) or their delegates; 003 §7.4 under 2018: the
    Executive Group."""
    p = local_review_written(deployed, "WT2023")
    assert p.open_steps() == ["lcspr_partners_sign_off"]
    without_police = form(
        "report_sign_off_partners", partner_sign_offs={k: v for k, v in PARTNERS.items() if k != "police"}
    )
    assert refused(p, "lcspr_partners_sign_off", without_police) == ["partner_sign_offs/police"]
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners", partner_sign_offs=PARTNERS))
    assert p.open_steps() == ["lcspr_scrutiny"]


def test_under_2018_the_executive_group_signs_off(deployed):
    """003 §7.4: reports and recommendations are signed off by the Partnership's Executive Group."""
    p = local_review_written(deployed, "WT2018")
    assert p.open_steps() == ["lcspr_sign_off"]


# --- 14. online for a year, then on request ---------------------------------------------------------


def test_after_a_year_online_the_partnership_is_reminded_and_nothing_must_be_removed(deployed):
    """003 §7.3: the published report is publicly available for one year; 000 §8.1: a minimum of 12
    months and thereafter available on request. Removal is the partnership's choice, not a step."""
    p = local_review_signed_off(deployed)
    sent_for_publication_on_5_january(p, "lcspr")
    p.do("lcspr_publish", form("publication_record", date_published="2028-01-05"))
    p.at("2029-01-07T09:00:00+00:00")
    assert p.tasks("remove_lcspr_report") == [] and "lcspr_report_removal" not in p.open_steps()
    assert sorted(bodies(p, "report_online_year_passed")) == [BU]
    assert "on request" in bodies(p, "report_online_year_passed")[BU]
    assert p.case("local_cspr")["status"] == "completed"


def test_scr_report_after_twelve_months_online_is_a_reminder(deployed):
    """000 §8.1; 002 §1.10: on the website for a minimum of 12 months, thereafter available on request."""
    p = scr_signed_off(deployed)
    sent_for_publication_on_5_january(p, "scr")
    p.do("scr_publish", form("publication_record", date_published="2028-01-05"))
    p.at("2029-01-07T09:00:00+00:00")
    assert "remove_scr_report" not in p.open_steps()
    assert sorted(bodies(p, "report_online_year_passed")) == [BU]
    assert p.case("serious_case_review")["status"] == "completed"


# --- 12. the serious case review's six (Bolton: four) months ------------------------------------------


def test_a_missed_s4_warns_the_chair_and_business_unit_and_does_not_email_ofsted(deployed):
    """000 Appendix 7 "Timescale for SCR completion": the LSCB aims for six months; nothing tells it to
    report a late review to Ofsted. The chair and the Business Unit are warned before S4 and told when
    it passes. Decision 1 December 2027: S4 due Thursday 1 June 2028; the warning 20 working days
    before falls on Wednesday 3 May 2028 (the May bank holidays are 1 and 29 May)."""
    p = scr_written(deployed)
    assert p.deadlines("serious_case_review")["S4"] == ("2028-06-01", "pending")
    p.at("2028-05-02T07:59:00+00:00")
    assert p.sent("deadline_reminder") == []
    p.at("2028-05-03T08:00:00+00:00")  # 20 working days before, 09:00 BST
    warned = [r for r, _ in p.sent("deadline_reminder")]
    assert sorted(warned) == [BU, CHAIR]
    p.at("2028-06-01T23:00:00+00:00")
    missed = [r for r, _ in p.sent("deadline_missed")]
    assert OFSTED not in missed and sorted(missed) == [BU, CHAIR]


def test_bolton_extension_agreed_with_ofsted_is_recorded_with_reason_and_who_agreed(deployed):
    """004 "Timescales": four months unless an alternative timescale is agreed with Ofsted; as soon as
    it cannot be met, discuss it with Ofsted. The early warning opens that discussion; the agreed date,
    reason and who agreed are recorded in the case's audit log."""
    p = scr_written(deployed, ruleset="BOLTON_PRE2015")
    assert p.deadlines("serious_case_review")["S4"] == ("2028-04-01", "pending")
    p.at("2028-03-06T09:00:00+00:00")  # 20 working days before Saturday 1 April 2028
    p.do(
        "scr_timescale_extension",
        form("timescale_extension", discussed_on="2028-03-06", s4_extended_to="2028-06-30"),
    )
    history = [
        h for h in p.case("serious_case_review")["history"] if h["element_id"] == "scr_timescale_extension"
    ]
    assert history and history[-1]["detail"]["after"]["s4_extended_to"] == "2028-06-30"
    assert history[-1]["detail"]["after"]["agreed_with"]["organisation"] == "Ofsted"
    assert OFSTED not in [r for r, _ in p.sent("deadline_missed")]


# --- 16. delay notices and what goes with the report, by regime -------------------------------------


def test_a_delay_is_told_to_the_panel_and_secretary_of_state_under_2018_and_2023(deployed):
    """003 §7.8: where other proceedings delay publication, the Panel and the Secretary of State are told."""
    p = local_review_signed_off(deployed)
    p.publication_delayed("lcspr_publication_decision", "Trial listed for September.")
    assert sorted(r for r, _ in p.sent("publication_delayed")) == [PANEL, SOS]


def test_a_delay_is_told_to_ofsted_the_dfe_and_the_national_panel_under_2015(deployed):
    """000 Appendix 7: the timing of publication has regard to legal proceedings, and the report goes to
    Ofsted, the DfE and the National Panel before publication, so they are the ones told its date moves;
    the Secretary of State is a Working Together 2018 recipient (003 §7.8)."""
    p = scr_signed_off(deployed)
    p.publication_delayed("scr_publication_decision", "Trial listed for November.")
    assert sorted(r for r, _ in p.sent("publication_delayed")) == [DFE, OFSTED, PANEL]


def test_bolton_sends_the_management_reviews_with_the_overview_report_and_action_plan(deployed):
    """004 "LSCB Overview Report": the Board provides a copy of the overview report, action plan and
    individual management reports to Ofsted."""
    p = scr_signed_off(deployed, ruleset="BOLTON_PRE2015")
    p.do("scr_publication_decision", form("publication_decision", publication_date="2028-01-05"))
    p.at("2027-12-22T10:00:00+00:00")
    p.do("scr_send_before_publication", form("report_sent", date_sent="2027-12-22"))
    body = bodies(p, "report_before_publication_with_plan")[OFSTED]
    assert "Management reviews" in body and "Police" in body and "Health" in body
