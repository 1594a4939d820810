"""What completing a task costs the database, counted (never timed): at most 6 statements on SQLite for the
command itself, and 3 round trips on PostgreSQL for the whole API request (the target: at most 10): finding
who the token belongs to; the command's BEGIN with its one read of the task, its case, the case's open
tasks, whether a draft exists and the calendar's revision; its writes with its COMMIT. Round trips are
counted from the driver's trace (tests/roundtrips.py)."""

from __future__ import annotations

import pytest

from engine.services import Reviewflow, demo
from engine.store.models import Instance
from tests.casework import ACTORS, demo_cases
from tests.conftest import PROCESS_OWNER, ROOT, make_settings
from tests.roundtrips import Statements

WEB = {"REVIEWFLOW_INSECURE_COOKIES": "1", "REVIEWFLOW_SECRET_KEY": "test-only-secret-key-for-round-trips"}


def _new_notification(service) -> tuple[str, dict]:
    """A new notification's first task (checking that other children are safe) and the answers to it."""
    case = demo._dated(demo_cases()[0])
    started = service.instances.start(case["process"], case["data"], ACTORS[case["started_by"]])
    step = case["steps"][0]
    task = next(
        t
        for t in service.tasks.for_user(ACTORS[step["by"]])
        if t["element_id"] == step["step"] and t["business_key"] == started["business_key"]
    )
    return task["id"], step["data"]


def test_completing_a_task_is_at_most_6_statements_on_sqlite(sqlite_url):
    service = Reviewflow(make_settings(sqlite_url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    la = ACTORS["la"]
    service.instances.complete_task(*_new_notification(service), la)  # caches warm: versions, calendar
    task_id, data = _new_notification(service)
    with Statements(service.db.engine) as seen:
        service.instances.complete_task(task_id, data, la)
    print(f"\ncompleting a task: {seen.count} statements")
    assert seen.count <= 6, seen.count
    service.db.dispose()


def test_completing_a_task_through_the_api_is_2_round_trips(database_url):
    from web.app import create_app

    service = Reviewflow(make_settings(database_url, **WEB))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    la = ACTORS["la"]
    service.users.add(la.username, sorted(la.roles))
    token = service.users.create_token(la.username)
    client = create_app(service).test_client()

    def complete(task_id: str, data: dict):
        return client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": data},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert complete(*_new_notification(service)).status_code == 200  # caches warm
    task_id, data = _new_notification(service)
    with Statements(service.db.engine) as seen:
        response = complete(task_id, data)
    assert response.status_code == 200, response.get_json()
    print(f"\ncompleting a task through the API: {seen.round_trips} round trips, {seen.count} statements")
    # the token; the step, decided on what this process knew of the case it started (none on SQLite)
    assert seen.round_trips <= 2, (seen.round_trips, seen.count)
    assert seen.writes == seen.round_trips, (seen.writes, seen.round_trips)  # one write to the server each
    service.db.dispose()


def test_a_step_that_opens_the_next_is_at_most_7_statements_on_sqlite(sqlite_url):
    """BEGIN, the one read, the audit row, the new task, the step's row renamed, the task done, the case.
    Who holds the new task's role is not read again while nobody's roles have changed."""
    from tests.bench.common import OWNER, STAFF, STEP, bench_files

    service = Reviewflow(make_settings(sqlite_url))
    service.deployments.deploy(bench_files(), OWNER)
    service.users.add("sam", ["Staff"], email="sam@example.org")
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)

    def open_step() -> str:
        [task] = [t["id"] for t in service.tasks.for_user(STAFF) if t["instance_id"] == case["id"]]
        return task

    service.instances.complete_task(open_step(), STEP, STAFF)  # caches warm: versions, calendar, people
    service.users.set_email_settings("sam", new_task_emails=False, actor="sam")  # no e-mail to queue
    service.instances.complete_task(open_step(), STEP, STAFF)
    task_id = open_step()
    with Statements(service.db.engine) as seen:
        service.instances.complete_task(task_id, STEP, STAFF)
    print(f"\na step that opens the next: {seen.count} statements")
    assert seen.count <= 7, seen.count
    service.db.dispose()


def test_starting_a_case_is_3_round_trips_on_postgresql(postgres_url):
    """BEGIN with one read (the process's newest version, and the calendar's, the people's and the rule sets'
    revisions); the new case row (its id names the case); its writes with COMMIT. Which rule sets are
    deployed, and the newest version of the one the case runs under, are not read again while no rule set
    is deployed."""
    from tests.bench.common import OWNER, STAFF, bench_files

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    service.deployments.deploy_paths([ROOT / "processes" / "rulesets"], OWNER)
    service.instances.start("bench_reference", {"steps_done": 0}, STAFF)  # caches warm
    with Statements(service.db.engine) as seen:
        started = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    print(f"\nstarting a case: {seen.round_trips} round trips, {seen.count} statements")
    assert seen.round_trips == 3, (seen.round_trips, seen.count)
    assert seen.writes == 3, seen.writes  # one write to the server a round trip
    with service.db.reading() as session:
        assert session.get(Instance, started["id"]).regime == "WT2023"  # the rules in force today
    service.db.dispose()


def test_starting_a_case_where_no_rule_set_is_deployed_is_3_round_trips_too(postgres_url):
    """No rule set deployed is a revision of its own: that none is deployed is not read at every start."""
    from tests.bench.common import OWNER, STAFF, bench_files

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    service.instances.start("bench_reference", {"steps_done": 0}, STAFF)  # caches warm
    with Statements(service.db.engine) as seen:
        started = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    assert seen.round_trips == 3, (seen.round_trips, seen.count)
    with service.db.reading() as session:
        assert session.get(Instance, started["id"]).regime is None
    service.db.dispose()


def test_the_statements_of_a_step_stay_prepared_whatever_was_rolled_back_before(postgres_url):
    """A step's statements (its read, its writes, the task list) are prepared on a connection the first time
    it sends them, and no rollback unprepares them: psycopg's own preparing (a statement's fifth run) ended in
    a DEALLOCATE ALL at every rollback, and every step after it parsed and planned its statements again."""
    from sqlalchemy import text

    from engine.services import live_workflows
    from tests.bench.common import OWNER, STAFF, STEP, bench_files

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)

    def step():
        [task] = [t["id"] for t in service.tasks.for_user(STAFF) if t["instance_id"] == case["id"]]
        service.instances.complete_task(task, STEP, STAFF)

    def often_then_rolled_back():  # a statement run often, then a transaction rolled back
        for _ in range(7):
            with service.db.reading() as session:
                session.scalar(text("SELECT count(*) FROM instance"))
        with pytest.raises(RuntimeError), service.db.transaction() as session:
            session.scalar(text("SELECT count(*) FROM instance"))
            raise RuntimeError("a command that failed")

    for n in range(6):  # every statement of a step prepared, on every connection the pool has opened
        often_then_rolled_back()
        if n % 2:
            live_workflows.clear()  # a step read first, as by a process that did not save the case last
        step()
    often_then_rolled_back()
    with Statements(service.db.engine) as seen:
        step()
    assert seen.round_trips == 2, seen.round_trips  # the task list; the step, on what the process knew
    assert seen.parsed == 0, f"{seen.parsed} of the step's statements were parsed again"
    often_then_rolled_back()
    live_workflows.clear()
    with Statements(service.db.engine) as seen:
        step()
    assert seen.round_trips == 3, seen.round_trips  # the task list; the step's read, its writes
    assert seen.parsed == 0, f"{seen.parsed} of the step's statements read first were parsed again"
    service.db.dispose()
