"""Parse and lint a set of process files into something deployable, or say exactly what is wrong.

A bundle is every file a deployment needs at once: BPMN diagrams, DMN decision
tables, JSON Schema forms and deadline rule sets. SpiffWorkflow checks the BPMN
structure (behind the hardened XML parser and the BPMN XSD); this module reads
the files in order and hands each to the check for its kind, for what the
library does not check: files.py (which files, their names and sizes),
form_lint.py, dmn_lint.py, bpmn_lint.py, message_lint.py, layout_lint.py, length_lint.py,
form_use_lint.py and procedure_lint.py; dependencies.py hashes what each process version depends on.
Every problem names the file, the element id and what is wrong. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine import xmlsafe
from engine.bpmn import (
    bpmn_lint,
    case_file,
    dependencies,
    dmn_lint,
    form_lint,
    form_use_lint,
    layout_lint,
    length_lint,
    message_lint,
    procedure_lint,
)
from engine.bpmn.bpmn_xml import (  # noqa: F401
    BPMN_NS,
    NS,
    SPIFF_NS,
    deadline_calls,
    deadline_keys_in,
    decisions_used,
    properties,
    run_regimes,
    start_form,  # (importers read them here too)
    start_roles,
)
from engine.bpmn.files import collect_files, file_name_problem, kind_of, refusal, shown_name  # noqa: F401
from engine.bpmn.problems import Problem
from engine.rules import RuleSet, RuleSetError, parse_ruleset_text, resolve_rulesets


class BundleInvalid(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ProcessBuild:
    process_id: str
    name: str
    file: str
    bpmn: bytes
    spec: object
    subprocess_specs: dict
    lanes: list[str]
    forms: dict[str, dict]  # every form file the process and its subprocesses name
    decisions: list[str]
    called: list[str]
    deadline_keys: list[str]
    start_form: str | None = None  # the form a direct start's data must satisfy
    content_hash: str = ""


@dataclass
class Bundle:
    processes: dict[str, ProcessBuild] = field(default_factory=dict)
    decisions: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (file, xml)
    forms: dict[str, dict] = field(default_factory=dict)  # file name -> schema
    rulesets: dict[str, RuleSet] = field(default_factory=dict)
    ruleset_files: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    case_file_forms: dict[str, list[str]] = field(default_factory=dict)  # forms labelling its case files


def build(
    files: dict[str, bytes],
    max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES,
    new: Iterable[str] | None = None,
    form_use: bool = False,
) -> Bundle:
    """Parse and lint; returns a bundle or raises :class:`BundleInvalid` listing every problem. ``new`` names
    the files being deployed or checked (None: all of them), the ones form_use_lint holds to its rules;
    ``form_use`` turns that check on: a deployment and ``reviewflow check`` always do (Deployments), a
    linter's own tests of a few files need not."""
    problems: list[Problem] = []
    bundle = Bundle(files=dict(files))
    bpmn_roots: dict[str, etree._Element] = {}
    dmn_roots: dict[str, etree._Element] = {}

    for name, data in sorted(files.items()):
        refused = refusal(name, data, max_bytes)
        if refused:
            problems.append(Problem(name, "", refused))
            continue
        kind = kind_of(name)
        if kind in ("bpmn", "dmn"):
            try:
                root = xmlsafe.parse(data, name, max_bytes)
            except xmlsafe.XmlError as exc:
                problems.append(Problem(name, f"line {exc.line}" if exc.line else "", exc.message))
                continue
            (bpmn_roots if kind == "bpmn" else dmn_roots)[name] = root
        elif kind == "form":
            schema = form_lint.load(name, data, problems)
            if schema is not None:
                bundle.forms[name] = schema
        elif kind == "ruleset":
            bundle.ruleset_files[name] = data

    if bundle.ruleset_files:
        try:
            parsed = [
                parse_ruleset_text(n, d.decode("utf-8")) for n, d in sorted(bundle.ruleset_files.items())
            ]
            bundle.rulesets = resolve_rulesets(parsed)
            length_lint.lint_rulesets(bundle.rulesets, problems)
            form_lint.lint_deadlines(bundle.forms, bundle.rulesets, problems)
        except RuleSetError as exc:
            problems.append(Problem(exc.file, exc.key or "", exc.message))
        except UnicodeDecodeError as exc:
            problems.append(Problem("rulesets", "", f"not UTF-8 text: {exc}"))

    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, root in dmn_roots.items():
        decision_ids = dmn_lint.lint(name, root, problems)
        try:
            parser.add_dmn_xml(root, filename=name)
        except (ValidationException, SpiffWorkflowException, etree.LxmlError) as exc:
            problems.append(_from_spiff(exc, name))
            continue
        except Exception as exc:  # the DMN parser raises bare errors on odd input
            problems.append(Problem(name, "", f"not a usable DMN decision table: {exc}"))
            continue
        for did in decision_ids:
            if did in bundle.decisions:
                problems.append(
                    Problem(name, did, f"decision id is also defined in {bundle.decisions[did][0]}")
                )
            bundle.decisions[did] = (name, files[name])

    process_files: dict[str, str] = {}
    for name, root in bpmn_roots.items():
        if root.tag != f"{{{BPMN_NS}}}definitions":
            problems.append(Problem(name, "", "not a BPMN 2.0 file (root element is not bpmn:definitions)"))
            continue
        ids = [p.get("id") for p in root.findall("bpmn:process", NS)]
        clash = [i for i in ids if i in process_files]
        if clash:
            problems.append(
                Problem(name, clash[0], f"process id is also defined in {process_files[clash[0]]}")
            )
            continue
        try:
            parser.add_bpmn_xml(root, filename=name)
        except (ValidationException, SpiffWorkflowException, etree.LxmlError) as exc:
            problems.append(_from_spiff(exc, name))
            continue
        for i in ids:
            process_files[i] = name

    for name, root in bpmn_roots.items():
        if name in set(process_files.values()):
            bpmn_lint.lint(
                name, root, bundle.forms, bundle.decisions, bundle.rulesets, process_files, problems
            )
            message_lint.lint(name, root, bundle.forms, problems)
            layout_lint.lint(name, root, problems)
            length_lint.lint(name, root, problems)
    if form_use:
        processes_only = {n: r for n, r in bpmn_roots.items() if n in set(process_files.values())}
        form_use_lint.lint(processes_only, bundle.forms, problems, new)
    bundle.case_file_forms = case_file.lint(bpmn_roots, process_files, bundle.forms, problems)
    if not problems:  # what the procedure encodes: sources, deadlines by regime, decision inputs
        procedure_lint.lint(
            bpmn_roots, process_files, bundle.rulesets, bundle.forms, bundle.decisions, problems, Problem
        )

    executable = set(parser.get_process_ids()) if not problems else set()
    for process_id in sorted(executable):
        name = process_files.get(process_id, "")
        try:
            spec = parser.get_spec(process_id)
            subs = parser.get_subprocess_specs(process_id)
        except (ValidationException, SpiffWorkflowException) as exc:
            problems.append(_from_spiff(exc, name, default_id=process_id))
            continue
        except Exception as exc:
            problems.append(Problem(name, process_id, f"cannot be parsed: {type(exc).__name__}: {exc}"))
            continue
        root = bpmn_roots[name]
        proc = root.find(f"bpmn:process[@id='{process_id}']", NS)
        bundle.processes[process_id] = ProcessBuild(
            process_id=process_id,
            name=proc.get("name") or process_id,
            file=name,
            bpmn=files[name],
            spec=spec,
            subprocess_specs=subs,
            lanes=sorted({(lane.get("name") or lane.get("id")) for lane in proc.iter(f"{{{BPMN_NS}}}lane")}),
            forms={},
            decisions=sorted(set(decisions_used(proc))),
            called=sorted({c.get("calledElement") for c in proc.iter(f"{{{BPMN_NS}}}callActivity")}),
            deadline_keys=sorted(set(deadline_keys_in(proc))),
            start_form=start_form(proc),
        )

    if problems:
        raise BundleInvalid(problems)

    for build_ in bundle.processes.values():
        dependencies.attach(build_, bundle, bpmn_roots, process_files)
    return bundle


def _from_spiff(exc: Exception, name: str, default_id: str = "") -> Problem:
    """A SpiffWorkflow parse error as a problem: its file, element (or line) and message on one line."""
    element = getattr(exc, "id", "") or default_id
    line = getattr(exc, "line_number", "")
    message = str(getattr(exc, "error_msg", "") or exc).strip()
    message = re.sub(r"\s+", " ", message)
    if line and not element:
        element = f"line {line}"
    return Problem(getattr(exc, "file_name", "") or name, element, message)
