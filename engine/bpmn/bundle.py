"""Parse and lint a set of process files into something deployable, or say exactly what is wrong.

A bundle is every file a deployment needs at once: BPMN diagrams, DMN decision
tables, JSON Schema forms and deadline rule sets. SpiffWorkflow checks the BPMN
structure (behind the hardened XML parser and the BPMN XSD); this module then
lints what the library does not: that scripts, conditions, timer expressions and
DMN cells compile in the sandbox, that each user task's form exists and is valid
JSON Schema, that each service task names a registered handler with parameters
it takes, that call activities and decisions resolve, that deadline keys exist.
Every problem names the file, the element id and what is wrong. Pure: no database.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine import inputs, patterns, xmlsafe
from engine.bpmn import procedure_lint, sandbox
from engine.bpmn.bpmn_xml import (  # noqa: F401
    BPMN_NS,
    NS,
    SPIFF_NS,
    deadline_calls,
    properties,
    run_regimes,
    start_form,  # (importers read them here too)
    start_roles,
)
from engine.bpmn.script_engine import ISO_LITERAL
from engine.rules import RuleSet, RuleSetError, parse_ruleset_text, resolve_rulesets
from engine.services import forms as form_keywords
from handlers import registry

DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)
RESERVED_IDS = {"Start", "End", "Root"}


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.element_id or '-'}: {self.message}"

    def to_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "message": self.message}


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


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".bpmn", ".bpmn20.xml")):
        return "bpmn"
    if lower.endswith(".dmn"):
        return "dmn"
    if lower.endswith(".json"):
        return "form"
    if lower.endswith(".toml") and "/rulesets/" in "/" + lower.replace("\\", "/"):
        return "ruleset"
    if lower.endswith(".toml") and Path(lower).parent.name == "rulesets":
        return "ruleset"
    return None


MAX_FILE_NAME = 120
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()+-]*$")


def file_name_problem(name: str) -> str | None:
    """Why an uploaded file's name cannot be deployed, or None: a bare name (rule sets as
    ``rulesets/NAME.toml``), never a path, of ordinary characters and a sensible length."""
    bare = name[len("rulesets/") :] if name.startswith("rulesets/") else name
    reason = inputs.text_problem(bare, single_line=True)
    if reason:
        return f"the file name {reason}"
    if "/" in bare or "\\" in bare:
        return "a file name cannot contain a path ('/' or '\\'): send the file by its own name"
    if ".." in bare:
        return "a file name cannot contain '..'"
    if not bare or len(bare) > MAX_FILE_NAME:
        return f"a file name is 1 to {MAX_FILE_NAME} characters long"
    if not _FILE_NAME.match(bare):
        return (
            "a file name starts with a letter or digit and has only letters, digits, spaces and _ . ( ) + -"
        )
    return None  # its extension is checked with its content (build)


def shown_name(name: str) -> str:
    """A file name as it may be printed back: control characters and separators visible, not acted on."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)[:200]


def collect_files(paths: Iterable[Path], root: Path | None = None) -> dict[str, bytes]:
    """Read every deployable file under ``paths``; keys are names relative to the directory given."""
    out: dict[str, bytes] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file():
                    name = file.relative_to(path).as_posix()
                    if file.suffix == ".toml" and file.parent.name == "rulesets":
                        name = "rulesets/" + file.name
                    if kind_of(name) or kind_of(file.name):
                        out[_display_name(file, name)] = file.read_bytes()
        elif path.is_file():
            name = path.name if path.parent.name != "rulesets" else "rulesets/" + path.name
            out[_display_name(path, name)] = path.read_bytes()
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return out


def _display_name(file: Path, name: str) -> str:
    """Files are known by their bare name (rule sets as ``rulesets/NAME``), wherever they sit on disk,
    so that a file uploaded through the API replaces the one deployed from the command line."""
    if kind_of(name) == "ruleset":
        return "rulesets/" + file.name
    return file.name


def build(files: dict[str, bytes], max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES) -> Bundle:
    """Parse and lint; returns a bundle or raises :class:`BundleInvalid` listing every problem."""
    problems: list[Problem] = []
    bundle = Bundle(files=dict(files))
    bpmn_roots: dict[str, etree._Element] = {}
    dmn_roots: dict[str, etree._Element] = {}

    for name, data in sorted(files.items()):
        kind = kind_of(name)
        if kind is None:
            problems.append(
                Problem(name, "", "not a BPMN, DMN, form (.json) or rule-set (rulesets/*.toml) file")
            )
            continue
        if len(data) > max_bytes:
            problems.append(
                Problem(name, "", f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
            )
            continue
        if kind in ("bpmn", "dmn"):
            try:
                root = xmlsafe.parse(data, name, max_bytes)
            except xmlsafe.XmlError as exc:
                problems.append(Problem(name, f"line {exc.line}" if exc.line else "", exc.message))
                continue
            (bpmn_roots if kind == "bpmn" else dmn_roots)[name] = root
        elif kind == "form":
            _load_form(name, data, bundle, problems)
        elif kind == "ruleset":
            bundle.ruleset_files[name] = data

    if bundle.ruleset_files:
        try:
            parsed = [
                parse_ruleset_text(n, d.decode("utf-8")) for n, d in sorted(bundle.ruleset_files.items())
            ]
            bundle.rulesets = resolve_rulesets(parsed)
            _lint_ruleset_lengths(bundle.rulesets, problems)
            _lint_form_deadlines(bundle, problems)
        except RuleSetError as exc:
            problems.append(Problem(exc.file, exc.key or "", exc.message))
        except UnicodeDecodeError as exc:
            problems.append(Problem("rulesets", "", f"not UTF-8 text: {exc}"))

    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, root in dmn_roots.items():
        decision_ids = _lint_dmn(name, root, problems)
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
            _lint_bpmn(name, root, bundle, process_files, problems)
            _lint_layout(name, root, problems)
            _lint_lengths(name, root, problems)
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
            decisions=sorted(set(_decisions_used(proc))),
            called=sorted({c.get("calledElement") for c in proc.iter(f"{{{BPMN_NS}}}callActivity")}),
            deadline_keys=sorted(set(_deadline_keys_in(proc))),
            start_form=start_form(proc),
        )

    if problems:
        raise BundleInvalid(problems)

    for build_ in bundle.processes.values():
        _attach_dependencies(build_, bundle, bpmn_roots, process_files)
    return bundle


# --- forms -----------------------------------------------------------------------------


def _load_form(name: str, data: bytes, bundle: Bundle, problems: list[Problem]) -> None:
    try:
        schema = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f"line {exc.lineno}" if hasattr(exc, "lineno") else ""
        problems.append(Problem(name, where, f"not valid JSON: {getattr(exc, 'msg', exc)}"))
        return
    if not isinstance(schema, dict):
        problems.append(Problem(name, "", "a form must be a JSON object"))
        return
    if not name.endswith(".ui.json"):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            path = "/".join(str(p) for p in exc.path) or "(root)"
            problems.append(Problem(name, path, f"not a valid JSON Schema: {exc.message}"))
            return
        if schema.get("type") != "object":
            problems.append(Problem(name, "(root)", 'a form schema must have "type": "object"'))
            return
        found = _lint_form_schema(name, schema) + [
            Problem(name, pointer, message) for pointer, message in form_keywords.keyword_problems(schema)
        ]
        if found:
            problems.extend(found)
            return
    bundle.forms[name] = schema


def _lint_form_deadlines(bundle: Bundle, problems: list[Problem]) -> None:
    """A form's ``x-late-reason`` names a deadline some rule set defines (a misspelt key would never ask)."""
    keys = {k for rs in bundle.rulesets.values() for k in rs.rules}
    for name, schema in sorted(bundle.forms.items()):
        if not name.endswith(".ui.json"):
            problems.extend(
                Problem(name, pointer, message)
                for pointer, message in form_keywords.keyword_problems(schema, keys)
                if "unknown deadline key" in message
            )


# keywords whose value is a schema, a list of schemas, or an object of schemas (JSON Schema 2020-12)
_ONE_SCHEMA = (
    "additionalProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")


def _subschemas(schema: dict, path: str = ""):
    """Every schema inside ``schema`` with its path, ``schema`` first (without recursion)."""
    stack = [(schema, path)]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, where or "(root)"
        for key in _ONE_SCHEMA:
            if isinstance(node.get(key), dict):
                stack.append((node[key], f"{where}/{key}" if where else key))
        for key in _SCHEMA_LISTS:
            if isinstance(node.get(key), list):
                stack.extend(
                    (sub, f"{where}/{key}/{i}" if where else f"{key}/{i}") for i, sub in enumerate(node[key])
                )
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                stack.extend(
                    (sub, f"{where}/{key}/{k}" if where else f"{key}/{k}") for k, sub in node[key].items()
                )


def _lint_form_schema(name: str, schema: dict) -> list[Problem]:
    """What the JSON Schema check does not refuse but the server must: a ``$ref`` to anything outside
    the form (a URL or another file, which a validator might fetch), and patterns that can backtrack
    catastrophically."""
    problems = []
    for node, where in _subschemas(schema):
        for key in _REFS:
            ref = node.get(key)
            if isinstance(ref, str) and not ref.startswith("#"):
                problems.append(
                    Problem(
                        name,
                        f"{where}/{key}",
                        f"'{shown_name(ref)}' refers outside the form; "
                        "a form is self-contained: use a local reference such as '#/$defs/date'",
                    )
                )
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            reason = patterns.problem(pattern)
            if reason:
                problems.append(Problem(name, f"{where}/pattern", reason))
        for key in (
            node.get("patternProperties", {}) if isinstance(node.get("patternProperties"), dict) else {}
        ):
            reason = patterns.problem(key)
            if reason:
                problems.append(Problem(name, f"{where}/patternProperties", reason))
    return problems


# --- BPMN lint ---------------------------------------------------------------------------


def _owner_id(node) -> str:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return ""


def _check_code(name, element_id, text, mode, what, problems) -> None:
    reason = sandbox.check(text, mode)
    if reason:
        problems.append(Problem(name, element_id, f"{what} does not compile: {reason}"))


def _deadline_keys_in(node) -> Iterable[str]:
    for timer in node.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        for child in timer:
            yield from deadline_calls(child.text or "")


def _literal(text: str):
    """The value of a constant expression (``'rapid_review'``), or None when it is computed."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None


def _decisions_used(proc) -> Iterable[str]:
    for task in proc.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        if ref is not None and ref.text:
            yield ref.text.strip()


def _lint_bpmn(name, root, bundle: Bundle, process_files, problems: list[Problem]) -> None:
    known_keys = {k for rs in bundle.rulesets.values() for k in rs.rules}
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
        if form and form not in bundle.forms:
            problems.append(Problem(name, proc.get("id"), f"start form '{form}' does not exist in forms/"))
        for script in proc.iter(f"{{{BPMN_NS}}}script"):
            _check_code(name, _owner_id(script), script.text or "", "exec", "script", problems)
        for tag in ("preScript", "postScript"):
            for script in proc.iter(f"{{{SPIFF_NS}}}{tag}"):
                _check_code(name, _owner_id(script), script.text or "", "exec", tag, problems)
        for cond in proc.iter(f"{{{BPMN_NS}}}conditionExpression"):
            _check_code(name, _owner_id(cond), cond.text or "", "eval", "condition", problems)
        for tag in ("loopCardinality", "completionCondition"):
            for expr in proc.iter(f"{{{BPMN_NS}}}{tag}"):
                _check_code(name, _owner_id(expr), expr.text or "", "eval", tag, problems)
        for payload in proc.iter(f"{{{SPIFF_NS}}}messagePayload"):
            _check_code(name, _owner_id(payload), payload.text or "", "eval", "message payload", problems)
        for timer in proc.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            event_id = _owner_id(timer.getparent())
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
                _check_code(name, event_id, text, "eval", "timer expression", problems)
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
                _check_code(name, task.get("id"), value or "", "eval", f"parameter '{pname}'", problems)
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
                from handlers.notify import template_names

                template = _literal(params.get("template", ""))
                if isinstance(template, str) and template not in template_names():
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
            elif form not in bundle.forms:
                problems.append(Problem(name, task.get("id"), f"form '{form}' does not exist in forms/"))
            if props.get("roleExpression"):
                _check_code(name, task.get("id"), props["roleExpression"], "eval", "roleExpression", problems)
            ui = props.get("formUiSchemaFilename")
            if ui and ui not in bundle.forms:
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
        for decision in _decisions_used(proc):
            if decision not in bundle.decisions:
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


# the columns these land in (engine/store/models.py)
MAX_ID = 120  # process, element and decision ids
MAX_NAME = 255  # process, step and message names, form file names
MAX_ROLE = 120  # lane names are roles
NAMED_STEPS = ("userTask", "manualTask")


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def _lint_lengths(name, root, problems: list[Problem]) -> None:
    """Every id, name, role and form a process stores fits the column it is stored in, so a case never
    fails on a too-long name when it reaches that step."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        element_id = el.get("id") or ""
        if len(element_id) > MAX_ID:
            problems.append(
                Problem(
                    name, _cut(element_id), f"the id is {len(element_id)} characters; the limit is {MAX_ID}"
                )
            )
        local = etree.QName(el).localname
        label = el.get("name") or ""
        if local in ("process", "message", *NAMED_STEPS) and len(label) > MAX_NAME:
            problems.append(
                Problem(
                    name,
                    _cut(element_id),
                    f"the {local} name is {len(label)} characters; the limit is {MAX_NAME}",
                )
            )
        if local == "lane" and len(label) > MAX_ROLE:
            problems.append(
                Problem(
                    name,
                    _cut(element_id),
                    f"the lane (role) name is {len(label)} characters; the limit is {MAX_ROLE}",
                )
            )
        if (
            local == "property"
            and el.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")
            and len(el.get("value") or "") > MAX_NAME
        ):
            problems.append(
                Problem(name, _owner_id(el), f"the form file name is longer than {MAX_NAME} characters")
            )


def _lint_ruleset_lengths(rulesets: dict, problems: list[Problem]) -> None:
    for rs in rulesets.values():
        for key, rule in rs.rules.items():
            for what in ("name", "source"):
                if len(getattr(rule, what)) > MAX_NAME:
                    problems.append(
                        Problem(
                            rs.source_file, key, f"the deadline's {what} is longer than {MAX_NAME} characters"
                        )
                    )


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


def _lint_layout(name, root, problems: list[Problem]) -> None:
    """The diagram must be drawable: every step has a shape, and no two shapes sit on each other."""
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


def _lint_dmn(name, root, problems: list[Problem]) -> list[str]:
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
                Problem(name, _cut(decision.get("id")), f"a decision id is at most {MAX_ID} characters")
            )
        tables = list(decision.iter(q("decisionTable")))
        if len(tables) != 1:
            problems.append(
                Problem(name, decision.get("id"), "a decision must hold exactly one decision table")
            )
        for expr in decision.iter(q("inputExpression")):
            text = (expr.findtext(q("text")) or "").strip()
            _check_code(name, _owner_id(expr), text, "eval", "input expression", problems)
        inputs = [
            (i.findtext(f"{q('inputExpression')}/{q('text')}") or "").strip()
            for i in decision.iter(q("input"))
        ]
        for rule in decision.iter(q("rule")):
            for position, entry in enumerate(rule.findall(q("inputEntry"))):
                text = (entry.findtext(q("text")) or "").strip()
                if not text or text == "-" or position >= len(inputs):
                    continue
                problem = _dmn_entry_problem(inputs[position], text)
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


def _dmn_entry_problem(input_expr: str, text: str) -> str | None:
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


def _from_spiff(exc: Exception, name: str, default_id: str = "") -> Problem:
    element = getattr(exc, "id", "") or default_id
    line = getattr(exc, "line_number", "")
    message = str(getattr(exc, "error_msg", "") or exc).strip()
    message = re.sub(r"\s+", " ", message)
    if line and not element:
        element = f"line {line}"
    return Problem(getattr(exc, "file_name", "") or name, element, message)


# --- dependencies and content hash ---------------------------------------------------------


def _attach_dependencies(build_: ProcessBuild, bundle: Bundle, bpmn_roots, process_files) -> None:
    """Collect what a process version depends on and hash it all: same content, same version."""
    seen: set[str] = set()
    order = [build_.process_id]
    while order:
        pid = order.pop()
        if pid in seen:
            continue
        seen.add(pid)
        proc = bpmn_roots[process_files[pid]].find(f"bpmn:process[@id='{pid}']", NS)
        for call in proc.iter(f"{{{BPMN_NS}}}callActivity"):
            order.append(call.get("calledElement"))
        if pid == build_.process_id and build_.start_form:
            build_.forms[build_.start_form] = bundle.forms[build_.start_form]
        for task in proc.iter(f"{{{BPMN_NS}}}userTask"):
            props = properties(task)
            for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
                if props.get(key):
                    build_.forms[props[key]] = bundle.forms[props[key]]
        for d in _decisions_used(proc):
            if d not in build_.decisions:
                build_.decisions.append(d)
        for k in _deadline_keys_in(proc):
            if k not in build_.deadline_keys:
                build_.deadline_keys.append(k)
    digest = hashlib.sha256()
    for pid in sorted(seen):
        digest.update(b"bpmn:" + pid.encode() + b"\0" + bundle.files[process_files[pid]])
    for form in sorted(build_.forms):
        digest.update(
            b"form:" + form.encode() + b"\0" + json.dumps(build_.forms[form], sort_keys=True).encode()
        )
    for d in sorted(build_.decisions):
        digest.update(b"dmn:" + d.encode() + b"\0" + bundle.decisions[d][1])
    build_.content_hash = digest.hexdigest()
