"""The deploy lint for every kind of file: uploaded file names are bare, ordinary names (``../evil.toml``
deploys nothing); forms refer to nothing outside themselves and carry no pattern that can backtrack
catastrophically; ids and names fit the columns they are stored in. And a catastrophic pattern deployed
before these checks costs a form at most a moment, never a thread."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, update

from engine.store.models import Deployment, ProcessVersion, RuleSetVersion
from tests.conftest import BUSINESS_UNIT, ROOT
from tests.integration.test_demo_process import INCIDENT
from web.app import create_app

EVIL_RULES = b'name = "EVIL"\ntitle = "Evil"\n'
DEMO = (ROOT / "processes" / "demo" / "engine_demo.bpmn").read_bytes()
FORM = json.loads((ROOT / "forms" / "demo_incident.json").read_text())


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Processes and forms deployed once (on SQLite: the lint runs before anything is stored)."""
    from engine import clock
    from engine.services import Reviewflow
    from tests.conftest import PROCESS_OWNER, make_settings

    clock.set_now("2026-12-21T09:00:00+00:00")
    path = tmp_path_factory.mktemp("lint") / "reviewflow.db"
    service = Reviewflow(make_settings(f"sqlite:///{path}"))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    service.db.dispose()
    clock.set_now(None)
    return path


@pytest.fixture
def deployed(template, tmp_path):
    from engine.services import Reviewflow
    from tests.conftest import make_settings

    shutil.copy(template, tmp_path / "reviewflow.db")
    service = Reviewflow(make_settings(f"sqlite:///{tmp_path / 'reviewflow.db'}"))
    yield service
    service.db.dispose()


@pytest.fixture
def owner(deployed):
    deployed.users.add("olivia", ["process_owner"])
    token = deployed.users.create_token("olivia")
    client = create_app(deployed).test_client()

    def upload(*files):
        return client.post(
            "/api/v1/deployments",
            headers={"Authorization": f"Bearer {token}"},
            data={"files": [(io.BytesIO(data), name) for name, data in files]},
            content_type="multipart/form-data",
        )

    return upload


def deployments(service) -> int:
    with service.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Deployment))


BAD_NAMES = [
    "../evil.toml",
    "..\\evil.toml",
    "rulesets/../evil.toml",
    "/etc/evil.toml",
    "C:\\temp\\evil.bpmn",
    "sub/dir.bpmn",
    "evil\x07.toml",
    "evil\u2028.json",
    "e" * 130 + ".bpmn",
    "evil.exe",
    ".hidden.json",
    "evil..json",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_an_upload_with_an_unsafe_name_is_refused_naming_the_file(deployed, owner, name):
    before = deployments(deployed)
    response = owner((name, EVIL_RULES if name.endswith(".toml") else b"{}"))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and "nothing was deployed" in error["message"]
    [problem] = error["details"]
    assert problem["file"] and problem["message"]
    assert "\x07" not in error["message"] and "\u2028" not in error["message"]
    assert deployments(deployed) == before
    with deployed.db.reading() as session:
        assert session.scalars(select(RuleSetVersion).where(RuleSetVersion.name == "EVIL")).first() is None


def test_ordinary_names_still_deploy(owner):
    changed = DEMO.replace(b'name="Done"', b'name="Finished"')
    assert owner(("engine_demo.bpmn", changed)).status_code == 201
    # a form with such a name deploys with the step that uses it (a form no step uses is refused)
    renamed = changed.replace(b'value="demo_panel_response.json"', b'value="Demo form (v2).json"')
    form = (ROOT / "forms" / "demo_panel_response.json").read_bytes()
    assert owner(("engine_demo.bpmn", renamed), ("Demo form (v2).json", form)).status_code == 201


def form_with(**extra) -> bytes:
    return json.dumps({**FORM, "properties": {**FORM["properties"], **extra}}).encode()


def form_problem(response) -> dict:
    """The problem the form has (the diagram using it then also says the form is missing)."""
    [problem] = [p for p in response.get_json()["error"]["details"] if p["file"] == "demo_incident.json"]
    return problem


REMOTE_REFS = [
    "http://evil.example/schema.json",
    "https://evil.example/schema.json#/x",
    "file:///etc/passwd",
    "other_form.json",
    "//evil.example/x",
]


@pytest.mark.parametrize("ref", REMOTE_REFS)
def test_a_form_referring_outside_itself_is_refused(owner, ref):
    response = owner(("demo_incident.json", form_with(extra={"$ref": ref})))
    assert response.status_code == 422, response.get_json()
    problem = form_problem(response)
    assert problem["element_id"] == "properties/extra/$ref"
    assert "refers outside the form" in problem["message"]


def test_a_local_reference_is_fine(owner):
    schema = {**json.loads(form_with(extra={"$ref": "#/$defs/code"})), "$defs": {"code": {"type": "string"}}}
    assert owner(("demo_incident.json", json.dumps(schema).encode())).status_code == 201


CATASTROPHIC = [
    r"^(a+)+$",
    r"^(a|aa)+$",
    r"^(a|ab)*c$",
    r"^(\w+\s?)*$",
    r"(.*a){20}",
    r"^([a-z]+)*[0-9]$",
    r"(x+x+)+y",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_a_pattern_that_can_backtrack_catastrophically_is_refused(owner, pattern):
    response = owner(("demo_incident.json", form_with(code={"type": "string", "pattern": pattern})))
    assert response.status_code == 422, response.get_json()
    problem = form_problem(response)
    assert problem["element_id"] == "properties/code/pattern" and "exponential time" in problem["message"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\s*\S[\s\S]*$",
        r"^[A-Z]{2}\d{6}$",
        r"^([A-Z][a-z]*)( [A-Z][a-z]*)*$",
        r"^\w+(-\w+)*$",
        r"(a++)+$",
        r"^(yes|no)$",
    ],
)
def test_ordinary_patterns_deploy(owner, pattern):
    response = owner(("demo_incident.json", form_with(code={"type": "string", "pattern": pattern})))
    assert response.status_code == 201, response.get_json()


TOO_LONG = [
    ("a process id of 121 characters", b'id="engine_demo"', b'id="' + b"p" * 121 + b'"'),
    ("a step name of 256 characters", b'name="Record the incident"', b'name="' + b"n" * 256 + b'"'),
    ("a process name of 256 characters", b'name="Engine demonstration"', b'name="' + b"n" * 256 + b'"'),
    ("a lane name of 121 characters", b'name="Contributing agency"', b'name="' + b"r" * 121 + b'"'),
    ("an element id of 121 characters", b'"record_incident"', b'"' + b"r" * 121 + b'"'),
]


@pytest.mark.parametrize("what, old, new", TOO_LONG, ids=[t[0] for t in TOO_LONG])
def test_ids_and_names_longer_than_their_columns_are_refused(deployed, owner, what, old, new):
    assert old in DEMO
    response = owner(("engine_demo.bpmn", DEMO.replace(old, new)))
    assert response.status_code == 422, response.get_json()
    messages = [p["message"] for p in response.get_json()["error"]["details"]]
    assert any("the limit is" in m for m in messages), messages
    with deployed.db.reading() as session:
        assert (
            session.scalar(
                select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == "engine_demo")
            )
            == 1
        )


def test_reviewflow_check_prints_each_problem_as_file_path_message(sqlite_url, tmp_path):
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    (forms / "demo_incident.json").write_bytes(
        form_with(
            code={"type": "string", "pattern": "^(a+)+$"}, extra={"$ref": "https://evil.example/x.json"}
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "web.cli", "check", str(ROOT / "processes"), str(forms)],
        cwd=ROOT,
        env={**os.environ, "REVIEWFLOW_DATABASE_URL": sqlite_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("demo_incident.json: properties/code/pattern: a quantifier inside a quantifier")
        for line in lines
    ), lines
    assert any(
        line.startswith(
            "demo_incident.json: properties/extra/$ref: 'https://evil.example/x.json' refers outside"
        )
        for line in lines
    ), lines


def test_a_catastrophic_pattern_deployed_before_the_check_costs_a_moment_not_a_thread(deployed):
    """Forms kept by versions deployed before the lint existed are matched under a time limit."""
    with deployed.db.transaction() as session:
        version = session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_id == "engine_demo")
        ).one()
        forms = json.loads(json.dumps(version.forms))
        forms["demo_incident.json"]["properties"]["summary"]["pattern"] = "^(a|a)*$"
        session.execute(update(ProcessVersion).where(ProcessVersion.id == version.id).values(forms=forms))
    deployed.users.add("bina", ["Business Unit"])
    token = deployed.users.create_token("bina")
    client = create_app(deployed).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post(
            "/api/v1/processes/engine_demo/instances", headers=headers, json={"data": {"regime": "WT2018"}}
        ).status_code
        == 201
    )
    [task] = deployed.tasks.for_user(BUSINESS_UNIT)
    began = time.monotonic()
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=headers,
        json={"data": {**INCIDENT, "summary": "a" * 40 + "!"}},
    )
    took = time.monotonic() - began
    assert response.status_code == 422, response.get_json()
    assert [d["path"] for d in response.get_json()["error"]["details"]] == ["summary"]
    assert took < 2.0, took
    ok = client.post(
        f"/api/v1/tasks/{task['id']}/complete", headers=headers, json={"data": {**INCIDENT, "summary": "aaa"}}
    )
    assert ok.status_code == 200, ok.get_json()


@pytest.mark.parametrize(
    "message_template, says",
    [
        ("new_task", "sent by reviewflow itself"),
        ("no_such_template", "no message template 'no_such_template'"),
    ],
)
def test_a_notification_names_a_template_a_diagram_may_send(owner, message_template, says):
    """A step may send the partnership's templates, not one the product sends itself (new-task e-mails)."""
    from tests import bpmn_parts as parts

    diagram = (
        parts.opening("template_check", "template_check_defs")
        + '    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
        + parts.service_task(
            "tell",
            "Tell",
            "f1",
            "f2",
            "send_notification",
            "told",
            to=("str", "'panel@example.org'"),
            template=("str", f"'{message_template}'"),
        )
        + parts.end_event("done", "f2")
        + parts.flows_and_closing(("f1", "begin", "tell"), ("f2", "tell", "done"))
    )
    response = owner(("template_check.bpmn", diagram.encode()))
    assert response.status_code == 422, response.get_json()
    problems = response.get_json()["error"]["details"]
    assert any(p["element_id"] == "tell" and says in p["message"] for p in problems), problems
