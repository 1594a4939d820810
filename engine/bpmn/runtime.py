"""The per-command context diagram code runs in, and the functions it may call.

One service command (start, complete, fire timers ...) sets a
:class:`RuntimeContext` for the instance it works on. Functions such as
``deadline("R6")`` read the case's own rule set and the calendar from it, and
record what they computed there, so that the command can write the deadline
rows and outbox messages in the same transaction as the workflow state.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from engine import clock
from engine.calendar import WorkingDayCalendar
from engine.calendar import add_months as _add_months
from engine.rules import DeadlineError, RuleSet, compute_due
from handlers.registry import OutgoingMessage, StartRequest


@dataclass
class ArmedDeadline:
    """A deadline a timer armed: which timer task, which rule, the due date."""

    task_id: str
    element_id: str
    key: str
    name: str
    due_date: dt.date
    anchor_date: dt.date
    source: str
    on_working_day: bool
    fires_at: dt.datetime


@dataclass
class RuntimeContext:
    instance_id: int | None
    business_key: str | None
    ruleset: RuleSet | None
    calendar: WorkingDayCalendar
    # the service's named recipients, handed to handlers: a function reading the database's copy when first
    # asked (engine/services/directories.py), a mapping, or a file (tests)
    recipients: Any = None
    # the service's directory of agencies, the same way: the role that sees a request to an agency
    agencies: Any = None
    # the service's address (settings.base_url): the link to a new task in the e-mail about it
    base_url: str | None = None
    deadlines: list[ArmedDeadline] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)
    starts: list[StartRequest] = field(default_factory=list)
    # timer task id -> why its deadline moves now: a new due date agreed for the case (the rule's
    # ``extended_by``), with the step that recorded it and its form data, for the ``deadline_moved`` audit
    extensions: dict[str, dict] = field(default_factory=dict)


_runtime: contextvars.ContextVar[RuntimeContext | None] = contextvars.ContextVar(
    "reviewflow_runtime", default=None
)
current_task: contextvars.ContextVar[Any] = contextvars.ContextVar("reviewflow_task", default=None)
_default_calendar = WorkingDayCalendar()


@contextmanager
def running(ctx: RuntimeContext) -> Iterator[RuntimeContext]:
    token = _runtime.set(ctx)
    try:
        yield ctx
    finally:
        _runtime.reset(token)


def current() -> RuntimeContext | None:
    return _runtime.get()


def _calendar() -> WorkingDayCalendar:
    ctx = current()
    return ctx.calendar if ctx else _default_calendar


def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.LONDON).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise DeadlineError(f"{what}: {value!r} is not a date (YYYY-MM-DD)")


def _task_data() -> dict:
    task = current_task.get()
    return task.data if task is not None else {}


def _due(key: str):
    ctx = current()
    if ctx is None or ctx.ruleset is None:
        raise DeadlineError(f"deadline('{key}'): this case has no rule set (set 'regime' or 'ruleset')")
    rule = ctx.ruleset.rules.get(key)
    if rule is None:
        raise DeadlineError(f"deadline('{key}'): rule set {ctx.ruleset.name} has no deadline {key}")
    return rule, compute_due(rule, _task_data(), ctx.calendar)


def _record(rule, due, fires_at: dt.datetime) -> None:
    ctx, task = current(), current_task.get()
    if ctx is None or task is None or not _is_timer(task):
        return
    ctx.deadlines.append(
        ArmedDeadline(
            task_id=str(task.id),
            element_id=task.task_spec.bpmn_id,
            key=rule.key,
            name=rule.name,
            due_date=due.due_date,
            anchor_date=due.anchor_date,
            source=rule.source,
            on_working_day=due.on_working_day,
            fires_at=fires_at,
        )
    )


def _is_timer(task) -> bool:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


# --- functions visible to every script, condition, timer and DMN cell ------------------


def deadline(key: str) -> str:
    """The instant deadline ``key`` is missed: the end of its due day in England (UTC ISO)."""
    rule, due = _due(key)
    fires_at = clock.end_of_day(due.due_date)
    _record(rule, due, fires_at)
    return fires_at.isoformat()


def reminder(key: str, days: int = 2) -> str:
    """09:00 in England on the working day ``days`` working days before deadline ``key`` is due."""
    _rule, due = _due(key)
    return clock.at_local(_calendar().add_working_days(due.due_date, -int(days)), 9).isoformat()


def due_date(key: str) -> str:
    """The due date of deadline ``key`` for this case (YYYY-MM-DD)."""
    return _due(key)[1].due_date.isoformat()


def add_working_days(day: Any, n: int) -> str:
    return _calendar().add_working_days(_as_date(day, "add_working_days"), int(n)).isoformat()


def working_days_between(start: Any, end: Any) -> int:
    return _calendar().working_days_between(
        _as_date(start, "working_days_between"), _as_date(end, "working_days_between")
    )


def add_months(day: Any, n: int) -> str:
    return _add_months(_as_date(day, "add_months"), int(n)).isoformat()


def field(name: str, default: Any = None) -> Any:
    """A case field, or ``default`` when the case does not have it (a missing name is otherwise an error)."""
    return _task_data().get(name, default)


def today() -> str:
    return clock.today().isoformat()


def now() -> str:
    return clock.now().isoformat()


FUNCTIONS = {
    "deadline": deadline,
    "reminder": reminder,
    "due_date": due_date,
    "add_working_days": add_working_days,
    "working_days_between": working_days_between,
    "add_months": add_months,
    "field": field,
    "today": today,
    "now": now,
}
