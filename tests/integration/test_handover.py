"""A process hands a case over to another: the new instance starts in the same transaction,
with the same case reference and the fields it was given, and both are linked in the audit log."""
from __future__ import annotations

from tests.layout import with_layout
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT

PARENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="handover_defs" targetNamespace="t">
  <bpmn:process id="handover_parent" isExecutable="true">
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
    service.deployments.deploy({"handover_parent.bpmn": with_layout(PARENT), "bench_timer.bpmn": timer}, PROCESS_OWNER)
    parent = service.instances.start("handover_parent", {"child_initials": "AB", "secret": "x"}, BUSINESS_UNIT)
    rows = {i["process_id"]: i for i in service.queries.list_instances(MANAGER)}
    child = service.queries.get_instance(rows["bench_timer"]["id"], MANAGER)
    assert child["business_key"] == parent["business_key"]
    assert {k: child["data"].get(k) for k in ("child_initials", "converted", "secret")} == \
        {"child_initials": "AB", "converted": True, "secret": None}
    history = service.queries.get_instance(parent["id"], MANAGER)["history"]
    assert [h["detail"]["instance_id"] for h in history if h["kind"] == "handed_over"] == [child["id"]]
    assert service.queries.get_instance(parent["id"], MANAGER)["status"] == "completed"
