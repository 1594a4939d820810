"""Deploying: versions by content, all-or-nothing, and a clear error for every kind of bad file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.services.errors import Forbidden, Invalid, TooLarge
from engine.store.models import ProcessVersion
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT

DEMO = ROOT / "processes" / "demo" / "engine_demo.bpmn"


def versions(service) -> int:
    with service.db.reading() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion))


def problems(exc) -> list[tuple[str, str, str]]:
    return [(p["file"], p["element_id"], p["message"]) for p in exc.value.details]


def refused(deployed, files: dict[str, bytes]) -> list[tuple[str, str, str]]:
    """(file, element, message) of each problem a process owner's deployment of ``files`` is refused for."""
    with pytest.raises(Invalid) as exc:
        deployed.deployments.deploy(files, PROCESS_OWNER)
    return problems(exc)


def test_redeploying_the_same_files_changes_nothing(deployed):
    n = versions(deployed)
    result = deployed.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    assert result["processes"] == [] and versions(deployed) == n


def test_changed_diagram_gets_a_new_version_and_running_instances_keep_theirs(deployed):
    from tests.integration.test_demo_process import start_demo

    old = start_demo(deployed)
    changed = DEMO.read_bytes().replace(b'name="Record the incident"', b'name="Record the serious incident"')
    form_named = b'<spiffworkflow:property name="formJsonSchemaFilename" value="demo_incident.json"/>'
    why = b'<spiffworkflow:property name="formTitleDiffers" value="renamed for this test"/>'
    changed = changed.replace(form_named, form_named + why, 1)  # a step renamed away from its form says why
    result = deployed.deployments.deploy({"engine_demo.bpmn": changed}, PROCESS_OWNER)
    assert [(p["process_id"], p["version"]) for p in result["processes"]] == [("engine_demo", 2)]
    new = start_demo(deployed)
    names = {t["instance_id"]: t["name"] for t in deployed.tasks.for_user(BUSINESS_UNIT)}
    assert names == {old["id"]: "Record the incident", new["id"]: "Record the serious incident"}
    assert (old["version"], new["version"]) == (1, 2)


def test_a_changed_form_versions_the_processes_using_it(deployed):
    form = (
        (ROOT / "forms" / "demo_incident.json").read_text().replace('"maxLength": 2000', '"maxLength": 1000')
    )
    result = deployed.deployments.deploy({"demo_incident.json": form.encode()}, PROCESS_OWNER)
    assert [p["process_id"] for p in result["processes"]] == ["engine_demo"]


@pytest.mark.parametrize(
    "name,content,expected",
    [
        (
            "bad.bpmn",
            b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>",
            "malformed XML",
        ),
        (
            "xxe.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
            "DOCTYPE and ENTITY declarations are not allowed",
        ),
        (
            "laughs.bpmn",
            b'<?xml version="1.0"?>'
            b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
            "DOCTYPE and ENTITY declarations are not allowed",
        ),
        ("notes.txt", b"hello", "not a BPMN, DMN, form"),
        ("broken.json", b'{"type": "object", ', "not valid JSON"),
        (
            "wrong.json",
            b'{"type": "object", "properties": {"a": {"type": "strin"}}}',
            "not a valid JSON Schema",
        ),
    ],
)
def test_bad_files_are_refused_and_nothing_is_deployed(deployed, name, content, expected):
    n = versions(deployed)
    with pytest.raises(Invalid) as exc:
        deployed.deployments.deploy(
            {name: content, "engine_demo.bpmn": DEMO.read_bytes().replace(b"Done", b"Finished")},
            PROCESS_OWNER,
        )
    assert any(f == name and expected in m for f, _, m in problems(exc)), problems(exc)
    assert versions(deployed) == n


def test_oversize_file_is_refused(deployed):
    with pytest.raises(TooLarge):
        deployed.deployments.deploy({"big.bpmn": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"}, PROCESS_OWNER)


def _edit(old: bytes, new: bytes) -> dict:
    content = DEMO.read_bytes()
    assert old in content
    return {"engine_demo.bpmn": content.replace(old, new)}


@pytest.mark.parametrize(
    "old,new,element,expected",
    [
        (
            b'serviceTaskOperator id="send_notification" resultVariable="panel_notice"',
            b'serviceTaskOperator id="send_fax" resultVariable="panel_notice"',
            "notify_panel",
            "no handler named 'send_fax'",
        ),
        (
            b'<spiffworkflow:parameter id="template" type="str" value="\'demo_panel_notice\'"/>',
            b'<spiffworkflow:parameter id="templet" type="str" value="\'demo_panel_notice\'"/>',
            "notify_panel",
            "takes no parameter 'templet'",
        ),
        (
            b'value="demo_incident.json"',
            b'value="missing_form.json"',
            "record_incident",
            "form 'missing_form.json' does not exist",
        ),
        (
            b"<bpmn:conditionExpression>notify == True</bpmn:conditionExpression>",
            b"<bpmn:conditionExpression>notify ==</bpmn:conditionExpression>",
            "flow_notice",
            "condition does not compile",
        ),
        (
            b"<bpmn:conditionExpression>notify == True</bpmn:conditionExpression>",
            b"<bpmn:conditionExpression>().__class__.__base__</bpmn:conditionExpression>",
            "flow_notice",
            'starts with "_"',
        ),
        (
            b'reminder("R1", 2)',
            b'reminder("R99", 2)',
            "agency_reminder",
            "deadline key 'R99' is in no rule set",
        ),
        (
            b'calledElement="engine_demo_summary"',
            b'calledElement="nowhere"',
            "summarise",
            "calls process 'nowhere'",
        ),
        (
            b"<spiffworkflow:calledDecisionId>demo_triage<",
            b"<spiffworkflow:calledDecisionId>no_such_table<",
            "assess_incident",
            "decision 'no_such_table' does not exist",
        ),
        (b'id="demo_end" name="Done"', b'id="End" name="Done"', "End", "reserved"),
    ],
)
def test_lint_names_file_element_and_problem(deployed, old, new, element, expected):
    n = versions(deployed)
    with pytest.raises(Invalid) as exc:
        deployed.deployments.deploy(_edit(old, new), PROCESS_OWNER)
    found = problems(exc)
    assert any(f == "engine_demo.bpmn" and e == element and expected in m for f, e, m in found), found
    assert versions(deployed) == n


def test_scripts_may_not_import(deployed):
    sub = (ROOT / "processes" / "demo" / "engine_demo_summary.bpmn").read_bytes()
    bad = sub.replace(b"<bpmn:script>answer", b"<bpmn:script>import os\nanswer")
    assert (
        "engine_demo_summary.bpmn",
        "compose_summary",
        "script does not compile: line 1: imports are not allowed",
    ) in refused(deployed, {"engine_demo_summary.bpmn": bad})


def test_only_process_owners_deploy(deployed):
    with pytest.raises(Forbidden):
        deployed.deployments.deploy({"engine_demo.bpmn": DEMO.read_bytes()}, MANAGER)


def test_diagrams_must_be_drawable(deployed):
    no_layout = DEMO.read_bytes().split(b"<bpmndi:BPMNDiagram")[0] + b"</bpmn:definitions>\n"
    assert (
        "engine_demo.bpmn",
        "",
        "the file has no diagram layout (BPMNDI), so it cannot be drawn",
    ) in refused(deployed, {"engine_demo.bpmn": no_layout})
    overlapping = DEMO.read_bytes().replace(b'<dc:Bounds x="410" y="120"', b'<dc:Bounds x="300" y="130"')
    found = refused(deployed, {"engine_demo.bpmn": overlapping})
    assert any(e in ("assess_incident", "record_incident") and "overlaps" in m for _, e, m in found)
    missing = DEMO.read_bytes().replace(b'bpmnElement="summarise"', b'bpmnElement="nothing"')
    found = refused(deployed, {"engine_demo.bpmn": missing})
    assert ("engine_demo.bpmn", "summarise", "has no shape in the diagram layout") in found
