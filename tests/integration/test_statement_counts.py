"""The managers' pages and completing a task cost a fixed number of SQL statements, however many cases
the partnership has: counted (never timed) with SQLAlchemy's ``before_cursor_execute`` event on the
service's engine, with 5 cases and again with 50.

Measured last (each page request includes finding its signed-in session, now one statement):

    page                          SQLite   PostgreSQL
    case list                       12         8
    case list, overdue              12         8
    case list, reference search     12         8
    case list, by process           12         8
    answers to record                6         4    (1 and then 4 cases waiting for the Panel)
    case list, initials (no match)  11         7
    due soon                        11         7
    due soon CSV (first chunk)       5         3
    dashboard                       12         9
    case page                       40        31
    deadline CSV (first chunk)       3         2
    completing a task                6         5

The case list reads the calendar's revision (for "due soon") and, in one statement, the sub-processes of
the cases it shows (none when it shows none).

(SQLite also counts the ``BEGIN`` of each transaction.) The test asserts only that the figures do not
change with the number of cases; tests/integration/test_round_trips.py bounds completing a task."""

from __future__ import annotations

import pytest

from engine.services import Reviewflow, live_workflows
from tests.awaiting_panel import waiting_for_the_panel
from tests.casework import ACTORS, demo_cases, make_cases
from tests.conftest import PROCESS_OWNER, ROOT, make_settings
from tests.roundtrips import Statements
from tests.signed_in import manager_client

WEB = {
    "REVIEWFLOW_INSECURE_COOKIES": "1",
    "REVIEWFLOW_SECRET_KEY": "test-only-secret-key-for-statement-counts",
}


@pytest.fixture
def web(database_url):
    from web.app import create_app

    service = Reviewflow(make_settings(database_url, **WEB))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    yield create_app(service)
    service.db.dispose()


def first_chunk(client, path: str) -> bytes:
    """What a download sends first (an export is streamed: the rest follows as it is read)."""
    response = client.get(path, buffered=False)
    try:
        assert response.status_code == 200
        return next(iter(response.response))
    finally:
        response.close()


def measure(app, client, case_id: int) -> dict[str, int]:
    service = app.extensions["reviewflow"]
    pages = {
        "case list": lambda: client.get("/cases"),
        "case list overdue": lambda: client.get("/cases?overdue=yes"),
        "dashboard": lambda: client.get("/dashboard"),
        "case list search": lambda: client.get("/cases?q=RF-2"),
        "case list by process": lambda: client.get("/cases?process=rapid_review"),
        "answers to record": lambda: client.get("/awaited"),
        "case list initials": lambda: client.get("/cases?q=J.S."),
        "due soon": lambda: client.get("/due-soon?days=20"),
        "due soon csv": lambda: first_chunk(client, "/due-soon.csv?days=20"),
        "case page": lambda: client.get(f"/cases/{case_id}"),
        "deadline csv": lambda: first_chunk(client, "/deadlines.csv"),
    }
    counts = {}
    for name, render in pages.items():
        first = render()  # caches warm (process versions, the calendar)
        assert getattr(first, "status_code", 200) == 200, name
        with Statements(service.db.engine) as seen:
            render()
        counts[name] = seen.count
    la = ACTORS["la"]
    step = demo_cases()[0]["steps"][0]  # check that other children are safe, as the local authority
    task = max(
        (t for t in service.tasks.for_user(la) if t["element_id"] == step["step"]),
        key=lambda t: t["instance_id"],
    )  # the newest new notification's
    # read first, as by a process that did not save the case last (whether this one did depends on what it
    # did before, not on the number of cases: tests/integration/test_known_completion.py holds the other)
    live_workflows.clear()
    with Statements(service.db.engine) as seen:
        service.instances.complete_task(task["id"], step["data"], la)
    counts["complete a task"] = seen.count
    return counts


def test_pages_and_completing_a_task_cost_the_same_with_5_and_50_cases(web):
    service = web.extensions["reviewflow"]
    make_cases(service, 5)
    client = manager_client(web)
    scr_case = next(
        i["id"]
        for i in service.queries.list_instances(ACTORS["manager"])
        if i["process_id"] == "scr_decision"
    )
    waiting_for_the_panel(service)  # a case waiting for an answer from outside: 1, then 4
    assert client.get("/awaited").get_data(as_text=True).count(" data-case=") == 1
    few = measure(web, client, scr_case)
    make_cases(service, 45)
    for _ in range(3):
        waiting_for_the_panel(service)
    assert client.get("/awaited").get_data(as_text=True).count(" data-case=") == 4
    many = measure(web, client, scr_case)
    print(f"\nstatements with 5 cases: {few}\nstatements with 50 cases: {many}")
    assert many == few
