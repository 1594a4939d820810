"""The OpenAPI document describes the API that runs: every route is in it with a unique operationId and a
tag, every schema it refers to exists, and a case driven through the API gets answers, successes and
refusals alike, that validate against what the document declares for that operation and status."""

from __future__ import annotations

import io
import re

import pytest

from engine.services import Reviewflow
from tests.api_contract import PREFIX, Contract
from tests.conftest import MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT
from tests.smtp import free_port
from web.app import create_app
from web.openapi import document

_PART = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def described_routes(app) -> set[tuple[str, str]]:
    """(method, path template) of every route registered under /api/v1, in the document's spelling: each
    address variable as ``{}``, and an ``any(a, b)`` part as one path per choice."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        paths = [""]
        for literal, part in re.findall(r"([^<]*)(<[^>]+>)?", rule.rule[len(PREFIX) :]):
            choices = ["{}"]
            match = _PART.fullmatch(part) if part else None
            if match and match.group(1) == "any":
                choices = [c.strip() for c in match.group(2).split(",")]
            paths = [p + literal + (c if part else "") for p in paths for c in choices]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.update((method, p) for p in paths)
    return out


def test_every_route_is_described_with_an_operation_id_and_a_tag(deployed):
    doc = document()
    routes = described_routes(create_app(deployed))
    described = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in doc["paths"].items()
        for method in operations
    }
    assert routes == described
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert all(ids) and len(set(ids)) == len(ids)
    tags = {t["name"] for t in doc["tags"]}
    assert all(op["tags"] and set(op["tags"]) <= tags for op in operations)
    for op in operations:
        assert any(code.startswith("2") for code in op["responses"])
        for answer in op["responses"].values():
            assert answer["content"]


def test_every_schema_reference_resolves():
    doc = document()
    schemas = doc["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(doc))
    assert found and all(r.startswith("#/components/schemas/") for r in found)
    assert {r.rsplit("/", 1)[1] for r in found} <= set(schemas)
    assert doc["paths"]["/processes/{process_id}/bpmn"]["get"]["responses"]["200"]["content"] == {
        "application/xml": {"schema": {"type": "string"}}
    }


@pytest.fixture
def world(database_url, tmp_path):
    """A deployment whose directory has no address for the Panel yet (so the demo case fails at its
    notification, for a retry) and whose mail server is down (so a notification gives up at once)."""
    recipients = tmp_path / "recipients.toml"
    recipients.write_text('[recipients]\nbusiness_unit = "bu@example.org"\n')
    service = Reviewflow(
        make_settings(
            database_url,
            REVIEWFLOW_RECIPIENTS_FILE=str(recipients),
            REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
            REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="1",
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    yield service, recipients
    service.db.dispose()


def documents(api, case_id: int, agency_task_id: str) -> None:
    """Documents through the API: an agency on its own request, a manager on the case, a disguised file."""
    pdf = b"%PDF-1.7\n%%EOF\n"

    def sent(content: bytes, name: str) -> dict:
        return {"data": {"file": (io.BytesIO(content), name)}, "content_type": "multipart/form-data"}

    step = f"/tasks/{agency_task_id}/documents"
    own = api("POST", step, who="amir", expect=201, **sent(pdf, "return.pdf"))
    api("POST", step, who="amir", expect=422, **sent(b"<html><script></script></html>", "return.pdf"))
    api("POST", step, who="amir", expect=400, data={}, content_type="multipart/form-data")
    assert [d["name"] for d in api("GET", step, who="amir")["step"]] == ["return.pdf"]
    on_case = api("POST", f"/instances/{case_id}/documents", who="mo", expect=201, **sent(pdf, "notes.pdf"))
    api("GET", f"/instances/{case_id}/documents", who="amir", expect=403)
    assert len(api("GET", f"/instances/{case_id}/documents", who="mo")["documents"]) == 2
    download = api("GET", f"/documents/{own['id']}", who="mo")
    assert download.data == pdf and download.headers["X-Content-Type-Options"] == "nosniff"
    api("GET", f"/documents/{on_case['id']}", who="amir", expect=403)


def test_a_case_through_the_api_answers_as_each_operation_declares(world):
    service, recipients = world
    client = create_app(service).test_client()
    tokens = {}
    for name, roles in (
        ("bina", ["Business Unit"]),
        ("amir", ["Contributing agency"]),
        ("mo", ["manager"]),
        ("olivia", ["process_owner"]),
        ("ada", ["admin"]),
    ):
        service.users.add(name, roles)
        tokens[name] = service.users.create_token(name)
    contract = Contract()

    def api(method, path, who="bina", expect=200, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        response = client.open(PREFIX + path, method=method, headers=headers, **kwargs)
        assert response.status_code == expect, (method, path, response.get_data(as_text=True)[:500])
        contract.check(method, path, response)
        return response.get_json() if response.mimetype == "application/json" else response

    api("GET", "/openapi.json", who=None)
    api("GET", "/processes", who=None, expect=401)
    assert "engine_demo" in {p["process_id"] for p in api("GET", "/processes")["processes"]}
    api("GET", "/processes/engine_demo/versions", who="olivia")
    api("GET", "/processes/nope/versions", who="olivia", expect=404)
    api("GET", "/processes/engine_demo/bpmn", who="olivia")
    api("GET", "/processes/engine_demo/bpmn?version=x", who="olivia", expect=400)
    api("GET", "/handlers", who="olivia")
    api("GET", "/handlers", expect=403)
    api("GET", "/forms", who="olivia")
    api("GET", "/deadlines", who="olivia")

    case = api("POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}}, expect=201)
    api("POST", "/processes/engine_demo/instances", json={"data": {}}, expect=422)
    api("POST", "/processes/engine_demo/instances", data="[", content_type="application/json", expect=400)
    [task] = api("GET", "/tasks")["tasks"]
    api("GET", f"/tasks/{task['id']}")
    api("GET", f"/tasks/{task['id']}", who="amir", expect=403)
    api("GET", "/tasks/no-such-task", expect=404)
    api("POST", f"/tasks/{task['id']}/claim")
    api("POST", f"/tasks/{task['id']}/unclaim")
    api("POST", f"/tasks/{task['id']}/reassign", who="mo", json={"username": "bina"})
    api("POST", f"/tasks/{task['id']}/reassign", who="mo", json={"username": "amir"}, expect=422)
    api("POST", f"/tasks/{task['id']}/claim", who="amir", expect=403)
    assert api("GET", "/tasks?mine=1")["tasks"][0]["assignee"] == "bina"
    api("POST", f"/tasks/{task['id']}/complete", json={"data": {**INCIDENT, "date_aware": "x"}}, expect=422)
    api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT})
    api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT}, expect=409)

    failed = api("GET", f"/instances/{case['id']}", who="mo")
    assert failed["status"] == "error" and failed["error"]  # no address for the Panel
    recipients.write_text('[recipients]\npanel = "panel@example.org"\n')
    api("POST", f"/instances/{case['id']}/retry", who="mo", json={"reason": "panel address added"})
    api("POST", f"/instances/{case['id']}/retry", who="mo", json={"reason": "again"}, expect=409)
    api("POST", f"/instances/{case['id']}/retry", json={"reason": "x"}, expect=403)
    assert service.outbox.deliver_due() == {"sent": 0, "failed": 1}  # the mail server is down: dead at once
    [dead] = api("GET", "/outbox", who="mo")["messages"]
    assert dead["status"] == "dead"
    api("GET", "/outbox?status=lost", who="mo", expect=400)
    api("POST", f"/outbox/{dead['id']}/requeue", who="mo", expect=403)  # a manager reads, never sends again
    api("POST", f"/outbox/{dead['id']}/requeue", who="ada")
    api("POST", f"/outbox/{dead['id']}/requeue", who="ada", expect=409)
    api("POST", "/outbox/99999/requeue", who="ada", expect=404)

    api("GET", "/instances", who="mo")
    api("GET", "/instances?limit=0", who="mo", expect=400)
    api("GET", "/instances/99999", who="mo", expect=404)
    api("GET", f"/instances/{case['id']}/diagram", who="mo")
    api("POST", f"/instances/{case['id']}/messages", who="mo", json={"name": "Panel response"}, expect=409)
    [agency_task] = api("GET", "/tasks", who="amir")["tasks"]
    documents(api, case["id"], agency_task["id"])
    chronology = [{"date": "2026-11-02", "event": "Seen by health visitor"}]
    api(
        "POST",
        f"/tasks/{agency_task['id']}/complete",
        who="amir",
        json={"data": {"agency": "Health", "chronology": chronology}},
    )
    view = api("GET", f"/instances/{case['id']}", who="mo")
    assert {d["status"] for d in view["deadlines"]} == {"met"} and view["task_history"]
    panel = {"name": "Panel response", "data": {"decision": "none"}}
    api("POST", f"/instances/{case['id']}/messages", who="mo", json=panel)
    api("GET", f"/instances/{case['id']}/chronology", who="mo")
    csv = api("GET", f"/instances/{case['id']}/chronology?format=csv", who="mo")
    assert csv.mimetype == "text/csv"

    second = api("POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}}, expect=201)
    api("POST", f"/instances/{second['id']}/suspend", who="mo", json={"reason": "checking"})
    api("POST", f"/instances/{second['id']}/resume", who="mo", json={"reason": "checked"})
    [task] = api("GET", "/tasks")["tasks"]
    api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT})
    [agency_task] = api("GET", "/tasks", who="amir")["tasks"]
    api(
        "POST",
        f"/tasks/{agency_task['id']}/complete",
        who="amir",
        json={"data": {"agency": "Police", "chronology": []}},
    )
    api("POST", "/messages", who="mo", json={**panel, "business_key": second["business_key"]})
    api("POST", "/messages", who="mo", json={**panel, "business_key": second["business_key"]}, expect=409)

    third = api("POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}}, expect=201)
    api("POST", f"/instances/{third['id']}/cancel", who="mo", json={"reason": "opened twice"})
    api("POST", f"/instances/{third['id']}/cancel", who="mo", json={"reason": ""}, expect=422)
    api("POST", f"/instances/{third['id']}/messages", who="mo", json={"name": "Panel response"}, expect=409)
    assert {i["status"] for i in api("GET", "/instances", who="mo")["instances"]} == {
        "completed",
        "cancelled",
    }

    review = {"data": {"date_aware": "2026-12-18"}}
    local = api("POST", "/processes/local_cspr/instances", json=review, expect=201)
    deadlines = api("GET", f"/instances/{local['id']}", who="mo")["deadlines"]
    assert {d["armed"] for d in deadlines} == {True, False}  # armed and planned ones alike
    assert any(d["starts_when"] for d in deadlines)  # and planned ones not dated yet

    inputs = {"child_died": True, "seriously_harmed": False, "abuse_or_neglect": "known"}
    api("POST", "/decisions/demo_triage/evaluate", json={"inputs": inputs})
    api("POST", "/decisions/demo_triage/evaluate", json={"inputs": {}}, expect=422)
    api("POST", "/decisions/nope/evaluate", json={"inputs": {}}, expect=404)

    demo = (ROOT / "processes" / "demo" / "engine_demo.bpmn").read_bytes()
    changed = demo.replace(b'name="Done"', b'name="Finished"')
    upload = {"files": [(io.BytesIO(changed), "engine_demo.bpmn")]}
    api("POST", "/deployments", who="olivia", data=upload, content_type="multipart/form-data", expect=201)
    broken = {"files": [(io.BytesIO(b"<definitions/>"), "engine_demo.bpmn")]}
    api("POST", "/deployments", who="olivia", data=broken, content_type="multipart/form-data", expect=422)
    api("GET", "/deployments", who="olivia")
    api("GET", "/deployments", expect=403)

    api("GET", "/calendar/working-days?from=2026-12-24&days=1")
    api("GET", "/calendar/working-days?from=24/12/2026&days=1", expect=422)
    api("PUT", "/calendar/overrides/2027-01-04", who="ada", json={"kind": "holiday", "note": "One-off"})
    api("PUT", "/calendar/overrides/2027-01-04", who="mo", json={"kind": "holiday"}, expect=403)
    assert api("GET", "/calendar/overrides")["overrides"][0]["day"] == "2027-01-04"
    api("PUT", "/calendar/overrides/2027-01-04", who="ada", json={"kind": "none", "note": ""})
    api("POST", "/users/bina/mfa/reset", who="ada")
    api("POST", "/users/nobody/mfa/reset", who="ada", expect=404)
    api("POST", "/users/bina/mfa/reset", who="mo", expect=403)

    operations = {op["operationId"] for ops in contract.doc["paths"].values() for op in ops.values()}
    answered = {op for op, statuses in contract.seen.items() if any(200 <= s < 300 for s in statuses)}
    assert operations == answered, sorted(operations - answered)
    assert service.queries.get_instance(case["id"], MANAGER)["status"] == "completed"
