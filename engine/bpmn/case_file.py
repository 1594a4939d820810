"""The case file a user task declares: what earlier information its step shows beside its form.

A user task's ``caseFile`` property lists, in order and separated by commas, the ids of earlier steps of
its process (each shows the answers submitted there) and case-data keys (each shows its value, labelled
with the title of the form field that captures it). The deploy lint refuses an entry that is neither, a
case file on a step of an agency's request (an agency sees nothing of the case beyond its request), and
says which forms label the keys so that the process version carries them."""

from __future__ import annotations

import re
from collections import defaultdict

from engine.bpmn.bpmn_xml import BPMN_NS, NS, SPIFF_NS, hand_overs, properties, start_form
from engine.bpmn.problems import Problem
from engine.services.actor import REQUEST_ONLY_PREFIX, REQUEST_ONLY_ROLES

PROPERTY = "caseFile"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# What a handler leaves in the case data, described as a form field is, so that a case file can show it
# labelled: the handler's name -> a JSON Schema with titles.
HANDLER_RESULTS: dict[str, dict] = {
    "merge_chronologies": {
        "title": "Merged chronology",
        "type": "object",
        "properties": {
            "agencies": {
                "title": "Agencies that returned a chronology",
                "type": "array",
                "items": {"type": "string"},
            },
            "chronology": {
                "title": "Entries, by date",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"title": "Date", "type": "string", "format": "date"},
                        "agency": {"title": "Agency", "type": "string"},
                        "worker": {"title": "Worker", "type": "string"},
                        "event": {"title": "What happened", "type": "string"},
                    },
                },
            },
        },
    }
}


def entries(value: str | None) -> list[str]:
    """The names a ``caseFile`` property lists, in order."""
    return [e.strip() for e in (value or "").split(",") if e.strip()]


def declared(task_spec) -> list[str]:
    """The case file a running task's spec declares (SpiffWorkflow keeps the properties on the spec)."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}
    return entries(props.get(PROPERTY))


def handler_results(proc) -> dict[str, dict]:
    """result variable -> the described result of the handler that writes it, in ``proc``."""
    out = {}
    for task in proc.iter(f"{{{BPMN_NS}}}serviceTask"):
        op = task.find(f"bpmn:extensionElements/{{{SPIFF_NS}}}serviceTaskOperator", NS)
        if op is not None and op.get("id") in HANDLER_RESULTS and op.get("resultVariable"):
            out[op.get("resultVariable")] = HANDLER_RESULTS[op.get("id")]
    return out


def form_names(proc) -> list[str]:
    """The forms a process names: its start form, then each user task's, in document order."""
    names = [start_form(proc)]
    names += [properties(t).get("formJsonSchemaFilename") for t in proc.iter(f"{{{BPMN_NS}}}userTask")]
    return list(dict.fromkeys(n for n in names if n))


def label_form(key: str, names, forms: dict) -> str | None:
    """The first of the forms ``names`` (that exist in ``forms``) with a field ``key``."""
    for name in names:
        if key in ((forms.get(name) or {}).get("properties") or {}):
            return name
    return None


def _edges(proc) -> list[str]:
    """The processes ``proc`` hands a case to or calls."""
    return [target for _, target in hand_overs(proc)]


def _lane_of(proc) -> dict[str, str]:
    return {
        (ref.text or "").strip(): lane.get("name") or lane.get("id")
        for lane in proc.iter(f"{{{BPMN_NS}}}lane")
        for ref in lane.findall("bpmn:flowNodeRef", NS)
    }


def lint(bpmn_roots: dict, process_files: dict, forms: dict, problems: list[Problem]) -> dict[str, list[str]]:
    """Add to ``problems`` what is wrong with any user task's case file; return, per process, the forms
    that label the keys its case files show (in the order they are looked for at run time)."""
    procs = {}
    for pid, file in process_files.items():
        proc = bpmn_roots[file].find(f"bpmn:process[@id='{pid}']", NS)
        if proc is not None:
            procs[pid] = (file, proc)
    leads_in: dict[str, set[str]] = defaultdict(set)
    for pid, (_, proc) in procs.items():
        for target in _edges(proc):
            leads_in[target].add(pid)
    label_forms: dict[str, list[str]] = {}
    for pid, (file, proc) in procs.items():
        tasks = [t for t in proc.iter(f"{{{BPMN_NS}}}userTask") if properties(t).get(PROPERTY) is not None]
        if not tasks:
            continue
        reach, todo = [pid], [pid]
        while todo:  # the processes a case of this one may have come through, nearest first
            for up in sorted(leads_in[todo.pop(0)]):
                if up not in reach:
                    reach.append(up)
                    todo.append(up)
        called = [c for c in _edges(proc) if c in procs and c not in reach]
        candidates = list(
            dict.fromkeys(name for p in [pid, *called, *reach[1:]] for name in form_names(procs[p][1]))
        )
        results = {}
        for p in [pid, *called, *reach[1:]]:
            results = {**handler_results(procs[p][1]), **results}
        steps = {t.get("id") for t in proc.iter(f"{{{BPMN_NS}}}userTask")}
        lanes = _lane_of(proc)
        needed: list[str] = []
        for task in tasks:
            _lint_task(file, task, lanes, steps, results, candidates, forms, needed, problems)
        label_forms[pid] = list(dict.fromkeys(needed))
    return label_forms


def _lint_task(file, task, lanes, steps, results, candidates, forms, needed, problems) -> None:
    tid = task.get("id")
    lane = lanes.get(tid, "")
    if lane in REQUEST_ONLY_ROLES or lane.startswith(REQUEST_ONLY_PREFIX):
        problems.append(
            Problem(
                file,
                tid,
                f"caseFile on a step of the '{lane}' lane: an agency's request shows nothing of the case "
                "beyond the request itself; remove the property",
            )
        )
        return
    listed = entries(properties(task).get(PROPERTY))
    if not listed:
        problems.append(Problem(file, tid, "caseFile lists nothing: name earlier steps or case-data keys"))
    seen = set()
    for entry in listed:
        if entry in seen:
            problems.append(Problem(file, tid, f"caseFile lists '{entry}' twice"))
            continue
        seen.add(entry)
        if not _NAME.match(entry):
            problems.append(
                Problem(file, tid, f"caseFile entry '{entry}' is not a step id or a case-data key")
            )
        elif entry in steps or entry in results:
            continue
        elif (name := label_form(entry, candidates, forms)) is not None:
            needed.append(name)
        else:
            problems.append(
                Problem(
                    file,
                    tid,
                    f"caseFile names '{entry}', which is no user task of this process and no field of a "
                    "form (nor a described handler result) of this procedure, so it could not be shown "
                    f"with a title (steps: {', '.join(sorted(steps))})",
                )
            )
