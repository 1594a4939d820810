"""A local review's agencies return what its terms of reference ask of each, no more (001 §4): a chronology
only, a short report, a full management review, or nothing; "no record of note" is a complete return. Its
practitioners each have an interview record of their own, added while the review runs (004 Appendix 2),
beside the practitioner event and its checklist (001 §5). The case is the Working Together 2023 rapid review
of test_wt2018_local_review, ratified on Tuesday 12 January 2027."""

from __future__ import annotations

import pytest

from engine import clock
from engine.services.errors import Invalid
from tests.scenarios.driver import LOCAL_REVIEW_STEPS, STAFF, Partnership, form
from tests.scenarios.test_wt2018_local_review import rapid_review_done

POLICE_ROW = {
    "date": "2026-03-01",
    "event": "Police attended a disturbance at the home.",
    "worker": "PC Example",
}


def terms_agreed(service, contributors: list[dict]) -> Partnership:
    p = rapid_review_done(service)
    p.do("tell_family_decision", form("family_contact"))
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do(
        "lcspr_terms_of_reference",
        form("terms_of_reference", contributors=contributors, agency_reports_due="2027-03-01"),
    )
    return p


def asked(p: Partnership) -> dict[str, list[str]]:
    """Each agency's open request: the step and its form's title."""
    out: dict[str, list[str]] = {}
    for task in p.tasks():
        if task["role"].startswith("Agency: "):
            schema = p.service.tasks.get(task["id"], STAFF)["form_schema"]
            assert schema["title"] == task["name"]  # the step asks for what its form asks
            out.setdefault(task["role"].removeprefix("Agency: "), []).append(task["name"])
    return out


def test_a_chronology_only_return_and_a_management_review_with_no_record_of_note(deployed):
    p = terms_agreed(
        deployed,
        [
            {"agency": "police", "contribution": "chronology"},
            {"agency": "health", "contribution": "agency_report"},
            {"agency": "education", "contribution": "none"},  # contributes at the practitioner event only
        ],
    )
    assert asked(p) == {
        "Police": ["Provide the agency chronology"],
        "Health": ["Provide the management review"],
    }
    # a chronology with no rows is no return, unless the agency says it has no record of note
    with pytest.raises(Invalid):
        p.do("lcspr_chronologies", form("agency_chronology", agency="Police", chronology=[]), agency="Police")
    p.do(
        "lcspr_chronologies",
        form(
            "agency_chronology",
            agency="Police",
            chronology=[POLICE_ROW],
            changes_since_incident="Domestic abuse calls to homes with children are shared the next day.",
        ),
        agency="Police",
    )
    nothing_of_note = form(
        "agency_report",
        agency="Health",
        no_record_of_note=True,
        **dict.fromkeys(
            ("chronology", "decisions_summary", "analysis", "diversity", "learning_points", "recommendations")
        ),
    )
    p.do("lcspr_agency_reports", nothing_of_note, agency="Health")
    assert asked(p) == {}
    p.steps(LOCAL_REVIEW_STEPS, until="lcspr_write_report")  # the merged chronology is the report's
    chronology = p.case("local_cspr")["data"]["case_chronology"]["chronology"]
    assert [(r["date"], r["agency"], r["worker"]) for r in chronology] == [
        ("2026-03-01", "Police", "PC Example")
    ]


def test_a_short_report_is_asked_for_with_its_own_form(deployed):
    p = terms_agreed(
        deployed,
        [
            {"agency": "police", "contribution": "short_report"},
            {"agency": "health", "contribution": "chronology"},
        ],
    )
    assert asked(p) == {
        "Police": ["Provide a short agency report"],
        "Health": ["Provide the agency chronology"],
    }
    p.do("lcspr_short_reports", form("agency_short_report", agency="Police"), agency="Police")
    p.do(
        "lcspr_chronologies",
        form("agency_chronology", agency="Health", no_record_of_note=True, chronology=None),
        agency="Health",
    )
    assert asked(p) == {}
    p.steps(LOCAL_REVIEW_STEPS, until="lcspr_write_report")
    rows = p.case("local_cspr")["data"]["case_chronology"]["chronology"]
    assert [r["agency"] for r in rows] == ["Police"]


def interview(name: str, post: str, another: bool) -> dict:
    example = form("practitioner_interview", another_interview=another)
    return {**example, "interviewee": {**example["interviewee"], "full_name": name, "designation": post}}


def test_three_practitioners_interviewed_each_with_a_record_of_their_own(deployed):
    p = terms_agreed(deployed, [{"agency": "police", "contribution": "none"}])
    assert {"lcspr_practitioners", "lcspr_interview"} <= set(p.open_steps())
    event = deployed.tasks.get(p.task("lcspr_practitioners")["id"], STAFF)
    assert event["form_schema"]["title"] == "Hold the practitioner event" == event["name"]
    p.do("lcspr_interview", interview("Worker One Example", "Social worker", True))
    p.do("lcspr_practitioners", form("practitioner_event"))  # the event is held between interviews
    p.do("lcspr_interview", interview("Worker Two Example", "Health visitor", True))
    assert p.open_steps().count("lcspr_interview") == 1  # a fresh record for each practitioner
    p.do("lcspr_interview", interview("Worker Three Example", "Teacher", False))
    assert "lcspr_interview" not in p.open_steps()
    p.steps(LOCAL_REVIEW_STEPS, skip=("lcspr_practitioners", "lcspr_interview"), until="lcspr_write_report")
    kept = p.case("local_cspr")["data"]["practitioner_interviews"]
    assert [i["designation"] for i in kept] == ["Social worker", "Health visitor", "Teacher"]
    assert all(i["summary_agreement"] == "partly_agreed" for i in kept)
    # each interview's full record is its own completed step, with its interviewee
    case = p.case("local_cspr")
    rounds = [h for h in case["history"] if h.get("element_id") == "lcspr_interview"]
    assert len(rounds) == 3
