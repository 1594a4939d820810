"""Every statutory clock a case will run, from the day it starts (003 §3.4-§4.6: the rapid review's 10 and 15
working days count from the notification, whether or not the rapid review has begun).

A deadline row is written when a timer arms (``deadline("R6")``); before that, the case's *planned* deadlines
are read from its process version: the keys its timers name (deadlines and reminders), in the process, the
processes it calls and those it can hand the case over to (a ``start_process`` service task with a literal
``process_id``), transitively. What a version names is worked out once per version and cached (versions never
change); what a case can still reach is a walk of that small graph from the steps it stands at, so a branch
the case did not take (a looked-after child's death, R3) and a hand-over already made drop out by themselves.

Each planned deadline has its rule from the case's rule set and is due on the date
:func:`engine.rules.compute_due` gives (the one computation the timers use) when the case holds its anchor
date; otherwise it "starts when" the anchor is recorded (:data:`ANCHOR_WORDS`). Those with a date are kept as
``deadline`` rows with status ``planned`` (``element_id`` naming the process that will arm it), so the
calendar feed, the dashboard and the deadline export read them like any other; they are shown as ``pending``.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import WorkingDayCalendar
from engine.rules import DeadlineError, Due, RuleSet, _key_order, compute_due
from engine.services import immutable
from engine.statuses import DeadlineStatus
from engine.store.db import database_key
from engine.store.models import Deadline, ProcessVersion

PLANNED = DeadlineStatus.PLANNED  # the status of a planned row in the table; shown as "pending"
PLANNED_PREFIX = "plan:"  # a planned row's timer_task_id: plan:<key> (a timer's is its task UUID)

#: When a deadline whose anchor date the case does not hold yet starts counting, in words, by anchor field.
ANCHOR_WORDS: dict[str, str] = {
    "date_aware": "the local authority becomes aware",
    "notification_date": "the Panel is notified",
    "referral_date": "the referral is received",
    "decision_date": "the decision to hold a review is made",
    "publication_date": "the publication date is set",
    "information_required_by": "the date for agency information is set",
    "agency_reports_due": "the date for agency reports is agreed",
    "report_agreed_date": "the report is agreed",
    "next_review_date": "the next progress review date is agreed",
    "panel_informed_date": "the Panel is told of the decision",
}

_OPEN_STATES = (
    TaskState.FUTURE,
    TaskState.LIKELY,
    TaskState.MAYBE,
    TaskState.WAITING,
    TaskState.READY,
    TaskState.STARTED,
    TaskState.ERROR,
)


def starts_when(anchor: str) -> str:
    """``starts when …`` for a deadline counted from ``anchor``."""
    return "starts when " + ANCHOR_WORDS.get(anchor, f"the {anchor.replace('_', ' ')} is recorded")


# --- what a process version names (once per version) ------------------------------------------------


@dataclass(frozen=True)
class Node:
    """What one step of a diagram starts: deadline keys (a timer), a called process, a hand-over."""

    keys: tuple[str, ...] = ()
    calls: str | None = None
    hands_over: str | None = None


@dataclass(frozen=True)
class VersionPlan:
    """A process version's steps that start clocks, by spec name then step name, and everything it names."""

    process_id: str
    nodes: dict[str, dict[str, Node]]
    keys: tuple[str, ...]  # every key in the process and what it calls, in diagram order
    hands_over: tuple[str, ...]  # every process it can hand the case over to

    def spec_keys(self, spec_name: str, seen: frozenset = frozenset()) -> list[str]:
        """Every key of a called process, and of what it calls in turn."""
        out: list[str] = []
        for node in self.nodes.get(spec_name, {}).values():
            out += node.keys
            if node.calls and node.calls not in seen:
                out += self.spec_keys(node.calls, seen | {spec_name})
        return out

    def spec_handovers(self, spec_name: str, seen: frozenset = frozenset()) -> list[str]:
        out: list[str] = []
        for node in self.nodes.get(spec_name, {}).values():
            if node.hands_over:
                out.append(node.hands_over)
            if node.calls and node.calls not in seen:
                out += self.spec_handovers(node.calls, seen | {spec_name})
        return out


def _literal(text: Any) -> Any:
    try:
        return ast.literal_eval(str(text).strip())
    except (ValueError, SyntaxError):
        return None


def _node(task_spec) -> Node | None:
    from engine.bpmn.bundle import deadline_calls

    event = getattr(task_spec, "event_definition", None)
    if isinstance(event, TimerEventDefinition):
        keys = tuple(dict.fromkeys(deadline_calls(getattr(event, "expression", "") or "")))
        return Node(keys=keys) if keys else None
    if isinstance(task_spec, SubWorkflowTask):
        return Node(calls=task_spec.spec)
    if getattr(task_spec, "operation_name", None) == "start_process":
        target = _literal(
            ((getattr(task_spec, "operation_params", None) or {}).get("process_id") or {}).get("value")
        )
        return Node(hands_over=target) if isinstance(target, str) and target else None
    return None


def plan_of(process_id: str, spec, subprocess_specs: Mapping[str, Any]) -> VersionPlan:
    """Read a parsed process (and the processes it calls) for the steps that start clocks."""
    nodes: dict[str, dict[str, Node]] = {}
    for spec_name, process in [(spec.name, spec), *subprocess_specs.items()]:
        found = {name: n for name, ts in process.task_specs.items() if (n := _node(ts)) is not None}
        nodes[spec_name] = found
    partial = VersionPlan(process_id, nodes, (), ())
    keys = tuple(dict.fromkeys(partial.spec_keys(spec.name)))
    handovers = tuple(dict.fromkeys(partial.spec_handovers(spec.name)))
    return VersionPlan(process_id, nodes, keys, handovers)


def version_plan(session: Session, version_id: int) -> VersionPlan:
    """The plan of one process version, cached: process versions never change."""
    from engine.services import workflow as wfsvc

    def read() -> VersionPlan:
        info = wfsvc.version_info(session, version_id)
        return plan_of(info.process_id, info.spec, info.subprocess_specs)

    return immutable.cached(immutable.Key(("plan", database_key(session), version_id), read))


def _latest_versions(session: Session, process_ids: Iterable[str]) -> dict[str, int]:
    """The version a hand-over would start now: the newest of each process."""
    ids = sorted(set(process_ids))
    if not ids:
        return {}
    return dict(
        session.execute(
            select(ProcessVersion.process_id, func.max(ProcessVersion.id))
            .where(ProcessVersion.process_id.in_(ids))
            .group_by(ProcessVersion.process_id)
        ).all()
    )


# --- what a case can still reach ----------------------------------------------------------------------


def _subworkflows(workflow):
    yield workflow.spec.name, workflow
    for sub in workflow.subprocesses.values():
        yield sub.spec.name, sub


def reachable(workflow, plan: VersionPlan) -> tuple[list[str], list[str], set[str]]:
    """The keys the case can still arm in its own process (in the order met), the processes it can still hand
    over to, and the keys armed now (timers waiting)."""
    keys: list[str] = []
    handovers: list[str] = []
    armed: set[str] = set()
    running_calls = {str(t) for t in workflow.subprocesses}  # call activities whose process runs now
    for spec_name, wf in _subworkflows(workflow):
        nodes = plan.nodes.get(spec_name, {})
        seen: set[str] = set()
        stack = []
        for task in wf.tasks.values():
            if task.state not in _OPEN_STATES:
                continue
            node = nodes.get(task.task_spec.name)
            if task.state == TaskState.WAITING and node is not None and node.keys:
                armed.update(node.keys)  # its clock runs: the row says so
                seen.add(task.task_spec.name)
                stack.extend(task.task_spec.outputs)
            elif str(task.id) in running_calls:  # what it calls is walked where it stands
                seen.add(task.task_spec.name)
                stack.extend(task.task_spec.outputs)
            else:
                stack.append(task.task_spec)
        while stack:
            ts = stack.pop()
            if ts.name in seen:
                continue
            seen.add(ts.name)
            node = nodes.get(ts.name)
            if node is not None:
                keys += node.keys
                if node.calls:
                    keys += plan.spec_keys(node.calls)
                    handovers += plan.spec_handovers(node.calls)
                if node.hands_over:
                    handovers.append(node.hands_over)
            stack.extend(ts.outputs)
    return list(dict.fromkeys(keys)), list(dict.fromkeys(handovers)), armed


@dataclass(frozen=True)
class Planned:
    """A statutory deadline the case will run and whose timer has not armed yet."""

    key: str
    name: str
    source: str
    anchor: str
    process_id: str  # the process whose timer will arm it
    handed_over: bool  # run by a case this one will hand over to
    due: Due | None  # when the case holds the anchor date
    starts_when: str | None  # otherwise

    @property
    def due_date(self) -> dt.date | None:
        return self.due.due_date if self.due else None


def planned_deadlines(
    session: Session,
    version_id: int,
    workflow,
    ruleset: RuleSet | None,
    data: Mapping[str, Any],
    calendar: WorkingDayCalendar,
    armed: Iterable[str] = (),
) -> list[Planned]:
    """The deadlines of the case's rule set that the case (or a case it will hand over to) can still arm and
    that are not armed now, each with its due date or when it starts; by due date, undated last."""
    if ruleset is None or workflow is None or workflow.is_completed():
        return []
    plan = version_plan(session, version_id)
    own, handovers, waiting = reachable(workflow, plan)
    taken = set(armed) | waiting
    found: list[tuple[str, str, bool]] = [(k, plan.process_id, False) for k in own]
    seen_processes = {plan.process_id}
    queue = [p for p in handovers if p not in seen_processes]
    while queue:
        latest = _latest_versions(session, queue)
        next_queue = []
        for process_id in queue:
            if process_id in seen_processes or process_id not in latest:
                continue
            seen_processes.add(process_id)
            target = version_plan(session, latest[process_id])
            found += [(k, process_id, True) for k in target.keys]
            next_queue += [p for p in target.hands_over if p not in seen_processes]
        queue = list(dict.fromkeys(next_queue))
    out: dict[str, Planned] = {}
    for key, process_id, handed in found:
        rule = ruleset.rules.get(key)
        if rule is None or key in taken or key in out:
            continue
        try:
            due, when = compute_due(rule, data, calendar), None
        except DeadlineError:
            due, when = None, starts_when(rule.anchor)
        out[key] = Planned(key, rule.name, rule.source, rule.anchor, process_id, handed, due, when)
    return sorted(
        out.values(), key=lambda p: (p.due_date is None, p.due_date or dt.date.max, _key_order(p.key))
    )


# --- the rows the feed and the reports read -------------------------------------------------------------


def rows_digest(planned: list[Planned]) -> str:
    """A digest of what :func:`sync_rows` would write for ``planned``: equal digests, nothing to rewrite."""
    rows = sorted(
        (
            p.key,
            str(p.due.due_date),
            str(p.due.anchor_date),
            p.due.on_working_day,
            p.process_id,
            p.name,
            p.source,
        )
        for p in planned
        if p.due is not None
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def sync_rows(
    session: Session, instance_id: int, planned: list[Planned], rows: Iterable[Deadline] | None
) -> None:
    """Keep one ``planned`` row per planned deadline with a due date; ``rows`` are the case's rows already
    read (None: read its planned rows here)."""
    if rows is None:
        rows = session.scalars(
            select(Deadline).where(Deadline.instance_id == instance_id, Deadline.status == PLANNED)
        )
    have = {r.key: r for r in rows if r.status == PLANNED}
    want = {p.key: p for p in planned if p.due is not None}
    gone = [r.id for k, r in have.items() if k not in want and r.id is not None]
    if gone:
        session.execute(delete(Deadline).where(Deadline.id.in_(gone)))
    for key, p in want.items():
        fires_at = clock.end_of_day(p.due.due_date)
        row = have.get(key)
        if row is None:
            session.add(
                Deadline(
                    instance_id=instance_id,
                    timer_task_id=f"{PLANNED_PREFIX}{key}",
                    element_id=p.process_id,
                    key=key,
                    name=p.name,
                    source=p.source,
                    anchor_date=p.due.anchor_date,
                    due_date=p.due.due_date,
                    on_working_day=p.due.on_working_day,
                    fires_at=fires_at,
                    status=PLANNED,
                )
            )
        elif (row.due_date, row.anchor_date, row.element_id, row.name, row.source) != (
            p.due.due_date,
            p.due.anchor_date,
            p.process_id,
            p.name,
            p.source,
        ):
            row.due_date, row.anchor_date, row.on_working_day, row.fires_at = (
                p.due.due_date,
                p.due.anchor_date,
                p.due.on_working_day,
                fires_at,
            )
            row.element_id, row.name, row.source = p.process_id, p.name, p.source


def planned_dict(p: Planned, instance_id: int) -> dict:
    """A planned deadline as the API and the case page show it: ``pending``, with its due date or when it
    starts."""
    due = p.due
    return {
        "key": p.key,
        "name": p.name,
        "source": p.source,
        "status": DeadlineStatus.PENDING,
        "armed": False,
        "due_date": due.due_date.isoformat() if due else None,
        "starts_when": p.starts_when,
        "anchor": p.anchor,
        "anchor_date": due.anchor_date.isoformat() if due else None,
        "on_working_day": due.on_working_day if due else None,
        "element_id": None,
        "fires_at": clock.end_of_day(due.due_date).isoformat() if due else None,
        "closed_at": None,
        "process_id": p.process_id,
        "instance_id": None if p.handed_over else instance_id,
    }
