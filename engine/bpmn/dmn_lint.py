"""A DMN file is a decision table SpiffWorkflow can run: a DMN 1.1-1.3 namespace, one table per decision,
ids that fit their column, and input expressions and rule cells that compile in the sandbox as the library
will put them together."""

from __future__ import annotations

from engine.bpmn import sandbox
from engine.bpmn.length_lint import MAX_ID, cut
from engine.bpmn.problems import Problem, check_code, owner_id

DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)


def lint(name, root, problems: list[Problem]) -> list[str]:
    """The ids of the file's decisions; what is wrong with them is added to ``problems``."""
    ns = root.nsmap.get(None) or root.nsmap.get("dmn")
    if ns not in DMN_NAMESPACES:
        problems.append(Problem(name, "", f"not a DMN 1.1-1.3 file (namespace {ns!r})"))
        return []
    q = lambda t: f"{{{ns}}}{t}"  # noqa: E731
    ids = []
    for decision in root.iter(q("decision")):
        ids.append(decision.get("id"))
        if len(decision.get("id") or "") > MAX_ID:
            problems.append(
                Problem(name, cut(decision.get("id")), f"a decision id is at most {MAX_ID} characters")
            )
        tables = list(decision.iter(q("decisionTable")))
        if len(tables) != 1:
            problems.append(
                Problem(name, decision.get("id"), "a decision must hold exactly one decision table")
            )
        for expr in decision.iter(q("inputExpression")):
            text = (expr.findtext(q("text")) or "").strip()
            check_code(name, owner_id(expr), text, "eval", "input expression", problems)
        inputs = [
            (i.findtext(f"{q('inputExpression')}/{q('text')}") or "").strip()
            for i in decision.iter(q("input"))
        ]
        for rule in decision.iter(q("rule")):
            for position, entry in enumerate(rule.findall(q("inputEntry"))):
                text = (entry.findtext(q("text")) or "").strip()
                if not text or text == "-" or position >= len(inputs):
                    continue
                problem = _entry_problem(inputs[position], text)
                if problem:
                    problems.append(Problem(name, entry.get("id") or rule.get("id") or "", problem))
            for entry in rule.findall(q("outputEntry")):
                text = (entry.findtext(q("text")) or "").strip()
                reason = sandbox.check(text, "eval") if text else None
                if reason:
                    problems.append(
                        Problem(
                            name,
                            entry.get("id") or rule.get("id") or "",
                            f"output entry '{text}' does not compile: {reason}",
                        )
                    )
    return ids


def _entry_problem(input_expr: str, text: str) -> str | None:
    """Mirror how SpiffWorkflow builds a rule cell's test, and say what would go wrong."""
    if "?" in text:
        reason = sandbox.check(text.replace("?", "dmninputexpr"), "eval")
        return f"input entry '{text}' does not compile: {reason}" if reason else None
    if sandbox.check(text, "eval") is None:
        reason = sandbox.check(f"({input_expr}) == ({text})", "eval")
        return f"input entry '{text}' does not compile: {reason}" if reason else None
    if (input_expr[-1:].isalnum() or input_expr[-1:] == "_") and (text[:1].isalnum() or text[:1] == "_"):
        return (
            f"input entry '{text}' would be joined to '{input_expr}' without a space; "
            f"write '? {text}' instead"
        )
    reason = sandbox.check(input_expr + text, "eval")
    return f"input entry '{text}' does not compile: {reason}" if reason else None
