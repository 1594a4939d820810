"""Hostile input never gives a 500: NUL bytes, control characters, lone surrogates, NaN and infinities,
JSON nested thousands deep, text longer than its column and dates at the ends of the calendar are
refused with 400 or 422 saying where, by the API and by the pages, and nothing of them is kept.

One deployed database per engine (SQLite, and PostgreSQL where configured) serves every case of the
table; each case counts the rows of every table before and after its request."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.store.models import Base
from tests.conftest import POSTGRES_URL, _drop_schema, _postgres_schema_url
from tests.open_case import deployed_service, open_demo_case

PASSWORD = "hostile input 1"
USERS = {
    "bina": ["Business Unit"],
    "amir": ["Contributing agency"],
    "mo": ["manager"],
    "olivia": ["process_owner"],
    "ada": ["admin"],
    "rita": ["Referring agency"],
}
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory):
    """A deployed database with one open task, API tokens and passwords for every role."""
    clock.set_now("2026-12-21T09:00:00+00:00")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'reviewflow.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("REVIEWFLOW_TEST_POSTGRES_URL is not set")
        schema = "t_" + uuid.uuid4().hex[:12]
        url = _postgres_schema_url(POSTGRES_URL, schema)
    service = deployed_service(url, "test-only-secret-key-for-hostile-inputs")
    tokens = {}
    for name, roles in USERS.items():
        service.users.add(name, roles, password=PASSWORD)
        tokens[name] = service.users.create_token(name)
    world = {"service": service, "tokens": tokens, **open_demo_case(service, tokens["bina"])}
    clock.set_now(None)
    yield world
    service.db.dispose()
    if schema:
        _drop_schema(POSTGRES_URL, schema)


def row_counts(service) -> dict[str, int]:
    with service.db.reading() as session:
        return {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def raw(text: str) -> dict:
    """A body sent exactly as written (the JSON encoder would refuse NaN or escape a surrogate pair)."""
    return {"data": text, "content_type": "application/json"}


# (name, who, method, path, request keyword arguments); {task} and {case} are filled in
API = [
    (
        "NUL in a case reference",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "case_reference": "A\x00B"}}},
    ),
    (
        "NUL in a regime",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT\x00"}}},
    ),
    (
        "NUL in free text",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "notes": "a\x00b"}}},
    ),
    (
        "a bell in free text",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "notes": "ring\x07"}}},
    ),
    (
        "NUL in a field name",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "no\x00tes": "a"}}},
    ),
    (
        "a lone surrogate in a case reference",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "case_reference": "\\ud800"}}'),
    ),
    (
        "a lone surrogate in free text",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "notes": "x\\udfffy"}}'),
    ),
    (
        "NaN",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": NaN}}'),
    ),
    (
        "1e400",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": 1e400}}'),
    ),
    (
        "Infinity",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": Infinity}}'),
    ),
    (
        "-Infinity",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": [-Infinity]}}'),
    ),
    (
        "JSON nested 5,000 deep",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": ' + DEEP + "}}"),
    ),
    (
        "JSON nested 40 deep",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        raw('{"data": {"regime": "WT2018", "x": ' + "[" * 40 + "]" * 40 + "}}"),
    ),
    (
        "a reference of 121 characters",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "case_reference": "R" * 121}}},
    ),
    (
        "a line break in a reference",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "WT2018", "case_reference": "A\r\nBcc: x@example.org"}}},
    ),
    (
        "a regime of 33 characters",
        "bina",
        "POST",
        "/processes/engine_demo/instances",
        {"json": {"data": {"regime": "W" * 33}}},
    ),
    (
        "NUL in a message name",
        "mo",
        "POST",
        "/messages",
        {"json": {"name": "Panel\x00", "business_key": "x", "data": {}}},
    ),
    (
        "NUL in a business key",
        "mo",
        "POST",
        "/messages",
        {"json": {"name": "Panel", "business_key": "x\x00", "data": {}}},
    ),
    (
        "a message name of 256 characters",
        "mo",
        "POST",
        "/messages",
        {"json": {"name": "P" * 256, "business_key": "x", "data": {}}},
    ),
    (
        "a business key of 121 characters",
        "mo",
        "POST",
        "/messages",
        {"json": {"name": "P", "business_key": "x" * 121, "data": {}}},
    ),
    (
        "NUL in a message name to a case",
        "mo",
        "POST",
        "/instances/{case}/messages",
        {"json": {"name": "P\x00", "data": {}}},
    ),
    (
        "NUL in message data",
        "mo",
        "POST",
        "/instances/{case}/messages",
        {"json": {"name": "P", "data": {"a": "\x00"}}},
    ),
    ("NUL in a task id", "bina", "GET", "/tasks/%00", {}),
    ("NUL in a task id to claim", "bina", "POST", "/tasks/%00/claim", {}),
    ("NUL in a task id to complete", "bina", "POST", "/tasks/%00/complete", {"json": {"data": {}}}),
    ("NUL in a process id", "olivia", "GET", "/processes/%00/versions", {}),
    ("NUL in a process id for its diagram", "olivia", "GET", "/processes/%00/bpmn", {}),
    ("NUL in a process id to start", "bina", "POST", "/processes/%00/instances", {"json": {"data": {}}}),
    ("NUL in a decision id", "bina", "POST", "/decisions/%00/evaluate", {"json": {"inputs": {}}}),
    (
        "NUL in decision inputs",
        "bina",
        "POST",
        "/decisions/demo_triage/evaluate",
        {"json": {"inputs": {"child_died": True, "seriously_harmed": False, "abuse_or_neglect": "\x00"}}},
    ),
    ("NUL in a process filter", "mo", "GET", "/instances?process_id=%00", {}),
    ("NUL in a status filter", "mo", "GET", "/instances?status=%00", {}),
    ("NUL in an outbox filter", "mo", "GET", "/outbox?status=%00", {}),
    ("a filter of 5,000 characters", "mo", "GET", "/instances?process_id=" + "p" * 5000, {}),
    (
        "NUL in a calendar note",
        "ada",
        "PUT",
        "/calendar/overrides/2026-12-29",
        {"json": {"kind": "holiday", "note": "a\x00"}},
    ),
    (
        "a surrogate in a calendar note",
        "ada",
        "PUT",
        "/calendar/overrides/2026-12-29",
        raw('{"kind": "holiday", "note": "\\ud83d"}'),
    ),
    (
        "NUL in a calendar day",
        "ada",
        "PUT",
        "/calendar/overrides/%00",
        {"json": {"kind": "holiday", "note": "a"}},
    ),
    ("working days from 9999-12-31", "bina", "GET", "/calendar/working-days?from=9999-12-31&days=5", {}),
    (
        "working days back from 0001-01-01",
        "bina",
        "GET",
        "/calendar/working-days?from=0001-01-01&days=-5",
        {},
    ),
    ("NUL in working days", "bina", "GET", "/calendar/working-days?from=2026-12-21%00&days=5", {}),
    ("NUL in a reason", "mo", "POST", "/instances/{case}/suspend", {"json": {"reason": "x\x00"}}),
    (
        "NUL in a user name to reassign to",
        "mo",
        "POST",
        "/tasks/{task}/reassign",
        {"json": {"username": "bina\x00"}},
    ),
    (
        "NUL in task answers",
        "bina",
        "POST",
        "/tasks/{task}/complete",
        {
            "json": {
                "data": {
                    "date_aware": "2026-12-21",
                    "child_died": False,
                    "seriously_harmed": True,
                    "abuse_or_neglect": "suspected",
                    "summary": "\x00",
                }
            }
        },
    ),
    (
        "a date in year 9999 in task answers",
        "bina",
        "POST",
        "/tasks/{task}/complete",
        {
            "json": {
                "data": {
                    "date_aware": "9999-12-31",
                    "child_died": False,
                    "seriously_harmed": True,
                    "abuse_or_neglect": "suspected",
                    "summary": "x",
                }
            }
        },
    ),
    (
        "a date in year 1 in task answers",
        "bina",
        "POST",
        "/tasks/{task}/complete",
        {
            "json": {
                "data": {
                    "date_aware": "0001-01-01",
                    "child_died": False,
                    "seriously_harmed": True,
                    "abuse_or_neglect": "suspected",
                    "summary": "x",
                }
            }
        },
    ),
    ("NaN in task answers", "bina", "POST", "/tasks/{task}/complete", raw('{"data": {"summary": NaN}}')),
    (
        "task answers nested 5,000 deep",
        "bina",
        "POST",
        "/tasks/{task}/complete",
        raw('{"data": {"summary": ' + DEEP + "}}"),
    ),
    ("not UTF-8", "bina", "POST", "/tasks/{task}/complete", raw(b'{"data": {"summary": "\xff"}}')),
]


@pytest.mark.parametrize("name, who, method, path, kwargs", API, ids=[c[0] for c in API])
def test_the_api_refuses_hostile_input_and_keeps_nothing(world, name, who, method, path, kwargs):
    service, client = world["service"], world["app"].test_client()
    before = row_counts(service)
    response = client.open(
        "/api/v1" + path.format(task=world["task"], case=world["case"]),
        method=method,
        headers={"Authorization": f"Bearer {world['tokens'][who]}"},
        **kwargs,
    )
    assert response.status_code in (400, 422), (
        name,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    error = response.get_json()["error"]
    assert error["code"] in ("bad_request", "validation_failed") and error["message"]
    assert error["details"] and all(d["path"] and d["message"] for d in error["details"]), error
    assert row_counts(service) == before


START = "/api/v1/processes/engine_demo/instances"


def as_bina(world):
    """A client of the API and the headers that send the Business Unit's token."""
    return world["app"].test_client(), {"Authorization": f"Bearer {world['tokens']['bina']}"}


def test_refusals_say_where(world):
    client, headers = as_bina(world)
    r = client.post(
        START,
        headers=headers,
        json={"data": {"regime": "WT2018", "children": [{"name": "A\x00"}]}},
    )
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["path"] == "data/children/0/name"
    r = client.post(
        START,
        headers=headers,
        json={"data": {"regime": "WT2018", "case_reference": "R" * 121}},
    )
    assert r.get_json()["error"]["details"] == [
        {"path": "case_reference", "message": "is 121 characters long; the limit is 120"}
    ]
    r = client.get("/api/v1/calendar/working-days?from=9999-12-31&days=5", headers=headers)
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["path"] == "days"
    r = client.post(START, headers=headers, **raw('{"data": {"x": NaN}}'))
    assert "NaN" in r.get_json()["error"]["message"]


def test_ordinary_input_still_passes(world):
    """Tabs, line breaks, accents, emoji and nesting a form really uses are all accepted."""
    client, headers = as_bina(world)
    r = client.post(
        START,
        headers=headers,
        json={
            "data": {
                "regime": "WT2018",
                "notes": "Line one\r\nline two\ttabbed — Zoë 😀",
                "rows": [[{"a": [1.5, -2, None]}]],
            }
        },
    )
    assert r.status_code == 201, r.get_json()
    assert (
        client.get("/api/v1/calendar/working-days?from=2026-12-24&days=1", headers=headers).status_code == 200
    )


# (name, who signs in, method, path, form fields); pages answer with the GOV.UK error page
PAGES = [
    ("NUL in a sign-in name", None, "POST", "/sign-in", {"username": "bi\x00na", "password": PASSWORD}),
    ("a bell in a sign-in password", None, "POST", "/sign-in", {"username": "bina", "password": "x\x07"}),
    ("NUL in a task address", "bina", "GET", "/tasks/%00", None),
    ("NUL in a task address to claim", "bina", "POST", "/tasks/%00/claim", {}),
    ("NUL in a task list filter", "bina", "GET", "/?process=%00", None),
    (
        "NUL in an answer to a task",
        "bina",
        "POST",
        "/tasks/{task}",
        {"summary": "a\x00b", "action": "submit"},
    ),
    ("NUL in a new case", "rita", "POST", "/cases/new", {"presenting_issues": "a\x00b", "action": "submit"}),
    ("NUL in a case list filter", "mo", "GET", "/cases?process=%00", None),
    ("NUL in a stage filter", "mo", "GET", "/cases?stage=%00&status=%00", None),
    ("NUL in a CSV export filter", "mo", "GET", "/cases.csv?process=%00", None),
    ("NUL in a dashboard date", "mo", "GET", "/dashboard?from=%00", None),
    ("NUL in a reason", "mo", "POST", "/cases/{case}/suspend", {"reason": "x\x00"}),
    ("NUL in a modeller address", "olivia", "GET", "/modeller/%00", None),
    ("NUL in a calendar feed address", None, "GET", "/calendar/%00.ics", None),
]


def _signed_in(app, who):
    client = app.test_client()
    if who:
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/sign-in", data={"username": who, "password": PASSWORD, "csrf_token": token})
    return client


@pytest.mark.parametrize("name, who, method, path, form", PAGES, ids=[c[0] for c in PAGES])
def test_the_pages_refuse_hostile_input_and_keep_nothing(world, name, who, method, path, form):
    service = world["service"]
    client = _signed_in(world["app"], who)
    before = row_counts(service)
    if form is not None:
        html = client.get("/sign-in" if who is None else "/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        form = {**form, "csrf_token": token.group(1) if token else ""}
    response = client.open(path.format(task=world["task"], case=world["case"]), method=method, data=form)
    assert response.status_code in (400, 422), (
        name,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert "govuk-heading-l" in response.get_data(as_text=True)
    assert row_counts(service) == before
