"""The case list as managers read it: one row per case with its sub-processes folded in (their steps, the
case's next due date and worst status), found by its reference or its child's initials; and every statutory
deadline due within a number of working days across cases."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock
from engine.services.case_search import child_initials, read_term
from engine.services.errors import Invalid
from engine.services.reports import WORST, CaseFilter
from tests.casework import make_cases
from tests.conftest import MANAGER


@pytest.fixture
def cases(deployed):
    make_cases(deployed, 8)
    return deployed


def instances(service) -> list[dict]:
    return service.queries.list_instances(MANAGER, limit=500)


def all_rows(service, filters: CaseFilter) -> list[dict]:
    rows, before = [], None
    while True:
        page = service.reports.case_page(MANAGER, filters, before=before, limit=3)
        rows += page["rows"]
        if page["older"] is None:
            return rows
        before = page["older"]


def test_initials_and_search_terms():
    assert child_initials({"children": [{"name": "Mary-Jane Smith"}, {"name": "baby Öztürk"}]}) == "MJS BÖ"
    assert child_initials({}) is None and child_initials({"children": [{"name": ""}]}) is None
    assert read_term(" rf-2026-0001 ") == ("reference", "RF-2026-0001")
    assert read_term("j.s.") == ("initials", "JS") and read_term("  ") == ("", "")


def test_one_row_per_case_with_its_sub_processes_folded_in(cases):
    everything = instances(cases)
    tops = [i for i in everything if i["parent_instance_id"] is None]
    assert len(tops) < len(everything)  # some cases have sub-processes
    rows = all_rows(cases, CaseFilter(cases=True))
    assert [r["id"] for r in rows] == [i["id"] for i in tops]  # each case once, newest first
    due = {r["id"]: r["next_due"] for r in cases.reports.case_page(MANAGER, CaseFilter(), limit=500)["rows"]}
    for row in rows:
        family = [i for i in everything if i["business_key"] == row["business_key"]]
        assert sorted(s["id"] for s in row["sub_processes"]) == sorted(
            i["id"] for i in family if i["id"] != row["id"]
        )
        dues = [due[i["id"]] for i in family if due[i["id"]]]
        assert row["case_next_due"] == (min(dues) if dues else None)
        assert row["worst"] in WORST
        if any(i["status"] == "error" for i in family):
            assert row["worst"] == "error"
    folded = [r for r in rows if r["sub_processes"]]
    assert folded and any(s["stage"] != "-" for r in folded for s in r["sub_processes"])
    page = cases.reports.case_page(MANAGER, CaseFilter(cases=True))
    assert page["count"] == len(tops)


def test_filters_match_a_case_when_any_of_its_processes_matches(cases):
    everything = instances(cases)
    today = clock.today()
    scr = {i["business_key"] for i in everything if i["process_id"] == "scr_decision"}
    rows = all_rows(cases, CaseFilter(process_id="scr_decision", cases=True))
    assert {r["business_key"] for r in rows} == scr and len(rows) == len(scr)
    overdue = all_rows(cases, CaseFilter(overdue=True, cases=True))
    late = {
        r["business_key"]
        for r in cases.reports.case_page(MANAGER, CaseFilter(overdue=True), limit=500)["rows"]
    }
    assert {r["business_key"] for r in overdue} == late
    assert all(r["worst"] in ("error", "overdue") for r in overdue), today


def test_search_by_reference_exactly_or_by_its_beginning(cases):
    tops = [i for i in instances(cases) if i["parent_instance_id"] is None]
    key = tops[0]["business_key"]
    [exact] = all_rows(cases, CaseFilter(search=key.lower(), cases=True))
    assert exact["id"] == tops[0]["id"]
    prefix = key[: key.rindex("-") + 1]  # "RF-2026-": every case this year
    assert len(all_rows(cases, CaseFilter(search=prefix, cases=True))) == len(tops)
    assert all_rows(cases, CaseFilter(search="RF-1999-", cases=True)) == []
    assert all_rows(cases, CaseFilter(search="RF-2026-%", cases=True)) == []  # % is taken literally


def test_search_by_child_initials_among_open_cases_or_a_period(cases):
    everything = instances(cases)
    named = [i for i in everything if i["parent_instance_id"] is None and i["summary"].get("child_initials")]
    assert named, "the demo's notifications name their children"
    initials = named[0]["summary"]["child_initials"].split()[0]
    want = {
        i["id"]
        for i in named
        if initials in i["summary"]["child_initials"].split()
        and any(
            m["status"] in ("running", "waiting", "error", "suspended")
            for m in everything
            if m["business_key"] == i["business_key"]
        )
    }
    found = all_rows(cases, CaseFilter(search=".".join(initials).lower(), cases=True))
    assert {r["id"] for r in found} == want and want
    assert all(initials in r["child_initials"].split() for r in found)
    ever = all_rows(cases, CaseFilter(search=initials, started_from=dt.date(2000, 1, 1), cases=True))
    assert {r["id"] for r in ever} >= want
    assert all_rows(cases, CaseFilter(search="QQQ", cases=True)) == []


def test_due_soon_lists_pending_deadlines_within_working_days_across_cases(cases):
    today = clock.today()
    deadlines = cases.reports.deadlines(MANAGER)
    wide = cases.reports.due_soon(MANAGER, days=60)
    end = dt.date.fromisoformat(wide["end"])
    want = [
        d
        for d in deadlines
        if d["status"] == "pending" and today.isoformat() <= d["due_date"] <= end.isoformat()
    ]
    assert want and wide["count"] == len(want)
    pages, after = [], None
    while True:
        page = cases.reports.due_soon(MANAGER, days=60, after=after, limit=2)
        pages.append(page["rows"])
        if page["next"] is None:
            break
        after = page["next"]
    listed = [(d["business_key"], d["key"], d["due_date"]) for p in pages for d in p]
    assert listed == [(d["business_key"], d["key"], d["due_date"]) for d in want]
    assert all(len(p) <= 2 for p in pages)
    with cases.db.reading() as session:
        cal = cases.core.calendar(session)
    assert end == cal.add_working_days(today, 60) > today
    none = cases.reports.due_soon(MANAGER, days=0)
    assert all(d["due_date"] == today.isoformat() for d in none["rows"])
    assert [d["key"] for d in cases.reports.due_soon_export(MANAGER, 60)] == [d["key"] for d in want]
    with pytest.raises(Invalid):
        cases.reports.due_soon(MANAGER, days=61)


def test_a_cases_worst_status_is_its_processes_worst_as_the_days_pass(cases):
    rows = cases.reports.case_page(MANAGER, CaseFilter(cases=True))["rows"]
    handed_over = [r for r in rows if r["status"] == "completed" and r["sub_processes"]]
    soon = next(r for r in handed_over if r["worst"] == "due_soon")  # its first process done, its review due
    [sub] = soon["sub_processes"]
    assert soon["case_next_due"] == sub["next_due"] and soon["next_due"] is None
    clock.set_now("2027-01-05T09:00:00+00:00")  # past the review's due date: no command ran
    again = {r["id"]: r for r in cases.reports.case_page(MANAGER, CaseFilter(cases=True))["rows"]}
    assert again[soon["id"]]["worst"] == "overdue"
    cases.instances.set_status(sub["id"], "cancel", MANAGER, "withdrawn")
    closed = {r["id"]: r for r in cases.reports.case_page(MANAGER, CaseFilter(cases=True))["rows"]}
    assert closed[soon["id"]]["worst"] == "closed" and closed[soon["id"]]["case_next_due"] is None


def test_a_case_is_completed_when_none_of_its_processes_is_open(cases):
    everything = instances(cases)
    still_open = {
        i["business_key"] for i in everything if i["status"] in ("running", "waiting", "error", "suspended")
    }
    done = [i for i in everything if i["parent_instance_id"] is None and i["status"] == "completed"]
    assert any(i["business_key"] in still_open for i in done)  # handed over: its review runs on
    rows = all_rows(cases, CaseFilter(status="completed", cases=True))
    assert [r["id"] for r in rows] == [i["id"] for i in done if i["business_key"] not in still_open]
    assert all(r["worst"] == "closed" for r in rows)
    running = {r["business_key"] for r in all_rows(cases, CaseFilter(status="running", cases=True))}
    assert running == {i["business_key"] for i in everything if i["status"] == "running"}
