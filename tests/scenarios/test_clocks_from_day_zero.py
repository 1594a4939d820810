"""Every statutory clock of the procedure is on the case from the day it starts (003 §3.4-§4.6): the local
authority's five working days from becoming aware (003 §3.6), and the rapid review's ten and fifteen working
days from the notification (003 §3.4, §4.4, §4.5, §4.6), whether or not the step whose timer arms them has
been reached, and whether the rapid review has been handed its own case yet. Counted in England working days
across Christmas 2026 (Friday 25 December, the substitute Boxing Day on Monday 28) and New Year's Day 2027 (a
Friday); the case list's next due date and the calendar feed read the same deadlines."""

from __future__ import annotations

from engine import clock
from engine.rules import load_rulesets
from engine.services import feeds
from engine.services import workflow as wfsvc
from engine.services.reports import CaseFilter
from engine.store.models import Instance
from tests.conftest import ROOT
from tests.scenarios.driver import MANAGER, Partnership, form

AWARE = "2026-12-18"  # a Friday; the clock starts on Monday 21 December 2026, 09:00 UTC


def where_is(p: Partnership, key: str) -> dict:
    """The deadline ``key`` as the notification case shows it: its own (planned or armed), or handed over with
    the case that now runs it."""
    case = p.case("incident_notification")
    found = [d for d in case["deadlines"] + case["handed_over_deadlines"] if d["key"] == key]
    assert len(found) == 1, (key, found)
    return found[0]


def test_a_notification_shows_every_clock_of_its_procedure_on_day_zero(deployed):
    """003 §3.6 (R1, R2: five working days from awareness) and §3.4, §4.4, §4.6 (R4, R5: ten, R6: fifteen
    working days from the notification, recorded the day it is received): all on the case the day it
    starts."""
    p = Partnership(deployed)
    p.start(date_aware=AWARE, notification_date=None)
    case = p.case("incident_notification")
    shown = {d["key"]: d for d in case["deadlines"]}
    # 21, 22, 23, 24 Dec, then (25 and 28 Dec are bank holidays) 29 Dec is the fifth working day
    assert {k: (shown[k]["due_date"], shown[k]["status"]) for k in ("R1", "R2")} == {
        "R1": ("2026-12-29", "pending"),
        "R2": ("2026-12-29", "pending"),
    }
    assert case["data"]["notification_date"] == "2026-12-21"
    # 22, 23, 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan; then 8, 11, 12, 13, 14 Jan
    dues = {
        k: (where_is(p, k)["due_date"], where_is(p, k)["status"], where_is(p, k)["process_id"])
        for k in ("R4", "R5", "R6")
    }
    assert dues == {
        "R4": ("2027-01-07", "pending", "rapid_review"),
        "R5": ("2027-01-07", "pending", "rapid_review"),
        "R6": ("2027-01-14", "pending", "rapid_review"),
    }
    for key in ("R4", "R5", "R6"):
        d = where_is(p, key)
        assert d["source"].startswith("003 §") and d["name"] and d["starts_when"] is None
        rapid = p.instances("rapid_review")
        assert d["instance_id"] == (rapid[0]["id"] if rapid else None)  # linked to the case that runs it
    # a clock whose date is not known yet says when it starts: the local review's, from its decision
    r8 = listed(p, "R8")
    assert (r8["due_date"], r8["status"], r8["starts_when"]) == (
        None,
        "pending",
        "starts when the decision to hold a review is made",
    )
    # transitively: the local review the rapid review can hand over to calls the review itself (003 §7.7, R10)
    r10 = listed(p, "R10")
    assert (r10["due_date"], r10["starts_when"], r10["process_id"]) == (
        None,
        "starts when the publication date is set",
        "local_cspr",
    )


def rapid_deadlines(p: Partnership) -> list[dict]:
    return [d for c in p.instances("rapid_review") for d in c["deadlines"]]


def listed(p: Partnership, key: str) -> dict:
    """The deadline ``key`` as the notification or its rapid review lists it."""
    return next(
        d for d in p.case("incident_notification")["deadlines"] + rapid_deadlines(p) if d["key"] == key
    )


def test_a_clock_whose_anchor_is_not_recorded_starts_when_it_is(deployed):
    """003 §3.4, §4.4-§4.6: the rapid review's clocks count from the notification. Without the date they say
    when they start; with it they are due ten and fifteen England working days on, across Christmas and New
    Year (from Thursday 24 December: 29, 30, 31 Dec, 4, 5, 6, 7, 8, 11, 12 Jan; then 13, 14, 15, 18, 19
    Jan)."""
    from engine.services import statutory

    clock.set_now("2026-12-24T10:00:00+00:00")
    p = Partnership(deployed)
    p.start(date_aware=AWARE, notification_date=None)
    # the case that will arm R4: the notification, or the rapid review once it has been handed over
    [planning] = [
        c
        for c in p.instances("incident_notification") + p.instances("rapid_review")
        if any(d["key"] == "R4" and not d["armed"] for d in c["deadlines"])
    ]
    with deployed.db.reading() as session:
        inst = session.get(Instance, planning["id"])
        version, workflow = wfsvc.read_state(session, inst)
        ruleset = wfsvc.ruleset_for(session, inst.ruleset_version_id)
        data = wfsvc.current_data(workflow)
        calendar = deployed.queries.core.calendar(session)
        before = {
            d.key: d
            for d in statutory.planned_deadlines(
                session,
                version.id,
                workflow,
                ruleset,
                {k: v for k, v in data.items() if k != "notification_date"},
                calendar,
            )
        }
        after = {
            d.key: d
            for d in statutory.planned_deadlines(session, version.id, workflow, ruleset, data, calendar)
        }
    for key in ("R4", "R5", "R6"):
        assert (before[key].due_date, before[key].starts_when) == (None, "starts when the Panel is notified")
    assert data["notification_date"] == "2026-12-24"
    assert {k: after[k].due_date.isoformat() for k in ("R4", "R5", "R6")} == {
        "R4": "2027-01-12",
        "R5": "2027-01-12",
        "R6": "2027-01-19",
    }
    assert {k: where_is(p, k)["due_date"] for k in ("R4", "R5", "R6")} == {
        "R4": "2027-01-12",
        "R5": "2027-01-12",
        "R6": "2027-01-19",
    }
    assert {k: where_is(p, k)["due_date"] for k in ("R1", "R2")} == {"R1": "2026-12-29", "R2": "2026-12-29"}


def test_the_case_list_and_the_calendar_feed_read_the_same_deadlines(deployed):
    """003 §3.6 and §3.4-§4.6: the earliest statutory due date counts for the case list's next due date from
    day 0, before any step with a timer is reached, and the calendar feed lists every clock whose date is
    known."""
    p = Partnership(deployed)
    started = p.start(date_aware=AWARE, notification_date=None)
    row = next(
        r for r in deployed.reports.case_page(MANAGER, CaseFilter())["rows"] if r["id"] == started["id"]
    )
    assert row["next_due"] == "2026-12-29"  # R1 and R2, though no timer is armed yet
    events = deployed.feeds.deadlines(MANAGER)
    listed = {
        (e["key"], e["due_date"].isoformat()) for e in events if e["business_key"] == started["business_key"]
    }
    assert {
        ("R1", "2026-12-29"),
        ("R2", "2026-12-29"),
        ("R4", "2027-01-07"),
        ("R5", "2027-01-07"),
        ("R6", "2027-01-14"),
    } <= listed
    assert not any(e["key"] == "R8" for e in events)  # not dated yet: nothing to put in a calendar
    ics = feeds.to_ics(events, clock.now())
    assert "DTSTART;VALUE=DATE:20270114" in ics and "R6: Executive Group ratifies the rapid review" in ics
    pending = {(d["key"], d["due_date"]) for d in deployed.reports.deadlines(MANAGER, status="pending")}
    assert ("R6", "2027-01-14") in pending


def test_once_a_clock_arms_it_is_shown_once_with_its_row(deployed):
    """003 §3.6: R1 and R2 are armed when the notification step opens; they are then the case's rows (met when
    the notification is made), never also shown as planned; a case that is closed shows no clock it will not

      run."""
    p = Partnership(deployed)
    p.start(date_aware=AWARE, notification_date=None)
    p.do("check_other_children", form("safety_check"))
    case = p.case("incident_notification")
    keys = [d["key"] for d in case["deadlines"]]
    assert len(keys) == len(set(keys))
    assert {d["key"]: d["armed"] for d in case["deadlines"] if d["key"] in ("R1", "R2")} == {
        "R1": True,
        "R2": True,
    }
    assert "R3" not in keys  # the child is not looked after: §3.7 does not apply
    p.do("notify_panel_and_partners", form("statutory_notification"))
    case = p.case("incident_notification")
    if case["status"] == "completed":
        assert all(d["armed"] for d in case["deadlines"])
    assert {d["key"]: d["status"] for d in case["deadlines"] if d["key"] in ("R1", "R2")} == {
        "R1": "met",
        "R2": "met",
    }
    rapid = p.case("rapid_review")
    shown = {d["key"]: d for d in rapid["deadlines"]}
    assert {k: (shown[k]["due_date"], shown[k]["instance_id"]) for k in ("R4", "R6")} == {
        "R4": ("2027-01-07", rapid["id"]),
        "R6": ("2027-01-14", rapid["id"]),
    }
    assert {(d["key"], d["instance_id"]) for d in case["handed_over_deadlines"]} >= {
        ("R4", rapid["id"]),
        ("R6", rapid["id"]),
    }


def test_every_anchor_of_every_rule_set_says_when_its_clock_starts():
    """003 §3.4-§4.6 and the other procedures' anchors: a deadline not yet dated says in words when it
    starts."""
    from engine.services import statutory

    anchors = {
        rule.anchor
        for rs in load_rulesets(ROOT / "processes" / "rulesets").values()
        for rule in rs.rules.values()
    }
    assert anchors - set(statutory.ANCHOR_WORDS) == set()


def test_a_new_bank_holiday_moves_the_clocks_not_yet_armed(deployed):
    """003 §3.4, §4.4, §4.6 counted in England working days: a one-off bank holiday on Tuesday 5 January 2027
    moves the rapid review's due dates a day later in the case list and the calendar feed, armed or not."""
    from engine.services.actor import Actor

    p = Partnership(deployed)
    started = p.start(date_aware=AWARE, notification_date=None)

    def feed() -> dict[str, str]:
        return {
            e["key"]: e["due_date"].isoformat()
            for e in deployed.feeds.deadlines(MANAGER)
            if e["business_key"] == started["business_key"] and e["key"] in ("R4", "R5", "R6")
        }

    assert feed() == {"R4": "2027-01-07", "R5": "2027-01-07", "R6": "2027-01-14"}
    deployed.calendar.set_override(
        "2027-01-05", "holiday", "A one-off bank holiday", Actor("admin", frozenset({"admin"}))
    )
    assert feed() == {"R4": "2027-01-08", "R5": "2027-01-08", "R6": "2027-01-15"}
    assert {k: where_is(p, k)["due_date"] for k in ("R4", "R6")} == {"R4": "2027-01-08", "R6": "2027-01-15"}


def test_a_cancelled_case_leaves_no_clock_in_the_calendar_even_if_it_cannot_be_opened(deployed):
    """003 §3.4-§4.6: a case that is cancelled runs none of its clocks, so none stays in the calendar feed or
    the deadline export, also when its saved state can no longer be read."""
    from sqlalchemy import select, update

    from engine.store.models import Deadline

    p = Partnership(deployed)
    started = p.start(date_aware=AWARE, notification_date=None)
    with deployed.db.transaction() as session:  # the case (of this reference) holding R6 before it is armed
        [holder] = session.scalars(
            select(Deadline.instance_id)
            .join(Instance, Instance.id == Deadline.instance_id)
            .where(Instance.business_key == started["business_key"], Deadline.key == "R6")
        )
        session.execute(update(Instance).where(Instance.id == holder).values(state=b"not a workflow"))
    assert {
        e["key"] for e in deployed.feeds.deadlines(MANAGER) if e["business_key"] == started["business_key"]
    } >= {"R4", "R5", "R6"}
    deployed.instances.set_status(holder, "cancel", MANAGER, "opened in error")
    assert not {
        e["key"] for e in deployed.feeds.deadlines(MANAGER) if e["business_key"] == started["business_key"]
    } & {"R4", "R5", "R6"}
    assert not any(
        d["instance_id"] == holder and d["status"] == "pending" for d in deployed.reports.deadlines(MANAGER)
    )
