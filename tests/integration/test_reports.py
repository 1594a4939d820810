"""The managers' reports answered by the database: the case list's pages and filters agree with what each
case says of itself, the projections they read follow every command (and the passing of days), the
dashboard's figures are the deadlines' own, related cases are found by case reference, exports stream a
period, and the migration gives existing cases the same projections a command would."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from engine import clock
from engine.services import reports
from engine.services.reports import CaseFilter
from engine.store.models import Deadline, DeadlineTally, Instance, InstanceStep
from tests.casework import make_cases
from tests.conftest import MANAGER

OPEN = ("running", "waiting", "error", "suspended")


@pytest.fixture
def cases(deployed):
    make_cases(deployed, 8)  # twice round the demo's four cases: 16 instances, some overdue
    # (each notified serious incident has its rapid review from the day of notification: 003 §3.4, §4.1)
    return deployed


def every_case(service) -> list[dict]:
    """Each case as it describes itself (its page), newest first: the reference the reports must agree
    with."""
    rows = service.queries.list_instances(MANAGER, limit=500)
    return [service.queries.get_instance(r["id"], MANAGER) for r in rows]


def next_due(case: dict) -> str | None:
    """The earliest due date of an open step or of a deadline the case will still arm (003 §3.4-§4.6: the
    statutory clocks run from day 0, armed or not)."""
    planned = [d["due_date"] for d in case["deadlines"] if not d["armed"] and d["due_date"]]
    return min([t["due_date"] for t in case["tasks"] if t["due_date"]] + planned, default=None)


def overdue(case: dict, today: dt.date) -> bool:
    late = (next_due(case) or "9999") < today.isoformat()
    missed = any(d["status"] == "missed" for d in case["deadlines"])
    return case["status"] in OPEN and (late or missed)


def all_pages(service, filters: CaseFilter, limit: int) -> list[list[int]]:
    pages, before = [], None
    while True:
        page = service.reports.case_page(MANAGER, filters, before=before, limit=limit)
        pages.append([r["id"] for r in page["rows"]])
        if page["older"] is None:
            return pages
        before = page["older"]


def test_the_case_list_pages_through_every_case_newest_first_and_back(cases):
    everything = [c["id"] for c in every_case(cases)]
    pages = all_pages(cases, CaseFilter(), limit=5)
    assert [len(p) for p in pages] == [5, 5, 5, 1] and [i for p in pages for i in p] == everything
    first = cases.reports.case_page(MANAGER, CaseFilter(), limit=5)
    assert first["count"] == 16 and not first["count_capped"] and first["newer"] is None
    fourth = cases.reports.case_page(MANAGER, CaseFilter(), before=pages[2][-1], limit=5)
    assert fourth["older"] is None and fourth["newer"] == pages[3][0]
    third = cases.reports.case_page(MANAGER, CaseFilter(), after=fourth["newer"], limit=5)
    assert [r["id"] for r in third["rows"]] == pages[2] and third["newer"] == pages[2][0]
    back = cases.reports.case_page(MANAGER, CaseFilter(), after=third["newer"], limit=5)
    assert [r["id"] for r in back["rows"]] == pages[1] and back["newer"] == pages[1][0]
    again = cases.reports.case_page(MANAGER, CaseFilter(), after=back["newer"], limit=5)
    assert [r["id"] for r in again["rows"]] == pages[0] and again["newer"] is None


def test_counts_stop_at_the_limit(cases, monkeypatch):
    monkeypatch.setattr(reports, "COUNT_LIMIT", 10)
    page = cases.reports.case_page(MANAGER, CaseFilter(), limit=5)
    assert page["count"] == 10 and page["count_capped"]


def test_every_filter_finds_the_cases_that_say_so(cases):
    today = clock.today()
    everyone = every_case(cases)
    steps = sorted({s for c in everyone if c["status"] in OPEN for s in c["active_steps"]})
    assert cases.reports.stages(MANAGER) == steps and len(steps) == 6
    expected = {
        CaseFilter(): everyone,
        CaseFilter(status="open"): [c for c in everyone if c["status"] in OPEN],
        CaseFilter(status="completed"): [c for c in everyone if c["status"] == "completed"],
        CaseFilter(process_id="scr_decision"): [c for c in everyone if c["process_id"] == "scr_decision"],
        CaseFilter(process_id="incident_notification", status="running"): [
            c for c in everyone if c["process_id"] == "incident_notification" and c["status"] == "running"
        ],
        CaseFilter(overdue=True): [c for c in everyone if overdue(c, today)],
        **{CaseFilter(stage=s): [c for c in everyone if s in c["active_steps"]] for s in steps},
        CaseFilter(stage=steps[0], overdue=True): [
            c for c in everyone if steps[0] in c["active_steps"] and overdue(c, today)
        ],
    }
    for filters, want in expected.items():
        pages = all_pages(cases, filters, limit=3)
        assert [i for p in pages for i in p] == [c["id"] for c in want], vars(filters)
        assert cases.reports.case_page(MANAGER, filters)["count"] == len(want)
    listed = {r["id"]: r for r in cases.reports.case_page(MANAGER, CaseFilter())["rows"]}
    for case in everyone:
        row = listed[case["id"]]
        assert row["overdue"] == overdue(case, today)
        assert row["stage"] == (", ".join(case["active_steps"]) or "-")
        assert row["next_due"] == next_due(case)
    assert 0 < sum(r["overdue"] for r in listed.values()) < len(listed)


def test_the_projections_follow_each_command_and_the_calendar(cases):
    before = {r["id"]: r for r in cases.reports.case_page(MANAGER, CaseFilter())["rows"]}
    waiting = [i for i, r in before.items() if r["stage"] == "Return agency information for the rapid review"]
    assert waiting and not any(before[i]["overdue"] for i in waiting)
    clock.set_now("2027-01-05T09:00:00+00:00")  # past the agencies' due date (23 December): no command ran
    assert {r["id"] for r in cases.reports.case_page(MANAGER, CaseFilter(overdue=True))["rows"]} >= set(
        waiting
    )
    target = waiting[0]
    cases.instances.set_status(target, "suspend", MANAGER, "awaiting advice")
    assert target in [r["id"] for r in cases.reports.case_page(MANAGER, CaseFilter(overdue=True))["rows"]]
    cases.instances.set_status(target, "cancel", MANAGER, "withdrawn")
    for filters in (
        CaseFilter(overdue=True),
        CaseFilter(stage="Return agency information for the rapid review"),
        CaseFilter(status="open"),
    ):
        assert target not in [r["id"] for r in cases.reports.case_page(MANAGER, filters)["rows"]]
    with cases.db.reading() as session:
        assert session.scalars(select(InstanceStep).where(InstanceStep.instance_id == target)).all() == []
        assert session.get(Instance, target).overdue_from is None


def test_cancelling_a_case_cancels_its_pending_deadlines_and_counts_none_met(cases):
    case = next(c for c in every_case(cases) if c["process_id"] == "scr_decision")
    assert [d["key"] for d in case["deadlines"] if d["status"] == "pending" and d["armed"]] == ["S2"]
    cases.instances.set_status(case["id"], "cancel", MANAGER, "withdrawn")
    after = cases.queries.get_instance(case["id"], MANAGER)
    assert {d["key"]: d["status"] for d in after["deadlines"]} == {"S8": "missed", "S2": "cancelled"}
    assert not any(h["kind"] == "deadline_met" for h in after["history"])


def test_the_dashboard_counts_what_the_deadlines_say(cases, monkeypatch):
    monkeypatch.setattr(reports, "LIST_LIMIT", 3)
    start, end = dt.date(2026, 1, 1), clock.today()
    everyone = every_case(cases)
    report = cases.reports.dashboard(MANAGER, start, end)
    stages = {}
    for c in everyone:
        if c["status"] in OPEN:
            for s in c["active_steps"] or ["(waiting)"]:
                stages[(c["process_id"], s)] = stages.get((c["process_id"], s), 0) + 1
    assert {(r["process_id"], r["stage"]): r["count"] for r in report["by_stage"]} == stages
    deadlines = [dict(d, business_key=c["business_key"]) for c in everyone for d in c["deadlines"]]
    in_period = [
        d for d in deadlines if d["due_date"] and start.isoformat() <= d["due_date"] <= end.isoformat()
    ]
    missed = sorted(
        (d for d in in_period if d["status"] == "missed"), key=lambda d: d["due_date"], reverse=True
    )
    # R1-R3 of two notifications and S8 of two SCR decisions; the WT2015 notifications' S1 is met, judged on
    # the
    # date the report was sent (4 December, before its due day) though it was recorded after its timer fired
    assert report["missed_count"] == len(missed) == 8
    assert [d["due_date"] for d in report["missed"]] == [d["due_date"] for d in missed[:3]]  # latest first
    assert {(d["business_key"], d["key"]) for d in report["missed"]} <= {
        (d["business_key"], d["key"]) for d in missed
    }
    due = [
        d
        for d in deadlines
        if d["status"] == "pending"
        and d["due_date"]
        and clock.today().isoformat() <= d["due_date"] <= report["week_end"]
    ]
    assert report["due_this_week_count"] == len(due) and len(report["due_this_week"]) == min(3, len(due))
    for share in report["shares"]:
        mine = [d for d in in_period if d["key"] == share["key"]]
        assert (share["met"], share["missed"]) == (
            sum(d["status"] == "met" for d in mine),
            sum(d["status"] == "missed" for d in mine),
        )
    later = cases.reports.dashboard(MANAGER, dt.date(2026, 12, 22), dt.date(2027, 12, 31))
    assert later["missed"] == [] and later["missed_count"] == 0


def test_met_deadlines_are_tallied_as_they_are_met(cases):
    met = [c for c in every_case(cases) for d in c["deadlines"] if d["status"] == "met"]
    assert met
    with cases.db.reading() as session:
        tallied = sum(session.scalars(select(DeadlineTally.met)))
        rows = len(session.scalars(select(Deadline.id).where(Deadline.status == "met")).all())
    assert tallied == rows == len(met)


def test_related_cases_are_found_by_case_reference(cases):
    everyone = every_case(cases)
    rapid = next(
        c
        for c in everyone
        if c["process_id"] == "rapid_review"  # the one whose notification is done
        and "Return agency information for the rapid review" in c["active_steps"]
    )
    related = cases.reports.related(MANAGER, rapid["id"], rapid["business_key"])
    assert [(r["process_id"], r["status"]) for r in related] == [("incident_notification", "completed")]
    assert related[0]["business_key"] == rapid["business_key"]


def test_exports_stream_a_period(cases):
    rows = cases.reports.deadline_export(MANAGER, dt.date(2026, 12, 13), dt.date(2026, 12, 17))
    assert not isinstance(rows, list)
    listed = list(rows)
    assert {r["due_date"] for r in listed} == {"2026-12-13", "2026-12-17"}
    assert [r["due_date"] for r in listed] == sorted(r["due_date"] for r in listed)
    missed = cases.reports.deadlines(MANAGER, status="missed")
    assert len(missed) == 8 and {r["status"] for r in missed} == {"missed"}  # as the dashboard counts them
    exported = list(cases.reports.case_export(MANAGER, CaseFilter(status="open")))
    assert [r["id"] for r in exported] == [c["id"] for c in every_case(cases) if c["status"] in OPEN]
    assert list(cases.reports.case_export(MANAGER, CaseFilter(started_from=dt.date(2026, 12, 22)))) == []


def test_the_migration_gives_existing_cases_their_projections(cases, database_url):
    from alembic import command
    from alembic.config import Config

    from engine.store.db import MIGRATIONS

    def projections():
        with cases.db.reading() as session:
            return (
                sorted(
                    session.execute(
                        select(Instance.id, Instance.next_due, Instance.missed_due, Instance.overdue_from)
                    ).all()
                ),
                sorted(
                    session.execute(
                        select(InstanceStep.instance_id, InstanceStep.step, InstanceStep.process_id)
                    ).all()
                ),
                sorted(
                    session.execute(
                        select(
                            DeadlineTally.key, DeadlineTally.due_date, DeadlineTally.met, DeadlineTally.missed
                        )
                    ).all()
                ),
            )

    kept = projections()
    assert kept[0] and kept[1] and kept[2]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = cases.db.engine
    command.downgrade(config, "0003")
    command.upgrade(config, "head")
    assert projections() == kept


def test_postgresql_never_stops_a_report_to_jit_compile_it(postgres_url):
    """A streamed export over every deadline of a large partnership is costed high enough for PostgreSQL to
    JIT-compile it: 27 ms before its first row, against 3 ms without. The service's connections run with JIT
    off, and keep the options their URL gives (here the test's own schema)."""
    from engine.services import Reviewflow
    from tests.conftest import make_settings

    service = Reviewflow(make_settings(postgres_url))
    try:
        with service.db.reading() as session:
            assert session.scalar(text("SHOW jit")) == "off"
            assert session.scalar(text("SHOW search_path")).startswith("t_")
    finally:
        service.db.dispose()
