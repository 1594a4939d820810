"""Give a hand-written test diagram a plain left-to-right layout, so that it passes the
deploy-time check that every diagram can be drawn."""

from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = {
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway")
TASKS = (
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "sendTask",
    "receiveTask",
)


def with_layout(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    diagram = etree.SubElement(root, f"{{{DI['bpmndi']}}}BPMNDiagram", id="test_diagram")
    for p, process in enumerate(root.findall(f"{{{BPMN}}}process")):
        plane = etree.SubElement(
            diagram, f"{{{DI['bpmndi']}}}BPMNPlane", id=f"test_plane_{p}", bpmnElement=process.get("id")
        )
        x, centres = 100, {}
        for el in process:
            tag = etree.QName(el).localname
            w, h = (
                (36, 36)
                if tag in EVENTS
                else (50, 50)
                if tag in GATEWAYS
                else (100, 80)
                if tag in TASKS
                else (0, 0)
            )
            if not w:
                continue
            y = 200 - h / 2
            shape = etree.SubElement(
                plane, f"{{{DI['bpmndi']}}}BPMNShape", id=f"{el.get('id')}_di", bpmnElement=el.get("id")
            )
            etree.SubElement(shape, f"{{{DI['dc']}}}Bounds", x=str(x), y=str(y), width=str(w), height=str(h))
            centres[el.get("id")] = (x, w)
            x += w + 60
        for el in process.iter(f"{{{BPMN}}}boundaryEvent"):
            hx, hw = centres[el.get("attachedToRef")]
            shape = etree.SubElement(
                plane, f"{{{DI['bpmndi']}}}BPMNShape", id=f"{el.get('id')}_di", bpmnElement=el.get("id")
            )
            etree.SubElement(
                shape, f"{{{DI['dc']}}}Bounds", x=str(hx + hw / 2 - 18), y="222", width="36", height="36"
            )
        for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
            edge = etree.SubElement(
                plane, f"{{{DI['bpmndi']}}}BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id")
            )
            for ref in ("sourceRef", "targetRef"):
                cx, cw = centres.get(flow.get(ref), (0, 0))
                etree.SubElement(edge, f"{{{DI['di']}}}waypoint", x=str(cx + cw / 2), y="200")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
