"""What a step waiting for an answer from outside must declare: who records the answer (``recordedBy``), who
sends it (``sender``) and the form its data must satisfy (``formJsonSchemaFilename``, a file in forms/);
every step of a file that waits for the same message declares the same, since a sender names only the
message."""

from __future__ import annotations

from engine.bpmn.awaited import FORM, RECORDED_BY, SENDER, UI_FORM, catching
from engine.bpmn.bpmn_xml import BPMN_NS
from engine.bpmn.problems import Problem


def lint(name, root, forms: dict, problems: list[Problem]) -> None:
    lanes = {lane.get("name") or lane.get("id") for lane in root.iter(f"{{{BPMN_NS}}}lane")}
    first: dict[str, object] = {}
    for awaited in catching(root):
        where = awaited.element_id
        if not awaited.message:
            problems.append(Problem(name, where, "the step waits for a message but names none (messageRef)"))
            continue
        if not awaited.recorded_by:
            problems.append(
                Problem(
                    name,
                    where,
                    f"the step waits for the message '{awaited.message}' but says no role records it "
                    f"(property {RECORDED_BY}, e.g. 'Business Unit')",
                )
            )
        elif awaited.recorded_by not in lanes:
            problems.append(
                Problem(
                    name,
                    where,
                    f"{RECORDED_BY} '{awaited.recorded_by}' is no lane of this file, so nobody may hold it "
                    f"(lanes: {', '.join(sorted(lanes)) or 'none'})",
                )
            )
        if not awaited.sender:
            problems.append(
                Problem(
                    name,
                    where,
                    f"the step waits for the message '{awaited.message}' but says not who sends it "
                    f"(property {SENDER}, e.g. 'the National Panel')",
                )
            )
        if not awaited.form:
            problems.append(
                Problem(
                    name,
                    where,
                    f"the step waits for the message '{awaited.message}' but names no form for its data "
                    f"(property {FORM})",
                )
            )
        elif awaited.form not in forms:
            problems.append(Problem(name, where, f"form '{awaited.form}' does not exist in forms/"))
        if awaited.ui_form and awaited.ui_form not in forms:
            problems.append(
                Problem(name, where, f"UI schema '{awaited.ui_form}' ({UI_FORM}) does not exist in forms/")
            )
        earlier = first.setdefault(awaited.message, awaited)
        declared = (awaited.recorded_by, awaited.sender, awaited.form, awaited.ui_form)
        if (
            earlier is not awaited
            and (earlier.recorded_by, earlier.sender, earlier.form, earlier.ui_form) != declared
        ):
            problems.append(
                Problem(
                    name,
                    where,
                    f"the message '{awaited.message}' is also awaited by '{earlier.element_id}', which "
                    f"declares another {RECORDED_BY}, {SENDER} or form: declare the same on both",
                )
            )
