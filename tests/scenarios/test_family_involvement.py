"""Family involvement throughout a review, not once (001 §5 "Family involvement"): each contact records who
in the family network took part, the young person's permission (or why the panel overrode it), whether the
perpetrator was invited, the lines of enquiry the family raised, how findings were fed back and the family's
liaison officer (001 §7); "Involve the family" comes back while another contact is planned, and every
contact is kept."""

from __future__ import annotations

import pytest

from engine.services.errors import Invalid
from tests.scenarios.driver import LOCAL_REVIEW_STEPS, REPORTERS, SCR_STEPS, STAFF, Partnership, form
from tests.scenarios.test_publication_gates import START

FIRST = form(
    "family_involvement",
    family_contact_date="2027-12-01",
    family_involvement_continues=True,
)
LAST = form(
    "family_involvement",
    family_contact_date="2027-12-01",
    family_contact_purposes=["findings_fed_back"],
    family_participants=["parents_or_foster_carers", "siblings", "perpetrator"],
    young_person_permission="overridden",
    permission_override_reason="The grandparents cared for the child for a year and saw the services.",
    perpetrator_invited="invited",
    family_lines_of_enquiry=None,
    findings_feedback="At a meeting with the lead reviewer; the family asked for the summary in writing.",
    family_involvement_continues=False,
)


def review_under_way(service, process_id: str) -> Partnership:
    p = Partnership(service)
    p.at(START)
    if process_id == "local_cspr":
        service.instances.start("local_cspr", {"regime": "WT2023", "decision_date": "2027-12-01"}, STAFF)
        p.do("commission_reviewer", form("reviewer_appointment"))
        p.do("lcspr_terms_of_reference", form("terms_of_reference", contributors=REPORTERS))
    else:
        service.instances.start(
            "serious_case_review", {"regime": "WT2015", "decision_date": "2027-12-01"}, STAFF
        )
        p.do("appoint_lead_reviewer", form("reviewer_appointment"))
        p.do("scr_scope", form("terms_of_reference", contributors=REPORTERS))
    return p


def joined(p: Partnership, process_id: str) -> None:
    if process_id == "local_cspr":
        p.each_agency("lcspr_agency_reports", "agency_report")
        p.steps(
            LOCAL_REVIEW_STEPS,
            skip=("lcspr_family",),
            if_open=("lcspr_capture_improvements",),
            until="lcspr_supervise",
        )
    else:
        p.each_agency("scr_agency_reports", "agency_report")
        p.steps(
            SCR_STEPS,
            skip=("scr_family",),
            if_open=("scr_capture_improvements",),
            until="scr_capture_improvements",
        )


@pytest.mark.parametrize(
    ("process_id", "review", "step"),
    [
        ("local_cspr", "local_cspr_review", "lcspr_family"),
        ("serious_case_review", "serious_case_review_conduct", "scr_family"),
    ],
)
def test_each_contact_with_the_family_is_kept_and_the_step_comes_back_until_the_last(
    deployed, process_id, review, step
):
    p = review_under_way(deployed, process_id)
    [task] = p.tasks(step)
    assert deployed.tasks.get(task["id"], STAFF)["form_schema"]["title"] == "Involve the family"

    p.do(step, FIRST)
    assert p.tasks(step), "another contact is planned: the step comes back"
    [first] = p.case(process_id)["data"]["family_contacts"]
    assert first["purposes"] == ["process_explained", "lines_of_enquiry"]
    assert first["family_lines_of_enquiry"] == FIRST["family_lines_of_enquiry"]
    assert first["family_liaison_officer"] == FIRST["family_liaison_officer"]

    p.do(step, LAST)
    assert not p.tasks(step)
    joined(p, process_id)  # the other strands of the review done, so the case's data is whole again
    contacts = p.case(process_id)["data"]["family_contacts"]
    assert [c["purposes"] for c in contacts] == [FIRST["family_contact_purposes"], ["findings_fed_back"]]
    second = contacts[1]
    assert second["young_person_permission"] == "overridden"
    assert second["permission_override_reason"] == LAST["permission_override_reason"]
    assert second["perpetrator_invited"] == "invited"
    assert second["findings_feedback"] == LAST["findings_feedback"]
    assert second["family_lines_of_enquiry"] is None  # the first contact's answer is not carried into it
    assert "perpetrator" in second["participants"]


def test_an_overridden_permission_or_an_uninvited_perpetrator_needs_its_reason(deployed):
    p = review_under_way(deployed, "local_cspr")
    with pytest.raises(Invalid) as caught:
        p.do(
            "lcspr_family",
            form(
                "family_involvement",
                family_contact_date="2027-12-01",
                young_person_permission="overridden",
                perpetrator_invited="not_invited",
                family_contact_purposes=["findings_fed_back"],
                family_participants=["nobody"],
            ),
        )
    assert sorted(d["path"] for d in caught.value.details) == [
        "family_not_involved_reason",
        "findings_feedback",
        "permission_override_reason",
        "perpetrator_not_invited_reason",
    ]
    assert "family_contacts" not in p.case("local_cspr")["data"]
