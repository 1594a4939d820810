"""Service-task handlers: plain functions the BPMN diagrams call by name."""

from handlers.registry import HandlerContext, OutgoingMessage, handler  # noqa: F401
