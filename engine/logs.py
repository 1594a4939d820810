"""Structured logs: one JSON object per line on stderr, for a log shipper to read without parsing text.

Every line has ``time`` (UTC), ``level``, ``logger`` and ``message``; what a caller passes as ``extra``
becomes fields of its own (``command``, ``instance_id``, ``actor``, ``outcome``, ``duration_ms`` ...).
An exception is written as its traceback without messages (:mod:`engine.logsafe`): messages can quote
case data, and no log line ever carries a child's name or any other case data. The level and the format
(``json``, or ``text`` for a person at a terminal) are settings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from engine.logsafe import traceback_without_messages

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("json", "text")
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonLines(logging.Formatter):
    """A record as one JSON object: the standard fields, then each ``extra`` field by its name. Only
    reviewflow's own loggers' extras are written: a library's may carry anything (SpiffWorkflow's task
    logger attaches the workflow's data)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name.startswith("reviewflow."):
            entry.update(
                (k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")
            )
        if record.exc_info and record.exc_info[1] is not None:
            entry["traceback"] = traceback_without_messages(record.exc_info[1])
        return json.dumps(entry, default=str, ensure_ascii=False)


class _TextLines(logging.Formatter):
    def formatException(self, ei) -> str:
        return traceback_without_messages(ei[1])


def configure(level: str = "INFO", fmt: str = "json", stream=None) -> None:
    """Send every logger's records to stderr (or ``stream``) as ``fmt`` lines, from ``level`` up."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonLines() if fmt == "json" else _TextLines("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # the library logs every state change at INFO
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under any load


@contextmanager
def timed(log: logging.Logger, message: str, **fields) -> Iterator[dict]:
    """Log ``message`` once the block ends, with ``fields``, its ``outcome`` (``ok`` unless the block set
    another or raised: then the exception's class) and ``duration_ms``. The block may add fields to the
    dict it is given (an instance id learnt on the way)."""
    started = time.perf_counter()
    entry = {"outcome": "ok", **fields}
    try:
        yield entry
    except BaseException as exc:
        entry["outcome"] = (
            getattr(exc, "code", None) if isinstance(getattr(exc, "code", None), str) else type(exc).__name__
        )
        raise
    finally:
        entry["duration_ms"] = round(1000 * (time.perf_counter() - started), 1)
        log.info(message, extra=entry)
