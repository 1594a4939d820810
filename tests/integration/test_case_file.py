"""The case file beside each decision, and a completed step's answers: what each declared step shows,
labelled by the titles of the forms that captured it, with who submitted it and when; an agency sees
none of it; and the deploy lint refuses a case file that names what does not exist or shows an agency
the case."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn import bundle
from engine.services.actor import Actor
from engine.services.errors import Forbidden
from tests.conftest import ROOT
from tests.scenarios.driver import STAFF, Partnership, form

EXECUTIVE = Actor("eve", frozenset({"Executive Group"}))
PRG = Actor("pat", frozenset({"Practice Review Group"}))
POLICE = Actor("pc", frozenset({"Agency: Police"}))
MANAGER = Actor("mo", frozenset({"manager"}))


def shown(service, element_id: str, actor=STAFF) -> list[dict]:
    [task] = [t for t in service.tasks.for_user(actor) if t["element_id"] == element_id]
    return service.tasks.get(task["id"], actor)["case_file"]


def rows(section: dict) -> dict:
    return {r["key"]: r for r in section["rows"]}


def every_key(sections) -> list[str]:
    out = []

    def walk(items):
        for r in items:
            out.append(r["key"])
            walk(r.get("rows", []))
            for g in r.get("groups", []):
                walk(g)

    for s in sections:
        walk(s["rows"])
    return out


def recorded(service) -> Partnership:
    """A 2026 case (Working Together 2023): every agency's information in and the rapid review recorded."""
    p = Partnership(service)
    p.agencies_answered()
    p.do("record_rapid_review", form("rapid_review_record"))
    return p


def test_the_local_authority_notifies_the_panel_reading_the_notification(deployed):
    p = Partnership(deployed)
    p.start(date_aware="2026-12-18", notification_date=None)
    p.do("check_other_children", form("safety_check"))
    sections = shown(deployed, "notify_panel_and_partners")
    notification = sections[0]
    [safety] = [s for s in sections if s["step"] == "check_other_children"]
    assert notification["title"] == "Notify a serious incident" and notification["by"] == "staff"
    assert notification["at"] == "2026-12-21T09:00:00+00:00"
    facts = rows(notification)
    assert facts["Date of the incident"]["text"] == "10 December 2026"  # a long date, never 2026-12-10
    assert facts["Has the child died?"]["text"] in ("Yes", "No")
    [child, *_] = facts["About the child or children"]["groups"]
    assert {"key": "Full name", "text": "Child A Example"} in child
    assert safety["title"] == "Check other children are safe" and safety["step"] == "check_other_children"
    assert rows(safety)["Are other children at risk?"]["text"] == "Yes"
    # labelled by the forms' titles, never by the case data's keys
    assert not any("_" in key for key in every_key(sections))


def test_the_prg_reads_every_agency_return_and_the_merged_chronology(deployed):
    p = Partnership(deployed)
    p.agencies_answered()
    sections = shown(deployed, "record_rapid_review", PRG)
    returns = [s for s in sections if s["step"] == "return_agency_information"]
    assert sorted(s["title"] for s in returns) == [
        "Return agency information for the rapid review: Agency: Health",
        "Return agency information for the rapid review: Agency: Police",
    ]
    assert all(rows(s)["Date completed"]["text"] == "16 December 2026" for s in returns)
    [merged] = [s for s in sections if s["title"] == "Merged chronology"]
    entries = rows(merged)["Entries, by date"]["groups"]
    assert len(entries) >= 2 and all(any(r["key"] == "Date" for r in e) for e in entries)
    assert not any("_" in key for key in every_key(sections))


def test_the_executive_ratifies_reading_the_prg_record(deployed):
    recorded(deployed)
    record, *_ = shown(deployed, "ratify_rapid_review_partners", EXECUTIVE)
    assert (record["step"], record["title"]) == (
        "record_rapid_review",
        "Hold the rapid review meeting and record the rapid review",
    )
    assert record["by"] == "staff" and record["at"].startswith("2026-12-21")
    answers = rows(record)
    assert answers["Concise summary of the facts"]["text"] == form("rapid_review_record")["facts_summary"]
    assert answers["Will a local child safeguarding practice review be carried out?"]["text"] == (
        "Yes: carry out a local child safeguarding practice review"  # the option's title, not 'lcspr'
    )


def test_an_agency_sees_nothing_of_the_case_beyond_its_request(deployed):
    p = Partnership(deployed)
    p.start(date_aware="2026-12-18", notification_date=None)
    p.do("check_other_children", form("safety_check"))
    p.do("notify_panel_and_partners", form("statutory_notification"))
    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))
    [request] = deployed.tasks.for_user(POLICE)
    assert deployed.tasks.get(request["id"], POLICE)["case_file"] == []
    deployed.instances.complete_task(request["id"], form("agency_case_information", agency="Police"), POLICE)
    # its own answers stay readable to it, and nothing else
    mine = deployed.tasks.get(request["id"], POLICE)
    assert mine["state"] == "completed" and mine["case_file"] == []
    assert rows(mine["answers"])["Date completed"]["text"] == "16 December 2026"
    [notified] = [
        t
        for t in p.case("incident_notification")["task_history"]
        if t["element_id"] == "notify_panel_and_partners"
    ]
    with pytest.raises(Forbidden):
        deployed.tasks.get(notified["id"], POLICE)


def test_a_completed_step_is_read_by_who_did_it_its_role_and_managers(deployed):
    p = recorded(deployed)
    [done] = [t for t in p.case("rapid_review")["task_history"] if t["element_id"] == "record_rapid_review"]
    for reader in (STAFF, PRG, MANAGER):
        answers = deployed.tasks.get(done["id"], reader)["answers"]
        assert answers["by"] == "staff" and answers["at"].startswith("2026-12-21")
        assert rows(answers)["Date of the rapid review meeting"]["text"] == "21 December 2026"
    for stranger in (EXECUTIVE, POLICE):
        with pytest.raises(Forbidden):
            deployed.tasks.get(done["id"], stranger)


def test_the_reviewer_reworks_reading_why_sign_off_was_refused_and_the_plan_reads_the_recommendations(
    deployed,
):
    p = recorded(deployed)
    p.at("2027-01-12T10:00:00+00:00")
    ratified = form(
        "executive_ratification_partners", ratification_date="2027-01-12", decision_date="2027-01-12"
    )
    p.do("ratify_rapid_review_partners", ratified)
    p.do("tell_family_decision", form("family_contact"))
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date="2027-01-12"))
    p.do("lcspr_terms_of_reference", form("terms_of_reference", agency_reports_due="2027-03-01"))
    admin = Actor("ada", frozenset({"admin"}))  # holds every agency's role the terms of reference name
    for request in deployed.tasks.for_user(admin):
        if request["element_id"] == "lcspr_agency_reports":
            agency = request["role"].removeprefix("Agency: ")
            deployed.instances.complete_task(request["id"], form("agency_report", agency=agency), admin)
    for step, name in (
        ("lcspr_practitioners", "practitioner_event"),
        ("lcspr_interview", "practitioner_interview"),
        ("lcspr_family", "family_involvement"),
        ("lcspr_capture_improvements", "improvements_captured"),
        ("lcspr_supervise", "review_supervision"),
    ):
        p.do(step, form(name))
    assert shown(deployed, "lcspr_write_report")[-1]["title"] == "Merged chronology"  # no sign-off yet
    p.do("lcspr_write_report", form("overview_report"))
    [draft] = shown(deployed, "lcspr_partners_sign_off")
    assert rows(draft)["Findings of the review panel"]["text"] == form("overview_report")["findings"]
    why = "Say how the school's referrals were handled."
    p.do(
        "lcspr_partners_sign_off",
        form("report_sign_off_partners", signed_off=False, changes_required=why),
    )
    refused, previous, *_ = shown(deployed, "lcspr_write_report")
    assert refused["step"] == "lcspr_partners_sign_off"
    assert rows(refused)["What must change before sign-off"]["text"] == why
    assert rows(refused)["Is the report signed off?"]["text"] == "No"
    assert previous["step"] == "lcspr_write_report"  # the draft sent back, to work from
    p.do("lcspr_write_report", form("overview_report"))
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners"))
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    [report] = shown(deployed, "lcspr_action_plan")
    assert report["title"] == "Write the final report"
    assert rows(report)["Recommendations"]["items"] == form("overview_report")["recommendations"]


def test_the_chair_decides_on_a_serious_case_review_reading_the_sub_group_and_the_checklist(deployed):
    from tests.scenarios.test_wt2015_serious_case_review import decision_pending, recommended

    p = decision_pending(deployed)
    recommended(p)
    sections = shown(deployed, "chair_decides")
    assert [s["step"] for s in sections][:2] == ["subgroup_meeting", "chair_checklist"]
    assert "Merged chronology" in [s["title"] for s in sections]
    assert not any("_" in key for key in every_key(sections))


def test_an_agency_answering_in_a_shared_role_never_reads_another_agencys_answers(deployed):
    from tests.integration.test_demo_process import INCIDENT

    amir, bea = (
        Actor("amir", frozenset({"Contributing agency"})),
        Actor("bea", frozenset({"Contributing agency"})),
    )
    deployed.instances.start("engine_demo", {"regime": "WT2018"}, STAFF)
    [record] = deployed.tasks.for_user(STAFF)
    deployed.instances.complete_task(record["id"], INCIDENT, STAFF)
    [request] = deployed.tasks.for_user(amir)
    returned = {"agency": "Health", "chronology": [{"date": "2026-11-02", "event": "Seen by health visitor"}]}
    deployed.instances.complete_task(request["id"], returned, amir)
    assert rows(deployed.tasks.get(request["id"], amir)["answers"])  # its own
    assert deployed.tasks.get(request["id"], MANAGER)["answers"]["by"] == "amir"
    with pytest.raises(Forbidden):
        deployed.tasks.get(request["id"], bea)


# --- the deploy lint ---------------------------------------------------------------------------------


def _files_with(path: str, old: str, new: str) -> dict[str, bytes]:
    files = bundle.collect_files([ROOT / "processes", ROOT / "forms"])
    name = Path(path).name
    text = files[name].decode("utf-8")
    assert old in text
    files[name] = text.replace(old, new, 1).encode("utf-8")
    return files


def _problems(files) -> list[str]:
    with pytest.raises(bundle.BundleInvalid) as refused:
        bundle.build(files)
    return [str(p) for p in refused.value.problems]


def test_the_deploy_lint_names_an_unknown_key_or_step_with_its_file_and_step():
    files = _files_with(
        "rapid_review.bpmn",
        'name="caseFile" value="record_rapid_review, case_chronology"',
        'name="caseFile" value="record_rapid_reveiw, case_chronology"',
    )
    [problem] = [p for p in _problems(files) if "caseFile" in p]
    assert problem.startswith("rapid_review.bpmn: ratify_rapid_review: caseFile names 'record_rapid_reveiw'")


def test_the_deploy_lint_refuses_a_case_file_on_an_agency_request():
    files = _files_with(
        "rapid_review.bpmn",
        '<spiffworkflow:property name="formJsonSchemaFilename" value="agency_case_information.json"/>',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="agency_case_information.json"/>'
        '<spiffworkflow:property name="caseFile" value="record_rapid_review"/>',
    )
    [problem] = [p for p in _problems(files) if "caseFile" in p]
    assert problem.startswith("rapid_review.bpmn: return_agency_information: caseFile on a step of the")
    assert "nothing of the case" in problem


def test_a_version_carries_the_forms_that_label_what_its_steps_show():
    built = bundle.build(bundle.collect_files([ROOT / "processes", ROOT / "forms"]))
    # the rapid review shows the notification's facts, captured by a form of the process before it
    assert "incident_notification.json" in built.processes["rapid_review"].forms
