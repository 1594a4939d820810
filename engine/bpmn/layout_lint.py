"""The diagram must be drawable: every step has a shape, and no two shapes sit on each other (a shape inside
a subprocess's is where it belongs; a boundary event sits on its task's edge)."""

from __future__ import annotations

from engine.bpmn.bpmn_xml import BPMN_NS
from engine.bpmn.problems import Problem

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
FLOW_NODES = (
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
    "transaction",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
)


def lint(name, root, problems: list[Problem]) -> None:
    shapes = {}
    for shape in root.iter(f"{{{DI_NS}}}BPMNShape"):
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        if bounds is not None:
            try:
                shapes[shape.get("bpmnElement")] = tuple(
                    float(bounds.get(k)) for k in ("x", "y", "width", "height")
                )
            except (TypeError, ValueError):
                problems.append(
                    Problem(name, shape.get("bpmnElement") or "", "diagram shape has unreadable bounds")
                )
    nodes = {}
    for tag in FLOW_NODES:
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            nodes[el.get("id")] = tag
    if nodes and not shapes:
        problems.append(Problem(name, "", "the file has no diagram layout (BPMNDI), so it cannot be drawn"))
        return
    for node_id in sorted(n for n in nodes if n not in shapes):
        problems.append(Problem(name, node_id, "has no shape in the diagram layout"))
    placed = sorted((i, b) for i, b in shapes.items() if nodes.get(i) and nodes[i] != "boundaryEvent")
    for k, (a, (ax, ay, aw, ah)) in enumerate(placed):
        for b, (bx, by, bw, bh) in placed[k + 1 :]:
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                inside = (
                    nodes[a] in ("subProcess", "transaction")
                    and ax <= bx
                    and ay <= by
                    and bx + bw <= ax + aw
                    and by + bh <= ay + ah
                ) or (
                    nodes[b] in ("subProcess", "transaction")
                    and bx <= ax
                    and by <= ay
                    and ax + aw <= bx + bw
                    and ay + ah <= by + bh
                )
                if not inside:
                    problems.append(Problem(name, a, f"its shape overlaps the shape of '{b}'"))
