"""A database connection killed under a request (a restarted server, a failover, an administrator's
pg_terminate_backend) never gives a 500: a read is tried once more on a fresh connection and answers as
usual; a command answers 503 with Retry-After, kept nothing, and succeeds when sent again.

PostgreSQL only: the tests terminate the very server process serving the request, from a second
connection, at the moment the request sends a chosen statement."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from engine.store.models import HumanTask
from tests.conftest import POSTGRES_URL, _drop_schema, _postgres_schema_url
from tests.integration.test_demo_process import INCIDENT
from tests.killers import Killer
from tests.open_case import deployed_service, open_demo_case

pytestmark = pytest.mark.postgres
PASSWORD = "lost connections 1"


@pytest.fixture
def world():
    if not POSTGRES_URL:
        pytest.skip("REVIEWFLOW_TEST_POSTGRES_URL is not set")
    schema, name = "t_" + uuid.uuid4().hex[:12], "rf_" + uuid.uuid4().hex[:12]
    url = _postgres_schema_url(POSTGRES_URL, schema) + f"&application_name={name}"
    service = deployed_service(url, "test-only-secret-key-for-lost-connections")
    service.users.add("bina", ["Business Unit"], password=PASSWORD)
    service.users.add("mo", ["manager"])
    tokens = {who: service.users.create_token(who) for who in ("bina", "mo")}
    yield {
        "service": service,
        "tokens": tokens,
        **open_demo_case(service, tokens["bina"]),
        "application_name": name,
    }
    service.db.dispose()
    _drop_schema(POSTGRES_URL, schema)


def api(world, method, path, who="mo", **kwargs):
    return (
        world["app"]
        .test_client()
        .open(
            f"/api/v1{path}",
            method=method,
            headers={"Authorization": f"Bearer {world['tokens'][who]}"},
            **kwargs,
        )
    )


def task(world) -> HumanTask:
    with world["service"].db.reading() as session:
        return session.get(HumanTask, world["task"])


def complete_killing_at(world, statement: str):
    """Complete the demo case's task through the API, its connection killed once at ``statement``."""
    killer = Killer(world["service"], statement)
    try:
        response = api(world, "POST", f"/tasks/{world['task']}/complete", who="bina", json={"data": INCIDENT})
    finally:
        killer.remove()
    assert killer.killed == 1
    return response


def assignee(world):
    return task(world).assignee


def test_a_read_whose_connection_is_killed_is_tried_again_and_answers(world):
    killer = Killer(world["service"], r"^SELECT .*\bFROM instance\b")
    try:
        response = api(world, "GET", f"/instances/{world['case']}")
    finally:
        killer.remove()
    assert killer.killed == 1
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["id"] == world["case"]


def test_a_read_that_loses_its_connection_twice_answers_503(world):
    killer = Killer(world["service"], r"^SELECT .*\bFROM instance\b", times=2)
    try:
        response = api(world, "GET", f"/instances/{world['case']}")
    finally:
        killer.remove()
    assert killer.killed == 2
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "unavailable"


def test_a_command_whose_connection_is_killed_answers_503_keeps_nothing_and_can_be_sent_again(world):
    killer = Killer(world["service"], r"^UPDATE human_task\b")
    try:
        response = api(world, "POST", f"/tasks/{world['task']}/claim", who="bina")
    finally:
        killer.remove()
    assert killer.killed == 1
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert error["code"] == "unavailable" and "Try again" in error["message"]
    assert assignee(world) is None  # nothing of the command was kept
    again = api(world, "POST", f"/tasks/{world['task']}/claim", who="bina")
    assert again.status_code == 200 and assignee(world) == "bina"


# read first (by a process that did not save the case last): the step's first read (the task, its case
# locked) and its one statement of writes sent with COMMIT; decided on what the process knew: its writes sent
# with COMMIT (whether that COMMIT was kept is not known, as for any command)
@pytest.mark.parametrize(
    ("known", "statement"),
    [
        (False, r"^SELECT .*\bFROM human_task JOIN instance\b.*\bFOR UPDATE\b"),
        (False, r"^WITH write_0\b"),
        (True, r"^WITH write_0\b"),
    ],
)
def test_completing_a_task_whose_connection_is_killed_answers_503_keeps_nothing_and_can_be_sent_again(
    world, known, statement
):
    from engine.services import live_workflows

    if not known:
        live_workflows.clear()
    response = complete_killing_at(world, statement)
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "unavailable"
    assert task(world).state == "open"  # nothing of the command was kept
    again = api(world, "POST", f"/tasks/{world['task']}/complete", who="bina", json={"data": INCIDENT})
    assert again.status_code == 200, again.get_json()
    assert task(world).state == "completed"


# decided on what the process knew, by a step that reads before it writes: the case's lock, then what the
# step took as read checked, each before anything of the step was written
@pytest.mark.parametrize(
    "statement", [r"^SELECT 1\s+FROM instance\b.*\bFOR UPDATE\b", r"^SELECT reviewflow_expect\("]
)
def test_a_completion_whose_connection_is_killed_before_it_wrote_anything_is_decided_again_and_answers(
    world, statement
):
    response = complete_killing_at(world, statement)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert task(world).state == "completed"
    case = api(world, "GET", f"/instances/{world['case']}").get_json()
    assert [h["kind"] for h in case["history"]].count("task_completed") == 1


def test_connections_killed_between_requests_are_replaced(world):
    assert api(world, "GET", "/tasks", who="bina").status_code == 200
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (world["application_name"],),
        ).fetchone()[0]
    assert killed >= 1
    for _ in range(3):
        assert api(world, "GET", "/tasks", who="bina").status_code == 200


def _signed_in(world):
    client = world["app"].test_client()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)
    ).group(1)
    assert (
        client.post(
            "/sign-in", data={"username": "bina", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    return client


def test_pages_read_again_or_answer_503_with_a_clear_page(world):
    client = _signed_in(world)
    killer = Killer(world["service"], r"FROM human_task\b")
    try:
        page = client.get("/")
    finally:
        killer.remove()
    assert killer.killed == 1 and page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    killer = Killer(world["service"], r"^UPDATE human_task\b")
    try:
        response = client.post(f"/tasks/{world['task']}/claim", data={"csrf_token": token})
    finally:
        killer.remove()
    assert killer.killed == 1
    assert response.status_code == 503 and response.headers["Retry-After"]
    html = response.get_data(as_text=True)
    assert "govuk-heading-l" in html and "Try again in a few seconds" in html
    assert assignee(world) is None


@pytest.mark.parametrize("statement", [r"^SELECT .*\bFROM process_version\b", r"^UPDATE instance\b"])
def test_a_timer_whose_connection_is_killed_is_fired_by_the_next_sweep_and_the_case_stays_well(
    world, statement
):
    """The database failing is not the case's fault: the case is not put in the incident state."""
    from engine import clock
    from engine.services import immutable

    service = world["service"]
    assert (
        api(
            world, "POST", f"/tasks/{world['task']}/complete", who="bina", json={"data": INCIDENT}
        ).status_code
        == 200
    )
    clock.advance(days=30)  # the demo's reminder and deadline are due
    immutable.cached.cache_clear()  # the version is read again, so it can be killed
    killer = Killer(service, statement)
    try:
        assert world["case"] not in service.instances.fire_due_timers()
    finally:
        killer.remove()
    assert killer.killed == 1
    case = api(world, "GET", f"/instances/{world['case']}").get_json()
    assert case["status"] == "running" and case["failed_at"] is None, case["error"]
    assert service.instances.fire_due_timers() == [world["case"]]
