"""What SpiffWorkflow does not check in a BPMN file: ids the engine reserves; that scripts, conditions,
payloads and timer expressions compile in the sandbox; that timers name deadlines a rule set defines; that
each service task names a registered handler with parameters it takes (and a hand-over a process that
exists, a message a template that exists); that each user task has a form that exists and a lane; that call
activities and decisions resolve."""

from __future__ import annotations

import ast

from engine.bpmn.bpmn_xml import BPMN_NS, NS, SPIFF_NS, deadline_calls, decisions_used, properties, start_form
from engine.bpmn.problems import Problem, check_code, owner_id
from engine.bpmn.script_engine import ISO_LITERAL
from handlers import registry

RESERVED_IDS = {"Start", "End", "Root"}


def _literal(text: str):
    """The value of a constant expression (``'rapid_review'``), or None when it is computed."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None


def lint(
    name, root, forms: dict, decisions: dict, rulesets: dict, process_files, problems: list[Problem]
) -> None:
    """Add to ``problems`` what is wrong in the BPMN file ``name``, against the bundle's forms, decisions,
    rule sets and processes."""
    known_keys = {k for rs in rulesets.values() for k in rs.rules}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id") in RESERVED_IDS and el.tag.startswith(f"{{{BPMN_NS}}}"):
            problems.append(
                Problem(
                    name,
                    el.get("id"),
                    f"the id '{el.get('id')}' is reserved by the engine "
                    "(the diagram would silently lose steps): rename it",
                )
            )
    for proc in root.findall("bpmn:process", NS):
        in_lanes = {ref.text.strip() for ref in proc.iter(f"{{{BPMN_NS}}}flowNodeRef") if ref.text}
        has_lanes = proc.find(".//bpmn:lane", NS) is not None
        form = start_form(proc)
        if form and form not in forms:
            problems.append(Problem(name, proc.get("id"), f"start form '{form}' does not exist in forms/"))
        for script in proc.iter(f"{{{BPMN_NS}}}script"):
            check_code(name, owner_id(script), script.text or "", "exec", "script", problems)
        for tag in ("preScript", "postScript"):
            for script in proc.iter(f"{{{SPIFF_NS}}}{tag}"):
                check_code(name, owner_id(script), script.text or "", "exec", tag, problems)
        for cond in proc.iter(f"{{{BPMN_NS}}}conditionExpression"):
            check_code(name, owner_id(cond), cond.text or "", "eval", "condition", problems)
        for tag in ("loopCardinality", "completionCondition"):
            for expr in proc.iter(f"{{{BPMN_NS}}}{tag}"):
                check_code(name, owner_id(expr), expr.text or "", "eval", tag, problems)
        for payload in proc.iter(f"{{{SPIFF_NS}}}messagePayload"):
            check_code(name, owner_id(payload), payload.text or "", "eval", "message payload", problems)
        for timer in proc.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            event_id = owner_id(timer.getparent())
            exprs = [c for c in timer if isinstance(c.tag, str)]
            if not exprs:
                problems.append(Problem(name, event_id, "timer has no timeDate, timeDuration or timeCycle"))
            for child in exprs:
                text = (child.text or "").strip()
                if not text:
                    problems.append(Problem(name, event_id, "timer expression is empty"))
                    continue
                if ISO_LITERAL.match(text):
                    continue
                check_code(name, event_id, text, "eval", "timer expression", problems)
                for key in deadline_calls(text):
                    if key not in known_keys:
                        problems.append(
                            Problem(
                                name,
                                event_id,
                                f"deadline key '{key}' is in no rule set "
                                f"(known: {', '.join(sorted(known_keys)) or 'none'})",
                            )
                        )
        for task in proc.iter(f"{{{BPMN_NS}}}serviceTask"):
            op = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
            if op is None:
                problems.append(
                    Problem(
                        name,
                        task.get("id"),
                        "service task names no handler (spiffworkflow:serviceTaskOperator)",
                    )
                )
                continue
            handler = registry.get(op.get("id", ""))
            params = {p.get("id"): p.get("value", "") for p in op.iterfind(".//spiffworkflow:parameter", NS)}
            if handler is None:
                problems.append(
                    Problem(
                        name,
                        task.get("id"),
                        f"no handler named '{op.get('id')}' is registered "
                        f"(registered: {', '.join(sorted(registry.all_handlers()))})",
                    )
                )
            else:
                for message in handler.problems(set(params)):
                    problems.append(Problem(name, task.get("id"), message))
            for pname, value in params.items():
                check_code(name, task.get("id"), value or "", "eval", f"parameter '{pname}'", problems)
            if op.get("id") == "start_process":
                target = _literal(params.get("process_id", ""))
                if target is None:
                    problems.append(
                        Problem(
                            name,
                            task.get("id"),
                            "start_process needs a literal process_id "
                            "(such as 'rapid_review') so that the hand-over can be checked",
                        )
                    )
                elif target not in process_files:
                    problems.append(
                        Problem(
                            name,
                            task.get("id"),
                            f"hands over to process '{target}', which is not "
                            "deployed and not in this deployment",
                        )
                    )
            if op.get("id") == "send_notification":
                from handlers.notify import PRODUCT_TEMPLATES, template_names

                template = _literal(params.get("template", ""))
                if isinstance(template, str) and template in PRODUCT_TEMPLATES:
                    problems.append(
                        Problem(
                            name,
                            task.get("id"),
                            f"the message template '{template}' is sent by reviewflow itself and needs "
                            "values no step supplies: choose another template",
                        )
                    )
                elif isinstance(template, str) and template not in template_names():
                    problems.append(
                        Problem(
                            name,
                            task.get("id"),
                            f"no message template '{template}' in "
                            f"handlers/templates (a file named '{template}.txt')",
                        )
                    )
        for task in proc.iter(f"{{{BPMN_NS}}}userTask"):
            props = properties(task)
            form = props.get("formJsonSchemaFilename")
            if not form:
                problems.append(
                    Problem(name, task.get("id"), "user task names no form (property formJsonSchemaFilename)")
                )
            elif form not in forms:
                problems.append(Problem(name, task.get("id"), f"form '{form}' does not exist in forms/"))
            if props.get("roleExpression"):
                check_code(name, task.get("id"), props["roleExpression"], "eval", "roleExpression", problems)
            ui = props.get("formUiSchemaFilename")
            if ui and ui not in forms:
                problems.append(Problem(name, task.get("id"), f"UI schema '{ui}' does not exist in forms/"))
            if has_lanes and task.get("id") not in in_lanes:
                problems.append(
                    Problem(name, task.get("id"), "user task is in no lane, so no role could work on it")
                )
            if not has_lanes:
                problems.append(
                    Problem(
                        name,
                        task.get("id"),
                        "user task is in no lane (the process has no lanes), so no role could work on it",
                    )
                )
        for call in proc.iter(f"{{{BPMN_NS}}}callActivity"):
            target = call.get("calledElement")
            if not target:
                problems.append(
                    Problem(name, call.get("id"), "call activity names no process (calledElement)")
                )
            elif target not in process_files:
                problems.append(
                    Problem(
                        name,
                        call.get("id"),
                        f"calls process '{target}', which is not deployed and not in this deployment",
                    )
                )
        for decision in decisions_used(proc):
            if decision not in decisions:
                owner = next(
                    (
                        t.get("id")
                        for t in proc.iter(f"{{{BPMN_NS}}}businessRuleTask")
                        if (
                            t.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", "", NS) or ""
                        ).strip()
                        == decision
                    ),
                    "",
                )
                problems.append(Problem(name, owner, f"decision '{decision}' does not exist"))
