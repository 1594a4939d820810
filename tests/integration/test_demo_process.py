"""The demo process end to end through the service layer: form, DMN, outbox, working-day
deadline with reminder and escalation, message catch, call activity, and e-mail delivery
to a real SMTP server on loopback. The clock is fixed; nothing sleeps.
"""

from __future__ import annotations

import pytest

from engine import clock
from engine.services.errors import Conflict, Forbidden, Invalid
from tests.conftest import AGENCY, BUSINESS_UNIT, MANAGER, make_settings
from tests.smtp import SmtpServer

INCIDENT = {
    "date_aware": "2026-12-21",
    "child_died": False,
    "seriously_harmed": True,
    "abuse_or_neglect": "suspected",
    "summary": "Admitted to hospital with unexplained injuries.",
}


def only_task(service, actor):
    tasks = service.tasks.for_user(actor)
    assert len(tasks) == 1, tasks
    return tasks[0]


def start_demo(service):
    return service.instances.start("engine_demo", {"regime": "WT2018"}, BUSINESS_UNIT)


def test_user_task_with_form_then_decision_and_service_task(deployed):
    service = deployed
    started = start_demo(service)
    task = only_task(service, BUSINESS_UNIT)
    assert task["element_id"] == "record_incident" and task["role"] == "Business Unit"

    with pytest.raises(Invalid) as bad:
        service.instances.complete_task(
            task["id"], {**INCIDENT, "date_aware": "21/12/2026", "child_died": "no"}, BUSINESS_UNIT
        )
    assert {d["path"] for d in bad.value.details} == {"date_aware", "child_died"}
    assert service.tasks.for_user(BUSINESS_UNIT)[0]["state"] == "open"

    service.instances.complete_task(task["id"], INCIDENT, BUSINESS_UNIT)
    case = service.queries.get_instance(started["id"], MANAGER)
    assert case["data"]["notify"] is True and case["data"]["priority"] == "high"
    outbox = service.outbox.list(MANAGER)
    assert [(m["recipient"], m["status"]) for m in outbox] == [("panel-notifications@example.org", "pending")]
    assert "Serious incident notification" in outbox[0]["subject"]


def test_deadline_due_date_counts_working_days_across_christmas(deployed):
    service = deployed
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    agency_task = only_task(service, AGENCY)
    # aware Mon 21 Dec 2026; 25 Dec and the Boxing Day substitute (Mon 28 Dec) are not working days
    assert agency_task["due_date"] == "2026-12-30" and agency_task["deadline_key"] == "R1"
    case = service.queries.get_instance(agency_task["instance_id"], MANAGER)
    [r1] = case["deadlines"]
    assert (r1["key"], r1["status"], r1["source"]) == ("R1", "pending", "003 §3.6")


def test_reminder_then_escalation_fire_under_the_fixed_clock(deployed):
    service = deployed
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    subjects = lambda: sorted(m["subject"].split(":")[0] for m in service.outbox.list(MANAGER))  # noqa: E731

    clock.set_now("2026-12-24T08:59:00+00:00")  # reminder is 09:00 on 24 Dec, 2 working days before
    assert service.instances.fire_due_timers() == []
    clock.set_now("2026-12-24T09:01:00+00:00")
    assert len(service.instances.fire_due_timers()) == 1
    assert subjects() == [
        "Reminder",
        "Serious incident notification " + only_task(service, AGENCY)["business_key"],
    ]

    clock.set_now("2026-12-30T23:59:00+00:00")  # due by the end of Wed 30 Dec
    assert service.instances.fire_due_timers() == []
    clock.set_now("2026-12-31T00:00:01+00:00")
    assert len(service.instances.fire_due_timers()) == 1
    assert "Escalation" in subjects()
    task = only_task(service, AGENCY)  # non-interrupting: the agency can still return
    case = service.queries.get_instance(task["instance_id"], MANAGER)
    assert [(d["key"], d["status"]) for d in case["deadlines"]] == [("R1", "missed")]
    assert any(h["kind"] == "deadline_missed" for h in case["history"])


def test_deadline_met_when_the_task_is_done_in_time(deployed):
    service = deployed
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    clock.set_now("2026-12-29T15:00:00+00:00")
    task = only_task(service, AGENCY)
    service.instances.complete_task(
        task["id"],
        {"agency": "Health", "chronology": [{"date": "2026-11-02", "event": "Seen by health visitor"}]},
        AGENCY,
    )
    case = service.queries.get_instance(task["instance_id"], MANAGER)
    assert [(d["key"], d["status"]) for d in case["deadlines"]] == [("R1", "met")]
    clock.set_now("2027-01-05T00:00:00+00:00")
    assert service.instances.fire_due_timers() == []  # the cancelled timers never fire


def test_message_catch_and_call_activity_complete_the_case(deployed):
    service = deployed
    started = start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    with pytest.raises(Conflict):  # nothing waits for the Panel yet
        service.instances.deliver_message(
            "Panel response", {"decision": "no national review"}, MANAGER, instance_id=started["id"]
        )
    service.instances.complete_task(
        only_task(service, AGENCY)["id"], {"agency": "Police", "chronology": []}, AGENCY
    )
    service.instances.deliver_message(
        "Panel response", {"decision": "no national review"}, MANAGER, business_key=started["business_key"]
    )
    case = service.queries.get_instance(started["id"], MANAGER)
    assert case["status"] == "completed"
    assert (
        case["data"]["summary_line"]
        == f"{started['business_key']}: priority high, Panel answer no national review"
    )
    assert service.instances.fire_due_timers() == []


def test_only_the_lane_role_may_complete(deployed):
    service = deployed
    start_demo(service)
    task = only_task(service, BUSINESS_UNIT)
    with pytest.raises(Forbidden):
        service.instances.complete_task(task["id"], INCIDENT, AGENCY)
    assert service.tasks.for_user(AGENCY) == []


def test_notifications_arrive_at_a_real_smtp_server(database_url):
    from engine.services import Reviewflow
    from tests.conftest import PROCESS_OWNER, ROOT

    smtp = SmtpServer().start()
    try:
        service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=smtp.url))
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
        started = start_demo(service)
        service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
        assert service.work_once()["sent"] == 1
        [mail] = smtp.messages
        assert mail["To"] == "panel-notifications@example.org"
        assert started["business_key"] in mail["Subject"]
        assert "unexplained injuries" not in mail.get_payload()  # no more personal data than needed
        assert service.outbox.list(MANAGER)[0]["status"] == "sent"
    finally:
        smtp.stop()


def test_a_timer_typed_as_an_iso_literal_fires(service):
    from tests.conftest import PROCESS_OWNER, ROOT

    bench = ROOT / "tests" / "bench"
    service.deployments.deploy({"bench_timer.bpmn": (bench / "bench_timer.bpmn").read_bytes()}, PROCESS_OWNER)
    started = service.instances.start("bench_timer", {}, BUSINESS_UNIT)
    clock.set_now("2026-12-22T08:59:00+00:00")
    assert service.instances.fire_due_timers() == []
    clock.set_now("2026-12-22T09:00:01+00:00")  # P1D after 09:00 on 21 Dec
    assert service.instances.fire_due_timers() == [started["id"]]
    assert service.queries.get_instance(started["id"], MANAGER)["status"] == "completed"
