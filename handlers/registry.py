"""Service-task handlers: plain Python functions registered by name.

A BPMN service task names its handler (``spiffworkflow:serviceTaskOperator id``)
and passes parameters; the deploy-time lint checks both against the function's
signature, and the engine calls it with a :class:`HandlerContext` first.
Handlers never touch the database: what they want to happen outside the
workflow (an e-mail) they return as intents on the context, which the engine
writes to the outbox in the same transaction as the workflow step.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OutgoingMessage:
    """One notification a handler asks to send; becomes one outbox row."""

    recipient: str
    subject: str
    body: str
    template: str
    key: str  # unique per instance and step: retries never send it twice


@dataclass
class StartRequest:
    """A handler's request to start another process for the same case (a hand-over)."""

    process_id: str
    data: dict


@dataclass
class HandlerContext:
    """What a handler may know and do: read the case data, queue messages."""

    instance_id: int | None
    business_key: str | None
    task_id: str
    element_id: str
    data: Mapping[str, Any]
    now: Any
    # the named recipients of the service running the step: {key: [address, ...]}, a function reading them
    # when first asked, or a file
    recipients: Any = None
    messages: list[OutgoingMessage] = field(default_factory=list)
    starts: list[StartRequest] = field(default_factory=list)

    def start_process(self, process_id: str, data: dict) -> StartRequest:
        request = StartRequest(process_id, dict(data))
        self.starts.append(request)
        return request

    def send(self, recipient: str, subject: str, body: str, template: str) -> OutgoingMessage:
        key = f"{self.instance_id}:{self.task_id}:{len(self.messages)}:{recipient}"
        message = OutgoingMessage(recipient, subject, body, template, key)
        self.messages.append(message)
        return message


class HandlerError(ValueError):
    """A handler was called with parameters its signature does not take."""


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[type, ...]
    required: bool


@dataclass(frozen=True)
class Handler:
    name: str
    func: Callable[..., Any]
    params: dict[str, Param]
    doc: str

    def problems(self, given: set[str]) -> list[str]:
        """What is wrong with a diagram passing these parameter names (lint)."""
        out = []
        for name in sorted(given - set(self.params)):
            takes = ", ".join(self.params) or "none"
            out.append(f"handler '{self.name}' takes no parameter '{name}' (it takes: {takes})")
        for p in self.params.values():
            if p.required and p.name not in given:
                out.append(f"handler '{self.name}' needs parameter '{p.name}'")
        return out

    def call(self, ctx: HandlerContext, kwargs: Mapping[str, Any]) -> Any:
        problems = self.problems(set(kwargs))
        if problems:
            raise HandlerError("; ".join(problems))
        for name, value in kwargs.items():
            allowed = self.params[name].types
            if allowed and value is not None and not isinstance(value, allowed):
                names = " or ".join(t.__name__ for t in allowed)
                raise HandlerError(
                    f"parameter '{name}' of '{self.name}' must be {names}, not {type(value).__name__}"
                )
        return self.func(ctx, **kwargs)


REGISTRY: dict[str, Handler] = {}


def _types_of(annotation: Any) -> tuple[type, ...]:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return ()
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(annotation):
            out.extend(_types_of(arg))
        return tuple(out)
    if origin is not None:
        return (origin,)
    if annotation is type(None):
        return (type(None),)
    if annotation is float:
        return (int, float)
    return (annotation,) if isinstance(annotation, type) else ()


def handler(name: str | None = None):
    """Register a function ``f(ctx, *, param: type, ...)`` as a service-task handler."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        hname = name or func.__name__
        sig = inspect.signature(func)
        hints = typing.get_type_hints(func)
        params = {}
        for i, (pname, p) in enumerate(sig.parameters.items()):
            if i == 0:
                continue  # the HandlerContext
            params[pname] = Param(
                pname, _types_of(hints.get(pname, p.annotation)), p.default is inspect.Parameter.empty
            )
        if hname in REGISTRY and REGISTRY[hname].func is not func:
            raise ValueError(f"handler '{hname}' is registered twice")
        REGISTRY[hname] = Handler(hname, func, params, inspect.getdoc(func) or "")
        return func

    return register


def get(name: str) -> Handler | None:
    load_all()
    return REGISTRY.get(name)


def all_handlers() -> dict[str, Handler]:
    load_all()
    return dict(REGISTRY)


def load_all() -> None:
    """Import the modules that define handlers, so they register themselves."""
    from handlers import case, notify  # noqa: F401
