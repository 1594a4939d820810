"""The script engine every workflow runs with.

It fixes three things SpiffWorkflow 3.2 gets wrong for this product:
- timers: ISO literals as modellers type them (``P5D``, ``2026-12-24``) are
  accepted, date/datetime results become UTC ISO strings, and naive times are
  read as England local time rather than a fixed offset taken at import;
- service tasks: the stock ``call_service`` loses the handler's exception
  (it refers to an undefined name); here the real exception is kept;
- sandboxing: all code runs in :class:`RestrictedEnvironment`, under a time and size
  budget; going over it fails the step with a message that says so
  ("script: the time limit of 2 s was reached").
"""

from __future__ import annotations

import datetime as dt
import json
import re

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import clock
from engine.bpmn import runtime, timers  # noqa: F401  (timers: installs the clock)
from engine.bpmn.budget import CodeLimitExceeded
from engine.bpmn.sandbox import RestrictedEnvironment
from handlers import registry
from handlers.registry import HandlerContext

ISO_LITERAL = re.compile(
    r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?)(/.*)?$"
)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAIVE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ][0-9:.]+$")


def normalise_timer_value(value):
    """Make a timer value SpiffWorkflow can use: a str, tz-aware, in UTC where it is an instant."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.LONDON)
        return value.astimezone(clock.UTC).isoformat()
    if isinstance(value, dt.date):
        return clock.at_local(value, 0).isoformat()
    if isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text):
            return clock.at_local(dt.date.fromisoformat(text), 0).isoformat()
        if _NAIVE_DATETIME.match(text):
            return clock.parse_instant(text).isoformat()
        return text
    return value


def _shortened(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_timer_task(task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


class DiagramCodeExit(Exception):
    """Diagram code raised ``SystemExit`` or another exception outside ``Exception``: it fails its own
    step like any other error, and never ends the worker or the web process running it."""


def _contained(run, *args):
    try:
        return run(*args)
    except (Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit, GeneratorExit and the like, raised by diagram code
        raise DiagramCodeExit(
            f"the code raised {type(exc).__name__}{f': {exc}' if str(exc) else ''}"
        ) from None


class ReviewflowScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment(runtime.FUNCTIONS))

    def evaluate(self, task, expression, external_context=None):
        token = runtime.current_task.set(task)
        try:
            timer = is_timer_task(task)
            if timer and ISO_LITERAL.match(expression.strip()):
                return normalise_timer_value(expression.strip())
            try:
                result = _contained(super().evaluate, task, expression, external_context)
            except WorkflowTaskException as exc:
                inner = exc.__cause__ or exc.__context__
                if isinstance(inner, CodeLimitExceeded):
                    raise WorkflowTaskException(
                        f"expression '{_shortened(expression)}': {inner}", task=task, exception=inner
                    ) from None
                raise
            return normalise_timer_value(result) if timer else result
        finally:
            runtime.current_task.reset(token)

    def execute(self, task, script, external_context=None):
        token = runtime.current_task.set(task)
        try:
            return _contained(super().execute, task, script, external_context)
        finally:
            runtime.current_task.reset(token)

    def create_task_exec_exception(self, task, script, err):
        if isinstance(err, CodeLimitExceeded):
            return WorkflowTaskException(f"script: {err}", task=task, exception=err)
        return super().create_task_exec_exception(task, script, err)

    def call_service(self, task, operation_name, operation_params, **kwargs):
        ctx = runtime.current()
        handler = registry.get(operation_name)
        if handler is None:
            raise WorkflowTaskException(f"no handler named '{operation_name}' is registered", task=task)
        hctx = HandlerContext(
            instance_id=ctx.instance_id if ctx else None,
            business_key=ctx.business_key if ctx else None,
            task_id=str(task.id),
            element_id=task.task_spec.bpmn_id,
            data=dict(task.data),
            now=clock.now(),
            recipients=ctx.recipients if ctx else None,
        )
        params = {name: p["value"] for name, p in operation_params.items()}
        try:
            result = handler.call(hctx, params)
            encoded = json.dumps(result, default=str)
        except Exception as exc:
            raise WorkflowTaskException(
                f"{operation_name}: {type(exc).__name__}: {exc}", task=task, exception=exc
            ) from exc
        if ctx is not None:
            ctx.messages.extend(hctx.messages)
            ctx.starts.extend(hctx.starts)
        return encoded


ENGINE = ReviewflowScriptEngine()
