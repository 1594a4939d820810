"""Tracebacks fit for the log: where it failed and with what kind of error, never what the error said.

An exception's message can quote case data (a child's name in a script's error, the parameters of a
failed SQL statement), and logs never carry case data; so only the exception types and the frames
(file, line, function, source line) are written. The full reason is kept where it belongs: on the
case (its incident state) or on the notification (its last error).
"""

from __future__ import annotations

import traceback


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or while handling, oldest first."""
    seen, out = set(), []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return out[::-1]


def kind(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def traceback_without_messages(exc: BaseException) -> str:
    parts = []
    for i, e in enumerate(_chain(exc)):
        if i:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(e.__traceback__)))
        parts.append(f"{kind(e)} (message withheld: it may quote case data)\n")
    return "".join(parts).rstrip("\n")
