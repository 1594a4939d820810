"""A process hands a case over to another: the new instance starts in the same transaction,
with the same case reference and the fields it was given, and both are linked in the audit log."""

from __future__ import annotations

from tests.bpmn_parts import end_event, flows_and_closing, opening, start_roles
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT
from tests.layout import with_layout

PARENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="handover_defs"
  targetNamespace="t"> <bpmn:process id="handover_parent" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startRoles" value="Business Unit"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="hp_start"><bpmn:outgoing>hp_f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="hand_over" name="Hand over">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="start_process" resultVariable="handover">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="process_id" type="str" value="'bench_timer'"/>
            <spiffworkflow:parameter id="carry" type="list" value="['child_initials']"/>
            <spiffworkflow:parameter id="data" type="dict" value="{'converted': True}"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>hp_f1</bpmn:incoming><bpmn:outgoing>hp_f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="hp_end"><bpmn:incoming>hp_f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="hp_f1" sourceRef="hp_start" targetRef="hand_over"/>
    <bpmn:sequenceFlow id="hp_f2" sourceRef="hand_over" targetRef="hp_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_hand_over_starts_the_next_process_for_the_same_case(service):
    timer = (ROOT / "tests" / "bench" / "bench_timer.bpmn").read_bytes()
    service.deployments.deploy(
        {"handover_parent.bpmn": with_layout(PARENT), "bench_timer.bpmn": timer}, PROCESS_OWNER
    )
    parent = service.instances.start(
        "handover_parent", {"child_initials": "AB", "secret": "x"}, BUSINESS_UNIT
    )
    rows = {i["process_id"]: i for i in service.queries.list_instances(MANAGER)}
    child = service.queries.get_instance(rows["bench_timer"]["id"], MANAGER)
    assert child["business_key"] == parent["business_key"]
    assert {k: child["data"].get(k) for k in ("child_initials", "converted", "secret")} == {
        "child_initials": "AB",
        "converted": True,
        "secret": None,
    }
    history = service.queries.get_instance(parent["id"], MANAGER)["history"]
    assert [h["detail"]["instance_id"] for h in history if h["kind"] == "handed_over"] == [child["id"]]
    assert service.queries.get_instance(parent["id"], MANAGER)["status"] == "completed"


def test_a_hand_over_to_a_process_that_does_not_exist_is_refused_at_deploy(service):
    import pytest

    from engine.services.errors import Invalid

    with pytest.raises(Invalid) as exc:
        service.deployments.deploy({"handover_parent.bpmn": with_layout(PARENT)}, PROCESS_OWNER)
    assert [(p["element_id"], p["message"]) for p in exc.value.details] == [
        ("hand_over", "hands over to process 'bench_timer', which is not deployed and not in this deployment")
    ]


def test_field_gives_a_default_for_a_missing_value(service):
    from tests.conftest import MANAGER

    script = (
        opening("field_defaults", "f_defs")
        + start_roles("Business Unit")
        + """    <bpmn:startEvent id="f_start"><bpmn:outgoing>f_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="f_script"><bpmn:incoming>f_1</bpmn:incoming><bpmn:outgoing>f_2</bpmn:outgoing>
      <bpmn:script>given = field("present", "x")
missing = field("absent", "fallback")</bpmn:script></bpmn:scriptTask>
"""
        + end_event("f_end", "f_2")
        + flows_and_closing(("f_1", "f_start", "f_script"), ("f_2", "f_script", "f_end"))
    ).encode()
    service.deployments.deploy({"field_defaults.bpmn": with_layout(script)}, PROCESS_OWNER)
    started = service.instances.start("field_defaults", {"present": 7}, BUSINESS_UNIT)
    data = service.queries.get_instance(started["id"], MANAGER)["data"]
    assert (data["given"], data["missing"]) == (7, "fallback")
