"""What ``reviewflow check`` asks of a procedure beyond a runnable diagram: that it says where its rules come
from, counts only deadlines its rules define, and decides only on what someone records.

1. **Sources.** Every element that encodes a rule cites the paragraph it follows (``003 §4.7``,
   ``000 Appendix 7``, ``Regulation 5``): a decision table a statutory process among the files calls (its
   description), a business-rule task (its documentation, or its table's), and a gateway that chooses
   between paths on the case's facts (its documentation, or that of each conditional flow). A gateway that
   only routes by the rules in force (``regime``, ``ruleset``) is sourced by the rule sets' ``[in_force]``. A
   process that declares ``statutory`` = ``no`` (the engine demonstration, a test rig) encodes no rule and
cites nothing. 2. **Deadlines under every regime.** Each timer's deadline key exists in every rule set the
   step can run under: the rule sets a process can run under (those its ``regimes`` property names, else every
   rule set for a process started directly, plus those of the places that hand a case to it or call it),
   narrowed along each path by conditions on ``regime`` and ``ruleset``.
3. **Decision inputs.** Each name a decision table reads is supplied somewhere in the procedure: a form
   field (or the start form), a script's assignment, a message's variable, another table's output, a
   multi-instance output, or the data of a hand-over into it.

The analysis is of the files being checked: a process whose callers are not among them is taken as
started directly.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import defaultdict
from collections.abc import Iterable

from lxml import etree

from engine.bpmn import bpmn_xml
from engine.bpmn.bpmn_xml import BPMN_NS, NS, SPIFF_NS, deadline_calls, properties, run_regimes, start_roles
from engine.rules import regime_of

CITATION = re.compile(
    r"§\s*\d|\bAppendix\s+\d|\bpara(?:graph)?s?\.?\s*\d|\bRegulation\s+\d|\bsection\s+\d", re.I
)
RULE_NAMES = ("regime", "ruleset")
# names the engine itself puts into a case's data
ENGINE_SUPPLIED = frozenset({"regime", "ruleset", "case_reference", "regime_reason"})
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)
_B = f"{{{BPMN_NS}}}"
_SPIFF = f"{{{SPIFF_NS}}}"


def cites(text: str | None) -> bool:
    return bool(text and CITATION.search(text))


def _doc(el) -> str:
    return " ".join((d.text or "") for d in el.findall("bpmn:documentation", NS))


def _expression_names(text: str) -> set[str]:
    try:
        tree = ast.parse((text or "").strip(), mode="eval")
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for call in ast.walk(tree):  # field('notification_date', today()) reads notification_date
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "field"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            names.add(call.args[0].value)
    return names


# --- three-valued evaluation of a condition for one rule set -----------------------------------------

_UNKNOWN = object()


def _value(node, known: dict):
    """The value of ``node`` given ``known`` names, or _UNKNOWN; never runs anything."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id, _UNKNOWN)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [_value(e, known) for e in node.elts]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else tuple(items)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "field"
        and node.args
    ):
        name = _value(node.args[0], known)
        if name in RULE_NAMES:
            if name in known:
                return known[name]
            return _value(node.args[1], known) if len(node.args) > 1 else _UNKNOWN
        return _UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _value(node.operand, known)
        return _UNKNOWN if inner is _UNKNOWN else not inner
    if isinstance(node, ast.BoolOp):
        values = [_value(v, known) for v in node.values]
        if isinstance(node.op, ast.And):
            if any(v is not _UNKNOWN and not v for v in values):
                return False
            return _UNKNOWN if any(v is _UNKNOWN for v in values) else True
        if any(v is not _UNKNOWN and v for v in values):
            return True
        return _UNKNOWN if any(v is _UNKNOWN for v in values) else False
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _value(node.left, known), _value(node.comparators[0], known)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        op = node.ops[0]
        try:
            if isinstance(op, ast.Eq):
                return left == right
            if isinstance(op, ast.NotEq):
                return left != right
            if isinstance(op, ast.In):
                return left in right
            if isinstance(op, ast.NotIn):
                return left not in right
        except TypeError:
            return _UNKNOWN
    return _UNKNOWN


def truth(condition: str, known: dict) -> bool | None:
    """Whether ``condition`` holds under ``known`` (a rule set's names): True, False, or None when it
    depends on anything else."""
    try:
        tree = ast.parse((condition or "").strip(), mode="eval")
    except SyntaxError:
        return None
    result = _value(tree.body, known)
    return None if result is _UNKNOWN else bool(result)


# --- the procedure's graph --------------------------------------------------------------------------


class _Process:
    def __init__(self, file: str, proc):
        self.file, self.proc, self.id = file, proc, proc.get("id")
        self.by_id = {el.get("id"): el for el in proc.iter() if isinstance(el.tag, str) and el.get("id")}
        self.flows = defaultdict(list)  # source id -> [(target id, condition)]
        for flow in proc.iter(f"{_B}sequenceFlow"):
            cond = flow.find("bpmn:conditionExpression", NS)
            self.flows[flow.get("sourceRef")].append(
                (flow.get("targetRef"), cond.text if cond is not None else None, flow)
            )
        self.boundaries = defaultdict(list)  # task id -> its boundary events
        for ev in proc.iter(f"{_B}boundaryEvent"):
            self.boundaries[ev.get("attachedToRef")].append(ev.get("id"))

    def starts(self) -> list[str]:
        return [s.get("id") for s in self.proc.findall("bpmn:startEvent", NS)]

    def hand_overs(self) -> Iterable[tuple[str, str]]:
        """(element id, process id) of each call activity and literal ``start_process`` hand-over."""
        return bpmn_xml.hand_overs(self.proc)

    def regimes_at(self, entry: set[str], bindings: dict[str, dict]) -> dict[str, set[str]]:
        """The rule sets each element can run under, from ``entry`` at the start events."""
        at: dict[str, set[str]] = defaultdict(set)
        queue = [(s, set(entry)) for s in self.starts()]
        for sub in self.proc.iter(f"{_B}subProcess"):  # an event subprocess may start at any time
            if sub.get("triggeredByEvent") == "true":
                queue += [(s.get("id"), set(entry)) for s in sub.findall("bpmn:startEvent", NS)]
        while queue:
            node, regimes = queue.pop()
            new = regimes - at[node]
            if not new:
                continue
            at[node] |= new
            el = self.by_id.get(node)
            default = el.get("default") if el is not None else None
            out = self.flows.get(node, ())
            for target, condition, flow in out:
                if flow.get("id") == default:  # taken under a rule set only when no condition surely holds
                    passing = {r for r in new if not any(c and truth(c, bindings[r]) for _, c, _ in out)}
                else:
                    passing = {
                        r for r in new if condition is None or truth(condition, bindings[r]) is not False
                    }
                queue.append((target, passing))
            queue += [(b, new) for b in self.boundaries.get(node, ())]
            if el is not None and el.tag in (f"{_B}subProcess", f"{_B}transaction"):
                queue += [(s.get("id"), new) for s in el.findall("bpmn:startEvent", NS)]
        return at


def _bindings(rulesets: dict) -> dict[str, dict]:
    out = {}
    for name in rulesets:
        national = regime_of(rulesets, name) or name
        out[name] = {"regime": national} if national == name else {"regime": national, "ruleset": name}
    return out


def _declared_regimes(p: _Process, rulesets: dict, problems: list, Problem) -> set[str] | None:
    if properties(p.proc).get("regimes") is None:
        return None
    names = set(run_regimes(p.proc))
    unknown = sorted(names - set(rulesets))
    if unknown:
        problems.append(
            Problem(
                p.file,
                p.id,
                f"regimes names {', '.join(unknown)}, which no rule set defines "
                f"(rule sets: {', '.join(sorted(rulesets))})",
            )
        )
    return names & set(rulesets)


def _function_names() -> frozenset[str]:
    from engine.bpmn.runtime import FUNCTIONS

    return frozenset(dir(builtins)) | frozenset(FUNCTIONS)


_FUNCTION_NAMES = _function_names()


# --- the three checks ----------------------------------------------------------------------------


def _dmn_decisions(data: bytes):
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for ns in DMN_NAMESPACES:
        for decision in root.iter(f"{{{ns}}}decision"):
            desc = decision.find(f"{{{ns}}}description")
            inputs = [
                t.text or ""
                for t in decision.iter(f"{{{ns}}}text")
                if t.getparent() is not None and t.getparent().tag == f"{{{ns}}}inputExpression"
            ]
            outputs = [o.get("name") for o in decision.iter(f"{{{ns}}}output") if o.get("name")]
            yield decision.get("id"), (desc.text if desc is not None else ""), inputs, outputs


def statutory(proc) -> bool:
    """Whether a process encodes rules that need sources: all do, unless declared ``statutory`` = ``no`` (a
    demonstration, a test rig)."""
    return (properties(proc).get("statutory") or "yes").strip().lower() not in ("no", "false")


def _called_decisions(p: _Process) -> set[str]:
    return {(ref.text or "").strip() for ref in p.proc.iter(f"{_SPIFF}calledDecisionId")}


def _lint_sources(processes: list[_Process], decisions: dict, problems: list, Problem) -> None:
    # a table is a rule of the procedures that call it: those among the files checked, when any is statutory
    used = {d for p in processes if statutory(p.proc) for d in _called_decisions(p)}
    for file, data in sorted({(f, d) for f, d in decisions.values()}):
        for did, desc, _, _ in _dmn_decisions(data):
            if did in used and not cites(desc):
                problems.append(
                    Problem(
                        file,
                        did,
                        "the decision table cites no source: say in its description "
                        "which paragraph it follows (for example `000 §2.3`)",
                    )
                )
    for p in (p for p in processes if statutory(p.proc)):
        for task in p.proc.iter(f"{_B}businessRuleTask"):
            ref = task.find(f"bpmn:extensionElements/{_SPIFF}calledDecisionId", NS)
            table = decisions.get((ref.text or "").strip()) if ref is not None else None
            table_cites = table is not None and any(cites(d) for _, d, _, _ in _dmn_decisions(table[1]))
            if not cites(_doc(task)) and not table_cites:
                problems.append(
                    Problem(
                        p.file,
                        task.get("id"),
                        "the decision cites no source: say in its "
                        "documentation which paragraph it follows (for example `003 §4.7`)",
                    )
                )
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gw in p.proc.iter(f"{_B}{tag}"):
                out = p.flows.get(gw.get("id"), [])
                conditional = [(c, flow) for _, c, flow in out if c]
                if len(out) < 2 or not conditional:
                    continue
                if all(_expression_names(c) <= set(RULE_NAMES) | {"field"} for c, _ in conditional):
                    continue  # routes by the rules in force: sourced by the rule sets
                if cites(_doc(gw)) or all(cites(_doc(flow)) for _, flow in conditional):
                    continue
                problems.append(
                    Problem(
                        p.file,
                        gw.get("id"),
                        "this choice between paths cites no source: say in "
                        "the gateway's documentation (or each condition's) which paragraph it "
                        "follows (for example `000 §5.2`)",
                    )
                )


def _entry_regimes(
    processes: dict[str, _Process], rulesets: dict, bindings: dict, problems: list, Problem, starters: dict
) -> dict[str, set[str]]:
    """The rule sets each process can run under (a fixpoint over hand-overs and calls)."""
    declared = {pid: _declared_regimes(p, rulesets, problems, Problem) for pid, p in processes.items()}
    called = {target for p in processes.values() for _, target in p.hand_overs()}
    entry = {
        pid: (
            set(declared[pid])
            if declared[pid] is not None
            else set(rulesets)
            if (starters.get(pid) or pid not in called)
            else set()
        )
        for pid in processes
    }
    changed = True
    while changed:
        changed = False
        for pid, p in processes.items():
            at = p.regimes_at(entry[pid], bindings)
            for element, target in p.hand_overs():
                if target in processes and declared[target] is None and not at[element] <= entry[target]:
                    entry[target] |= at[element]
                    changed = True
    return entry


def _lint_deadlines(
    processes: dict[str, _Process], rulesets: dict, entry: dict, bindings: dict, problems: list, Problem
) -> None:
    for pid, p in processes.items():
        at = p.regimes_at(entry[pid], bindings)
        for timer in p.proc.iter(f"{_B}timerEventDefinition"):
            event = timer.getparent()
            keys = {k for child in timer for k in deadline_calls(child.text or "")}
            for key in sorted(keys):
                missing = sorted(r for r in at.get(event.get("id"), ()) if key not in rulesets[r].rules)
                if missing:
                    problems.append(
                        Problem(
                            p.file,
                            event.get("id"),
                            f"deadline key '{key}' does not exist under "
                            f"{', '.join(missing)}, which this step can run under: define it in "
                            "that rule set, keep the step off that regime's path, or narrow the "
                            "process's regimes property",
                        )
                    )


def _supplied(p: _Process, forms: dict, decisions: dict) -> set[str]:
    names: set[str] = set()
    form_names = [properties(p.proc).get("startForm")]
    for task in p.proc.iter(f"{_B}userTask"):
        form_names.append(properties(task).get("formJsonSchemaFilename"))
        loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if loop is not None:
            for ref in ("loopDataOutputRef", "outputDataItem"):
                el = loop.find(f"bpmn:{ref}", NS)
                if el is not None:
                    names.add((el.text or el.get("name") or el.get("id") or "").strip())
    for name in filter(None, form_names):
        names |= set((forms.get(name) or {}).get("properties", {}))
    for script in p.proc.iter(f"{_B}script"):
        try:
            tree = ast.parse(script.text or "")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                else []
            )
            names |= {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    for var in p.proc.iter(f"{_SPIFF}messageVariable"):
        names.add((var.text or "").strip())
    for el in p.proc.iter():
        if isinstance(el.tag, str) and el.get("resultVariable"):
            names.add(el.get("resultVariable"))
    for task in p.proc.iter(f"{_B}businessRuleTask"):
        ref = task.find(f"bpmn:extensionElements/{_SPIFF}calledDecisionId", NS)
        table = decisions.get((ref.text or "").strip()) if ref is not None else None
        if table is not None:
            names |= {o for _, _, _, outs in _dmn_decisions(table[1]) for o in outs}
    for task in p.proc.iter(f"{_B}serviceTask"):  # the data a hand-over gives the process it starts
        for param in task.iter(f"{_SPIFF}parameter"):
            if param.get("id") == "data":
                try:
                    tree = ast.parse((param.get("value") or "").strip(), mode="eval")
                except SyntaxError:
                    continue
                if isinstance(tree.body, ast.Dict):
                    names |= {k.value for k in tree.body.keys if isinstance(k, ast.Constant)}
    return names


def _lint_decision_inputs(
    processes: dict[str, _Process], forms: dict, decisions: dict, problems: list, Problem
) -> None:
    supplied = {pid: _supplied(p, forms, decisions) for pid, p in processes.items()}
    upstream = defaultdict(set)  # process -> the processes that can lead into it
    for pid, p in processes.items():
        for _, target in p.hand_overs():
            upstream[target].add(pid)
    for pid, p in processes.items():
        reach, todo = {pid}, [pid]
        while todo:
            for up in upstream[todo.pop()]:
                if up not in reach:
                    reach.add(up)
                    todo.append(up)
        available = set(ENGINE_SUPPLIED).union(*(supplied[r] for r in reach if r in supplied))
        for task in p.proc.iter(f"{_B}businessRuleTask"):
            ref = task.find(f"bpmn:extensionElements/{_SPIFF}calledDecisionId", NS)
            table = decisions.get((ref.text or "").strip()) if ref is not None else None
            if table is None:
                continue
            read = {
                n
                for _, _, inputs, _ in _dmn_decisions(table[1])
                for text in inputs
                for n in _expression_names(text)
            } - _FUNCTION_NAMES
            for name in sorted(read - available):
                problems.append(
                    Problem(
                        p.file,
                        task.get("id"),
                        f"decision '{ref.text.strip()}' reads '{name}', "
                        "which no form, start data, script, message or hand-over of this "
                        "procedure supplies",
                    )
                )


def lint(
    bpmn_roots: dict,
    process_files: dict,
    rulesets: dict,
    forms: dict,
    decisions: dict,
    problems: list,
    Problem,
) -> None:
    processes = {}
    for pid, file in process_files.items():
        proc = bpmn_roots[file].find(f"bpmn:process[@id='{pid}']", NS)
        if proc is not None:
            processes[pid] = _Process(file, proc)
    _lint_sources(list(processes.values()), decisions, problems, Problem)
    if rulesets:
        bindings = _bindings(rulesets)
        starters = {pid: start_roles(p.proc) for pid, p in processes.items()}
        entry = _entry_regimes(processes, rulesets, bindings, problems, Problem, starters)
        _lint_deadlines(processes, rulesets, entry, bindings, problems, Problem)
    _lint_decision_inputs(processes, forms, decisions, problems, Problem)
